/* test_start.c - unit tests for lib/start.c and lib/finish.c: a session's start and its completion
 * protocol */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "unit.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../lib/config.h"
#include "../../lib/finish.h"
#include "../../lib/start.h"
#include "../../lib/util.h"

struct fx {
	char dir[64];
	char root[128];
	char sess[160]; /* <root>/sessions/s1 */
	struct hive_config cfg;
	cJSON *details;
};

static int setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));
	if (unit_mkdtemp_into(fx->dir, sizeof(fx->dir)))
		return -1;
	snprintf(fx->root, sizeof(fx->root), "%s/a/root", fx->dir);
	snprintf(fx->sess, sizeof(fx->sess), "%s/sessions/s1", fx->root);
	hive_config_init(&fx->cfg);
	fx->details = cJSON_Parse("{\"worker_profile\":null,\"requirements\":{}}");
	unsetenv("GITHUB_ACTIONS");
	unsetenv("GITLAB_CI");
	unsetenv("CI");
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fx *fx = *state;

	unit_rm_tree(fx->dir);
	hive_config_free(&fx->cfg);
	cJSON_Delete(fx->details);
	unsetenv("GITHUB_ACTIONS");
	unsetenv("GITHUB_ENV");
	free(fx);
	return 0;
}

static int start_s1(struct fx *fx, struct hive_start_result *res, struct hive_err *err)
{
	struct hive_start_opts o = {&fx->cfg,	 NULL,	  NULL,	   "w1",
				    fx->details, fx->dir, fx->dir, NULL};

	return hive_start(fx->root, "s1", &o, res, err);
}

static void test_start_creates_then_rejoins(void **state)
{
	struct fx *fx = *state;
	struct hive_start_result res = {0};
	struct hive_err err = {0};
	cJSON *out;
	char *text, *want, *log1, *log2;

	assert_int_equal(start_s1(fx, &res, &err), HIVE_OK);
	assert_int_equal(res.created, 1);
	assert_string_equal(res.dir, fx->sess);
	assert_null(res.wrote);
	assert_string_equal(res.attributes, "/a/root/** -text");
	out = hive_start_describe("s1", &res, NULL);
	text = cJSON_PrintUnformatted(out);
	assert_int_equal(
		asprintf(&want,
			 "{\"session_id\":\"s1\",\"dir\":\"%s\",\"created\":true,\"worker\":"
			 "\"w1\",\"status\":\"active\",\"events\":1}",
			 fx->sess),
		(int)strlen(fx->sess) + 86);
	assert_string_equal(text, want);
	free(text);
	free(want);
	cJSON_Delete(out);
	hive_start_result_clear(&res);
	log1 = unit_slurp_in(fx->sess, "EVENTS.jsonl");
	assert_non_null(strstr(log1, "\"event_type\":\"session_started\""));

	/* a second start rejoins it and changes nothing */
	assert_int_equal(start_s1(fx, &res, &err), HIVE_OK);
	assert_int_equal(res.created, 0);
	out = hive_start_describe("s1", &res, cJSON_CreateString("hook"));
	assert_string_equal(cJSON_GetObjectItem(out, "hook")->valuestring, "hook");
	assert_false(cJSON_IsTrue(cJSON_GetObjectItem(out, "created")));
	cJSON_Delete(out);
	hive_start_result_clear(&res);
	log2 = unit_slurp_in(fx->sess, "EVENTS.jsonl");
	assert_string_equal(log2, log1);
	free(log1);
	free(log2);
}

/* The hand-off fails (GitHub's env file cannot be written): the session this call made is
 * taken back, with the root folders it made. */
static void test_start_handoff_failure_takes_it_back(void **state)
{
	struct fx *fx = *state;
	struct hive_start_result res = {0};
	struct hive_err err = {0};
	char envfile[200], parent[200], *text;
	struct stat st;

	snprintf(envfile, sizeof(envfile), "%s/no/such/dir/env", fx->dir);
	setenv("GITHUB_ACTIONS", "true", 1);
	setenv("GITHUB_ENV", envfile, 1);
	unit_write_in(fx->dir, ".gitattributes", "*.png binary\n");
	assert_int_equal(start_s1(fx, &res, &err), HIVE_EENV);
	assert_int_equal(err.sys, ENOENT);
	assert_null(res.dir);
	/* the line it added to .gitattributes is taken back too */
	text = unit_slurp_in(fx->dir, ".gitattributes");
	assert_string_equal(text, "*.png binary\n");
	free(text);
	snprintf(parent, sizeof(parent), "%s/a", fx->dir);
	assert_int_equal(stat(parent, &st), -1);
	assert_int_equal(errno, ENOENT);
}

static void test_start_corrupt_session(void **state)
{
	struct fx *fx = *state;
	struct hive_start_result res = {0};
	struct hive_err err = {0};
	char path[300];

	assert_int_equal(start_s1(fx, &res, &err), HIVE_OK);
	hive_start_result_clear(&res);
	snprintf(path, sizeof(path), "%s/STATE.json", fx->sess);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(start_s1(fx, &res, &err), HIVE_EENV);
	assert_non_null(strstr(err.msg, "/STATE.json: missing or not JSON (corrupt session"));
}

static void test_finish_then_again(void **state)
{
	struct fx *fx = *state;
	struct hive_start_result res = {0};
	struct hive_finish_opts o = {&fx->cfg, NULL, NULL, NULL, NULL, stderr, NULL, NULL, NULL};
	struct hive_err err = {0};
	const char *was = "x";
	char *log1, *log2, *metrics, *runbook;

	assert_int_equal(start_s1(fx, &res, &err), HIVE_OK);
	hive_start_result_clear(&res);
	assert_int_equal(hive_finish(fx->root, "s1", &o, &was, &err), HIVE_OK);
	assert_null(was);
	log1 = unit_slurp_in(fx->sess, "EVENTS.jsonl");
	assert_non_null(strstr(log1, "\"event_type\":\"session_completed\""));
	assert_non_null(strstr(log1, "\"details\":{\"status\":\"success\"}"));
	assert_non_null(metrics = unit_slurp_in(fx->sess, "METRICS.json"));
	assert_non_null(runbook = unit_slurp_in(fx->sess, "RUNBOOK.md"));
	free(metrics);
	free(runbook);
	/* idempotent: no second session_completed, and it says what the session was */
	o.status = "failure";
	assert_int_equal(hive_finish(fx->root, "s1", &o, &was, &err), HIVE_OK);
	assert_string_equal(was, "completed");
	log2 = unit_slurp_in(fx->sess, "EVENTS.jsonl");
	assert_string_equal(log2, log1);
	free(log1);
	free(log2);
}

static void test_finish_refuses_a_broken_chain(void **state)
{
	struct fx *fx = *state;
	struct hive_start_result res = {0};
	struct hive_finish_opts o = {&fx->cfg, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL};
	struct hive_err err = {0};
	const char *was;
	char *log, *buf = NULL, *after, path[300];
	size_t len = 0;
	FILE *f;

	assert_int_equal(start_s1(fx, &res, &err), HIVE_OK);
	hive_start_result_clear(&res);
	log = unit_slurp_in(fx->sess, "EVENTS.jsonl");
	/* a second line whose prev is not line 1's hash */
	snprintf(path, sizeof(path), "%s/EVENTS.jsonl", fx->sess);
	assert_non_null(f = fopen(path, "a"));
	fputs("{\"seq\":2,\"timestamp\":\"2025-01-01T00:00:00.000Z\",\"event_type\":"
	      "\"pipeline_updated\",\"worker\":\"w1\",\"session_id\":\"s1\",\"details\":{},"
	      "\"git\":null,\"ci\":null,\"prev\":\"sha256:"
	      "0000000000000000000000000000000000000000000000000000000000000000\"}\n",
	      f);
	fclose(f);
	free(log);
	log = unit_slurp_in(fx->sess, "EVENTS.jsonl");
	assert_non_null(o.findings = open_memstream(&buf, &len));
	assert_int_equal(hive_finish(fx->root, "s1", &o, &was, &err), HIVE_FAIL);
	fclose(o.findings);
	assert_non_null(
		strstr(err.msg, "session s1 fails hive-check's chain rule: not finishing it"));
	assert_non_null(strstr(buf, "EVENTS.jsonl:2: error: [chain] prev does not match"));
	after = unit_slurp_in(fx->sess, "EVENTS.jsonl");
	assert_string_equal(after, log);
	assert_null(unit_slurp_in(fx->sess, "METRICS.json"));
	free(after);
	free(log);
	free(buf);
}

static void test_finish_missing_session(void **state)
{
	struct fx *fx = *state;
	struct hive_finish_opts o = {&fx->cfg, NULL, NULL, NULL, NULL, stderr, NULL, NULL, NULL};
	struct hive_err err = {0};
	const char *was;

	assert_int_equal(hive_finish(fx->root, "s1", &o, &was, &err), HIVE_EUSAGE);
	assert_string_equal(err.msg, "session s1 does not exist: run hive-init first");
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_start_creates_then_rejoins),    T(test_start_handoff_failure_takes_it_back),
		T(test_start_corrupt_session),	       T(test_finish_then_again),
		T(test_finish_refuses_a_broken_chain), T(test_finish_missing_session),
	};
	return cmocka_run_group_tests_name("start", tests, NULL, NULL);
}
