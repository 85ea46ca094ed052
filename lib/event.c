/* event.c - the event schema (SPEC 3), event building and KEY=VALUE parsing */
#include "event.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "id.h"
#include "redact.h"
#include "util.h"

enum type_class { T_UNKNOWN, T_SEED, T_INCIDENT, T_METRIC, T_TOOL, T_INTERNAL, T_CUSTOM };

static const char *seed_types[] = {"deployment_configured", "infrastructure_provisioned",
				   "pipeline_updated", "monitoring_added", "security_hardened"};
static const char *incident_types[] = {"incident_detected", "incident_responded",
				       "incident_resolved"};
static const char *actions[] = {"create", "update", "delete", NULL};
static const char *statuses[] = {"success", "failure", NULL};
/* a deployment may also say it has started and not ended (STATE.json deployment) */
static const char *deploy_statuses[] = {"success", "failure", "in_progress", NULL};
static const char *builtin_platforms[] = {"AWS", "GCP", "Azure", "Docker", "K8s", NULL};
static const char *severities[] = {"P1", "P2", "P3", "P4", NULL};
static const char *details_keys[] = {"resource", "action", "platform", "configuration", "status"};

#define N(a) (sizeof(a) / sizeof((a)[0]))

static enum type_class classify(const char *type, const struct hive_config *cfg)
{
	size_t i;

	if (!type)
		return T_UNKNOWN;
	switch (type[0]) { /* built-in types start with one of these */
	case 'd':
	case 'i':
	case 'l':
	case 'p':
	case 'm':
	case 's':
		break;
	case 't':
		if (!strcmp(type, "tool_used"))
			return T_TOOL;
		goto configured;
	default:
		goto configured;
	}
	for (i = 0; i < N(seed_types); i++)
		if (!strcmp(type, seed_types[i]))
			return T_SEED;
	for (i = 0; i < N(incident_types); i++)
		if (!strcmp(type, incident_types[i]))
			return T_INCIDENT;
	if (!strcmp(type, "metric_recorded"))
		return T_METRIC;
	if (hive_event_type_is_internal(type))
		return T_INTERNAL;
configured:
	if (cfg && hive_strv_has(&cfg->types, type))
		return T_CUSTOM;
	return T_UNKNOWN;
}

int hive_event_type_known(const char *type, const struct hive_config *cfg)
{
	return classify(type, cfg) != T_UNKNOWN;
}

int hive_event_type_is_change(const char *type)
{
	return classify(type, NULL) == T_SEED;
}

int hive_event_type_is_internal(const char *type)
{
	return type && (!strcmp(type, "session_started") || !strcmp(type, "session_completed") ||
			!strcmp(type, "lane_started") || !strcmp(type, "session_joined"));
}

/* "sha256:<64 lowercase hex>" */
static int is_hash(const cJSON *v)
{
	size_t i;

	if (!cJSON_IsString(v) || strncmp(v->valuestring, "sha256:", 7) ||
	    strlen(v->valuestring) != 71)
		return 0;
	for (i = 7; i < 71; i++)
		if (!strchr("0123456789abcdef", v->valuestring[i]))
			return 0;
	return 1;
}

/* A whole number from lo, as JSON gives it. */
static int is_count(const cJSON *v, double lo)
{
	return cJSON_IsNumber(v) && v->valuedouble >= lo && v->valuedouble <= 9007199254740991.0 &&
	       v->valuedouble == (double)(int64_t)v->valuedouble;
}

/* lane_started: details.main {seq, hash}, the head of the main log the lane started from.
 * session_joined: details.lanes {NAME: {lines, hash}}, each lane's line count and last hash. */
static int check_lane_details(const char *type, const cJSON *details, struct hive_err *err)
{
	const cJSON *main, *lanes, *item;

	if (!strcmp(type, "lane_started")) {
		main = cJSON_GetObjectItemCaseSensitive(details, "main");
		if (!cJSON_IsObject(main) ||
		    !is_count(cJSON_GetObjectItemCaseSensitive(main, "seq"), 1) ||
		    !is_hash(cJSON_GetObjectItemCaseSensitive(main, "hash")))
			return hive_err_set(
				err, HIVE_EUSAGE,
				"details.main: expected {\"seq\": N, \"hash\": "
				"\"sha256:<64 hex>\"}, the head of EVENTS.jsonl the lane "
				"started from");
		return HIVE_OK;
	}
	lanes = cJSON_GetObjectItemCaseSensitive(details, "lanes");
	if (!cJSON_IsObject(lanes) || !lanes->child)
		return hive_err_set(err, HIVE_EUSAGE,
				    "details.lanes: expected an object naming at least one lane");
	cJSON_ArrayForEach(item, lanes)
	{
		if (hive_id_check("lane", item->string, strlen(item->string), err))
			return HIVE_EUSAGE;
		if (!cJSON_IsObject(item) ||
		    !is_count(cJSON_GetObjectItemCaseSensitive(item, "lines"), 1) ||
		    !is_hash(cJSON_GetObjectItemCaseSensitive(item, "hash")))
			return hive_err_set(err, HIVE_EUSAGE,
					    "details.lanes.%s: expected {\"lines\": N, \"hash\": "
					    "\"sha256:<64 hex>\"}",
					    item->string);
	}
	return HIVE_OK;
}

/* "a, b, c" (and the configured extras) for messages. */
static void join(char *buf, size_t size, const char **list, const struct hive_strv *extra)
{
	size_t o = 0, i;

	buf[0] = '\0';
	for (i = 0; list[i] && o < size; i++)
		o += (size_t)snprintf(buf + o, size - o, "%s%s", i ? ", " : "", list[i]);
	for (i = 0; extra && i < extra->n && o < size; i++)
		o += (size_t)snprintf(buf + o, size - o, ", %s", extra->v[i]);
}

static int in_list(const char *s, const char **list, const struct hive_strv *extra)
{
	size_t i;

	for (i = 0; list[i]; i++)
		if (!strcmp(s, list[i]))
			return 1;
	return extra && hive_strv_has(extra, s);
}

static const char *json_kind(const cJSON *v)
{
	if (!v)
		return "missing";
	if (cJSON_IsNull(v))
		return "null";
	if (cJSON_IsBool(v))
		return "a boolean";
	if (cJSON_IsNumber(v))
		return "a number";
	if (cJSON_IsString(v))
		return "a string";
	if (cJSON_IsArray(v))
		return "an array";
	return "an object";
}

/* A required (or present optional) enum field. */
static int check_enum(const cJSON *obj, const char *path, const char *key, const char **list,
		      const struct hive_strv *extra, int required, struct hive_err *err)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	char allowed[512], q[128];

	if (!v && !required)
		return HIVE_OK;
	if (cJSON_IsString(v) && in_list(v->valuestring, list, extra))
		return HIVE_OK; /* the common case: no message to build */
	join(allowed, sizeof(allowed), list, extra);
	if (!v)
		return hive_err_set(err, HIVE_EUSAGE, "%s.%s: missing (one of %s)", path, key,
				    allowed);
	if (!cJSON_IsString(v))
		return hive_err_set(err, HIVE_EUSAGE,
				    "%s.%s: expected a string, got %s (one of %s)", path, key,
				    json_kind(v), allowed);
	if (!in_list(v->valuestring, list, extra))
		return hive_err_set(err, HIVE_EUSAGE, "%s.%s: %s is not one of %s", path, key,
				    hive_quote(q, sizeof(q), v->valuestring), allowed);
	return HIVE_OK;
}

static int check_string(const cJSON *obj, const char *path, const char *key, int required,
			int nonempty, struct hive_err *err)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	if (!v && !required)
		return HIVE_OK;
	if (!v)
		return hive_err_set(err, HIVE_EUSAGE, "%s.%s: missing (a %sstring)", path, key,
				    nonempty ? "non-empty " : "");
	if (!cJSON_IsString(v))
		return hive_err_set(err, HIVE_EUSAGE, "%s.%s: expected a string, got %s", path, key,
				    json_kind(v));
	if (nonempty && !*v->valuestring)
		return hive_err_set(err, HIVE_EUSAGE, "%s.%s: must not be empty", path, key);
	return HIVE_OK;
}

/* details.resource is an identifier (reports, metrics and STATE.json name resources by it):
 * one with a secret's shape is refused, never rewritten, and not repeated in the message. */
static int check_resource_not_secret(const cJSON *details, struct hive_err *err)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(details, "resource");
	const char *rule;

	if (cJSON_IsString(v) && (rule = hive_secret_shape(v->valuestring, strlen(v->valuestring))))
		return hive_err_set(err, HIVE_EUSAGE,
				    "details.resource has the shape of a secret (%s): a resource "
				    "names things in clear, so it is refused (the value is not "
				    "repeated here)",
				    rule);
	return HIVE_OK;
}

/* An incident's configuration; severity is required when `severity` is set. */
static int check_incident(const cJSON *conf, int severity, struct hive_err *err)
{
	const cJSON *items, *it;
	int rc, i = 0;

	if ((rc = check_enum(conf, "details.configuration", "severity", severities, NULL, severity,
			     err)) ||
	    (rc = check_string(conf, "details.configuration", "impact", 0, 0, err)) ||
	    (rc = check_string(conf, "details.configuration", "root_cause", 0, 0, err)))
		return rc;
	items = cJSON_GetObjectItemCaseSensitive(conf, "action_items");
	if (!items)
		return HIVE_OK;
	if (cJSON_IsString(items))
		return HIVE_OK;
	if (!cJSON_IsArray(items))
		return hive_err_set(err, HIVE_EUSAGE,
				    "details.configuration.action_items: expected an array of "
				    "strings, got %s",
				    json_kind(items));
	cJSON_ArrayForEach(it, items)
	{
		if (!cJSON_IsString(it))
			return hive_err_set(err, HIVE_EUSAGE,
					    "details.configuration.action_items[%d]: expected a "
					    "string, got %s",
					    i, json_kind(it));
		i++;
	}
	return HIVE_OK;
}

/* Where a value sits, as a chain of frames on the stack: the path text ("details.tags[2]")
 * is only written when there is something to report. */
struct where {
	const struct where *up;
	const char *key; /* NULL for an array element */
	int index;
};

static void where_text(const struct where *w, char *out, size_t size)
{
	char tail[512];

	if (!w) {
		out[0] = '\0';
		return;
	}
	where_text(w->up, out, size);
	if (w->key)
		snprintf(tail, sizeof(tail), "%s%s", w->up ? "." : "", w->key);
	else
		snprintf(tail, sizeof(tail), "[%d]", w->index);
	strncat(out, tail, size - strlen(out) - 1);
}

/* Values an event line cannot carry as given: a number JSON has no form for (cJSON reads
 * 1e999 as infinity and would write it back as null), text that is not UTF-8 (SPEC 3:
 * a line is UTF-8), a key named twice, and arrays and objects nested past the reader's
 * limit (v is at `depth` in the event: the event is 1, details 2). Each way the line
 * written would not be the event validated, or would not be read back. */
static int check_values(const cJSON *v, const struct where *w, int depth, struct hive_err *err)
{
	const cJSON *c;
	const char *dup;
	char path[1024], q[128];
	int i = 0, oom, rc;

	if (cJSON_IsNumber(v) && !isfinite(v->valuedouble)) {
		where_text(w, path, sizeof(path));
		return hive_err_set(err, HIVE_EUSAGE,
				    "%s: a number too large for JSON (out of range)", path);
	}
	if (cJSON_IsString(v) && !hive_utf8_valid(v->valuestring, strlen(v->valuestring))) {
		where_text(w, path, sizeof(path));
		return hive_err_set(err, HIVE_EUSAGE, "%s: not valid UTF-8", path);
	}
	if (!cJSON_IsArray(v) && !cJSON_IsObject(v))
		return HIVE_OK;
	if (depth > HIVE_JSON_DEPTH_MAX) {
		where_text(w, path, sizeof(path));
		return hive_err_set(err, HIVE_EUSAGE,
				    "%s: nesting deeper than %d (the limit for a whole event line, "
				    "where the event is level 1 and details level 2)",
				    path, HIVE_JSON_DEPTH_MAX);
	}
	if (cJSON_IsObject(v) && ((dup = hive_json_duplicate_key(v, &oom)) || oom)) {
		if (oom)
			return hive_err_set(err, HIVE_EENV, "out of memory");
		where_text(w, path, sizeof(path));
		return hive_err_set(err, HIVE_EUSAGE, "%s: duplicate key %s", path,
				    hive_quote(q, sizeof(q), dup));
	}
	cJSON_ArrayForEach(c, v)
	{
		struct where here = {w, c->string, i++};
		if (c->string && !hive_utf8_valid(c->string, strlen(c->string))) {
			where_text(w, path, sizeof(path));
			return hive_err_set(err, HIVE_EUSAGE, "%s: a key is not valid UTF-8", path);
		}
		if ((cJSON_IsNumber(c) || cJSON_IsString(c) || cJSON_IsArray(c) ||
		     cJSON_IsObject(c)) &&
		    (rc = check_values(c, &here, depth + 1, err)))
			return rc;
	}
	return HIVE_OK;
}

static int check_metric(const cJSON *conf, struct hive_err *err)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(conf, "value");
	int rc;

	if ((rc = check_string(conf, "details.configuration", "name", 1, 1, err)))
		return rc;
	if (!cJSON_IsNumber(v))
		return hive_err_set(err, HIVE_EUSAGE,
				    "details.configuration.value: expected a number, got %s "
				    "(use value:=42, not value=42)",
				    json_kind(v));
	return check_string(conf, "details.configuration", "unit", 1, 0, err);
}

/* tool_used's configuration (SPEC 12): what the agent gave the tool is a summary, never
 * the whole of it, and what the tool answered is never stored; the gate holds a log to
 * that as the writer does. */
static int check_tool(const cJSON *conf, struct hive_err *err)
{
	static const char *const capped[] = {"input", "error"};
	const cJSON *v;
	size_t i;
	int rc;

	for (i = 0; i < N(capped); i++) {
		if ((rc = check_string(conf, "details.configuration", capped[i], 0, 0, err)))
			return rc;
		v = cJSON_GetObjectItemCaseSensitive(conf, capped[i]);
		if (v && strlen(v->valuestring) > HIVE_TOOL_SUMMARY_MAX)
			return hive_err_set(err, HIVE_EUSAGE,
					    "details.configuration.%s: %zu bytes, more than the %d "
					    "a tool_used summary may hold",
					    capped[i], strlen(v->valuestring),
					    HIVE_TOOL_SUMMARY_MAX);
	}
	if (cJSON_GetObjectItemCaseSensitive(conf, "response") ||
	    cJSON_GetObjectItemCaseSensitive(conf, "tool_response"))
		return hive_err_set(err, HIVE_EUSAGE,
				    "details.configuration: a tool_used event never stores the "
				    "tool's response");
	return HIVE_OK;
}

/* More than one required field missing: all of them in one message, with the options that
 * give them (one missing field gets its own message, with the values it may take). */
static int all_missing(const cJSON *details, const char *type, struct hive_err *err)
{
	static const char *const keys[] = {"resource", "action", "platform", "status"};
	static const char *const flags[] = {"--resource NAME", "--action create|update|delete",
					    "--platform AWS|GCP|Azure|Docker|K8s",
					    "--status success|failure"};
	const cJSON *conf = cJSON_GetObjectItemCaseSensitive(details, "configuration");
	char names[160] = "", hint[300] = "";
	size_t i, n = 0, total = 0;
	int severity = !strcmp(type, "incident_detected") &&
		       !cJSON_GetObjectItemCaseSensitive(conf, "severity");

	for (i = 0; i < N(keys); i++)
		total += !cJSON_GetObjectItemCaseSensitive(details, keys[i]);
	total += (size_t)severity;
	if (total < 2)
		return HIVE_OK;
	for (i = 0; i < N(keys) + 1; i++) {
		const char *name = i < N(keys) ? keys[i] : "configuration.severity";
		const char *flag = i < N(keys) ? flags[i] : "severity=P1|P2|P3|P4";
		size_t ln = strlen(names), lh = strlen(hint);
		if (i < N(keys) ? cJSON_GetObjectItemCaseSensitive(details, keys[i]) != NULL
				: !severity)
			continue;
		n++;
		snprintf(names + ln, sizeof(names) - ln, "%s%s",
			 n == 1	      ? ""
			 : n == total ? " and "
				      : ", ",
			 name);
		snprintf(hint + lh, sizeof(hint) - lh, "%s%s", n == 1 ? "" : " ", flag);
	}
	return hive_err_set(err, HIVE_EUSAGE, "details: %s are missing (give %s)", names, hint);
}

int hive_event_validate_details(const char *type, const cJSON *details,
				const struct hive_config *cfg, struct hive_err *err)
{
	enum type_class cls = classify(type, cfg);
	const struct hive_strv *platforms = cfg ? &cfg->platforms : NULL;
	const cJSON *conf, *item;
	int required = cls == T_SEED || cls == T_INCIDENT, rc;
	int tool = cls == T_TOOL;
	char q[128];
	size_t i;

	if (cls == T_UNKNOWN) {
		/* name the allowed values, as every other refusal does */
		static const char *emittable[] = {"deployment_configured",
						  "infrastructure_provisioned",
						  "pipeline_updated",
						  "monitoring_added",
						  "security_hardened",
						  "incident_detected",
						  "incident_responded",
						  "incident_resolved",
						  "metric_recorded",
						  "tool_used",
						  NULL};
		char allowed[700];

		join(allowed, sizeof(allowed), emittable, cfg ? &cfg->types : NULL);
		return hive_err_set(err, HIVE_EUSAGE,
				    "event_type: %s is not one of %s (add types with events.types "
				    "in .hive.yml)",
				    hive_quote(q, sizeof(q), type ? type : ""), allowed);
	}
	if (!cJSON_IsObject(details))
		return hive_err_set(err, HIVE_EUSAGE, "details: expected an object, got %s",
				    json_kind(details));
	if (cls == T_INTERNAL) {
		if (!strcmp(type, "session_completed"))
			return check_enum(details, "details", "status", statuses, NULL, 1, err);
		if (!strcmp(type, "lane_started") || !strcmp(type, "session_joined"))
			return check_lane_details(type, details, err);
		item = cJSON_GetObjectItemCaseSensitive(details, "requirements");
		if (!cJSON_IsObject(item))
			return hive_err_set(err, HIVE_EUSAGE,
					    "details.requirements: expected an object, got %s",
					    json_kind(item));
		return HIVE_OK;
	}
	cJSON_ArrayForEach(item, details)
	{
		for (i = 0; i < N(details_keys); i++)
			if (!strcmp(item->string, details_keys[i]))
				break;
		if (i == N(details_keys))
			return hive_err_set(err, HIVE_EUSAGE,
					    "details: unknown key %s (allowed: resource, action, "
					    "platform, configuration, status; put anything else in "
					    "configuration)",
					    hive_quote(q, sizeof(q), item->string));
	}
	{
		struct where top = {NULL, "details", 0};

		if ((rc = check_values(details, &top, 2, err)))
			return rc;
	}
	if (required && (rc = all_missing(details, type, err)))
		return rc;
	if ((rc = check_string(details, "details", "resource", required || tool, 1, err)) ||
	    (rc = check_resource_not_secret(details, err)) ||
	    (rc = check_enum(details, "details", "action", actions, NULL, required, err)))
		return rc;
	if ((rc = check_enum(details, "details", "platform", builtin_platforms, platforms, required,
			     err))) {
		size_t n = strlen(err->msg);
		/* a platform the list lacks may be the team's own */
		if (cJSON_IsString(cJSON_GetObjectItemCaseSensitive(details, "platform")))
			snprintf(err->msg + n, sizeof(err->msg) - n,
				 " (add platforms with events.platforms in .hive.yml)");
		return rc;
	}
	conf = cJSON_GetObjectItemCaseSensitive(details, "configuration");
	if (conf && !cJSON_IsObject(conf))
		return hive_err_set(err, HIVE_EUSAGE,
				    "details.configuration: expected an object, got %s",
				    json_kind(conf));
	if ((rc = check_enum(details, "details", "status",
			     strcmp(type, "deployment_configured") ? statuses : deploy_statuses,
			     NULL, required || tool, err)))
		return rc;
	if (tool)
		return conf ? check_tool(conf, err) : HIVE_OK;
	if (cls == T_INCIDENT) {
		/* a follow-up (responded, resolved) may leave severity to incident_detected */
		int detected = !strcmp(type, "incident_detected");
		if (!conf && detected)
			return hive_err_set(err, HIVE_EUSAGE,
					    "details.configuration.severity: missing (one of P1, "
					    "P2, P3, P4)");
		return conf ? check_incident(conf, detected, err) : HIVE_OK;
	}
	if (cls == T_METRIC) {
		if (!conf)
			return hive_err_set(err, HIVE_EUSAGE,
					    "details.configuration: a metric needs name, value and "
					    "unit");
		return check_metric(conf, err);
	}
	return HIVE_OK;
}

static int is_hex(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!isxdigit((unsigned char)s[i]) || isupper((unsigned char)s[i]))
			return 0;
	return s[n] == '\0';
}

static int check_nullable_string(const cJSON *obj, const char *path, const char *key,
				 struct hive_err *err)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	if (!v)
		return hive_err_set(err, HIVE_EUSAGE, "%s.%s: missing", path, key);
	if (!cJSON_IsNull(v) && !cJSON_IsString(v))
		return hive_err_set(err, HIVE_EUSAGE, "%s.%s: expected a string or null, got %s",
				    path, key, json_kind(v));
	return HIVE_OK;
}

static int check_git(const cJSON *git, struct hive_err *err)
{
	static const char *keys[] = {"commit", "branch", "dirty", "tag", "remote"};
	const cJSON *item, *commit, *dirty;
	char q[128];
	size_t i;
	int rc;

	if (cJSON_IsNull(git))
		return HIVE_OK;
	if (!cJSON_IsObject(git))
		return hive_err_set(err, HIVE_EUSAGE, "git: expected an object or null, got %s",
				    json_kind(git));
	cJSON_ArrayForEach(item, git)
	{
		for (i = 0; i < N(keys) && strcmp(item->string, keys[i]); i++)
			;
		if (i == N(keys))
			return hive_err_set(err, HIVE_EUSAGE, "git: unknown key %s",
					    hive_quote(q, sizeof(q), item->string));
	}
	commit = cJSON_GetObjectItemCaseSensitive(git, "commit");
	if ((rc = check_nullable_string(git, "git", "commit", err)))
		return rc;
	if (cJSON_IsString(commit) &&
	    !is_hex(commit->valuestring, strlen(commit->valuestring) == 64 ? 64 : 40))
		return hive_err_set(err, HIVE_EUSAGE,
				    "git.commit: %s is not a 40 or 64 digit lowercase hex id",
				    hive_quote(q, sizeof(q), commit->valuestring));
	dirty = cJSON_GetObjectItemCaseSensitive(git, "dirty");
	if (!dirty || (!cJSON_IsNull(dirty) && !cJSON_IsBool(dirty)))
		return hive_err_set(err, HIVE_EUSAGE,
				    "git.dirty: expected true, false or null, got %s",
				    json_kind(dirty));
	if ((rc = check_nullable_string(git, "git", "branch", err)) ||
	    (rc = check_nullable_string(git, "git", "tag", err)) ||
	    (rc = check_nullable_string(git, "git", "remote", err)))
		return rc;
	return HIVE_OK;
}

static int check_ci(const cJSON *ci, struct hive_err *err)
{
	static const char *providers[] = {"github", "gitlab", "ci", NULL};
	const cJSON *item;

	if (cJSON_IsNull(ci))
		return HIVE_OK;
	if (!cJSON_IsObject(ci))
		return hive_err_set(err, HIVE_EUSAGE, "ci: expected an object or null, got %s",
				    json_kind(ci));
	cJSON_ArrayForEach(item, ci)
	{
		if (!cJSON_IsString(item) && !cJSON_IsNull(item))
			return hive_err_set(err, HIVE_EUSAGE,
					    "ci.%s: expected a string or null, got %s",
					    item->string, json_kind(item));
	}
	return check_enum(ci, "ci", "provider", providers, NULL, 1, err);
}

int hive_seq_ok(double v)
{
	return v >= 1 && v <= HIVE_SEQ_MAX && v == (double)(int64_t)v;
}

int hive_event_validate(const cJSON *event, const struct hive_config *cfg, struct hive_err *err)
{
	static const char *keys[] = {"seq",	"timestamp", "event_type", "worker", "session_id",
				     "details", "git",	     "ci",	   "prev",   "lane"};
	const size_t required = N(keys) - 1; /* lane: only in a lane's log */
	const cJSON *item, *seq, *ts, *type, *worker, *sid, *prev, *lane, *at[10] = {0};
	int64_t ms;
	char q[200];
	size_t i;
	int rc;

	if (!cJSON_IsObject(event))
		return hive_err_set(err, HIVE_EUSAGE, "an event is a JSON object, got %s",
				    json_kind(event));
	/* the fast path: the keys in SPEC 3's order, as hive-emit writes them; then each
	 * field is where it stands, with no lookup */
	for (i = 0, item = event->child; i < N(keys) && item && !strcmp(item->string, keys[i]);
	     i++, item = item->next)
		at[i] = item;
	if (i < required || item) {
		cJSON_ArrayForEach(item, event)
		{
			for (i = 0; i < N(keys) && strcmp(item->string, keys[i]); i++)
				;
			if (i == N(keys))
				return hive_err_set(err, HIVE_EUSAGE, "unknown key %s",
						    hive_quote(q, sizeof(q), item->string));
		}
		for (i = 0; i < N(keys); i++)
			if (!(at[i] = cJSON_GetObjectItemCaseSensitive(event, keys[i])) &&
			    i < required)
				return hive_err_set(err, HIVE_EUSAGE, "%s: missing", keys[i]);
	}
	lane = at[9];
	if (lane && (!cJSON_IsString(lane) ||
		     hive_id_check("lane", lane->valuestring, strlen(lane->valuestring), err) ||
		     !strcmp(lane->valuestring, "main")))
		return cJSON_IsString(lane) && strcmp(lane->valuestring, "main")
			       ? HIVE_EUSAGE
			       : hive_err_set(
					 err, HIVE_EUSAGE,
					 "lane: expected a lane's name (not main: EVENTS.jsonl "
					 "is the lane main and its lines name none)");
	seq = at[0];
	/* bounded before the cast: converting an out-of-range double is undefined */
	if (!cJSON_IsNumber(seq) || !hive_seq_ok(seq->valuedouble))
		return hive_err_set(err, HIVE_EUSAGE, "seq: expected a whole number from 1, got %s",
				    json_kind(seq));
	ts = at[1];
	if (!cJSON_IsString(ts) || hive_time_parse(ts->valuestring, &ms) < 0)
		return hive_err_set(err, HIVE_EUSAGE,
				    "timestamp: %s is not an RFC 3339 UTC time like "
				    "2025-01-15T10:30:00.123Z",
				    cJSON_IsString(ts) ? hive_quote(q, sizeof(q), ts->valuestring)
						       : json_kind(ts));
	type = at[2];
	if (!cJSON_IsString(type))
		return hive_err_set(err, HIVE_EUSAGE, "event_type: expected a string, got %s",
				    json_kind(type));
	worker = at[3];
	if (!cJSON_IsString(worker) ||
	    hive_id_check("worker", worker->valuestring, strlen(worker->valuestring), err))
		return cJSON_IsString(worker)
			       ? HIVE_EUSAGE
			       : hive_err_set(err, HIVE_EUSAGE, "worker: expected a string, got %s",
					      json_kind(worker));
	sid = at[4];
	if (!cJSON_IsString(sid) ||
	    hive_id_check("session_id", sid->valuestring, strlen(sid->valuestring), err))
		return cJSON_IsString(sid) ? HIVE_EUSAGE
					   : hive_err_set(err, HIVE_EUSAGE,
							  "session_id: expected a string, got %s",
							  json_kind(sid));
	prev = at[8];
	if (!cJSON_IsNull(prev) &&
	    !(cJSON_IsString(prev) && !strncmp(prev->valuestring, "sha256:", 7) &&
	      strlen(prev->valuestring) == 71 && is_hex(prev->valuestring + 7, 64)))
		return hive_err_set(err, HIVE_EUSAGE, "prev: expected null or \"sha256:<64 hex>\"");
	if ((rc = hive_event_validate_details(type->valuestring, at[5], cfg, err)) ||
	    (rc = check_git(at[6], err)) || (rc = check_ci(at[7], err)))
		return rc;
	return HIVE_OK;
}

void hive_event_normalize_details(const char *type, cJSON *details)
{
	cJSON *ordered[N(details_keys)] = {0}, *rest, *item;
	size_t i;

	if (!cJSON_IsObject(details) || hive_event_type_is_internal(type))
		return;
	if (!(rest = cJSON_CreateArray()))
		return;
	for (i = 0; i < N(details_keys); i++)
		ordered[i] = cJSON_DetachItemFromObjectCaseSensitive(details, details_keys[i]);
	while ((item = details->child)) /* detached items keep their names */
		cJSON_AddItemToArray(rest, cJSON_DetachItemViaPointer(details, item));
	for (i = 0; i < N(details_keys); i++) {
		if (ordered[i])
			cJSON_AddItemToArray(details, ordered[i]);
		else if (i == 3)
			cJSON_AddItemToObject(details, "configuration", cJSON_CreateObject());
	}
	while ((item = rest->child))
		cJSON_AddItemToArray(details, cJSON_DetachItemViaPointer(rest, item));
	cJSON_Delete(rest);
}

cJSON *hive_event_build(int64_t seq, const char *timestamp, const char *type, const char *worker,
			const char *session_id, cJSON *details, cJSON *git, cJSON *ci,
			const char *prev)
{
	cJSON *ev = cJSON_CreateObject();

	if (!ev) {
		cJSON_Delete(details);
		cJSON_Delete(git);
		cJSON_Delete(ci);
		return NULL;
	}
	cJSON_AddNumberToObject(ev, "seq", (double)seq);
	cJSON_AddStringToObject(ev, "timestamp", timestamp);
	cJSON_AddStringToObject(ev, "event_type", type);
	cJSON_AddStringToObject(ev, "worker", worker);
	cJSON_AddStringToObject(ev, "session_id", session_id);
	cJSON_AddItemToObject(ev, "details", details ? details : cJSON_CreateObject());
	cJSON_AddItemToObject(ev, "git", git ? git : cJSON_CreateNull());
	cJSON_AddItemToObject(ev, "ci", ci ? ci : cJSON_CreateNull());
	if (prev)
		cJSON_AddStringToObject(ev, "prev", prev);
	else
		cJSON_AddNullToObject(ev, "prev");
	return ev;
}

/* --- KEY=VALUE --------------------------------------------------------------------- */

struct kv_slot {
	const cJSON *obj; /* NULL: an empty slot */
	const char *name; /* borrowed from the member's own name; NULL: obj is indexed */
	cJSON *item;
	uint64_t hash;
};

struct hive_kv_index {
	struct kv_slot *slots;
	size_t n, cap;	 /* cap a power of two, at least twice n */
	cJSON *replaced; /* an array of the members taken out by replacement */
};

struct hive_kv_index *hive_kv_index_new(void)
{
	struct hive_kv_index *ix = calloc(1, sizeof(*ix));

	if (ix && !(ix->replaced = cJSON_CreateArray())) {
		free(ix);
		ix = NULL;
	}
	return ix;
}

void hive_kv_index_free(struct hive_kv_index *ix)
{
	if (!ix)
		return;
	cJSON_Delete(ix->replaced);
	free(ix->slots);
	free(ix);
}

static uint64_t kv_hash(const cJSON *obj, const char *name)
{
	uint64_t h = 0xcbf29ce484222325ull ^ ((uint64_t)(uintptr_t)obj * 0x9E3779B97F4A7C15ull);

	for (; name && *name; name++)
		h = (h ^ (unsigned char)*name) * 0x100000001b3ull;
	return name ? h : ~h;
}

/* The slot of (obj, name): the one holding it, or the empty one it would go in. */
static struct kv_slot *kv_slot(const struct hive_kv_index *ix, const cJSON *obj, const char *name,
			       uint64_t h)
{
	struct kv_slot *e;
	size_t i;

	for (i = h & (ix->cap - 1); (e = &ix->slots[i])->obj; i = (i + 1) & (ix->cap - 1))
		if (e->obj == obj && e->hash == h &&
		    (name ? e->name && !strcmp(e->name, name) : !e->name))
			return e;
	return e;
}

/* Map (obj, name) to item, replacing what it mapped to; -1 when out of memory. */
static int kv_put(struct hive_kv_index *ix, const cJSON *obj, const char *name, cJSON *item)
{
	uint64_t h = kv_hash(obj, name);
	struct kv_slot *e;

	if (2 * (ix->n + 1) > ix->cap) {
		size_t cap = ix->cap ? 2 * ix->cap : 64, i, j;
		struct kv_slot *t = calloc(cap, sizeof(*t));
		if (!t)
			return -1;
		for (j = 0; j < ix->cap; j++) {
			if (!ix->slots[j].obj)
				continue;
			for (i = ix->slots[j].hash & (cap - 1); t[i].obj; i = (i + 1) & (cap - 1))
				;
			t[i] = ix->slots[j];
		}
		free(ix->slots);
		ix->slots = t;
		ix->cap = cap;
	}
	if (!(e = kv_slot(ix, obj, name, h))->obj)
		ix->n++;
	*e = (struct kv_slot){obj, name, item, h};
	return 0;
}

/* obj's member called name, as cJSON_GetObjectItemCaseSensitive finds it (the first of
 * that name); with an index, obj's members are indexed the first time. *oom on failure. */
static cJSON *kv_get(struct hive_kv_index *ix, cJSON *obj, const char *name, int *oom)
{
	struct kv_slot *e;
	cJSON *m;

	if (!ix)
		return cJSON_GetObjectItemCaseSensitive(obj, name);
	if (!ix->cap || !kv_slot(ix, obj, NULL, kv_hash(obj, NULL))->obj) {
		/* backwards, so the first of a name is the one that stays */
		for (m = obj->child ? obj->child->prev : NULL; m;
		     m = m == obj->child ? NULL : m->prev)
			if (m->string && kv_put(ix, obj, m->string, m) < 0)
				return *oom = 1, NULL;
		if (kv_put(ix, obj, NULL, NULL) < 0)
			return *oom = 1, NULL;
	}
	e = kv_slot(ix, obj, name, kv_hash(obj, name));
	return e->obj ? e->item : NULL;
}

/* Put item in place of old, obj's member name: cJSON_ReplaceItemViaPointer's
 * linking, but with an index old is kept (ix->replaced) rather than freed. 0, or -1 when
 * out of memory (nothing changed). */
static int kv_replace(struct hive_kv_index *ix, cJSON *obj, const char *name, cJSON *old,
		      cJSON *item)
{
	if (!ix)
		return cJSON_ReplaceItemInObjectCaseSensitive(obj, name, item) ? 0 : -1;
	if (kv_put(ix, obj, old->string, item) < 0)
		return -1;
	item->string = old->string;
	item->type = (item->type & ~cJSON_StringIsConst) | (old->type & cJSON_StringIsConst);
	old->string = NULL;
	old->type &= ~cJSON_StringIsConst;
	item->next = old->next;
	item->prev = old->prev;
	if (item->next)
		item->next->prev = item;
	if (obj->child == old) {
		if (old->prev == old)
			item->prev = item;
		obj->child = item;
	} else {
		item->prev->next = item;
		if (!item->next)
			obj->child->prev = item;
	}
	old->next = old->prev = NULL;
	cJSON_AddItemToArray(ix->replaced, old);
	return 0;
}

/* Add item to obj as name (known not to be there). 0, or -1 when out of memory (item is
 * then still the caller's, and obj as it was). */
static int kv_add(struct hive_kv_index *ix, cJSON *obj, const char *name, cJSON *item)
{
	if (!cJSON_AddItemToObject(obj, name, item))
		return -1;
	if (ix && kv_put(ix, obj, item->string, item) < 0) {
		cJSON_DetachItemViaPointer(obj, item);
		return -1;
	}
	return 0;
}

int hive_event_apply_kv(cJSON *obj, const char *arg, struct hive_err *err)
{
	return hive_event_apply_kv_in(NULL, obj, arg, err);
}

int hive_event_apply_kv_in(struct hive_kv_index *ix, cJSON *obj, const char *arg,
			   struct hive_err *err)
{
	const char *eq = strchr(arg, '='), *value, *seg, *dot;
	char key[512], q[600];
	cJSON *parsed = NULL, *cur = obj, *next;
	size_t klen;
	int typed, oom = 0;

	if (!eq || eq == arg)
		return hive_err_set(err, HIVE_EUSAGE, "%s: expected KEY=VALUE or KEY:=JSON",
				    hive_quote(q, sizeof(q), arg));
	typed = eq > arg && eq[-1] == ':';
	klen = (size_t)(eq - arg) - (typed ? 1 : 0);
	if (klen == 0 || klen >= sizeof(key))
		return hive_err_set(err, HIVE_EUSAGE, "%s: the key is empty or too long",
				    hive_quote(q, sizeof(q), arg));
	memcpy(key, arg, klen);
	key[klen] = '\0';
	/* an empty part of a dotted key is refused before obj is touched, so a refused
	 * argument never leaves half-made objects behind */
	if (key[0] == '.' || key[klen - 1] == '.' || strstr(key, ".."))
		return hive_err_set(err, HIVE_EUSAGE, "%s: empty part in the dotted key",
				    hive_quote(q, sizeof(q), key));
	value = eq + 1;
	if (typed) {
		struct hive_err why = {0};
		parsed = hive_json_parse_why(value, strlen(value), &why); /* strict */
		if (!parsed && why.status == HIVE_EENV)
			return hive_err_set(err, HIVE_EENV, "%s", why.msg);
		if (!parsed)
			return hive_err_set(err, HIVE_EUSAGE,
					    "%s: the value after := is not valid JSON: %s (quote "
					    "strings, or use KEY=VALUE)",
					    hive_quote(q, sizeof(q), arg), why.msg);
	} else {
		parsed = cJSON_CreateString(value);
	}
	/* walk the dotted path, making objects as needed */
	for (seg = key;; seg = dot + 1) {
		char name[512];
		dot = strchr(seg, '.');
		if (dot == seg || (!dot && !*seg)) {
			cJSON_Delete(parsed);
			return hive_err_set(err, HIVE_EUSAGE, "%s: empty part in the dotted key",
					    hive_quote(q, sizeof(q), key));
		}
		if (!dot) {
			next = kv_get(ix, cur, seg, &oom);
			if (oom || (next ? kv_replace(ix, cur, seg, next, parsed)
					 : kv_add(ix, cur, seg, parsed)) < 0) {
				cJSON_Delete(parsed);
				return hive_err_set(err, HIVE_EENV, "out of memory");
			}
			return HIVE_OK;
		}
		snprintf(name, sizeof(name), "%.*s", (int)(dot - seg), seg);
		next = kv_get(ix, cur, name, &oom);
		if (!next && !oom && (next = cJSON_CreateObject()) &&
		    kv_add(ix, cur, name, next) < 0) {
			cJSON_Delete(next);
			next = NULL;
		}
		if (!next) {
			cJSON_Delete(parsed);
			return hive_err_set(err, HIVE_EENV, "out of memory");
		}
		if (!cJSON_IsObject(next)) {
			cJSON_Delete(parsed);
			return hive_err_set(
				err, HIVE_EUSAGE,
				"%s: %.*s is already set to a value that is not an object",
				hive_quote(q, sizeof(q), arg), (int)(dot - key), key);
		}
		cur = next;
	}
}
