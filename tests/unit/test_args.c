/* test_args.c - unit tests for lib/args.c: hive-emit's flags, KEY=VALUE, --json and NDJSON
 * stream as events to add */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "unit.h"

#include <cjson/cJSON.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../lib/args.h"
#include "../../lib/event.h"
#include "../../lib/lines.h"
#include "../../lib/redact.h"

/* --- helpers ------------------------------------------------------------------------ */

/* rc and err are the failure want_status with exactly the message want. */
static void expect_err(int rc, const struct hive_err *err, int want_status, const char *want)
{
	if (rc != want_status)
		fail_msg("returned %d (%s), want %d", rc, err->msg, want_status);
	assert_int_equal(err->status, want_status);
	if (strcmp(err->msg, want))
		show_mismatch("the message", err->msg, want);
}

/* j printed on one line equals want. */
static void expect_json(const cJSON *j, const char *want)
{
	char *got = unit_print(j);

	if (strcmp(got, want))
		show_mismatch("the JSON", got, want);
	free(got);
}

/* hive_args_details over f and kv[0..nkv): HIVE_OK with details printing as want. */
static void details_are(const struct hive_args_fields *f, char **kv, int nkv, const char *want)
{
	struct hive_err err = {0};
	cJSON *d = NULL;
	int rc = hive_args_details(f, kv, nkv, &d, &err);

	if (rc)
		fail_msg("hive_args_details: %d %s", rc, err.msg);
	expect_json(d, want);
	cJSON_Delete(d);
}

/* hive_args_details fails with status and exactly want, and hands back nothing. */
static void details_fail(const struct hive_args_fields *f, char **kv, int nkv, int status,
			 const char *want)
{
	struct hive_err err = {0};
	cJSON *d = (cJSON *)&err; /* anything but NULL: the call must reset it */

	expect_err(hive_args_details(f, kv, nkv, &d, &err), &err, status, want);
	assert_null(d);
}

/* Run f with text on file descriptor 0 (a pipe), then put the real stdin back. */
static void details_from_stdin(const char *text, const struct hive_args_fields *f, int status,
			       const char *want)
{
	int fds[2], saved = dup(0);

	assert_true(saved >= 0);
	assert_int_equal(pipe(fds), 0);
	assert_int_equal(write(fds[1], text, strlen(text)), (ssize_t)strlen(text));
	close(fds[1]);
	assert_int_equal(dup2(fds[0], 0), 0);
	close(fds[0]);
	if (status)
		details_fail(f, NULL, 0, status, want);
	else
		details_are(f, NULL, 0, want);
	assert_int_equal(dup2(saved, 0), 0);
	close(saved);
}

/* A descriptor reading len bytes of text from the start (an unlinked temporary file). */
static int stream_fd(const char *text, size_t len)
{
	FILE *f = tmpfile();
	int fd;

	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	assert_int_equal(fflush(f), 0);
	fd = dup(fileno(f));
	fclose(f);
	assert_true(fd >= 0);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	return fd;
}

/* What a stream run gives: status, message, how many events were kept, redactions. */
struct streamed {
	int rc;
	struct hive_err err;
	struct hive_args_events b;
	int redacted;
};

static struct streamed stream_len(const char *text, size_t len)
{
	struct streamed s = {0};
	struct hive_redactor *red = NULL;
	int fd = stream_fd(text, len);

	assert_int_equal(hive_redactor_new(NULL, &red, &s.err), HIVE_OK);
	s.rc = hive_args_stream(fd, NULL, red, &s.b, &s.redacted, &s.err);
	hive_redactor_free(red);
	close(fd);
	return s;
}

static struct streamed stream(const char *text)
{
	return stream_len(text, strlen(text));
}

/* The stream is refused with exactly want, keeping only the n events before the bad line. */
static void stream_bad(const char *text, size_t n, const char *want)
{
	struct streamed s = stream(text);

	expect_err(s.rc, &s.err, HIVE_EUSAGE, want);
	assert_int_equal(s.b.n, n);
	hive_args_events_free(&s.b);
}

#define HEX64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define INCIDENT                                                                                   \
	"{\"resource\":\"db\",\"action\":\"create\",\"platform\":\"AWS\",\"configuration\":"       \
	"{\"severity\":\"P1\"},\"status\":\"success\"}"
#define DEPLOY "{\"event_type\":\"deployment_configured\",\"details\":" DETAILS "}"
#define DETAILS                                                                                    \
	"{\"resource\":\"web\",\"action\":\"update\",\"platform\":\"K8s\",\"configuration\":{},"   \
	"\"status\":\"success\"}"

/* --- hive_args_details -------------------------------------------------------------- */

static void test_details_flags(void **state)
{
	struct hive_args_fields none = {0};
	struct hive_args_fields all = {"web", "update", "K8s", "success", NULL};
	struct hive_args_fields some = {NULL, "delete", NULL, NULL, NULL};

	(void)state;
	details_are(&none, NULL, 0, "{\"configuration\":{}}");
	/* SPEC 3's order whatever order the flags came in; configuration before status */
	details_are(&all, NULL, 0,
		    "{\"resource\":\"web\",\"action\":\"update\",\"platform\":\"K8s\","
		    "\"configuration\":{},\"status\":\"success\"}");
	details_are(&some, NULL, 0, "{\"action\":\"delete\",\"configuration\":{}}");
}

static void test_details_kv(void **state)
{
	struct hive_args_fields f = {"web", NULL, NULL, NULL, NULL};
	char *kv[] = {"replicas=3", "count:=3",	       "tags.team=infra", "tags.tier:=\"gold\"",
		      "on:=true",   "list:=[1,\"a\"]", "empty="};

	(void)state;
	details_are(&f, kv, 7,
		    "{\"resource\":\"web\",\"configuration\":{\"replicas\":\"3\",\"count\":3,"
		    "\"tags\":{\"team\":\"infra\",\"tier\":\"gold\"},\"on\":true,"
		    "\"list\":[1,\"a\"],\"empty\":\"\"}}");
}

static void test_details_kv_bad(void **state)
{
	struct hive_args_fields f = {0};
	char *no_eq[] = {"replicas"}, *bad_json[] = {"n:={"}, *ok_then_bad[] = {"a=1", "=x"};

	(void)state;
	details_fail(&f, no_eq, 1, HIVE_EUSAGE, "\"replicas\": expected KEY=VALUE or KEY:=JSON");
	details_fail(
		&f, bad_json, 1, HIVE_EUSAGE,
		"\"n:={\": the value after := is not valid JSON: byte 2: the text ends inside an "
		"object (quote strings, or use KEY=VALUE)");
	details_fail(&f, ok_then_bad, 2, HIVE_EUSAGE, "\"=x\": expected KEY=VALUE or KEY:=JSON");
}

static void test_details_json_text(void **state)
{
	struct hive_args_fields f = {NULL, NULL, NULL, NULL, "{\"a\":1,\"b\":{\"c\":\"d\"}}"};
	char *kv[] = {"b.e=f", "a:=2"};

	(void)state;
	details_are(&f, NULL, 0, "{\"configuration\":{\"a\":1,\"b\":{\"c\":\"d\"}}}");
	/* KEY=VALUE after --json: merged into it, the later one winning */
	details_are(&f, kv, 2, "{\"configuration\":{\"a\":2,\"b\":{\"c\":\"d\",\"e\":\"f\"}}}");
}

static void test_details_json_not_an_object(void **state)
{
	struct hive_args_fields arr = {NULL, NULL, NULL, NULL, "[1,2]"};
	struct hive_args_fields str = {NULL, NULL, NULL, NULL, "\"x\""};

	(void)state;
	details_fail(&arr, NULL, 0, HIVE_EUSAGE, "--json: \"[1,2]\" is not a JSON object");
	details_fail(&str, NULL, 0, HIVE_EUSAGE, "--json: \"\\\"x\\\"\" is not a JSON object");
}

static void test_details_json_invalid(void **state)
{
	struct hive_args_fields f = {NULL, NULL, NULL, NULL, "{\"a\":}"};
	struct hive_args_fields trailing = {NULL, NULL, NULL, NULL, "{} x"};

	(void)state;
	details_fail(&f, NULL, 0, HIVE_EUSAGE,
		     "--json: not valid JSON: byte 6: unexpected character '}'");
	details_fail(&trailing, NULL, 0, HIVE_EUSAGE,
		     "--json: not valid JSON: byte 4: more text after the JSON value");
}

static void test_details_json_file(void **state)
{
	const char *dir = *state;
	char *ok = unit_path_in(dir, "ok.json"), *arr = unit_path_in(dir, "arr.json");
	char *bad = unit_path_in(dir, "bad.json"), *at_ok, *at_arr, *at_bad, *at_missing, *at_dir,
	     *want;
	struct hive_args_fields f = {0};

	unit_write_file(ok, "{\"env\":\"prod\"}\n");
	unit_write_file(arr, "[]");
	unit_write_file(bad, "{\"env\":");
	at_ok = unit_pathf("@%s", ok);
	at_arr = unit_pathf("@%s", arr);
	at_bad = unit_pathf("@%s", bad);
	at_missing = unit_pathf("@%s/missing.json", dir);
	at_dir = unit_pathf("@%s", dir);

	f.json = at_ok;
	details_are(&f, NULL, 0, "{\"configuration\":{\"env\":\"prod\"}}");
	f.json = at_arr;
	want = unit_pathf("--json: %s is not a JSON object", arr);
	details_fail(&f, NULL, 0, HIVE_EUSAGE, want);
	free(want);
	f.json = at_bad;
	want = unit_pathf("--json: %s: not valid JSON: byte 8: the text ends inside an object",
			  bad);
	details_fail(&f, NULL, 0, HIVE_EUSAGE, want);
	free(want);
	f.json = at_missing;
	/* a file that is not there, or a folder, is a bad argument */
	want = unit_pathf("--json: %s/missing.json: No such file or directory", dir);
	details_fail(&f, NULL, 0, HIVE_EUSAGE, want);
	free(want);
	f.json = at_dir;
	want = unit_pathf("--json: %s: not a regular file", dir);
	details_fail(&f, NULL, 0, HIVE_EUSAGE, want);
	free(want);
	free(ok);
	free(arr);
	free(bad);
	free(at_ok);
	free(at_arr);
	free(at_bad);
	free(at_missing);
	free(at_dir);
}

static void test_details_json_stdin(void **state)
{
	struct hive_args_fields f = {NULL, "create", NULL, NULL, "-"};

	(void)state;
	details_from_stdin("{\"from\":\"stdin\"}\n", &f, 0,
			   "{\"action\":\"create\",\"configuration\":{\"from\":\"stdin\"}}");
	details_from_stdin("[]", &f, HIVE_EUSAGE, "--json: standard input is not a JSON object");
	details_from_stdin(
		"{", &f, HIVE_EUSAGE,
		"--json: standard input: not valid JSON: byte 2: the text ends inside an object");
}

/* --- hive_args_prepare -------------------------------------------------------------- */

/* hive_args_prepare of type and details (JSON text), with a config that adds the type
 * cache_flushed and a redactor made from it: rc, message or result, redactions. */
static void prepare_is(const char *type, const char *details, int status, const char *want,
		       int want_redacted)
{
	struct hive_config cfg;
	struct hive_redactor *red = NULL;
	struct hive_err err = {0};
	cJSON *d = unit_json(details);
	int redacted = 5, rc;

	unit_config_from(&cfg, "events:\n  types: [cache_flushed]\n");
	assert_int_equal(hive_redactor_new(&cfg, &red, &err), HIVE_OK);
	rc = hive_args_prepare(&cfg, red, type, d, &redacted, &err);
	if (status)
		expect_err(rc, &err, status, want);
	else if (rc)
		fail_msg("hive_args_prepare(%s): %d %s", type, rc, err.msg);
	else
		expect_json(d, want);
	assert_int_equal(redacted, 5 + want_redacted); /* added to, never reset */
	cJSON_Delete(d);
	hive_redactor_free(red);
	hive_config_free(&cfg);
}

static void test_prepare_internal_types(void **state)
{
	(void)state;
	prepare_is("session_started", "{}", HIVE_EUSAGE,
		   "event_type: \"session_started\" is written by hive-init, not hive-emit", 0);
	prepare_is("session_completed", "{}", HIVE_EUSAGE,
		   "event_type: \"session_completed\" is written by hive-runbook --finish, not "
		   "hive-emit",
		   0);
}

static void test_prepare_unknown_type(void **state)
{
	(void)state;
	prepare_is("cache_exploded", "{}", HIVE_EUSAGE,
		   "event_type: \"cache_exploded\" is not one of deployment_configured, "
		   "infrastructure_provisioned, pipeline_updated, monitoring_added, "
		   "security_hardened, incident_detected, incident_responded, incident_resolved, "
		   "metric_recorded, tool_used, cache_flushed (add types with events.types in "
		   ".hive.yml)",
		   0);
	/* a configured type is known: its details are checked like the seed's */
	prepare_is(
		"cache_flushed", "{\"z\":1}", HIVE_EUSAGE,
		"details: unknown key \"z\" (allowed: resource, action, platform, configuration, "
		"status; put anything else in configuration)",
		0);
}

static void test_prepare_normalises_order(void **state)
{
	static const char *const types[] = {"deployment_configured", "cache_flushed"};
	size_t i;

	(void)state;
	for (i = 0; i < 2; i++)
		prepare_is(types[i],
			   "{\"status\":\"success\",\"configuration\":{},\"platform\":\"K8s\","
			   "\"action\":\"update\",\"resource\":\"web\"}",
			   0, DETAILS, 0);
}

static void test_prepare_redacts(void **state)
{
	(void)state;
	prepare_is("deployment_configured",
		   "{\"resource\":\"web\",\"action\":\"update\",\"platform\":\"K8s\","
		   "\"configuration\":{\"password\":\"hunter2\",\"token\":"
		   "\"ghp_0123456789abcdefghijABCDEFGHIJ012345\",\"replicas\":\"3\"},"
		   "\"status\":\"success\"}",
		   0,
		   "{\"resource\":\"web\",\"action\":\"update\",\"platform\":\"K8s\","
		   "\"configuration\":{\"password\":\"[REDACTED]\",\"token\":\"[REDACTED]\","
		   "\"replicas\":\"3\"},\"status\":\"success\"}",
		   2);
}

static void test_prepare_validates(void **state)
{
	(void)state;
	prepare_is("deployment_configured",
		   "{\"resource\":\"web\",\"action\":\"destroy\",\"platform\":\"K8s\","
		   "\"configuration\":{},\"status\":\"success\"}",
		   HIVE_EUSAGE, "details.action: \"destroy\" is not one of create, update, delete",
		   0);
}

/* --- hive_args_stream --------------------------------------------------------------- */

static void test_stream_events_and_blank_lines(void **state)
{
	struct streamed s;

	(void)state;
	s = stream("\n" DEPLOY
		   "\n  \t\r\n{\"event_type\":\"incident_detected\",\"details\":" INCIDENT "}\n"
		   "\n");
	if (s.rc)
		fail_msg("hive_args_stream: %d %s", s.rc, s.err.msg);
	assert_int_equal(s.b.n, 2);
	assert_string_equal(s.b.v[0].type, "deployment_configured");
	expect_json(s.b.v[0].details, DETAILS);
	assert_string_equal(s.b.v[1].type, "incident_detected");
	expect_json(s.b.v[1].details, INCIDENT);
	assert_int_equal(s.redacted, 0);
	hive_args_events_free(&s.b);

	/* nothing but blank lines: nothing to add, and no error */
	s = stream("\n\n   \n");
	assert_int_equal(s.rc, HIVE_OK);
	assert_int_equal(s.b.n, 0);
	hive_args_events_free(&s.b);
}

static void test_stream_whole_event_accepted(void **state)
{
	struct streamed s;

	(void)state;
	s = stream("{\"seq\":7,\"timestamp\":\"2025-01-15T10:30:00.123Z\",\"event_type\":"
		   "\"deployment_configured\",\"worker\":\"other\",\"session_id\":\"s9\","
		   "\"details\":" DETAILS ",\"git\":null,\"ci\":null,\"prev\":\"" HEX64 "\"}\n");
	if (s.rc)
		fail_msg("hive_args_stream: %d %s", s.rc, s.err.msg);
	assert_int_equal(s.b.n, 1);
	assert_string_equal(s.b.v[0].type, "deployment_configured");
	expect_json(s.b.v[0].details, DETAILS);
	hive_args_events_free(&s.b);
}

static void test_stream_bad_lines(void **state)
{
	(void)state;
	stream_bad("{\"event_type\":\"x_y\",\"details\":{},\"extra\":1}\n", 0,
		   "stdin:1: unknown key \"extra\" (a line is "
		   "{\"event_type\":...,\"details\":{...}})");
	stream_bad(DEPLOY "\n{\"details\":{}}\n", 1,
		   "stdin:2: event_type: missing or not a string");
	stream_bad(DEPLOY "\n\n{\"event_type\":3}\n", 1,
		   "stdin:3: event_type: missing or not a string");
	stream_bad("[1]\n", 0, "stdin:1: not a JSON object");
	stream_bad("\n{\"event_type\":\n", 0,
		   "stdin:2: not valid JSON: byte 15: the text ends inside an object");
	stream_bad(
		DEPLOY "\n{\"event_type\":\"session_started\"}\n", 1,
		"stdin:2: event_type: \"session_started\" is written by hive-init, not hive-emit");
	stream_bad("{\"event_type\":\"deployment_configured\",\"details\":{\"action\":\"x\"}}", 0,
		   "stdin:1: details: resource, platform and status are missing (give --resource "
		   "NAME --platform AWS|GCP|Azure|Docker|K8s --status success|failure)");
}

static void test_stream_nul(void **state)
{
	static const char text[] = "{\"event_type\":\"a\0b\"}\n";
	struct streamed s;

	(void)state;
	s = stream_len(text, sizeof(text) - 1);
	expect_err(s.rc, &s.err, HIVE_EUSAGE,
		   "stdin:1:17: a NUL character (an event holds text, and text holds no NUL)");
	assert_int_equal(s.b.n, 0);
	hive_args_events_free(&s.b);
}

static void test_stream_line_too_long(void **state)
{
	size_t len = strlen(DEPLOY) + 1 + HIVE_LINE_MAX + 2;
	char *text = malloc(len);
	struct streamed s;

	(void)state;
	assert_non_null(text);
	memcpy(text, DEPLOY "\n", strlen(DEPLOY) + 1);
	memset(text + strlen(DEPLOY) + 1, ' ', HIVE_LINE_MAX + 1);
	text[len - 1] = '\n';
	s = stream_len(text, len);
	expect_err(s.rc, &s.err, HIVE_EUSAGE, "stdin:2: longer than 1048576 bytes");
	assert_int_equal(s.b.n, 1);
	hive_args_events_free(&s.b);
	free(text);
}

static void test_stream_over_a_pipe(void **state)
{
	struct hive_args_events b = {0};
	struct hive_redactor *red = NULL;
	struct hive_err err = {0};
	int fds[2], redacted = 0;

	(void)state;
	assert_int_equal(hive_redactor_new(NULL, &red, &err), HIVE_OK);
	assert_int_equal(pipe(fds), 0);
	assert_int_equal(write(fds[1], DEPLOY "\n" DEPLOY, 2 * strlen(DEPLOY) + 1),
			 (ssize_t)(2 * strlen(DEPLOY) + 1));
	close(fds[1]);
	assert_int_equal(hive_args_stream(fds[0], NULL, red, &b, &redacted, &err), HIVE_OK);
	assert_int_equal(b.n, 2); /* the last line needs no newline */
	hive_args_events_free(&b);
	hive_redactor_free(red);
	close(fds[0]);
}

/* Over a pipe fed by a child: an endless stream is cut at HIVE_INPUT_MAX bytes (blank
 * lines, which cost no memory, would otherwise be read for ever). */
static void test_stream_byte_limit(void **state)
{
	struct hive_args_events b = {0};
	struct hive_redactor *red = NULL;
	struct hive_err err = {0};
	int fds[2], redacted = 0, status;
	pid_t pid;

	(void)state;
	assert_int_equal(hive_redactor_new(NULL, &red, &err), HIVE_OK);
	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		static char blank[65536];
		close(fds[0]);
		memset(blank, '\n', sizeof(blank));
		memcpy(blank, DEPLOY, strlen(DEPLOY));
		for (;;)
			if (write(fds[1], blank, sizeof(blank)) < 0)
				_exit(0);
	}
	close(fds[1]);
	expect_err(hive_args_stream(fds[0], NULL, red, &b, &redacted, &err), &err, HIVE_EUSAGE,
		   "stdin: more than 16777216 bytes (16 MiB), the most one input may hold");
	close(fds[0]); /* the writer gets EPIPE and stops */
	assert_int_equal(waitpid(pid, &status, 0), pid);
	hive_args_events_free(&b);
	hive_redactor_free(red);
}

/* HIVE_STREAM_EVENTS_MAX events pass; one more is refused, naming its line. */
static void test_stream_event_limit(void **state)
{
	size_t line = strlen(DEPLOY) + 1, n = HIVE_STREAM_EVENTS_MAX + 1, i;
	char *text = malloc(line * n);
	struct streamed s;

	(void)state;
	assert_non_null(text);
	for (i = 0; i < n; i++) {
		memcpy(text + i * line, DEPLOY, line - 1);
		text[i * line + line - 1] = '\n';
	}
	s = stream_len(text, line * (n - 1));
	assert_int_equal(s.rc, HIVE_OK);
	assert_int_equal(s.b.n, HIVE_STREAM_EVENTS_MAX);
	hive_args_events_free(&s.b);
	s = stream_len(text, line * n);
	expect_err(s.rc, &s.err, HIVE_EUSAGE,
		   "stdin:100001: more than 100000 events, the most one stream may hold: split it");
	hive_args_events_free(&s.b);
	free(text);
}

/* KEY=VALUE through a name index (what hive_args_details does) builds exactly what the
 * same arguments build applied without one, and refuses the same ones with the same
 * messages (leaving the object as it was, so the run goes on past them): 20,000 arguments
 * over a small set of dotted keys, with := objects, replacements of objects by values and
 * back, on a --json object that already has members. */
static void test_kv_index_agrees(void **state)
{
	static const char *keys[] = {"a",     "b",   "a.x", "a.y", "b.c",   "b.c.d",
				     "e.f.g", "e.f", "e",   "h.i", "a.x.z", "j"};
	static const char *vals[] = {"=v",    ":=1", ":={\"x\":{\"z\":2},\"k\":3}",
				     ":=[1]", "=w",  ":={}"};
	const char *json = "{\"a\":{\"x\":0},\"j\":\"s\",\"e\":{\"f\":{\"q\":1}}}";
	struct hive_kv_index *ix = hive_kv_index_new();
	cJSON *with = unit_json(json), *without = unit_json(json);
	struct hive_err e1 = {0}, e2 = {0};
	unsigned seed = 12345;
	char arg[128], *a, *b;
	int i, rc1, rc2, refused = 0;

	(void)state;
	assert_non_null(ix);
	for (i = 0; i < 20000; i++) {
		seed = seed * 1103515245u + 12345u;
		snprintf(arg, sizeof(arg), "%s%s", keys[(seed >> 8) % 12], vals[(seed >> 20) % 6]);
		rc1 = hive_event_apply_kv_in(ix, with, arg, &e1);
		rc2 = hive_event_apply_kv(without, arg, &e2);
		assert_int_equal(rc1, rc2);
		if (rc1) {
			refused++;
			if (strcmp(e1.msg, e2.msg))
				show_mismatch("the message", e1.msg, e2.msg);
		}
		if (i % 997 == 0 || i == 19999) {
			a = unit_print(with);
			b = unit_print(without);
			if (strcmp(a, b))
				show_mismatch("the object", a, b);
			cJSON_free(a);
			cJSON_free(b);
		}
		hive_err_clear(&e1);
		hive_err_clear(&e2);
	}
	/* both kinds of argument were seen */
	assert_true(refused > 1000 && refused < 19000);
	hive_kv_index_free(ix);
	cJSON_Delete(with);
	cJSON_Delete(without);
}

/* --- hive_args_events_add / _free ---------------------------------------------------- */

static void test_events_add_free(void **state)
{
	struct hive_args_events b = {0};
	char type[16];
	int i;

	(void)state;
	hive_args_events_free(&b); /* an empty list */
	for (i = 0; i < 40; i++) {
		cJSON *owner = cJSON_CreateObject();
		cJSON *details = cJSON_AddObjectToObject(owner, "details");

		cJSON_AddNumberToObject(details, "i", i);
		snprintf(type, sizeof(type), "t%d", i);
		cJSON_AddStringToObject(owner, "event_type", type);
		assert_int_equal(hive_args_events_add(&b, owner,
						      cJSON_GetStringValue(cJSON_GetObjectItem(
							      owner, "event_type")),
						      details),
				 0);
	}
	assert_int_equal(b.n, 40);
	assert_true(b.cap >= 40);
	for (i = 0; i < 40; i++) {
		snprintf(type, sizeof(type), "t%d", i);
		assert_string_equal(b.v[i].type, type);
		assert_int_equal(cJSON_GetNumberValue(cJSON_GetObjectItem(b.v[i].details, "i")), i);
	}
	hive_args_events_free(&b); /* frees the owners (ASan and valgrind see any leak) */
	assert_null(b.v);
	assert_null(b.owners);
	assert_int_equal(b.n, 0);
	assert_int_equal(b.cap, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_details_flags),
		cmocka_unit_test(test_details_kv),
		cmocka_unit_test(test_details_kv_bad),
		cmocka_unit_test(test_details_json_text),
		cmocka_unit_test(test_details_json_not_an_object),
		cmocka_unit_test(test_details_json_invalid),
		cmocka_unit_test_setup_teardown(test_details_json_file, unit_setup_tmpdir,
						unit_teardown_tmpdir),
		cmocka_unit_test(test_details_json_stdin),
		cmocka_unit_test(test_prepare_internal_types),
		cmocka_unit_test(test_prepare_unknown_type),
		cmocka_unit_test(test_prepare_normalises_order),
		cmocka_unit_test(test_prepare_redacts),
		cmocka_unit_test(test_prepare_validates),
		cmocka_unit_test(test_stream_events_and_blank_lines),
		cmocka_unit_test(test_stream_whole_event_accepted),
		cmocka_unit_test(test_stream_bad_lines),
		cmocka_unit_test(test_stream_nul),
		cmocka_unit_test(test_stream_line_too_long),
		cmocka_unit_test(test_stream_over_a_pipe),
		cmocka_unit_test(test_stream_byte_limit),
		cmocka_unit_test(test_stream_event_limit),
		cmocka_unit_test(test_kv_index_agrees),
		cmocka_unit_test(test_events_add_free),
	};

	return cmocka_run_group_tests_name("args", tests, NULL, NULL);
}
