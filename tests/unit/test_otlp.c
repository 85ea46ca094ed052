/* test_otlp.c - unit tests for lib/otlp.c and lib/export.c: ids, AnyValue, the pipeline-run
 * span, log records, and the events export's lines */
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

#include "../../lib/export.h"
#include "../../lib/log.h"
#include "../../lib/otlp.h"
#include "../../lib/report.h"
#include "../../lib/session.h"

#define COMMIT "3f786850e387550fdab836ed7e6dc881de23001b"
#define GIT                                                                                        \
	"{\"commit\":\"" COMMIT "\",\"branch\":\"main\",\"dirty\":false,\"tag\":null,"             \
	"\"remote\":\"https://github.com/acme/app\"}"

/* one event line of session s1 */
#define EV(seq, ts, type, details)                                                                 \
	"{\"seq\":" #seq ",\"timestamp\":\"" ts "\",\"event_type\":\"" type                        \
	"\",\"worker\":\"devops-worker\",\"session_id\":\"s1\",\"details\":" details               \
	",\"git\":" GIT ",\"ci\":null,\"prev\":null}\n"

static const char events[] = EV(1, "2025-01-15T10:00:00.000Z", "session_started", "{}")
	EV(2, "2025-01-15T10:05:00.250Z", "deployment_configured",
	   "{\"resource\":\"api\",\"action\":\"update\",\"platform\":\"K8s\","
	   "\"configuration\":{\"environment\":\"prod\",\"replicas\":3,\"ratio\":0.5,"
	   "\"canary\":true,\"owner\":null,\"steps\":[],\"tags\":{\"team\":\"infra\"}},"
	   "\"status\":\"failure\"}");

/* The facts of <root>/sessions/s1 holding text as its log. */
static struct hive_facts *load(const char *root, const char *text)
{
	struct hive_session *s = NULL;
	struct hive_facts *f = NULL;
	struct hive_err err = {0};
	char *p = unit_pathf("%s/sessions", root);

	mkdir(p, 0755);
	free(p);
	p = unit_pathf("%s/sessions/s1", root);
	assert_int_equal(mkdir(p, 0755), 0);
	free(p);
	p = unit_pathf("%s/sessions/s1/EVENTS.jsonl", root);
	unit_write_file(p, text);
	free(p);
	p = unit_pathf("%s/sessions/s1/.lock", root); /* the export reads under the shared lock */
	unit_write_file(p, "");
	free(p);
	if (hive_session_open_ro(root, "s1", &s, &err) || hive_facts_load(s, NULL, &f, &err))
		fail_msg("%s", err.msg);
	hive_session_close(s);
	return f;
}

/* attrs[key]'s AnyValue (borrowed), or NULL */
static const cJSON *attr(const cJSON *attrs, const char *key)
{
	const cJSON *kv;

	cJSON_ArrayForEach(kv, attrs)
	{
		if (!strcmp(cJSON_GetObjectItem(kv, "key")->valuestring, key))
			return cJSON_GetObjectItem(kv, "value");
	}
	return NULL;
}

static const char *attr_str(const cJSON *attrs, const char *key)
{
	const cJSON *v = cJSON_GetObjectItem(attr(attrs, key), "stringValue");

	return v ? v->valuestring : NULL;
}

static char *print(const cJSON *v)
{
	char *s = cJSON_PrintUnformatted(v);

	assert_non_null(s);
	return s;
}

static void test_traces(void **state)
{
	struct hive_facts *f = load(*state, events);
	struct hive_buf out = {0};
	cJSON *req, *spans, *root, *dep;
	const cJSON *conf;
	char *text;

	hive_otlp_traces(f, &out);
	assert_false(out.oom);
	assert_int_equal(out.p[out.len - 1], '\n');
	assert_null(memchr(out.p, '\n', out.len - 1)); /* one line */
	req = unit_json(out.p);
	spans = cJSON_GetObjectItem(
		cJSON_GetArrayItem(
			cJSON_GetObjectItem(
				cJSON_GetArrayItem(cJSON_GetObjectItem(req, "resourceSpans"), 0),
				"scopeSpans"),
			0),
		"spans");
	assert_int_equal(cJSON_GetArraySize(spans), 3);
	root = cJSON_GetArrayItem(spans, 0);
	/* ids: SHA-256 of "hive/otlp/trace\0s1" (16 bytes) and of "hive/otlp/span\0s1\0main\00"
	 * (8 bytes), as printf '…' | sha256sum gives them */
	assert_string_equal(cJSON_GetObjectItem(root, "traceId")->valuestring,
			    "85d922795bc079882416477c77b7e513");
	assert_string_equal(cJSON_GetObjectItem(root, "spanId")->valuestring, "f712e91ce24bc021");
	assert_string_equal(cJSON_GetObjectItem(root, "name")->valuestring, "RUN devops-worker");
	assert_int_equal(cJSON_GetObjectItem(root, "kind")->valueint, 2);
	assert_string_equal(cJSON_GetObjectItem(root, "startTimeUnixNano")->valuestring,
			    "1736935200000000000");
	assert_string_equal(cJSON_GetObjectItem(root, "endTimeUnixNano")->valuestring,
			    "1736935500250000000");
	/* an active session has no result yet */
	assert_null(attr(cJSON_GetObjectItem(root, "attributes"), "cicd.pipeline.result"));
	assert_string_equal(
		attr_str(cJSON_GetObjectItem(root, "attributes"), "cicd.pipeline.run.state"),
		"executing");
	assert_string_equal(
		attr_str(cJSON_GetObjectItem(root, "attributes"), "vcs.ref.head.revision"), COMMIT);
	assert_null(cJSON_GetObjectItem(root, "parentSpanId"));

	dep = cJSON_GetArrayItem(spans, 2);
	assert_string_equal(cJSON_GetObjectItem(dep, "spanId")->valuestring, "ebc821c056f71a47");
	assert_string_equal(cJSON_GetObjectItem(dep, "parentSpanId")->valuestring,
			    "f712e91ce24bc021");
	assert_int_equal(cJSON_GetObjectItem(dep, "kind")->valueint, 1);
	assert_string_equal(cJSON_GetObjectItem(dep, "startTimeUnixNano")->valuestring,
			    "1736935500250000000");
	assert_int_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(dep, "status"), "code")->valueint,
			 2);
	assert_string_equal(
		attr_str(cJSON_GetObjectItem(dep, "attributes"), "cicd.pipeline.task.run.result"),
		"failure");
	assert_string_equal(
		attr_str(cJSON_GetObjectItem(dep, "attributes"), "deployment.environment.name"),
		"prod");
	assert_string_equal(
		attr_str(cJSON_GetObjectItem(dep, "attributes"), "cicd.pipeline.task.run.id"),
		"main/2");
	text = print(attr(cJSON_GetObjectItem(dep, "attributes"), "hive.event.seq"));
	assert_string_equal(text, "{\"intValue\":\"2\"}");
	cJSON_free(text);
	conf = attr(cJSON_GetObjectItem(dep, "attributes"), "hive.configuration");
	assert_non_null(cJSON_GetObjectItem(conf, "stringValue"));
	cJSON_Delete(req);
	hive_buf_free(&out);
	hive_facts_free(f);
}

/* The log record's body: the event as an AnyValue, every JSON type mapped as OTLP/JSON
 * writes it (integers as decimal strings, null as the empty AnyValue, an empty array with no
 * values field). */
static void test_logs_any_value(void **state)
{
	struct hive_facts *f = load(*state, events);
	struct hive_buf out = {0};
	cJSON *req, *recs, *rec;
	const cJSON *body, *details, *conf;
	char *text;

	hive_otlp_logs(f, &out);
	assert_false(out.oom);
	req = unit_json(out.p);
	recs = cJSON_GetObjectItem(
		cJSON_GetArrayItem(
			cJSON_GetObjectItem(
				cJSON_GetArrayItem(cJSON_GetObjectItem(req, "resourceLogs"), 0),
				"scopeLogs"),
			0),
		"logRecords");
	assert_int_equal(cJSON_GetArraySize(recs), 2);
	rec = cJSON_GetArrayItem(recs, 1);
	assert_int_equal(cJSON_GetObjectItem(rec, "severityNumber")->valueint, 17);
	assert_string_equal(cJSON_GetObjectItem(rec, "spanId")->valuestring, "ebc821c056f71a47");
	assert_string_equal(cJSON_GetObjectItem(rec, "traceId")->valuestring,
			    "85d922795bc079882416477c77b7e513");
	body = cJSON_GetObjectItem(cJSON_GetObjectItem(rec, "body"), "kvlistValue");
	details = cJSON_GetObjectItem(attr(cJSON_GetObjectItem(body, "values"), "details"),
				      "kvlistValue");
	conf = cJSON_GetObjectItem(attr(cJSON_GetObjectItem(details, "values"), "configuration"),
				   "kvlistValue");
	text = print(conf);
	assert_string_equal(text, "{\"values\":["
				  "{\"key\":\"environment\",\"value\":{\"stringValue\":\"prod\"}},"
				  "{\"key\":\"replicas\",\"value\":{\"intValue\":\"3\"}},"
				  "{\"key\":\"ratio\",\"value\":{\"doubleValue\":0.5}},"
				  "{\"key\":\"canary\",\"value\":{\"boolValue\":true}},"
				  "{\"key\":\"owner\",\"value\":{}},"
				  "{\"key\":\"steps\",\"value\":{\"arrayValue\":{}}},"
				  "{\"key\":\"tags\",\"value\":{\"kvlistValue\":{\"values\":["
				  "{\"key\":\"team\",\"value\":{\"stringValue\":\"infra\"}}]}}}]}");
	cJSON_free(text);
	cJSON_Delete(req);
	hive_buf_free(&out);
	hive_facts_free(f);
}

/* A remote URL with credentials in the view never reaches the export. */
static void test_remote_credentials(void **state)
{
	static const char line[] =
		"{\"seq\":1,\"timestamp\":\"2025-01-15T10:00:00.000Z\",\"event_type\":"
		"\"session_started\",\"worker\":\"w\",\"session_id\":\"s1\",\"details\":{},"
		"\"git\":{\"commit\":null,\"branch\":null,\"dirty\":null,\"tag\":null,\"remote\":"
		"\"https://bob:s3cret@example.com/acme/app.git\"},\"ci\":null,\"prev\":null}\n";
	struct hive_facts *f = load(*state, line);
	struct hive_buf out = {0};

	hive_otlp_traces(f, &out);
	assert_false(out.oom);
	assert_non_null(strstr(out.p, "\"https://example.com/acme/app.git\""));
	hive_buf_free(&out);
	hive_facts_free(f);
}

/* The events export outside a repository: the repository named by its folder, url null;
 * one line per event with session, lane and seq. */
static void test_export_events(void **state)
{
	struct hive_facts *f = load(*state, events);
	struct hive_buf out = {0};
	struct hive_err err = {0};
	char *top = unit_pathf("%s/app.git", (const char *)*state);
	cJSON *line;
	char *nl;

	hive_facts_free(f);
	if (hive_export_events(*state, top, NULL, &out, &err))
		fail_msg("%s", err.msg);
	assert_false(out.oom);
	nl = strchr(out.p, '\n');
	assert_non_null(nl);
	*nl = '\0';
	line = unit_json(out.p);
	assert_true(
		cJSON_IsNull(cJSON_GetObjectItem(cJSON_GetObjectItem(line, "repository"), "url")));
	assert_string_equal(
		cJSON_GetObjectItem(cJSON_GetObjectItem(line, "repository"), "name")->valuestring,
		"app");
	assert_string_equal(cJSON_GetObjectItem(line, "session_id")->valuestring, "s1");
	assert_string_equal(cJSON_GetObjectItem(line, "lane")->valuestring, "main");
	assert_int_equal(cJSON_GetObjectItem(line, "seq")->valueint, 1);
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(line, "commit_time")));
	assert_string_equal(
		cJSON_GetObjectItem(cJSON_GetObjectItem(line, "event"), "event_type")->valuestring,
		"session_started");
	cJSON_Delete(line);
	/* two events, two lines */
	assert_non_null(strchr(nl + 1, '\n'));
	assert_null(strchr(strchr(nl + 1, '\n') + 1, '\n'));
	free(top);
	hive_buf_free(&out);
}

/* No sessions folder: no lines, no error. */
static void test_export_no_sessions(void **state)
{
	struct hive_buf out = {0};
	struct hive_err err = {0};

	assert_int_equal(hive_export_events(*state, *state, NULL, &out, &err), HIVE_OK);
	assert_int_equal(out.len, 0);
	hive_buf_free(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_traces, unit_setup_tmpdir,
						unit_teardown_tmpdir),
		cmocka_unit_test_setup_teardown(test_logs_any_value, unit_setup_tmpdir,
						unit_teardown_tmpdir),
		cmocka_unit_test_setup_teardown(test_remote_credentials, unit_setup_tmpdir,
						unit_teardown_tmpdir),
		cmocka_unit_test_setup_teardown(test_export_events, unit_setup_tmpdir,
						unit_teardown_tmpdir),
		cmocka_unit_test_setup_teardown(test_export_no_sessions, unit_setup_tmpdir,
						unit_teardown_tmpdir),
	};
	return cmocka_run_group_tests_name("otlp", tests, NULL, NULL);
}
