/* cictx.c - GitHub Actions, GitLab CI and generic CI context from the environment */
#include "cictx.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "redact.h"
#include "util.h"

static int env_is_true(const char *name)
{
	const char *v = getenv(name);

	return v && (!strcmp(v, "true") || !strcmp(v, "1"));
}

enum hive_ci_provider hive_ci_provider(void)
{
	if (env_is_true("GITHUB_ACTIONS"))
		return HIVE_CI_GITHUB;
	if (env_is_true("GITLAB_CI"))
		return HIVE_CI_GITLAB;
	if (env_is_true("CI"))
		return HIVE_CI_OTHER;
	return HIVE_CI_NONE;
}

static void add_env(cJSON *obj, const char *key, const char *var)
{
	const char *v = getenv(var);

	if (v && *v)
		cJSON_AddStringToObject(obj, key, v);
	else
		cJSON_AddNullToObject(obj, key);
}

cJSON *hive_ci_context(void)
{
	const char *server, *repo, *run;
	char url[2048];
	cJSON *obj;

	switch (hive_ci_provider()) {
	case HIVE_CI_GITHUB:
		obj = cJSON_CreateObject();
		cJSON_AddStringToObject(obj, "provider", "github");
		add_env(obj, "run_id", "GITHUB_RUN_ID");
		add_env(obj, "run_attempt", "GITHUB_RUN_ATTEMPT");
		add_env(obj, "job", "GITHUB_JOB");
		add_env(obj, "workflow", "GITHUB_WORKFLOW");
		server = getenv("GITHUB_SERVER_URL");
		repo = getenv("GITHUB_REPOSITORY");
		run = getenv("GITHUB_RUN_ID");
		if (server && *server && repo && *repo && run && *run) {
			snprintf(url, sizeof(url), "%s/%s/actions/runs/%s", server, repo, run);
			cJSON_AddStringToObject(obj, "url", url);
		} else {
			cJSON_AddNullToObject(obj, "url");
		}
		return obj;
	case HIVE_CI_GITLAB:
		obj = cJSON_CreateObject();
		cJSON_AddStringToObject(obj, "provider", "gitlab");
		add_env(obj, "pipeline_id", "CI_PIPELINE_ID");
		add_env(obj, "job_id", "CI_JOB_ID");
		add_env(obj, "job", "CI_JOB_NAME");
		add_env(obj, "url", "CI_JOB_URL");
		return obj;
	case HIVE_CI_OTHER:
		obj = cJSON_CreateObject();
		cJSON_AddStringToObject(obj, "provider", "ci");
		return obj;
	case HIVE_CI_NONE:
		break;
	}
	return cJSON_CreateNull();
}

const char *hive_ci_session_id(char *buf, size_t size)
{
	const char *a, *b;

	switch (hive_ci_provider()) {
	case HIVE_CI_GITHUB:
		a = getenv("GITHUB_RUN_ID");
		b = getenv("GITHUB_RUN_ATTEMPT");
		if (!a || !*a)
			return NULL;
		snprintf(buf, size, "gh-%.64s-%.32s", a, b && *b ? b : "1");
		return buf;
	case HIVE_CI_GITLAB:
		a = getenv("CI_PIPELINE_ID");
		if (!a || !*a)
			return NULL;
		snprintf(buf, size, "gl-%.64s", a);
		return buf;
	default:
		return NULL;
	}
}

/* Append one line to a file the runner gave us, in one write, undone on failure.
 * *old_size is the file's length before (-1 when this call created it), for undo_append. */
static int append_line(const char *path, const char *line, off_t *old_size, struct hive_err *err)
{
	struct stat st;
	int fd;

	*old_size = -1;
	fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT)
		fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	else if (fd >= 0 && fstat(fd, &st) == 0)
		*old_size = st.st_size;
	if (fd < 0)
		return hive_err_sys(err, HIVE_EENV, errno, "%s", path);
	if (hive_write_all_or_truncate(fd, line, strlen(line), *old_size < 0 ? 0 : *old_size) < 0) {
		hive_err_sys(err, HIVE_EENV, errno, "%s", path);
		close(fd);
		if (*old_size < 0)
			unlink(path);
		return HIVE_EENV;
	}
	close(fd);
	return HIVE_OK;
}

/* Take back a line append_line wrote: the file is as it was before. */
static void undo_append(const char *path, off_t old_size)
{
	if (old_size < 0)
		unlink(path);
	else if (truncate(path, old_size) < 0) {
		/* nothing more can be done; the caller reports the original failure */
	}
}

/* Replace dir/hive.env atomically (temporary file, fsync, rename). */
static int write_dotenv(const char *dir, const char *id, struct hive_err *err)
{
	char path[4096], line[256];
	int dirfd, rc;

	snprintf(path, sizeof(path), "%s/hive.env", dir);
	snprintf(line, sizeof(line), "HIVE_SESSION_ID=%s\n", id);
	if ((dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return hive_err_sys(err, HIVE_EENV, errno, "%s", path);
	rc = hive_write_atomic(dirfd, "hive.env", line, strlen(line), path, err);
	close(dirfd);
	return rc;
}

int hive_ci_handoff(const char *id, const char *dotenv_dir, const char **wrote,
		    struct hive_err *err)
{
	const char *env_file, *out_file;
	char line[256];
	off_t env_size = 0, out_size;
	int rc, wrote_env = 0;

	*wrote = NULL;
	switch (hive_ci_provider()) {
	case HIVE_CI_GITHUB:
		env_file = getenv("GITHUB_ENV");
		out_file = getenv("GITHUB_OUTPUT");
		if (env_file && *env_file) {
			snprintf(line, sizeof(line), "HIVE_SESSION_ID=%s\n", id);
			if ((rc = append_line(env_file, line, &env_size, err)))
				return rc;
			wrote_env = 1;
			*wrote = "$GITHUB_ENV";
		}
		if (out_file && *out_file) {
			snprintf(line, sizeof(line), "session_id=%s\n", id);
			if ((rc = append_line(out_file, line, &out_size, err))) {
				if (wrote_env) /* all or nothing: $GITHUB_ENV goes back too */
					undo_append(env_file, env_size);
				*wrote = NULL;
				return rc;
			}
			*wrote = *wrote ? "$GITHUB_ENV and $GITHUB_OUTPUT" : "$GITHUB_OUTPUT";
		}
		return HIVE_OK;
	case HIVE_CI_GITLAB:
		if ((rc = write_dotenv(dotenv_dir, id, err)))
			return rc;
		*wrote = "hive.env";
		return HIVE_OK;
	default:
		return HIVE_OK;
	}
}

int hive_ci_step_summary_check(struct hive_err *err)
{
	const char *path = getenv("GITHUB_STEP_SUMMARY");
	char *a;
	int rc = HIVE_OK;

	if (!path || !*path)
		return HIVE_OK;
	if (!(a = strdup(path)))
		return hive_err_set(err, HIVE_EENV, "out of memory");
	if (access(path, F_OK) == 0 ? access(path, W_OK) < 0 : access(dirname(a), W_OK | X_OK) < 0)
		rc = hive_err_sys(err, HIVE_EENV, errno, "$GITHUB_STEP_SUMMARY %s", path);
	free(a);
	return rc;
}

int hive_ci_step_summary(const char *md, size_t len, const char *full_at, struct hive_err *err)
{
	const char *path = getenv("GITHUB_STEP_SUMMARY");
	char note[512];
	struct stat st;
	size_t room, cut = len, nlen;
	struct hive_buf out = {0};
	int fd, rc = HIVE_OK;

	if (!path || !*path)
		return HIVE_OK;
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0 || fstat(fd, &st) < 0) {
		rc = hive_err_sys(err, HIVE_EENV, errno, "$GITHUB_STEP_SUMMARY %s", path);
		goto out;
	}
	nlen = (size_t)snprintf(note, sizeof(note),
				"\n> **Cut here**: GitHub shows at most 1 MiB of summary per step; "
				"the whole report is %s.\n",
				full_at);
	/* the report (md) comes scrubbed (hive_redact_buf); the path the note names may not */
	hive_redact_message(note, sizeof(note));
	nlen = strlen(note);
	room = (size_t)st.st_size >= HIVE_STEP_SUMMARY_MAX
		       ? 0
		       : HIVE_STEP_SUMMARY_MAX - (size_t)st.st_size;
	if (len > room) {
		const char *nl;
		cut = room > nlen ? room - nlen : 0;
		/* never mid-line: back up to the end of the last whole line that fits */
		nl = cut ? memrchr(md, '\n', cut) : NULL;
		cut = nl ? (size_t)(nl - md) + 1 : 0;
	}
	hive_buf_add(&out, md, cut);
	/* the note too must fit: a summary over 1 MiB makes GitHub drop the step's whole
	 * summary, what was already there included */
	if (cut < len && nlen <= room)
		hive_buf_add(&out, note, nlen);
	if (out.oom) {
		rc = hive_err_set(err, HIVE_EENV, "out of memory");
		goto out;
	}
	if (out.len && hive_write_all_or_truncate(fd, out.p, out.len, st.st_size) < 0)
		rc = hive_err_sys(err, HIVE_EENV, errno, "$GITHUB_STEP_SUMMARY %s", path);
out:
	if (fd >= 0)
		close(fd);
	hive_buf_free(&out);
	return rc;
}
