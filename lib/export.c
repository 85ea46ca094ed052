/* export.c - every event of every session as NDJSON with the repository's identity */
#include "export.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

#include "gitctx.h"
#include "log.h"
#include "report.h"
#include "session.h"

struct walk {
	const char *root;
	struct git_repository *repo;
	const cJSON *repository; /* {"url","name"} */
	struct hive_buf *out;
	struct hive_err *err;
};

/* {"url": remote or null, "name": …} for the repository at top (new, the caller's) */
static cJSON *identity(const char *top, struct hive_git *git, struct hive_err *err)
{
	cJSON *ctx = NULL, *id = cJSON_CreateObject();
	const char *remote = NULL, *base;
	char name[4096], clean[4096];
	size_t n;

	if (!id)
		return NULL;
	if (git && hive_git_context(git, 0, &ctx, err)) {
		cJSON_Delete(id);
		return NULL;
	}
	remote = hive_json_str(ctx, "remote");
	if (remote && *remote) {
		hive_git_strip_credentials(remote, clean, sizeof(clean));
		cJSON_AddStringToObject(id, "url", clean);
		n = strlen(clean);
		while (n > 0 && clean[n - 1] == '/')
			clean[--n] = '\0';
		base = strrchr(clean, '/')   ? strrchr(clean, '/') + 1
		       : strrchr(clean, ':') ? strrchr(clean, ':') + 1
					     : clean;
	} else {
		cJSON_AddNullToObject(id, "url");
		snprintf(clean, sizeof(clean), "%s", top ? top : "");
		n = strlen(clean);
		while (n > 1 && clean[n - 1] == '/')
			clean[--n] = '\0';
		base = strrchr(clean, '/') ? strrchr(clean, '/') + 1 : clean;
	}
	snprintf(name, sizeof(name), "%s", base);
	n = strlen(name);
	if (n > 4 && !strcmp(name + n - 4, ".git"))
		name[n - 4] = '\0';
	cJSON_AddStringToObject(id, "name", *name ? name : "repository");
	cJSON_Delete(ctx);
	return id;
}

static int one_line(struct walk *w, const char *session, const cJSON *ev)
{
	cJSON *line = cJSON_CreateObject();
	const cJSON *seq = cJSON_GetObjectItemCaseSensitive(ev, "seq");
	const char *lane = hive_json_str(ev, "lane"), *type = hive_json_str(ev, "event_type");
	int64_t cms = -1;
	char t[32], *text = NULL;

	if (!line)
		return -1;
	cJSON_AddItemToObject(line, "repository", cJSON_Duplicate(w->repository, 1));
	cJSON_AddStringToObject(line, "session_id", session);
	cJSON_AddStringToObject(line, "lane", lane && *lane ? lane : "main");
	cJSON_AddNumberToObject(line, "seq", cJSON_IsNumber(seq) ? seq->valuedouble : 0);
	if (type && !strcmp(type, "deployment_configured"))
		cms = hive_facts_commit_ms(w->repo, ev);
	if (cms >= 0) {
		hive_time_format(cms, t);
		cJSON_AddStringToObject(line, "commit_time", t);
	} else {
		cJSON_AddNullToObject(line, "commit_time");
	}
	cJSON_AddItemToObject(line, "event", cJSON_Duplicate(ev, 1));
	if ((text = cJSON_PrintUnformatted(line))) {
		hive_buf_puts(w->out, text);
		hive_buf_puts(w->out, "\n");
	}
	cJSON_free(text);
	cJSON_Delete(line);
	return text ? 0 : -1;
}

/* One session's events, read under its shared lock. */
static int export_one(const char *id, void *arg)
{
	struct walk *w = arg;
	struct hive_session *s = NULL;
	struct hive_facts *f = NULL;
	const cJSON *ev;
	int rc;

	rc = hive_session_open_ro(w->root, id, &s, w->err);
	if (!rc && !(rc = hive_session_lock_shared(s, hive_lock_timeout(), w->err)) &&
	    !(rc = hive_facts_load(s, w->repo, &f, w->err)))
		cJSON_ArrayForEach(ev, hive_facts_events(f))
		{
			if (one_line(w, id, ev) < 0) {
				rc = hive_err_set(w->err, HIVE_EENV, "out of memory");
				break;
			}
		}
	hive_facts_free(f);
	hive_session_close(s);
	return rc;
}

int hive_export_events(const char *root, const char *top, struct hive_git *git,
		       struct hive_buf *out, struct hive_err *err)
{
	struct walk w = {root, git ? hive_git_repo(git) : NULL, NULL, out, err};
	cJSON *repository = identity(top, git, err);
	int rc;

	if (!repository)
		return err->status ? err->status : hive_err_set(err, HIVE_EENV, "out of memory");
	w.repository = repository;
	rc = hive_session_foreach(root, export_one, &w, err);
	cJSON_Delete(repository);
	return rc;
}
