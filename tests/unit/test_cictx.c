/* test_cictx.c - unit tests for lib/cictx.c: provider detection, the ci object, CI session ids, the
 * hand-off files */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "unit.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../lib/cictx.h"

/* Every variable cictx reads: cleared before each test so the runner's own CI (this suite
 * runs in GitHub Actions and GitLab CI too) never leaks into the results. */
static const char *const ci_vars[] = {
	"GITHUB_ACTIONS",  "GITLAB_CI",		 "CI",
	"GITHUB_RUN_ID",   "GITHUB_RUN_ATTEMPT", "GITHUB_JOB",
	"GITHUB_WORKFLOW", "GITHUB_SERVER_URL",	 "GITHUB_REPOSITORY",
	"GITHUB_ENV",	   "GITHUB_OUTPUT",	 "CI_PIPELINE_ID",
	"CI_JOB_ID",	   "CI_JOB_NAME",	 "CI_JOB_URL",
};

static int setup(void **state)
{
	size_t i;

	for (i = 0; i < sizeof(ci_vars) / sizeof(ci_vars[0]); i++)
		unsetenv(ci_vars[i]);
	return unit_setup_tmpdir(state);
}

static int teardown(void **state)
{
	size_t i;

	for (i = 0; i < sizeof(ci_vars) / sizeof(ci_vars[0]); i++)
		unsetenv(ci_vars[i]);
	return unit_teardown_tmpdir(state);
}

/* The whole file's bytes equal want; want NULL: the file does not exist. */
static void assert_file(const char *path, const char *want)
{
	char buf[1024];
	size_t n;
	FILE *f = fopen(path, "r");

	if (!want) {
		if (f)
			fail_msg("%s exists", path);
		return;
	}
	if (!f)
		fail_msg("%s is missing", path);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	if (strcmp(buf, want))
		show_mismatch(path, buf, want);
}

static void assert_context(const char *want)
{
	cJSON *ci = hive_ci_context();
	char *text;

	assert_non_null(ci);
	text = cJSON_PrintUnformatted(ci);
	assert_non_null(text);
	if (strcmp(text, want))
		show_mismatch("ci context", text, want);
	cJSON_free(text);
	cJSON_Delete(ci);
}

/* --- hive_ci_provider --------------------------------------------------------------- */

static void test_provider(void **state)
{
	(void)state;
	assert_int_equal(hive_ci_provider(), HIVE_CI_NONE);
	setenv("CI", "false", 1);
	assert_int_equal(hive_ci_provider(), HIVE_CI_NONE);
	setenv("CI", "true", 1);
	assert_int_equal(hive_ci_provider(), HIVE_CI_OTHER);
	setenv("CI", "1", 1);
	assert_int_equal(hive_ci_provider(), HIVE_CI_OTHER);
	setenv("GITLAB_CI", "true", 1);
	assert_int_equal(hive_ci_provider(), HIVE_CI_GITLAB);
	/* GitHub wins when both are set (a GitLab runner inside Actions, or the reverse) */
	setenv("GITHUB_ACTIONS", "true", 1);
	assert_int_equal(hive_ci_provider(), HIVE_CI_GITHUB);
	setenv("GITHUB_ACTIONS", "", 1);
	assert_int_equal(hive_ci_provider(), HIVE_CI_GITLAB);
	setenv("GITLAB_CI", "TRUE", 1); /* the values are exact */
	assert_int_equal(hive_ci_provider(), HIVE_CI_OTHER);
}

/* --- hive_ci_context ---------------------------------------------------------------- */

static void test_context_none(void **state)
{
	(void)state;
	assert_context("null");
	setenv("GITHUB_RUN_ID", "8812", 1); /* variables without the provider flag: still none */
	assert_context("null");
}

static void test_context_github(void **state)
{
	(void)state;
	setenv("GITHUB_ACTIONS", "true", 1);
	setenv("GITHUB_RUN_ID", "8812", 1);
	setenv("GITHUB_RUN_ATTEMPT", "2", 1);
	setenv("GITHUB_JOB", "deploy", 1);
	setenv("GITHUB_WORKFLOW", "cd", 1);
	setenv("GITHUB_SERVER_URL", "https://github.com", 1);
	setenv("GITHUB_REPOSITORY", "acme/app", 1);
	assert_context("{\"provider\":\"github\",\"run_id\":\"8812\",\"run_attempt\":\"2\","
		       "\"job\":\"deploy\",\"workflow\":\"cd\","
		       "\"url\":\"https://github.com/acme/app/actions/runs/8812\"}");
}

/* Missing or empty variables are null, never "" or a URL with a hole in it. */
static void test_context_github_partial(void **state)
{
	(void)state;
	setenv("GITHUB_ACTIONS", "true", 1);
	setenv("GITHUB_RUN_ID", "8812", 1);
	setenv("GITHUB_JOB", "", 1);
	setenv("GITHUB_SERVER_URL", "https://github.com", 1);
	assert_context("{\"provider\":\"github\",\"run_id\":\"8812\",\"run_attempt\":null,"
		       "\"job\":null,\"workflow\":null,\"url\":null}");
}

static void test_context_gitlab(void **state)
{
	(void)state;
	setenv("GITLAB_CI", "true", 1);
	setenv("CI", "true", 1);
	setenv("CI_PIPELINE_ID", "4711", 1);
	setenv("CI_JOB_ID", "99", 1);
	setenv("CI_JOB_NAME", "deploy \"prod\"", 1);
	setenv("CI_JOB_URL", "https://gitlab.com/acme/app/-/jobs/99", 1);
	assert_context("{\"provider\":\"gitlab\",\"pipeline_id\":\"4711\",\"job_id\":\"99\","
		       "\"job\":\"deploy \\\"prod\\\"\","
		       "\"url\":\"https://gitlab.com/acme/app/-/jobs/99\"}");
	unsetenv("CI_JOB_ID");
	unsetenv("CI_JOB_URL");
	assert_context("{\"provider\":\"gitlab\",\"pipeline_id\":\"4711\",\"job_id\":null,"
		       "\"job\":\"deploy \\\"prod\\\"\",\"url\":null}");
}

static void test_context_other(void **state)
{
	(void)state;
	setenv("CI", "true", 1);
	setenv("CI_PIPELINE_ID", "4711", 1); /* GitLab's variables without GITLAB_CI */
	assert_context("{\"provider\":\"ci\"}");
}

/* --- hive_ci_session_id ------------------------------------------------------------- */

static void test_session_id(void **state)
{
	char buf[160];

	(void)state;
	memset(buf, 'x', sizeof(buf));
	assert_null(hive_ci_session_id(buf, sizeof(buf)));
	setenv("CI", "true", 1);
	assert_null(hive_ci_session_id(buf, sizeof(buf)));

	setenv("GITHUB_ACTIONS", "true", 1);
	assert_null(hive_ci_session_id(buf, sizeof(buf))); /* no run id */
	setenv("GITHUB_RUN_ID", "", 1);
	assert_null(hive_ci_session_id(buf, sizeof(buf)));
	setenv("GITHUB_RUN_ID", "8812", 1);
	assert_ptr_equal(hive_ci_session_id(buf, sizeof(buf)), buf);
	assert_string_equal(buf, "gh-8812-1"); /* no attempt: the first */
	setenv("GITHUB_RUN_ATTEMPT", "3", 1);
	assert_string_equal(hive_ci_session_id(buf, sizeof(buf)), "gh-8812-3");

	unsetenv("GITHUB_ACTIONS");
	setenv("GITLAB_CI", "true", 1);
	assert_null(hive_ci_session_id(buf, sizeof(buf)));
	setenv("CI_PIPELINE_ID", "4711", 1);
	assert_string_equal(hive_ci_session_id(buf, sizeof(buf)), "gl-4711");
}

/* Long variables are cut to fit the id's 128 characters, never past the buffer. */
static void test_session_id_long(void **state)
{
	char buf[160], run[201];

	(void)state;
	memset(run, '7', sizeof(run) - 1);
	run[sizeof(run) - 1] = '\0';
	setenv("GITHUB_ACTIONS", "true", 1);
	setenv("GITHUB_RUN_ID", run, 1);
	setenv("GITHUB_RUN_ATTEMPT", run, 1);
	assert_non_null(hive_ci_session_id(buf, sizeof(buf)));
	assert_int_equal(strlen(buf), 3 + 64 + 1 + 32);
	assert_int_equal(strncmp(buf, "gh-7777", 7), 0);
	assert_int_equal(buf[67], '-');
	/* a small buffer: truncated and terminated */
	assert_non_null(hive_ci_session_id(buf, 8));
	assert_string_equal(buf, "gh-7777");
}

/* --- hive_ci_handoff ---------------------------------------------------------------- */

static void test_handoff_outside_ci(void **state)
{
	const char *dir = *state, *wrote = "unset";
	struct hive_err err = {0};
	char *env = unit_path_in(dir, "hive.env");

	assert_int_equal(hive_ci_handoff("s1", dir, &wrote, &err), HIVE_OK);
	assert_null(wrote);
	assert_file(env, NULL);
	setenv("CI", "true", 1);
	assert_int_equal(hive_ci_handoff("s1", dir, &wrote, &err), HIVE_OK);
	assert_null(wrote);
	assert_file(env, NULL);
	free(env);
}

static void test_handoff_github(void **state)
{
	const char *dir = *state, *wrote = NULL;
	struct hive_err err = {0};
	char *env = unit_path_in(dir, "github_env"), *out = unit_path_in(dir, "github_output");

	setenv("GITHUB_ACTIONS", "true", 1);
	unit_write_file(env, "OTHER=1\n"); /* appended to, never replaced */
	setenv("GITHUB_ENV", env, 1);
	setenv("GITHUB_OUTPUT", out, 1); /* created */
	assert_int_equal(hive_ci_handoff("gh-8812-1", dir, &wrote, &err), HIVE_OK);
	assert_string_equal(wrote, "$GITHUB_ENV and $GITHUB_OUTPUT");
	assert_file(env, "OTHER=1\nHIVE_SESSION_ID=gh-8812-1\n");
	assert_file(out, "session_id=gh-8812-1\n");
	free(env);
	free(out);
}

static void test_handoff_github_one_file(void **state)
{
	const char *dir = *state, *wrote = NULL;
	struct hive_err err = {0};
	char *env = unit_path_in(dir, "github_env"), *out = unit_path_in(dir, "github_output");

	setenv("GITHUB_ACTIONS", "true", 1);
	setenv("GITHUB_OUTPUT", out, 1);
	setenv("GITHUB_ENV", "", 1);
	assert_int_equal(hive_ci_handoff("a", dir, &wrote, &err), HIVE_OK);
	assert_string_equal(wrote, "$GITHUB_OUTPUT");
	assert_file(out, "session_id=a\n");
	assert_file(env, NULL);
	unsetenv("GITHUB_OUTPUT");
	setenv("GITHUB_ENV", env, 1);
	assert_int_equal(hive_ci_handoff("b", dir, &wrote, &err), HIVE_OK);
	assert_string_equal(wrote, "$GITHUB_ENV");
	assert_file(env, "HIVE_SESSION_ID=b\n");
	assert_file(out, "session_id=a\n");
	/* neither set: nothing applies */
	unsetenv("GITHUB_ENV");
	assert_int_equal(hive_ci_handoff("c", dir, &wrote, &err), HIVE_OK);
	assert_null(wrote);
	free(env);
	free(out);
}

/* $GITHUB_OUTPUT cannot be written: $GITHUB_ENV goes back to its bytes before the call. */
static void test_handoff_github_all_or_nothing(void **state)
{
	const char *dir = *state, *wrote = "unset";
	struct hive_err err = {0};
	char *env = unit_path_in(dir, "github_env"), *out = unit_path_in(dir, "no/such/dir/output");
	char *want;

	setenv("GITHUB_ACTIONS", "true", 1);
	unit_write_file(env, "OTHER=1\n");
	setenv("GITHUB_ENV", env, 1);
	setenv("GITHUB_OUTPUT", out, 1);
	assert_int_equal(hive_ci_handoff("gh-1-1", dir, &wrote, &err), HIVE_EENV);
	assert_null(wrote);
	assert_int_equal(err.status, HIVE_EENV);
	assert_true(asprintf(&want, "%s: No such file or directory", out) > 0);
	assert_string_equal(err.msg, want);
	assert_file(env, "OTHER=1\n");
	/* $GITHUB_ENV that this call created is removed again */
	assert_int_equal(unlink(env), 0);
	assert_int_equal(hive_ci_handoff("gh-1-1", dir, &wrote, &err), HIVE_EENV);
	assert_file(env, NULL);
	free(want);
	free(env);
	free(out);
}

static void test_handoff_github_env_unwritable(void **state)
{
	const char *dir = *state, *wrote = "unset";
	struct hive_err err = {0};
	char *env = unit_path_in(dir, "missing/env"), *out = unit_path_in(dir, "github_output");
	char *want;

	setenv("GITHUB_ACTIONS", "true", 1);
	setenv("GITHUB_ENV", env, 1);
	setenv("GITHUB_OUTPUT", out, 1);
	assert_int_equal(hive_ci_handoff("gh-1-1", dir, &wrote, &err), HIVE_EENV);
	assert_null(wrote);
	assert_true(asprintf(&want, "%s: No such file or directory", env) > 0);
	assert_string_equal(err.msg, want);
	assert_file(out, NULL); /* the second file is not touched */
	free(want);
	free(env);
	free(out);
}

static void test_handoff_gitlab(void **state)
{
	const char *dir = *state, *wrote = NULL;
	struct hive_err err = {0};
	char *env = unit_path_in(dir, "hive.env");

	setenv("GITLAB_CI", "true", 1);
	unit_write_file(env, "STALE=1\n"); /* replaced whole: one dotenv per job */
	assert_int_equal(hive_ci_handoff("gl-4711", dir, &wrote, &err), HIVE_OK);
	assert_string_equal(wrote, "hive.env");
	assert_file(env, "HIVE_SESSION_ID=gl-4711\n");
	free(env);
}

static void test_handoff_gitlab_missing_dir(void **state)
{
	const char *dir = *state, *wrote = "unset";
	struct hive_err err = {0};
	char *missing = unit_path_in(dir, "nope"), *want;

	setenv("GITLAB_CI", "true", 1);
	assert_int_equal(hive_ci_handoff("gl-1", missing, &wrote, &err), HIVE_EENV);
	assert_null(wrote);
	assert_int_equal(err.status, HIVE_EENV);
	assert_true(asprintf(&want, "%s/hive.env: No such file or directory", missing) > 0);
	assert_string_equal(err.msg, want);
	free(want);
	free(missing);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_provider, setup, teardown),
		cmocka_unit_test_setup_teardown(test_context_none, setup, teardown),
		cmocka_unit_test_setup_teardown(test_context_github, setup, teardown),
		cmocka_unit_test_setup_teardown(test_context_github_partial, setup, teardown),
		cmocka_unit_test_setup_teardown(test_context_gitlab, setup, teardown),
		cmocka_unit_test_setup_teardown(test_context_other, setup, teardown),
		cmocka_unit_test_setup_teardown(test_session_id, setup, teardown),
		cmocka_unit_test_setup_teardown(test_session_id_long, setup, teardown),
		cmocka_unit_test_setup_teardown(test_handoff_outside_ci, setup, teardown),
		cmocka_unit_test_setup_teardown(test_handoff_github, setup, teardown),
		cmocka_unit_test_setup_teardown(test_handoff_github_one_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_handoff_github_all_or_nothing, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_handoff_github_env_unwritable, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_handoff_gitlab, setup, teardown),
		cmocka_unit_test_setup_teardown(test_handoff_gitlab_missing_dir, setup, teardown),
	};

	return cmocka_run_group_tests_name("cictx", tests, NULL, NULL);
}
