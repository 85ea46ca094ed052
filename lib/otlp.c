/* otlp.c - a session as OTLP/JSON traces and logs (OpenTelemetry CI/CD conventions) */
#include "otlp.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "gitctx.h"

/* OTLP enums, as integers (opentelemetry-proto) */
enum { KIND_INTERNAL = 1, KIND_SERVER = 2 };
enum { STATUS_ERROR = 2 };
enum { SEV_INFO = 9, SEV_WARN = 13, SEV_ERROR = 17 };

static const cJSON *get(const cJSON *o, const char *k)
{
	return cJSON_GetObjectItemCaseSensitive(o, k);
}

/* o[k] when it is a non-empty string, else NULL */
static const char *str(const cJSON *o, const char *k)
{
	const char *s = hive_json_str(o, k);

	return s && *s ? s : NULL;
}

/* The lowercase hex of the first nbytes of SHA-256(buf[0..len)) into out. */
static void id_hex(const char *buf, size_t len, size_t nbytes, char *out)
{
	char h[HIVE_HASH_SIZE];

	hive_sha256(buf, len, h);
	memcpy(out, h + 7, nbytes * 2); /* after "sha256:" */
	out[nbytes * 2] = '\0';
}

static void trace_id(const char *session, char out[33])
{
	char b[200];
	int n = snprintf(b, sizeof(b), "hive/otlp/trace%c%s", 0, session);

	id_hex(b, (size_t)n, 16, out);
}

static void span_id(const char *session, const char *lane, long long seq, char out[17])
{
	char b[400];
	int n = snprintf(b, sizeof(b), "hive/otlp/span%c%s%c%s%c%lld", 0, session, 0, lane, 0, seq);

	id_hex(b, (size_t)n, 8, out);
}

/* "NNN" nanoseconds since the epoch, as OTLP/JSON writes a fixed64 */
static cJSON *nanos(int64_t ms)
{
	char t[32];

	snprintf(t, sizeof(t), "%lld000000", (long long)(ms < 0 ? 0 : ms));
	return cJSON_CreateString(ms > 0 ? t : "0");
}

static int64_t ms_of(const cJSON *ev)
{
	int64_t ms;
	const char *ts = str(ev, "timestamp");

	return ts && hive_time_parse(ts, &ms) == 0 ? ms : -1;
}

/* A JSON value as an OTLP AnyValue (new, the caller's): strings, booleans, integers as
 * decimal strings, other numbers as doubles, arrays and objects as arrayValue and
 * kvlistValue; null as the empty AnyValue. Empty lists are left out (their default). */
static cJSON *any_value(const cJSON *v)
{
	cJSON *o = cJSON_CreateObject(), *list, *vals, *kv;
	const cJSON *c;
	char t[32];

	if (!o)
		return NULL;
	if (cJSON_IsString(v)) {
		cJSON_AddStringToObject(o, "stringValue", v->valuestring);
	} else if (cJSON_IsBool(v)) {
		cJSON_AddBoolToObject(o, "boolValue", cJSON_IsTrue(v));
	} else if (cJSON_IsNumber(v)) {
		double d = v->valuedouble;
		if (d == floor(d) && fabs(d) < 9007199254740992.0) {
			snprintf(t, sizeof(t), "%lld", (long long)d);
			cJSON_AddStringToObject(o, "intValue", t);
		} else {
			cJSON_AddNumberToObject(o, "doubleValue", d);
		}
	} else if (cJSON_IsArray(v)) {
		list = cJSON_AddObjectToObject(o, "arrayValue");
		if (list && cJSON_GetArraySize(v) > 0 &&
		    (vals = cJSON_AddArrayToObject(list, "values")))
			cJSON_ArrayForEach(c, v) cJSON_AddItemToArray(vals, any_value(c));
	} else if (cJSON_IsObject(v)) {
		list = cJSON_AddObjectToObject(o, "kvlistValue");
		if (list && v->child && (vals = cJSON_AddArrayToObject(list, "values")))
			cJSON_ArrayForEach(c, v)
			{
				if (!(kv = cJSON_CreateObject()))
					continue;
				cJSON_AddStringToObject(kv, "key", c->string);
				cJSON_AddItemToObject(kv, "value", any_value(c));
				cJSON_AddItemToArray(vals, kv);
			}
	}
	return o;
}

/* attrs += {"key": k, "value": AnyValue(v)}; nothing for NULL or JSON null */
static void attr(cJSON *attrs, const char *k, const cJSON *v)
{
	cJSON *kv;

	if (!v || cJSON_IsNull(v) || !(kv = cJSON_CreateObject()))
		return;
	cJSON_AddStringToObject(kv, "key", k);
	cJSON_AddItemToObject(kv, "value", any_value(v));
	cJSON_AddItemToArray(attrs, kv);
}

static void attr_str(cJSON *attrs, const char *k, const char *s)
{
	cJSON *v;

	if (!s || !*s || !(v = cJSON_CreateString(s)))
		return;
	attr(attrs, k, v);
	cJSON_Delete(v);
}

static void attr_int(cJSON *attrs, const char *k, double n)
{
	cJSON *v = cJSON_CreateNumber(n);

	attr(attrs, k, v);
	cJSON_Delete(v);
}

/* The session-wide facts every span and record shares. */
struct run {
	const char *session, *pipeline, *run_id, *run_url, *remote, *commit, *branch, *env;
	const char *result; /* "success", "failure", or NULL while the session is active */
	char trace[33], root[17];
	char remote_clean[2048];
	int64_t start_ms, end_ms;
};

static void run_facts(const struct hive_facts *f, struct run *r)
{
	const cJSON *st = hive_facts_state(f), *events = hive_facts_events(f), *ev;
	const cJSON *first = cJSON_GetArrayItem(events, 0), *git = get(st, "git"),
		    *ci = get(st, "ci");
	const char *status = str(st, "status");

	memset(r, 0, sizeof(*r));
	r->session = str(st, "session_id") ? str(st, "session_id") : str(first, "session_id");
	if (!r->session)
		r->session = "";
	r->pipeline = str(ci, "workflow") ? str(ci, "workflow")
		      : str(st, "worker") ? str(st, "worker")
					  : "hive";
	r->run_id = str(ci, "run_id") ? str(ci, "run_id") : r->session;
	r->run_url = str(ci, "url");
	if (str(git, "remote")) { /* stripped when recorded; again, so no export carries one */
		hive_git_strip_credentials(str(git, "remote"), r->remote_clean,
					   sizeof(r->remote_clean));
		r->remote = r->remote_clean;
	}
	r->commit = str(git, "commit");
	r->branch = str(git, "branch");
	r->env = str(get(st, "deployment"), "environment");
	r->result = status && !strcmp(status, "completed") ? "success"
		    : status && !strcmp(status, "failed")  ? "failure"
							   : NULL;
	trace_id(r->session, r->trace);
	span_id(r->session, "main", 0, r->root);
	r->start_ms = r->end_ms = -1;
	cJSON_ArrayForEach(ev, events)
	{
		int64_t ms = ms_of(ev);
		if (ms < 0)
			continue;
		if (r->start_ms < 0)
			r->start_ms = ms;
		if (ms > r->end_ms)
			r->end_ms = ms;
	}
}

/* The resource every span and record comes from: hive, this pipeline run, this repository. */
static cJSON *resource(const struct run *r)
{
	cJSON *res = cJSON_CreateObject(), *a = cJSON_AddArrayToObject(res, "attributes");

	attr_str(a, "service.name", "hive");
	attr_str(a, "cicd.pipeline.name", r->pipeline);
	attr_str(a, "cicd.pipeline.run.id", r->run_id);
	attr_str(a, "vcs.repository.url.full", r->remote);
	return res;
}

static cJSON *scope(void)
{
	cJSON *s = cJSON_CreateObject();

	cJSON_AddStringToObject(s, "name", "hive");
	cJSON_AddStringToObject(s, "version", HIVE_VERSION);
	return s;
}

/* The lane of an event ("main" for EVENTS.jsonl) and its seq. */
static const char *lane_of(const cJSON *ev)
{
	return str(ev, "lane") ? str(ev, "lane") : "main";
}

static long long seq_of(const cJSON *ev)
{
	const cJSON *s = get(ev, "seq");

	return cJSON_IsNumber(s) ? (long long)s->valuedouble : 0;
}

/* What an event says, as attributes: hive's own (hive.*) and the conventions' where one
 * fits (the task's result, the deployment's environment, the commit it ran on). */
static void event_attrs(cJSON *a, const struct run *r, const cJSON *ev)
{
	const cJSON *d = get(ev, "details"), *conf = get(d, "configuration");
	const char *type = str(ev, "event_type"), *status = str(d, "status");
	char *text, run_id[300];

	snprintf(run_id, sizeof(run_id), "%s/%lld", lane_of(ev), seq_of(ev));
	attr_str(a, "cicd.pipeline.task.name", type);
	attr_str(a, "cicd.pipeline.task.run.id", run_id);
	attr_int(a, "hive.event.seq", (double)seq_of(ev));
	if (status)
		attr_str(a, "cicd.pipeline.task.run.result",
			 !strcmp(status, "success") ? "success" : "failure");
	if (type && !strcmp(type, "deployment_configured")) {
		attr_str(a, "cicd.pipeline.task.type", "deploy");
		attr_str(a, "deployment.environment.name", str(conf, "environment"));
	}
	attr_str(a, "cicd.pipeline.task.run.url.full", str(get(ev, "ci"), "url"));
	attr_str(a, "vcs.ref.head.revision", str(get(ev, "git"), "commit"));
	attr_str(a, "hive.session.id", r->session);
	attr_str(a, "hive.lane", lane_of(ev));
	attr_str(a, "hive.event.type", type);
	attr_str(a, "hive.worker", str(ev, "worker"));
	attr_str(a, "hive.resource", str(d, "resource"));
	attr_str(a, "hive.action", str(d, "action"));
	attr_str(a, "hive.platform", str(d, "platform"));
	attr_str(a, "hive.status", status);
	if (cJSON_IsObject(conf) && conf->child && (text = cJSON_PrintUnformatted(conf))) {
		attr_str(a, "hive.configuration", text);
		cJSON_free(text);
	}
}

static void add_ids(cJSON *o, const struct run *r, const cJSON *ev)
{
	char id[17];

	span_id(r->session, lane_of(ev), seq_of(ev), id);
	cJSON_AddStringToObject(o, "traceId", r->trace);
	cJSON_AddStringToObject(o, "spanId", id);
}

static cJSON *root_span(const struct run *r)
{
	cJSON *sp = cJSON_CreateObject(), *a, *st;
	char name[600];

	snprintf(name, sizeof(name), "RUN %s", r->pipeline);
	cJSON_AddStringToObject(sp, "traceId", r->trace);
	cJSON_AddStringToObject(sp, "spanId", r->root);
	cJSON_AddStringToObject(sp, "name", name);
	cJSON_AddNumberToObject(sp, "kind", KIND_SERVER);
	cJSON_AddItemToObject(sp, "startTimeUnixNano", nanos(r->start_ms));
	cJSON_AddItemToObject(sp, "endTimeUnixNano", nanos(r->end_ms));
	a = cJSON_AddArrayToObject(sp, "attributes");
	attr_str(a, "cicd.pipeline.name", r->pipeline);
	attr_str(a, "cicd.pipeline.action.name", "RUN");
	attr_str(a, "cicd.pipeline.run.id", r->run_id);
	attr_str(a, "cicd.pipeline.run.url.full", r->run_url);
	if (r->result)
		attr_str(a, "cicd.pipeline.result", r->result);
	else
		attr_str(a, "cicd.pipeline.run.state", "executing");
	if (r->result && !strcmp(r->result, "failure"))
		attr_str(a, "error.type", "session_failed");
	attr_str(a, "vcs.repository.url.full", r->remote);
	attr_str(a, "vcs.ref.head.revision", r->commit);
	attr_str(a, "vcs.ref.head.name", r->branch);
	if (r->branch)
		attr_str(a, "vcs.ref.head.type", "branch");
	attr_str(a, "deployment.environment.name", r->env);
	attr_str(a, "hive.session.id", r->session);
	if (r->result && !strcmp(r->result, "failure")) {
		st = cJSON_AddObjectToObject(sp, "status");
		cJSON_AddStringToObject(st, "message", "the session failed");
		cJSON_AddNumberToObject(st, "code", STATUS_ERROR);
	}
	return sp;
}

static cJSON *task_span(const struct run *r, const cJSON *ev)
{
	cJSON *sp = cJSON_CreateObject(), *st;
	const char *type = str(ev, "event_type"), *status = str(get(ev, "details"), "status");
	int64_t ms = ms_of(ev);

	add_ids(sp, r, ev);
	cJSON_AddStringToObject(sp, "parentSpanId", r->root);
	cJSON_AddStringToObject(sp, "name", type ? type : "event");
	cJSON_AddNumberToObject(sp, "kind", KIND_INTERNAL);
	cJSON_AddItemToObject(sp, "startTimeUnixNano", nanos(ms));
	cJSON_AddItemToObject(sp, "endTimeUnixNano", nanos(ms));
	event_attrs(cJSON_AddArrayToObject(sp, "attributes"), r, ev);
	if (status && strcmp(status, "success")) {
		st = cJSON_AddObjectToObject(sp, "status");
		cJSON_AddStringToObject(st, "message", "the event's status is failure");
		cJSON_AddNumberToObject(st, "code", STATUS_ERROR);
	}
	return sp;
}

/* {"<outer>":[{"resource":…,"<scoped>":[{"scope":…,"<items>":items}]}]} as one line */
static void envelope(const struct run *r, const char *outer, const char *scoped,
		     const char *items_key, cJSON *items, struct hive_buf *out)
{
	cJSON *req = cJSON_CreateObject(), *rs = cJSON_CreateObject(), *ss = cJSON_CreateObject();
	char *text;

	cJSON_AddItemToObject(rs, "resource", resource(r));
	cJSON_AddItemToObject(ss, "scope", scope());
	if (items && items->child)
		cJSON_AddItemToObject(ss, items_key, items);
	else /* an empty repeated field is left out, as its default */
		cJSON_Delete(items);
	cJSON_AddItemToArray(cJSON_AddArrayToObject(rs, scoped), ss);
	cJSON_AddItemToArray(cJSON_AddArrayToObject(req, outer), rs);
	if (!(text = cJSON_PrintUnformatted(req))) {
		out->oom = 1;
	} else {
		hive_buf_puts(out, text);
		hive_buf_puts(out, "\n");
	}
	cJSON_free(text);
	cJSON_Delete(req);
}

void hive_otlp_traces(const struct hive_facts *f, struct hive_buf *out)
{
	struct run r;
	cJSON *spans = cJSON_CreateArray();
	const cJSON *ev;

	run_facts(f, &r);
	cJSON_AddItemToArray(spans, root_span(&r));
	cJSON_ArrayForEach(ev, hive_facts_events(f)) cJSON_AddItemToArray(spans, task_span(&r, ev));
	envelope(&r, "resourceSpans", "scopeSpans", "spans", spans, out);
}

void hive_otlp_logs(const struct hive_facts *f, struct hive_buf *out)
{
	struct run r;
	cJSON *recs = cJSON_CreateArray(), *rec;
	const cJSON *ev;

	run_facts(f, &r);
	cJSON_ArrayForEach(ev, hive_facts_events(f))
	{
		const char *type = str(ev, "event_type"),
			   *status = str(get(ev, "details"), "status");
		int sev = status && strcmp(status, "success")	       ? SEV_ERROR
			  : type && !strcmp(type, "incident_detected") ? SEV_WARN
								       : SEV_INFO;
		if (!(rec = cJSON_CreateObject()))
			continue;
		cJSON_AddItemToObject(rec, "timeUnixNano", nanos(ms_of(ev)));
		cJSON_AddItemToObject(rec, "observedTimeUnixNano", nanos(ms_of(ev)));
		cJSON_AddNumberToObject(rec, "severityNumber", sev);
		cJSON_AddStringToObject(rec, "severityText",
					sev == SEV_ERROR  ? "ERROR"
					: sev == SEV_WARN ? "WARN"
							  : "INFO");
		cJSON_AddItemToObject(rec, "body", any_value(ev));
		event_attrs(cJSON_AddArrayToObject(rec, "attributes"), &r, ev);
		add_ids(rec, &r, ev);
		cJSON_AddItemToArray(recs, rec);
	}
	envelope(&r, "resourceLogs", "scopeLogs", "logRecords", recs, out);
}
