/* test_check_rules.c - unit tests for lib/check.c's rules: hive_check_session on in-memory logs,
 * one test per rule name */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "unit.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../lib/check.h"
#include "../../lib/event.h"
#include "../../lib/redact.h"
#include "../../lib/util.h"

#define DIR    "s/s1"
#define EVENTS "s/s1/EVENTS.jsonl"
#define STATE  "s/s1/STATE.json"

#define OK_DETAILS                                                                                 \
	"{\"resource\":\"api\",\"action\":\"update\",\"platform\":\"K8s\",\"configuration\":{},"   \
	"\"status\":\"success\"}"
#define CLEAN_GIT                                                                                  \
	"{\"commit\":null,\"branch\":\"main\",\"dirty\":false,\"tag\":null,\"remote\":null}"
/* SPEC 3: at most 1 MiB a line (log.h's HIVE_LINE_MAX; log.h is being split, so not included) */
#define LINE_MAX_BYTES (1024 * 1024)
#define GH_CI	       "{\"provider\":\"github\",\"run_id\":\"1\"}"

/* --- a log written line by line, with its seq and prev chain ------------------------ */

struct logb {
	struct hive_buf text;	   /* EVENTS.jsonl */
	char prev[HIVE_HASH_SIZE]; /* SHA-256 of the last line */
	int n;			   /* lines so far */
	char state[1024];	   /* a STATE.json that agrees with it (state_for) */
};

static void add_line(struct logb *b, const char *line)
{
	hive_buf_puts(&b->text, line);
	hive_buf_puts(&b->text, "\n");
	hive_sha256(line, strlen(line), b->prev);
	b->n++;
}

/* One event of session s1 as hive-emit writes it: seq and prev follow the log so far. */
static void add_event_as(struct logb *b, const char *sid, const char *worker, const char *ts,
			 const char *type, const char *details, const char *git, const char *ci)
{
	char line[4096], prev[HIVE_HASH_SIZE + 2];

	if (b->n)
		snprintf(prev, sizeof(prev), "\"%s\"", b->prev);
	else
		snprintf(prev, sizeof(prev), "null");
	snprintf(line, sizeof(line),
		 "{\"seq\":%d,\"timestamp\":\"%s\",\"event_type\":\"%s\",\"worker\":\"%s\","
		 "\"session_id\":\"%s\",\"details\":%s,\"git\":%s,\"ci\":%s,\"prev\":%s}",
		 b->n + 1, ts, type, worker, sid, details, git, ci, prev);
	add_line(b, line);
}

static void add_event(struct logb *b, const char *ts, const char *type, const char *details)
{
	add_event_as(b, "s1", "devops-worker", ts, type, details, "null", "null");
}

static void start(struct logb *b)
{
	memset(b, 0, sizeof(*b));
	add_event(b, "2025-01-15T10:30:00.000Z", "session_started", "{\"requirements\":{}}");
}

static void complete(struct logb *b, const char *ts)
{
	add_event(b, ts, "session_completed", "{\"status\":\"success\"}");
}

/* A STATE.json that agrees with the log as it is now. */
static const char *state_for(struct logb *b, const char *status)
{
	snprintf(b->state, sizeof(b->state),
		 "{\"session_id\":\"s1\",\"worker\":\"devops-worker\",\"status\":\"%s\","
		 "\"events\":{\"count\":%d,\"last_seq\":%d,\"last_hash\":\"%s\"}}",
		 status, b->n, b->n, b->prev);
	return b->state;
}

/* A STATE.json with the log's last hash and the given count and last seq. */
static const char *state_with(struct logb *b, const char *status, int count, int last_seq)
{
	snprintf(b->state, sizeof(b->state),
		 "{\"session_id\":\"s1\",\"worker\":\"devops-worker\",\"status\":\"%s\","
		 "\"events\":{\"count\":%d,\"last_seq\":%d,\"last_hash\":\"%s\"}}",
		 status, count, last_seq, b->prev);
	return b->state;
}

/* The session folder s/s1 holding the log b, its STATE.json state (NULL: missing) and
 * METRICS.json when metrics. */
static struct hive_check_input input(struct logb *b, const char *state, int metrics)
{
	struct hive_check_input in;

	memset(&in, 0, sizeof(in));
	in.session = "s1";
	in.dir_shown = DIR;
	in.events_shown = EVENTS;
	in.events_fd = -1;
	in.events_buf = b->text.p ? b->text.p : "";
	in.events_len = b->text.len;
	in.state_buf = state;
	in.state_len = state ? strlen(state) : 0;
	in.metrics_present = metrics;
	return in;
}

/* --- running the checker ------------------------------------------------------------ */

struct result {
	char *text; /* the findings in text format */
	size_t errors, warnings;
};

/* Check in under the configuration yaml (NULL: none); the findings as text. */
static struct result run_yaml(const char *yaml, const struct hive_check_input *in)
{
	struct hive_config cfg;
	struct hive_checker c = {0};
	struct hive_findings *f = NULL;
	struct hive_err err = {0};
	struct result res = {0};
	size_t len = 0;
	FILE *out;

	hive_config_init(&cfg);
	if (yaml && hive_config_parse(&cfg, ".hive.yml", yaml, strlen(yaml), &err))
		fail_msg("config: %s", err.msg);
	c.cfg = yaml ? &cfg : NULL;
	if (hive_redactor_new(c.cfg, &c.red, &err))
		fail_msg("redactor: %s", err.msg);
	assert_non_null(out = open_memstream(&res.text, &len));
	assert_int_equal(hive_findings_new("text", out, 0, &f, &err), HIVE_OK);
	if (hive_check_session(&c, in, f, &err) != HIVE_OK)
		fail_msg("hive_check_session: %s", err.msg);
	assert_int_equal(hive_findings_finish(f, 0), 0);
	res.errors = hive_findings_errors(f);
	res.warnings = hive_findings_warnings(f);
	hive_findings_free(f);
	fclose(out);
	hive_redactor_free(c.red);
	hive_config_free(&cfg);
	return res;
}

/* The findings are exactly want, with that many errors and warnings. */
static void expect(struct result res, const char *want, size_t errors, size_t warnings)
{
	if (strcmp(res.text, want))
		show_mismatch("findings", res.text, want);
	assert_int_equal(res.errors, errors);
	assert_int_equal(res.warnings, warnings);
	free(res.text);
}

static void check_expect(const char *yaml, struct logb *b, const char *state, int metrics,
			 const char *want, size_t errors, size_t warnings)
{
	struct hive_check_input in = input(b, state, metrics);

	expect(run_yaml(yaml, &in), want, errors, warnings);
	hive_buf_free(&b->text);
}

/* --- signature: CHECKPOINT against the log (signatures: tests/bats/signature.bats) --- */

/* A CHECKPOINT of b at its line n (whose hash is hash). */
static void checkpoint_of(char *out, size_t size, int n, const char *hash)
{
	snprintf(out, size, "hive-checkpoint/v1\nsession s1\nlog EVENTS.jsonl %d %s\n", n, hash);
}

/* A checker given no verifier (integrity's: hive-emit and hive-init link no public-key code)
 * never passes a signature it meets: the signature is an error, not a silent success. */
static void test_signature_without_verifier(void **state)
{
	static const char sig[] =
		"-----BEGIN SSH SIGNATURE-----\n"
		"U1NIU0lHAAAAAQAAADMAAAALc3NoLWVkMjU1MTkAAAAg7//DIlOxaAcHff76gxtedIhJ59\n"
		"R7E7kB6ewlpCsTh0QAAAAPaGl2ZS1jaGVja3BvaW50AAAAAAAAAAZzaGE1MTIAAABTAAAA\n"
		"C3NzaC1lZDI1NTE5AAAAQBuxQUX9iG5EByAEhyrf5U38N1b8reQQfgT/H/McWUrtFZ6Rhz\n"
		"5TlYyR42LfJ9rWI9M6V+0vnICp7FY9Im7jfwo=\n"
		"-----END SSH SIGNATURE-----\n";
	struct hive_check_input in;
	struct logb b;
	char cp[256];

	(void)state;
	start(&b);
	add_event(&b, "2025-01-15T10:31:00.000Z", "pipeline_updated", OK_DETAILS);
	checkpoint_of(cp, sizeof(cp), 2, b.prev);
	in = input(&b, state_for(&b, "active"), 0);
	in.checkpoint_buf = cp;
	in.checkpoint_len = strlen(cp);
	in.signature_buf = sig;
	in.signature_len = sizeof(sig) - 1;
	expect(run_yaml(NULL, &in),
	       "s/s1/CHECKPOINT.sig:1: error: [signature] the signature by ssh-ed25519 "
	       "SHA256:apd/sQmFrC1y04F3keinzNpmNjoZrHloYxw+uF+Oz3M was not verified: this check "
	       "has no verifier\n",
	       1, 0);
	hive_buf_free(&b.text);
}

static void test_signature_checkpoint(void **state)
{
	struct hive_check_input in;
	struct logb b;
	char cp[256], at2[HIVE_HASH_SIZE];

	(void)state;
	start(&b);
	add_event(&b, "2025-01-15T10:31:00.000Z", "pipeline_updated", OK_DETAILS);
	memcpy(at2, b.prev, sizeof(at2));
	checkpoint_of(cp, sizeof(cp), 2, at2);
	/* a prefix of an active session: the log may have grown past it */
	add_event(&b, "2025-01-15T10:32:00.000Z", "pipeline_updated", OK_DETAILS);
	in = input(&b, state_for(&b, "active"), 0);
	in.checkpoint_buf = cp;
	in.checkpoint_len = strlen(cp);
	expect(run_yaml(NULL, &in), "", 0, 0);
	/* of a completed session, it must cover the whole log */
	complete(&b, "2025-01-15T10:33:00.000Z");
	in = input(&b, state_for(&b, "completed"), 1);
	in.checkpoint_buf = cp;
	in.checkpoint_len = strlen(cp);
	expect(run_yaml(NULL, &in),
	       "s/s1/CHECKPOINT:3: error: [signature] EVENTS.jsonl grew past the checkpoint (4 "
	       "lines, CHECKPOINT says 2): a completed session's checkpoint covers all of it\n",
	       1, 0);
	/* another session's, one further than the log, a malformed one */
	checkpoint_of(cp, sizeof(cp), 4, b.prev);
	cp[28] = '2'; /* "session s2" */
	in.checkpoint_len = strlen(cp);
	expect(run_yaml(NULL, &in),
	       "s/s1/CHECKPOINT:2: error: [signature] CHECKPOINT names session \"s2\", the folder "
	       "is s1\n",
	       1, 0);
	checkpoint_of(cp, sizeof(cp), 5, b.prev);
	in.checkpoint_len = strlen(cp);
	expect(run_yaml(NULL, &in),
	       "s/s1/CHECKPOINT:3: error: [signature] CHECKPOINT says EVENTS.jsonl has 5 lines, it "
	       "has 4: the log was cut short\n",
	       1, 0);
	in.checkpoint_buf = "hive-checkpoint/v1\n";
	in.checkpoint_len = 19;
	expect(run_yaml(NULL, &in),
	       "s/s1/CHECKPOINT:2: error: [signature] CHECKPOINT is malformed: no log: "
	       "EVENTS.jsonl "
	       "must be listed\n",
	       1, 0);
	/* a signature file with nothing to sign; policy.require_signed without signers */
	in.checkpoint_buf = NULL;
	in.signature_buf = "";
	expect(run_yaml("policy:\n  require_signed: 1\n", &in),
	       "s/s1/CHECKPOINT.sig: error: [signature] CHECKPOINT.sig without a CHECKPOINT: "
	       "nothing "
	       "it could sign\n"
	       "s/s1/CHECKPOINT: error: [policy.require_signed] policy.require_signed needs "
	       "trust.allowed_signers to say whose signatures count\n",
	       2, 0);
	hive_buf_free(&b.text);
}

/* --- hive_check_rules --------------------------------------------------------------- */

static void test_rules_without_config(void **state)
{
	const char *names[HIVE_CHECK_RULES_MAX] = {0};

	(void)state;
	assert_int_equal(hive_check_rules(NULL, names), 8);
	assert_string_equal(names[0], "json");
	assert_string_equal(names[1], "schema");
	assert_string_equal(names[2], "chain");
	assert_string_equal(names[3], "protocol");
	assert_string_equal(names[4], "state");
	assert_string_equal(names[5], "order");
	assert_string_equal(names[6], "secrets");
	assert_string_equal(names[7], "signature");
	assert_null(names[8]);
}

static void test_rules_with_policies(void **state)
{
	static const char *want[] = {
		"json",
		"schema",
		"chain",
		"protocol",
		"state",
		"order",
		"secrets",
		"signature",
		"policy.require_clean_tree",
		"policy.require_ci",
		"policy.require_tags",
		"policy.require_events",
		"policy.require_rollback",
		"policy.max_session_minutes",
		"policy.require_signed",
	};
	const char *names[HIVE_CHECK_RULES_MAX] = {0};
	struct hive_config cfg;
	struct hive_err err = {0};
	static const char yaml[] = "policy:\n"
				   "  require_clean_tree: [deployment_configured]\n"
				   "  require_ci: [deployment_configured]\n"
				   "  require_tags: [team]\n"
				   "  require_events: [security_hardened]\n"
				   "  require_rollback: true\n"
				   "  max_session_minutes: 10\n"
				   "  require_signed: 1\n";
	size_t i, n;

	(void)state;
	hive_config_init(&cfg);
	assert_int_equal(hive_config_parse(&cfg, ".hive.yml", yaml, strlen(yaml), &err), HIVE_OK);
	n = hive_check_rules(&cfg, names);
	assert_int_equal(n, 15);
	for (i = 0; i < n; i++)
		assert_string_equal(names[i], want[i]);
	hive_config_free(&cfg);

	/* a config without policies, or with them switched off, adds none */
	hive_config_init(&cfg);
	assert_int_equal(hive_config_parse(&cfg, ".hive.yml",
					   "policy:\n  require_rollback: false\n", 34, &err),
			 HIVE_OK);
	assert_int_equal(hive_check_rules(&cfg, names), 8);
	hive_config_free(&cfg);
}

/* --- a sound session: nothing to say ------------------------------------------------- */

static void test_sound_session(void **state)
{
	struct logb b;

	(void)state;
	start(&b);
	add_event(&b, "2025-01-15T10:31:00.000Z", "deployment_configured", OK_DETAILS);
	check_expect(NULL, &b, state_for(&b, "active"), 0, "", 0, 0);

	start(&b);
	add_event(&b, "2025-01-15T10:31:00.000Z", "deployment_configured", OK_DETAILS);
	complete(&b, "2025-01-15T10:32:00.000Z");
	check_expect(NULL, &b, state_for(&b, "completed"), 1, "", 0, 0);
}

/* The same log read from a descriptor instead of a buffer. */
static void test_sound_session_from_fd(void **state)
{
	struct hive_check_input in;
	struct logb b;
	FILE *tmp = tmpfile();

	(void)state;
	assert_non_null(tmp);
	start(&b);
	add_event(&b, "2025-01-15T10:31:00.000Z", "pipeline_updated", OK_DETAILS);
	assert_int_equal(fwrite(b.text.p, 1, b.text.len, tmp), b.text.len);
	assert_int_equal(fflush(tmp), 0);
	assert_int_equal(lseek(fileno(tmp), 0, SEEK_SET), 0);
	in = input(&b, state_for(&b, "active"), 0);
	in.events_fd = fileno(tmp);
	in.events_buf = NULL;
	expect(run_yaml(NULL, &in), "", 0, 0);
	fclose(tmp);
	hive_buf_free(&b.text);
}

/* --- json --------------------------------------------------------------------------- */

static void test_rule_json(void **state)
{
	struct logb b;

	(void)state;
	start(&b);
	add_line(&b, "{\"seq\":2,");
	add_line(&b, "[1,2]");
	check_expect(
		NULL, &b, state_with(&b, "active", 3, 1), 0,
		EVENTS
		":2: error: [json] not valid JSON: byte 10: the text ends inside an object\n" EVENTS
		":3: error: [json] not a JSON object\n",
		2, 0);
}

/* The file ends without a newline: the last line is cut off (hive-check --repair). */
static void test_rule_json_no_newline(void **state)
{
	struct logb b;

	(void)state;
	start(&b);
	add_event(&b, "2025-01-15T10:31:00.000Z", "pipeline_updated", OK_DETAILS);
	b.text.p[--b.text.len] = '\0';
	check_expect(NULL, &b, state_for(&b, "active"), 0,
		     EVENTS ":2: error: [json] the file does not end with a newline: the last "
			    "line is cut off (hive-check --repair moves it aside)\n",
		     1, 0);
}

/* A line over 1 MiB is reported, and the next line's prev cannot be checked against it. */
static void test_rule_json_too_long(void **state)
{
	struct logb b;
	char *big = malloc(LINE_MAX_BYTES + 2);

	(void)state;
	assert_non_null(big);
	memset(big, 'x', LINE_MAX_BYTES + 1);
	big[LINE_MAX_BYTES + 1] = '\0';
	start(&b);
	add_line(&b, big);
	add_event(&b, "2025-01-15T10:31:00.000Z", "pipeline_updated", OK_DETAILS);
	free(big);
	check_expect(NULL, &b, state_for(&b, "active"), 0,
		     EVENTS ":2: error: [json] the line is longer than 1048576 bytes\n", 1, 0);
}

/* --- schema ------------------------------------------------------------------------- */

static void test_rule_schema(void **state)
{
	struct logb b;

	(void)state;
	start(&b);
	add_event(&b, "2025-01-15T10:31:00.000Z", "deployment_configured",
		  "{\"resource\":\"api\",\"action\":\"destroy\",\"platform\":\"K8s\","
		  "\"configuration\":{},\"status\":\"success\"}");
	add_event(&b, "2025-01-15T10:32:00.000Z", "made_up", OK_DETAILS);
	check_expect(NULL, &b, state_for(&b, "active"), 0,
		     EVENTS ":2: error: [schema] details.action: \"destroy\" is not one of "
			    "create, update, delete\n" EVENTS
			    ":3: error: [schema] event_type: \"made_up\" is not one of "
			    "deployment_configured, infrastructure_provisioned, pipeline_updated, "
			    "monitoring_added, security_hardened, incident_detected, "
			    "incident_responded, incident_resolved, metric_recorded, tool_used "
			    "(add types with events.types in .hive.yml)\n",
		     2, 0);
}

/* events.types and events.platforms from the config extend the schema the gate uses. */
static void test_rule_schema_configured_types(void **state)
{
	struct logb b;

	(void)state;
	start(&b);
	add_event(&b, "2025-01-15T10:31:00.000Z", "cost_reviewed",
		  "{\"resource\":\"api\",\"action\":\"update\",\"platform\":\"Hetzner\","
		  "\"configuration\":{},\"status\":\"success\"}");
	check_expect("events:\n  types: [cost_reviewed]\n  platforms: [Hetzner]\n", &b,
		     state_for(&b, "active"), 0, "", 0, 0);
}

/* --- chain -------------------------------------------------------------------------- */

static void test_rule_chain_seq(void **state)
{
	struct logb b;

	(void)state;
	start(&b);
	b.n++; /* the next event says seq 3: line 2 was removed */
	add_event(&b, "2025-01-15T10:31:00.000Z", "pipeline_updated", OK_DETAILS);
	add_event(&b, "2025-01-15T10:32:00.000Z", "pipeline_updated", OK_DETAILS);
	/* one finding per break: seq 4 after 3 is in step again */
	check_expect(NULL, &b, state_with(&b, "active", 3, 4), 0,
		     EVENTS ":2: error: [chain] seq is 3, expected 2 (a line was removed, "
			    "inserted, duplicated or moved)\n",
		     1, 0);
}

static void test_rule_chain_prev(void **state)
{
	struct logb b;
	char want[1024], h[HIVE_HASH_SIZE];
	const char *l2;

	(void)state;
	start(&b);
	add_event(&b, "2025-01-15T10:31:00.000Z", "pipeline_updated", OK_DETAILS);
	/* line 2 edited after the fact ("api" to "Xpi"): line 3's prev no longer matches */
	b.text.p[strstr(b.text.p, "\"api\"") - b.text.p + 1] = 'X';
	add_event(&b, "2025-01-15T10:32:00.000Z", "pipeline_updated", OK_DETAILS);
	/* the message names the hash of line 2 as it now is */
	l2 = strchr(b.text.p, '\n') + 1;
	hive_sha256(l2, (size_t)(strchr(l2, '\n') - l2), h);
	snprintf(want, sizeof(want),
		 EVENTS ":3: error: [chain] prev does not match the SHA-256 of line 2 (%s): that "
			"line was edited, or lines were removed, inserted or reordered\n",
		 h);
	check_expect(NULL, &b, state_for(&b, "active"), 0, want, 1, 0);
}

static void test_rule_chain_first_prev(void **state)
{
	struct logb b;

	(void)state;
	memset(&b, 0, sizeof(b));
	add_line(&b, "{\"seq\":1,\"timestamp\":\"2025-01-15T10:30:00.000Z\",\"event_type\":"
		     "\"session_started\",\"worker\":\"devops-worker\",\"session_id\":\"s1\","
		     "\"details\":{\"requirements\":{}},\"git\":null,\"ci\":null,\"prev\":\"sha256:"
		     "0000000000000000000000000000000000000000000000000000000000000000\"}");
	check_expect(NULL, &b, state_for(&b, "active"), 0,
		     EVENTS ":1: error: [chain] line 1 must have prev null\n", 1, 0);
}

/* --- protocol ----------------------------------------------------------------------- */

static void test_rule_protocol_first_line(void **state)
{
	struct logb b;

	(void)state;
	memset(&b, 0, sizeof(b));
	add_event(&b, "2025-01-15T10:30:00.000Z", "pipeline_updated", OK_DETAILS);
	add_event(&b, "2025-01-15T10:31:00.000Z", "session_started", "{\"requirements\":{}}");
	check_expect(NULL, &b, state_for(&b, "active"), 0,
		     EVENTS ":1: error: [protocol] line 1 must be session_started, found "
			    "\"pipeline_updated\"\n" EVENTS
			    ":2: error: [protocol] session_started again (only line 1 may start "
			    "the session)\n",
		     2, 0);
}

static void test_rule_protocol_after_completed(void **state)
{
	struct logb b;

	(void)state;
	start(&b);
	complete(&b, "2025-01-15T10:31:00.000Z");
	add_event(&b, "2025-01-15T10:32:00.000Z", "pipeline_updated", OK_DETAILS);
	check_expect(NULL, &b, state_for(&b, "completed"), 1,
		     EVENTS ":3: error: [protocol] an event after session_completed (line 2)\n", 1,
		     0);
}

static void test_rule_protocol_completed_without_metrics(void **state)
{
	struct logb b;

	(void)state;
	start(&b);
	complete(&b, "2025-01-15T10:31:00.000Z");
	check_expect(NULL, &b, state_for(&b, "completed"), 0,
		     DIR "/METRICS.json: error: [protocol] the session is completed but has no "
			 "METRICS.json\n",
		     1, 0);
}

static void test_rule_protocol_ids(void **state)
{
	struct logb b;

	(void)state;
	start(&b);
	add_event_as(&b, "s2", "devops-worker", "2025-01-15T10:31:00.000Z", "pipeline_updated",
		     OK_DETAILS, "null", "null");
	add_event_as(&b, "s1", "other-worker", "2025-01-15T10:32:00.000Z", "pipeline_updated",
		     OK_DETAILS, "null", "null");
	check_expect(NULL, &b, state_for(&b, "active"), 0,
		     EVENTS ":2: error: [protocol] session_id \"s2\" does not match the session "
			    "folder s1\n" EVENTS
			    ":3: error: [protocol] worker \"other-worker\" does not match the "
			    "session's worker devops-worker\n",
		     2, 0);
}

static void test_rule_protocol_empty_log(void **state)
{
	struct logb b;

	(void)state;
	memset(&b, 0, sizeof(b));
	check_expect(NULL, &b,
		     "{\"session_id\":\"s1\",\"status\":\"active\",\"events\":{\"count\":0,"
		     "\"last_seq\":0,\"last_hash\":null}}",
		     0,
		     EVENTS ": error: [protocol] the log is empty: line 1 must be "
			    "session_started\n",
		     1, 0);
}

static void test_rule_protocol_folder(void **state)
{
	struct hive_check_input in;
	struct logb b;

	(void)state;
	memset(&b, 0, sizeof(b));
	in = input(&b, NULL, 0);
	in.is_symlink = 1;
	expect(run_yaml(NULL, &in),
	       DIR ": error: [protocol] the session folder is a symbolic link (refused)\n", 1, 0);
	in.is_symlink = 0;
	in.events_missing = 1;
	expect(run_yaml(NULL, &in), EVENTS ": error: [protocol] the session has no EVENTS.jsonl\n",
	       1, 0);
}

/* --- state -------------------------------------------------------------------------- */

static void test_rule_state_missing_or_broken(void **state)
{
	struct logb b;

	(void)state;
	start(&b);
	check_expect(NULL, &b, NULL, 0,
		     STATE ": error: [state] STATE.json is missing (hive-check --repair rebuilds "
			   "it from the log)\n",
		     1, 0);
	start(&b);
	check_expect(NULL, &b, "[]", 0,
		     STATE ":1: error: [state] STATE.json is not a JSON object (hive-check "
			   "--repair rebuilds it)\n",
		     1, 0);
	start(&b);
	check_expect(NULL, &b, "{\"session_id\":", 0,
		     STATE ":1: error: [state] STATE.json is not a JSON object (hive-check "
			   "--repair rebuilds it)\n",
		     1, 0);
}

static void test_rule_state_disagrees(void **state)
{
	struct logb b;
	char want[2048];

	(void)state;
	start(&b);
	add_event(&b, "2025-01-15T10:31:00.000Z", "pipeline_updated", OK_DETAILS);
	snprintf(want, sizeof(want),
		 STATE
		 ":1: error: [state] session_id s9 does not match the folder s1\n" STATE
		 ":1: error: [state] events.count is 1e+300, the log has 2 lines\n" STATE
		 ":1: error: [state] events.last_seq is missing, the log's last seq is 2\n" STATE
		 ":1: error: [state] events.last_hash does not match the log's last line "
		 "(%s)\n" STATE ":1: error: [state] status is completed, the log says active\n",
		 b.prev);
	check_expect(NULL, &b,
		     "{\"session_id\":\"s9\",\"status\":\"completed\",\"events\":{\"count\":1e300,"
		     "\"last_hash\":\"sha256:00\"}}",
		     0, want, 5, 0);
}

/* A session completed with status failure is `failed` in STATE.json. */
static void test_rule_state_failed_status(void **state)
{
	struct logb b;

	(void)state;
	start(&b);
	add_event(&b, "2025-01-15T10:31:00.000Z", "session_completed", "{\"status\":\"failure\"}");
	check_expect(NULL, &b, state_for(&b, "failed"), 1, "", 0, 0);
	start(&b);
	add_event(&b, "2025-01-15T10:31:00.000Z", "session_completed", "{\"status\":\"failure\"}");
	check_expect(NULL, &b, state_for(&b, "completed"), 1,
		     STATE ":1: error: [state] status is completed, the log says failed\n", 1, 0);
}

/* A bare log (FILE… or -) has no folder: no STATE.json, METRICS.json or folder checks. */
static void test_bare_log(void **state)
{
	struct hive_check_input in;
	struct logb b;

	(void)state;
	start(&b);
	complete(&b, "2025-01-15T10:31:00.000Z");
	in = input(&b, NULL, 0);
	in.session = NULL;
	in.dir_shown = NULL;
	in.events_shown = "-";
	expect(run_yaml(NULL, &in), "", 0, 0);
	hive_buf_free(&b.text);
}

/* --- order -------------------------------------------------------------------------- */

static void test_rule_order(void **state)
{
	struct logb b;

	(void)state;
	start(&b);
	add_event(&b, "2025-01-15T10:35:00.000Z", "pipeline_updated", OK_DETAILS);
	add_event(&b, "2025-01-15T10:34:59.999Z", "pipeline_updated", OK_DETAILS);
	add_event(&b, "2025-01-15T10:34:59.999Z", "pipeline_updated", OK_DETAILS); /* equal: fine */
	check_expect(NULL, &b, state_for(&b, "active"), 0,
		     EVENTS ":3: warning: [order] timestamp 2025-01-15T10:34:59.999Z is earlier "
			    "than the line before\n",
		     0, 1);
}

/* --- secrets ------------------------------------------------------------------------ */

static void test_rule_secrets_token_shape(void **state)
{
	struct logb b;

	(void)state;
	start(&b);
	add_event(&b, "2025-01-15T10:31:00.000Z", "pipeline_updated",
		  "{\"resource\":\"api\",\"action\":\"update\",\"platform\":\"K8s\","
		  "\"configuration\":{\"note\":\"ghp_abcdefghijklmnopqrstuvwxyz0123456789\"},"
		  "\"status\":\"success\"}");
	/* column: 1-based offset of ghp_ in line 2 */
	{
		const char *l2 = strchr(b.text.p, '\n') + 1;
		char want[512];

		snprintf(want, sizeof(want),
			 EVENTS
			 ":2: error: [secrets] an unredacted secret (github_token) at column "
			 "%d\n",
			 (int)(strstr(l2, "ghp_") - l2 + 1));
		assert_int_equal(strstr(l2, "ghp_") - l2 + 1, 212);
		check_expect(NULL, &b, state_for(&b, "active"), 0, want, 1, 0);
	}
}

/* A token whose characters are written as JSON escapes ("gh\u0070_…") is a token once
 * decoded (jq shows it): the secrets rule looks at decoded strings as well as raw bytes
 * (SPEC 5.3; DESIGN: "secrets looked for in decoded strings as well as raw bytes"). */
static void test_rule_secrets_escaped_token(void **state)
{
	struct hive_check_input in;
	struct result res;
	struct logb b;

	(void)state;
	start(&b);
	add_event(&b, "2025-01-15T10:31:00.000Z", "pipeline_updated",
		  "{\"resource\":\"api\",\"action\":\"update\",\"platform\":\"K8s\","
		  "\"configuration\":{\"note\":\"gh\\u0070_abcdefghijklmnopqrstuvwxyz0123456789\"},"
		  "\"status\":\"success\"}");
	in = input(&b, state_for(&b, "active"), 0);
	res = run_yaml(NULL, &in);
	/* a secrets error on line 2, and nothing else */
	if (strcmp(res.text, EVENTS ":2: error: [secrets] an unredacted secret (github_token) in "
				    "the value of note\n"))
		show_mismatch("findings", res.text, EVENTS ":2: error: [secrets] ...\n");
	assert_int_equal(res.errors, 1);
	free(res.text);
	hive_buf_free(&b.text);
}

/* Regression (fuzz_redact): the bytes of an escape spell what no string holds: in
 * "d\u000b://b@a:b@c" the raw bytes read a URL "b://b@a:b@c", the string holds a control
 * character and no scheme. A line with escapes is looked at decoded: no finding. */
static void test_rule_secrets_escape_spells_nothing(void **state)
{
	struct logb b;

	(void)state;
	start(&b);
	add_event(&b, "2025-01-15T10:31:00.000Z", "pipeline_updated",
		  "{\"resource\":\"api\",\"action\":\"update\",\"platform\":\"K8s\","
		  "\"configuration\":{\"note\":\"d\\u000b://b@a:b@c\"},\"status\":\"success\"}");
	check_expect(NULL, &b, state_for(&b, "active"), 0, "", 0, 0);
}

/* "\/" hides "://" from the raw bytes: URL credentials are found in the decoded string. */
static void test_rule_secrets_escaped_url(void **state)
{
	struct logb b;

	(void)state;
	start(&b);
	add_event(&b, "2025-01-15T10:31:00.000Z", "pipeline_updated",
		  "{\"resource\":\"api\",\"action\":\"update\",\"platform\":\"K8s\","
		  "\"configuration\":{\"db\":\"postgres:\\/\\/app:hunter2@db\\/x\"},"
		  "\"status\":\"success\"}");
	check_expect(NULL, &b, state_for(&b, "active"), 0,
		     EVENTS ":2: error: [secrets] an unredacted secret (url_credentials) in the "
			    "value of db\n",
		     1, 0);
}

/* A redact.patterns entry that matches hex never makes the gate call hive's own prev or
 * last_hash a secret; it still finds what users wrote. */
static void test_rule_secrets_pattern_spares_ids(void **state)
{
	struct logb b;

	(void)state;
	start(&b);
	add_event(&b, "2025-01-15T10:31:00.000Z", "pipeline_updated",
		  "{\"resource\":\"api\",\"action\":\"update\",\"platform\":\"K8s\","
		  "\"configuration\":{\"image\":\"api:1\"},\"status\":\"success\"}");
	check_expect("redact:\n  patterns: ['[0-9a-f]{32}']\n", &b, state_for(&b, "active"), 0, "",
		     0, 0);
	start(&b);
	add_event(&b, "2025-01-15T10:32:00.000Z", "pipeline_updated",
		  "{\"resource\":\"api\",\"action\":\"update\",\"platform\":\"K8s\","
		  "\"configuration\":{\"build\":\"0123456789abcdef0123456789abcdef\"},"
		  "\"status\":\"success\"}");
	check_expect("redact:\n  patterns: ['[0-9a-f]{32}']\n", &b, state_for(&b, "active"), 0,
		     EVENTS ":2: error: [secrets] an unredacted secret (pattern) in the value of "
			    "build\n",
		     1, 0);
}

/* STATE.json is scanned too: a token in it (here in the git context) is an error, found in
 * its raw bytes, or in its decoded strings when escaped. */
static void test_rule_secrets_state_file(void **state)
{
	struct hive_check_input in;
	struct result res;
	struct logb b;
	char st[2048];

	(void)state;
	start(&b);
	snprintf(st, sizeof(st),
		 "{\"git\":{\"branch\":\"ghp_abcdefghijklmnopqrstuvwxyz0123456789\"},%s",
		 state_for(&b, "active") + 1);
	in = input(&b, st, 0);
	res = run_yaml(NULL, &in);
	if (strcmp(res.text, DIR "/STATE.json:1: error: [secrets] an unredacted secret "
				 "(github_token) at column 19\n"))
		show_mismatch("findings", res.text, DIR "/STATE.json:1: error: [secrets] ...");
	free(res.text);
	snprintf(st, sizeof(st),
		 "{\"git\":{\"branch\":\"gh\\u0070_abcdefghijklmnopqrstuvwxyz0123456789\"},%s",
		 state_for(&b, "active") + 1);
	in = input(&b, st, 0);
	res = run_yaml(NULL, &in);
	if (strcmp(res.text, DIR "/STATE.json:1: error: [secrets] an unredacted secret "
				 "(github_token) in the value of branch\n"))
		show_mismatch("findings", res.text, DIR "/STATE.json:1: error: [secrets] ...");
	free(res.text);
	hive_buf_free(&b.text);
}

static void test_rule_secrets_key_name(void **state)
{
	struct logb b;

	(void)state;
	start(&b);
	add_event(&b, "2025-01-15T10:31:00.000Z", "pipeline_updated",
		  "{\"resource\":\"api\",\"action\":\"update\",\"platform\":\"K8s\","
		  "\"configuration\":{\"db\":{\"password\":\"hunter2\"},\"api_key\":\"[REDACTED]\","
		  "\"token\":null,\"corp\":\"x\"},\"status\":\"success\"}");
	check_expect("redact:\n  keys: [corp]\n", &b, state_for(&b, "active"), 0,
		     EVENTS ":2: error: [secrets] password holds a value that was not redacted "
			    "(secret key name)\n" EVENTS
			    ":2: error: [secrets] corp holds a value that was not redacted (secret "
			    "key name)\n",
		     2, 0);
}

/* --- policies ----------------------------------------------------------------------- */

static void test_policy_require_clean_tree(void **state)
{
	struct logb b;

	(void)state;
	start(&b);
	add_event_as(&b, "s1", "devops-worker", "2025-01-15T10:31:00.000Z", "deployment_configured",
		     OK_DETAILS, CLEAN_GIT, "null");
	add_event_as(&b, "s1", "devops-worker", "2025-01-15T10:32:00.000Z", "deployment_configured",
		     OK_DETAILS,
		     "{\"commit\":null,\"branch\":\"main\",\"dirty\":true,\"tag\":null,"
		     "\"remote\":null}",
		     "null");
	add_event_as(&b, "s1", "devops-worker", "2025-01-15T10:33:00.000Z", "deployment_configured",
		     OK_DETAILS,
		     "{\"commit\":null,\"branch\":\"main\",\"dirty\":null,\"tag\":null,"
		     "\"remote\":null}",
		     "null");
	add_event(&b, "2025-01-15T10:34:00.000Z", "deployment_configured", OK_DETAILS);
	/* a type the policy does not name: whatever its tree */
	add_event(&b, "2025-01-15T10:35:00.000Z", "pipeline_updated", OK_DETAILS);
	check_expect("policy:\n  require_clean_tree: [deployment_configured]\n", &b,
		     state_for(&b, "active"), 0,
		     EVENTS ":3: error: [policy.require_clean_tree] deployment_configured was "
			    "recorded from a dirty work tree (policy: require_clean_tree)\n" EVENTS
			    ":4: error: [policy.require_clean_tree] deployment_configured was "
			    "recorded from a possibly dirty (git.dirty is null) work tree (policy: "
			    "require_clean_tree)\n" EVENTS
			    ":5: error: [policy.require_clean_tree] deployment_configured was "
			    "recorded from a possibly dirty (git.dirty is null) work tree (policy: "
			    "require_clean_tree)\n",
		     3, 0);
}

static void test_policy_require_ci(void **state)
{
	struct logb b;

	(void)state;
	start(&b);
	add_event_as(&b, "s1", "devops-worker", "2025-01-15T10:31:00.000Z", "deployment_configured",
		     OK_DETAILS, "null", GH_CI);
	add_event(&b, "2025-01-15T10:32:00.000Z", "deployment_configured", OK_DETAILS);
	add_event(&b, "2025-01-15T10:33:00.000Z", "pipeline_updated", OK_DETAILS);
	check_expect("policy:\n  require_ci: [deployment_configured]\n", &b,
		     state_for(&b, "active"), 0,
		     EVENTS ":3: error: [policy.require_ci] deployment_configured was recorded "
			    "outside CI (policy: require_ci)\n",
		     1, 0);
}

static void test_policy_require_tags(void **state)
{
	struct logb b;

	(void)state;
	start(&b);
	add_event(&b, "2025-01-15T10:31:00.000Z", "infrastructure_provisioned",
		  "{\"resource\":\"vpc\",\"action\":\"create\",\"platform\":\"AWS\","
		  "\"configuration\":{\"tags\":{\"team\":\"infra\",\"cost-center\":\"42\"}},"
		  "\"status\":\"success\"}");
	add_event(&b, "2025-01-15T10:32:00.000Z", "infrastructure_provisioned",
		  "{\"resource\":\"db\",\"action\":\"update\",\"platform\":\"AWS\","
		  "\"configuration\":{\"tags\":{\"team\":\"\"}},\"status\":\"success\"}");
	/* deleting a resource needs no tags; neither does a non-change event */
	add_event(&b, "2025-01-15T10:33:00.000Z", "infrastructure_provisioned",
		  "{\"resource\":\"old\",\"action\":\"delete\",\"platform\":\"AWS\","
		  "\"configuration\":{},\"status\":\"success\"}");
	add_event(&b, "2025-01-15T10:34:00.000Z", "metric_recorded",
		  "{\"configuration\":{\"name\":\"cost\",\"value\":1,\"unit\":\"usd\"}}");
	check_expect("policy:\n  require_tags: [team, cost-center]\n", &b, state_for(&b, "active"),
		     0,
		     EVENTS ":3: error: [policy.require_tags] infrastructure_provisioned of db has "
			    "no configuration.tags.team (policy: require_tags)\n" EVENTS
			    ":3: error: [policy.require_tags] infrastructure_provisioned of db has "
			    "no configuration.tags.cost-center (policy: require_tags)\n",
		     2, 0);
}

static void test_policy_require_events(void **state)
{
	static const char yaml[] = "policy:\n  require_events: [security_hardened, "
				   "monitoring_added]\n";
	struct logb b;

	(void)state;
	start(&b);
	add_event(&b, "2025-01-15T10:31:00.000Z", "monitoring_added", OK_DETAILS);
	complete(&b, "2025-01-15T10:32:00.000Z");
	check_expect(yaml, &b, state_for(&b, "completed"), 1,
		     EVENTS ":3: error: [policy.require_events] the completed session has no "
			    "security_hardened event (policy: require_events)\n",
		     1, 0);
	/* an active session may still add them */
	start(&b);
	check_expect(yaml, &b, state_for(&b, "active"), 0, "", 0, 0);
}

static void test_policy_require_rollback(void **state)
{
	static const char yaml[] = "policy:\n  require_rollback: true\n";
	struct logb b;

	(void)state;
	start(&b);
	add_event(&b, "2025-01-15T10:31:00.000Z", "deployment_configured",
		  "{\"resource\":\"api\",\"action\":\"update\",\"platform\":\"K8s\","
		  "\"configuration\":{\"rollback\":\"helm rollback api\"},\"status\":\"success\"}");
	add_event(&b, "2025-01-15T10:32:00.000Z", "deployment_configured",
		  "{\"resource\":\"api\",\"action\":\"update\",\"platform\":\"K8s\","
		  "\"configuration\":{\"rollback\":{}},\"status\":\"success\"}");
	add_event(&b, "2025-01-15T10:33:00.000Z", "deployment_configured", OK_DETAILS);
	add_event(&b, "2025-01-15T10:34:00.000Z", "pipeline_updated", OK_DETAILS);
	check_expect(yaml, &b, state_for(&b, "active"), 0,
		     EVENTS ":3: error: [policy.require_rollback] deployment_configured has no "
			    "configuration.rollback (policy: require_rollback)\n" EVENTS
			    ":4: error: [policy.require_rollback] deployment_configured has no "
			    "configuration.rollback (policy: require_rollback)\n",
		     2, 0);
}

static void test_policy_max_session_minutes(void **state)
{
	static const char yaml[] = "policy:\n  max_session_minutes: 10\n";
	struct logb b;

	(void)state;
	/* exactly ten minutes: allowed */
	start(&b);
	complete(&b, "2025-01-15T10:40:00.000Z");
	check_expect(yaml, &b, state_for(&b, "completed"), 1, "", 0, 0);
	/* a millisecond more: eleven minutes, rounded up */
	start(&b);
	complete(&b, "2025-01-15T10:40:00.001Z");
	check_expect(yaml, &b, state_for(&b, "completed"), 1,
		     EVENTS ":2: error: [policy.max_session_minutes] the session took 11 minutes, "
			    "more than 10 (policy: max_session_minutes)\n",
		     1, 0);
}

/* --- the cap: at most 50 findings per rule, then a count ----------------------------- */

static void test_cap_per_rule(void **state)
{
	struct hive_check_input in;
	struct result res;
	struct logb b;
	const char *last;
	int i;

	(void)state;
	start(&b);
	for (i = 0; i < 60; i++)
		add_line(&b, "x");
	in = input(&b, state_for(&b, "active"), 0);
	res = run_yaml(NULL, &in);
	last = strrchr(res.text, '\n');
	assert_non_null(last);
	while (last > res.text && last[-1] != '\n')
		last--;
	assert_string_equal(last, EVENTS ": error: [json] 10 more json findings not shown\n");
	assert_non_null(
		strstr(res.text, EVENTS
		       ":51: error: [json] not valid JSON: byte 1: unexpected character 'x'\n"));
	assert_null(strstr(res.text, EVENTS ":52: error"));
	/* 50 shown and the summary; the log's last seq stayed 1 */
	assert_int_equal(res.errors, 52);
	free(res.text);
	hive_buf_free(&b.text);
}

/* --- a log that cannot be read ------------------------------------------------------ */

static void test_unreadable_log(void **state)
{
	struct hive_checker c = {0};
	struct hive_check_input in;
	struct hive_findings *f = NULL;
	struct hive_err err = {0};
	struct logb b;
	FILE *out = tmpfile();
	int dirfd = open(".", O_RDONLY | O_DIRECTORY);

	(void)state;
	assert_true(dirfd >= 0);
	assert_non_null(out);
	memset(&b, 0, sizeof(b));
	assert_int_equal(hive_redactor_new(NULL, &c.red, &err), HIVE_OK);
	assert_int_equal(hive_findings_new("text", out, 0, &f, &err), HIVE_OK);
	in = input(&b, NULL, 0);
	in.events_fd = dirfd; /* read(2) on a directory: EISDIR */
	assert_int_equal(hive_check_session(&c, &in, f, &err), HIVE_EENV);
	assert_int_equal(err.status, HIVE_EENV);
	assert_int_equal(strncmp(err.msg, EVENTS ": ", strlen(EVENTS) + 2), 0);
	assert_non_null(strstr(err.msg, "Is a directory"));
	hive_findings_free(f);
	hive_redactor_free(c.red);
	fclose(out);
	close(dirfd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_signature_checkpoint),
		cmocka_unit_test(test_signature_without_verifier),
		cmocka_unit_test(test_rules_without_config),
		cmocka_unit_test(test_rules_with_policies),
		cmocka_unit_test(test_sound_session),
		cmocka_unit_test(test_sound_session_from_fd),
		cmocka_unit_test(test_rule_json),
		cmocka_unit_test(test_rule_json_no_newline),
		cmocka_unit_test(test_rule_json_too_long),
		cmocka_unit_test(test_rule_schema),
		cmocka_unit_test(test_rule_schema_configured_types),
		cmocka_unit_test(test_rule_chain_seq),
		cmocka_unit_test(test_rule_chain_prev),
		cmocka_unit_test(test_rule_chain_first_prev),
		cmocka_unit_test(test_rule_protocol_first_line),
		cmocka_unit_test(test_rule_protocol_after_completed),
		cmocka_unit_test(test_rule_protocol_completed_without_metrics),
		cmocka_unit_test(test_rule_protocol_ids),
		cmocka_unit_test(test_rule_protocol_empty_log),
		cmocka_unit_test(test_rule_protocol_folder),
		cmocka_unit_test(test_rule_state_missing_or_broken),
		cmocka_unit_test(test_rule_state_disagrees),
		cmocka_unit_test(test_rule_state_failed_status),
		cmocka_unit_test(test_bare_log),
		cmocka_unit_test(test_rule_order),
		cmocka_unit_test(test_rule_secrets_token_shape),
		cmocka_unit_test(test_rule_secrets_key_name),
		cmocka_unit_test(test_policy_require_clean_tree),
		cmocka_unit_test(test_policy_require_ci),
		cmocka_unit_test(test_policy_require_tags),
		cmocka_unit_test(test_policy_require_events),
		cmocka_unit_test(test_policy_require_rollback),
		cmocka_unit_test(test_policy_max_session_minutes),
		cmocka_unit_test(test_cap_per_rule),
		cmocka_unit_test(test_unreadable_log),
		cmocka_unit_test(test_rule_secrets_escaped_token),
		cmocka_unit_test(test_rule_secrets_escaped_url),
		cmocka_unit_test(test_rule_secrets_escape_spells_nothing),
		cmocka_unit_test(test_rule_secrets_pattern_spares_ids),
		cmocka_unit_test(test_rule_secrets_state_file),
	};

	return cmocka_run_group_tests_name("check_rules", tests, NULL, NULL);
}
