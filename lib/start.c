/* start.c - the starting protocol: a session made whole (session_started) or rejoined, and its id
 * handed on */
#include "start.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cictx.h"
#include "integrity.h"
#include "session.h"
#include "util.h"

#define ATTRIBUTES_MAX (1024 * 1024)

/* Does text hold line (whole, spaces around it ignored)? */
static int has_line(const char *text, size_t len, const char *line)
{
	const char *p = text, *end = text + len, *nl, *a, *b;
	size_t n = strlen(line);

	for (; p < end; p = nl + 1) {
		if (!(nl = memchr(p, '\n', (size_t)(end - p))))
			nl = end;
		for (a = p; a < nl && (*a == ' ' || *a == '\t'); a++)
			;
		for (b = nl; b > a && (b[-1] == ' ' || b[-1] == '\t' || b[-1] == '\r'); b--)
			;
		if ((size_t)(b - a) == n && !memcmp(a, line, n))
			return 1;
		if (nl == end)
			break;
	}
	return 0;
}

int hive_start_attributes(const char *worktree, const char *root, char **added, char **old,
			  size_t *oldlen, struct hive_err *err)
{
	const char *rel;
	struct hive_buf text = {0};
	struct hive_err e = {0};
	char shown[4200], *line = NULL;
	int dirfd = -1, rc = HIVE_OK;

	*added = *old = NULL;
	*oldlen = 0;
	if (!(rel = hive_path_under(worktree, root)))
		return HIVE_OK;
	if (asprintf(&line, "/%s/** -text", rel) < 0)
		return hive_err_set(err, HIVE_EENV, "out of memory");
	snprintf(shown, sizeof(shown), "%.4000s/.gitattributes", worktree);
	if ((dirfd = open(worktree, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		rc = hive_err_sys(err, HIVE_EENV, errno, "%s", worktree);
		goto out;
	}
	if (hive_read_file(dirfd, ".gitattributes", 1, ATTRIBUTES_MAX, old, oldlen, &e)) {
		if (e.sys != ENOENT) {
			rc = hive_err_set(
				err, HIVE_EENV,
				"%s: cannot mark the hive root -text (%s): a log must never "
				"have its line endings rewritten by git",
				shown, e.msg);
			goto out;
		}
	} else if (has_line(*old, *oldlen, line)) {
		goto out; /* marked already */
	}
	if (*old)
		hive_buf_add(&text, *old, *oldlen);
	if (*oldlen && (*old)[*oldlen - 1] != '\n')
		hive_buf_add(&text, "\n", 1);
	hive_buf_puts(&text,
		      "# hive: event logs are hashed byte for byte; git must not touch their "
		      "line endings\n");
	hive_buf_puts(&text, line);
	hive_buf_add(&text, "\n", 1);
	if (text.oom) {
		rc = hive_err_set(err, HIVE_EENV, "out of memory");
		goto out;
	}
	if ((rc = hive_write_atomic(dirfd, ".gitattributes", text.p, text.len, shown, err)))
		goto out;
	*added = line;
	line = NULL;
out:
	if (rc || !*added) {
		free(*old);
		*old = NULL;
		*oldlen = 0;
	}
	free(line);
	hive_buf_free(&text);
	if (dirfd >= 0)
		close(dirfd);
	return rc;
}

void hive_start_attributes_undo(const char *worktree, const char *old, size_t oldlen)
{
	struct hive_err ignored = {0};
	int dirfd = open(worktree, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (dirfd < 0)
		return;
	if (old)
		hive_write_atomic(dirfd, ".gitattributes", old, oldlen, ".gitattributes", &ignored);
	else
		unlinkat(dirfd, ".gitattributes", 0);
	close(dirfd);
}

/* A session is rejoined only when its log passes hive-check's integrity rules: HIVE_EENV
 * "corrupt session" (SPEC 5.1) naming the rule, the findings written to o->findings. */
static int rejoin_integrity(const struct hive_start_opts *o, struct hive_session *s,
			    struct hive_err *err)
{
	const char *rule;
	int rc = hive_integrity_check(o->cfg, s, o->findings, &rule, err);

	if (rc == HIVE_FAIL)
		rc = hive_err_set(
			err, HIVE_EENV,
			"session %s fails hive-check's %s rule: not rejoining it (corrupt "
			"session: see above; hive-check --repair mends a cut-off last line)",
			s->id, rule);
	return rc;
}

int hive_start(const char *root, const char *id, const struct hive_start_opts *o,
	       struct hive_start_result *res, struct hive_err *err)
{
	struct hive_txn_opts topts = {o->cfg, o->git, o->ci, o->worker, 1, 1, NULL, NULL};
	struct hive_txn *t = NULL;
	struct hive_session *s;
	char *old_attr = NULL;
	size_t old_len = 0;
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
	} else if ((rc = hive_session_check_sound(s, &res->state, err)) ||
		   (rc = rejoin_integrity(o, s, err))) {
		goto out;
	}
	if (!(res->dir = strdup(s->dir))) {
		rc = hive_err_set(err, HIVE_EENV, "out of memory");
		goto undo;
	}
	if ((rc = hive_start_attributes(o->worktree, root, &res->attributes, &old_attr, &old_len,
					err)))
		goto undo;
	if ((rc = hive_ci_handoff(id, o->dotenv_dir, &res->wrote, err)))
		goto undo;
	goto out;
undo:
	if (res->attributes)
		hive_start_attributes_undo(o->worktree, old_attr, old_len);
	hive_txn_rollback(t); /* a session this call made is taken back */
	hive_start_result_clear(res);
out:
	if (rc)
		hive_start_result_clear(res);
	free(old_attr);
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
	free(res->attributes);
	cJSON_Delete(res->state);
	memset(res, 0, sizeof(*res));
}
