/* test_gate.c - unit tests for lib/gate.c: which sessions a hive-check run reads, and how */
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
#include "../../lib/gate.h"
#include "../../lib/redact.h"
#include "../../lib/start.h"
#include "../../lib/util.h"

struct fx {
	char dir[64];
	char root[128];
	struct hive_config cfg;
	struct hive_gate g;
	char *out; /* the findings, as text */
	size_t outlen;
	FILE *f;
};

static int setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));
	struct hive_err err = {0};

	if (unit_mkdtemp_into(fx->dir, sizeof(fx->dir)))
		return -1;
	snprintf(fx->root, sizeof(fx->root), "%s/root", fx->dir);
	hive_config_init(&fx->cfg);
	fx->g.top = fx->dir;
	fx->g.checker.cfg = &fx->cfg;
	if (hive_redactor_new(&fx->cfg, &fx->g.checker.red, &err) ||
	    !(fx->f = open_memstream(&fx->out, &fx->outlen)) ||
	    hive_findings_new("text", fx->f, 0, &fx->g.f, &err))
		return -1;
	fx->g.nrules = hive_check_rules(&fx->cfg, fx->g.rules);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fx *fx = *state;

	hive_findings_free(fx->g.f);
	hive_redactor_free(fx->g.checker.red);
	fclose(fx->f);
	free(fx->out);
	unit_rm_tree(fx->dir);
	hive_config_free(&fx->cfg);
	free(fx);
	return 0;
}

static void start(struct fx *fx, const char *id)
{
	cJSON *details = cJSON_Parse("{\"worker_profile\":null,\"requirements\":{}}");
	struct hive_start_opts o = {&fx->cfg, NULL, NULL, "w", details, fx->dir, NULL, NULL};
	struct hive_start_result res = {0};
	struct hive_err err = {0};

	assert_int_equal(hive_start(fx->root, id, &o, &res, &err), HIVE_OK);
	hive_start_result_clear(&res);
	cJSON_Delete(details);
}

/* The findings text so far. */
static const char *findings(struct fx *fx)
{
	fflush(fx->f);
	return fx->out ? fx->out : "";
}

static void test_folder_and_all(void **state)
{
	struct fx *fx = *state;
	struct hive_err err = {0};

	start(fx, "b2");
	start(fx, "a1");
	assert_int_equal(hive_gate_folder(&fx->g, fx->root, "a1", &err), HIVE_OK);
	assert_int_equal(hive_findings_sessions(fx->g.f), 1);
	assert_int_equal(hive_gate_all(&fx->g, fx->root, &err), HIVE_OK);
	/* a1 checked again is taken up again, not counted twice */
	assert_int_equal(hive_findings_sessions(fx->g.f), 2);
	assert_int_equal(hive_findings_errors(fx->g.f), 0);
	assert_string_equal(findings(fx), "");
	/* a session that does not exist */
	assert_int_equal(hive_gate_folder(&fx->g, fx->root, "zz", &err), HIVE_EUSAGE);
	assert_string_equal(err.msg, "session zz does not exist: run hive-init first");
}

static void test_symlinked_folder_is_a_finding(void **state)
{
	struct fx *fx = *state;
	struct hive_err err = {0};
	char target[300], link[300];

	start(fx, "a1");
	snprintf(target, sizeof(target), "%s/sessions/a1", fx->root);
	snprintf(link, sizeof(link), "%s/sessions/l1", fx->root);
	assert_int_equal(symlink(target, link), 0);
	assert_int_equal(hive_gate_folder(&fx->g, fx->root, "l1", &err), HIVE_OK);
	assert_int_equal(hive_findings_errors(fx->g.f), 1);
	assert_non_null(strstr(findings(fx), "root/sessions/l1"));
	assert_non_null(strstr(findings(fx), "symbolic link"));
}

static void test_operands(void **state)
{
	struct fx *fx = *state;
	struct hive_err err = {0};
	char path[300];
	FILE *f;

	start(fx, "a1");
	/* EVENTS.jsonl of a session folder: checked as the folder */
	snprintf(path, sizeof(path), "%s/sessions/a1/EVENTS.jsonl", fx->root);
	assert_int_equal(hive_gate_operand(&fx->g, path, &err), HIVE_OK);
	assert_int_equal(hive_findings_errors(fx->g.f), 0);
	/* a bare log elsewhere, holding a line that is not JSON */
	snprintf(path, sizeof(path), "%s/bare.jsonl", fx->dir);
	assert_non_null(f = fopen(path, "w"));
	fputs("not json\n", f);
	fclose(f);
	assert_int_equal(hive_gate_operand(&fx->g, path, &err), HIVE_OK);
	assert_int_equal(hive_findings_errors(fx->g.f), 1);
	assert_non_null(strstr(findings(fx), "bare.jsonl:1: error: [json] not valid JSON"));
	/* a folder that is no session folder, and a file that is not there */
	assert_int_equal(hive_gate_operand(&fx->g, fx->dir, &err), HIVE_EUSAGE);
	assert_non_null(strstr(err.msg, ": not a session folder (<root>/sessions/<id>)"));
	snprintf(path, sizeof(path), "%s/missing", fx->dir);
	assert_int_equal(hive_gate_operand(&fx->g, path, &err), HIVE_EUSAGE);
	assert_int_equal(err.sys, ENOENT);
}

static void test_repair_notes(void **state)
{
	struct fx *fx = *state;
	struct hive_err err = {0};
	char path[300], *notes = NULL;
	size_t len = 0;
	FILE *f;

	start(fx, "a1");
	snprintf(path, sizeof(path), "%s/sessions/a1/EVENTS.jsonl", fx->root);
	assert_non_null(f = fopen(path, "a"));
	fputs("{\"seq\":2,", f);
	fclose(f);
	fx->g.repair = 1;
	assert_non_null(fx->g.notes = open_memstream(&notes, &len));
	assert_int_equal(hive_gate_folder(&fx->g, fx->root, "a1", &err), HIVE_OK);
	fclose(fx->g.notes);
	assert_non_null(
		strstr(notes, "a1: moved a cut-off last line (9 bytes) to EVENTS.jsonl.torn"));
	assert_int_equal(hive_findings_errors(fx->g.f), 0);
	free(notes);
}

static void test_prepush_needs_a_repository(void **state)
{
	struct fx *fx = *state;
	struct hive_err err = {0};

	assert_int_equal(hive_gate_prepush(&fx->g, NULL, fx->root, NULL, 0, &err), HIVE_EUSAGE);
	assert_string_equal(err.msg, "--pre-push: not in a git repository");
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_folder_and_all), T(test_symlinked_folder_is_a_finding), T(test_operands),
		T(test_repair_notes),	T(test_prepush_needs_a_repository),
	};
	return cmocka_run_group_tests_name("gate", tests, NULL, NULL);
}
