/* state.c - STATE.json, the view folded from EVENTS.jsonl: the fold, its check against the log, its
 * read/write */
#include "state.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

static cJSON *dup_or_null(const cJSON *v)
{
	return v ? cJSON_Duplicate(v, 1) : cJSON_CreateNull();
}

static void set(cJSON *obj, const char *key, cJSON *value)
{
	if (cJSON_GetObjectItemCaseSensitive(obj, key))
		cJSON_ReplaceItemInObjectCaseSensitive(obj, key, value);
	else
		cJSON_AddItemToObject(obj, key, value);
}

static cJSON *new_state(const cJSON *event)
{
	const cJSON *details = cJSON_GetObjectItemCaseSensitive(event, "details");
	cJSON *st = cJSON_CreateObject(), *ev, *dep;

	cJSON_AddItemToObject(st, "session_id",
			      dup_or_null(cJSON_GetObjectItemCaseSensitive(event, "session_id")));
	cJSON_AddItemToObject(st, "worker",
			      dup_or_null(cJSON_GetObjectItemCaseSensitive(event, "worker")));
	cJSON_AddStringToObject(st, "status", "active");
	cJSON_AddItemToObject(st, "started_at",
			      dup_or_null(cJSON_GetObjectItemCaseSensitive(event, "timestamp")));
	cJSON_AddNullToObject(st, "updated_at");
	cJSON_AddNullToObject(st, "completed_at");
	cJSON_AddItemToObject(st, "git",
			      dup_or_null(cJSON_GetObjectItemCaseSensitive(event, "git")));
	cJSON_AddItemToObject(st, "ci", dup_or_null(cJSON_GetObjectItemCaseSensitive(event, "ci")));
	cJSON_AddItemToObject(
		st, "worker_profile",
		dup_or_null(cJSON_GetObjectItemCaseSensitive(details, "worker_profile")));
	cJSON_AddItemToObject(
		st, "requirements",
		dup_or_null(cJSON_GetObjectItemCaseSensitive(details, "requirements")));
	ev = cJSON_AddObjectToObject(st, "events");
	cJSON_AddNumberToObject(ev, "count", 0);
	cJSON_AddNumberToObject(ev, "last_seq", 0);
	cJSON_AddNullToObject(ev, "last_hash");
	cJSON_AddObjectToObject(ev, "by_type");
	cJSON_AddNumberToObject(ev, "failures", 0);
	dep = cJSON_AddObjectToObject(st, "deployment");
	cJSON_AddStringToObject(dep, "status", "pending");
	cJSON_AddNullToObject(dep, "environment");
	cJSON_AddNullToObject(dep, "version");
	cJSON_AddObjectToObject(dep, "environments");
	return st;
}

static void bump(cJSON *obj, const char *key, double by)
{
	cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	if (cJSON_IsNumber(v))
		cJSON_SetNumberValue(v, v->valuedouble + by);
	else
		set(obj, key, cJSON_CreateNumber(by));
}

/* deployment.environments[ENV] = this deployment_configured's status, version, resource, seq and
 * timestamp: each environment keeps its own latest deployment (one without
 * configuration.environment is under "unspecified"). */
static void set_environment(cJSON *dep, const cJSON *event, const char *status)
{
	const cJSON *details = cJSON_GetObjectItemCaseSensitive(event, "details");
	const cJSON *conf = cJSON_GetObjectItemCaseSensitive(details, "configuration");
	const char *env = hive_json_str(conf, "environment"), *v;
	cJSON *envs = cJSON_GetObjectItemCaseSensitive(dep, "environments"), *one;

	if (!cJSON_IsObject(envs)) {
		set(dep, "environments", cJSON_CreateObject());
		envs = cJSON_GetObjectItemCaseSensitive(dep, "environments");
	}
	one = cJSON_CreateObject();
	cJSON_AddStringToObject(one, "status", status ? status : "pending");
	v = hive_json_str(conf, "version");
	cJSON_AddItemToObject(one, "version", v ? cJSON_CreateString(v) : cJSON_CreateNull());
	v = hive_json_str(details, "resource");
	cJSON_AddItemToObject(one, "resource", v ? cJSON_CreateString(v) : cJSON_CreateNull());
	cJSON_AddItemToObject(one, "seq",
			      dup_or_null(cJSON_GetObjectItemCaseSensitive(event, "seq")));
	cJSON_AddItemToObject(one, "timestamp",
			      dup_or_null(cJSON_GetObjectItemCaseSensitive(event, "timestamp")));
	set(envs, env && *env ? env : "unspecified", one);
}

int hive_state_apply(cJSON **state, const cJSON *event, const char *line_hash, struct hive_err *err)
{
	const cJSON *details = cJSON_GetObjectItemCaseSensitive(event, "details");
	const cJSON *conf = cJSON_GetObjectItemCaseSensitive(details, "configuration");
	const cJSON *seq = cJSON_GetObjectItemCaseSensitive(event, "seq");
	const char *type = hive_json_str(event, "event_type"),
		   *ts = hive_json_str(event, "timestamp"), *status, *v;
	cJSON *st = *state, *ev, *dep;

	if (!st) {
		if (!(st = *state = new_state(event)))
			return hive_err_set(err, HIVE_EENV, "out of memory");
	}
	if (!(ev = cJSON_GetObjectItemCaseSensitive(st, "events")) || !cJSON_IsObject(ev))
		return hive_err_set(err, HIVE_EENV, "STATE.json: no events object");
	set(st, "updated_at", ts ? cJSON_CreateString(ts) : cJSON_CreateNull());
	bump(ev, "count", 1);
	set(ev, "last_seq", cJSON_CreateNumber(cJSON_IsNumber(seq) ? seq->valuedouble : 0));
	set(ev, "last_hash", cJSON_CreateString(line_hash));
	if (type) {
		cJSON *by = cJSON_GetObjectItemCaseSensitive(ev, "by_type");
		if (!cJSON_IsObject(by)) {
			set(ev, "by_type", cJSON_CreateObject());
			by = cJSON_GetObjectItemCaseSensitive(ev, "by_type");
		}
		bump(by, type, 1);
	}
	status = hive_json_str(details, "status");
	if (status && !strcmp(status, "failure") && type && strcmp(type, "session_completed"))
		bump(ev, "failures", 1);
	if (type && !strcmp(type, "deployment_configured")) {
		if (!(dep = cJSON_GetObjectItemCaseSensitive(st, "deployment")) ||
		    !cJSON_IsObject(dep)) {
			set(st, "deployment", cJSON_CreateObject());
			dep = cJSON_GetObjectItemCaseSensitive(st, "deployment");
		}
		set(dep, "status", cJSON_CreateString(status ? status : "pending"));
		if ((v = hive_json_str(conf, "environment")))
			set(dep, "environment", cJSON_CreateString(v));
		else if (!cJSON_GetObjectItemCaseSensitive(dep, "environment"))
			set(dep, "environment", cJSON_CreateNull());
		if ((v = hive_json_str(conf, "version")))
			set(dep, "version", cJSON_CreateString(v));
		else if (!cJSON_GetObjectItemCaseSensitive(dep, "version"))
			set(dep, "version", cJSON_CreateNull());
		set_environment(dep, event, status);
	}
	if (type && !strcmp(type, "session_completed")) {
		set(st, "status",
		    cJSON_CreateString(status && !strcmp(status, "failure") ? "failed"
									    : "completed"));
		set(st, "completed_at", ts ? cJSON_CreateString(ts) : cJSON_CreateNull());
	}
	return HIVE_OK;
}

int hive_state_rebuild(struct hive_session *s, cJSON **out, struct hive_err *err)
{
	struct hive_lines *r = NULL;
	enum hive_line_kind kind;
	char hash[HIVE_HASH_SIZE], name[32];
	const char *line;
	size_t len, no;
	cJSON *st = NULL, *ev;
	int rc, got;

	*out = NULL;
	if ((rc = hive_log_lines(s, &r, err)))
		return rc;
	while ((got = hive_lines_next(r, &line, &len, &kind, err)) > 0) {
		if (kind != HIVE_LINE_OK || !(ev = hive_json_parse(line, len))) {
			hive_log_segment_name(hive_lines_source(r, &no), name);
			rc = hive_err_set(err, HIVE_EENV,
					  "%s/%s:%zu: not a whole JSON line: run hive-check",
					  s->dir, name, no);
			goto out;
		}
		hive_sha256(line, len, hash);
		rc = hive_state_apply(&st, ev, hash, err);
		cJSON_Delete(ev);
		if (rc)
			goto out;
	}
	if (got < 0) {
		rc = HIVE_EENV;
		goto out;
	}
	*out = st;
	st = NULL;
	rc = HIVE_OK;
out:
	cJSON_Delete(st);
	hive_lines_free(r);
	return rc;
}

int hive_state_matches_tail(const cJSON *state, long long last_seq, const char *last_hash)
{
	const cJSON *ev = cJSON_GetObjectItemCaseSensitive(state, "events");
	const cJSON *seq = cJSON_GetObjectItemCaseSensitive(ev, "last_seq");
	const char *hash = hive_json_str(ev, "last_hash");

	/* compared as doubles: STATE.json may hold any number, and converting one out of
	 * range to an integer is undefined */
	return cJSON_IsNumber(seq) && seq->valuedouble == (double)last_seq && hash &&
	       !strcmp(hash, last_hash);
}

int hive_state_is_closed(const cJSON *state)
{
	const char *status = hive_json_str(state, "status");

	return status && strcmp(status, "active") != 0;
}

const char *hive_state_disagrees(const cJSON *state, const struct hive_tail *t)
{
	const cJSON *ev = cJSON_GetObjectItemCaseSensitive(state, "events");
	const cJSON *count = cJSON_GetObjectItemCaseSensitive(ev, "count");
	const char *status = hive_json_str(state, "status");

	if (!state)
		return "missing or not a JSON object";
	if (!hive_state_matches_tail(state, t->last_seq, t->last_hash))
		return "its last_seq or last_hash is not the log's last line";
	if (!cJSON_IsNumber(count) || count->valuedouble != (double)t->last_seq)
		return "its events.count is not the number of lines in the log";
	if (!status || strcmp(status, t->status))
		return "its status is not what the log's last line says";
	return NULL;
}

int hive_state_read(struct hive_session *s, cJSON **out, struct hive_err *err)
{
	char *buf = NULL;
	size_t len = 0;
	int rc;

	*out = NULL;
	rc = hive_read_file(s->dirfd, "STATE.json", 1, HIVE_STATE_MAX, &buf, &len, err);
	if (rc && err->sys == ENOENT) {
		hive_err_clear(err);
		return HIVE_OK;
	}
	if (rc) {
		hive_err_prefix(err, "%s", s->dir);
		err->status = HIVE_EENV;
		return HIVE_EENV;
	}
	*out = hive_json_parse(buf, len);
	if (*out && !cJSON_IsObject(*out)) {
		cJSON_Delete(*out);
		*out = NULL;
	}
	free(buf);
	return HIVE_OK;
}

int hive_state_text(const cJSON *state, char **out, size_t *len, struct hive_err *err)
{
	char *text = cJSON_PrintUnformatted(state), *buf;
	size_t n;

	*out = NULL;
	if (!text)
		return hive_err_set(err, HIVE_EENV, "out of memory");
	n = strlen(text);
	if (!(buf = malloc(n + 2))) {
		cJSON_free(text);
		return hive_err_set(err, HIVE_EENV, "out of memory");
	}
	memcpy(buf, text, n);
	buf[n] = '\n';
	buf[n + 1] = '\0';
	cJSON_free(text);
	*out = buf;
	*len = n + 1;
	return HIVE_OK;
}

int hive_state_write(struct hive_session *s, const cJSON *state, struct hive_err *err)
{
	char shown[4300], *text;
	size_t len;
	int rc;

	if ((rc = hive_state_text(state, &text, &len, err)))
		return rc;
	snprintf(shown, sizeof(shown), "%.4200s/STATE.json", s->dir);
	rc = hive_write_atomic_locked(s->dirfd, "STATE.json", text, len, shown, err);
	free(text);
	return rc;
}
