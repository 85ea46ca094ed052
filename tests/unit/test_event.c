/* test_event.c - unit tests for lib/event.c: details and event validation, build order, KEY=VALUE
 */
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

#include "../../lib/event.h"

/* --- helpers ------------------------------------------------------------------------ */

static void details_ok(const char *type, const char *details, const struct hive_config *cfg)
{
	struct hive_err err = {0};
	cJSON *d = unit_json(details);
	int rc = hive_event_validate_details(type, d, cfg, &err);

	if (rc != HIVE_OK)
		fail_msg("%s %s refused: %s", type, details, err.msg);
	cJSON_Delete(d);
}

static void details_bad(const char *type, const char *details, const struct hive_config *cfg,
			const char *want)
{
	struct hive_err err = {0};
	cJSON *d = unit_json(details);
	char *before = unit_print(d);
	char *after;
	int rc = hive_event_validate_details(type, d, cfg, &err);

	if (rc != HIVE_EUSAGE)
		fail_msg("%s %s accepted (rc %d)", type, details, rc);
	assert_int_equal(err.status, HIVE_EUSAGE);
	if (strcmp(err.msg, want))
		fail_msg("%s %s\n  got:  %s\n  want: %s", type, details, err.msg, want);
	after = unit_print(d); /* validation never changes what it looks at */
	assert_string_equal(before, after);
	cJSON_free(before);
	cJSON_free(after);
	cJSON_Delete(d);
}

static const char SEED_DETAILS[] =
	"{\"resource\":\"api\",\"action\":\"update\",\"platform\":\"K8s\","
	"\"configuration\":{\"image\":\"api:1.4.2\"},\"status\":\"success\"}";

static const char *const SEED_TYPES[] = {"deployment_configured", "infrastructure_provisioned",
					 "pipeline_updated", "monitoring_added",
					 "security_hardened"};
static const char *const INCIDENT_TYPES[] = {"incident_detected", "incident_responded",
					     "incident_resolved"};

/* --- event types -------------------------------------------------------------------- */

/* The types an unknown-type message offers: the ones a user may emit. */
#define BUILTIN_TYPES                                                                              \
	"deployment_configured, infrastructure_provisioned, pipeline_updated, "                    \
	"monitoring_added, security_hardened, incident_detected, incident_responded, "             \
	"incident_resolved, metric_recorded, tool_used"

static void test_event_types(void **state)
{
	struct hive_config cfg;
	size_t i;

	(void)state;
	unit_config_from(&cfg, "events:\n  types: [cost_reviewed]\n");
	for (i = 0; i < 5; i++)
		assert_true(hive_event_type_known(SEED_TYPES[i], NULL));
	for (i = 0; i < 3; i++)
		assert_true(hive_event_type_known(INCIDENT_TYPES[i], NULL));
	assert_true(hive_event_type_known("metric_recorded", NULL));
	assert_true(hive_event_type_known("session_started", NULL));
	assert_true(hive_event_type_known("session_completed", NULL));
	assert_false(hive_event_type_known("cost_reviewed", NULL));
	assert_true(hive_event_type_known("cost_reviewed", &cfg));
	assert_false(hive_event_type_known("Deployment_configured", &cfg));
	assert_false(hive_event_type_known("", &cfg));
	assert_false(hive_event_type_known(NULL, &cfg));

	assert_true(hive_event_type_is_internal("session_started"));
	assert_true(hive_event_type_is_internal("session_completed"));
	assert_false(hive_event_type_is_internal("deployment_configured"));
	assert_false(hive_event_type_is_internal("cost_reviewed"));
	assert_false(hive_event_type_is_internal(NULL));
	hive_config_free(&cfg);
}

/* --- hive_event_validate_details: accepted ------------------------------------------ */

static void test_details_valid_every_type(void **state)
{
	struct hive_config cfg;
	size_t i;

	(void)state;
	unit_config_from(&cfg,
			 "events:\n  types: [cost_reviewed]\n  platforms: [OnPrem, Hetzner]\n");
	for (i = 0; i < 5; i++) {
		details_ok(SEED_TYPES[i], SEED_DETAILS, NULL);
		details_ok(SEED_TYPES[i],
			   "{\"resource\":\"db\",\"action\":\"create\",\"platform\":\"AWS\","
			   "\"status\":\"failure\"}",
			   NULL); /* configuration defaults to {} */
	}
	for (i = 0; i < 3; i++) {
		details_ok(INCIDENT_TYPES[i],
			   "{\"resource\":\"api\",\"action\":\"update\",\"platform\":\"GCP\","
			   "\"configuration\":{\"severity\":\"P1\",\"impact\":\"checkout down\","
			   "\"root_cause\":\"bad deploy\",\"action_items\":[\"add canary\"]},"
			   "\"status\":\"success\"}",
			   NULL);
		details_ok(INCIDENT_TYPES[i],
			   "{\"resource\":\"api\",\"action\":\"delete\",\"platform\":\"Azure\","
			   "\"configuration\":{\"severity\":\"P4\",\"action_items\":\"one\"},"
			   "\"status\":\"failure\"}",
			   NULL);
	}
	details_ok("metric_recorded",
		   "{\"configuration\":{\"name\":\"cpu\",\"value\":0.75,\"unit\":\"cores\"}}",
		   NULL);
	details_ok("metric_recorded",
		   "{\"resource\":\"api\",\"platform\":\"Docker\",\"configuration\":{\"name\":"
		   "\"cost\",\"value\":12,\"unit\":\"\"}}",
		   NULL);
	details_ok("session_started",
		   "{\"requirements\":{\"terraform\":[]},\"worker_profile\":null}", NULL);
	details_ok("session_completed", "{\"status\":\"success\"}", NULL);
	details_ok("session_completed", "{\"status\":\"failure\",\"summary\":\"x\"}", NULL);
	/* every built-in platform */
	details_ok("deployment_configured",
		   "{\"resource\":\"a\",\"action\":\"create\",\"platform\":\"AWS\",\"status\":"
		   "\"success\"}",
		   NULL);
	details_ok("deployment_configured",
		   "{\"resource\":\"a\",\"action\":\"create\",\"platform\":\"GCP\",\"status\":"
		   "\"success\"}",
		   NULL);
	details_ok("deployment_configured",
		   "{\"resource\":\"a\",\"action\":\"create\",\"platform\":\"Azure\",\"status\":"
		   "\"success\"}",
		   NULL);
	details_ok("deployment_configured",
		   "{\"resource\":\"a\",\"action\":\"create\",\"platform\":\"Docker\",\"status\":"
		   "\"success\"}",
		   NULL);
	/* a configured platform and a configured event type */
	details_ok("deployment_configured",
		   "{\"resource\":\"a\",\"action\":\"create\",\"platform\":\"OnPrem\",\"status\":"
		   "\"success\"}",
		   &cfg);
	details_ok("cost_reviewed", "{}", &cfg);
	details_ok(
		"cost_reviewed",
		"{\"resource\":\"bill\",\"configuration\":{\"total\":12.5},\"status\":\"success\"}",
		&cfg);
	hive_config_free(&cfg);
}

/* --- hive_event_validate_details: refused, with the exact message ------------------- */

static void test_details_bad_action(void **state)
{
	(void)state;
	details_bad("deployment_configured",
		    "{\"resource\":\"api\",\"action\":\"destroy\",\"platform\":\"K8s\",\"status\":"
		    "\"success\"}",
		    NULL, "details.action: \"destroy\" is not one of create, update, delete");
	details_bad("deployment_configured",
		    "{\"resource\":\"api\",\"platform\":\"K8s\",\"status\":\"success\"}", NULL,
		    "details.action: missing (one of create, update, delete)");
	details_bad(
		"deployment_configured",
		"{\"resource\":\"api\",\"action\":1,\"platform\":\"K8s\",\"status\":\"success\"}",
		NULL,
		"details.action: expected a string, got a number (one of create, update, delete)");
	details_bad("deployment_configured",
		    "{\"resource\":\"api\",\"action\":\"Create\",\"platform\":\"K8s\",\"status\":"
		    "\"success\"}",
		    NULL, "details.action: \"Create\" is not one of create, update, delete");
}

static void test_details_bad_resource(void **state)
{
	(void)state;
	details_bad("infrastructure_provisioned",
		    "{\"action\":\"create\",\"platform\":\"AWS\",\"status\":\"success\"}", NULL,
		    "details.resource: missing (a non-empty string)");
	details_bad("infrastructure_provisioned",
		    "{\"resource\":\"\",\"action\":\"create\",\"platform\":\"AWS\",\"status\":"
		    "\"success\"}",
		    NULL, "details.resource: must not be empty");
	details_bad("infrastructure_provisioned",
		    "{\"resource\":null,\"action\":\"create\",\"platform\":\"AWS\",\"status\":"
		    "\"success\"}",
		    NULL, "details.resource: expected a string, got null");
	details_bad("infrastructure_provisioned",
		    "{\"resource\":[\"a\"],\"action\":\"create\",\"platform\":\"AWS\",\"status\":"
		    "\"success\"}",
		    NULL, "details.resource: expected a string, got an array");
}

static void test_details_bad_platform(void **state)
{
	struct hive_config cfg;

	(void)state;
	unit_config_from(&cfg, "events:\n  platforms: [OnPrem, Hetzner]\n");
	details_bad("pipeline_updated",
		    "{\"resource\":\"ci\",\"action\":\"update\",\"platform\":\"Mars\",\"status\":"
		    "\"success\"}",
		    NULL,
		    "details.platform: \"Mars\" is not one of AWS, GCP, Azure, Docker, K8s (add "
		    "platforms with events.platforms in .hive.yml)");
	/* the configured platforms are listed, and accepted */
	details_bad("pipeline_updated",
		    "{\"resource\":\"ci\",\"action\":\"update\",\"platform\":\"Mars\",\"status\":"
		    "\"success\"}",
		    &cfg,
		    "details.platform: \"Mars\" is not one of AWS, GCP, Azure, Docker, K8s, "
		    "OnPrem, Hetzner (add platforms with events.platforms in .hive.yml)");
	details_ok("pipeline_updated",
		   "{\"resource\":\"ci\",\"action\":\"update\",\"platform\":\"Hetzner\",\"status\":"
		   "\"success\"}",
		   &cfg);
	/* ...but not without the config, and case matters */
	details_bad("pipeline_updated",
		    "{\"resource\":\"ci\",\"action\":\"update\",\"platform\":\"OnPrem\",\"status\":"
		    "\"success\"}",
		    NULL,
		    "details.platform: \"OnPrem\" is not one of AWS, GCP, Azure, Docker, K8s (add "
		    "platforms with events.platforms in .hive.yml)");
	details_bad("pipeline_updated",
		    "{\"resource\":\"ci\",\"action\":\"update\",\"platform\":\"k8s\",\"status\":"
		    "\"success\"}",
		    NULL,
		    "details.platform: \"k8s\" is not one of AWS, GCP, Azure, Docker, K8s (add "
		    "platforms with events.platforms in .hive.yml)");
	details_bad("pipeline_updated",
		    "{\"resource\":\"ci\",\"action\":\"update\",\"status\":\"success\"}", NULL,
		    "details.platform: missing (one of AWS, GCP, Azure, Docker, K8s)");
	hive_config_free(&cfg);
}

static void test_details_bad_status(void **state)
{
	(void)state;
	details_bad("monitoring_added",
		    "{\"resource\":\"api\",\"action\":\"create\",\"platform\":\"K8s\",\"status\":"
		    "\"ok\"}",
		    NULL, "details.status: \"ok\" is not one of success, failure");
	details_bad("monitoring_added",
		    "{\"resource\":\"api\",\"action\":\"create\",\"platform\":\"K8s\"}", NULL,
		    "details.status: missing (one of success, failure)");
	details_bad(
		"monitoring_added",
		"{\"resource\":\"api\",\"action\":\"create\",\"platform\":\"K8s\",\"status\":true}",
		NULL, "details.status: expected a string, got a boolean (one of success, failure)");
	details_bad("session_completed", "{\"status\":\"done\"}", NULL,
		    "details.status: \"done\" is not one of success, failure");
	details_bad("session_completed", "{}", NULL,
		    "details.status: missing (one of success, failure)");
}

static void test_details_bad_configuration(void **state)
{
	(void)state;
	details_bad("security_hardened",
		    "{\"resource\":\"api\",\"action\":\"update\",\"platform\":\"K8s\","
		    "\"configuration\":[1],\"status\":\"success\"}",
		    NULL, "details.configuration: expected an object, got an array");
	details_bad("security_hardened",
		    "{\"resource\":\"api\",\"action\":\"update\",\"platform\":\"K8s\","
		    "\"configuration\":\"tls\",\"status\":\"success\"}",
		    NULL, "details.configuration: expected an object, got a string");
	details_bad("security_hardened",
		    "{\"resource\":\"api\",\"action\":\"update\",\"platform\":\"K8s\","
		    "\"configuration\":null,\"status\":\"success\"}",
		    NULL, "details.configuration: expected an object, got null");
}

static void test_details_unknown_key(void **state)
{
	(void)state;
	details_bad("deployment_configured",
		    "{\"resource\":\"api\",\"action\":\"update\",\"platform\":\"K8s\","
		    "\"status\":\"success\",\"env\":\"prod\"}",
		    NULL,
		    "details: unknown key \"env\" (allowed: resource, action, platform, "
		    "configuration, status; put anything else in configuration)");
	details_bad("metric_recorded",
		    "{\"configuration\":{\"name\":\"cpu\",\"value\":1,\"unit\":\"x\"},\"Resource\":"
		    "\"a\"}",
		    NULL,
		    "details: unknown key \"Resource\" (allowed: resource, action, platform, "
		    "configuration, status; put anything else in configuration)");
}

static void test_details_not_an_object(void **state)
{
	(void)state;
	details_bad("deployment_configured", "[]", NULL,
		    "details: expected an object, got an array");
	details_bad("deployment_configured", "\"x\"", NULL,
		    "details: expected an object, got a string");
	details_bad("session_started", "null", NULL, "details: expected an object, got null");
	details_bad("session_started", "{}", NULL,
		    "details.requirements: expected an object, got missing");
}

static void test_details_incident(void **state)
{
	(void)state;
	details_bad("incident_detected",
		    "{\"resource\":\"api\",\"action\":\"update\",\"platform\":\"K8s\",\"status\":"
		    "\"success\"}",
		    NULL, "details.configuration.severity: missing (one of P1, P2, P3, P4)");
	/* a follow-up may leave severity to incident_detected, and still not give a bad one */
	details_ok("incident_responded",
		   "{\"resource\":\"api\",\"action\":\"update\",\"platform\":\"K8s\","
		   "\"configuration\":{},\"status\":\"success\"}",
		   NULL);
	details_ok("incident_resolved",
		   "{\"resource\":\"api\",\"action\":\"update\",\"platform\":\"K8s\","
		   "\"status\":\"success\"}",
		   NULL);
	/* more than one required field missing: all of them, once */
	details_bad("incident_detected", "{\"resource\":\"api\",\"action\":\"update\"}", NULL,
		    "details: platform, status and configuration.severity are missing (give "
		    "--platform AWS|GCP|Azure|Docker|K8s --status success|failure "
		    "severity=P1|P2|P3|P4)");
	details_bad("incident_resolved",
		    "{\"resource\":\"api\",\"action\":\"update\",\"platform\":\"K8s\","
		    "\"configuration\":{\"severity\":\"P5\"},\"status\":\"success\"}",
		    NULL, "details.configuration.severity: \"P5\" is not one of P1, P2, P3, P4");
	details_bad("incident_resolved",
		    "{\"resource\":\"api\",\"action\":\"update\",\"platform\":\"K8s\","
		    "\"configuration\":{\"severity\":1},\"status\":\"success\"}",
		    NULL,
		    "details.configuration.severity: expected a string, got a number (one of P1, "
		    "P2, P3, P4)");
	details_bad("incident_detected",
		    "{\"resource\":\"api\",\"action\":\"update\",\"platform\":\"K8s\","
		    "\"configuration\":{\"severity\":\"P2\",\"impact\":3},\"status\":\"success\"}",
		    NULL, "details.configuration.impact: expected a string, got a number");
	details_bad(
		"incident_detected",
		"{\"resource\":\"api\",\"action\":\"update\",\"platform\":\"K8s\","
		"\"configuration\":{\"severity\":\"P2\",\"root_cause\":{}},\"status\":\"success\"}",
		NULL, "details.configuration.root_cause: expected a string, got an object");
	details_bad(
		"incident_detected",
		"{\"resource\":\"api\",\"action\":\"update\",\"platform\":\"K8s\","
		"\"configuration\":{\"severity\":\"P2\",\"action_items\":7},\"status\":"
		"\"success\"}",
		NULL,
		"details.configuration.action_items: expected an array of strings, got a number");
	details_bad("incident_detected",
		    "{\"resource\":\"api\",\"action\":\"update\",\"platform\":\"K8s\","
		    "\"configuration\":{\"severity\":\"P2\",\"action_items\":[\"a\",2]},"
		    "\"status\":\"success\"}",
		    NULL, "details.configuration.action_items[1]: expected a string, got a number");
	/* the incident types still need the seed's fields */
	details_bad("incident_detected", "{\"configuration\":{\"severity\":\"P2\"}}", NULL,
		    "details: resource, action, platform and status are missing (give --resource "
		    "NAME --action create|update|delete --platform AWS|GCP|Azure|Docker|K8s "
		    "--status success|failure)");
}

static void test_details_metric(void **state)
{
	struct hive_err err = {0};
	cJSON *d;

	(void)state;
	details_bad("metric_recorded", "{}", NULL,
		    "details.configuration: a metric needs name, value and unit");
	details_bad("metric_recorded", "{\"configuration\":{\"value\":1,\"unit\":\"ms\"}}", NULL,
		    "details.configuration.name: missing (a non-empty string)");
	details_bad("metric_recorded",
		    "{\"configuration\":{\"name\":\"\",\"value\":1,\"unit\":\"ms\"}}", NULL,
		    "details.configuration.name: must not be empty");
	details_bad("metric_recorded",
		    "{\"configuration\":{\"name\":\"latency\",\"value\":\"42\",\"unit\":\"ms\"}}",
		    NULL,
		    "details.configuration.value: expected a number, got a string (use value:=42, "
		    "not value=42)");
	details_bad("metric_recorded",
		    "{\"configuration\":{\"name\":\"latency\",\"value\":true,\"unit\":\"ms\"}}",
		    NULL,
		    "details.configuration.value: expected a number, got a boolean (use value:=42, "
		    "not value=42)");
	details_bad("metric_recorded", "{\"configuration\":{\"name\":\"latency\",\"value\":42}}",
		    NULL, "details.configuration.unit: missing (a string)");
	details_bad("metric_recorded",
		    "{\"configuration\":{\"name\":\"latency\",\"value\":42,\"unit\":5}}", NULL,
		    "details.configuration.unit: expected a string, got a number");
	/* a missing value names the field and says it is missing */
	d = unit_json("{\"configuration\":{\"name\":\"latency\",\"unit\":\"ms\"}}");
	assert_int_equal(hive_event_validate_details("metric_recorded", d, NULL, &err),
			 HIVE_EUSAGE);
	assert_true(!strncmp(err.msg, "details.configuration.value: ", 29));
	assert_non_null(strstr(err.msg, "missing"));
	cJSON_Delete(d);
	/* the seed's fields, when given, are still checked */
	details_bad("metric_recorded",
		    "{\"platform\":\"Mars\",\"configuration\":{\"name\":\"x\",\"value\":1,\"unit\":"
		    "\"u\"}}",
		    NULL,
		    "details.platform: \"Mars\" is not one of AWS, GCP, Azure, Docker, K8s (add "
		    "platforms with events.platforms in .hive.yml)");
}

static void test_details_event_types(void **state)
{
	struct hive_config cfg;

	(void)state;
	unit_config_from(&cfg, "events:\n  types: [cost_reviewed]\n");
	details_bad("bogus", "{}", NULL,
		    "event_type: \"bogus\" is not one of " BUILTIN_TYPES
		    " (add types with events.types in .hive.yml)");
	details_bad("cost_reviewed", "{}", NULL,
		    "event_type: \"cost_reviewed\" is not one of " BUILTIN_TYPES
		    " (add types with events.types in .hive.yml)");
	details_ok("cost_reviewed", "{}", &cfg);
	/* the configured types are listed too */
	details_bad("bogus", "{}", &cfg,
		    "event_type: \"bogus\" is not one of " BUILTIN_TYPES
		    ", cost_reviewed (add types with events.types in .hive.yml)");
	/* an empty type */
	details_bad("", "{}", NULL,
		    "event_type: \"\" is not one of " BUILTIN_TYPES
		    " (add types with events.types in .hive.yml)");
	/* a configured type has no required fields, but what it has is checked */
	details_bad("cost_reviewed", "{\"action\":\"destroy\"}", &cfg,
		    "details.action: \"destroy\" is not one of create, update, delete");
	details_bad("cost_reviewed", "{\"extra\":1}", &cfg,
		    "details: unknown key \"extra\" (allowed: resource, action, platform, "
		    "configuration, status; put anything else in configuration)");
	hive_config_free(&cfg);
}

/* --- hive_event_validate: a whole line ---------------------------------------------- */

#define HEX40 "0123456789abcdef0123456789abcdef01234567"
#define HEX64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static const char VALID_LINE[] =
	"{\"seq\":3,\"timestamp\":\"2025-01-15T10:30:00.123Z\",\"event_type\":\"deployment_"
	"configured\","
	"\"worker\":\"devops-worker\",\"session_id\":\"gh-8812-1\","
	"\"details\":{\"resource\":\"api\",\"action\":\"update\",\"platform\":\"K8s\","
	"\"configuration\":{\"image\":\"api:1.4.2\",\"tags\":{\"team\":\"infra\"}},\"status\":"
	"\"success\"},"
	"\"git\":{\"commit\":\"" HEX40 "\",\"branch\":\"main\",\"dirty\":false,\"tag\":null,"
	"\"remote\":\"https://github.com/acme/app\"},"
	"\"ci\":{\"provider\":\"github\",\"run_id\":\"8812\",\"run_attempt\":\"1\",\"job\":"
	"\"deploy\","
	"\"workflow\":\"cd\",\"url\":\"https://github.com/acme/app/actions/runs/8812\"},"
	"\"prev\":\"sha256:" HEX64 "\"}";

/* Validate VALID_LINE with one top-level or nested change: `path` is "key" or
 * "parent.key"; value is JSON text, or NULL to delete the key. */
static int validate_changed(const char *path, const char *value, struct hive_err *err)
{
	cJSON *ev = unit_json(VALID_LINE), *parent = ev;
	const char *dot = strchr(path, '.'), *key = path;
	char head[64];
	int rc;

	if (dot) {
		snprintf(head, sizeof(head), "%.*s", (int)(dot - path), path);
		parent = cJSON_GetObjectItemCaseSensitive(ev, head);
		assert_non_null(parent);
		key = dot + 1;
	}
	if (!value)
		cJSON_DeleteItemFromObjectCaseSensitive(parent, key);
	else if (cJSON_GetObjectItemCaseSensitive(parent, key))
		cJSON_ReplaceItemInObjectCaseSensitive(parent, key, unit_json(value));
	else
		cJSON_AddItemToObject(parent, key, unit_json(value));
	rc = hive_event_validate(ev, NULL, err);
	cJSON_Delete(ev);
	return rc;
}

static void line_ok(const char *path, const char *value)
{
	struct hive_err err = {0};

	if (validate_changed(path, value, &err) != HIVE_OK)
		fail_msg("%s=%s refused: %s", path, value ? value : "(deleted)", err.msg);
}

static void line_bad(const char *path, const char *value, const char *want)
{
	struct hive_err err = {0};

	if (validate_changed(path, value, &err) != HIVE_EUSAGE)
		fail_msg("%s=%s accepted", path, value ? value : "(deleted)");
	assert_int_equal(err.status, HIVE_EUSAGE);
	if (strcmp(err.msg, want))
		fail_msg("%s=%s\n  got:  %s\n  want: %s", path, value ? value : "(deleted)",
			 err.msg, want);
}

static void test_validate_valid(void **state)
{
	struct hive_err err = {0};
	cJSON *ev = unit_json(VALID_LINE);

	(void)state;
	assert_int_equal(hive_event_validate(ev, NULL, &err), HIVE_OK);
	cJSON_Delete(ev);
	/* the variations SPEC 3 allows */
	line_ok("seq", "1");
	line_ok("prev", "null");
	line_ok("git", "null");
	line_ok("ci", "null");
	line_ok("ci", "{\"provider\":\"ci\"}");
	line_ok("ci",
		"{\"provider\":\"gitlab\",\"pipeline_id\":\"1\",\"job_id\":\"2\",\"job\":null,"
		"\"url\":\"u\"}");
	line_ok("timestamp", "\"2025-01-15T10:30:00Z\"");
	line_ok("timestamp", "\"2025-01-15T10:30:00.123+00:00\"");
	line_ok("git.commit", "null");
	line_ok("git.commit", "\"" HEX64 "\"");
	line_ok("git.dirty", "null");
	line_ok("git.dirty", "true");
	line_ok("git.branch", "null");
	line_ok("git.remote", "null");
	line_ok("git.tag", "\"v1.4.2\"");
	line_ok("session_id", "\"20250115T103000Z-deadbeef\"");
}

static void test_validate_keys(void **state)
{
	static const char *keys[] = {"seq",	"timestamp", "event_type", "worker", "session_id",
				     "details", "git",	     "ci",	   "prev"};
	char want[64];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		snprintf(want, sizeof(want), "%s: missing", keys[i]);
		line_bad(keys[i], NULL, want);
	}
	line_bad("extra", "1", "unknown key \"extra\"");
	line_bad("Seq", "1", "unknown key \"Seq\"");
}

static void test_validate_seq(void **state)
{
	(void)state;
	line_bad("seq", "0", "seq: expected a whole number from 1, got a number");
	line_bad("seq", "-1", "seq: expected a whole number from 1, got a number");
	line_bad("seq", "1.5", "seq: expected a whole number from 1, got a number");
	line_bad("seq", "\"1\"", "seq: expected a whole number from 1, got a string");
	line_bad("seq", "null", "seq: expected a whole number from 1, got null");
	line_bad("seq", "1e300", "seq: expected a whole number from 1, got a number");
	line_ok("seq", "9007199254740992"); /* 2^53: the largest a JSON reader keeps exact */
}

static void test_validate_timestamp(void **state)
{
	(void)state;
	line_bad("timestamp", "\"yesterday\"",
		 "timestamp: \"yesterday\" is not an RFC 3339 UTC time like "
		 "2025-01-15T10:30:00.123Z");
	line_bad("timestamp", "\"2025-01-15T10:30:00.123+02:00\"",
		 "timestamp: \"2025-01-15T10:30:00.123+02:00\" is not an RFC 3339 UTC time like "
		 "2025-01-15T10:30:00.123Z");
	line_bad("timestamp", "\"2025-13-15T10:30:00.123Z\"",
		 "timestamp: \"2025-13-15T10:30:00.123Z\" is not an RFC 3339 UTC time like "
		 "2025-01-15T10:30:00.123Z");
	line_bad("timestamp", "1736937000",
		 "timestamp: a number is not an RFC 3339 UTC time like 2025-01-15T10:30:00.123Z");
}

static void test_validate_prev(void **state)
{
	static const char want[] = "prev: expected null or \"sha256:<64 hex>\"";

	(void)state;
	line_bad("prev", "\"sha256:xyz\"", want);
	line_bad("prev", "\"" HEX64 "\"", want);	 /* no prefix */
	line_bad("prev", "\"sha256:" HEX64 "0\"", want); /* 65 digits */
	line_bad("prev", "\"sha256:" HEX40 "\"", want);	 /* 40 digits */
	line_bad("prev",
		 "\"sha256:0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef\"",
		 want); /* uppercase */
	line_bad("prev", "\"SHA256:" HEX64 "\"", want);
	line_bad("prev", "\"\"", want);
	line_bad("prev", "7", want);
}

static void test_validate_git_ci(void **state)
{
	(void)state;
	line_bad("git.commit", "\"abc\"",
		 "git.commit: \"abc\" is not a 40 or 64 digit lowercase hex id");
	line_bad("git.commit", "\"0123456789ABCDEF0123456789abcdef01234567\"",
		 "git.commit: \"0123456789ABCDEF0123456789abcdef01234567\" is not a 40 or 64 "
		 "digit lowercase hex id");
	line_bad("git.commit", "\"" HEX40 "0\"",
		 "git.commit: \"" HEX40 "0\" is not a 40 or 64 digit lowercase hex id");
	line_bad("git.commit", "\"0123456789abcdef0123456789abcdef0123456g\"",
		 "git.commit: \"0123456789abcdef0123456789abcdef0123456g\" is not a 40 or 64 "
		 "digit lowercase hex id");
	line_bad("git.commit", "40", "git.commit: expected a string or null, got a number");
	line_bad("git.commit", NULL, "git.commit: missing");
	line_bad("git.dirty", "\"yes\"", "git.dirty: expected true, false or null, got a string");
	line_bad("git.dirty", NULL, "git.dirty: expected true, false or null, got missing");
	line_bad("git.branch", NULL, "git.branch: missing");
	line_bad("git.remote", "[]", "git.remote: expected a string or null, got an array");
	line_bad("git.sha", "\"x\"", "git: unknown key \"sha\"");
	line_bad("git", "\"main\"", "git: expected an object or null, got a string");
	line_bad("ci", "[]", "ci: expected an object or null, got an array");
	line_bad("ci.provider", "\"jenkins\"",
		 "ci.provider: \"jenkins\" is not one of github, gitlab, ci");
	line_bad("ci.provider", NULL, "ci.provider: missing (one of github, gitlab, ci)");
	line_bad("ci.run_id", "8812", "ci.run_id: expected a string or null, got a number");
}

static void test_validate_other_fields(void **state)
{
	struct hive_err err = {0};
	cJSON *arr = unit_json("[1]");

	(void)state;
	line_bad("event_type", "\"bogus\"",
		 "event_type: \"bogus\" is not one of " BUILTIN_TYPES
		 " (add types with events.types in .hive.yml)");
	line_bad("event_type", "3", "event_type: expected a string, got a number");
	line_bad("worker", "\"../x\"",
		 "worker \"../x\": only letters, digits, '.', '_' and '-' are allowed");
	line_bad("worker", "7", "worker: expected a string, got a number");
	line_bad("session_id", "\"\"", "session_id is empty");
	line_bad("session_id", "\"-x\"", "session_id \"-x\" must not start with '-'");
	line_bad("session_id", "null", "session_id: expected a string, got null");
	line_bad("details.action", "\"destroy\"",
		 "details.action: \"destroy\" is not one of create, update, delete");
	line_bad("details", "[]", "details: expected an object, got an array");
	assert_int_equal(hive_event_validate(arr, NULL, &err), HIVE_EUSAGE);
	assert_string_equal(err.msg, "an event is a JSON object, got an array");
	cJSON_Delete(arr);
}

/* --- hive_event_build --------------------------------------------------------------- */

static void test_event_build_order(void **state)
{
	struct hive_err err = {0};
	cJSON *ev;
	char *text;

	(void)state;
	ev = hive_event_build(
		3, "2025-01-15T10:30:00.123Z", "deployment_configured", "devops-worker",
		"gh-8812-1",
		unit_json(
			"{\"resource\":\"api\",\"action\":\"update\",\"platform\":\"K8s\","
			"\"configuration\":{\"image\":\"api:1.4.2\",\"tags\":{\"team\":\"infra\"}},"
			"\"status\":\"success\"}"),
		unit_json("{\"commit\":\"" HEX40
			  "\",\"branch\":\"main\",\"dirty\":false,\"tag\":null,"
			  "\"remote\":\"https://github.com/acme/app\"}"),
		unit_json("{\"provider\":\"github\",\"run_id\":\"8812\",\"run_attempt\":\"1\","
			  "\"job\":\"deploy\",\"workflow\":\"cd\","
			  "\"url\":\"https://github.com/acme/app/actions/runs/8812\"}"),
		"sha256:" HEX64);
	assert_non_null(ev);
	text = unit_print(ev);
	assert_string_equal(text, VALID_LINE);
	assert_int_equal(hive_event_validate(ev, NULL, &err), HIVE_OK);
	cJSON_free(text);
	cJSON_Delete(ev);

	/* line 1: prev null; git and ci null; NULL details become {} */
	ev = hive_event_build(1, "2025-01-15T10:30:00.000Z", "session_started", "devops-worker",
			      "s1", unit_json("{\"requirements\":{}}"), cJSON_CreateNull(),
			      cJSON_CreateNull(), NULL);
	text = unit_print(ev);
	assert_string_equal(text, "{\"seq\":1,\"timestamp\":\"2025-01-15T10:30:00.000Z\","
				  "\"event_type\":\"session_started\",\"worker\":\"devops-worker\","
				  "\"session_id\":\"s1\",\"details\":{\"requirements\":{}},"
				  "\"git\":null,\"ci\":null,\"prev\":null}");
	assert_int_equal(hive_event_validate(ev, NULL, &err), HIVE_OK);
	cJSON_free(text);
	cJSON_Delete(ev);

	ev = hive_event_build(123456789, "2025-01-15T10:30:00.000Z", "cost_reviewed", "w", "s",
			      NULL, NULL, NULL, NULL);
	text = unit_print(ev);
	assert_string_equal(text, "{\"seq\":123456789,\"timestamp\":\"2025-01-15T10:30:00.000Z\","
				  "\"event_type\":\"cost_reviewed\",\"worker\":\"w\","
				  "\"session_id\":\"s\",\"details\":{},\"git\":null,\"ci\":null,"
				  "\"prev\":null}");
	cJSON_free(text);
	cJSON_Delete(ev);
}

/* --- hive_event_normalize_details --------------------------------------------------- */

static void normalized(const char *type, const char *in, const char *want)
{
	cJSON *d = unit_json(in);
	char *got;

	hive_event_normalize_details(type, d);
	got = unit_print(d);
	if (strcmp(got, want))
		fail_msg("%s %s\n  got:  %s\n  want: %s", type, in, got, want);
	cJSON_free(got);
	cJSON_Delete(d);
}

static void test_normalize_details(void **state)
{
	(void)state;
	normalized("deployment_configured",
		   "{\"status\":\"success\",\"extra\":1,\"platform\":\"K8s\",\"configuration\":"
		   "{\"b\":1,\"a\":2},\"resource\":\"api\",\"action\":\"create\",\"more\":[2]}",
		   "{\"resource\":\"api\",\"action\":\"create\",\"platform\":\"K8s\","
		   "\"configuration\":{\"b\":1,\"a\":2},\"status\":\"success\",\"extra\":1,"
		   "\"more\":[2]}");
	/* configuration defaults to {} */
	normalized("deployment_configured",
		   "{\"status\":\"success\",\"resource\":\"api\",\"action\":\"create\","
		   "\"platform\":\"K8s\"}",
		   "{\"resource\":\"api\",\"action\":\"create\",\"platform\":\"K8s\","
		   "\"configuration\":{},\"status\":\"success\"}");
	normalized("metric_recorded", "{}", "{\"configuration\":{}}");
	normalized("metric_recorded",
		   "{\"configuration\":{\"unit\":\"ms\",\"name\":\"x\",\"value\":1},\"platform\":"
		   "\"AWS\"}",
		   "{\"platform\":\"AWS\",\"configuration\":{\"unit\":\"ms\",\"name\":\"x\","
		   "\"value\":1}}");
	/* already in order: unchanged */
	normalized("deployment_configured", SEED_DETAILS, SEED_DETAILS);
	/* the tools' own events are left as they are */
	normalized("session_started", "{\"worker_profile\":null,\"requirements\":{}}",
		   "{\"worker_profile\":null,\"requirements\":{}}");
	normalized("session_completed", "{\"status\":\"success\"}", "{\"status\":\"success\"}");
	/* not an object: nothing to do */
	normalized("deployment_configured", "[3,1]", "[3,1]");
}

/* --- hive_event_apply_kv ------------------------------------------------------------ */

static void kv_all(const char *const *args, size_t n, const char *want)
{
	struct hive_err err = {0};
	cJSON *obj = cJSON_CreateObject();
	char *got;
	size_t i;

	for (i = 0; i < n; i++)
		if (hive_event_apply_kv(obj, args[i], &err) != HIVE_OK)
			fail_msg("%s refused: %s", args[i], err.msg);
	got = unit_print(obj);
	if (strcmp(got, want))
		fail_msg("got:  %s\nwant: %s", got, want);
	cJSON_free(got);
	cJSON_Delete(obj);
}

static void kv(const char *arg, const char *want)
{
	kv_all(&arg, 1, want);
}

static void kv_bad(const char *arg, const char *want)
{
	struct hive_err err = {0};
	cJSON *obj = unit_json("{\"resource\":\"api\",\"tags\":{\"team\":\"infra\"}}");
	char *before = unit_print(obj), *after;

	if (hive_event_apply_kv(obj, arg, &err) != HIVE_EUSAGE)
		fail_msg("%s accepted", arg);
	assert_int_equal(err.status, HIVE_EUSAGE);
	if (strcmp(err.msg, want))
		fail_msg("%s\n  got:  %s\n  want: %s", arg, err.msg, want);
	/* a refused argument leaves the object as it was */
	after = unit_print(obj);
	if (strcmp(before, after))
		fail_msg("%s changed the object: %s -> %s", arg, before, after);
	cJSON_free(before);
	cJSON_free(after);
	cJSON_Delete(obj);
}

static void test_apply_kv_values(void **state)
{
	static const char *nested[] = {"tags.team=infra", "tags.env=prod", "a.b.c:=1", "a.b.d=x"};
	static const char *replace[] = {"resource=x", "resource=y", "n:=1", "n:=[2]"};

	(void)state;
	kv("resource=api", "{\"resource\":\"api\"}");
	kv("count=42", "{\"count\":\"42\"}"); /* = always gives a string */
	kv("flag=true", "{\"flag\":\"true\"}");
	kv("empty=", "{\"empty\":\"\"}");
	kv("replicas:=3", "{\"replicas\":3}");
	kv("ratio:=0.5", "{\"ratio\":0.5}");
	kv("enabled:=true", "{\"enabled\":true}");
	kv("off:=false", "{\"off\":false}");
	kv("nothing:=null", "{\"nothing\":null}");
	kv("s:=\"quoted\"", "{\"s\":\"quoted\"}");
	kv("conf:={\"a\":1,\"b\":[true]}", "{\"conf\":{\"a\":1,\"b\":[true]}}");
	kv("list:=[1,\"two\"]", "{\"list\":[1,\"two\"]}");
	kv("spaced:= 7 ", "{\"spaced\":7}");
	/* the first '=' splits */
	kv("url=https://x?a=b", "{\"url\":\"https://x?a=b\"}");
	kv("expr=a=b=c", "{\"expr\":\"a=b=c\"}");
	kv("k==v", "{\"k\":\"=v\"}");
	kv("note=a:=b", "{\"note\":\"a:=b\"}");
	/* dotted keys nest */
	kv("tags.team=infra", "{\"tags\":{\"team\":\"infra\"}}");
	kv_all(nested, 4,
	       "{\"tags\":{\"team\":\"infra\",\"env\":\"prod\"},\"a\":{\"b\":{\"c\":1,\"d\":\"x\"}}"
	       "}");
	/* setting a key again replaces it (no duplicate keys) */
	kv_all(replace, 4, "{\"resource\":\"y\",\"n\":[2]}");
}

static void test_apply_kv_errors(void **state)
{
	(void)state;
	kv_bad("=x", "\"=x\": expected KEY=VALUE or KEY:=JSON");
	kv_bad("k", "\"k\": expected KEY=VALUE or KEY:=JSON");
	kv_bad("", "\"\": expected KEY=VALUE or KEY:=JSON");
	kv_bad(":=1", "\":=1\": the key is empty or too long");
	kv_bad("a..b=1", "\"a..b\": empty part in the dotted key");
	kv_bad("new..b=1", "\"new..b\": empty part in the dotted key");
	kv_bad("x.y..z:=1", "\"x.y..z\": empty part in the dotted key");
	kv_bad(".a=1", "\".a\": empty part in the dotted key");
	kv_bad("a.=1", "\"a.\": empty part in the dotted key");
	kv_bad("tags.=1", "\"tags.\": empty part in the dotted key");
	kv_bad("k:=notjson", "\"k:=notjson\": the value after := is not valid JSON: byte 1: not a "
			     "JSON value (the words JSON has are true, false and null) (quote "
			     "strings, or use KEY=VALUE)");
	kv_bad("k:=", "\"k:=\": the value after := is not valid JSON: byte 1: no JSON value (the "
		      "text is empty) (quote strings, or use KEY=VALUE)");
	kv_bad("k:=1 2", "\"k:=1 2\": the value after := is not valid JSON: byte 3: more text "
			 "after the JSON value (quote strings, or use KEY=VALUE)");
	kv_bad("k:={\"a\":", "\"k:={\\\"a\\\":\": the value after := is not valid JSON: byte 6: "
			     "the text ends inside an object (quote strings, or use KEY=VALUE)");
	/* the strict reader's rules reach KEY:=JSON too */
	kv_bad("k:=06", "\"k:=06\": the value after := is not valid JSON: byte 1: leading zero "
			"in a number (quote strings, or use KEY=VALUE)");
	kv_bad("k:={\"a\":1,\"a\":2}",
	       "\"k:={\\\"a\\\":1,\\\"a\\\":2}\": the value after := is not valid JSON: byte 8: "
	       "duplicate key \"a\" (quote strings, or use KEY=VALUE)");
	kv_bad("resource.name=x",
	       "\"resource.name=x\": resource is already set to a value that is not an object");
	kv_bad("tags.team.lead=x",
	       "\"tags.team.lead=x\": tags.team is already set to a value that is not an object");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_event_types),
		cmocka_unit_test(test_details_valid_every_type),
		cmocka_unit_test(test_details_bad_action),
		cmocka_unit_test(test_details_bad_resource),
		cmocka_unit_test(test_details_bad_platform),
		cmocka_unit_test(test_details_bad_status),
		cmocka_unit_test(test_details_bad_configuration),
		cmocka_unit_test(test_details_unknown_key),
		cmocka_unit_test(test_details_not_an_object),
		cmocka_unit_test(test_details_incident),
		cmocka_unit_test(test_details_metric),
		cmocka_unit_test(test_details_event_types),
		cmocka_unit_test(test_validate_valid),
		cmocka_unit_test(test_validate_keys),
		cmocka_unit_test(test_validate_seq),
		cmocka_unit_test(test_validate_timestamp),
		cmocka_unit_test(test_validate_prev),
		cmocka_unit_test(test_validate_git_ci),
		cmocka_unit_test(test_validate_other_fields),
		cmocka_unit_test(test_event_build_order),
		cmocka_unit_test(test_normalize_details),
		cmocka_unit_test(test_apply_kv_values),
		cmocka_unit_test(test_apply_kv_errors),
	};

	return cmocka_run_group_tests_name("event", tests, NULL, NULL);
}
