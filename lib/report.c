/* report.c - facts from a session's log, and the reports made of them: METRICS.json, Markdown,
 * JSON, Prometheus, DORA */
#include "report.h"

#include <cjson/cJSON.h>
#include <git2.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "event.h"
#include "log.h"
#include "otlp.h"
#include "session.h"
#include "state.h"

#define NR "not recorded"

struct deploy {
	const cJSON *ev;
	int64_t ms;
	int success;
	double lead_s; /* NAN when the commit or its time is unknown */
};

struct incident {
	const char *resource;
	const cJSON *detected, *responded, *resolved; /* the events, any may be NULL */
};

struct hive_facts {
	cJSON *state;  /* STATE.json, or NULL */
	cJSON *events; /* every event, in order */
	const char *session_id, *worker, *status;
	const char *started_at, *completed_at, *last_at;
	int64_t started_ms, completed_ms, last_ms; /* -1 when unknown */
	struct deploy *deploys;
	size_t ndeploys;
	struct incident *incidents;
	size_t nincidents;
};

/* --- small JSON helpers ------------------------------------------------------------ */

static const cJSON *get(const cJSON *o, const char *k)
{
	return cJSON_GetObjectItemCaseSensitive(o, k);
}

static const char *str(const cJSON *o, const char *k)
{
	const cJSON *v = get(o, k);

	return cJSON_IsString(v) && *v->valuestring ? v->valuestring : NULL;
}

static const cJSON *details(const cJSON *ev)
{
	return get(ev, "details");
}

static const cJSON *conf(const cJSON *ev)
{
	return get(details(ev), "configuration");
}

static const char *type_of(const cJSON *ev)
{
	return str(ev, "event_type");
}

static int is(const cJSON *ev, const char *type)
{
	const char *t = type_of(ev);

	return t && !strcmp(t, type);
}

static int64_t ms_of(const cJSON *ev)
{
	int64_t ms;
	const char *ts = str(ev, "timestamp");

	return ts && hive_time_parse(ts, &ms) == 0 ? ms : -1;
}

static void bump(cJSON *obj, const char *key)
{
	cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	if (v)
		cJSON_SetNumberValue(v, v->valuedouble + 1);
	else
		cJSON_AddNumberToObject(obj, key, 1);
}

/* A string cut by snprintf ends at a whole UTF-8 character, never inside one. */
static void utf8_trim(char *s)
{
	size_t n = strlen(s), i = n, want;
	unsigned char c;

	while (i > 0 && ((unsigned char)s[i - 1] & 0xC0) == 0x80)
		i--;
	if (i == 0)
		return;
	c = (unsigned char)s[i - 1];
	want = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
	if (n - (i - 1) < want)
		s[i - 1] = '\0';
}

/* A configuration value as one line of text (strings as they are, others as JSON), cut
 * to fit out at a character boundary. */
static void value_text(const cJSON *v, char *out, size_t size)
{
	char *s;
	int n;

	if (!v || cJSON_IsNull(v)) {
		snprintf(out, size, "%s", NR);
		return;
	}
	if (cJSON_IsString(v)) {
		n = snprintf(out, size, "%s", v->valuestring);
	} else {
		s = cJSON_PrintUnformatted(v);
		n = snprintf(out, size, "%s", s ? s : "?");
		cJSON_free(s);
	}
	if (n >= 0 && (size_t)n >= size)
		utf8_trim(out);
}

/* --- loading ----------------------------------------------------------------------- */

static int64_t commit_time_ms(git_repository *repo, const cJSON *ev)
{
	const char *hex = str(get(ev, "git"), "commit");
	git_commit *c = NULL;
	git_oid oid;
	int64_t ms = -1;

	if (!repo || !hex || git_oid_fromstr(&oid, hex) < 0)
		return -1;
	if (git_commit_lookup(&c, repo, &oid) == 0)
		ms = (int64_t)git_commit_time(c) * 1000;
	git_commit_free(c);
	git_error_clear();
	return ms;
}

/* The open incident for resource (the latest not yet resolved), or a new one. */
static struct incident *incident_for(struct hive_facts *f, const char *resource, int open_new)
{
	size_t i;
	struct incident *n;

	for (i = f->nincidents; !open_new && i-- > 0;)
		if (!f->incidents[i].resolved && f->incidents[i].resource && resource &&
		    !strcmp(f->incidents[i].resource, resource))
			return &f->incidents[i];
	n = realloc(f->incidents, (f->nincidents + 1) * sizeof(*n));
	if (!n)
		return NULL;
	f->incidents = n;
	n = &f->incidents[f->nincidents++];
	memset(n, 0, sizeof(*n));
	n->resource = resource;
	return n;
}

static void derive(struct hive_facts *f, git_repository *repo)
{
	const cJSON *ev, *first = cJSON_GetArrayItem(f->events, 0);
	struct incident *inc;
	size_t n = (size_t)cJSON_GetArraySize(f->events);

	f->session_id = str(f->state, "session_id") ? str(f->state, "session_id")
						    : str(first, "session_id");
	f->worker = str(f->state, "worker") ? str(f->state, "worker") : str(first, "worker");
	f->status = str(f->state, "status") ? str(f->state, "status") : "active";
	f->started_ms = f->completed_ms = f->last_ms = -1;
	if (first) {
		f->started_at = str(first, "timestamp");
		f->started_ms = ms_of(first);
	}
	f->deploys = calloc(n ? n : 1, sizeof(*f->deploys));
	cJSON_ArrayForEach(ev, f->events)
	{
		int64_t ms = ms_of(ev);
		const char *resource = str(details(ev), "resource");

		if (ms >= 0) {
			f->last_ms = ms;
			f->last_at = str(ev, "timestamp");
		}
		if (is(ev, "session_completed")) {
			const char *st = str(details(ev), "status");
			f->completed_at = str(ev, "timestamp");
			f->completed_ms = ms;
			f->status = st && !strcmp(st, "failure") ? "failed" : "completed";
		} else if (is(ev, "deployment_configured") && f->deploys) {
			struct deploy *d = &f->deploys[f->ndeploys++];
			const char *st = str(details(ev), "status");
			int64_t cms = commit_time_ms(repo, ev);
			d->ev = ev;
			d->ms = ms;
			d->success = st && !strcmp(st, "success");
			d->lead_s = cms >= 0 && ms >= 0 ? (double)(ms - cms) / 1000.0 : NAN;
		} else if (is(ev, "incident_detected")) {
			if ((inc = incident_for(f, resource, 1)))
				inc->detected = ev;
		} else if (is(ev, "incident_responded")) {
			if ((inc = incident_for(f, resource, 0)) && !inc->responded)
				inc->responded = ev;
		} else if (is(ev, "incident_resolved")) {
			if ((inc = incident_for(f, resource, 0)))
				inc->resolved = ev;
		}
	}
}

static int load(struct hive_session *s, git_repository *repo, struct hive_facts **out, int finish,
		struct hive_err *err);

/* Fold one whole line of the log (or of a pending transaction) into f. */
static int fold_line(struct hive_facts *f, const char *line, size_t len)
{
	char hash[HIVE_HASH_SIZE];
	struct hive_err ignored = {0};
	cJSON *ev = hive_json_parse(line, len);

	if (!ev)
		return -1;
	cJSON_AddItemToArray(f->events, ev);
	hive_sha256(line, len, hash);
	return hive_state_apply(&f->state, ev, hash, &ignored) ? -1 : 0;
}

int hive_facts_load_pending(struct hive_session *s, git_repository *repo, const char *pending,
			    size_t pending_len, struct hive_facts **out, struct hive_err *err)
{
	const char *p = pending, *end = pending + pending_len, *nl;
	struct hive_facts *f = NULL;
	int rc;

	if ((rc = load(s, repo, &f, 0, err)))
		return rc;
	for (; p < end; p = nl + 1) {
		if (!(nl = memchr(p, '\n', (size_t)(end - p))))
			nl = end;
		if (nl > p && fold_line(f, p, (size_t)(nl - p)) < 0) {
			hive_facts_free(f);
			return hive_err_set(err, HIVE_EENV, "a pending line does not fold");
		}
	}
	derive(f, repo);
	*out = f;
	return HIVE_OK;
}

int hive_facts_load(struct hive_session *s, git_repository *repo, struct hive_facts **out,
		    struct hive_err *err)
{
	return load(s, repo, out, 1, err);
}

/* The log of s folded into *out; derived (derive) when `finish`. */
static int load(struct hive_session *s, git_repository *repo, struct hive_facts **out, int finish,
		struct hive_err *err)
{
	struct hive_facts *f = calloc(1, sizeof(*f));
	struct hive_lines *r = NULL;
	enum hive_line_kind kind;
	const char *line;
	size_t len;
	int rc = HIVE_OK, got;

	*out = NULL;
	if (!f || !(f->events = cJSON_CreateArray())) {
		free(f);
		return hive_err_set(err, HIVE_EENV, "out of memory");
	}
	/* the view is folded from the log here, never read from STATE.json */
	if (lseek(s->eventsfd, 0, SEEK_SET) < 0 ||
	    (rc = hive_lines_from_fd(s->eventsfd, &r, err))) {
		rc = rc ? rc : hive_err_set(err, HIVE_EENV, "%s/EVENTS.jsonl: cannot seek", s->dir);
		goto fail;
	}
	while ((got = hive_lines_next(r, &line, &len, &kind, err)) > 0) {
		if (kind != HIVE_LINE_OK || fold_line(f, line, len) < 0) {
			rc = hive_err_set(
				err, HIVE_EENV,
				"%s/EVENTS.jsonl:%zu: not a whole JSON line: run hive-check",
				s->dir, hive_lines_number(r));
			goto fail;
		}
	}
	if (got < 0) {
		rc = HIVE_EENV;
		goto fail;
	}
	hive_lines_free(r);
	if (finish)
		derive(f, repo);
	*out = f;
	return HIVE_OK;
fail:
	hive_lines_free(r);
	hive_facts_free(f);
	return rc;
}

void hive_facts_free(struct hive_facts *f)
{
	if (!f)
		return;
	cJSON_Delete(f->state);
	cJSON_Delete(f->events);
	free(f->deploys);
	free(f->incidents);
	free(f);
}

/* --- metrics ----------------------------------------------------------------------- */

static double duration_s(const struct hive_facts *f)
{
	int64_t end = f->completed_ms >= 0 ? f->completed_ms : f->last_ms;

	return f->started_ms >= 0 && end >= 0 ? (double)(end - f->started_ms) / 1000.0 : NAN;
}

static void add_num_or_null(cJSON *o, const char *k, double v)
{
	if (isnan(v))
		cJSON_AddNullToObject(o, k);
	else
		cJSON_AddNumberToObject(o, k, v);
}

/* Mean time to recovery over incidents with both detection and resolution. */
static double mttr_s(const struct hive_facts *f)
{
	double sum = 0;
	size_t i, n = 0;

	for (i = 0; i < f->nincidents; i++) {
		const struct incident *x = &f->incidents[i];
		int64_t a = x->detected ? ms_of(x->detected) : -1;
		int64_t b = x->resolved ? ms_of(x->resolved) : -1;
		if (a >= 0 && b >= a) {
			sum += (double)(b - a) / 1000.0;
			n++;
		}
	}
	return n ? sum / (double)n : NAN;
}

/* Lead time of the last successful deployment whose commit time is known. */
static double last_lead_s(const struct hive_facts *f)
{
	size_t i;

	for (i = f->ndeploys; i-- > 0;)
		if (f->deploys[i].success && !isnan(f->deploys[i].lead_s))
			return f->deploys[i].lead_s;
	return NAN;
}

cJSON *hive_report_metrics(const struct hive_facts *f)
{
	cJSON *m = cJSON_CreateObject(), *ev, *by_type, *by_status, *by_platform, *res, *dep, *inc;
	cJSON *recorded, *seen = cJSON_CreateObject();
	const cJSON *e;
	double failures = 0, created = 0, updated = 0, deleted = 0, ok = 0, bad = 0;
	size_t i;

	cJSON_AddStringToObject(m, "session_id", f->session_id ? f->session_id : "");
	cJSON_AddStringToObject(m, "status", f->status);
	if (f->started_at)
		cJSON_AddStringToObject(m, "started_at", f->started_at);
	else
		cJSON_AddNullToObject(m, "started_at");
	if (f->completed_at)
		cJSON_AddStringToObject(m, "completed_at", f->completed_at);
	else
		cJSON_AddNullToObject(m, "completed_at");
	add_num_or_null(m, "duration_s", duration_s(f));
	ev = cJSON_AddObjectToObject(m, "events");
	cJSON_AddNumberToObject(ev, "total", cJSON_GetArraySize(f->events));
	by_type = cJSON_AddObjectToObject(ev, "by_type");
	by_status = cJSON_AddObjectToObject(ev, "by_status");
	by_platform = cJSON_AddObjectToObject(ev, "by_platform");
	recorded = cJSON_CreateObject();
	cJSON_ArrayForEach(e, f->events)
	{
		const char *t = type_of(e), *st = str(details(e), "status");
		const char *pl = str(details(e), "platform"), *act = str(details(e), "action");
		const char *resource = str(details(e), "resource");
		if (t)
			bump(by_type, t);
		if (st && !is(e, "session_completed")) {
			bump(by_status, st);
			failures += !strcmp(st, "failure");
		}
		if (pl)
			bump(by_platform, pl);
		if (t && hive_event_type_is_change(t) && act) {
			created += !strcmp(act, "create");
			updated += !strcmp(act, "update");
			deleted += !strcmp(act, "delete");
			if (resource && !get(seen, resource))
				cJSON_AddTrueToObject(seen, resource);
		}
		if (is(e, "metric_recorded") && str(conf(e), "name") &&
		    cJSON_IsNumber(get(conf(e), "value"))) {
			cJSON *one = cJSON_CreateObject();
			cJSON_AddNumberToObject(one, "value", get(conf(e), "value")->valuedouble);
			if (str(conf(e), "unit"))
				cJSON_AddStringToObject(one, "unit", str(conf(e), "unit"));
			else
				cJSON_AddNullToObject(one, "unit");
			if (resource)
				cJSON_AddStringToObject(one, "resource", resource);
			else
				cJSON_AddNullToObject(one, "resource");
			cJSON_AddStringToObject(one, "timestamp",
						str(e, "timestamp") ? str(e, "timestamp") : "");
			if (get(recorded, str(conf(e), "name")))
				cJSON_ReplaceItemInObjectCaseSensitive(recorded,
								       str(conf(e), "name"), one);
			else
				cJSON_AddItemToObject(recorded, str(conf(e), "name"), one);
		}
	}
	cJSON_AddNumberToObject(ev, "failures", failures);
	res = cJSON_AddObjectToObject(m, "resources");
	cJSON_AddNumberToObject(res, "count", cJSON_GetArraySize(seen));
	cJSON_AddNumberToObject(res, "created", created);
	cJSON_AddNumberToObject(res, "updated", updated);
	cJSON_AddNumberToObject(res, "deleted", deleted);
	cJSON_Delete(seen);
	for (i = 0; i < f->ndeploys; i++) {
		ok += f->deploys[i].success;
		bad += !f->deploys[i].success;
	}
	dep = cJSON_AddObjectToObject(m, "deployments");
	cJSON_AddNumberToObject(dep, "count", (double)f->ndeploys);
	cJSON_AddNumberToObject(dep, "success", ok);
	cJSON_AddNumberToObject(dep, "failure", bad);
	add_num_or_null(dep, "change_failure_rate", f->ndeploys ? bad / (double)f->ndeploys : NAN);
	inc = cJSON_AddObjectToObject(m, "incidents");
	cJSON_AddNumberToObject(inc, "count", (double)f->nincidents);
	add_num_or_null(inc, "mttr_s", mttr_s(f));
	add_num_or_null(m, "lead_time_s", last_lead_s(f));
	cJSON_AddItemToObject(m, "metrics", recorded);
	return m;
}

/* --- markdown ---------------------------------------------------------------------- */

/* Text from an event, safe inside a Markdown list item or table cell. */
static void md(struct hive_buf *b, const char *s)
{
	for (; s && *s; s++) {
		if (*s == '\n' || *s == '\r')
			hive_buf_puts(b, " ");
		else if (*s == '|')
			hive_buf_puts(b, "\\|");
		else if (*s == '<')
			hive_buf_puts(b, "&lt;");
		else
			hive_buf_add(b, s, 1);
	}
}

static void md_value(struct hive_buf *b, const cJSON *v)
{
	char text[2048];

	value_text(v, text, sizeof(text));
	md(b, text);
}

/* "- Label: value" with `not recorded` for a missing value. */
static void md_field(struct hive_buf *b, const char *indent, const char *label, const cJSON *v)
{
	hive_buf_printf(b, "%s- %s: ", indent, label);
	if (!v || cJSON_IsNull(v) || (cJSON_IsString(v) && !*v->valuestring))
		hive_buf_puts(b, NR);
	else
		md_value(b, v);
	hive_buf_puts(b, "\n");
}

/* A list value (array of strings, or one string) as sub-items; `not recorded` if none. */
static void md_list(struct hive_buf *b, const char *indent, const cJSON *v)
{
	const cJSON *it;

	if (cJSON_IsArray(v) && cJSON_GetArraySize(v) > 0) {
		cJSON_ArrayForEach(it, v)
		{
			hive_buf_printf(b, "%s- ", indent);
			md_value(b, it);
			hive_buf_puts(b, "\n");
		}
	} else if (cJSON_IsString(v) && *v->valuestring) {
		hive_buf_printf(b, "%s- ", indent);
		md(b, v->valuestring);
		hive_buf_puts(b, "\n");
	} else {
		hive_buf_printf(b, "%s- %s\n", indent, NR);
	}
}

/* The first of several configuration keys that is set. */
static const cJSON *pick(const cJSON *c, const char *a, const char *b2)
{
	const cJSON *v = get(c, a);

	if ((!v || cJSON_IsNull(v)) && b2)
		v = get(c, b2);
	return v;
}

static void md_deployment(const struct hive_facts *f, struct hive_buf *b)
{
	const cJSON *e;
	size_t i;

	if (!f->ndeploys) {
		hive_buf_puts(b, "## DEPLOYMENT SUMMARY\n\nNo deployment_configured event was "
				 "recorded.\n\n");
		return;
	}
	for (i = 0; i < f->ndeploys; i++) {
		const cJSON *ev = f->deploys[i].ev, *c = conf(ev), *testing = get(c, "testing");
		const cJSON *changes = get(c, "changes");
		hive_buf_puts(b, "## DEPLOYMENT SUMMARY\n\n");
		hive_buf_puts(b, "- Resource: ");
		md(b, str(details(ev), "resource"));
		hive_buf_printf(b, " (%s, %s, line %d, %s)\n",
				str(details(ev), "platform") ? str(details(ev), "platform") : "?",
				str(details(ev), "status") ? str(details(ev), "status") : "?",
				cJSON_IsNumber(get(ev, "seq")) ? (int)get(ev, "seq")->valuedouble
							       : 0,
				str(ev, "timestamp") ? str(ev, "timestamp") : "?");
		md_field(b, "", "Version", get(c, "version"));
		md_field(b, "", "Environment", get(c, "environment"));
		hive_buf_puts(b, "- Changes:\n");
		if (changes) {
			md_list(b, "  ", changes);
		} else {
			/* no description given: the session's recorded changes are the facts */
			int any = 0;
			cJSON_ArrayForEach(e, f->events)
			{
				if (!type_of(e) || !hive_event_type_is_change(type_of(e)) ||
				    is(e, "deployment_configured"))
					continue;
				hive_buf_puts(b, "  - ");
				md(b, type_of(e));
				hive_buf_puts(b, " ");
				md(b, str(details(e), "resource"));
				hive_buf_printf(
					b, " (%s, %s)\n",
					str(details(e), "action") ? str(details(e), "action") : "?",
					str(details(e), "status") ? str(details(e), "status")
								  : "?");
				any = 1;
			}
			if (!any)
				hive_buf_puts(b, "  - " NR "\n");
		}
		hive_buf_puts(b, "- Testing:\n");
		md_field(b, "  ", "Unit", get(testing, "unit"));
		md_field(b, "  ", "Integration", get(testing, "integration"));
		md_field(b, "  ", "Security", get(testing, "security"));
		md_field(b, "", "Rollout Strategy", pick(c, "strategy", "rollout_strategy"));
		md_field(b, "", "Rollback Plan", pick(c, "rollback", "rollback_plan"));
		hive_buf_puts(b, "\n");
	}
}

/* The last non-empty value of key across an incident's events. */
static const cJSON *incident_value(const struct incident *x, const char *key)
{
	const cJSON *evs[3] = {x->resolved, x->responded, x->detected}, *v;
	int i;

	for (i = 0; i < 3; i++) {
		if (!evs[i])
			continue;
		v = get(conf(evs[i]), key);
		if (v && !cJSON_IsNull(v) && !(cJSON_IsString(v) && !*v->valuestring))
			return v;
	}
	return NULL;
}

static void md_time(struct hive_buf *b, const char *label, const cJSON *ev)
{
	hive_buf_printf(b, "  - %s: %s\n", label,
			ev && str(ev, "timestamp") ? str(ev, "timestamp") : NR);
}

static void md_incident(const struct hive_facts *f, struct hive_buf *b)
{
	size_t i;

	if (!f->nincidents) {
		hive_buf_puts(b, "## INCIDENT REPORT\n\nNo incident was recorded.\n\n");
		return;
	}
	for (i = 0; i < f->nincidents; i++) {
		const struct incident *x = &f->incidents[i];
		hive_buf_puts(b, "## INCIDENT REPORT\n\n- Resource: ");
		md(b, x->resource ? x->resource : NR);
		hive_buf_puts(b, "\n");
		md_field(b, "", "Severity", incident_value(x, "severity"));
		md_field(b, "", "Impact", incident_value(x, "impact"));
		hive_buf_puts(b, "- Timeline:\n");
		md_time(b, "Detection", x->detected);
		md_time(b, "Response", x->responded);
		md_time(b, "Resolution", x->resolved);
		md_field(b, "", "Root Cause", incident_value(x, "root_cause"));
		hive_buf_puts(b, "- Action Items:\n");
		md_list(b, "  ", incident_value(x, "action_items"));
		hive_buf_puts(b, "\n");
	}
}

/* Configuration keys the component report shows under their own headings. */
static int component_key(const char *k)
{
	static const char *keys[] = {"purpose", "dependencies", "scaling", "health_check",
				     "metrics", "alerts",	"env",	   "tags"};
	size_t i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (!strcmp(k, keys[i]))
			return 1;
	return 0;
}

/* One entry per resource changed in the session, in order of first appearance: its last
 * platform and change, its configuration merged over every change (later values win),
 * and the metric names recorded for it. The Markdown and the JSON report both use this. */
static cJSON *components(const struct hive_facts *f)
{
	cJSON *out = cJSON_CreateArray(), *c, *merged, *metrics, *lc;
	const cJSON *e, *item, *last;

	cJSON_ArrayForEach(e, f->events)
	{
		const char *r = str(details(e), "resource");
		int seen = 0;
		if (!r || !type_of(e) || !hive_event_type_is_change(type_of(e)))
			continue;
		cJSON_ArrayForEach(c, out) seen |= !strcmp(str(c, "name"), r);
		if (seen)
			continue;
		c = cJSON_CreateObject();
		cJSON_AddStringToObject(c, "name", r);
		cJSON_AddItemToArray(out, c);
	}
	cJSON_ArrayForEach(c, out)
	{
		const char *name = str(c, "name");
		merged = cJSON_CreateObject();
		metrics = cJSON_CreateArray();
		last = NULL;
		cJSON_ArrayForEach(e, f->events)
		{
			const char *r = str(details(e), "resource");
			if (!r || strcmp(r, name))
				continue;
			if (is(e, "metric_recorded") && str(conf(e), "name")) {
				int dup = 0;
				cJSON_ArrayForEach(item, metrics) dup |=
					!strcmp(item->valuestring, str(conf(e), "name"));
				if (!dup) /* a name recorded twice is one key metric */
					cJSON_AddItemToArray(
						metrics, cJSON_CreateString(str(conf(e), "name")));
			}
			if (!type_of(e) || !hive_event_type_is_change(type_of(e)))
				continue;
			last = e;
			cJSON_ArrayForEach(item, conf(e))
			{
				cJSON *copy = cJSON_Duplicate(item, 1);
				if (get(merged, item->string))
					cJSON_ReplaceItemInObjectCaseSensitive(merged, item->string,
									       copy);
				else
					cJSON_AddItemToObject(merged, item->string, copy);
			}
		}
		cJSON_AddItemToObject(c, "platform",
				      cJSON_Duplicate(get(details(last), "platform"), 1));
		lc = cJSON_AddObjectToObject(c, "last_change");
		cJSON_AddStringToObject(lc, "event_type", type_of(last));
		cJSON_AddItemToObject(lc, "action",
				      str(details(last), "action")
					      ? cJSON_CreateString(str(details(last), "action"))
					      : cJSON_CreateNull());
		cJSON_AddItemToObject(lc, "status",
				      str(details(last), "status")
					      ? cJSON_CreateString(str(details(last), "status"))
					      : cJSON_CreateNull());
		cJSON_AddItemToObject(c, "configuration", merged);
		cJSON_AddItemToObject(c, "recorded_metrics", metrics);
	}
	return out;
}

static void md_infrastructure(const struct hive_facts *f, struct hive_buf *b)
{
	cJSON *all = components(f);
	const cJSON *c, *item;

	cJSON_ArrayForEach(c, all)
	{
		const cJSON *merged = get(c, "configuration"),
			    *metrics = get(c, "recorded_metrics");
		const cJSON *lc = get(c, "last_change"), *scaling, *env;
		const char *platform = str(c, "platform"), *last_type = str(lc, "event_type");
		const char *last_action = str(lc, "action"), *last_status = str(lc, "status");

		hive_buf_puts(b, "## INFRASTRUCTURE COMPONENT\n\n- Name: ");
		md(b, str(c, "name"));
		hive_buf_puts(b, "\n");
		md_field(b, "", "Purpose", get(merged, "purpose"));
		hive_buf_puts(b, "- Dependencies: ");
		if (cJSON_IsArray(get(merged, "dependencies"))) {
			int first = 1;
			cJSON_ArrayForEach(item, get(merged, "dependencies"))
			{
				hive_buf_puts(b, first ? "" : ", ");
				md_value(b, item);
				first = 0;
			}
			if (first)
				hive_buf_puts(b, NR);
		} else if (get(merged, "dependencies")) {
			md_value(b, get(merged, "dependencies"));
		} else {
			hive_buf_puts(b, NR);
		}
		hive_buf_puts(b, "\n- Configuration:\n");
		hive_buf_printf(b, "  - Platform: %s\n", platform ? platform : NR);
		hive_buf_printf(b, "  - Last change: %s %s (%s)\n", last_type ? last_type : NR,
				last_action ? last_action : "", last_status ? last_status : "?");
		cJSON_ArrayForEach(item, merged)
		{
			if (component_key(item->string))
				continue;
			hive_buf_puts(b, "  - ");
			md(b, item->string);
			hive_buf_puts(b, ": ");
			md_value(b, item);
			hive_buf_puts(b, "\n");
		}
		env = get(merged, "env");
		hive_buf_puts(b, "  - Environment variables: ");
		if (cJSON_IsObject(env) && env->child) {
			int first = 1;
			cJSON_ArrayForEach(item, env)
			{
				hive_buf_puts(b, first ? "" : ", ");
				md(b, item->string);
				first = 0;
			}
		} else {
			hive_buf_puts(b, NR);
		}
		scaling = get(merged, "scaling");
		hive_buf_puts(b, "\n- Scaling:\n");
		if (get(scaling, "min") || get(scaling, "max")) {
			char lo[64], hi[64];
			/* event text: escaped like every other value (a newline would start a
			 * heading of its own) */
			value_text(get(scaling, "min"), lo, sizeof(lo));
			value_text(get(scaling, "max"), hi, sizeof(hi));
			hive_buf_puts(b, "  - Min/Max instances: ");
			md(b, lo);
			hive_buf_puts(b, "/");
			md(b, hi);
			hive_buf_puts(b, "\n");
		} else if (get(merged, "replicas")) {
			hive_buf_puts(b, "  - Min/Max instances: ");
			md_value(b, get(merged, "replicas"));
			hive_buf_puts(b, " (fixed replicas)\n");
		} else {
			hive_buf_puts(b, "  - Min/Max instances: " NR "\n");
		}
		md_field(b, "  ", "Triggers", get(scaling, "triggers"));
		hive_buf_puts(b, "- Monitoring:\n");
		md_field(b, "  ", "Health check endpoint", get(merged, "health_check"));
		hive_buf_puts(b, "  - Key metrics: ");
		if (cJSON_GetArraySize(metrics) > 0 || get(merged, "metrics")) {
			int first = 1;
			cJSON_ArrayForEach(item, metrics)
			{
				hive_buf_puts(b, first ? "" : ", ");
				md(b, item->valuestring);
				first = 0;
			}
			if (get(merged, "metrics")) {
				hive_buf_puts(b, first ? "" : ", ");
				md_value(b, get(merged, "metrics"));
			}
		} else {
			hive_buf_puts(b, NR);
		}
		hive_buf_puts(b, "\n");
		md_field(b, "  ", "Alert thresholds", get(merged, "alerts"));
		hive_buf_puts(b, "\n");
	}
	if (!all->child)
		hive_buf_puts(b, "## INFRASTRUCTURE COMPONENT\n\nNo infrastructure change was "
				 "recorded.\n\n");
	cJSON_Delete(all);
}

static void md_seconds(struct hive_buf *b, double s)
{
	if (isnan(s))
		hive_buf_puts(b, NR);
	else
		hive_buf_printf(b, "%.3fs", s);
}

static void md_overview(const struct hive_facts *f, struct hive_buf *b)
{
	const cJSON *first = cJSON_GetArrayItem(f->events, 0);
	const cJSON *git = f->state ? get(f->state, "git") : get(first, "git");
	const cJSON *ci = f->state ? get(f->state, "ci") : get(first, "ci");
	const cJSON *e;
	cJSON *m = hive_report_metrics(f), *rec;

	hive_buf_puts(b, "# RUNBOOK: ");
	md(b, f->session_id ? f->session_id : NR);
	hive_buf_puts(b, "\n\n");
	hive_buf_puts(b, "- Worker: ");
	md(b, f->worker ? f->worker : NR);
	hive_buf_printf(b,
			"\n- Status: %s\n- Started: %s\n- Completed: %s\n- Duration: ", f->status,
			f->started_at ? f->started_at : NR, f->completed_at ? f->completed_at : NR);
	md_seconds(b, duration_s(f));
	hive_buf_puts(b, "\n");
	if (cJSON_IsObject(git)) {
		const cJSON *dirty = get(git, "dirty");
		hive_buf_printf(b, "- Commit: %s", str(git, "commit") ? str(git, "commit") : NR);
		hive_buf_puts(b, " on ");
		md(b, str(git, "branch") ? str(git, "branch") : "no branch");
		if (str(git, "tag")) {
			hive_buf_puts(b, ", tag ");
			md(b, str(git, "tag"));
		}
		hive_buf_printf(b, " (%s)\n",
				cJSON_IsTrue(dirty)    ? "uncommitted changes"
				: cJSON_IsFalse(dirty) ? "clean"
						       : "work tree not scanned");
		hive_buf_puts(b, "- Remote: ");
		md(b, str(git, "remote") ? str(git, "remote") : NR);
		hive_buf_puts(b, "\n");
	} else {
		hive_buf_puts(b, "- Commit: " NR " (not a git repository)\n");
	}
	if (cJSON_IsObject(ci)) {
		hive_buf_puts(b, "- CI: ");
		md(b, str(ci, "provider") ? str(ci, "provider") : "ci");
		if (str(ci, "url")) {
			hive_buf_puts(b, " [");
			md(b, str(ci, "job") ? str(ci, "job") : "run");
			hive_buf_puts(b, "](");
			md(b, str(ci, "url"));
			hive_buf_puts(b, ")");
		}
		hive_buf_puts(b, "\n");
	} else {
		hive_buf_puts(b, "- CI: none (run outside CI)\n");
	}

	hive_buf_puts(b, "\n## Metrics\n\n");
	hive_buf_printf(b, "- Events: %d (%d failed)\n", get(get(m, "events"), "total")->valueint,
			get(get(m, "events"), "failures")->valueint);
	hive_buf_printf(b, "- Resources: %d (%d created, %d updated, %d deleted)\n",
			get(get(m, "resources"), "count")->valueint,
			get(get(m, "resources"), "created")->valueint,
			get(get(m, "resources"), "updated")->valueint,
			get(get(m, "resources"), "deleted")->valueint);
	hive_buf_printf(b, "- Deployments: %d (%d succeeded, %d failed), change failure rate ",
			get(get(m, "deployments"), "count")->valueint,
			get(get(m, "deployments"), "success")->valueint,
			get(get(m, "deployments"), "failure")->valueint);
	if (cJSON_IsNumber(get(get(m, "deployments"), "change_failure_rate")))
		hive_buf_printf(
			b, "%.1f%%\n",
			100 * get(get(m, "deployments"), "change_failure_rate")->valuedouble);
	else
		hive_buf_puts(b, NR "\n");
	hive_buf_printf(b, "- Incidents: %d, mean time to recovery ",
			get(get(m, "incidents"), "count")->valueint);
	md_seconds(b, mttr_s(f));
	hive_buf_puts(b, "\n- Lead time for changes: ");
	md_seconds(b, last_lead_s(f));
	hive_buf_puts(b, "\n");
	cJSON_ArrayForEach(rec, get(m, "metrics"))
	{
		hive_buf_puts(b, "- ");
		md(b, rec->string);
		hive_buf_printf(b, ": %.15g", get(rec, "value")->valuedouble);
		if (str(rec, "unit")) {
			hive_buf_puts(b, " ");
			md(b, str(rec, "unit"));
		}
		hive_buf_puts(b, "\n");
	}
	cJSON_Delete(m);

	hive_buf_puts(
		b,
		"\n## Timeline\n\n| seq | time | event | resource | action | platform | status |\n"
		"|---|---|---|---|---|---|---|\n");
	cJSON_ArrayForEach(e, f->events)
	{
		const cJSON *d = details(e);
		hive_buf_printf(b, "| %d | %s | ",
				cJSON_IsNumber(get(e, "seq")) ? (int)get(e, "seq")->valuedouble : 0,
				str(e, "timestamp") ? str(e, "timestamp") : "");
		md(b, type_of(e) ? type_of(e) : "");
		hive_buf_puts(b, " | ");
		md(b, str(d, "resource") ? str(d, "resource") : "");
		hive_buf_puts(b, " | ");
		md(b, str(d, "action") ? str(d, "action") : "");
		hive_buf_puts(b, " | ");
		md(b, str(d, "platform") ? str(d, "platform") : "");
		hive_buf_puts(b, " | ");
		md(b, str(d, "status") ? str(d, "status") : "");
		hive_buf_puts(b, " |\n");
	}
	hive_buf_puts(b, "\n");
}

static void md_findings(const cJSON *findings, struct hive_buf *b)
{
	const cJSON *x;
	int errors = 0, warnings = 0;

	hive_buf_puts(b, "## Validation\n\n");
	if (!findings) {
		hive_buf_puts(
			b,
			"Not checked here: pass hive-check's JSON findings with --findings.\n\n");
		return;
	}
	cJSON_ArrayForEach(x, findings)
	{
		const char *lvl = str(x, "level");
		errors += lvl && !strcmp(lvl, "error");
		warnings += lvl && !strcmp(lvl, "warning");
	}
	hive_buf_printf(b, "hive-check: %d error%s, %d warning%s.\n\n", errors,
			errors == 1 ? "" : "s", warnings, warnings == 1 ? "" : "s");
	cJSON_ArrayForEach(x, findings)
	{
		hive_buf_printf(b, "- %s [%s] ", str(x, "level") ? str(x, "level") : "?",
				str(x, "rule") ? str(x, "rule") : "?");
		md(b, str(x, "file") ? str(x, "file") : "-");
		if (cJSON_IsNumber(get(x, "line")))
			hive_buf_printf(b, ":%d", get(x, "line")->valueint);
		hive_buf_puts(b, ": ");
		md(b, str(x, "message") ? str(x, "message") : "");
		hive_buf_puts(b, "\n");
	}
	if (findings->child) /* the list ends with a blank line, as every section does */
		hive_buf_puts(b, "\n");
}

void hive_report_markdown(const struct hive_facts *f, const char *which, const cJSON *findings,
			  struct hive_buf *out)
{
	int runbook = !strcmp(which, "runbook"), all = runbook || !strcmp(which, "all");

	if (runbook)
		md_overview(f, out);
	if (all || !strcmp(which, "deployment"))
		md_deployment(f, out);
	if (all || !strcmp(which, "incident"))
		md_incident(f, out);
	if (all || !strcmp(which, "infrastructure"))
		md_infrastructure(f, out);
	if (runbook || findings)
		md_findings(findings, out);
}

cJSON *hive_report_json(const struct hive_facts *f, const cJSON *findings)
{
	cJSON *o = cJSON_CreateObject(), *deps, *incs, *d;
	size_t i;

	cJSON_AddItemToObject(o, "metrics", hive_report_metrics(f));
	cJSON_AddItemToObject(
		o, "git",
		cJSON_Duplicate(f->state ? get(f->state, "git")
					 : get(cJSON_GetArrayItem(f->events, 0), "git"),
				1));
	cJSON_AddItemToObject(o, "ci",
			      cJSON_Duplicate(f->state
						      ? get(f->state, "ci")
						      : get(cJSON_GetArrayItem(f->events, 0), "ci"),
					      1));
	deps = cJSON_AddArrayToObject(o, "deployments");
	for (i = 0; i < f->ndeploys; i++) {
		const cJSON *c = conf(f->deploys[i].ev), *t = get(c, "testing");
		d = cJSON_CreateObject();
		cJSON_AddItemToObject(
			d, "resource",
			cJSON_Duplicate(get(details(f->deploys[i].ev), "resource"), 1));
		cJSON_AddItemToObject(d, "timestamp",
				      cJSON_Duplicate(get(f->deploys[i].ev, "timestamp"), 1));
		cJSON_AddBoolToObject(d, "success", f->deploys[i].success);
		cJSON_AddItemToObject(d, "version",
				      get(c, "version") ? cJSON_Duplicate(get(c, "version"), 1)
							: cJSON_CreateNull());
		cJSON_AddItemToObject(d, "environment",
				      get(c, "environment")
					      ? cJSON_Duplicate(get(c, "environment"), 1)
					      : cJSON_CreateNull());
		cJSON_AddItemToObject(d, "changes",
				      get(c, "changes") ? cJSON_Duplicate(get(c, "changes"), 1)
							: cJSON_CreateNull());
		cJSON_AddItemToObject(d, "testing", t ? cJSON_Duplicate(t, 1) : cJSON_CreateNull());
		cJSON_AddItemToObject(
			d, "strategy",
			pick(c, "strategy", "rollout_strategy")
				? cJSON_Duplicate(pick(c, "strategy", "rollout_strategy"), 1)
				: cJSON_CreateNull());
		cJSON_AddItemToObject(
			d, "rollback",
			pick(c, "rollback", "rollback_plan")
				? cJSON_Duplicate(pick(c, "rollback", "rollback_plan"), 1)
				: cJSON_CreateNull());
		add_num_or_null(d, "lead_time_s", f->deploys[i].lead_s);
		cJSON_AddItemToArray(deps, d);
	}
	incs = cJSON_AddArrayToObject(o, "incidents");
	for (i = 0; i < f->nincidents; i++) {
		const struct incident *x = &f->incidents[i];
		const char *keys[] = {"severity", "impact", "root_cause", "action_items"};
		size_t k;
		d = cJSON_CreateObject();
		if (x->resource)
			cJSON_AddStringToObject(d, "resource", x->resource);
		else
			cJSON_AddNullToObject(d, "resource");
		for (k = 0; k < 4; k++) {
			const cJSON *v = incident_value(x, keys[k]);
			cJSON_AddItemToObject(d, keys[k],
					      v ? cJSON_Duplicate(v, 1) : cJSON_CreateNull());
		}
		cJSON_AddItemToObject(d, "detected",
				      x->detected
					      ? cJSON_Duplicate(get(x->detected, "timestamp"), 1)
					      : cJSON_CreateNull());
		cJSON_AddItemToObject(d, "responded",
				      x->responded
					      ? cJSON_Duplicate(get(x->responded, "timestamp"), 1)
					      : cJSON_CreateNull());
		cJSON_AddItemToObject(d, "resolved",
				      x->resolved
					      ? cJSON_Duplicate(get(x->resolved, "timestamp"), 1)
					      : cJSON_CreateNull());
		cJSON_AddItemToArray(incs, d);
	}
	cJSON_AddItemToObject(o, "infrastructure", components(f));
	cJSON_AddItemToObject(o, "findings",
			      findings ? cJSON_Duplicate(findings, 1) : cJSON_CreateNull());
	return o;
}

/* --- prometheus -------------------------------------------------------------------- */

/* A label value with the exposition format's escapes (\\, \", \n). */
static void prom_label(struct hive_buf *b, const char *s)
{
	for (; s && *s; s++) {
		if (*s == '\\')
			hive_buf_puts(b, "\\\\");
		else if (*s == '"')
			hive_buf_puts(b, "\\\"");
		else if (*s == '\n')
			hive_buf_puts(b, "\\n");
		else
			hive_buf_add(b, s, 1);
	}
}

static void prom_head(struct hive_buf *b, const char *name, const char *help)
{
	hive_buf_printf(b, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name);
}

/* name{session="…"[,k="v"]} value */
static void prom_sample(struct hive_buf *b, const char *name, const char *session, const char *k,
			const char *v, double value)
{
	hive_buf_printf(b, "%s{session=\"", name);
	prom_label(b, session);
	hive_buf_puts(b, "\"");
	if (k) {
		hive_buf_printf(b, ",%s=\"", k);
		prom_label(b, v);
		hive_buf_puts(b, "\"");
	}
	hive_buf_printf(b, "} %.15g\n", value);
}

void hive_report_prometheus(const struct hive_facts *f, struct hive_buf *out)
{
	cJSON *m = hive_report_metrics(f);
	const cJSON *x, *ev = get(m, "events");
	const char *sid = f->session_id ? f->session_id : "";
	static const char *actions[] = {"created", "updated", "deleted"};
	size_t i;

	prom_head(out, "hive_session_info", "A hive session: labels say which worker and status.");
	hive_buf_puts(out, "hive_session_info{session=\"");
	prom_label(out, sid);
	hive_buf_puts(out, "\",worker=\"");
	prom_label(out, f->worker ? f->worker : "");
	hive_buf_printf(out, "\",status=\"%s\"} 1\n", f->status);
	if (f->started_ms >= 0) {
		prom_head(out, "hive_session_start_time_seconds",
			  "When the session started (Unix time).");
		prom_sample(out, "hive_session_start_time_seconds", sid, NULL, NULL,
			    (double)f->started_ms / 1000.0);
	}
	if (!isnan(duration_s(f))) {
		prom_head(out, "hive_session_duration_seconds",
			  "From session_started to session_completed (or the last event).");
		prom_sample(out, "hive_session_duration_seconds", sid, NULL, NULL, duration_s(f));
	}
	prom_head(out, "hive_session_events", "Events in the session's log, by type.");
	cJSON_ArrayForEach(x, get(ev, "by_type"))
		prom_sample(out, "hive_session_events", sid, "type", x->string, x->valuedouble);
	prom_head(out, "hive_session_failed_events", "Events whose details.status is failure.");
	prom_sample(out, "hive_session_failed_events", sid, NULL, NULL,
		    get(ev, "failures")->valuedouble);
	prom_head(out, "hive_session_resource_changes", "Resource change events, by action.");
	for (i = 0; i < 3; i++)
		prom_sample(out, "hive_session_resource_changes", sid, "action", actions[i],
			    get(get(m, "resources"), actions[i])->valuedouble);
	prom_head(out, "hive_session_deployments", "deployment_configured events, by result.");
	prom_sample(out, "hive_session_deployments", sid, "result", "success",
		    get(get(m, "deployments"), "success")->valuedouble);
	prom_sample(out, "hive_session_deployments", sid, "result", "failure",
		    get(get(m, "deployments"), "failure")->valuedouble);
	if (cJSON_IsNumber(get(get(m, "deployments"), "change_failure_rate"))) {
		prom_head(out, "hive_session_change_failure_ratio",
			  "Failed deployments over all deployments.");
		prom_sample(out, "hive_session_change_failure_ratio", sid, NULL, NULL,
			    get(get(m, "deployments"), "change_failure_rate")->valuedouble);
	}
	prom_head(out, "hive_session_incidents", "Incidents detected in the session.");
	prom_sample(out, "hive_session_incidents", sid, NULL, NULL,
		    get(get(m, "incidents"), "count")->valuedouble);
	if (cJSON_IsNumber(get(get(m, "incidents"), "mttr_s"))) {
		prom_head(out, "hive_session_incident_recovery_seconds",
			  "Mean time from incident_detected to incident_resolved.");
		prom_sample(out, "hive_session_incident_recovery_seconds", sid, NULL, NULL,
			    get(get(m, "incidents"), "mttr_s")->valuedouble);
	}
	if (cJSON_IsNumber(get(m, "lead_time_s"))) {
		prom_head(out, "hive_session_lead_time_seconds",
			  "From the deployed commit's commit time to its deployment.");
		prom_sample(out, "hive_session_lead_time_seconds", sid, NULL, NULL,
			    get(m, "lead_time_s")->valuedouble);
	}
	if (get(m, "metrics")->child) {
		prom_head(out, "hive_session_recorded_value",
			  "The last metric_recorded value of each name.");
		cJSON_ArrayForEach(x, get(m, "metrics"))
		{
			hive_buf_puts(out, "hive_session_recorded_value{session=\"");
			prom_label(out, sid);
			hive_buf_puts(out, "\",name=\"");
			prom_label(out, x->string);
			hive_buf_puts(out, "\",unit=\"");
			prom_label(out, str(x, "unit") ? str(x, "unit") : "");
			hive_buf_printf(out, "\"} %.15g\n", get(x, "value")->valuedouble);
		}
	}
	cJSON_Delete(m);
}

/* --- DORA -------------------------------------------------------------------------- */

struct hive_dora {
	double *lead, *recovery;
	size_t nlead, nrecovery, cap_lead, cap_recovery;
	size_t deploys, failed, sessions;
	int64_t first_ms, last_ms;
};

int hive_dora_new(struct hive_dora **out, struct hive_err *err)
{
	if (!(*out = calloc(1, sizeof(**out))))
		return hive_err_set(err, HIVE_EENV, "out of memory");
	(*out)->first_ms = (*out)->last_ms = -1;
	return HIVE_OK;
}

static void push(double **v, size_t *n, size_t *cap, double x)
{
	if (*n == *cap) {
		size_t c = *cap ? *cap * 2 : 16;
		double *nv = realloc(*v, c * sizeof(*nv));
		if (!nv)
			return;
		*v = nv;
		*cap = c;
	}
	(*v)[(*n)++] = x;
}

void hive_dora_add(struct hive_dora *d, const struct hive_facts *f)
{
	size_t i;

	d->sessions++;
	for (i = 0; i < f->ndeploys; i++) {
		const struct deploy *x = &f->deploys[i];
		d->deploys++;
		d->failed += !x->success;
		if (x->ms >= 0) {
			if (d->first_ms < 0 || x->ms < d->first_ms)
				d->first_ms = x->ms;
			if (x->ms > d->last_ms)
				d->last_ms = x->ms;
		}
		if (x->success && !isnan(x->lead_s))
			push(&d->lead, &d->nlead, &d->cap_lead, x->lead_s);
	}
	for (i = 0; i < f->nincidents; i++) {
		const struct incident *x = &f->incidents[i];
		int64_t a = x->detected ? ms_of(x->detected) : -1;
		int64_t b = x->resolved ? ms_of(x->resolved) : -1;
		if (a >= 0 && b >= a)
			push(&d->recovery, &d->nrecovery, &d->cap_recovery,
			     (double)(b - a) / 1000.0);
	}
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, size_t n)
{
	if (!n)
		return NAN;
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Days covered by the deployments, at least one. */
static double dora_days(const struct hive_dora *d)
{
	double days = d->first_ms >= 0 ? (double)(d->last_ms - d->first_ms) / 86400000.0 : 0;

	return days < 1 ? 1 : days;
}

cJSON *hive_dora_json(const struct hive_dora *d)
{
	cJSON *o = cJSON_CreateObject(), *x;
	char t[32];

	cJSON_AddNumberToObject(o, "sessions", (double)d->sessions);
	x = cJSON_AddObjectToObject(o, "deployment_frequency");
	cJSON_AddNumberToObject(x, "deployments", (double)(d->deploys - d->failed));
	cJSON_AddNumberToObject(x, "days", dora_days(d));
	cJSON_AddNumberToObject(x, "per_day", (double)(d->deploys - d->failed) / dora_days(d));
	if (d->first_ms >= 0) {
		hive_time_format(d->first_ms, t);
		cJSON_AddStringToObject(x, "first", t);
		hive_time_format(d->last_ms, t);
		cJSON_AddStringToObject(x, "last", t);
	} else {
		cJSON_AddNullToObject(x, "first");
		cJSON_AddNullToObject(x, "last");
	}
	x = cJSON_AddObjectToObject(o, "lead_time_for_changes");
	cJSON_AddNumberToObject(x, "deployments", (double)d->nlead);
	add_num_or_null(x, "median_s", median(d->lead, d->nlead));
	x = cJSON_AddObjectToObject(o, "change_failure_rate");
	cJSON_AddNumberToObject(x, "deployments", (double)d->deploys);
	cJSON_AddNumberToObject(x, "failed", (double)d->failed);
	add_num_or_null(x, "rate", d->deploys ? (double)d->failed / (double)d->deploys : NAN);
	x = cJSON_AddObjectToObject(o, "failed_deployment_recovery_time");
	cJSON_AddNumberToObject(x, "incidents", (double)d->nrecovery);
	add_num_or_null(x, "median_s", median(d->recovery, d->nrecovery));
	return o;
}

void hive_dora_markdown(const struct hive_dora *d, struct hive_buf *out)
{
	cJSON *j = hive_dora_json(d);
	const cJSON *df = get(j, "deployment_frequency"), *lt = get(j, "lead_time_for_changes");
	const cJSON *cfr = get(j, "change_failure_rate"),
		    *rt = get(j, "failed_deployment_recovery_time");

	hive_buf_printf(out, "# DORA METRICS\n\nAcross %zu session%s.\n\n", d->sessions,
			d->sessions == 1 ? "" : "s");
	hive_buf_puts(out, "| key | value | from |\n|---|---|---|\n");
	hive_buf_printf(out,
			"| Deployment frequency | %.3g per day | %d successful deployments over "
			"%.3g days |\n",
			get(df, "per_day")->valuedouble, get(df, "deployments")->valueint,
			get(df, "days")->valuedouble);
	hive_buf_puts(out, "| Lead time for changes (median) | ");
	md_seconds(out,
		   cJSON_IsNumber(get(lt, "median_s")) ? get(lt, "median_s")->valuedouble : NAN);
	hive_buf_printf(out, " | %d deployments with a known commit time |\n",
			get(lt, "deployments")->valueint);
	hive_buf_puts(out, "| Change failure rate | ");
	if (cJSON_IsNumber(get(cfr, "rate")))
		hive_buf_printf(out, "%.1f%%", 100 * get(cfr, "rate")->valuedouble);
	else
		hive_buf_puts(out, NR);
	hive_buf_printf(out, " | %d failed of %d deployments |\n", get(cfr, "failed")->valueint,
			get(cfr, "deployments")->valueint);
	hive_buf_puts(out, "| Failed deployment recovery time (median) | ");
	md_seconds(out,
		   cJSON_IsNumber(get(rt, "median_s")) ? get(rt, "median_s")->valuedouble : NAN);
	hive_buf_printf(out, " | %d resolved incidents |\n\n", get(rt, "incidents")->valueint);
	cJSON_Delete(j);
}

void hive_dora_prometheus(const struct hive_dora *d, struct hive_buf *out)
{
	cJSON *j = hive_dora_json(d);
	const cJSON *v;

	prom_head(out, "hive_dora_deployments_per_day",
		  "Successful deployments per day across sessions.");
	hive_buf_printf(out, "hive_dora_deployments_per_day %.15g\n",
			get(get(j, "deployment_frequency"), "per_day")->valuedouble);
	if (cJSON_IsNumber(v = get(get(j, "lead_time_for_changes"), "median_s"))) {
		prom_head(out, "hive_dora_lead_time_seconds", "Median lead time for changes.");
		hive_buf_printf(out, "hive_dora_lead_time_seconds %.15g\n", v->valuedouble);
	}
	if (cJSON_IsNumber(v = get(get(j, "change_failure_rate"), "rate"))) {
		prom_head(out, "hive_dora_change_failure_ratio",
			  "Failed deployments over all deployments.");
		hive_buf_printf(out, "hive_dora_change_failure_ratio %.15g\n", v->valuedouble);
	}
	if (cJSON_IsNumber(v = get(get(j, "failed_deployment_recovery_time"), "median_s"))) {
		prom_head(out, "hive_dora_recovery_seconds",
			  "Median failed deployment recovery time.");
		hive_buf_printf(out, "hive_dora_recovery_seconds %.15g\n", v->valuedouble);
	}
	cJSON_Delete(j);
}

void hive_dora_free(struct hive_dora *d)
{
	if (!d)
		return;
	free(d->lead);
	free(d->recovery);
	free(d);
}

struct dora_walk {
	const char *root;
	struct git_repository *repo;
	struct hive_dora *d;
	struct hive_err *err;
};

/* One session's facts into the DORA figures, read under its shared lock. */
static int dora_one(const char *id, void *arg)
{
	struct dora_walk *w = arg;
	struct hive_session *s = NULL;
	struct hive_facts *f = NULL;
	int rc;

	rc = hive_session_open_ro(w->root, id, &s, w->err);
	if (!rc && !(rc = hive_session_lock_shared(s, hive_lock_timeout(), w->err)) &&
	    !(rc = hive_facts_load(s, w->repo, &f, w->err)))
		hive_dora_add(w->d, f);
	hive_facts_free(f);
	hive_session_close(s);
	return rc;
}

int hive_dora_collect(struct hive_dora *d, const char *root, struct git_repository *repo,
		      struct hive_err *err)
{
	struct dora_walk w = {root, repo, d, err};

	return hive_session_foreach(root, dora_one, &w, err);
}

/* The rendered JSON, compact, and a newline, added to out. */
static void add_json(struct hive_buf *out, cJSON *json)
{
	char *text = json ? cJSON_PrintUnformatted(json) : NULL;

	if (!text) {
		out->oom = 1;
	} else {
		hive_buf_puts(out, text);
		hive_buf_puts(out, "\n");
	}
	cJSON_free(text);
	cJSON_Delete(json);
}

void hive_report_render(const struct hive_facts *f, const char *which, const char *format,
			const cJSON *findings, struct hive_buf *out, struct hive_buf *md)
{
	hive_report_markdown(f, which, findings, md);
	if (!strcmp(format, "json"))
		add_json(out, hive_report_json(f, findings));
	else if (!strcmp(format, "prometheus"))
		hive_report_prometheus(f, out);
	else if (!strcmp(format, "otlp"))
		hive_otlp_traces(f, out);
	else if (!strcmp(format, "otlp-logs"))
		hive_otlp_logs(f, out);
	else
		hive_buf_add(out, md->p ? md->p : "", md->len);
}

void hive_dora_render(const struct hive_dora *d, const char *format, struct hive_buf *out,
		      struct hive_buf *md)
{
	hive_dora_markdown(d, md);
	if (!strcmp(format, "json"))
		add_json(out, hive_dora_json(d));
	else if (!strcmp(format, "prometheus"))
		hive_dora_prometheus(d, out);
	else
		hive_buf_add(out, md->p ? md->p : "", md->len);
}

/* --- what export.c and otlp.c read --------------------------------------------------- */

const cJSON *hive_facts_events(const struct hive_facts *f)
{
	return f->events;
}

const cJSON *hive_facts_state(const struct hive_facts *f)
{
	return f->state;
}

int64_t hive_facts_commit_ms(struct git_repository *repo, const cJSON *ev)
{
	return commit_time_ms(repo, ev);
}
