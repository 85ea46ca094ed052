/* test_report.c - unit tests for lib/report.c: facts from a session folder, METRICS.json, the
 * seed's Markdown reports, JSON, Prometheus and DORA */
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

#include <git2.h>

#include "../../lib/report.h"
/* hive_session_open_ro and hive_session_close: log.h today, session.h after the split */
#include "../../lib/session.h"

#define COMMIT "3f786850e387550fdab836ed7e6dc881de23001b"

/* --- a session folder in a temporary root --------------------------------------------- */

/* <root>/sessions/<id>/ with EVENTS.jsonl and, when state is not NULL, STATE.json. */
static void make_session(const char *root, const char *id, const char *events, const char *state)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/sessions", root);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/sessions/%s", root, id);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/sessions/%s/EVENTS.jsonl", root, id);
	unit_write_file(path, events);
	if (state) {
		snprintf(path, sizeof(path), "%s/sessions/%s/STATE.json", root, id);
		unit_write_file(path, state);
	}
}

/* <root>/sessions/s1: the whole session, with its STATE.json. */
static void make_full(const char *root);

/* Facts of root's session id, read without a git repository. */
static struct hive_facts *load(const char *root, const char *id)
{
	struct hive_session *s = NULL;
	struct hive_facts *f = NULL;
	struct hive_err err = {0};

	if (hive_session_open_ro(root, id, &s, &err))
		fail_msg("open: %s", err.msg);
	if (hive_facts_load(s, NULL, &f, &err))
		fail_msg("hive_facts_load: %s", err.msg);
	hive_session_close(s);
	assert_non_null(f);
	return f;
}

/* --- the sessions the reports are made of ------------------------------------------- */

#define GIT                                                                                        \
	"{\"commit\":\"" COMMIT "\",\"branch\":\"main\",\"dirty\":false,\"tag\":\"v1.4.2\","       \
	"\"remote\":\"https://github.com/acme/app\"}"
#define CI                                                                                         \
	"{\"provider\":\"github\",\"run_id\":\"8812\",\"run_attempt\":\"1\",\"job\":\"deploy\","   \
	"\"workflow\":\"cd\",\"url\":\"https://github.com/acme/app/actions/runs/8812\"}"

/* One event line of session s1 outside git and CI (the reports do not check the chain). */
#define EV(seq, ts, type, details)                                                                 \
	"{\"seq\":" #seq ",\"timestamp\":\"" ts "\",\"event_type\":\"" type "\",\"worker\":"       \
	"\"devops-worker\",\"session_id\":\"s1\",\"details\":" details ",\"git\":null,\"ci\":"     \
	"null,\"prev\":null}\n"

/* A whole session: infrastructure, two deployments (one failed), a metric, an incident
 * from detection to resolution, completion. */
static const char *const full_lines[] = {
	"{\"seq\":1,\"timestamp\":\"2025-01-15T10:00:00.000Z\",\"event_type\":\"session_started\","
	"\"worker\":\"devops-worker\",\"session_id\":\"s1\",\"details\":{\"requirements\":{}},"
	"\"git\":" GIT ",\"ci\":" CI ",\"prev\":null}\n",

	EV(2, "2025-01-15T10:01:00.000Z", "infrastructure_provisioned",
	   "{\"resource\":\"vpc\",\"action\":\"create\",\"platform\":\"AWS\",\"configuration\":{"
	   "\"purpose\":\"network\",\"dependencies\":[\"dns\",\"nat\"],\"cidr\":\"10.0.0.0/16\","
	   "\"env\":{\"REGION\":\"eu-west-1\"},"
	   "\"scaling\":{\"min\":1,\"max\":3,\"triggers\":\"cpu > 80%\"},"
	   "\"health_check\":\"/healthz\",\"alerts\":\"p99 > 1s\"},\"status\":\"success\"}"),

	EV(3, "2025-01-15T10:02:00.000Z", "deployment_configured",
	   "{\"resource\":\"api\",\"action\":\"update\",\"platform\":\"K8s\",\"configuration\":{"
	   "\"version\":\"1.4.2\",\"environment\":\"production\","
	   "\"changes\":[\"fix login\",\"faster | search\"],"
	   "\"testing\":{\"unit\":\"pass\",\"integration\":\"pass\",\"security\":\"fail\"},"
	   "\"strategy\":\"canary\",\"rollback\":\"helm rollback api\",\"replicas\":3},"
	   "\"status\":\"success\"}"),

	EV(4, "2025-01-15T10:03:00.000Z", "deployment_configured",
	   "{\"resource\":\"api\",\"action\":\"update\",\"platform\":\"K8s\","
	   "\"configuration\":{},\"status\":\"failure\"}"),

	EV(5, "2025-01-15T10:04:00.000Z", "metric_recorded",
	   "{\"resource\":\"api\",\"configuration\":{\"name\":\"cpu\",\"value\":0.75,"
	   "\"unit\":\"cores\"}}"),

	EV(6, "2025-01-15T10:05:00.000Z", "incident_detected",
	   "{\"resource\":\"api\",\"action\":\"update\",\"platform\":\"K8s\",\"configuration\":{"
	   "\"severity\":\"P2\",\"impact\":\"checkout down\"},\"status\":\"failure\"}"),

	EV(7, "2025-01-15T10:06:00.000Z", "incident_responded",
	   "{\"resource\":\"api\",\"action\":\"update\",\"platform\":\"K8s\","
	   "\"configuration\":{\"severity\":\"P1\"},\"status\":\"success\"}"),

	EV(8, "2025-01-15T10:15:30.500Z", "incident_resolved",
	   "{\"resource\":\"api\",\"action\":\"update\",\"platform\":\"K8s\",\"configuration\":{"
	   "\"root_cause\":\"bad config\",\"action_items\":[\"add alert\",\"add test\"]},"
	   "\"status\":\"success\"}"),

	EV(9, "2025-01-15T10:20:00.000Z", "session_completed", "{\"status\":\"success\"}"),
};

/* The lines above as one EVENTS.jsonl; the caller frees it. */
static char *join(const char *const *lines, size_t n)
{
	struct hive_buf b = {0};
	size_t i;

	for (i = 0; i < n; i++)
		hive_buf_puts(&b, lines[i]);
	return b.p;
}

static const char full_state[] = "{\"session_id\":\"s1\",\"worker\":\"devops-worker\","
				 "\"status\":\"completed\",\"git\":" GIT ",\"ci\":" CI "}";

/* A session that only started: no STATE.json, nothing recorded. */
static const char bare_events[] =
	"{\"seq\":1,\"timestamp\":\"2025-01-15T10:00:00Z\",\"event_type\":\"session_started\","
	"\"worker\":\"devops-worker\",\"session_id\":\"s2\",\"details\":{\"requirements\":{}},"
	"\"git\":null,\"ci\":null,\"prev\":null}\n";

static void make_full(const char *root)
{
	char *events = join(full_lines, sizeof(full_lines) / sizeof(full_lines[0]));

	make_session(root, "s1", events, full_state);
	free(events);
}

static void assert_text(const char *got, const char *want)
{
	if (!got || strcmp(got, want))
		show_mismatch("output", got, want);
}

static void assert_json(const cJSON *j, const char *want)
{
	char *got = cJSON_PrintUnformatted(j);

	assert_text(got, want);
	cJSON_free(got);
}

static void assert_markdown(const struct hive_facts *f, const char *which, const cJSON *findings,
			    const char *want)
{
	struct hive_buf b = {0};

	hive_report_markdown(f, which, findings, &b);
	assert_text(b.p ? b.p : "", want);
	hive_buf_free(&b);
}

/* The same for a report longer than one string literal may be: want is first then rest. */
static void assert_markdown_parts(const struct hive_facts *f, const char *which,
				  const cJSON *findings, const char *first, const char *rest)
{
	struct hive_buf want = {0};

	hive_buf_puts(&want, first);
	hive_buf_puts(&want, rest);
	assert_markdown(f, which, findings, want.p);
	hive_buf_free(&want);
}

/* --- tests -------------------------------------------------------------------------- */

static void test_metrics_full(void **state)
{
	struct hive_facts *f;
	cJSON *m;

	make_full(*state);
	f = load(*state, "s1");
	m = hive_report_metrics(f);
	assert_json(
		m,
		"{\"session_id\":\"s1\",\"status\":\"completed\","
		"\"started_at\":\"2025-01-15T10:00:00.000Z\","
		"\"completed_at\":\"2025-01-15T10:20:00.000Z\",\"duration_s\":1200,"
		"\"events\":{\"total\":9,\"by_type\":{\"session_started\":1,"
		"\"infrastructure_provisioned\":1,\"deployment_configured\":2,"
		"\"metric_recorded\":1,\"incident_detected\":1,\"incident_responded\":1,"
		"\"incident_resolved\":1,\"session_completed\":1},\"by_status\":{\"success\":4,"
		"\"failure\":2},\"by_platform\":{\"AWS\":1,\"K8s\":5},\"failures\":2},"
		"\"resources\":{\"count\":2,\"created\":1,\"updated\":1,\"deleted\":0},"
		"\"deployments\":{\"count\":2,\"success\":1,\"failure\":1,"
		"\"failed_changes\":1,\"change_failure_rate\":0.5},\"incidents\":{\"count\":1,"
		"\"linked_to_deployments\":0,\"mttr_s\":630.5},\"lead_time_s\":null,"
		"\"metrics\":{\"cpu\":{\"by_resource\":[{\"resource\":\"api\",\"unit\":\"cores\","
		"\"value\":0.75,\"timestamp\":\"2025-01-15T10:04:00.000Z\"}],\"totals\":[{"
		"\"unit\":\"cores\",\"value\":0.75,\"resources\":1}]}}}");
	cJSON_Delete(m);
	hive_facts_free(f);
}

static void test_markdown_deployment(void **state)
{
	struct hive_facts *f;

	make_full(*state);
	f = load(*state, "s1");
	assert_markdown(f, "deployment", NULL,
			"## DEPLOYMENT SUMMARY\n"
			"\n"
			"- Resource: api (K8s, success, line 3, 2025-01-15T10:02:00.000Z)\n"
			"- Version: 1.4.2\n"
			"- Environment: production\n"
			"- Changes:\n"
			"  - fix login\n"
			"  - faster \\| search\n"
			"- Testing:\n"
			"  - Unit: pass\n"
			"  - Integration: pass\n"
			"  - Security: fail\n"
			"- Rollout Strategy: canary\n"
			"- Rollback Plan: helm rollback api\n"
			"\n"
			"## DEPLOYMENT SUMMARY\n"
			"\n"
			"- Resource: api (K8s, failure, line 4, 2025-01-15T10:03:00.000Z)\n"
			"- Version: not recorded\n"
			"- Environment: not recorded\n"
			"- Changes:\n"
			"  - not recorded\n"
			"- Testing:\n"
			"  - Unit: not recorded\n"
			"  - Integration: not recorded\n"
			"  - Security: not recorded\n"
			"- Rollout Strategy: not recorded\n"
			"- Rollback Plan: not recorded\n"
			"\n");
	hive_facts_free(f);
}

static void test_markdown_incident(void **state)
{
	struct hive_facts *f;

	make_full(*state);
	f = load(*state, "s1");
	assert_markdown(f, "incident", NULL,
			"## INCIDENT REPORT\n"
			"\n"
			"- Resource: api\n"
			"- Severity: P1\n"
			"- Impact: checkout down\n"
			"- Timeline:\n"
			"  - Detection: 2025-01-15T10:05:00.000Z\n"
			"  - Response: 2025-01-15T10:06:00.000Z\n"
			"  - Resolution: 2025-01-15T10:15:30.500Z\n"
			"- Root Cause: bad config\n"
			"- Action Items:\n"
			"  - add alert\n"
			"  - add test\n"
			"\n");
	hive_facts_free(f);
}

static void test_markdown_infrastructure(void **state)
{
	struct hive_facts *f;

	make_full(*state);
	f = load(*state, "s1");
	assert_markdown(f, "infrastructure", NULL,
			"## INFRASTRUCTURE COMPONENT\n"
			"\n"
			"- Name: vpc\n"
			"- Purpose: network\n"
			"- Dependencies: dns, nat\n"
			"- Configuration:\n"
			"  - Platform: AWS\n"
			"  - Last change: infrastructure_provisioned create (success)\n"
			"  - cidr: 10.0.0.0/16\n"
			"  - Environment variables: REGION\n"
			"- Scaling:\n"
			"  - Min/Max instances: 1/3\n"
			"  - Triggers: cpu > 80%\n"
			"- Monitoring:\n"
			"  - Health check endpoint: /healthz\n"
			"  - Key metrics: not recorded\n"
			"  - Alert thresholds: p99 > 1s\n"
			"\n"
			"## INFRASTRUCTURE COMPONENT\n"
			"\n"
			"- Name: api\n"
			"- Purpose: not recorded\n"
			"- Dependencies: not recorded\n"
			"- Configuration:\n"
			"  - Platform: K8s\n"
			"  - Last change: deployment_configured update (failure)\n"
			"  - version: 1.4.2\n"
			"  - environment: production\n"
			"  - changes: [\"fix login\",\"faster \\| search\"]\n"
			"  - testing: {\"unit\":\"pass\",\"integration\":\"pass\","
			"\"security\":\"fail\"}\n"
			"  - strategy: canary\n"
			"  - rollback: helm rollback api\n"
			"  - replicas: 3\n"
			"  - Environment variables: not recorded\n"
			"- Scaling:\n"
			"  - Min/Max instances: 3 (fixed replicas)\n"
			"  - Triggers: not recorded\n"
			"- Monitoring:\n"
			"  - Health check endpoint: not recorded\n"
			"  - Key metrics: cpu\n"
			"  - Alert thresholds: not recorded\n"
			"\n");
	hive_facts_free(f);
}

static void test_markdown_runbook(void **state)
{
	struct hive_facts *f;

	make_full(*state);
	f = load(*state, "s1");
	assert_markdown_parts(
		f, "runbook", NULL,
		"# RUNBOOK: s1\n"
		"\n"
		"- Worker: devops-worker\n"
		"- Status: completed\n"
		"- Started: 2025-01-15T10:00:00.000Z\n"
		"- Completed: 2025-01-15T10:20:00.000Z\n"
		"- Duration: 20m 0s (1200 s)\n"
		"- Commit: 3f786850e387550fdab836ed7e6dc881de23001b on main, tag v1.4.2 "
		"(clean)\n"
		"- Remote: https://github.com/acme/app\n"
		"- CI: github [deploy](https://github.com/acme/app/actions/runs/8812)\n"
		"\n"
		"## Metrics\n"
		"\n"
		"- Events: 9 (2 failed)\n"
		"- Resources: 2 changed (1 created, 1 updated, 0 deleted; a resource counts once "
		"per action)\n"
		"- Deployments: 2 (1 succeeded, 1 failed), change failure rate 50.0% (1 of 2 "
		"deployments failed or linked to an incident)\n"
		"- Incidents: 1 (0 linked to a deployment), mean time to recovery 10m 30.5s (630.5 "
		"s)\n"
		"- Lead time for changes: not recorded\n"
		"- cpu: 0.75 cores (api)\n"
		"\n"
		"## Timeline\n"
		"\n"
		"| seq | time | event | resource | action | platform | status |\n"
		"|---|---|---|---|---|---|---|\n"
		"| 1 | 2025-01-15T10:00:00.000Z | session_started |  |  |  |  |\n"
		"| 2 | 2025-01-15T10:01:00.000Z | infrastructure_provisioned | vpc | create | "
		"AWS | success |\n"
		"| 3 | 2025-01-15T10:02:00.000Z | deployment_configured | api | update | K8s | "
		"success |\n"
		"| 4 | 2025-01-15T10:03:00.000Z | deployment_configured | api | update | K8s | "
		"failure |\n"
		"| 5 | 2025-01-15T10:04:00.000Z | metric_recorded | api |  |  |  |\n"
		"| 6 | 2025-01-15T10:05:00.000Z | incident_detected | api | update | K8s | "
		"failure |\n"
		"| 7 | 2025-01-15T10:06:00.000Z | incident_responded | api | update | K8s | "
		"success |\n"
		"| 8 | 2025-01-15T10:15:30.500Z | incident_resolved | api | update | K8s | "
		"success |\n"
		"| 9 | 2025-01-15T10:20:00.000Z | session_completed |  |  |  | success |\n"
		"\n"
		"## DEPLOYMENT SUMMARY\n"
		"\n"
		"- Resource: api (K8s, success, line 3, 2025-01-15T10:02:00.000Z)\n"
		"- Version: 1.4.2\n"
		"- Environment: production\n"
		"- Changes:\n"
		"  - fix login\n"
		"  - faster \\| search\n"
		"- Testing:\n"
		"  - Unit: pass\n"
		"  - Integration: pass\n"
		"  - Security: fail\n"
		"- Rollout Strategy: canary\n"
		"- Rollback Plan: helm rollback api\n"
		"\n"
		"## DEPLOYMENT SUMMARY\n"
		"\n"
		"- Resource: api (K8s, failure, line 4, 2025-01-15T10:03:00.000Z)\n"
		"- Version: not recorded\n"
		"- Environment: not recorded\n"
		"- Changes:\n"
		"  - not recorded\n"
		"- Testing:\n"
		"  - Unit: not recorded\n"
		"  - Integration: not recorded\n"
		"  - Security: not recorded\n"
		"- Rollout Strategy: not recorded\n"
		"- Rollback Plan: not recorded\n"
		"\n"
		"## INCIDENT REPORT\n"
		"\n"
		"- Resource: api\n"
		"- Severity: P1\n"
		"- Impact: checkout down\n"
		"- Timeline:\n"
		"  - Detection: 2025-01-15T10:05:00.000Z\n"
		"  - Response: 2025-01-15T10:06:00.000Z\n"
		"  - Resolution: 2025-01-15T10:15:30.500Z\n"
		"- Root Cause: bad config\n"
		"- Action Items:\n"
		"  - add alert\n"
		"  - add test\n"
		"\n"
		"## INFRASTRUCTURE COMPONENT\n"
		"\n"
		"- Name: vpc\n"
		"- Purpose: network\n"
		"- Dependencies: dns, nat\n"
		"- Configuration:\n"
		"  - Platform: AWS\n"
		"  - Last change: infrastructure_provisioned create (success)\n"
		"  - cidr: 10.0.0.0/16\n"
		"  - Environment variables: REGION\n"
		"- Scaling:\n"
		"  - Min/Max instances: 1/3\n"
		"  - Triggers: cpu > 80%\n"
		"- Monitoring:\n"
		"  - Health check endpoint: /healthz\n"
		"  - Key metrics: not recorded\n"
		"  - Alert thresholds: p99 > 1s\n"
		"\n"
		"## INFRASTRUCTURE COMPONENT\n"
		"\n"
		"- Name: api\n"
		"- Purpose: not recorded\n"
		"- Dependencies: not recorded\n"
		"- Configuration:\n"
		"  - Platform: K8s\n"
		"  - Last change: deployment_configured update (failure)\n"
		"  - version: 1.4.2\n"
		"  - environment: production\n"
		"  - changes: [\"fix login\",\"faster \\| search\"]\n"
		"  - testing: {\"unit\":\"pass\",\"integration\":\"pass\","
		"\"security\":\"fail\"}\n"
		"  - strategy: canary\n"
		"  - rollback: helm rollback api\n"
		"  - replicas: 3\n"
		"  - Environment variables: not recorded\n"
		"- Scaling:\n"
		"  - Min/Max instances: 3 (fixed replicas)\n"
		"  - Triggers: not recorded\n"
		"- Monitoring:\n"
		"  - Health check endpoint: not recorded\n"
		"  - Key metrics: cpu\n"
		"  - Alert thresholds: not recorded\n"
		"\n",
		"## PROCEDURE: api in production (line 3)\n"
		"\n"
		"- Deployed: version 1.4.2 (success)\n"
		"- Roll back:\n"
		"  - Steps:\n"
		"    1. helm rollback api\n"
		"  - Version before it: not recorded\n"
		"- Verify (after the deployment and after a rollback):\n"
		"  - Commands: not recorded\n"
		"  - Health checks: not recorded\n"
		"  - Alerts: not recorded\n"
		"  - Key metrics:\n"
		"    - cpu\n"
		"\n"
		"## PROCEDURE: api in an environment not recorded (line 4)\n"
		"\n"
		"- Deployed: version not recorded (failure)\n"
		"- Roll back:\n"
		"  - Steps: not recorded\n"
		"  - Version before it: not recorded\n"
		"- Verify (after the deployment and after a rollback):\n"
		"  - Commands: not recorded\n"
		"  - Health checks: not recorded\n"
		"  - Alerts: not recorded\n"
		"  - Key metrics:\n"
		"    - cpu\n"
		"\n"
		"## Validation\n"
		"\n"
		"Not checked here: pass hive-check's JSON findings with --findings.\n"
		"\n");
	hive_facts_free(f);
}

static void test_report_json(void **state)
{
	struct hive_facts *f;
	cJSON *j, *procedures;

	make_full(*state);
	f = load(*state, "s1");
	j = hive_report_json(f, NULL);
	/* the procedures on their own (one string literal would be too long) */
	procedures = cJSON_DetachItemFromObjectCaseSensitive(j, "procedures");
	assert_json(procedures,
		    "[{\"resource\":\"api\",\"environment\":\"production\","
		    "\"version\":\"1.4.2\",\"seq\":3,\"status\":\"success\",\"rollback\":{"
		    "\"steps\":[\"helm rollback api\"],\"previous\":null},\"verify\":{"
		    "\"commands\":null,\"health_checks\":null,\"alerts\":null,\"metrics\":"
		    "[\"cpu\"]}},{\"resource\":\"api\",\"environment\":null,\"version\":null,"
		    "\"seq\":4,\"status\":\"failure\",\"rollback\":{\"steps\":null,"
		    "\"previous\":null},\"verify\":{\"commands\":null,\"health_checks\":null,"
		    "\"alerts\":null,\"metrics\":[\"cpu\"]}}]");
	cJSON_Delete(procedures);
	assert_json(
		j,
		"{\"metrics\":{\"session_id\":\"s1\",\"status\":\"completed\","
		"\"started_at\":\"2025-01-15T10:00:00.000Z\","
		"\"completed_at\":\"2025-01-15T10:20:00.000Z\",\"duration_s\":1200,"
		"\"events\":{\"total\":9,\"by_type\":{\"session_started\":1,"
		"\"infrastructure_provisioned\":1,\"deployment_configured\":2,"
		"\"metric_recorded\":1,\"incident_detected\":1,\"incident_responded\":1,"
		"\"incident_resolved\":1,\"session_completed\":1},\"by_status\":{\"success\":4,"
		"\"failure\":2},\"by_platform\":{\"AWS\":1,\"K8s\":5},\"failures\":2},"
		"\"resources\":{\"count\":2,\"created\":1,\"updated\":1,\"deleted\":0},"
		"\"deployments\":{\"count\":2,\"success\":1,\"failure\":1,"
		"\"failed_changes\":1,\"change_failure_rate\":0.5},\"incidents\":{\"count\":1,"
		"\"linked_to_deployments\":0,\"mttr_s\":630.5},\"lead_time_s\":null,"
		"\"metrics\":{\"cpu\":{\"by_resource\":[{\"resource\":\"api\",\"unit\":\"cores\","
		"\"value\":0.75,\"timestamp\":\"2025-01-15T10:04:00.000Z\"}],\"totals\":[{"
		"\"unit\":\"cores\",\"value\":0.75,\"resources\":1}]}}},"
		"\"git\":{\"commit\":\"3f786850e387550fdab836ed7e6dc881de23001b\","
		"\"branch\":\"main\",\"dirty\":false,\"tag\":\"v1.4.2\","
		"\"remote\":\"https://github.com/acme/app\"},\"ci\":{\"provider\":\"github\","
		"\"run_id\":\"8812\",\"run_attempt\":\"1\",\"job\":\"deploy\","
		"\"workflow\":\"cd\","
		"\"url\":\"https://github.com/acme/app/actions/runs/8812\"},"
		"\"deployments\":[{\"resource\":\"api\","
		"\"timestamp\":\"2025-01-15T10:02:00.000Z\",\"success\":true,"
		"\"version\":\"1.4.2\",\"environment\":\"production\",\"changes\":[\"fix "
		"login\",\"faster | search\"],\"testing\":{\"unit\":\"pass\","
		"\"integration\":\"pass\",\"security\":\"fail\"},\"strategy\":\"canary\","
		"\"rollback\":\"helm rollback api\",\"lead_time_s\":null,\"seq\":3,"
		"\"failed_change\":false},"
		"{\"resource\":\"api\",\"timestamp\":\"2025-01-15T10:03:00.000Z\","
		"\"success\":false,\"version\":null,\"environment\":null,\"changes\":null,"
		"\"testing\":null,\"strategy\":null,\"rollback\":null,\"lead_time_s\":null,"
		"\"seq\":4,\"failed_change\":true}],"
		"\"incidents\":[{\"resource\":\"api\",\"severity\":\"P1\","
		"\"impact\":\"checkout down\",\"root_cause\":\"bad config\","
		"\"action_items\":[\"add alert\",\"add test\"],"
		"\"detected\":\"2025-01-15T10:05:00.000Z\","
		"\"responded\":\"2025-01-15T10:06:00.000Z\",\"deployment_seq\":null,"
		"\"resolved\":\"2025-01-15T10:15:30.500Z\"}],"
		"\"infrastructure\":[{\"name\":\"vpc\",\"platform\":\"AWS\","
		"\"last_change\":{\"event_type\":\"infrastructure_provisioned\","
		"\"action\":\"create\",\"status\":\"success\"},"
		"\"configuration\":{\"purpose\":\"network\",\"dependencies\":[\"dns\",\"nat\"],"
		"\"cidr\":\"10.0.0.0/16\",\"env\":{\"REGION\":\"eu-west-1\"},"
		"\"scaling\":{\"min\":1,\"max\":3,\"triggers\":\"cpu > 80%\"},"
		"\"health_check\":\"/healthz\",\"alerts\":\"p99 > 1s\"},"
		"\"recorded_metrics\":[]},{\"name\":\"api\",\"platform\":\"K8s\","
		"\"last_change\":{\"event_type\":\"deployment_configured\","
		"\"action\":\"update\",\"status\":\"failure\"},"
		"\"configuration\":{\"version\":\"1.4.2\",\"environment\":\"production\","
		"\"changes\":[\"fix login\",\"faster | search\"],"
		"\"testing\":{\"unit\":\"pass\",\"integration\":\"pass\","
		"\"security\":\"fail\"},\"strategy\":\"canary\",\"rollback\":\"helm rollback "
		"api\",\"replicas\":3},\"recorded_metrics\":[\"cpu\"]}],"
		"\"findings\":null}");
	cJSON_Delete(j);
	hive_facts_free(f);
}

static void test_prometheus(void **state)
{
	struct hive_facts *f;
	struct hive_buf b = {0};

	make_full(*state);
	f = load(*state, "s1");
	hive_report_prometheus(f, &b);
	assert_text(
		b.p,
		"# HELP hive_session_info A hive session: its id, worker and status; always 1.\n"
		"# TYPE hive_session_info gauge\n"
		"hive_session_info{session=\"s1\",worker=\"devops-worker\",status=\"completed\"} "
		"1\n"
		"# HELP hive_session_start_time_seconds When the session started (Unix time).\n"
		"# TYPE hive_session_start_time_seconds gauge\n"
		"hive_session_start_time_seconds{worker=\"devops-worker\"} 1736935200\n"
		"# HELP hive_session_duration_seconds From session_started to session_completed ("
		"or the last event).\n"
		"# TYPE hive_session_duration_seconds gauge\n"
		"hive_session_duration_seconds{worker=\"devops-worker\"} 1200\n"
		"# HELP hive_events_total Events in the session's log, by event_type and details."
		"status.\n"
		"# TYPE hive_events_total counter\n"
		"hive_events_total{worker=\"devops-worker\",type=\"session_started\"} 1\n"
		"hive_events_total{worker=\"devops-worker\",type=\"infrastructure_provisioned\",s"
		"tatus=\"success\"} 1\n"
		"hive_events_total{worker=\"devops-worker\",type=\"deployment_configured\",status"
		"=\"success\"} 1\n"
		"hive_events_total{worker=\"devops-worker\",type=\"deployment_configured\",status"
		"=\"failure\"} 1\n"
		"hive_events_total{worker=\"devops-worker\",type=\"metric_recorded\"} 1\n"
		"hive_events_total{worker=\"devops-worker\",type=\"incident_detected\",status=\"f"
		"ailure\"} 1\n"
		"hive_events_total{worker=\"devops-worker\",type=\"incident_responded\",status=\""
		"success\"} 1\n"
		"hive_events_total{worker=\"devops-worker\",type=\"incident_resolved\",status=\"s"
		"uccess\"} 1\n"
		"hive_events_total{worker=\"devops-worker\",type=\"session_completed\"} 1\n"
		"# HELP hive_resources Resources the session changed, by action (a resource count"
		"s once per action).\n"
		"# TYPE hive_resources gauge\n"
		"hive_resources{worker=\"devops-worker\",action=\"create\"} 1\n"
		"hive_resources{worker=\"devops-worker\",action=\"update\"} 1\n"
		"hive_resources{worker=\"devops-worker\",action=\"delete\"} 0\n"
		"# HELP hive_deployments_total Ended deployment_configured events, by environment"
		" and status.\n"
		"# TYPE hive_deployments_total counter\n"
		"hive_deployments_total{worker=\"devops-worker\",environment=\"production\",statu"
		"s=\"success\"} 1\n"
		"hive_deployments_total{worker=\"devops-worker\",status=\"failure\"} 1\n"
		"# HELP hive_deployment_failed_changes_total Deployments that failed or that an i"
		"ncident is linked to (DORA).\n"
		"# TYPE hive_deployment_failed_changes_total counter\n"
		"hive_deployment_failed_changes_total{worker=\"devops-worker\",environment=\"prod"
		"uction\"} 0\n"
		"hive_deployment_failed_changes_total{worker=\"devops-worker\"} 1\n"
		"# HELP hive_deployment_status 1 for each environment's latest deployment status "
		"(STATE.json).\n"
		"# TYPE hive_deployment_status gauge\n"
		"hive_deployment_status{worker=\"devops-worker\",environment=\"production\",statu"
		"s=\"success\"} 1\n"
		"hive_deployment_status{worker=\"devops-worker\",status=\"failure\"} 1\n"
		"# HELP hive_change_failure_ratio Failed changes over deployments (DORA).\n"
		"# TYPE hive_change_failure_ratio gauge\n"
		"hive_change_failure_ratio{worker=\"devops-worker\"} 0.5\n"
		"# HELP hive_incidents_total Incidents detected, by severity.\n"
		"# TYPE hive_incidents_total counter\n"
		"hive_incidents_total{worker=\"devops-worker\",severity=\"P1\"} 1\n"
		"# HELP hive_incident_recovery_seconds From incident_detected to incident_resolve"
		"d.\n"
		"# TYPE hive_incident_recovery_seconds summary\n"
		"hive_incident_recovery_seconds_sum{worker=\"devops-worker\"} 630.5\n"
		"hive_incident_recovery_seconds_count{worker=\"devops-worker\"} 1\n"
		"# HELP hive_recorded_value metric_recorded: each resource's latest value of each"
		" name and unit.\n"
		"# TYPE hive_recorded_value gauge\n"
		"hive_recorded_value{worker=\"devops-worker\",name=\"cpu\",unit=\"cores\",resourc"
		"e=\"api\"} 0.75\n");
	hive_buf_free(&b);
	hive_facts_free(f);
}

static void test_bare_session(void **state)
{
	struct hive_facts *f;
	struct hive_buf b = {0};
	cJSON *m;

	make_session(*state, "s2", bare_events, NULL);
	f = load(*state, "s2");
	m = hive_report_metrics(f);
	assert_json(m,
		    "{\"session_id\":\"s2\",\"status\":\"active\","
		    "\"started_at\":\"2025-01-15T10:00:00Z\",\"completed_at\":null,"
		    "\"duration_s\":0,\"events\":{\"total\":1,\"by_type\":{\"session_started\":1},"
		    "\"by_status\":{},\"by_platform\":{},\"failures\":0},"
		    "\"resources\":{\"count\":0,\"created\":0,\"updated\":0,\"deleted\":0},"
		    "\"deployments\":{\"count\":0,\"success\":0,\"failure\":0,"
		    "\"failed_changes\":0,\"change_failure_rate\":null},\"incidents\":{\"count\":0,"
		    "\"linked_to_deployments\":0,\"mttr_s\":null},"
		    "\"lead_time_s\":null,\"metrics\":{}}");
	cJSON_Delete(m);
	assert_markdown(
		f, "runbook", NULL,
		"# RUNBOOK: s2\n"
		"\n"
		"- Worker: devops-worker\n"
		"- Status: active\n"
		"- Started: 2025-01-15T10:00:00Z\n"
		"- Completed: not recorded\n"
		"- Duration: 0 s\n"
		"- Commit: not recorded (not a git repository)\n"
		"- CI: none (run outside CI)\n"
		"\n"
		"## Metrics\n"
		"\n"
		"- Events: 1 (0 failed)\n"
		"- Resources: 0 changed (0 created, 0 updated, 0 deleted; a resource counts once "
		"per action)\n"
		"- Deployments: 0 (0 succeeded, 0 failed), change failure rate not recorded\n"
		"- Incidents: 0 (0 linked to a deployment), mean time to recovery not recorded\n"
		"- Lead time for changes: not recorded\n"
		"\n"
		"## Timeline\n"
		"\n"
		"| seq | time | event | resource | action | platform | status |\n"
		"|---|---|---|---|---|---|---|\n"
		"| 1 | 2025-01-15T10:00:00Z | session_started |  |  |  |  |\n"
		"\n"
		"## DEPLOYMENT SUMMARY\n"
		"\n"
		"No deployment_configured event was recorded.\n"
		"\n"
		"## INCIDENT REPORT\n"
		"\n"
		"No incident was recorded.\n"
		"\n"
		"## INFRASTRUCTURE COMPONENT\n"
		"\n"
		"No infrastructure change was recorded.\n"
		"\n"
		"## PROCEDURE\n"
		"\n"
		"No deployment was recorded: nothing to roll back or verify.\n"
		"\n"
		"## Validation\n"
		"\n"
		"Not checked here: pass hive-check's JSON findings with --findings.\n"
		"\n");
	hive_report_prometheus(f, &b);
	assert_text(
		b.p,
		"# HELP hive_session_info A hive session: its id, worker and status; always 1.\n"
		"# TYPE hive_session_info gauge\n"
		"hive_session_info{session=\"s2\",worker=\"devops-worker\",status=\"active\"} 1\n"
		"# HELP hive_session_start_time_seconds When the session started (Unix time).\n"
		"# TYPE hive_session_start_time_seconds gauge\n"
		"hive_session_start_time_seconds{worker=\"devops-worker\"} 1736935200\n"
		"# HELP hive_session_duration_seconds From session_started to session_completed ("
		"or the last event).\n"
		"# TYPE hive_session_duration_seconds gauge\n"
		"hive_session_duration_seconds{worker=\"devops-worker\"} 0\n"
		"# HELP hive_events_total Events in the session's log, by event_type and details."
		"status.\n"
		"# TYPE hive_events_total counter\n"
		"hive_events_total{worker=\"devops-worker\",type=\"session_started\"} 1\n"
		"# HELP hive_resources Resources the session changed, by action (a resource count"
		"s once per action).\n"
		"# TYPE hive_resources gauge\n"
		"hive_resources{worker=\"devops-worker\",action=\"create\"} 0\n"
		"hive_resources{worker=\"devops-worker\",action=\"update\"} 0\n"
		"hive_resources{worker=\"devops-worker\",action=\"delete\"} 0\n");
	hive_buf_free(&b);
	hive_facts_free(f);
}

/* "all" is the three reports without the overview; findings add the validation section. */
static void test_markdown_all_with_findings(void **state)
{
	struct hive_facts *f;
	cJSON *findings = cJSON_Parse(
		"[{\"level\":\"error\",\"rule\":\"chain\",\"session\":\"s2\",\"file\":"
		"\"s/s2/EVENTS.jsonl\",\"line\":3,\"message\":\"seq | <x>\"},"
		"{\"level\":\"warning\",\"rule\":\"order\",\"session\":\"s2\",\"file\":\"f\","
		"\"line\":null,\"message\":\"two\\nlines\"}]");

	assert_non_null(findings);
	make_session(*state, "s2", bare_events, NULL);
	f = load(*state, "s2");
	assert_markdown(f, "all", findings,
			"## DEPLOYMENT SUMMARY\n"
			"\n"
			"No deployment_configured event was recorded.\n"
			"\n"
			"## INCIDENT REPORT\n"
			"\n"
			"No incident was recorded.\n"
			"\n"
			"## INFRASTRUCTURE COMPONENT\n"
			"\n"
			"No infrastructure change was recorded.\n"
			"\n"
			"## Validation\n"
			"\n"
			"hive-check: 1 error, 1 warning.\n"
			"\n"
			"- error [chain] s/s2/EVENTS.jsonl:3: seq \\| &lt;x>\n"
			"- warning [order] f: two lines\n"
			"\n");
	/* no findings: no validation section outside the runbook */
	assert_markdown(f, "all", NULL,
			"## DEPLOYMENT SUMMARY\n"
			"\n"
			"No deployment_configured event was recorded.\n"
			"\n"
			"## INCIDENT REPORT\n"
			"\n"
			"No incident was recorded.\n"
			"\n"
			"## INFRASTRUCTURE COMPONENT\n"
			"\n"
			"No infrastructure change was recorded.\n"
			"\n");
	/* an unknown report: nothing but the findings */
	assert_markdown(f, "nope", NULL, "");
	assert_markdown(f, "nope", findings,
			"## Validation\n"
			"\n"
			"hive-check: 1 error, 1 warning.\n"
			"\n"
			"- error [chain] s/s2/EVENTS.jsonl:3: seq \\| &lt;x>\n"
			"- warning [order] f: two lines\n"
			"\n");
	cJSON_Delete(findings);
	hive_facts_free(f);
}

/* Values from events cannot break a Markdown line or start HTML. */
static void test_markdown_escaping(void **state)
{
	static const char *const lines[] = {
		EV(1, "2025-01-15T10:00:00Z", "session_started", "{\"requirements\":{}}"),
		EV(2, "2025-01-15T10:01:00Z", "infrastructure_provisioned",
		   "{\"resource\":\"web|<b>\\nnext\",\"action\":\"create\",\"platform\":\"AWS\","
		   "\"configuration\":{\"purpose\":\"a\\r\\nb | c\",\"note\":\"<script>\"},"
		   "\"status\":\"success\"}"),
	};
	struct hive_facts *f;
	char *events = join(lines, 2);

	make_session(*state, "s1", events, NULL);
	free(events);
	f = load(*state, "s1");
	assert_markdown(f, "infrastructure", NULL,
			"## INFRASTRUCTURE COMPONENT\n"
			"\n"
			"- Name: web\\|&lt;b> next\n"
			"- Purpose: a  b \\| c\n"
			"- Dependencies: not recorded\n"
			"- Configuration:\n"
			"  - Platform: AWS\n"
			"  - Last change: infrastructure_provisioned create (success)\n"
			"  - note: &lt;script>\n"
			"  - Environment variables: not recorded\n"
			"- Scaling:\n"
			"  - Min/Max instances: not recorded\n"
			"  - Triggers: not recorded\n"
			"- Monitoring:\n"
			"  - Health check endpoint: not recorded\n"
			"  - Key metrics: not recorded\n"
			"  - Alert thresholds: not recorded\n"
			"\n");
	hive_facts_free(f);
}

/* Min/Max instances get the escaping every other value from an event gets (md): a
 * scaling.min holding a newline must not start a new Markdown line ("## injected" would
 * become a heading). It once did; found by this test. */
static void test_markdown_scaling_escaping(void **state)
{
	static const char *const lines[] = {
		EV(1, "2025-01-15T10:00:00Z", "session_started", "{\"requirements\":{}}"),
		EV(2, "2025-01-15T10:01:00Z", "infrastructure_provisioned",
		   "{\"resource\":\"web\",\"action\":\"create\",\"platform\":\"AWS\","
		   "\"configuration\":{\"scaling\":{\"min\":\"1\\n## injected\",\"max\":2}},"
		   "\"status\":\"success\"}"),
	};
	struct hive_facts *f;
	struct hive_buf b = {0};
	char *events = join(lines, 2);

	make_session(*state, "s1", events, NULL);
	free(events);
	f = load(*state, "s1");
	hive_report_markdown(f, "infrastructure", NULL, &b);
	assert_non_null(strstr(b.p, "  - Min/Max instances: 1 ## injected/2\n"));
	assert_null(strstr(b.p, "\n## injected"));
	hive_buf_free(&b);
	hive_facts_free(f);
}

/* Label values are escaped as the exposition format says: \\ \" \n. */
static void test_prometheus_label_escaping(void **state)
{
	static const char *const lines[] = {
		EV(1, "2025-01-15T10:00:00Z", "session_started", "{\"requirements\":{}}"),
		EV(2, "2025-01-15T10:01:00Z", "metric_recorded",
		   "{\"configuration\":{\"name\":\"a\\\"b\\\\c\\nd\",\"value\":-2.5e-7,"
		   "\"unit\":\"u\\\"\"}}"),
	};
	struct hive_facts *f;
	struct hive_buf b = {0};
	char *events = join(lines, 2);

	make_session(*state, "s1", events, NULL);
	free(events);
	f = load(*state, "s1");
	hive_report_prometheus(f, &b);
	assert_text(
		b.p,
		"# HELP hive_session_info A hive session: its id, worker and status; always 1.\n"
		"# TYPE hive_session_info gauge\n"
		"hive_session_info{session=\"s1\",worker=\"devops-worker\",status=\"active\"} 1\n"
		"# HELP hive_session_start_time_seconds When the session started (Unix time).\n"
		"# TYPE hive_session_start_time_seconds gauge\n"
		"hive_session_start_time_seconds{worker=\"devops-worker\"} 1736935200\n"
		"# HELP hive_session_duration_seconds From session_started to session_completed ("
		"or the last event).\n"
		"# TYPE hive_session_duration_seconds gauge\n"
		"hive_session_duration_seconds{worker=\"devops-worker\"} 60\n"
		"# HELP hive_events_total Events in the session's log, by event_type and details."
		"status.\n"
		"# TYPE hive_events_total counter\n"
		"hive_events_total{worker=\"devops-worker\",type=\"session_started\"} 1\n"
		"hive_events_total{worker=\"devops-worker\",type=\"metric_recorded\"} 1\n"
		"# HELP hive_resources Resources the session changed, by action (a resource count"
		"s once per action).\n"
		"# TYPE hive_resources gauge\n"
		"hive_resources{worker=\"devops-worker\",action=\"create\"} 0\n"
		"hive_resources{worker=\"devops-worker\",action=\"update\"} 0\n"
		"hive_resources{worker=\"devops-worker\",action=\"delete\"} 0\n"
		"# HELP hive_recorded_value metric_recorded: each resource's latest value of each"
		" name and unit.\n"
		"# TYPE hive_recorded_value gauge\n"
		"hive_recorded_value{worker=\"devops-worker\",name=\"a\\\"b\\\\c\\nd\",unit=\"u"
		"\\\"\"} -2.5e-07\n");
	hive_buf_free(&b);
	hive_facts_free(f);
}

/* Without STATE.json the log decides: a failed completion, the last value of a metric
 * name, values that are not numbers ignored, an incident resolved but never detected. */
static void test_metrics_from_log_alone(void **state)
{
	static const char *const lines[] = {
		EV(1, "2025-01-15T10:00:00Z", "session_started", "{\"requirements\":{}}"),
		EV(2, "2025-01-15T10:01:00Z", "metric_recorded",
		   "{\"configuration\":{\"name\":\"cost\",\"value\":1,\"unit\":\"usd\"}}"),
		EV(3, "2025-01-15T10:02:00Z", "metric_recorded",
		   "{\"resource\":\"db\",\"configuration\":{\"name\":\"cost\",\"value\":2}}"),
		EV(4, "2025-01-15T10:03:00Z", "metric_recorded",
		   "{\"configuration\":{\"name\":\"bad\",\"value\":\"3\"}}"),
		EV(5, "2025-01-15T10:04:00Z", "incident_resolved",
		   "{\"resource\":\"db\",\"action\":\"update\",\"platform\":\"AWS\","
		   "\"configuration\":{\"severity\":\"P3\"},\"status\":\"success\"}"),
		EV(6, "2025-01-15T10:05:00Z", "infrastructure_provisioned",
		   "{\"resource\":\"db\",\"action\":\"delete\",\"platform\":\"AWS\","
		   "\"configuration\":{},\"status\":\"failure\"}"),
		EV(7, "2025-01-15T10:06:00Z", "session_completed", "{\"status\":\"failure\"}"),
	};
	struct hive_facts *f;
	char *events = join(lines, 7);
	cJSON *m;

	make_session(*state, "s1", events, NULL);
	free(events);
	f = load(*state, "s1");
	m = hive_report_metrics(f);
	assert_json(m, "{\"session_id\":\"s1\",\"status\":\"failed\","
		       "\"started_at\":\"2025-01-15T10:00:00Z\","
		       "\"completed_at\":\"2025-01-15T10:06:00Z\",\"duration_s\":360,"
		       "\"events\":{\"total\":7,\"by_type\":{\"session_started\":1,"
		       "\"metric_recorded\":3,\"incident_resolved\":1,"
		       "\"infrastructure_provisioned\":1,\"session_completed\":1},"
		       "\"by_status\":{\"success\":1,\"failure\":1},\"by_platform\":{\"AWS\":2},"
		       "\"failures\":1},\"resources\":{\"count\":1,\"created\":0,\"updated\":0,"
		       "\"deleted\":1},\"deployments\":{\"count\":0,\"success\":0,\"failure\":0,"
		       "\"failed_changes\":0,\"change_failure_rate\":null},\"incidents\":{"
		       "\"count\":1,\"linked_to_deployments\":0,\"mttr_s\":null},"
		       "\"lead_time_s\":null,\"metrics\":{\"cost\":{\"by_resource\":[{\"resource\":"
		       "null,\"unit\":\"usd\",\"value\":1,\"timestamp\":\"2025-01-15T10:01:00Z\"},{"
		       "\"resource\":\"db\",\"unit\":null,\"value\":2,\"timestamp\":"
		       "\"2025-01-15T10:02:00Z\"}],\"totals\":[{\"unit\":\"usd\",\"value\":1,"
		       "\"resources\":1},{\"unit\":null,\"value\":2,\"resources\":1}]}}}");
	cJSON_Delete(m);
	hive_facts_free(f);
}

/* --- lead time: a deployed commit's time, read through libgit2 ------------------------ */

/* A repository under root with one commit made at `when` (Unix seconds); its id in hex. */
static git_repository *repo_with_commit(const char *root, git_time_t when, char hex[41])
{
	git_repository *repo = NULL;
	git_treebuilder *tb = NULL;
	git_signature *sig = NULL;
	git_oid tree_id, commit_id;
	git_tree *tree = NULL;
	char path[4096];

	snprintf(path, sizeof(path), "%s/repo", root);
	assert_int_equal(git_repository_init(&repo, path, 0), 0);
	assert_int_equal(git_treebuilder_new(&tb, repo, NULL), 0);
	assert_int_equal(git_treebuilder_write(&tree_id, tb), 0);
	assert_int_equal(git_tree_lookup(&tree, repo, &tree_id), 0);
	assert_int_equal(git_signature_new(&sig, "T", "t@example.com", when, 0), 0);
	assert_int_equal(
		git_commit_create_v(&commit_id, repo, "HEAD", sig, sig, NULL, "c", tree, 0), 0);
	git_oid_tostr(hex, 41, &commit_id);
	git_signature_free(sig);
	git_tree_free(tree);
	git_treebuilder_free(tb);
	return repo;
}

static void test_lead_time(void **state)
{
	char hex[41], events[4096], path[4096];
	struct hive_session *s = NULL;
	struct hive_facts *f = NULL;
	struct hive_err err = {0};
	git_repository *repo;
	cJSON *m, *j;

	git_libgit2_init();
	/* 2025-01-15T09:56:40Z: 320.25 s before the first deployment */
	repo = repo_with_commit(*state, 1736935000, hex);
	snprintf(events, sizeof(events),
		 EV(1, "2025-01-15T10:00:00Z", "session_started",
		    "{\"requirements\":{}}") "{\"seq\":2,\"timestamp\":\"2025-01-15T10:02:00."
					     "250Z\",\"event_type\":"
					     "\"deployment_configured\",\"worker\":\"w\",\"session_"
					     "id\":\"s1\","
					     "\"details\":{\"resource\":\"api\",\"status\":"
					     "\"success\"},"
					     "\"git\":{\"commit\":\"%s\"},\"ci\":null,\"prev\":"
					     "null}\n"
					     /* a commit the repository does not have: no lead time,
						never a guess */
					     "{\"seq\":3,\"timestamp\":\"2025-01-15T10:03:00Z\","
					     "\"event_type\":"
					     "\"deployment_configured\",\"worker\":\"w\",\"session_"
					     "id\":\"s1\","
					     "\"details\":{\"resource\":\"api\",\"status\":"
					     "\"success\"},"
					     "\"git\":{\"commit\":\"" COMMIT
					     "\"},\"ci\":null,\"prev\":null}\n",
		 hex);
	make_session(*state, "s1", events, NULL);
	snprintf(path, sizeof(path), "%s", (const char *)*state);
	assert_int_equal(hive_session_open_ro(path, "s1", &s, &err), HIVE_OK);
	assert_int_equal(hive_facts_load(s, repo, &f, &err), HIVE_OK);
	hive_session_close(s);
	m = hive_report_metrics(f);
	assert_true(cJSON_IsNumber(cJSON_GetObjectItem(m, "lead_time_s")));
	assert_true(cJSON_GetObjectItem(m, "lead_time_s")->valuedouble == 320.25);
	cJSON_Delete(m);
	j = hive_report_json(f, NULL);
	assert_json(cJSON_GetObjectItem(j, "deployments"),
		    "[{\"resource\":\"api\",\"timestamp\":\"2025-01-15T10:02:00.250Z\","
		    "\"success\":true,\"version\":null,\"environment\":null,\"changes\":null,"
		    "\"testing\":null,\"strategy\":null,\"rollback\":null,\"lead_time_s\":320.25,"
		    "\"seq\":2,\"failed_change\":false},"
		    "{\"resource\":\"api\",\"timestamp\":\"2025-01-15T10:03:00Z\",\"success\":true,"
		    "\"version\":null,\"environment\":null,\"changes\":null,\"testing\":null,"
		    "\"strategy\":null,\"rollback\":null,\"lead_time_s\":null,\"seq\":3,"
		    "\"failed_change\":false}]");
	cJSON_Delete(j);
	hive_facts_free(f);
	git_repository_free(repo);
	git_libgit2_shutdown();
}

/* --- DORA ----------------------------------------------------------------------------- */

static void test_dora(void **state)
{
	static const char *const lines[] = {
		EV(1, "2025-01-18T10:00:00Z", "session_started", "{\"requirements\":{}}"),
		EV(2, "2025-01-18T10:02:00Z", "deployment_configured",
		   "{\"resource\":\"api\",\"action\":\"update\",\"platform\":\"K8s\","
		   "\"configuration\":{},\"status\":\"success\"}"),
		EV(3, "2025-01-18T11:00:00Z", "incident_detected",
		   "{\"resource\":\"db\",\"action\":\"update\",\"platform\":\"K8s\","
		   "\"configuration\":{\"severity\":\"P3\"},\"status\":\"failure\"}"),
		EV(4, "2025-01-18T11:01:40Z", "incident_resolved",
		   "{\"resource\":\"db\",\"action\":\"update\",\"platform\":\"K8s\","
		   "\"configuration\":{},\"status\":\"success\"}"),
	};
	struct hive_dora *d = NULL;
	struct hive_facts *f1, *f2, *f3;
	struct hive_err err = {0};
	struct hive_buf b = {0};
	char *events = join(lines, 4);
	cJSON *j;

	make_full(*state);
	make_session(*state, "s2", bare_events, NULL);
	make_session(*state, "s3", events, NULL);
	free(events);
	f1 = load(*state, "s1");
	f2 = load(*state, "s2");
	f3 = load(*state, "s3");
	assert_int_equal(hive_dora_new(&d, &err), HIVE_OK);
	hive_dora_add(d, f1);
	hive_dora_add(d, f2);
	hive_dora_add(d, f3);
	j = hive_dora_json(d);
	assert_json(j,
		    "{\"sessions\":3,\"deployment_frequency\":{\"deployments\":2,\"days\":3,"
		    "\"per_day\":0.66666666666666663,\"first\":\"2025-01-15T10:02:00.000Z\","
		    "\"last\":\"2025-01-18T10:02:00.000Z\"},"
		    "\"lead_time_for_changes\":{\"deployments\":0,\"median_s\":null},"
		    "\"change_failure_rate\":{\"deployments\":3,\"failed\":1,"
		    "\"rate\":0.33333333333333331},"
		    "\"failed_deployment_recovery_time\":{\"incidents\":2,\"median_s\":365.25}}");
	cJSON_Delete(j);
	hive_dora_markdown(d, &b);
	assert_text(b.p,
		    "# DORA METRICS\n"
		    "\n"
		    "Across 3 sessions.\n"
		    "\n"
		    "| key | value | from |\n"
		    "|---|---|---|\n"
		    "| Deployment frequency | 0.667 per day | 2 successful deployments over 3 days "
		    "|\n"
		    "| Lead time for changes (median) | not recorded | 0 deployments with a known "
		    "commit time |\n"
		    "| Change failure rate | 33.3% | 1 of 3 deployments failed or had an incident "
		    "linked |\n"
		    "| Failed deployment recovery time (median) | 6m 5.25s (365.25 s) | 2 resolved "
		    "incidents "
		    "|\n"
		    "\n");
	hive_buf_free(&b);
	hive_dora_prometheus(d, &b);
	assert_text(b.p,
		    "# HELP hive_dora_deployments_per_day Successful deployments per day across "
		    "sessions.\n"
		    "# TYPE hive_dora_deployments_per_day gauge\n"
		    "hive_dora_deployments_per_day 0.666666666666667\n"
		    "# HELP hive_dora_change_failure_ratio Failed deployments over all "
		    "deployments.\n"
		    "# TYPE hive_dora_change_failure_ratio gauge\n"
		    "hive_dora_change_failure_ratio 0.333333333333333\n"
		    "# HELP hive_dora_recovery_seconds Median failed deployment recovery time.\n"
		    "# TYPE hive_dora_recovery_seconds gauge\n"
		    "hive_dora_recovery_seconds 365.25\n");
	hive_buf_free(&b);
	hive_dora_free(d);
	hive_facts_free(f1);
	hive_facts_free(f2);
	hive_facts_free(f3);
}

/* No session at all: every key says so, and nothing divides by zero. */
static void test_dora_empty(void **state)
{
	struct hive_dora *d = NULL;
	struct hive_err err = {0};
	struct hive_buf b = {0};
	cJSON *j;

	(void)state;
	assert_int_equal(hive_dora_new(&d, &err), HIVE_OK);
	j = hive_dora_json(d);
	assert_json(j, "{\"sessions\":0,\"deployment_frequency\":{\"deployments\":0,\"days\":1,"
		       "\"per_day\":0,\"first\":null,\"last\":null},"
		       "\"lead_time_for_changes\":{\"deployments\":0,\"median_s\":null},"
		       "\"change_failure_rate\":{\"deployments\":0,\"failed\":0,\"rate\":null},"
		       "\"failed_deployment_recovery_time\":{\"incidents\":0,\"median_s\":null}}");
	cJSON_Delete(j);
	hive_dora_markdown(d, &b);
	assert_text(b.p,
		    "# DORA METRICS\n"
		    "\n"
		    "Across 0 sessions.\n"
		    "\n"
		    "| key | value | from |\n"
		    "|---|---|---|\n"
		    "| Deployment frequency | 0 per day | 0 successful deployments over 1 day |\n"
		    "| Lead time for changes (median) | not recorded | 0 deployments with a known "
		    "commit time |\n"
		    "| Change failure rate | not recorded | 0 of 0 deployments failed or had an "
		    "incident linked |\n"
		    "| Failed deployment recovery time (median) | not recorded | 0 resolved "
		    "incidents |\n"
		    "\n");
	hive_buf_free(&b);
	hive_dora_prometheus(d, &b);
	assert_text(b.p,
		    "# HELP hive_dora_deployments_per_day Successful deployments per day across "
		    "sessions.\n"
		    "# TYPE hive_dora_deployments_per_day gauge\n"
		    "hive_dora_deployments_per_day 0\n");
	hive_buf_free(&b);
	hive_dora_free(d);
}

/* --- errors ------------------------------------------------------------------------- */

static void load_fails(const char *root, const char *id, const char *events, const char *want)
{
	struct hive_session *s = NULL;
	struct hive_facts *f = (struct hive_facts *)1;
	struct hive_err err = {0};
	char msg[4200];

	make_session(root, id, events, NULL);
	assert_int_equal(hive_session_open_ro(root, id, &s, &err), HIVE_OK);
	assert_int_equal(hive_facts_load(s, NULL, &f, &err), HIVE_EENV);
	assert_null(f);
	assert_int_equal(err.status, HIVE_EENV);
	snprintf(msg, sizeof(msg), "%s/sessions/%s/EVENTS.jsonl:%s", root, id, want);
	assert_string_equal(err.msg, msg);
	hive_session_close(s);
}

static void test_facts_load_errors(void **state)
{
	load_fails(*state, "a", "{\"seq\":1}\nnot json\n",
		   "2: not a whole JSON line: run hive-check");
	load_fails(*state, "b", "{\"seq\":1}\n{\"seq\":2}",
		   "2: not a whole JSON line: run hive-check");
	load_fails(*state, "c", "{\"seq\":1}\n\n", "2: not a whole JSON line: run hive-check");
}

/* A STATE.json that is not an object is ignored: the log decides. */
static void test_facts_odd_state(void **state)
{
	struct hive_facts *f;
	cJSON *m;

	make_session(*state, "s2", bare_events, "[1]");
	f = load(*state, "s2");
	m = hive_report_metrics(f);
	assert_string_equal(cJSON_GetObjectItem(m, "session_id")->valuestring, "s2");
	assert_string_equal(cJSON_GetObjectItem(m, "status")->valuestring, "active");
	cJSON_Delete(m);
	hive_facts_free(f);
}

static void test_free_null(void **state)
{
	(void)state;
	hive_facts_free(NULL);
	hive_dora_free(NULL);
}

/* The dashboard: panels with distinct ids that fit Grafana's 24 columns, one PromQL target
 * each over hive's series, filtered by the worker variable, never by a session. */
static void test_dashboard(void **state)
{
	cJSON *d = hive_report_dashboard(), *p;
	int ids = 0, n = 0;

	(void)state;
	assert_non_null(d);
	assert_int_equal(cJSON_GetObjectItem(d, "schemaVersion")->valueint, 39);
	cJSON_ArrayForEach(p, cJSON_GetObjectItem(d, "panels"))
	{
		const cJSON *g = cJSON_GetObjectItem(p, "gridPos");
		const cJSON *t = cJSON_GetObjectItem(p, "targets");
		const char *expr =
			cJSON_GetObjectItem(cJSON_GetArrayItem(t, 0), "expr")->valuestring;
		int id = cJSON_GetObjectItem(p, "id")->valueint;
		assert_true(id > 0 && id < 31 && !(ids & (1 << id)));
		ids |= 1 << id;
		assert_true(cJSON_GetObjectItem(g, "x")->valueint +
				    cJSON_GetObjectItem(g, "w")->valueint <=
			    24);
		assert_int_equal(cJSON_GetArraySize(t), 1);
		assert_non_null(strstr(expr, "hive_"));
		assert_non_null(strstr(expr, "worker=~\"$worker\""));
		assert_null(strstr(expr, "session="));
		n++;
	}
	assert_int_equal(n, 12);
	cJSON_Delete(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_metrics_full, unit_setup_tmpdir,
						unit_teardown_tmpdir),
		cmocka_unit_test_setup_teardown(test_markdown_deployment, unit_setup_tmpdir,
						unit_teardown_tmpdir),
		cmocka_unit_test_setup_teardown(test_markdown_incident, unit_setup_tmpdir,
						unit_teardown_tmpdir),
		cmocka_unit_test_setup_teardown(test_markdown_infrastructure, unit_setup_tmpdir,
						unit_teardown_tmpdir),
		cmocka_unit_test_setup_teardown(test_markdown_runbook, unit_setup_tmpdir,
						unit_teardown_tmpdir),
		cmocka_unit_test_setup_teardown(test_report_json, unit_setup_tmpdir,
						unit_teardown_tmpdir),
		cmocka_unit_test_setup_teardown(test_prometheus, unit_setup_tmpdir,
						unit_teardown_tmpdir),
		cmocka_unit_test_setup_teardown(test_bare_session, unit_setup_tmpdir,
						unit_teardown_tmpdir),
		cmocka_unit_test_setup_teardown(test_markdown_all_with_findings, unit_setup_tmpdir,
						unit_teardown_tmpdir),
		cmocka_unit_test_setup_teardown(test_markdown_escaping, unit_setup_tmpdir,
						unit_teardown_tmpdir),
		cmocka_unit_test_setup_teardown(test_prometheus_label_escaping, unit_setup_tmpdir,
						unit_teardown_tmpdir),
		cmocka_unit_test_setup_teardown(test_metrics_from_log_alone, unit_setup_tmpdir,
						unit_teardown_tmpdir),
		cmocka_unit_test_setup_teardown(test_lead_time, unit_setup_tmpdir,
						unit_teardown_tmpdir),
		cmocka_unit_test_setup_teardown(test_dora, unit_setup_tmpdir, unit_teardown_tmpdir),
		cmocka_unit_test(test_dora_empty),
		cmocka_unit_test_setup_teardown(test_facts_load_errors, unit_setup_tmpdir,
						unit_teardown_tmpdir),
		cmocka_unit_test_setup_teardown(test_facts_odd_state, unit_setup_tmpdir,
						unit_teardown_tmpdir),
		cmocka_unit_test(test_free_null),
		cmocka_unit_test(test_dashboard),
		cmocka_unit_test_setup_teardown(test_markdown_scaling_escaping, unit_setup_tmpdir,
						unit_teardown_tmpdir),
	};
	return cmocka_run_group_tests_name("report", tests, NULL, NULL);
}
