/* test_findings.c - unit tests for lib/findings.c: every output format byte for byte, the counters,
 * errors */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../lib/findings.h"

static const char *const rules[] = {"json", "schema", "chain", "order"};

/* sha256sum of "chain\nE.jsonl\n3\nseq is 7, expected 3" and "order\nE.jsonl\n0\nbackwards" */
#define CQ_FP1 "598a4eacae46f0eb68a7236aa2f74b1d6ce9371810ce65156a89fcc51f865e1c"
#define CQ_FP2 "2a22fa6621bf6a6f8a06a873483812f800cdda43a3b224fd8dea09f7eaf6e717"

/* A sink writing into memory: open, feed, finish, compare. */
struct sink {
	char *buf;
	size_t len;
	FILE *out;
	struct hive_findings *f;
};

static void sink_open(struct sink *s, const char *format, int color)
{
	struct hive_err err = {0};

	memset(s, 0, sizeof(*s));
	s->out = open_memstream(&s->buf, &s->len);
	assert_non_null(s->out);
	assert_int_equal(hive_findings_new(format, s->out, color, &s->f, &err), HIVE_OK);
	assert_non_null(s->f);
}

/* Finish the sink, compare what it wrote with want, release it. */
static void sink_close(struct sink *s, int strict, const char *want)
{
	assert_int_equal(hive_findings_finish(s->f, strict), 0);
	assert_int_equal(fclose(s->out), 0);
	if (strcmp(s->buf, want))
		show_mismatch("output", s->buf, want);
	hive_findings_free(s->f);
	free(s->buf);
}

/* The small set of findings every format is shown: one session, an error with a line, a
 * warning for the file as a whole (file NULL: the session's), a second error of a rule. */
static void feed(struct sink *s)
{
	hive_findings_session(s->f, "gh-1-1", "sessions/gh-1-1/EVENTS.jsonl", rules, 4);
	hive_findings_add(s->f, HIVE_LEVEL_ERROR, "chain", "sessions/gh-1-1/EVENTS.jsonl", 3,
			  "prev is %s, expected %s", "sha256:aa", "sha256:bb");
	hive_findings_add(s->f, HIVE_LEVEL_WARNING, "order", NULL, 0,
			  "timestamps go backwards at line %d", 4);
	hive_findings_add(s->f, HIVE_LEVEL_ERROR, "chain", "sessions/gh-1-1/EVENTS.jsonl", 5,
			  "seq is 7, expected 5");
}

static void test_findings_text(void **state)
{
	struct sink s;

	(void)state;
	sink_open(&s, "text", 0);
	feed(&s);
	sink_close(
		&s, 0,
		"sessions/gh-1-1/EVENTS.jsonl:3: error: [chain] prev is sha256:aa, expected "
		"sha256:bb\n"
		"sessions/gh-1-1/EVENTS.jsonl: warning: [order] timestamps go backwards at line 4\n"
		"sessions/gh-1-1/EVENTS.jsonl:5: error: [chain] seq is 7, expected 5\n");
}

static void test_findings_text_color(void **state)
{
	struct sink s;

	(void)state;
	sink_open(&s, "text", 1);
	feed(&s);
	sink_close(&s, 0,
		   "sessions/gh-1-1/EVENTS.jsonl:3: \033[1;31merror:\033[0m [chain] prev is "
		   "sha256:aa, expected sha256:bb\n"
		   "sessions/gh-1-1/EVENTS.jsonl: \033[1;35mwarning:\033[0m [order] timestamps go "
		   "backwards at line 4\n"
		   "sessions/gh-1-1/EVENTS.jsonl:5: \033[1;31merror:\033[0m [chain] seq is 7, "
		   "expected 5\n");
}

/* A value from a log can neither break the line nor reach a terminal as an escape. */
static void test_findings_text_escapes_controls(void **state)
{
	struct sink s;

	(void)state;
	sink_open(&s, "text", 0);
	hive_findings_add(s.f, HIVE_LEVEL_ERROR, "schema", "E.jsonl", 2, "resource %s",
			  "a\nb\rc\td\033[31me\x7f");
	sink_close(&s, 0, "E.jsonl:2: error: [schema] resource a\\nb\\rc\\td\\x1b[31me\\x7f\n");
}

/* Findings before any session: the file "-" when none is given. */
static void test_findings_text_without_session(void **state)
{
	struct sink s;

	(void)state;
	sink_open(&s, "text", 0);
	hive_findings_add(s.f, HIVE_LEVEL_WARNING, "json", NULL, 0, "empty");
	sink_close(&s, 0, "-: warning: [json] empty\n");
}

static void test_findings_json(void **state)
{
	struct sink s;

	(void)state;
	sink_open(&s, "json", 0);
	feed(&s);
	sink_close(&s, 0,
		   "{\"level\":\"error\",\"rule\":\"chain\",\"session\":\"gh-1-1\",\"file\":"
		   "\"sessions/gh-1-1/EVENTS.jsonl\",\"line\":3,\"message\":\"prev is sha256:aa, "
		   "expected sha256:bb\"}\n"
		   "{\"level\":\"warning\",\"rule\":\"order\",\"session\":\"gh-1-1\",\"file\":"
		   "\"sessions/gh-1-1/EVENTS.jsonl\",\"line\":null,\"message\":\"timestamps go "
		   "backwards at line 4\"}\n"
		   "{\"level\":\"error\",\"rule\":\"chain\",\"session\":\"gh-1-1\",\"file\":"
		   "\"sessions/gh-1-1/EVENTS.jsonl\",\"line\":5,\"message\":\"seq is 7, expected "
		   "5\"}\n");
}

/* A bare log (no session name) has "session":null; strings are JSON-escaped. */
static void test_findings_json_bare_log(void **state)
{
	struct sink s;

	(void)state;
	sink_open(&s, "json", 0);
	hive_findings_session(s.f, NULL, "-", NULL, 0);
	hive_findings_add(s.f, HIVE_LEVEL_ERROR, "json", NULL, 1, "not \"JSON\"\n");
	sink_close(&s, 0,
		   "{\"level\":\"error\",\"rule\":\"json\",\"session\":null,\"file\":\"-\","
		   "\"line\":1,\"message\":\"not \\\"JSON\\\"\\n\"}\n");
}

static void test_findings_github(void **state)
{
	struct sink s;

	(void)state;
	sink_open(&s, "github", 0);
	feed(&s);
	sink_close(&s, 0,
		   "::error file=sessions/gh-1-1/EVENTS.jsonl,line=3,title=hive chain::prev is "
		   "sha256:aa, expected sha256:bb\n"
		   "::warning file=sessions/gh-1-1/EVENTS.jsonl,title=hive order::timestamps go "
		   "backwards at line 4\n"
		   "::error file=sessions/gh-1-1/EVENTS.jsonl,line=5,title=hive chain::seq is 7, "
		   "expected 5\n");
}

/* GitHub's escaping: % CR LF in the message; also : and , in properties (file, title). */
static void test_findings_github_escaping(void **state)
{
	struct sink s;

	(void)state;
	sink_open(&s, "github", 0);
	hive_findings_add(s.f, HIVE_LEVEL_ERROR, "policy.require_ci", "a:b,c%d.jsonl", 9,
			  "100%% sure\r\nkey: a, b");
	sink_close(&s, 0,
		   "::error file=a%3Ab%2Cc%25d.jsonl,line=9,title=hive policy.require_ci::100%25 "
		   "sure%0D%0Akey: a, b\n");
}

static void test_findings_junit(void **state)
{
	struct sink s;

	(void)state;
	sink_open(&s, "junit", 0);
	feed(&s);
	assert_int_equal(s.len, 0); /* nothing before the end */
	sink_close(&s, 0,
		   "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		   "<testsuites name=\"hive-check\" tests=\"4\" failures=\"1\">\n"
		   "  <testsuite name=\"gh-1-1\" tests=\"4\" failures=\"1\" errors=\"0\">\n"
		   "    <testcase name=\"json\" classname=\"hive.gh-1-1\" "
		   "file=\"sessions/gh-1-1/EVENTS.jsonl\">\n"
		   "    </testcase>\n"
		   "    <testcase name=\"schema\" classname=\"hive.gh-1-1\" "
		   "file=\"sessions/gh-1-1/EVENTS.jsonl\">\n"
		   "    </testcase>\n"
		   "    <testcase name=\"chain\" classname=\"hive.gh-1-1\" "
		   "file=\"sessions/gh-1-1/EVENTS.jsonl\">\n"
		   "      <failure type=\"chain\" message=\"2 findings\">"
		   "sessions/gh-1-1/EVENTS.jsonl:3: error: prev is sha256:aa, expected sha256:bb\n"
		   "sessions/gh-1-1/EVENTS.jsonl:5: error: seq is 7, expected 5\n"
		   "</failure>\n"
		   "    </testcase>\n"
		   "    <testcase name=\"order\" classname=\"hive.gh-1-1\" "
		   "file=\"sessions/gh-1-1/EVENTS.jsonl\">\n"
		   "      <system-out>sessions/gh-1-1/EVENTS.jsonl: warning: timestamps go "
		   "backwards at "
		   "line 4\n"
		   "</system-out>\n"
		   "    </testcase>\n"
		   "  </testsuite>\n"
		   "</testsuites>\n");
}

/* A session checked again (under a second configuration) is taken up again: one suite, its
 * rules joined, and a finding it already has is not reported twice. */
static void test_findings_session_again(void **state)
{
	static const char *const more[] = {"chain", "policy.require_tags"};
	struct sink s;

	(void)state;
	sink_open(&s, "junit", 0);
	feed(&s);
	hive_findings_session(s.f, "other", "sessions/other/EVENTS.jsonl", rules, 1);
	hive_findings_session(s.f, "gh-1-1", "sessions/gh-1-1/EVENTS.jsonl", more, 2);
	hive_findings_add(s.f, HIVE_LEVEL_ERROR, "chain", "sessions/gh-1-1/EVENTS.jsonl", 5,
			  "seq is 7, expected 5");
	hive_findings_add(s.f, HIVE_LEVEL_ERROR, "policy.require_tags", NULL, 2, "no tags");
	assert_int_equal(hive_findings_sessions(s.f), 2);
	assert_int_equal(hive_findings_errors(s.f), 3);
	sink_close(&s, 0,
		   "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		   "<testsuites name=\"hive-check\" tests=\"6\" failures=\"2\">\n"
		   "  <testsuite name=\"gh-1-1\" tests=\"5\" failures=\"2\" errors=\"0\">\n"
		   "    <testcase name=\"json\" classname=\"hive.gh-1-1\" "
		   "file=\"sessions/gh-1-1/EVENTS.jsonl\">\n"
		   "    </testcase>\n"
		   "    <testcase name=\"schema\" classname=\"hive.gh-1-1\" "
		   "file=\"sessions/gh-1-1/EVENTS.jsonl\">\n"
		   "    </testcase>\n"
		   "    <testcase name=\"chain\" classname=\"hive.gh-1-1\" "
		   "file=\"sessions/gh-1-1/EVENTS.jsonl\">\n"
		   "      <failure type=\"chain\" message=\"2 findings\">"
		   "sessions/gh-1-1/EVENTS.jsonl:3: error: prev is sha256:aa, expected sha256:bb\n"
		   "sessions/gh-1-1/EVENTS.jsonl:5: error: seq is 7, expected 5\n"
		   "</failure>\n"
		   "    </testcase>\n"
		   "    <testcase name=\"order\" classname=\"hive.gh-1-1\" "
		   "file=\"sessions/gh-1-1/EVENTS.jsonl\">\n"
		   "      <system-out>sessions/gh-1-1/EVENTS.jsonl: warning: timestamps go "
		   "backwards at "
		   "line 4\n"
		   "</system-out>\n"
		   "    </testcase>\n"
		   "    <testcase name=\"policy.require_tags\" classname=\"hive.gh-1-1\" "
		   "file=\"sessions/gh-1-1/EVENTS.jsonl\">\n"
		   "      <failure type=\"policy.require_tags\" message=\"1 finding\">"
		   "sessions/gh-1-1/EVENTS.jsonl:2: error: no tags\n"
		   "</failure>\n"
		   "    </testcase>\n"
		   "  </testsuite>\n"
		   "  <testsuite name=\"other\" tests=\"1\" failures=\"0\" errors=\"0\">\n"
		   "    <testcase name=\"json\" classname=\"hive.other\" "
		   "file=\"sessions/other/EVENTS.jsonl\">\n"
		   "    </testcase>\n"
		   "  </testsuite>\n"
		   "</testsuites>\n");
}

/* --strict: a warning fails its testcase too. */
static void test_findings_junit_strict(void **state)
{
	struct sink s;

	(void)state;
	sink_open(&s, "junit", 0);
	hive_findings_session(s.f, "s", "E", rules + 3, 1);
	hive_findings_add(s.f, HIVE_LEVEL_WARNING, "order", NULL, 2, "backwards");
	sink_close(&s, 1,
		   "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		   "<testsuites name=\"hive-check\" tests=\"1\" failures=\"1\">\n"
		   "  <testsuite name=\"s\" tests=\"1\" failures=\"1\" errors=\"0\">\n"
		   "    <testcase name=\"order\" classname=\"hive.s\" file=\"E\">\n"
		   "      <failure type=\"order\" message=\"1 finding\">E:2: warning: backwards\n"
		   "</failure>\n"
		   "    </testcase>\n"
		   "  </testsuite>\n"
		   "</testsuites>\n");
}

/* Two sessions, XML escaping of names, files and messages (control characters XML 1.0
 * cannot hold become U+FFFD; CR a character reference). */
static void test_findings_junit_escaping_and_sessions(void **state)
{
	struct sink s;

	(void)state;
	sink_open(&s, "junit", 0);
	hive_findings_session(s.f, "a&b", "d/<E>", rules, 1);
	hive_findings_add(s.f, HIVE_LEVEL_ERROR, "json", NULL, 1, "'x' \"y\"\r\x01z");
	hive_findings_session(s.f, "c", "F", rules, 2);
	sink_close(&s, 0,
		   "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		   "<testsuites name=\"hive-check\" tests=\"3\" failures=\"1\">\n"
		   "  <testsuite name=\"a&amp;b\" tests=\"1\" failures=\"1\" errors=\"0\">\n"
		   "    <testcase name=\"json\" classname=\"hive.a&amp;b\" file=\"d/&lt;E&gt;\">\n"
		   "      <failure type=\"json\" message=\"1 finding\">d/&lt;E&gt;:1: error: "
		   "&apos;x&apos; &quot;y&quot;&#xD;&#xFFFD;z\n"
		   "</failure>\n"
		   "    </testcase>\n"
		   "  </testsuite>\n"
		   "  <testsuite name=\"c\" tests=\"2\" failures=\"0\" errors=\"0\">\n"
		   "    <testcase name=\"json\" classname=\"hive.c\" file=\"F\">\n"
		   "    </testcase>\n"
		   "    <testcase name=\"schema\" classname=\"hive.c\" file=\"F\">\n"
		   "    </testcase>\n"
		   "  </testsuite>\n"
		   "</testsuites>\n");
}

static void test_findings_junit_empty(void **state)
{
	struct sink s;

	(void)state;
	sink_open(&s, "junit", 0);
	sink_close(&s, 0,
		   "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		   "<testsuites name=\"hive-check\" tests=\"0\" failures=\"0\">\n"
		   "</testsuites>\n");
}

/* GitLab Code Quality: fingerprints are the SHA-256 of "rule\nfile\nline\nmessage"
 * (computed here with sha256sum), lines.begin 1 for a finding on the whole file. */
static void test_findings_codequality(void **state)
{
	struct sink s;

	(void)state;
	sink_open(&s, "codequality", 0);
	hive_findings_session(s.f, "gh-1-1", "E.jsonl", rules, 4);
	hive_findings_add(s.f, HIVE_LEVEL_ERROR, "chain", NULL, 3, "seq is 7, expected 3");
	hive_findings_add(s.f, HIVE_LEVEL_WARNING, "order", NULL, 0, "backwards");
	assert_int_equal(s.len, 0);
	sink_close(&s, 0,
		   "[{\n"
		   "\t\t\"description\":\t\"seq is 7, expected 3\",\n"
		   "\t\t\"check_name\":\t\"chain\",\n"
		   "\t\t\"fingerprint\":\t\"" CQ_FP1 "\",\n"
		   "\t\t\"severity\":\t\"major\",\n"
		   "\t\t\"location\":\t{\n"
		   "\t\t\t\"path\":\t\"E.jsonl\",\n"
		   "\t\t\t\"lines\":\t{\n"
		   "\t\t\t\t\"begin\":\t3\n"
		   "\t\t\t}\n"
		   "\t\t}\n"
		   "\t}, {\n"
		   "\t\t\"description\":\t\"backwards\",\n"
		   "\t\t\"check_name\":\t\"order\",\n"
		   "\t\t\"fingerprint\":\t\"" CQ_FP2 "\",\n"
		   "\t\t\"severity\":\t\"minor\",\n"
		   "\t\t\"location\":\t{\n"
		   "\t\t\t\"path\":\t\"E.jsonl\",\n"
		   "\t\t\t\"lines\":\t{\n"
		   "\t\t\t\t\"begin\":\t1\n"
		   "\t\t\t}\n"
		   "\t\t}\n"
		   "\t}]\n");
}

static void test_findings_codequality_empty(void **state)
{
	struct sink s;

	(void)state;
	sink_open(&s, "codequality", 0);
	sink_close(&s, 0, "[]\n");
}

static void test_findings_counters(void **state)
{
	struct sink s;

	(void)state;
	sink_open(&s, "json", 0);
	assert_int_equal(hive_findings_sessions(s.f), 0);
	feed(&s);
	hive_findings_session(s.f, "b", "F", rules, 4);
	hive_findings_add(s.f, HIVE_LEVEL_ERROR, "schema", NULL, 1, "x");
	hive_findings_add(s.f, HIVE_LEVEL_WARNING, "schema", NULL, 1, "y");
	assert_int_equal(hive_findings_errors(s.f), 3);
	assert_int_equal(hive_findings_warnings(s.f), 2);
	assert_int_equal(hive_findings_sessions(s.f), 2);
	assert_int_equal(hive_findings_rule_errors(s.f, "chain"), 2);
	assert_int_equal(hive_findings_rule_errors(s.f, "schema"), 1);
	assert_int_equal(hive_findings_rule_errors(s.f, "order"), 0); /* warnings only */
	assert_int_equal(hive_findings_rule_errors(s.f, "nope"), 0);
	assert_int_equal(hive_findings_finish(s.f, 0), 0);
	fclose(s.out);
	hive_findings_free(s.f);
	free(s.buf);
}

/* More distinct rules than the counter keeps slots for: the total still counts them all. */
static void test_findings_counters_many_rules(void **state)
{
	struct sink s;
	char rule[32];
	int i;

	(void)state;
	sink_open(&s, "json", 0);
	for (i = 0; i < 40; i++) {
		snprintf(rule, sizeof(rule), "policy.r%d", i);
		hive_findings_add(s.f, HIVE_LEVEL_ERROR, rule, "E", 1, "m");
	}
	assert_int_equal(hive_findings_errors(s.f), 40);
	assert_int_equal(hive_findings_rule_errors(s.f, "policy.r0"), 1);
	assert_int_equal(hive_findings_rule_errors(s.f, "policy.r23"), 1);
	fclose(s.out);
	hive_findings_free(s.f);
	free(s.buf);
}

static void test_findings_unknown_format(void **state)
{
	struct hive_findings *f = (struct hive_findings *)1;
	struct hive_err err = {0};

	(void)state;
	assert_int_equal(hive_findings_new("xml", stdout, 0, &f, &err), HIVE_EUSAGE);
	assert_null(f);
	assert_int_equal(err.status, HIVE_EUSAGE);
	assert_string_equal(
		err.msg, "--format: \"xml\" is not one of text, json, github, junit, codequality");
	assert_int_equal(hive_findings_new("TEXT", stdout, 0, &f, &err), HIVE_EUSAGE);
	assert_int_equal(hive_findings_new("", stdout, 0, &f, &err), HIVE_EUSAGE);
	assert_null(f);
}

/* A stream that cannot be written (a full disk) makes finish say so. */
static void test_findings_finish_unwritable(void **state)
{
	struct hive_findings *f = NULL;
	struct hive_err err = {0};
	FILE *out = fopen("/dev/full", "w");

	(void)state;
	assert_non_null(out); /* Linux: always there */
	assert_int_equal(hive_findings_new("junit", out, 0, &f, &err), HIVE_OK);
	hive_findings_session(f, "s", "E", rules, 1);
	assert_int_equal(hive_findings_finish(f, 0), -1);
	hive_findings_free(f);
	fclose(out);
}

static void test_findings_free_null(void **state)
{
	(void)state;
	hive_findings_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_findings_text),
		cmocka_unit_test(test_findings_text_color),
		cmocka_unit_test(test_findings_text_escapes_controls),
		cmocka_unit_test(test_findings_text_without_session),
		cmocka_unit_test(test_findings_json),
		cmocka_unit_test(test_findings_json_bare_log),
		cmocka_unit_test(test_findings_github),
		cmocka_unit_test(test_findings_github_escaping),
		cmocka_unit_test(test_findings_junit),
		cmocka_unit_test(test_findings_session_again),
		cmocka_unit_test(test_findings_junit_strict),
		cmocka_unit_test(test_findings_junit_escaping_and_sessions),
		cmocka_unit_test(test_findings_junit_empty),
		cmocka_unit_test(test_findings_codequality),
		cmocka_unit_test(test_findings_codequality_empty),
		cmocka_unit_test(test_findings_counters),
		cmocka_unit_test(test_findings_counters_many_rules),
		cmocka_unit_test(test_findings_unknown_format),
		cmocka_unit_test(test_findings_finish_unwritable),
		cmocka_unit_test(test_findings_free_null),
	};

	return cmocka_run_group_tests_name("findings", tests, NULL, NULL);
}
