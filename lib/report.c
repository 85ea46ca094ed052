/* report.c - facts from a session's log, and the reports made of them: METRICS.json, Markdown,
 * JSON, Prometheus, DORA */
#include "report.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <git2.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "event.h"
#include "log.h"
#include "prepush.h"
#include "otlp.h"
#include "session.h"
#include "state.h"

#define NR "not recorded"

struct deploy {
	const cJSON *ev;
	const char *resource, *environment; /* either may be NULL */
	int64_t ms, seq;
	int success;
	int failed_change; /* failed, or an incident is linked to it (hive(7), DORA) */
	double lead_s;	   /* NAN when the commit or its time is unknown */
};

struct incident {
	const char *resource;
	const cJSON *detected, *responded, *resolved; /* the events, any may be NULL */
	long deploy; /* index of the linked deployment in deploys, or -1 */
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

/* A deployment_configured whose details.status says it has not ended yet. */
static int is_in_progress(const cJSON *ev)
{
	const char *st = str(details(ev), "status");

	return st && !strcmp(st, "in_progress");
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
	n->deploy = -1;
	return n;
}

static const cJSON *incident_value(const struct incident *x, const char *key);

static int64_t seq_of(const cJSON *ev)
{
	const cJSON *v = get(ev, "seq");

	return cJSON_IsNumber(v) ? (int64_t)v->valuedouble : -1;
}

/* The deployment an incident is linked to (hive(7) "Change failure rate"): the one whose
 * seq its configuration.deployment names, else the latest deployment before its detection
 * with the same resource and the same configuration.environment (both named). -1 if none. */
static long incident_link(const struct hive_facts *f, const struct incident *x)
{
	const cJSON *named = incident_value(x, "deployment");
	const cJSON *env = incident_value(x, "environment");
	const cJSON *first = x->detected ? x->detected : x->responded ? x->responded : x->resolved;
	int64_t at = seq_of(first);
	size_t i;

	if (cJSON_IsNumber(named) || (cJSON_IsString(named) && *named->valuestring)) {
		double want = cJSON_IsNumber(named) ? named->valuedouble
						    : strtod(named->valuestring, NULL);
		for (i = 0; i < f->ndeploys; i++)
			if ((double)f->deploys[i].seq == want)
				return (long)i;
		return -1;
	}
	if (!x->resource || !cJSON_IsString(env))
		return -1;
	for (i = f->ndeploys; i-- > 0;) {
		const struct deploy *d = &f->deploys[i];
		if (at >= 0 && d->seq >= at)
			continue;
		if (d->resource && d->environment && !strcmp(d->resource, x->resource) &&
		    !strcmp(d->environment, env->valuestring))
			return (long)i;
	}
	return -1;
}

static void derive(struct hive_facts *f, git_repository *repo)
{
	const cJSON *ev, *first = cJSON_GetArrayItem(f->events, 0);
	struct incident *inc;
	size_t i, n = (size_t)cJSON_GetArraySize(f->events);

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
		} else if (is(ev, "deployment_configured") && f->deploys && !is_in_progress(ev)) {
			/* a deployment under way is STATE.json's; it counts once it has ended */
			struct deploy *d = &f->deploys[f->ndeploys++];
			const char *st = str(details(ev), "status");
			int64_t cms = commit_time_ms(repo, ev);
			d->ev = ev;
			d->ms = ms;
			d->seq = seq_of(ev);
			d->resource = resource;
			d->environment = str(conf(ev), "environment");
			d->success = st && !strcmp(st, "success");
			d->failed_change = !d->success;
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
	for (i = 0; i < f->nincidents; i++)
		if ((f->incidents[i].deploy = incident_link(f, &f->incidents[i])) >= 0)
			f->deploys[f->incidents[i].deploy].failed_change = 1;
}

static int load(struct hive_session *s, git_repository *repo, struct hive_facts **out, int finish,
		struct hive_err *err);
static int load_lines(struct hive_lines *r, const char *dir, git_repository *repo,
		      struct hive_facts **out, int finish, struct hive_err *err);

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
/* One event of the merged timeline, with where it stood (ties keep that order). */
struct timed {
	cJSON *ev;
	int64_t ms;
	size_t at;
};

static int timed_cmp(const void *a, const void *b)
{
	const struct timed *x = a, *y = b;

	if (x->ms != y->ms)
		return x->ms < y->ms ? -1 : 1;
	return x->at < y->at ? -1 : x->at > y->at;
}

/* Every lane of the folder (lanes/NAME.jsonl, SPEC 11) into f: the events of the main log and
 * of the lanes merged in timestamp order (the main log first at equal times), and the view
 * folded again over all of them, so every report, METRICS.json and DORA count the lanes.
 * No lanes folder: nothing changes. HIVE_EENV naming a lane line that is not whole JSON. */
static int fold_lanes(struct hive_session *s, struct hive_facts *f, struct hive_err *err)
{
	struct hive_strv names = {0};
	struct timed *all = NULL;
	struct dirent *de;
	struct hive_lines *r = NULL;
	enum hive_line_kind kind;
	const char *line, *ts;
	char hash[HIVE_HASH_SIZE];
	struct hive_err ignored = {0};
	size_t i, n = 0, cap = 0, len;
	int fd, lfd, got, rc = HIVE_OK;
	cJSON *ev;
	DIR *d;

	if ((fd = openat(s->dirfd, "lanes", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return errno == ENOENT ? HIVE_OK
				       : hive_err_sys(err, HIVE_EENV, errno, "%s/lanes", s->dir);
	if (!(d = fdopendir(dup(fd)))) {
		close(fd);
		return hive_err_sys(err, HIVE_EENV, errno, "%s/lanes", s->dir);
	}
	while ((de = readdir(d)))
		if ((len = strlen(de->d_name)) > 6 && de->d_name[0] != '.' &&
		    !strcmp(de->d_name + len - 6, ".jsonl"))
			hive_strv_push(&names, de->d_name);
	closedir(d);
	hive_strv_sort(&names);
	/* the main log's events, where they are */
	while ((ev = f->events->child)) {
		if (n == cap && !(all = realloc(all, (cap = cap ? cap * 2 : 256) * sizeof(*all))))
			goto oom;
		ts = hive_json_str(ev, "timestamp");
		all[n].ev = cJSON_DetachItemViaPointer(f->events, ev);
		all[n].ms = ts && hive_time_parse(ts, &all[n].ms) == 0 ? all[n].ms : 0;
		all[n].at = n;
		n++;
	}
	for (i = 0; !rc && i < names.n; i++) {
		if ((lfd = openat(fd, names.v[i], O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
			rc = hive_err_sys(err, HIVE_EENV, errno, "%s/lanes/%s", s->dir, names.v[i]);
			break;
		}
		if (!(rc = hive_lines_from_fd(lfd, &r, err))) {
			while ((got = hive_lines_next(r, &line, &len, &kind, err)) > 0) {
				if (kind != HIVE_LINE_OK || !(ev = hive_json_parse(line, len))) {
					rc = hive_err_set(err, HIVE_EENV,
							  "%s/lanes/%s:%zu: not a whole JSON line: "
							  "run hive-check",
							  s->dir, names.v[i], hive_lines_number(r));
					break;
				}
				if (n == cap && !(all = realloc(all, (cap = cap ? cap * 2 : 256) *
									     sizeof(*all)))) {
					cJSON_Delete(ev);
					hive_lines_free(r);
					close(lfd);
					goto oom;
				}
				ts = hive_json_str(ev, "timestamp");
				all[n].ev = ev;
				all[n].ms =
					ts && hive_time_parse(ts, &all[n].ms) == 0 ? all[n].ms : 0;
				all[n].at = n;
				n++;
			}
			if (!rc && got < 0)
				rc = HIVE_EENV;
		}
		hive_lines_free(r);
		r = NULL;
		close(lfd);
	}
	qsort(all, n, sizeof(*all), timed_cmp);
	cJSON_Delete(f->state);
	f->state = NULL;
	for (i = 0; i < n; i++) {
		char *text = cJSON_PrintUnformatted(all[i].ev);
		hive_sha256(text ? text : "", text ? strlen(text) : 0, hash);
		cJSON_free(text);
		hive_state_apply(&f->state, all[i].ev, hash, &ignored);
		cJSON_AddItemToArray(f->events, all[i].ev);
	}
	free(all);
	close(fd);
	hive_strv_clear(&names);
	return rc;
oom:
	for (i = 0; i < n; i++)
		cJSON_AddItemToArray(f->events, all[i].ev);
	free(all);
	close(fd);
	hive_strv_clear(&names);
	return hive_err_set(err, HIVE_EENV, "out of memory");
}

static int load(struct hive_session *s, git_repository *repo, struct hive_facts **out, int finish,
		struct hive_err *err)
{
	struct hive_lines *r = NULL;
	int rc;

	*out = NULL;
	/* the view is folded from the log here, never read from STATE.json */
	if ((rc = hive_log_lines(s, &r, err)))
		return rc;
	rc = load_lines(r, s->dir, repo, out, 0, err);
	hive_lines_free(r);
	if (!rc && (rc = fold_lanes(s, *out, err))) {
		hive_facts_free(*out);
		*out = NULL;
	}
	if (!rc && finish)
		derive(*out, repo);
	return rc;
}

int hive_facts_load_log(const char *const *segs, const size_t *lens, size_t n, const char *dir,
			git_repository *repo, struct hive_facts **out, struct hive_err *err)
{
	struct hive_lines *r = NULL;
	int rc;

	*out = NULL;
	if ((rc = hive_lines_from_mems(segs, lens, n, &r, err)))
		return rc;
	rc = load_lines(r, dir, repo, out, 1, err);
	hive_lines_free(r);
	return rc;
}

/* Every line of r (the segments of the log in the folder dir, as shown) folded into *out;
 * derived (derive) when `finish`. */
static int load_lines(struct hive_lines *r, const char *dir, git_repository *repo,
		      struct hive_facts **out, int finish, struct hive_err *err)
{
	struct hive_facts *f = calloc(1, sizeof(*f));
	enum hive_line_kind kind;
	const char *line;
	char name[32];
	size_t len, no;
	int rc = HIVE_OK, got;

	*out = NULL;
	if (!f || !(f->events = cJSON_CreateArray())) {
		free(f);
		return hive_err_set(err, HIVE_EENV, "out of memory");
	}
	while ((got = hive_lines_next(r, &line, &len, &kind, err)) > 0) {
		if (kind != HIVE_LINE_OK || fold_line(f, line, len) < 0) {
			hive_log_segment_name(hive_lines_source(r, &no), name);
			rc = hive_err_set(err, HIVE_EENV,
					  "%s/%s:%zu: not a whole JSON line: run hive-check", dir,
					  name, no);
			goto fail;
		}
	}
	if (got < 0) {
		rc = HIVE_EENV;
		goto fail;
	}
	if (finish)
		derive(f, repo);
	*out = f;
	return HIVE_OK;
fail:
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

/* Add value to the number under key in obj (created at 0). */
static void add_to(cJSON *obj, const char *key, double value)
{
	cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	if (v)
		cJSON_SetNumberValue(v, v->valuedouble + value);
	else
		cJSON_AddNumberToObject(obj, key, value);
}

/* The entry for (resource, unit) in a metric's by_resource list, created when missing. */
static cJSON *metric_slot(cJSON *list, const char *resource, const char *unit)
{
	cJSON *x;

	cJSON_ArrayForEach(x, list)
	{
		const char *r = str(x, "resource"), *u = str(x, "unit");
		if ((r && resource ? !strcmp(r, resource) : r == resource) &&
		    (u && unit ? !strcmp(u, unit) : u == unit))
			return x;
	}
	x = cJSON_CreateObject();
	cJSON_AddItemToObject(x, "resource",
			      resource ? cJSON_CreateString(resource) : cJSON_CreateNull());
	cJSON_AddItemToObject(x, "unit", unit ? cJSON_CreateString(unit) : cJSON_CreateNull());
	cJSON_AddItemToArray(list, x);
	return x;
}

/* metric_recorded values by name: each resource's latest value (by_resource, in order of
 * first appearance) and, per unit, their sum (totals). A value recorded again for the same
 * resource replaces the one before: it is the resource's current figure, not an addition. */
static cJSON *recorded_metrics(const struct hive_facts *f)
{
	cJSON *out = cJSON_CreateObject(), *one, *slot, *x, *totals;
	const cJSON *e;

	cJSON_ArrayForEach(e, f->events)
	{
		const char *name = str(conf(e), "name");
		const cJSON *v = get(conf(e), "value");
		if (!is(e, "metric_recorded") || !name || !cJSON_IsNumber(v))
			continue;
		if (!(one = cJSON_GetObjectItemCaseSensitive(out, name))) {
			one = cJSON_AddObjectToObject(out, name);
			cJSON_AddArrayToObject(one, "by_resource");
		}
		slot = metric_slot(cJSON_GetObjectItemCaseSensitive(one, "by_resource"),
				   str(details(e), "resource"), str(conf(e), "unit"));
		cJSON_DeleteItemFromObjectCaseSensitive(slot, "value");
		cJSON_DeleteItemFromObjectCaseSensitive(slot, "timestamp");
		cJSON_AddNumberToObject(slot, "value", v->valuedouble);
		cJSON_AddStringToObject(slot, "timestamp",
					str(e, "timestamp") ? str(e, "timestamp") : "");
	}
	cJSON_ArrayForEach(one, out)
	{
		totals = cJSON_AddArrayToObject(one, "totals");
		cJSON_ArrayForEach(x, get(one, "by_resource"))
		{
			const cJSON *u = get(x, "unit");
			cJSON *t = NULL, *it;
			cJSON_ArrayForEach(it, totals)
			{
				const cJSON *tu = get(it, "unit");
				if (cJSON_IsString(u)
					    ? cJSON_IsString(tu) &&
						      !strcmp(tu->valuestring, u->valuestring)
					    : cJSON_IsNull(tu))
					t = it;
			}
			if (!t) {
				t = cJSON_CreateObject();
				cJSON_AddItemToObject(t, "unit", cJSON_Duplicate(u, 1));
				cJSON_AddNumberToObject(t, "value", 0);
				cJSON_AddNumberToObject(t, "resources", 0);
				cJSON_AddItemToArray(totals, t);
			}
			add_to(t, "value", get(x, "value")->valuedouble);
			add_to(t, "resources", 1);
		}
	}
	return out;
}

/* Deployments counted as failed changes (DORA): failed, or linked to an incident. */
static size_t failed_changes(const struct hive_facts *f)
{
	size_t i, n = 0;

	for (i = 0; i < f->ndeploys; i++)
		n += (size_t)f->deploys[i].failed_change;
	return n;
}

cJSON *hive_report_metrics(const struct hive_facts *f)
{
	cJSON *m = cJSON_CreateObject(), *ev, *by_type, *by_status, *by_platform, *res, *dep, *inc;
	cJSON *seen = cJSON_CreateObject(), *acts[3];
	static const char *const verbs[] = {"create", "update", "delete"};
	const cJSON *e;
	double failures = 0, ok = 0, bad = 0, linked = 0;
	size_t i, k;

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
	for (k = 0; k < 3; k++)
		acts[k] = cJSON_CreateObject();
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
		if (t && hive_event_type_is_change(t) && act && resource) {
			if (!get(seen, resource))
				cJSON_AddTrueToObject(seen, resource);
			for (k = 0; k < 3; k++)
				if (!strcmp(act, verbs[k]) && !get(acts[k], resource))
					cJSON_AddTrueToObject(acts[k], resource);
		}
	}
	cJSON_AddNumberToObject(ev, "failures", failures);
	/* resources, not events: a resource updated three times is one updated resource */
	res = cJSON_AddObjectToObject(m, "resources");
	cJSON_AddNumberToObject(res, "count", cJSON_GetArraySize(seen));
	cJSON_AddNumberToObject(res, "created", cJSON_GetArraySize(acts[0]));
	cJSON_AddNumberToObject(res, "updated", cJSON_GetArraySize(acts[1]));
	cJSON_AddNumberToObject(res, "deleted", cJSON_GetArraySize(acts[2]));
	cJSON_Delete(seen);
	for (k = 0; k < 3; k++)
		cJSON_Delete(acts[k]);
	for (i = 0; i < f->ndeploys; i++) {
		ok += f->deploys[i].success;
		bad += !f->deploys[i].success;
	}
	for (i = 0; i < f->nincidents; i++)
		linked += f->incidents[i].deploy >= 0;
	dep = cJSON_AddObjectToObject(m, "deployments");
	cJSON_AddNumberToObject(dep, "count", (double)f->ndeploys);
	cJSON_AddNumberToObject(dep, "success", ok);
	cJSON_AddNumberToObject(dep, "failure", bad);
	cJSON_AddNumberToObject(dep, "failed_changes", (double)failed_changes(f));
	add_num_or_null(dep, "change_failure_rate",
			f->ndeploys ? (double)failed_changes(f) / (double)f->ndeploys : NAN);
	inc = cJSON_AddObjectToObject(m, "incidents");
	cJSON_AddNumberToObject(inc, "count", (double)f->nincidents);
	cJSON_AddNumberToObject(inc, "linked_to_deployments", linked);
	add_num_or_null(inc, "mttr_s", mttr_s(f));
	add_num_or_null(m, "lead_time_s", last_lead_s(f));
	cJSON_AddItemToObject(m, "metrics", recorded_metrics(f));
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

static int any_in_progress(const struct hive_facts *f)
{
	const cJSON *x;

	cJSON_ArrayForEach(x, get(get(f->state, "deployment"), "environments"))
	{
		const char *st = str(x, "status");
		if (st && !strcmp(st, "in_progress"))
			return 1;
	}
	return 0;
}

/* Environments whose latest deployment is still in_progress (STATE.json), after the
 * summaries: started, not ended, so not a deployment of the reports yet. */
static void md_in_progress(const struct hive_facts *f, struct hive_buf *b)
{
	const cJSON *x, *envs = get(get(f->state, "deployment"), "environments");
	int any = 0;

	cJSON_ArrayForEach(x, envs)
	{
		const char *st = str(x, "status");
		if (!st || strcmp(st, "in_progress"))
			continue;
		if (!any)
			hive_buf_puts(b, "Started and not ended (not counted until an event with "
					 "success or failure ends it):\n\n");
		any = 1;
		hive_buf_puts(b, "- ");
		md(b, str(x, "resource") ? str(x, "resource") : NR);
		hive_buf_puts(b, " in ");
		md(b, x->string);
		hive_buf_puts(b, ", version ");
		md(b, str(x, "version") ? str(x, "version") : NR);
		hive_buf_printf(b, " (line %.15g, %s)\n",
				cJSON_IsNumber(get(x, "seq")) ? get(x, "seq")->valuedouble : 0,
				str(x, "timestamp") ? str(x, "timestamp") : NR);
	}
	if (any)
		hive_buf_puts(b, "\n");
}

static void md_deployment(const struct hive_facts *f, struct hive_buf *b)
{
	size_t i, k;

	if (!f->ndeploys) {
		hive_buf_puts(b, any_in_progress(f) ? "## DEPLOYMENT SUMMARY\n\nNo deployment has "
						      "ended yet.\n\n"
						    : "## DEPLOYMENT SUMMARY\n\nNo "
						      "deployment_configured event was "
						      "recorded.\n\n");
		md_in_progress(f, b);
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
		/* only what the deployment itself names: the session's other changes are not
		 * its changes (they may come after it, or belong to another deployment) */
		md_list(b, "  ", changes);
		hive_buf_puts(b, "- Testing:\n");
		md_field(b, "  ", "Unit", get(testing, "unit"));
		md_field(b, "  ", "Integration", get(testing, "integration"));
		md_field(b, "  ", "Security", get(testing, "security"));
		md_field(b, "", "Rollout Strategy", pick(c, "strategy", "rollout_strategy"));
		md_field(b, "", "Rollback Plan", pick(c, "rollback", "rollback_plan"));
		for (k = 0; k < f->nincidents; k++) {
			const struct incident *x = &f->incidents[k];
			const cJSON *sev = incident_value(x, "severity");
			if (x->deploy != (long)i)
				continue;
			hive_buf_printf(b, "- Linked incident: %s at %s (a failed change)\n",
					cJSON_IsString(sev) ? sev->valuestring : NR,
					x->detected && str(x->detected, "timestamp")
						? str(x->detected, "timestamp")
						: NR);
		}
		hive_buf_puts(b, "\n");
	}
	md_in_progress(f, b);
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

/* A duration: "42 s", or "2h 5m 0s (7500 s)" from a minute up; `not recorded` for NAN. */
static void md_seconds(struct hive_buf *b, double s)
{
	long long whole;

	if (isnan(s)) {
		hive_buf_puts(b, NR);
		return;
	}
	if (s < 60) {
		hive_buf_printf(b, "%.15g s", s);
		return;
	}
	whole = (long long)s;
	if (whole >= 3600)
		hive_buf_printf(b, "%lldh ", whole / 3600);
	hive_buf_printf(b, "%lldm %.15gs (%.15g s)", whole % 3600 / 60,
			(double)(whole % 60) + (s - (double)whole), s);
}

/* "412.5 USD" (the unit as recorded, if any). */
static void md_amount(struct hive_buf *b, double v, const char *unit)
{
	hive_buf_printf(b, "%.15g", v);
	if (unit) {
		hive_buf_puts(b, " ");
		md(b, unit);
	}
}

static const char *plural(double n, const char *one, const char *many)
{
	return n == 1 ? one : many;
}

/* v as a list of strings: an array's strings (others as JSON), a string as one; NULL when
 * v holds nothing. */
static cJSON *as_list(const cJSON *v)
{
	cJSON *out;
	const cJSON *it;
	char text[2048];

	if (cJSON_IsString(v) && *v->valuestring) {
		out = cJSON_CreateArray();
		cJSON_AddItemToArray(out, cJSON_CreateString(v->valuestring));
		return out;
	}
	if (!cJSON_IsArray(v) || !v->child)
		return NULL;
	out = cJSON_CreateArray();
	cJSON_ArrayForEach(it, v)
	{
		value_text(it, text, sizeof(text));
		cJSON_AddItemToArray(out, cJSON_CreateString(text));
	}
	return out;
}

static void add_list_or_null(cJSON *o, const char *k, cJSON *list)
{
	cJSON_AddItemToObject(o, k, list ? list : cJSON_CreateNull());
}

static int same_or_both_null(const char *a, const char *b)
{
	return a && b ? !strcmp(a, b) : a == b;
}

/* For each ended deployment, what to do if it has to be undone and how to tell that it
 * (or its rollback) works, from what the session recorded only: the deployment's
 * rollback (or rollback_plan) as steps, the version it replaced (the last successful
 * deployment of the same resource to the same environment before it), the deployment's
 * verify commands, and the resource's health_check, alerts and recorded metrics. A fact not
 * recorded is null. The Markdown and the JSON report both use this. */
static cJSON *procedures(const struct hive_facts *f)
{
	cJSON *out = cJSON_CreateArray(), *all = components(f), *p, *rb, *vf, *prev, *names;
	const cJSON *c, *merged, *m;
	size_t i, k;

	for (i = 0; i < f->ndeploys; i++) {
		const struct deploy *d = &f->deploys[i];
		const cJSON *dc = conf(d->ev);
		merged = NULL;
		cJSON_ArrayForEach(c, all) if (d->resource && !strcmp(str(c, "name"), d->resource))
			merged = get(c, "configuration");
		p = cJSON_CreateObject();
		cJSON_AddItemToObject(p, "resource",
				      d->resource ? cJSON_CreateString(d->resource)
						  : cJSON_CreateNull());
		cJSON_AddItemToObject(p, "environment",
				      d->environment ? cJSON_CreateString(d->environment)
						     : cJSON_CreateNull());
		cJSON_AddItemToObject(p, "version",
				      str(dc, "version") ? cJSON_CreateString(str(dc, "version"))
							 : cJSON_CreateNull());
		add_num_or_null(p, "seq", d->seq >= 0 ? (double)d->seq : NAN);
		cJSON_AddStringToObject(p, "status", d->success ? "success" : "failure");
		rb = cJSON_AddObjectToObject(p, "rollback");
		add_list_or_null(rb, "steps", as_list(pick(dc, "rollback", "rollback_plan")));
		prev = NULL;
		for (k = i; k-- > 0;) {
			const struct deploy *e = &f->deploys[k];
			if (!e->success || !same_or_both_null(e->resource, d->resource) ||
			    !same_or_both_null(e->environment, d->environment))
				continue;
			prev = cJSON_CreateObject();
			cJSON_AddItemToObject(
				prev, "version",
				str(conf(e->ev), "version")
					? cJSON_CreateString(str(conf(e->ev), "version"))
					: cJSON_CreateNull());
			add_num_or_null(prev, "seq", e->seq >= 0 ? (double)e->seq : NAN);
			break;
		}
		cJSON_AddItemToObject(rb, "previous", prev ? prev : cJSON_CreateNull());
		vf = cJSON_AddObjectToObject(p, "verify");
		add_list_or_null(vf, "commands", as_list(get(dc, "verify")));
		add_list_or_null(vf, "health_checks",
				 as_list(get(dc, "health_check") ? get(dc, "health_check")
								 : get(merged, "health_check")));
		{
			const cJSON *al = get(merged, "alerts");
			cJSON *list = NULL;
			if (cJSON_IsObject(al) && al->child) {
				list = cJSON_CreateArray();
				cJSON_ArrayForEach(m, al)
				{
					char text[2048], line[2300];
					value_text(m, text, sizeof(text));
					snprintf(line, sizeof(line), "%s %s", m->string, text);
					cJSON_AddItemToArray(list, cJSON_CreateString(line));
				}
			} else {
				list = as_list(al);
			}
			add_list_or_null(vf, "alerts", list);
		}
		names = NULL;
		cJSON_ArrayForEach(c, all) if (d->resource &&
					       !strcmp(str(c, "name"), d->resource) &&
					       cJSON_GetArraySize(get(c, "recorded_metrics")) > 0)
			names = cJSON_Duplicate(get(c, "recorded_metrics"), 1);
		add_list_or_null(vf, "metrics", names);
		cJSON_AddItemToArray(out, p);
	}
	cJSON_Delete(all);
	return out;
}

/* "  - Label:" and the list's items as sub-items (numbered when steps), or `not recorded`. */
static void md_items(struct hive_buf *b, const char *label, const cJSON *list, int numbered)
{
	const cJSON *it;
	int n = 0;

	if (!cJSON_IsArray(list) || !list->child) {
		hive_buf_printf(b, "  - %s: " NR "\n", label);
		return;
	}
	hive_buf_printf(b, "  - %s:\n", label);
	cJSON_ArrayForEach(it, list)
	{
		if (numbered)
			hive_buf_printf(b, "    %d. ", ++n);
		else
			hive_buf_puts(b, "    - ");
		md(b, it->valuestring);
		hive_buf_puts(b, "\n");
	}
}

static void md_procedure(const struct hive_facts *f, struct hive_buf *b)
{
	cJSON *all = procedures(f);
	const cJSON *p, *prev;

	if (!all->child)
		hive_buf_puts(b, "## PROCEDURE\n\nNo deployment was recorded: nothing to roll back "
				 "or verify.\n\n");
	cJSON_ArrayForEach(p, all)
	{
		hive_buf_puts(b, "## PROCEDURE: ");
		md(b, str(p, "resource") ? str(p, "resource") : NR);
		hive_buf_puts(b, " in ");
		md(b,
		   str(p, "environment") ? str(p, "environment") : "an environment not recorded");
		hive_buf_printf(b, " (line %.15g)\n\n- Deployed: version ",
				cJSON_IsNumber(get(p, "seq")) ? get(p, "seq")->valuedouble : 0);
		md(b, str(p, "version") ? str(p, "version") : NR);
		hive_buf_printf(b, " (%s)\n- Roll back:\n", str(p, "status"));
		md_items(b, "Steps", get(get(p, "rollback"), "steps"), 1);
		prev = get(get(p, "rollback"), "previous");
		hive_buf_puts(b, "  - Version before it: ");
		if (cJSON_IsObject(prev)) {
			md(b, str(prev, "version") ? str(prev, "version") : NR);
			hive_buf_printf(b, " (line %.15g)\n", get(prev, "seq")->valuedouble);
		} else {
			hive_buf_puts(b, NR "\n");
		}
		hive_buf_puts(b, "- Verify (after the deployment and after a rollback):\n");
		md_items(b, "Commands", get(get(p, "verify"), "commands"), 0);
		md_items(b, "Health checks", get(get(p, "verify"), "health_checks"), 0);
		md_items(b, "Alerts", get(get(p, "verify"), "alerts"), 0);
		md_items(b, "Key metrics", get(get(p, "verify"), "metrics"), 0);
		hive_buf_puts(b, "\n");
	}
	cJSON_Delete(all);
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
	{
		const cJSON *evs = get(m, "events"), *res = get(m, "resources");
		const cJSON *dep = get(m, "deployments"), *inc = get(m, "incidents");
		double n = get(evs, "total")->valuedouble;
		hive_buf_printf(b, "- Events: %.15g (%.15g failed)\n", n,
				get(evs, "failures")->valuedouble);
		n = get(res, "count")->valuedouble;
		hive_buf_printf(b,
				"- Resources: %.15g changed (%.15g created, %.15g updated, %.15g "
				"deleted; a resource counts once per action)\n",
				n, get(res, "created")->valuedouble,
				get(res, "updated")->valuedouble, get(res, "deleted")->valuedouble);
		n = get(dep, "count")->valuedouble;
		hive_buf_printf(b, "- Deployments: %.15g (%.15g succeeded, %.15g failed)", n,
				get(dep, "success")->valuedouble, get(dep, "failure")->valuedouble);
		if (cJSON_IsNumber(get(dep, "change_failure_rate")))
			hive_buf_printf(b,
					", change failure rate %.1f%% (%.15g of %.15g %s failed "
					"or linked to an incident)\n",
					100 * get(dep, "change_failure_rate")->valuedouble,
					get(dep, "failed_changes")->valuedouble, n,
					plural(n, "deployment", "deployments"));
		else
			hive_buf_puts(b, ", change failure rate " NR "\n");
		n = get(inc, "count")->valuedouble;
		hive_buf_printf(b,
				"- Incidents: %.15g (%.15g linked to a deployment), mean time "
				"to recovery ",
				n, get(inc, "linked_to_deployments")->valuedouble);
	}
	md_seconds(b, mttr_s(f));
	hive_buf_puts(b, "\n- Lead time for changes: ");
	md_seconds(b, last_lead_s(f));
	hive_buf_puts(b, "\n");
	/* one resource: its value; several: the total per unit, then each resource's value */
	cJSON_ArrayForEach(rec, get(m, "metrics"))
	{
		const cJSON *x, *list = get(rec, "by_resource");
		int lead = 1, several = cJSON_GetArraySize(list) > 1;
		hive_buf_puts(b, "- ");
		md(b, rec->string);
		hive_buf_puts(b, ": ");
		if (several) {
			cJSON_ArrayForEach(x, get(rec, "totals"))
			{
				hive_buf_puts(b, lead ? "" : ", ");
				md_amount(b, get(x, "value")->valuedouble, str(x, "unit"));
				hive_buf_printf(b, " in total over %.15g %s",
						get(x, "resources")->valuedouble,
						plural(get(x, "resources")->valuedouble, "resource",
						       "resources"));
				lead = 0;
			}
			hive_buf_puts(b, " (");
		}
		lead = 1;
		cJSON_ArrayForEach(x, list)
		{
			hive_buf_puts(b, lead ? "" : ", ");
			if (several) {
				md(b, str(x, "resource") ? str(x, "resource") : "no resource");
				hive_buf_puts(b, " ");
			}
			md_amount(b, get(x, "value")->valuedouble, str(x, "unit"));
			if (!several) {
				hive_buf_puts(b, " (");
				md(b, str(x, "resource") ? str(x, "resource") : "no resource");
				hive_buf_puts(b, ")");
			}
			lead = 0;
		}
		hive_buf_puts(b, several ? ")\n" : "\n");
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
	if (runbook)
		md_procedure(f, out);
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
		add_num_or_null(d, "seq", f->deploys[i].seq >= 0 ? (double)f->deploys[i].seq : NAN);
		cJSON_AddBoolToObject(d, "failed_change", f->deploys[i].failed_change);
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
		add_num_or_null(d, "deployment_seq",
				x->deploy >= 0 && f->deploys[x->deploy].seq >= 0
					? (double)f->deploys[x->deploy].seq
					: NAN);
		cJSON_AddItemToObject(d, "resolved",
				      x->resolved
					      ? cJSON_Duplicate(get(x->resolved, "timestamp"), 1)
					      : cJSON_CreateNull());
		cJSON_AddItemToArray(incs, d);
	}
	cJSON_AddItemToObject(o, "infrastructure", components(f));
	cJSON_AddItemToObject(o, "procedures", procedures(f));
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

static void prom_head(struct hive_buf *b, const char *name, const char *type, const char *help)
{
	hive_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* name{worker="…"[,k="v"]…} value: labels in pairs, a pair whose value is NULL left out (an
 * empty label is no label to Prometheus). Every label is bounded: never the session. */
static void prom_sample(struct hive_buf *b, const char *name, const struct hive_facts *f,
			const char *const *labels, size_t nlabels, double value)
{
	size_t i;

	hive_buf_printf(b, "%s{worker=\"", name);
	prom_label(b, f->worker ? f->worker : "");
	hive_buf_puts(b, "\"");
	for (i = 0; i + 1 < nlabels; i += 2) {
		if (!labels[i + 1] || !*labels[i + 1])
			continue;
		hive_buf_printf(b, ",%s=\"", labels[i]);
		prom_label(b, labels[i + 1]);
		hive_buf_puts(b, "\"");
	}
	hive_buf_printf(b, "} %.15g\n", value);
}

#define L(...)                                                                                     \
	((const char *const[]){__VA_ARGS__}),                                                      \
		sizeof((const char *const[]){__VA_ARGS__}) / sizeof(const char *)

/* Count of the session's events by (type, status). */
static void prom_events(const struct hive_facts *f, struct hive_buf *out)
{
	cJSON *seen = cJSON_CreateObject(), *x, *y; /* type -> status ("" for none) -> count */
	const cJSON *e;

	cJSON_ArrayForEach(e, f->events)
	{
		const char *t = type_of(e), *st = str(details(e), "status");
		cJSON *one;
		if (!t)
			continue;
		if (!(one = cJSON_GetObjectItemCaseSensitive(seen, t)))
			one = cJSON_AddObjectToObject(seen, t);
		add_to(one, st && !is(e, "session_completed") ? st : "", 1);
	}
	prom_head(out, "hive_events_total", "counter",
		  "Events in the session's log, by event_type and details.status.");
	cJSON_ArrayForEach(x, seen)
	{
		cJSON_ArrayForEach(y, x)
			prom_sample(out, "hive_events_total", f,
				    L("type", x->string, "status", y->string), y->valuedouble);
	}
	cJSON_Delete(seen);
}

/* Deployment counts by (environment, status), DORA failed changes by environment, and the
 * lead time summary by environment. */
static void prom_deployments(const struct hive_facts *f, struct hive_buf *out)
{
	cJSON *by = cJSON_CreateObject(), *fails = cJSON_CreateObject(),
	      *lsum = cJSON_CreateObject(), *lcount = cJSON_CreateObject(), *x;
	const cJSON *envs = get(get(f->state, "deployment"), "environments"), *y;
	size_t i;

	/* by: environment -> status -> count (keys are any string an event may hold) */
	for (i = 0; i < f->ndeploys; i++) {
		const struct deploy *d = &f->deploys[i];
		const char *env = d->environment ? d->environment : "";
		cJSON *one = cJSON_GetObjectItemCaseSensitive(by, env);
		if (!one)
			one = cJSON_AddObjectToObject(by, env);
		add_to(one, d->success ? "success" : "failure", 1);
		add_to(fails, env, d->failed_change);
		if (d->success && !isnan(d->lead_s)) {
			add_to(lsum, env, d->lead_s);
			add_to(lcount, env, 1);
		}
	}
	/* a family without samples is left out, as every unknown is */
	if (by->child)
		prom_head(out, "hive_deployments_total", "counter",
			  "Ended deployment_configured events, by environment and status.");
	cJSON_ArrayForEach(x, by)
	{
		cJSON_ArrayForEach(y, x) prom_sample(
			out, "hive_deployments_total", f,
			L("environment", x->string, "status", y->string), y->valuedouble);
	}
	if (fails->child)
		prom_head(out, "hive_deployment_failed_changes_total", "counter",
			  "Deployments that failed or that an incident is linked to (DORA).");
	cJSON_ArrayForEach(x, fails) prom_sample(out, "hive_deployment_failed_changes_total", f,
						 L("environment", x->string), x->valuedouble);
	if (cJSON_IsObject(envs) && envs->child) {
		prom_head(out, "hive_deployment_status", "gauge",
			  "1 for each environment's latest deployment status (STATE.json).");
		cJSON_ArrayForEach(x, envs) prom_sample(
			out, "hive_deployment_status", f,
			L("environment", strcmp(x->string, "unspecified") ? x->string : "",
			  "status", str(x, "status") ? str(x, "status") : "pending"),
			1);
	}
	if (lcount->child) {
		prom_head(out, "hive_deployment_lead_time_seconds", "summary",
			  "From the deployed commit's commit time to its successful deployment.");
		cJSON_ArrayForEach(x, lsum)
			prom_sample(out, "hive_deployment_lead_time_seconds_sum", f,
				    L("environment", x->string), x->valuedouble);
		cJSON_ArrayForEach(x, lcount)
			prom_sample(out, "hive_deployment_lead_time_seconds_count", f,
				    L("environment", x->string), x->valuedouble);
	}
	cJSON_Delete(by);
	cJSON_Delete(fails);
	cJSON_Delete(lsum);
	cJSON_Delete(lcount);
}

/* Incidents by severity and the recovery time summary. */
static void prom_incidents(const struct hive_facts *f, struct hive_buf *out)
{
	cJSON *by = cJSON_CreateObject(), *x;
	double sum = 0, n = 0;
	size_t i;

	for (i = 0; i < f->nincidents; i++) {
		const struct incident *inc = &f->incidents[i];
		const cJSON *sev = incident_value(inc, "severity");
		int64_t a = inc->detected ? ms_of(inc->detected) : -1;
		int64_t b = inc->resolved ? ms_of(inc->resolved) : -1;
		add_to(by, cJSON_IsString(sev) ? sev->valuestring : "", 1);
		if (a >= 0 && b >= a) {
			sum += (double)(b - a) / 1000.0;
			n++;
		}
	}
	if (by->child)
		prom_head(out, "hive_incidents_total", "counter",
			  "Incidents detected, by severity.");
	cJSON_ArrayForEach(x, by) prom_sample(out, "hive_incidents_total", f,
					      L("severity", x->string), x->valuedouble);
	if (n > 0) {
		prom_head(out, "hive_incident_recovery_seconds", "summary",
			  "From incident_detected to incident_resolved.");
		prom_sample(out, "hive_incident_recovery_seconds_sum", f, L(NULL, NULL), sum);
		prom_sample(out, "hive_incident_recovery_seconds_count", f, L(NULL, NULL), n);
	}
	cJSON_Delete(by);
}

void hive_report_prometheus(const struct hive_facts *f, struct hive_buf *out)
{
	cJSON *m = hive_report_metrics(f);
	const cJSON *x, *r, *res = get(m, "resources");
	static const char *const actions[] = {"create",	 "created", "update",
					      "updated", "delete",  "deleted"};
	const char *sid = f->session_id ? f->session_id : "";
	size_t i;

	/* the session's identity is on this one series only (a label on every series would
	 * make a new series per session, forever) */
	prom_head(out, "hive_session_info", "gauge",
		  "A hive session: its id, worker and status; always 1.");
	hive_buf_puts(out, "hive_session_info{session=\"");
	prom_label(out, sid);
	hive_buf_puts(out, "\",worker=\"");
	prom_label(out, f->worker ? f->worker : "");
	hive_buf_printf(out, "\",status=\"%s\"} 1\n", f->status);
	if (f->started_ms >= 0) {
		prom_head(out, "hive_session_start_time_seconds", "gauge",
			  "When the session started (Unix time).");
		prom_sample(out, "hive_session_start_time_seconds", f, L(NULL, NULL),
			    (double)f->started_ms / 1000.0);
	}
	if (!isnan(duration_s(f))) {
		prom_head(out, "hive_session_duration_seconds", "gauge",
			  "From session_started to session_completed (or the last event).");
		prom_sample(out, "hive_session_duration_seconds", f, L(NULL, NULL), duration_s(f));
	}
	prom_events(f, out);
	prom_head(out, "hive_resources", "gauge",
		  "Resources the session changed, by action (a resource counts once per action).");
	for (i = 0; i < 6; i += 2)
		prom_sample(out, "hive_resources", f, L("action", actions[i]),
			    get(res, actions[i + 1])->valuedouble);
	prom_deployments(f, out);
	if (cJSON_IsNumber(get(get(m, "deployments"), "change_failure_rate"))) {
		prom_head(out, "hive_change_failure_ratio", "gauge",
			  "Failed changes over deployments (DORA).");
		prom_sample(out, "hive_change_failure_ratio", f, L(NULL, NULL),
			    get(get(m, "deployments"), "change_failure_rate")->valuedouble);
	}
	prom_incidents(f, out);
	if (get(m, "metrics")->child) {
		prom_head(out, "hive_recorded_value", "gauge",
			  "metric_recorded: each resource's latest value of each name and unit.");
		cJSON_ArrayForEach(x, get(m, "metrics"))
		{
			cJSON_ArrayForEach(r, get(x, "by_resource"))
				prom_sample(out, "hive_recorded_value", f,
					    L("name", x->string, "unit", str(r, "unit"), "resource",
					      str(r, "resource")),
					    get(r, "value")->valuedouble);
		}
	}
	cJSON_Delete(m);
}

#undef L

/* --- Grafana dashboard ------------------------------------------------------------ */

/* The dashboard's panels: what each shows, as PromQL over hive_report_prometheus's series.
 * $worker and $environment are the dashboard's variables ("All" is the regex .*). */
static const struct panel {
	const char *type, *title, *unit, *expr, *legend, *description;
} panels[] = {
	{"stat", "Change failure rate", "percentunit",
	 "sum(hive_deployment_failed_changes_total{worker=~\"$worker\",environment=~\"$"
	 "environment\"}) / "
	 "sum(hive_deployments_total{worker=~\"$worker\",environment=~\"$environment\"})",
	 "change failure rate",
	 "Deployments that failed or that an incident names (hive(7)) over all ended deployments."},
	{"stat", "Lead time for changes", "s",
	 "sum(hive_deployment_lead_time_seconds_sum{worker=~\"$worker\",environment=~\"$"
	 "environment\"}) / "
	 "sum(hive_deployment_lead_time_seconds_count{worker=~\"$worker\",environment=~\"$"
	 "environment\"})",
	 "mean lead time", "Mean time from the deployed commit's commit time to its deployment."},
	{"stat", "Failed deployment recovery time", "s",
	 "sum(hive_incident_recovery_seconds_sum{worker=~\"$worker\"}) / "
	 "sum(hive_incident_recovery_seconds_count{worker=~\"$worker\"})",
	 "mean recovery time", "Mean time from incident_detected to incident_resolved."},
	{"stat", "Sessions by status", "short",
	 "count by (status) (hive_session_info{worker=~\"$worker\"})", "{{status}}",
	 "hive sessions: active, completed or failed."},
	{"table", "Latest deployment per environment", "none",
	 "hive_deployment_status{worker=~\"$worker\",environment=~\"$environment\"} == 1",
	 "{{environment}} {{status}}",
	 "Each environment's latest deployment_configured status (STATE.json deployment): success, "
	 "failure or in_progress."},
	{"timeseries", "Deployments by environment and status", "short",
	 "sum by (environment, status) "
	 "(hive_deployments_total{worker=~\"$worker\",environment=~\"$environment\"})",
	 "{{environment}} {{status}}", "Ended deployments (success or failure)."},
	{"timeseries", "Incidents by severity", "short",
	 "sum by (severity) (hive_incidents_total{worker=~\"$worker\"})", "{{severity}}",
	 "incident_detected events."},
	{"timeseries", "Events by type", "short",
	 "sum by (type) (hive_events_total{worker=~\"$worker\"})", "{{type}}",
	 "Every event of the sessions' logs."},
	{"timeseries", "Failed events by type", "short",
	 "sum by (type) (hive_events_total{worker=~\"$worker\",status=\"failure\"})", "{{type}}",
	 "Events whose details.status is failure."},
	{"bargauge", "Resources changed by action", "short",
	 "sum by (action) (hive_resources{worker=~\"$worker\"})", "{{action}}",
	 "Resources the sessions created, updated or deleted (a resource counts once per action)."},
	{"table", "Recorded metrics per resource", "none",
	 "sum by (name, unit, resource) (hive_recorded_value{worker=~\"$worker\"})",
	 "{{name}} {{resource}} ({{unit}})", "metric_recorded: each resource's latest value."},
	{"bargauge", "Recorded metric totals per name and unit", "none",
	 "sum by (name, unit) (hive_recorded_value{worker=~\"$worker\"})", "{{name}} ({{unit}})",
	 "The sum over resources of each name, per unit (costs: the total cost)."},
};

static cJSON *datasource_ref(void)
{
	cJSON *d = cJSON_CreateObject();

	cJSON_AddStringToObject(d, "type", "prometheus");
	cJSON_AddStringToObject(d, "uid", "${datasource}");
	return d;
}

/* A query variable over a label of a hive series, "All" matching every value. */
static cJSON *label_variable(const char *name, const char *label, const char *query)
{
	cJSON *v = cJSON_CreateObject(), *q;

	cJSON_AddStringToObject(v, "type", "query");
	cJSON_AddStringToObject(v, "name", name);
	cJSON_AddStringToObject(v, "label", label);
	cJSON_AddItemToObject(v, "datasource", datasource_ref());
	q = cJSON_AddObjectToObject(v, "query");
	cJSON_AddStringToObject(q, "query", query);
	cJSON_AddStringToObject(q, "refId", "PrometheusVariableQueryEditor-VariableQuery");
	cJSON_AddNumberToObject(v, "refresh", 2);
	cJSON_AddBoolToObject(v, "includeAll", 1);
	cJSON_AddBoolToObject(v, "multi", 1);
	cJSON_AddStringToObject(v, "allValue", ".*");
	cJSON_AddNumberToObject(v, "sort", 1);
	return v;
}

cJSON *hive_report_dashboard(void)
{
	cJSON *d = cJSON_CreateObject(), *x, *list, *v, *ps, *p, *t, *g;
	int gx = 0, gy = 0, row_h = 0;
	size_t i;

	cJSON_AddStringToObject(d, "uid", "hive-devops");
	cJSON_AddStringToObject(d, "title", "hive: deployments, incidents, costs");
	cJSON_AddStringToObject(d, "description",
				"hive's Prometheus series (hive-runbook --format prometheus): DORA "
				"keys, deployments per environment, incidents, events, recorded "
				"metrics per resource.");
	x = cJSON_AddArrayToObject(d, "tags");
	cJSON_AddItemToArray(x, cJSON_CreateString("hive"));
	cJSON_AddItemToArray(x, cJSON_CreateString("devops"));
	cJSON_AddStringToObject(d, "timezone", "utc");
	cJSON_AddBoolToObject(d, "editable", 1);
	cJSON_AddNumberToObject(d, "graphTooltip", 1);
	cJSON_AddNumberToObject(d, "schemaVersion", 39);
	cJSON_AddNumberToObject(d, "version", 1);
	cJSON_AddStringToObject(d, "refresh", "1m");
	x = cJSON_AddObjectToObject(d, "time");
	cJSON_AddStringToObject(x, "from", "now-7d");
	cJSON_AddStringToObject(x, "to", "now");
	x = cJSON_AddObjectToObject(d, "annotations");
	cJSON_AddArrayToObject(x, "list");
	cJSON_AddArrayToObject(d, "links");
	list = cJSON_AddArrayToObject(cJSON_AddObjectToObject(d, "templating"), "list");
	v = cJSON_CreateObject();
	cJSON_AddStringToObject(v, "type", "datasource");
	cJSON_AddStringToObject(v, "name", "datasource");
	cJSON_AddStringToObject(v, "label", "Prometheus");
	cJSON_AddStringToObject(v, "query", "prometheus");
	cJSON_AddItemToArray(list, v);
	cJSON_AddItemToArray(list, label_variable("worker", "Worker",
						  "label_values(hive_session_info, worker)"));
	cJSON_AddItemToArray(list,
			     label_variable("environment", "Environment",
					    "label_values(hive_deployments_total, environment)"));
	ps = cJSON_AddArrayToObject(d, "panels");
	for (i = 0; i < sizeof(panels) / sizeof(panels[0]); i++) {
		const struct panel *q = &panels[i];
		int wide = strcmp(q->type, "stat") != 0;
		p = cJSON_CreateObject();
		cJSON_AddNumberToObject(p, "id", (double)(i + 1));
		cJSON_AddStringToObject(p, "type", q->type);
		cJSON_AddStringToObject(p, "title", q->title);
		cJSON_AddStringToObject(p, "description", q->description);
		cJSON_AddItemToObject(p, "datasource", datasource_ref());
		/* left to right, a new row when the next would not fit in Grafana's 24 columns:
		 * the four stats across the top, the rest two across */
		if (gx + (wide ? 12 : 6) > 24) {
			gx = 0;
			gy += row_h;
		}
		row_h = wide ? 8 : 4;
		g = cJSON_AddObjectToObject(p, "gridPos");
		cJSON_AddNumberToObject(g, "h", row_h);
		cJSON_AddNumberToObject(g, "w", wide ? 12 : 6);
		cJSON_AddNumberToObject(g, "x", gx);
		cJSON_AddNumberToObject(g, "y", gy);
		gx += wide ? 12 : 6;
		x = cJSON_AddObjectToObject(p, "fieldConfig");
		cJSON_AddStringToObject(cJSON_AddObjectToObject(x, "defaults"), "unit", q->unit);
		cJSON_AddArrayToObject(x, "overrides");
		cJSON_AddObjectToObject(p, "options");
		t = cJSON_CreateObject();
		cJSON_AddStringToObject(t, "refId", "A");
		cJSON_AddItemToObject(t, "datasource", datasource_ref());
		cJSON_AddStringToObject(t, "expr", q->expr);
		cJSON_AddStringToObject(t, "legendFormat", q->legend);
		cJSON_AddBoolToObject(t, "instant", strcmp(q->type, "timeseries") != 0);
		cJSON_AddItemToArray(cJSON_AddArrayToObject(p, "targets"), t);
		cJSON_AddItemToArray(ps, p);
	}
	return d;
}

/* --- DORA -------------------------------------------------------------------------- */

struct hive_dora {
	double *lead, *recovery;
	size_t nlead, nrecovery, cap_lead, cap_recovery;
	size_t deploys, succeeded, failed, sessions; /* failed: failed changes (DORA) */
	int64_t first_ms, last_ms;
	int64_t since_ms, until_ms; /* the window [since, until), -1 for open */
};

void hive_dora_window(struct hive_dora *d, int64_t since_ms, int64_t until_ms)
{
	d->since_ms = since_ms;
	d->until_ms = until_ms;
}

/* Is ms inside the window? An unknown time is inside only an open window. */
static int in_window(const struct hive_dora *d, int64_t ms)
{
	if (ms < 0)
		return d->since_ms < 0 && d->until_ms < 0;
	return (d->since_ms < 0 || ms >= d->since_ms) && (d->until_ms < 0 || ms < d->until_ms);
}

int hive_dora_new(struct hive_dora **out, struct hive_err *err)
{
	if (!(*out = calloc(1, sizeof(**out))))
		return hive_err_set(err, HIVE_EENV, "out of memory");
	(*out)->first_ms = (*out)->last_ms = -1;
	(*out)->since_ms = (*out)->until_ms = -1;
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

	/* a session counts when any of it falls in the window */
	if ((d->since_ms < 0 || f->last_ms < 0 || f->last_ms >= d->since_ms) &&
	    (d->until_ms < 0 || f->started_ms < 0 || f->started_ms < d->until_ms))
		d->sessions++;
	for (i = 0; i < f->ndeploys; i++) {
		const struct deploy *x = &f->deploys[i];
		if (!in_window(d, x->ms))
			continue;
		d->deploys++;
		d->succeeded += (size_t)x->success;
		d->failed += (size_t)x->failed_change;
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
		if (a >= 0 && b >= a && in_window(d, a))
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

/* Days covered: from --since (else the first deployment) to --until (else the last
 * deployment), at least one. */
static double dora_days(const struct hive_dora *d)
{
	int64_t from = d->since_ms >= 0 ? d->since_ms : d->first_ms;
	int64_t to = d->until_ms >= 0 ? d->until_ms : d->last_ms;
	double days = from >= 0 && to >= from ? (double)(to - from) / 86400000.0 : 0;

	return days < 1 ? 1 : days;
}

cJSON *hive_dora_json(const struct hive_dora *d)
{
	cJSON *o = cJSON_CreateObject(), *x;
	char t[32];

	cJSON_AddNumberToObject(o, "sessions", (double)d->sessions);
	if (d->since_ms >= 0 || d->until_ms >= 0) {
		x = cJSON_AddObjectToObject(o, "window");
		if (d->since_ms >= 0) {
			hive_time_format(d->since_ms, t);
			cJSON_AddStringToObject(x, "since", t);
		} else {
			cJSON_AddNullToObject(x, "since");
		}
		if (d->until_ms >= 0) {
			hive_time_format(d->until_ms, t);
			cJSON_AddStringToObject(x, "until", t);
		} else {
			cJSON_AddNullToObject(x, "until");
		}
	}
	x = cJSON_AddObjectToObject(o, "deployment_frequency");
	cJSON_AddNumberToObject(x, "deployments", (double)d->succeeded);
	cJSON_AddNumberToObject(x, "days", dora_days(d));
	cJSON_AddNumberToObject(x, "per_day", (double)d->succeeded / dora_days(d));
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

	double n;

	hive_buf_printf(out, "# DORA METRICS\n\nAcross %zu %s", d->sessions,
			plural((double)d->sessions, "session", "sessions"));
	if (get(j, "window")) {
		const char *since = str(get(j, "window"), "since"),
			   *until = str(get(j, "window"), "until");
		hive_buf_printf(out, ", from %s to %s", since ? since : "the first deployment",
				until ? until : "the last deployment");
	}
	hive_buf_puts(out, ".\n\n| key | value | from |\n|---|---|---|\n");
	n = get(df, "deployments")->valuedouble;
	hive_buf_printf(
		out, "| Deployment frequency | %.3g per day | %.15g successful %s over %.3g %s |\n",
		get(df, "per_day")->valuedouble, n, plural(n, "deployment", "deployments"),
		get(df, "days")->valuedouble, plural(get(df, "days")->valuedouble, "day", "days"));
	hive_buf_puts(out, "| Lead time for changes (median) | ");
	md_seconds(out,
		   cJSON_IsNumber(get(lt, "median_s")) ? get(lt, "median_s")->valuedouble : NAN);
	n = get(lt, "deployments")->valuedouble;
	hive_buf_printf(out, " | %.15g %s with a known commit time |\n", n,
			plural(n, "deployment", "deployments"));
	hive_buf_puts(out, "| Change failure rate | ");
	if (cJSON_IsNumber(get(cfr, "rate")))
		hive_buf_printf(out, "%.1f%%", 100 * get(cfr, "rate")->valuedouble);
	else
		hive_buf_puts(out, NR);
	n = get(cfr, "deployments")->valuedouble;
	hive_buf_printf(out, " | %.15g of %.15g %s failed or had an incident linked |\n",
			get(cfr, "failed")->valuedouble, n, plural(n, "deployment", "deployments"));
	hive_buf_puts(out, "| Failed deployment recovery time (median) | ");
	md_seconds(out,
		   cJSON_IsNumber(get(rt, "median_s")) ? get(rt, "median_s")->valuedouble : NAN);
	n = get(rt, "incidents")->valuedouble;
	hive_buf_printf(out, " | %.15g resolved %s |\n\n", n, plural(n, "incident", "incidents"));
	cJSON_Delete(j);
}

void hive_dora_prometheus(const struct hive_dora *d, struct hive_buf *out)
{
	cJSON *j = hive_dora_json(d);
	const cJSON *v;

	prom_head(out, "hive_dora_deployments_per_day", "gauge",
		  "Successful deployments per day across sessions.");
	hive_buf_printf(out, "hive_dora_deployments_per_day %.15g\n",
			get(get(j, "deployment_frequency"), "per_day")->valuedouble);
	if (cJSON_IsNumber(v = get(get(j, "lead_time_for_changes"), "median_s"))) {
		prom_head(out, "hive_dora_lead_time_seconds", "gauge",
			  "Median lead time for changes.");
		hive_buf_printf(out, "hive_dora_lead_time_seconds %.15g\n", v->valuedouble);
	}
	if (cJSON_IsNumber(v = get(get(j, "change_failure_rate"), "rate"))) {
		prom_head(out, "hive_dora_change_failure_ratio", "gauge",
			  "Failed deployments over all deployments.");
		hive_buf_printf(out, "hive_dora_change_failure_ratio %.15g\n", v->valuedouble);
	}
	if (cJSON_IsNumber(v = get(get(j, "failed_deployment_recovery_time"), "median_s"))) {
		prom_head(out, "hive_dora_recovery_seconds", "gauge",
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
	struct hive_strv *taken; /* sessions counted from the sessions ref, or NULL */
};

/* One session's facts into the DORA figures, read under its shared lock. */
static int dora_one(const char *id, void *arg)
{
	struct dora_walk *w = arg;
	struct hive_session *s = NULL;
	struct hive_facts *f = NULL;
	int rc;

	if (w->taken && hive_strv_has(w->taken, id))
		return HIVE_OK; /* its longer version, on the sessions ref, is counted */
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
	struct dora_walk w = {root, repo, d, err, NULL};

	return hive_session_foreach(root, dora_one, &w, err);
}

/* One session on the sessions ref: counted from the ref unless the work tree's log is at least
 * as long (then the folder on disk is, by dora_one). */
static int dora_ref_one(void *arg, const struct hive_pushed *p)
{
	struct dora_walk *w = arg;
	struct hive_facts *f = NULL;
	struct stat st;
	char path[4400], name[32];
	size_t i, ref_len = 0, disk_len = 0;
	int rc;

	if (!p->in || !p->in->nsegs)
		return HIVE_OK;
	for (i = 0; i < p->in->nsegs; i++)
		ref_len += p->in->seg_lens[i];
	for (i = 0; i < HIVE_SEGMENTS_MAX; i++) {
		snprintf(path, sizeof(path), "%.4000s/sessions/%.150s/%s", w->root, p->id,
			 hive_log_segment_name(i, name));
		if (lstat(path, &st) < 0 || !S_ISREG(st.st_mode))
			break;
		disk_len += (size_t)st.st_size;
	}
	if (i > 0 && disk_len >= ref_len)
		return HIVE_OK;
	if ((rc = hive_facts_load_log(p->in->seg_bufs, p->in->seg_lens, p->in->nsegs, p->dir_shown,
				      w->repo, &f, w->err)))
		return rc;
	hive_dora_add(w->d, f);
	hive_facts_free(f);
	return hive_strv_push(w->taken, p->id) < 0
		       ? hive_err_set(w->err, HIVE_EENV, "out of memory")
		       : HIVE_OK;
}

int hive_dora_collect_ref(struct hive_dora *d, const char *root, const char *top,
			  git_repository *repo, const char *ref, struct hive_err *err)
{
	struct hive_strv taken = {0};
	struct dora_walk w = {root, repo, d, err, &taken};
	int rc;

	rc = hive_ref_sessions(repo, top, root, ref, dora_ref_one, &w, err);
	if (!rc)
		rc = hive_session_foreach(root, dora_one, &w, err);
	hive_strv_clear(&taken);
	return rc;
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
