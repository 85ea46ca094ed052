/* test_state.c - unit tests for lib/state.c: the fold of events into STATE.json, the tail and
 * closed predicates */
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

#include "../../lib/state.h"

#define H1 "sha256:1111111111111111111111111111111111111111111111111111111111111111"
#define H2 "sha256:2222222222222222222222222222222222222222222222222222222222222222"
#define H3 "sha256:3333333333333333333333333333333333333333333333333333333333333333"
#define H4 "sha256:4444444444444444444444444444444444444444444444444444444444444444"

#define STARTED                                                                                    \
	"{\"seq\":1,\"timestamp\":\"2025-01-15T10:30:00.000Z\",\"event_type\":\"session_"          \
	"started\","                                                                               \
	"\"worker\":\"devops-worker\",\"session_id\":\"s1\",\"details\":{\"resource\":"            \
	"\"session\","                                                                             \
	"\"action\":\"create\",\"platform\":\"Docker\",\"configuration\":{},\"status\":"           \
	"\"success\","                                                                             \
	"\"worker_profile\":{\"type\":\"specialization\"},\"requirements\":{\"docker\":"           \
	"[\"Dockerfile\"]}},\"git\":{\"commit\":null,\"branch\":\"main\"},\"ci\":null,\"prev\":"   \
	"null}"

/* One event from its JSON text folded into *st with hash; asserts the fold succeeded. */
static void apply(cJSON **st, const char *text, const char *hash)
{
	struct hive_err err = {0};
	cJSON *ev = cJSON_Parse(text);

	assert_non_null(ev);
	if (hive_state_apply(st, ev, hash, &err) != HIVE_OK)
		fail_msg("hive_state_apply: %s", err.msg);
	assert_int_equal(err.status, HIVE_OK);
	cJSON_Delete(ev);
	assert_non_null(*st);
}

/* The view printed compactly equals want, byte for byte. */
static void assert_state(const cJSON *st, const char *want)
{
	char *got = cJSON_PrintUnformatted(st);

	assert_non_null(got);
	if (strcmp(got, want))
		show_mismatch("state", got, want);
	cJSON_free(got);
}

static void test_state_started_creates_view(void **state)
{
	cJSON *st = NULL;

	(void)state;
	apply(&st, STARTED, H1);
	assert_state(st,
		     "{\"session_id\":\"s1\",\"worker\":\"devops-worker\",\"status\":\"active\","
		     "\"started_at\":\"2025-01-15T10:30:00.000Z\","
		     "\"updated_at\":\"2025-01-15T10:30:00.000Z\",\"completed_at\":null,"
		     "\"git\":{\"commit\":null,\"branch\":\"main\"},\"ci\":null,"
		     "\"worker_profile\":{\"type\":\"specialization\"},"
		     "\"requirements\":{\"docker\":[\"Dockerfile\"]},"
		     "\"events\":{\"count\":1,\"last_seq\":1,\"last_hash\":\"" H1 "\","
		     "\"by_type\":{\"session_started\":1},\"failures\":0},"
		     "\"deployment\":{\"status\":\"pending\",\"environment\":null,"
		     "\"version\":null,\"environments\":{}}}");
	assert_false(hive_state_is_closed(st));
	assert_true(hive_state_matches_tail(st, 1, H1));
	cJSON_Delete(st);
}

/* A first event without git, ci, profile or requirements: the view holds nulls, never
 * leaves the keys out. */
static void test_state_started_minimal(void **state)
{
	cJSON *st = NULL;

	(void)state;
	apply(&st, "{\"seq\":1,\"event_type\":\"session_started\",\"details\":{}}", H1);
	assert_state(st, "{\"session_id\":null,\"worker\":null,\"status\":\"active\","
			 "\"started_at\":null,\"updated_at\":null,\"completed_at\":null,"
			 "\"git\":null,\"ci\":null,\"worker_profile\":null,\"requirements\":null,"
			 "\"events\":{\"count\":1,\"last_seq\":1,\"last_hash\":\"" H1 "\","
			 "\"by_type\":{\"session_started\":1},\"failures\":0},"
			 "\"deployment\":{\"status\":\"pending\",\"environment\":null,"
			 "\"version\":null,\"environments\":{}}}");
	cJSON_Delete(st);
}

static void test_state_counts_types_and_failures(void **state)
{
	cJSON *st = NULL;
	const cJSON *ev;

	(void)state;
	apply(&st, STARTED, H1);
	apply(&st,
	      "{\"seq\":2,\"timestamp\":\"2025-01-15T10:31:00.000Z\",\"event_type\":"
	      "\"infrastructure_provisioned\",\"details\":{\"resource\":\"vpc\",\"action\":"
	      "\"create\",\"platform\":\"AWS\",\"configuration\":{},\"status\":\"failure\"}}",
	      H2);
	apply(&st,
	      "{\"seq\":3,\"timestamp\":\"2025-01-15T10:32:00.000Z\",\"event_type\":"
	      "\"infrastructure_provisioned\",\"details\":{\"resource\":\"vpc\",\"action\":"
	      "\"update\",\"platform\":\"AWS\",\"configuration\":{},\"status\":\"success\"}}",
	      H3);
	ev = cJSON_GetObjectItemCaseSensitive(st, "events");
	assert_state(ev, "{\"count\":3,\"last_seq\":3,\"last_hash\":\"" H3 "\","
			 "\"by_type\":{\"session_started\":1,\"infrastructure_provisioned\":2},"
			 "\"failures\":1}");
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(st, "updated_at")->valuestring,
			    "2025-01-15T10:32:00.000Z");
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(st, "started_at")->valuestring,
			    "2025-01-15T10:30:00.000Z");
	/* deployment is only moved by deployment_configured */
	assert_state(cJSON_GetObjectItemCaseSensitive(st, "deployment"),
		     "{\"status\":\"pending\",\"environment\":null,\"version\":null,"
		     "\"environments\":{}}");
	assert_true(hive_state_matches_tail(st, 3, H3));
	assert_false(hive_state_matches_tail(st, 2, H3));
	assert_false(hive_state_matches_tail(st, 3, H2));
	cJSON_Delete(st);
}

static void test_state_deployment(void **state)
{
	cJSON *st = NULL;

	(void)state;
	apply(&st, STARTED, H1);
	apply(&st,
	      "{\"seq\":2,\"timestamp\":\"2025-01-15T10:31:00Z\",\"event_type\":"
	      "\"deployment_configured\",\"details\":{\"resource\":\"api\",\"action\":\"update\","
	      "\"platform\":\"K8s\",\"configuration\":{\"environment\":\"staging\",\"version\":"
	      "\"1.4.2\"},\"status\":\"success\"}}",
	      H2);
	assert_state(cJSON_GetObjectItemCaseSensitive(st, "deployment"),
		     "{\"status\":\"success\",\"environment\":\"staging\",\"version\":\"1.4.2\","
		     "\"environments\":{\"staging\":{\"status\":\"success\",\"version\":\"1.4.2\","
		     "\"resource\":\"api\",\"seq\":2,\"timestamp\":\"2025-01-15T10:31:00Z\"}}}");
	/* a later deployment without environment or version keeps the ones known */
	apply(&st,
	      "{\"seq\":3,\"timestamp\":\"2025-01-15T10:32:00Z\",\"event_type\":"
	      "\"deployment_configured\",\"details\":{\"resource\":\"api\",\"action\":\"update\","
	      "\"platform\":\"K8s\",\"configuration\":{},\"status\":\"failure\"}}",
	      H3);
	assert_state(
		cJSON_GetObjectItemCaseSensitive(st, "deployment"),
		"{\"status\":\"failure\",\"environment\":\"staging\",\"version\":\"1.4.2\","
		"\"environments\":{\"staging\":{\"status\":\"success\",\"version\":\"1.4.2\","
		"\"resource\":\"api\",\"seq\":2,\"timestamp\":\"2025-01-15T10:31:00Z\"},"
		"\"unspecified\":{\"status\":\"failure\",\"version\":null,\"resource\":\"api\","
		"\"seq\":3,\"timestamp\":\"2025-01-15T10:32:00Z\"}}}");
	assert_int_equal(cJSON_GetObjectItemCaseSensitive(
				 cJSON_GetObjectItemCaseSensitive(st, "events"), "failures")
				 ->valueint,
			 1);
	cJSON_Delete(st);
}

/* Each environment keeps its latest deployment: a failed staging deployment does not replace
 * production's success, and a deployment under way is in_progress until one ends it. */
static void test_state_deployment_environments(void **state)
{
	cJSON *st = NULL;

	(void)state;
	apply(&st, STARTED, H1);
	apply(&st,
	      "{\"seq\":2,\"timestamp\":\"2025-01-15T10:31:00Z\",\"event_type\":"
	      "\"deployment_configured\",\"details\":{\"resource\":\"api\",\"action\":\"update\","
	      "\"platform\":\"K8s\",\"configuration\":{\"environment\":\"production\",\"version\":"
	      "\"1.4.2\"},\"status\":\"success\"}}",
	      H2);
	apply(&st,
	      "{\"seq\":3,\"timestamp\":\"2025-01-15T10:32:00Z\",\"event_type\":"
	      "\"deployment_configured\",\"details\":{\"resource\":\"api\",\"action\":\"update\","
	      "\"platform\":\"K8s\",\"configuration\":{\"environment\":\"staging\",\"version\":"
	      "\"1.5.0\"},\"status\":\"in_progress\"}}",
	      H3);
	assert_state(cJSON_GetObjectItemCaseSensitive(
			     cJSON_GetObjectItemCaseSensitive(st, "deployment"), "environments"),
		     "{\"production\":{\"status\":\"success\",\"version\":\"1.4.2\",\"resource\":"
		     "\"api\",\"seq\":2,\"timestamp\":\"2025-01-15T10:31:00Z\"},"
		     "\"staging\":{\"status\":\"in_progress\",\"version\":\"1.5.0\",\"resource\":"
		     "\"api\",\"seq\":3,\"timestamp\":\"2025-01-15T10:32:00Z\"}}");
	apply(&st,
	      "{\"seq\":4,\"timestamp\":\"2025-01-15T10:33:00Z\",\"event_type\":"
	      "\"deployment_configured\",\"details\":{\"resource\":\"api\",\"action\":\"update\","
	      "\"platform\":\"K8s\",\"configuration\":{\"environment\":\"staging\",\"version\":"
	      "\"1.5.0\"},\"status\":\"failure\"}}",
	      H4);
	assert_state(cJSON_GetObjectItemCaseSensitive(st, "deployment"),
		     "{\"status\":\"failure\",\"environment\":\"staging\",\"version\":\"1.5.0\","
		     "\"environments\":{\"production\":{\"status\":\"success\",\"version\":"
		     "\"1.4.2\",\"resource\":\"api\",\"seq\":2,\"timestamp\":"
		     "\"2025-01-15T10:31:00Z\"},\"staging\":{\"status\":\"failure\",\"version\":"
		     "\"1.5.0\",\"resource\":\"api\",\"seq\":4,\"timestamp\":"
		     "\"2025-01-15T10:33:00Z\"}}}");
	cJSON_Delete(st);
}

/* A deployment event with no status leaves deployment pending; a view without a
 * deployment object gets one. */
static void test_state_deployment_without_status(void **state)
{
	cJSON *st = NULL;

	(void)state;
	apply(&st, STARTED, H1);
	cJSON_DeleteItemFromObjectCaseSensitive(st, "deployment");
	apply(&st,
	      "{\"seq\":2,\"event_type\":\"deployment_configured\",\"details\":{\"configuration\":"
	      "{\"version\":\"2\"}}}",
	      H2);
	assert_state(cJSON_GetObjectItemCaseSensitive(st, "deployment"),
		     "{\"status\":\"pending\",\"environment\":null,\"version\":\"2\","
		     "\"environments\":{\"unspecified\":{\"status\":\"pending\",\"version\":\"2\","
		     "\"resource\":null,\"seq\":2,\"timestamp\":null}}}");
	/* no timestamp: updated_at is null, never a stale value */
	assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(st, "updated_at")));
	cJSON_Delete(st);
}

static void test_state_completed(void **state)
{
	cJSON *st = NULL;

	(void)state;
	apply(&st, STARTED, H1);
	apply(&st,
	      "{\"seq\":2,\"timestamp\":\"2025-01-15T10:40:00.000Z\",\"event_type\":"
	      "\"session_completed\",\"details\":{\"status\":\"success\"}}",
	      H2);
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(st, "status")->valuestring,
			    "completed");
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(st, "completed_at")->valuestring,
			    "2025-01-15T10:40:00.000Z");
	assert_true(hive_state_is_closed(st));
	cJSON_Delete(st);
}

/* A session completed with status failure is `failed`, and the completion itself is not
 * counted as a failed event. */
static void test_state_failed(void **state)
{
	cJSON *st = NULL;

	(void)state;
	apply(&st, STARTED, H1);
	apply(&st,
	      "{\"seq\":2,\"timestamp\":\"2025-01-15T10:40:00.000Z\",\"event_type\":"
	      "\"session_completed\",\"details\":{\"status\":\"failure\"}}",
	      H2);
	assert_state(cJSON_GetObjectItemCaseSensitive(st, "events"),
		     "{\"count\":2,\"last_seq\":2,\"last_hash\":\"" H2 "\","
		     "\"by_type\":{\"session_started\":1,\"session_completed\":1},"
		     "\"failures\":0}");
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(st, "status")->valuestring, "failed");
	assert_true(hive_state_is_closed(st));
	cJSON_Delete(st);
}

/* A view without an events object (a hand-edited STATE.json) is refused, not repaired. */
static void test_state_apply_rejects_view_without_events(void **state)
{
	struct hive_err err = {0};
	cJSON *st = cJSON_Parse("{\"status\":\"active\",\"events\":[]}");
	cJSON *ev = cJSON_Parse("{\"seq\":2,\"event_type\":\"pipeline_updated\"}");
	cJSON *before = cJSON_Duplicate(st, 1);

	(void)state;
	assert_int_equal(hive_state_apply(&st, ev, H2, &err), HIVE_EENV);
	assert_int_equal(err.status, HIVE_EENV);
	assert_string_equal(err.msg, "STATE.json: no events object");
	assert_true(cJSON_Compare(st, before, 1));
	cJSON_Delete(before);
	cJSON_Delete(ev);
	cJSON_Delete(st);
}

/* Counters that are not numbers in a loaded view start again from the event. */
static void test_state_apply_repairs_odd_counters(void **state)
{
	cJSON *st =
		cJSON_Parse("{\"status\":\"active\",\"events\":{\"count\":\"x\",\"by_type\":[]}}");

	(void)state;
	apply(&st,
	      "{\"seq\":7,\"event_type\":\"monitoring_added\",\"details\":{\"status\":\"success\"}"
	      "}",
	      H3);
	/* keys the view lacked are added at its end */
	assert_state(st, "{\"status\":\"active\",\"events\":{\"count\":1,"
			 "\"by_type\":{\"monitoring_added\":1},\"last_seq\":7,\"last_hash\":\"" H3
			 "\"},\"updated_at\":null}");
	cJSON_Delete(st);
}

static void test_state_matches_tail_odd_views(void **state)
{
	cJSON *st;

	(void)state;
	assert_false(hive_state_matches_tail(NULL, 1, H1));
	st = cJSON_Parse("{\"events\":{\"last_seq\":1}}");
	assert_false(hive_state_matches_tail(st, 1, H1));
	cJSON_Delete(st);
	st = cJSON_Parse("{\"events\":{\"last_seq\":\"1\",\"last_hash\":\"" H1 "\"}}");
	assert_false(hive_state_matches_tail(st, 1, H1));
	cJSON_Delete(st);
	st = cJSON_Parse("{\"events\":{\"last_seq\":1e300,\"last_hash\":\"" H1 "\"}}");
	assert_false(hive_state_matches_tail(st, 1, H1));
	cJSON_Delete(st);
	st = cJSON_Parse("{\"events\":{\"last_seq\":1,\"last_hash\":null}}");
	assert_false(hive_state_matches_tail(st, 1, H1));
	cJSON_Delete(st);
	st = cJSON_Parse("{\"events\":{\"last_seq\":1,\"last_hash\":\"" H1 "\"}}");
	assert_true(hive_state_matches_tail(st, 1, H1));
	cJSON_Delete(st);
}

static void is_closed(const char *text, int want)
{
	cJSON *st = cJSON_Parse(text);

	assert_non_null(st);
	if (hive_state_is_closed(st) != want)
		fail_msg("hive_state_is_closed(%s) != %d", text, want);
	cJSON_Delete(st);
}

static void test_state_is_closed(void **state)
{
	(void)state;
	assert_false(hive_state_is_closed(NULL));
	is_closed("{\"status\":\"active\"}", 0);
	is_closed("{\"status\":\"completed\"}", 1);
	is_closed("{\"status\":\"failed\"}", 1);
	is_closed("{}", 0);
	is_closed("{\"status\":null}", 0);
	is_closed("{\"status\":1}", 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_state_started_creates_view),
		cmocka_unit_test(test_state_started_minimal),
		cmocka_unit_test(test_state_counts_types_and_failures),
		cmocka_unit_test(test_state_deployment),
		cmocka_unit_test(test_state_deployment_environments),
		cmocka_unit_test(test_state_deployment_without_status),
		cmocka_unit_test(test_state_completed),
		cmocka_unit_test(test_state_failed),
		cmocka_unit_test(test_state_apply_rejects_view_without_events),
		cmocka_unit_test(test_state_apply_repairs_odd_counters),
		cmocka_unit_test(test_state_matches_tail_odd_views),
		cmocka_unit_test(test_state_is_closed),
	};

	return cmocka_run_group_tests_name("state", tests, NULL, NULL);
}
