/* test_ops.c - unit tests for lib/ops.c: start, emit, finish, check and show as one call each,
 * on a session outside any repository (git null, as every tool allows) */
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
#include <unistd.h>

#include "../../lib/args.h"
#include "../../lib/ops.h"
#include "../../lib/redact.h"

/* A context set up in dir for session id (quiet). */
static void ctx_in(struct hive_ctx *ctx, const char *dir, const char *id)
{
	int generated;

	memset(ctx, 0, sizeof(*ctx));
	ctx->chdir_opt = dir;
	ctx->session_opt = id;
	ctx->quiet = 1;
	if (hive_ctx_setup(ctx) || hive_ctx_session(ctx, 1, &generated))
		fail_msg("set-up: %s", ctx->err.msg);
}

/* One prepared event of type with details (JSON text) in b. */
static void one_event(struct hive_ctx *ctx, struct hive_args_events *b, const char *type,
		      const char *details)
{
	struct hive_redactor *red = NULL;
	cJSON *d = unit_json(details);
	int redacted = 0;

	assert_int_equal(hive_redactor_new(&ctx->cfg, &red, &ctx->err), HIVE_OK);
	if (hive_args_prepare(&ctx->cfg, red, type, d, &redacted, &ctx->err))
		fail_msg("prepare: %s", ctx->err.msg);
	assert_int_equal(hive_args_events_add(b, d, type, d), 0);
	hive_redactor_free(red);
}

static int keep(const char *lines, size_t len, void *arg, struct hive_err *err)
{
	(void)err;
	hive_buf_add(arg, lines, len);
	return HIVE_OK;
}

static int refuse(const char *lines, size_t len, void *arg, struct hive_err *err)
{
	(void)lines;
	(void)len;
	(void)arg;
	return hive_err_set(err, HIVE_EENV, "the reader went away");
}

static void test_a_whole_session(void **state)
{
	const char *dir = *state;
	struct hive_ctx ctx;
	struct hive_start_result res = {0};
	struct hive_args_events b = {0};
	struct hive_buf lines = {0}, report = {0};
	char *log, *before, *after, *text = NULL;
	const char *was = "x";
	size_t len = 0, errors = 9, warnings = 9;
	FILE *f;

	ctx_in(&ctx, dir, "ops-1");
	assert_int_equal(hive_op_start(&ctx, NULL, &res), HIVE_OK);
	assert_true(res.created);
	hive_start_result_clear(&res);
	assert_int_equal(hive_op_start(&ctx, NULL, &res), HIVE_OK);
	assert_false(res.created);
	hive_start_result_clear(&res);

	log = unit_pathf("%s/Docs/hive-mind/sessions/ops-1/EVENTS.jsonl", dir);
	one_event(&ctx, &b, "metric_recorded",
		  "{\"configuration\":{\"name\":\"cost\",\"value\":3,\"unit\":\"USD\","
		  "\"token\":\"t\"}}");
	/* a delivery that fails takes the line back out: the log as it was */
	before = unit_slurp(log, NULL);
	assert_int_equal(hive_op_emit(&ctx, &b, 0, refuse, NULL), HIVE_EENV);
	assert_string_equal(ctx.err.msg, "the reader went away");
	after = unit_slurp(log, NULL);
	assert_string_equal(before, after);
	free(after);
	/* a dry run delivers without writing */
	assert_int_equal(hive_op_emit(&ctx, &b, 1, keep, &lines), HIVE_OK);
	assert_non_null(strstr(lines.p, "\"seq\":2"));
	after = unit_slurp(log, NULL);
	assert_string_equal(before, after);
	free(after);
	lines.len = 0;
	assert_int_equal(hive_op_emit(&ctx, &b, 0, keep, &lines), HIVE_OK);
	after = unit_slurp(log, NULL);
	assert_int_equal(strlen(after), strlen(before) + lines.len);
	assert_int_equal(memcmp(after + strlen(before), lines.p, lines.len), 0);
	assert_non_null(strstr(lines.p, "\"token\":\"[REDACTED]\""));
	free(after);

	assert_non_null(f = open_memstream(&text, &len));
	assert_int_equal(hive_op_check(&ctx, 0, "json", f, &errors, &warnings), HIVE_OK);
	fclose(f);
	assert_int_equal(errors, 0);
	assert_int_equal(warnings, 0);
	free(text);

	assert_int_equal(hive_op_show(&ctx, "runbook", "markdown", &report), HIVE_OK);
	assert_non_null(strstr(report.p, "# RUNBOOK: ops-1"));
	assert_int_equal(hive_op_finish(&ctx, NULL, stderr, &was, NULL, NULL), HIVE_OK);
	assert_null(was);
	assert_int_equal(hive_op_finish(&ctx, NULL, stderr, &was, NULL, NULL), HIVE_OK);
	assert_string_equal(was, "completed");
	/* closed: no more events */
	assert_int_equal(hive_op_emit(&ctx, &b, 0, keep, &lines), HIVE_EUSAGE);

	hive_args_events_free(&b);
	hive_buf_free(&lines);
	hive_buf_free(&report);
	free(before);
	free(log);
	hive_ctx_free(&ctx);
	assert_int_equal(chdir("/"), 0);
}

static void test_missing_session(void **state)
{
	const char *dir = *state;
	struct hive_ctx ctx;
	struct hive_args_events b = {0};
	struct hive_buf out = {0};
	size_t e, w;

	ctx_in(&ctx, dir, "nobody");
	one_event(&ctx, &b, "metric_recorded",
		  "{\"configuration\":{\"name\":\"c\",\"value\":1,\"unit\":\"u\"}}");
	assert_int_equal(hive_op_emit(&ctx, &b, 0, NULL, NULL), HIVE_EUSAGE);
	assert_int_equal(ctx.err.sys, ENOENT);
	assert_int_equal(hive_op_show(&ctx, "runbook", "markdown", &out), HIVE_EUSAGE);
	assert_int_equal(hive_op_check(&ctx, 0, "json", stderr, &e, &w), HIVE_EUSAGE);
	/* nothing was made */
	assert_false(unit_exists("Docs/hive-mind/sessions/nobody"));
	hive_args_events_free(&b);
	hive_buf_free(&out);
	hive_ctx_free(&ctx);
	assert_int_equal(chdir("/"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_a_whole_session, unit_setup_tmpdir,
						unit_teardown_tmpdir),
		cmocka_unit_test_setup_teardown(test_missing_session, unit_setup_tmpdir,
						unit_teardown_tmpdir),
	};

	return cmocka_run_group_tests_name("ops", tests, NULL, NULL);
}
