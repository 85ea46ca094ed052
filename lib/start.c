/* start.c - the starting protocol: a session made whole (session_started) or rejoined, and its id
 * handed on */
#include "start.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "cictx.h"
#include "session.h"

int hive_start(const char *root, const char *id, const struct hive_start_opts *o,
	       struct hive_start_result *res, struct hive_err *err)
{
	struct hive_txn_opts topts = {o->cfg, o->git, o->ci, o->worker, 1, 1};
	struct hive_txn *t = NULL;
	struct hive_session *s;
	int rc;

	memset(res, 0, sizeof(*res));
	if ((rc = hive_txn_begin(root, id, &topts, &t, err)))
		return rc;
	if (hive_txn_is_new(t) && ((rc = hive_txn_add(t, "session_started", o->details, err)) ||
				   (rc = hive_txn_commit(t, err))))
		goto out;
	res->created = hive_txn_created(t);
	s = hive_txn_session(t);
	if (res->created) {
		if (!(res->state = cJSON_Duplicate(hive_txn_state(t), 1))) {
			rc = hive_err_set(err, HIVE_EENV, "out of memory");
			goto undo;
		}
	} else if ((rc = hive_session_check_sound(s, &res->state, err))) {
		goto out;
	}
	if (!(res->dir = strdup(s->dir))) {
		rc = hive_err_set(err, HIVE_EENV, "out of memory");
		goto undo;
	}
	if ((rc = hive_ci_handoff(id, o->dotenv_dir, &res->wrote, err)))
		goto undo;
	goto out;
undo:
	hive_txn_rollback(t); /* a session this call made is taken back */
	hive_start_result_clear(res);
out:
	if (rc)
		hive_start_result_clear(res);
	hive_txn_free(t);
	return rc;
}

static cJSON *copy_or_null(const cJSON *v)
{
	return v ? cJSON_Duplicate(v, 1) : cJSON_CreateNull();
}

cJSON *hive_start_describe(const char *id, const struct hive_start_result *res, cJSON *hook)
{
	const cJSON *events = cJSON_GetObjectItemCaseSensitive(res->state, "events");
	cJSON *out = cJSON_CreateObject();

	if (!out) {
		cJSON_Delete(hook);
		return NULL;
	}
	cJSON_AddStringToObject(out, "session_id", id);
	cJSON_AddStringToObject(out, "dir", res->dir);
	cJSON_AddBoolToObject(out, "created", res->created);
	cJSON_AddItemToObject(out, "worker",
			      copy_or_null(cJSON_GetObjectItemCaseSensitive(res->state, "worker")));
	cJSON_AddItemToObject(out, "status",
			      copy_or_null(cJSON_GetObjectItemCaseSensitive(res->state, "status")));
	cJSON_AddItemToObject(out, "events",
			      copy_or_null(cJSON_GetObjectItemCaseSensitive(events, "count")));
	if (hook)
		cJSON_AddItemToObject(out, "hook", hook);
	return out;
}

void hive_start_result_clear(struct hive_start_result *res)
{
	free(res->dir);
	cJSON_Delete(res->state);
	memset(res, 0, sizeof(*res));
}
