/* session.c - session folders (create, open, enumerate, name) and the transaction every event is
 * written through */
#include "session.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "event.h"
#include "policy.h"
#include "state.h"
#include "util.h"

/* --- session folders ---------------------------------------------------------------- */

/* Open name inside dirfd as a directory, refusing a symbolic link. -1 with errno set (and
 * err filled, but for ENOENT, which the caller words itself). */
static int open_dir_nofollow(int dirfd, const char *name, const char *shown, struct hive_err *err)
{
	struct stat st;
	int fd;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		int saved = errno;
		hive_err_sys(err, HIVE_EENV, saved, "%s", shown);
		errno = saved;
		return -1;
	}
	if (S_ISLNK(st.st_mode)) {
		hive_err_set(err, HIVE_EENV, "%s: is a symbolic link (refused)", shown);
		errno = ELOOP;
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		hive_err_set(err, HIVE_EENV, "%s: not a directory", shown);
		errno = ENOTDIR;
		return -1;
	}
	fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		hive_err_sys(err, HIVE_EENV, errno, "%s", shown);
	return fd;
}

void hive_session_remove_tmp(int sessfd, const char *name)
{
	struct dirent *de;
	int fd, lfd;
	DIR *d;

	if ((fd = openat(sessfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return;
	if ((lfd = openat(fd, "lanes", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) >= 0 &&
	    (d = fdopendir(lfd))) {
		while ((de = readdir(d)))
			unlinkat(lfd, de->d_name, 0);
		closedir(d);
		unlinkat(fd, "lanes", AT_REMOVEDIR);
	} else if (lfd >= 0) {
		close(lfd);
	}
	if ((d = fdopendir(fd))) {
		while ((de = readdir(d)))
			unlinkat(fd, de->d_name, 0);
		closedir(d);
	} else {
		close(fd);
	}
	unlinkat(sessfd, name, AT_REMOVEDIR);
}

static struct hive_session *session_new(const char *root, const char *id)
{
	struct hive_session *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->dirfd = s->lockfd = s->eventsfd = -1;
	s->id = strdup(id);
	if (asprintf(&s->dir, "%s/sessions/%s", root, id) < 0)
		s->dir = NULL;
	if (!s->id || !s->dir) {
		hive_session_close(s);
		return NULL;
	}
	return s;
}

/* "session X does not exist": HIVE_EUSAGE with err->sys ENOENT, so callers can tell. */
static int no_such_session(const char *id, struct hive_err *err)
{
	hive_err_set(err, HIVE_EUSAGE, "session %s does not exist: run hive-init first", id);
	err->sys = ENOENT;
	return HIVE_EUSAGE;
}

static int session_open(const char *root, const char *id, int readonly, struct hive_session **out,
			struct hive_err *err)
{
	struct hive_session *s = NULL;
	int rootfd = -1, sessfd = -1, rc;
	char shown[4200];

	*out = NULL;
	/* syntax only: a folder an older hive named like a secret can still be read, and the
	 * gate reports its name (ids given by users are refused by hive_id_check first) */
	if ((rc = hive_id_check_syntax("session id", id, strlen(id), err)))
		return rc;
	rc = HIVE_EENV;
	if (!(s = session_new(root, id)))
		return hive_err_set(err, HIVE_EENV, "out of memory");
	if ((rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		if (errno == ENOENT)
			rc = no_such_session(id, err);
		else
			hive_err_sys(err, HIVE_EENV, errno, "%s", root);
		goto out;
	}
	snprintf(shown, sizeof(shown), "%s/sessions", root);
	if ((sessfd = open_dir_nofollow(rootfd, "sessions", shown, err)) < 0 ||
	    (s->dirfd = open_dir_nofollow(sessfd, id, s->dir, err)) < 0) {
		if (errno == ENOENT)
			rc = no_such_session(id, err);
		goto out;
	}
	if (hive_log_open(s, readonly, err))
		goto out;
	*out = s;
	s = NULL;
	rc = HIVE_OK;
out:
	if (sessfd >= 0)
		close(sessfd);
	if (rootfd >= 0)
		close(rootfd);
	hive_session_close(s);
	return rc;
}

int hive_session_open(const char *root, const char *id, struct hive_session **out,
		      struct hive_err *err)
{
	return session_open(root, id, 0, out, err);
}

int hive_session_open_ro(const char *root, const char *id, struct hive_session **out,
			 struct hive_err *err)
{
	return session_open(root, id, 1, out, err);
}

static int write_new_file(int dirfd, const char *name, const char *buf, size_t len,
			  const char *shown, struct hive_err *err)
{
	int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);

	if (fd < 0)
		return hive_err_sys(err, HIVE_EENV, errno, "%s/%s", shown, name);
	/* an empty file (.lock) has no data to flush: the folder's fsync makes it durable */
	if (len && (hive_write_all_or_truncate(fd, buf, len, 0) < 0 || fsync(fd) < 0)) {
		hive_err_sys(err, HIVE_EENV, errno, "%s/%s", shown, name);
		close(fd);
		return HIVE_EENV;
	}
	close(fd);
	return HIVE_OK;
}

static const char *const session_files[] = {"STATE.json", "EVENTS.jsonl", ".lock"};

/* Remove a session folder's own files and the folder (a new one being taken back). */
static void remove_folder(int parentfd, int dirfd, const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(session_files) / sizeof(session_files[0]); i++)
		unlinkat(dirfd, session_files[i], 0);
	unlinkat(dirfd, ".STATE.json.tmp", 0);
	unlinkat(parentfd, name, AT_REMOVEDIR);
}

/* How old a temporary folder must be (seconds since its last change) before a sweep may
 * take it: the lock says whether its maker is alive, the age covers the moment between
 * mkdir and taking the lock, and a hive before 13's fix that filled the folder first. */
#define STALE_TMP_AGE 10

/* Is name what session_create calls the folder it assembles: .tmp-<id>-<pid>-<8 hex>? */
static int is_tmp_name(const char *name)
{
	size_t n = strlen(name), i, digits = 0;

	if (n < 5 + 1 + 1 + 1 + 1 + 8 || strncmp(name, ".tmp-", 5))
		return 0;
	for (i = n - 8; i < n; i++)
		if (!strchr("0123456789abcdef", name[i]))
			return 0;
	if (name[n - 9] != '-')
		return 0;
	for (i = n - 10; i > 5 && name[i] >= '0' && name[i] <= '9'; i--)
		digits++;
	if (!digits || name[i] != '-' || i == 5)
		return 0;
	return hive_id_check("session", name + 5, i - 5, NULL) == HIVE_OK;
}

/* Remove sessfd's folder name if it is a stale temporary folder (see hive_session_create):
 * a real folder, holding nothing but regular files that hive puts there, old enough, and
 * with no process holding its .lock (which this takes, without waiting, and keeps until
 * the folder is gone). 1 when removed, 0 when left alone. */
static int sweep_one(int sessfd, const char *name, time_t now)
{
	struct stat st, fst;
	struct dirent *d;
	DIR *dp = NULL;
	int dirfd, lockfd = -1, ours = 1, removed = 0;
	size_t i;

	if (fstatat(sessfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode) ||
	    now - st.st_mtime < STALE_TMP_AGE)
		return 0;
	if ((dirfd = openat(sessfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return 0;
	if (!(dp = fdopendir(dup(dirfd)))) {
		close(dirfd);
		return 0;
	}
	while (ours && (d = readdir(dp))) {
		if (!strcmp(d->d_name, ".") || !strcmp(d->d_name, ".."))
			continue;
		ours = !strcmp(d->d_name, ".STATE.json.tmp");
		for (i = 0; !ours && i < sizeof(session_files) / sizeof(session_files[0]); i++)
			ours = !strcmp(d->d_name, session_files[i]);
		if (ours && (fstatat(dirfd, d->d_name, &fst, AT_SYMLINK_NOFOLLOW) < 0 ||
			     !S_ISREG(fst.st_mode)))
			ours = 0;
	}
	closedir(dp);
	if (!ours)
		goto out;
	lockfd = openat(dirfd, ".lock", O_RDWR | O_NOFOLLOW | O_CLOEXEC);
	if (lockfd < 0 ? errno != ENOENT : flock(lockfd, LOCK_EX | LOCK_NB) < 0)
		goto out; /* a maker still at work (or a .lock we cannot open) */
	/* still the folder that was looked at, under the same name (a maker renames it into
	 * place only while holding its lock, so it cannot move from here on) */
	if (fstatat(sessfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 || fstat(dirfd, &fst) < 0 ||
	    st.st_dev != fst.st_dev || st.st_ino != fst.st_ino)
		goto out;
	remove_folder(sessfd, dirfd, name);
	removed = fstatat(sessfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0;
out:
	if (lockfd >= 0)
		close(lockfd);
	close(dirfd);
	return removed;
}

int hive_session_sweep(const char *root, size_t *removed, struct hive_err *err)
{
	char shown[4200];
	struct dirent *d;
	DIR *dp;
	int rootfd, sessfd;
	time_t now = time(NULL);

	*removed = 0;
	if ((rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return errno == ENOENT ? HIVE_OK : hive_err_sys(err, HIVE_EENV, errno, "%s", root);
	snprintf(shown, sizeof(shown), "%s/sessions", root);
	sessfd = open_dir_nofollow(rootfd, "sessions", shown, err);
	close(rootfd);
	if (sessfd < 0) {
		if (errno != ENOENT)
			return HIVE_EENV;
		hive_err_clear(err);
		return HIVE_OK;
	}
	if (!(dp = fdopendir(dup(sessfd)))) {
		close(sessfd);
		return hive_err_sys(err, HIVE_EENV, errno, "%s", shown);
	}
	while ((d = readdir(dp)))
		if (is_tmp_name(d->d_name) && (d->d_type == DT_DIR || d->d_type == DT_UNKNOWN))
			*removed += (size_t)sweep_one(sessfd, d->d_name, now);
	closedir(dp);
	if (*removed)
		fsync(sessfd);
	close(sessfd);
	return HIVE_OK;
}

/* hive_session_create; with keep_lock, a session this call created is returned still
 * holding the lock it took before publishing it (the transaction's commit). */
static int session_create(const char *root, const char *id, const char *first_line, size_t len,
			  const cJSON *state, int keep_lock, int *created, int made[2],
			  struct hive_session **out, struct hive_err *err)
{
	unsigned char rnd[4];
	char tmp[HIVE_ID_MAX + 64], shown[4200], *state_text = NULL;
	int rootfd = -1, sessfd = -1, tmpfd = -1, made_root = 0, made_sessions = 0, rc;
	struct hive_session *s = NULL;
	size_t state_len;
	struct stat st;

	*out = NULL;
	*created = 0;
	if ((rc = hive_id_check("session id", id, strlen(id), err)))
		return rc;
	if ((rc = hive_state_text(state, &state_text, &state_len, err)))
		return rc;
	rc = HIVE_EENV;
	if (hive_mkdir_parents(root, &made_root, err))
		goto out;
	if ((rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		hive_err_sys(err, HIVE_EENV, errno, "%s", root);
		goto out;
	}
	snprintf(shown, sizeof(shown), "%s/sessions", root);
	if (mkdirat(rootfd, "sessions", 0755) == 0)
		made_sessions = 1;
	else if (errno != EEXIST) {
		hive_err_sys(err, HIVE_EENV, errno, "%s", shown);
		goto out;
	}
	if ((sessfd = open_dir_nofollow(rootfd, "sessions", shown, err)) < 0)
		goto out;
	if (fstatat(sessfd, id, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		rc = hive_session_open(root, id, out, err);
		goto out;
	}
	/* what killed hive-inits left: best effort, never a reason to fail */
	{
		struct hive_err ignored = {0};
		size_t swept;
		hive_session_sweep(root, &swept, &ignored);
	}
	if (hive_random(rnd, sizeof(rnd)) < 0) {
		hive_err_sys(err, HIVE_EENV, errno, "getrandom");
		goto out;
	}
	snprintf(tmp, sizeof(tmp), ".tmp-%s-%ld-%02x%02x%02x%02x", id, (long)getpid(), rnd[0],
		 rnd[1], rnd[2], rnd[3]);
	if (mkdirat(sessfd, tmp, 0755) < 0) {
		hive_err_sys(err, HIVE_EENV, errno, "%s/%s", shown, tmp);
		goto out;
	}
	if ((tmpfd = open_dir_nofollow(sessfd, tmp, shown, err)) < 0)
		goto undo;
	/* the files are named as they will be, <root>/sessions/<id>/NAME, in messages: the
	 * temporary folder is never seen */
	snprintf(shown, sizeof(shown), "%s/sessions/%s", root, id);
	/* The lock (creating .lock) comes first, before anything is written: a temporary
	 * folder whose .lock nobody holds is one whose maker is gone (hive_session_sweep).
	 * It is held until the folder is published and after: whoever opens it next waits
	 * until this process lets go (after its commit is delivered, or rolled back). */
	if (!(s = session_new(root, id))) {
		hive_err_set(err, HIVE_EENV, "out of memory");
		goto undo;
	}
	s->dirfd = tmpfd;
	tmpfd = -1;
	if (hive_session_lock(s, 0, err) ||
	    write_new_file(s->dirfd, "EVENTS.jsonl", first_line, len, shown, err) ||
	    write_new_file(s->dirfd, "STATE.json", state_text, state_len, shown, err))
		goto undo;
	if (fsync(s->dirfd) < 0) {
		hive_err_sys(err, HIVE_EENV, errno, "%s", shown);
		goto undo;
	}
	if (hive_log_open(s, 0, err))
		goto undo;
	if (renameat2(sessfd, tmp, sessfd, id, RENAME_NOREPLACE) < 0) {
		if (errno == EEXIST || errno == ENOTEMPTY) {
			/* another hive-init won the race: use its session */
			remove_folder(sessfd, s->dirfd, tmp);
			hive_session_close(s);
			s = NULL;
			made_root = made_sessions = 0;
			rc = hive_session_open(root, id, out, err);
			goto out;
		}
		hive_err_sys(err, HIVE_EENV, errno, "%s", shown);
		goto undo;
	}
	fsync(sessfd);
	if (made) {
		made[0] = made_root;
		made[1] = made_sessions;
	}
	made_root = made_sessions = 0;
	*created = 1;
	if (!keep_lock)
		hive_session_unlock(s);
	*out = s;
	s = NULL;
	rc = HIVE_OK;
	goto out;
undo:
	remove_folder(sessfd, s ? s->dirfd : tmpfd, tmp);
out:
	hive_session_close(s);
	free(state_text);
	if (tmpfd >= 0)
		close(tmpfd);
	if (sessfd >= 0)
		close(sessfd);
	if (made_sessions && rootfd >= 0)
		unlinkat(rootfd, "sessions", AT_REMOVEDIR);
	if (rootfd >= 0)
		close(rootfd);
	if (made_root)
		hive_rmdir_parents(root, made_root);
	return rc;
}

int hive_session_create(const char *root, const char *id, const char *first_line, size_t len,
			const cJSON *state, int *created, struct hive_session **out,
			struct hive_err *err)
{
	return session_create(root, id, first_line, len, state, 0, created, NULL, out, err);
}

int hive_session_foreach(const char *root, int (*fn)(const char *id, void *arg), void *arg,
			 struct hive_err *err)
{
	struct hive_strv ids = {0};
	struct dirent *d;
	char dir[4200];
	DIR *dp;
	size_t i;
	int rc = HIVE_OK;

	snprintf(dir, sizeof(dir), "%s/sessions", root);
	if (!(dp = opendir(dir)))
		return errno == ENOENT ? HIVE_OK : hive_err_sys(err, HIVE_EENV, errno, "%s", dir);
	while ((d = readdir(dp))) {
		if (d->d_name[0] == '.' ||
		    hive_id_check_syntax("session", d->d_name, strlen(d->d_name), NULL) != HIVE_OK)
			continue;
		if (d->d_type != DT_DIR && d->d_type != DT_LNK && d->d_type != DT_UNKNOWN)
			continue;
		if (hive_strv_push(&ids, d->d_name) < 0) {
			rc = hive_err_set(err, HIVE_EENV, "out of memory");
			break;
		}
	}
	closedir(dp);
	if (!rc)
		hive_strv_sort(&ids);
	for (i = 0; !rc && i < ids.n; i++)
		rc = fn(ids.v[i], arg);
	hive_strv_clear(&ids);
	return rc;
}

int hive_session_path_split(const char *path, int is_dir, char **root, char **id,
			    struct hive_err *err)
{
	char *copy = strdup(path), *slash;

	*root = *id = NULL;
	if (!copy)
		return hive_err_set(err, HIVE_EENV, "out of memory");
	if (!is_dir && (slash = strrchr(copy, '/')))
		*slash = '\0';
	slash = strrchr(copy, '/');
	if (!slash || slash - copy < 9 || strncmp(slash - 9, "/sessions", 9)) {
		free(copy);
		return hive_err_set(err, HIVE_EUSAGE,
				    "%s: not a session folder (<root>/sessions/<id>)", path);
	}
	*slash = '\0';
	*root = strndup(copy, (size_t)(slash - 9 - copy));
	*id = strdup(slash + 1);
	free(copy);
	if (!*root || !*id) {
		free(*root);
		free(*id);
		*root = *id = NULL;
		return hive_err_set(err, HIVE_EENV, "out of memory");
	}
	return HIVE_OK;
}

/* The first line of the log, parsed (the caller's), or NULL with err filled. */
static cJSON *first_event(struct hive_session *s, struct hive_err *err)
{
	char *line = NULL;
	size_t len;
	cJSON *ev = NULL;

	if (!hive_log_head(s, &line, &len, err) && (ev = hive_json_parse(line, len)) &&
	    !cJSON_IsObject(ev)) {
		cJSON_Delete(ev);
		ev = NULL;
	}
	free(line);
	if (!ev)
		hive_err_set(
			err, HIVE_EENV,
			"%s/EVENTS.jsonl:1: not a JSON event (corrupt session: run hive-check)",
			s->dir);
	return ev;
}

int hive_session_check_sound(struct hive_session *s, cJSON **state_out, struct hive_err *err)
{
	struct hive_tail tail;
	cJSON *first = NULL, *state = NULL;
	const char *v;
	int rc;

	*state_out = NULL;
	if ((rc = hive_log_tail(s, &tail, err)))
		return rc;
	if (tail.size == 0)
		return hive_err_set(err, HIVE_EENV,
				    "%s/EVENTS.jsonl: exists but is empty (corrupt session)",
				    s->dir);
	if (!(first = first_event(s, err)))
		return HIVE_EENV;
	rc = HIVE_EENV;
	v = hive_json_str(first, "event_type");
	if (!v || strcmp(v, "session_started")) {
		hive_err_set(err, HIVE_EENV,
			     "%s/EVENTS.jsonl:1: expected session_started (corrupt session)",
			     s->dir);
		goto out;
	}
	v = hive_json_str(first, "session_id");
	if (!v || strcmp(v, s->id)) {
		hive_err_set(err, HIVE_EENV,
			     "%s/EVENTS.jsonl:1: session_id does not match the folder %s", s->dir,
			     s->id);
		goto out;
	}
	if ((rc = hive_state_read(s, &state, err)))
		goto out;
	v = hive_json_str(state, "session_id");
	if (!state || !v || strcmp(v, s->id)) {
		rc = hive_err_set(err, HIVE_EENV,
				  "%s/STATE.json: %s (corrupt session: run hive-check --repair)",
				  s->dir,
				  state ? "session_id does not match" : "missing or not JSON");
		goto out;
	}
	*state_out = state;
	state = NULL;
	rc = HIVE_OK;
out:
	cJSON_Delete(first);
	cJSON_Delete(state);
	return rc;
}

int hive_session_repair(struct hive_session *s, size_t *moved, int *rebuilt, struct hive_err *err)
{
	struct hive_tail tail;
	cJSON *state = NULL;
	int rc;

	*moved = 0;
	*rebuilt = 0;
	if ((rc = hive_session_lock(s, hive_lock_timeout(), err)))
		return rc;
	if ((rc = hive_log_cut_torn(s, moved, err)))
		goto out;
	/* the view: rebuilt when it is missing or disagrees with the log */
	if (hive_log_tail(s, &tail, err) || hive_state_read(s, &state, err)) {
		*rebuilt = -1;
		hive_err_clear(err);
		goto out;
	}
	if (tail.size && hive_state_disagrees(state, &tail)) {
		cJSON_Delete(state);
		state = NULL;
		if (hive_state_rebuild(s, &state, err) || !state) {
			*rebuilt = -1;
			hive_err_clear(err);
		} else if ((rc = hive_state_write(s, state, err))) {
			goto out;
		} else {
			*rebuilt = 1;
		}
	}
out:
	cJSON_Delete(state);
	hive_session_unlock(s);
	return rc;
}

/* --- the transaction ----------------------------------------------------------------- */

struct hive_txn {
	char *root, *id;
	struct hive_txn_opts opts;
	struct hive_session *s; /* NULL for a new session until its commit */
	struct hive_tail tail;	/* the log's end when the transaction began */
	cJSON *state;		/* the view, every added event folded in */
	char *old_state;	/* STATE.json's bytes at begin, for rollback (NULL: none) */
	size_t old_len;
	char *worker; /* the session's worker: line 1's, or opts.worker when new */
	char prev[HIVE_HASH_SIZE];
	int64_t next_seq;
	char ts[32];	       /* one timestamp for every event of the transaction */
	struct hive_buf lines; /* the added lines, exactly as written */
	const char *rebuilt;   /* why the view was rebuilt from the log, or NULL */
	int is_new, created, committed;
	int made[2]; /* a created session: root folders made, and whether sessions/ was */
	/* a lane (opts.lane, SPEC 11): its log lanes/<lane>.jsonl instead of EVENTS.jsonl;
	 * STATE.json, the view of the main log, is not touched */
	int lanesfd, lanefd; /* <session>/lanes and the lane's log, -1 until they exist */
	struct hive_tail lane_tail;
	int lane_new; /* the lane's log is made by the commit (its first line lane_started) */
	char lanes_dir[4200];
};

/* The lane's log (t->opts.lane) opened for appending, its tail read: HIVE_OK with
 * t->lane_new set when it does not exist yet. A link or anything but a file is refused. */
static int lane_open(struct hive_txn *t, struct hive_err *err)
{
	char name[200];

	snprintf(t->lanes_dir, sizeof(t->lanes_dir), "%.4000s/lanes", t->s->dir);
	snprintf(name, sizeof(name), "%s.jsonl", t->opts.lane);
	t->lanesfd = openat(t->s->dirfd, "lanes", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (t->lanesfd < 0) {
		if (errno != ENOENT)
			return hive_err_sys(err, HIVE_EENV, errno, "%s", t->lanes_dir);
		t->lane_new = 1;
		return HIVE_OK;
	}
	t->lanefd = openat(t->lanesfd, name, O_RDWR | O_APPEND | O_NOFOLLOW | O_CLOEXEC);
	if (t->lanefd < 0) {
		if (errno == ENOENT) {
			t->lane_new = 1;
			return HIVE_OK;
		}
		return errno == ELOOP
			       ? hive_err_set(err, HIVE_EENV, "%s/%s: is a symbolic link (refused)",
					      t->lanes_dir, name)
			       : hive_err_sys(err, HIVE_EENV, errno, "%s/%s", t->lanes_dir, name);
	}
	if (hive_log_tail_fd(t->lanefd, t->lanes_dir, name, &t->lane_tail, err))
		return HIVE_EENV;
	t->lane_new = t->lane_tail.size == 0;
	return HIVE_OK;
}

/* Commit a lane's lines: a new lane's log is written under a temporary name and linked into
 * place (whole or not at all), an existing one appended to with one write(2) (truncated back
 * on failure). */
static int lane_commit(struct hive_txn *t, struct hive_err *err)
{
	char name[200], tmp[220];
	int fd, saved;

	snprintf(name, sizeof(name), "%s.jsonl", t->opts.lane);
	if (!t->lane_new) {
		if (hive_write_all_or_truncate(t->lanefd, t->lines.p, t->lines.len,
					       t->lane_tail.size) < 0 ||
		    fsync(t->lanefd) < 0) {
			saved = errno;
			if (ftruncate(t->lanefd, t->lane_tail.size) < 0) {
				/* the first failure is what we report */
			}
			return hive_err_sys(err, HIVE_EENV, saved,
					    "%s/%s: append failed, log left as it was",
					    t->lanes_dir, name);
		}
		return HIVE_OK;
	}
	if (t->lanesfd < 0) {
		if (mkdirat(t->s->dirfd, "lanes", 0755) < 0 && errno != EEXIST)
			return hive_err_sys(err, HIVE_EENV, errno, "%s", t->lanes_dir);
		t->lanesfd = openat(t->s->dirfd, "lanes",
				    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (t->lanesfd < 0 || fsync(t->s->dirfd) < 0)
			return hive_err_sys(err, HIVE_EENV, errno, "%s", t->lanes_dir);
	}
	snprintf(tmp, sizeof(tmp), ".%s.tmp", name);
	unlinkat(t->lanesfd, tmp, 0); /* a killed writer's (the lock is ours) */
	if ((fd = openat(t->lanesfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
			 0644)) < 0)
		return hive_err_sys(err, HIVE_EENV, errno, "%s/%s", t->lanes_dir, tmp);
	if (hive_write_all_or_truncate(fd, t->lines.p, t->lines.len, 0) < 0 || fsync(fd) < 0 ||
	    (t->lanefd >= 0 && unlinkat(t->lanesfd, name, 0) < 0) || /* an empty one */
	    linkat(t->lanesfd, tmp, t->lanesfd, name, 0) < 0) {
		saved = errno;
		close(fd);
		unlinkat(t->lanesfd, tmp, 0);
		return hive_err_sys(err, HIVE_EENV, saved, "%s/%s: not written", t->lanes_dir,
				    name);
	}
	close(fd);
	unlinkat(t->lanesfd, tmp, 0);
	if (fsync(t->lanesfd) < 0)
		return hive_err_sys(err, HIVE_EENV, errno, "%s", t->lanes_dir);
	return HIVE_OK;
}

/* Take a committed lane append back. */
static void lane_undo(struct hive_txn *t)
{
	char name[200];

	snprintf(name, sizeof(name), "%s.jsonl", t->opts.lane);
	if (t->lane_new) {
		if (t->lanesfd >= 0)
			unlinkat(t->lanesfd, name, 0);
	} else if (ftruncate(t->lanefd, t->lane_tail.size) < 0 || fsync(t->lanefd) < 0) {
		/* nothing more can be done */
	}
}

/* The view for an existing session, derived from the log: STATE.json when it agrees with
 * the log's tail and its first line, else rebuilt from the whole log. */
static int txn_view(struct hive_txn *t, struct hive_err *err)
{
	struct hive_session *s = t->s;
	struct hive_err e = {0};
	cJSON *first;
	const char *w, *sid;
	int rc;

	if (hive_read_file(s->dirfd, "STATE.json", 1, HIVE_STATE_MAX, &t->old_state, &t->old_len,
			   &e)) {
		if (e.sys != ENOENT) {
			*err = e;
			hive_err_prefix(err, "%s", s->dir);
			return err->status = HIVE_EENV;
		}
	} else {
		t->state = hive_json_parse(t->old_state, t->old_len);
		if (t->state && !cJSON_IsObject(t->state)) {
			cJSON_Delete(t->state);
			t->state = NULL;
		}
	}
	if (!(first = first_event(s, err)))
		return HIVE_EENV;
	w = hive_json_str(first, "worker");
	sid = hive_json_str(first, "session_id");
	t->worker = strdup(w ? w : "devops-worker");
	if (!t->worker) {
		cJSON_Delete(first);
		return hive_err_set(err, HIVE_EENV, "out of memory");
	}
	t->rebuilt = hive_state_disagrees(t->state, &t->tail);
	if (!t->rebuilt && (!(w = hive_json_str(t->state, "worker")) || strcmp(w, t->worker)))
		t->rebuilt = "its worker is not the one line 1 names";
	if (!t->rebuilt && (!sid || !(w = hive_json_str(t->state, "session_id")) || strcmp(w, sid)))
		t->rebuilt = "its session_id is not the one line 1 names";
	cJSON_Delete(first);
	if (t->rebuilt) {
		cJSON_Delete(t->state);
		t->state = NULL;
		if ((rc = hive_state_rebuild(s, &t->state, err)))
			return rc;
	}
	return HIVE_OK;
}

int hive_txn_begin(const char *root, const char *id, const struct hive_txn_opts *opts,
		   struct hive_txn **out, struct hive_err *err)
{
	struct hive_txn *t = calloc(1, sizeof(*t));
	struct stat st;
	int rc;

	*out = NULL;
	if (!t)
		return hive_err_set(err, HIVE_EENV, "out of memory");
	t->opts = *opts;
	t->lanesfd = t->lanefd = -1;
	if (opts->lane && (hive_id_check("lane", opts->lane, strlen(opts->lane), err) ||
			   !strcmp(opts->lane, "main"))) {
		if (!strcmp(opts->lane, "main"))
			hive_err_set(err, HIVE_EUSAGE,
				     "lane: main is EVENTS.jsonl itself: leave --lane out to write "
				     "it");
		free(t);
		return HIVE_EUSAGE;
	}
	t->root = strdup(root);
	t->id = strdup(id);
	hive_now_rfc3339(t->ts);
	if (!t->root || !t->id) {
		rc = hive_err_set(err, HIVE_EENV, "out of memory");
		goto fail;
	}
	rc = hive_session_open(root, id, &t->s, err);
	if (!rc) {
		if ((rc = hive_session_lock(t->s, hive_lock_timeout(), err)))
			goto fail;
		/* a session taken back (a new one rolled back) while we waited for its lock */
		if (fstat(t->s->dirfd, &st) == 0 && st.st_nlink == 0) {
			hive_session_close(t->s);
			t->s = NULL;
			rc = no_such_session(id, err);
		}
	}
	if (rc == HIVE_EUSAGE && err->sys == ENOENT && opts->create && !opts->lane) {
		hive_err_clear(err);
		t->is_new = 1;
		t->next_seq = 1;
		if (!(t->worker = strdup(opts->worker ? opts->worker : "devops-worker"))) {
			rc = hive_err_set(err, HIVE_EENV, "out of memory");
			goto fail;
		}
		*out = t;
		return HIVE_OK;
	}
	if (rc)
		goto fail;
	if ((rc = hive_log_tail(t->s, &t->tail, err)))
		goto fail;
	if (t->tail.size == 0) {
		rc = hive_err_set(err, HIVE_EENV,
				  "%s/EVENTS.jsonl: empty (no session_started): run hive-init",
				  t->s->dir);
		goto fail;
	}
	if ((rc = txn_view(t, err)))
		goto fail;
	/* closed or not is what the log's last line says, never what STATE.json says */
	if (!opts->closed_ok && strcmp(t->tail.status, "active")) {
		/* the way out, so that an agent does not go round in circles */
		const char *from = opts->id_from ? opts->id_from : "";
		rc = hive_err_set(
			err, HIVE_EUSAGE, "session %s is %s: no more events can be added (%s)", id,
			t->tail.status,
			!strcmp(from, "HIVE_SESSION_ID")
				? "HIVE_SESSION_ID still names it: unset it, then run hive-init "
				  "to start a new session"
			: !strcmp(from, "the CI's session id")
				? "this CI run's session was finished already: later steps cannot "
				  "add to it"
				: "start a new one with hive-init and another --session");
		goto fail;
	}
	t->next_seq = t->tail.last_seq + 1;
	memcpy(t->prev, t->tail.last_hash, sizeof(t->prev));
	if (opts->lane) {
		cJSON *details = NULL, *head;
		if ((rc = lane_open(t, err)))
			goto fail;
		t->next_seq = t->lane_new ? 1 : t->lane_tail.last_seq + 1;
		memcpy(t->prev, t->lane_tail.last_hash, sizeof(t->prev));
		if (t->lane_new) { /* line 1: where in the main log the lane starts */
			if (!(details = cJSON_CreateObject()) ||
			    !(head = cJSON_AddObjectToObject(details, "main")) ||
			    !cJSON_AddNumberToObject(head, "seq", (double)t->tail.last_seq) ||
			    !cJSON_AddStringToObject(head, "hash", t->tail.last_hash)) {
				cJSON_Delete(details);
				rc = hive_err_set(err, HIVE_EENV, "out of memory");
				goto fail;
			}
			rc = hive_txn_add(t, "lane_started", details, err);
			cJSON_Delete(details);
			if (rc)
				goto fail;
		}
	}
	*out = t;
	return HIVE_OK;
fail:
	hive_txn_free(t);
	return rc;
}

/* Each broken policy as a line of the message: the rule, what is wrong and what would
 * satisfy it. */
static void policy_line(void *arg, const char *rule, const char *message, const char *fix)
{
	struct hive_buf *b = arg;

	hive_buf_printf(b, "\n  %s: %s: %s", rule, message, fix);
}

/* The policies one event can break (SPEC 2: exit 1, nothing written), all in one message. */
static int policies_kept(struct hive_txn *t, const cJSON *ev, size_t no, const char *type,
			 struct hive_err *err)
{
	struct hive_buf b = {0};
	size_t n = hive_policy_event(t->opts.cfg, ev, policy_line, &b);
	int rc = HIVE_OK;

	if (n)
		rc = hive_err_set(err, HIVE_FAIL,
				  "event %zu (%s) breaks %zu polic%s of the configuration, so "
				  "nothing was written:%s",
				  no, type, n, n == 1 ? "y" : "ies",
				  b.oom ? " (out of memory)" : b.p);
	hive_buf_free(&b);
	return rc;
}

int hive_txn_add(struct hive_txn *t, const char *type, const cJSON *details, struct hive_err *err)
{
	cJSON *ev = NULL, *back = NULL, *git, *ci;
	char *text = NULL, hash[HIVE_HASH_SIZE];
	size_t len, nadded = (size_t)(t->next_seq -
				      (t->opts.lane ? (t->lane_new ? 1 : t->lane_tail.last_seq + 1)
				       : t->is_new  ? 1
						    : t->tail.last_seq + 1));
	int rc = HIVE_EENV;

	if (t->committed)
		return hive_err_set(err, HIVE_EUSAGE, "the transaction is already committed");
	git = t->opts.git ? cJSON_Duplicate(t->opts.git, 1) : cJSON_CreateNull();
	ci = t->opts.ci ? cJSON_Duplicate(t->opts.ci, 1) : cJSON_CreateNull();
	ev = hive_event_build(t->next_seq, t->ts, type, t->worker, t->id,
			      details ? cJSON_Duplicate(details, 1) : cJSON_CreateObject(), git, ci,
			      t->next_seq == 1 ? NULL : t->prev);
	if (ev && t->opts.lane && !cJSON_AddStringToObject(ev, "lane", t->opts.lane)) {
		cJSON_Delete(ev);
		ev = NULL;
	}
	if (!ev || !(text = cJSON_PrintUnformatted(ev))) {
		hive_err_set(err, HIVE_EENV, "out of memory");
		goto out;
	}
	len = strlen(text);
	if (len > HIVE_LINE_MAX) {
		rc = hive_err_set(err, HIVE_EUSAGE,
				  "event %zu (%s) would be %zu bytes, over the %d-byte line limit",
				  nadded + 1, type, len, HIVE_LINE_MAX);
		goto out;
	}
	/* the exact bytes, read back and judged by the gate's own reader and schema */
	if (!(back = hive_json_parse_why(text, len, err))) {
		rc = err->status;
		hive_err_prefix(err, "event %zu (%s): would not read back as strict JSON",
				nadded + 1, type);
		goto out;
	}
	if ((rc = hive_event_validate(back, t->opts.cfg, err))) {
		hive_err_prefix(err, "event %zu (%s)", nadded + 1, type);
		goto out;
	}
	if ((rc = policies_kept(t, back, nadded + 1, type, err)))
		goto out;
	rc = HIVE_EENV;
	hive_sha256(text, len, hash);
	/* the view is the main log's: a lane's lines are folded by the reports, not here */
	if (!t->opts.lane && hive_state_apply(&t->state, back, hash, err))
		goto out;
	hive_buf_add(&t->lines, text, len);
	hive_buf_add(&t->lines, "\n", 1);
	if (t->lines.oom) {
		hive_err_set(err, HIVE_EENV, "out of memory");
		goto out;
	}
	memcpy(t->prev, hash, sizeof(hash));
	t->next_seq++;
	rc = HIVE_OK;
out:
	cJSON_free(text);
	cJSON_Delete(ev);
	cJSON_Delete(back);
	return rc;
}

/* Each lane's line count as the main log's session_joined events last recorded it, into the
 * object *out (lane name: lines). HIVE_EENV when the log cannot be read. */
static int joined_so_far(struct hive_session *s, cJSON **out, struct hive_err *err)
{
	struct hive_lines *r = NULL;
	enum hive_line_kind kind;
	const char *line;
	size_t len;
	cJSON *ev, *lanes, *item, *map = cJSON_CreateObject();
	int got, rc;

	*out = NULL;
	if (!map)
		return hive_err_set(err, HIVE_EENV, "out of memory");
	if ((rc = hive_log_lines(s, &r, err))) {
		cJSON_Delete(map);
		return rc;
	}
	while ((got = hive_lines_next(r, &line, &len, &kind, err)) > 0) {
		if (kind != HIVE_LINE_OK || !memmem(line, len, "\"session_joined\"", 16))
			continue;
		ev = hive_json_parse(line, len);
		lanes = cJSON_GetObjectItemCaseSensitive(
			cJSON_GetObjectItemCaseSensitive(ev, "details"), "lanes");
		if (hive_json_str(ev, "event_type") &&
		    !strcmp(hive_json_str(ev, "event_type"), "session_joined"))
			cJSON_ArrayForEach(item, lanes)
			{
				const cJSON *n = cJSON_GetObjectItemCaseSensitive(item, "lines");
				cJSON_DeleteItemFromObjectCaseSensitive(map, item->string);
				cJSON_AddNumberToObject(map, item->string,
							cJSON_IsNumber(n) ? n->valuedouble : 0);
			}
		cJSON_Delete(ev);
	}
	hive_lines_free(r);
	if (got < 0) {
		cJSON_Delete(map);
		return HIVE_EENV;
	}
	*out = map;
	return HIVE_OK;
}

/* The line count and last line hash of the lane log lanes/<name> (whole lines only). */
static int lane_head(int lanesfd, const char *dir, const char *name, size_t *lines,
		     char hash[HIVE_HASH_SIZE], struct hive_err *err)
{
	struct hive_lines *r = NULL;
	enum hive_line_kind kind;
	const char *line;
	size_t len;
	int fd, got, rc;

	*lines = 0;
	hash[0] = '\0';
	if ((fd = openat(lanesfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return hive_err_sys(err, HIVE_EENV, errno, "%s/%s", dir, name);
	if ((rc = hive_lines_from_fd(fd, &r, err))) {
		close(fd);
		return rc;
	}
	while ((got = hive_lines_next(r, &line, &len, &kind, err)) > 0) {
		if (kind != HIVE_LINE_OK) {
			got = -1;
			hive_err_set(err, HIVE_EENV,
				     "%s/%s:%zu: not a whole line: the lane cannot be joined", dir,
				     name, hive_lines_number(r));
			break;
		}
		(*lines)++;
		hive_sha256(line, len, hash);
	}
	hive_lines_free(r);
	close(fd);
	return got < 0 ? HIVE_EENV : HIVE_OK;
}

int hive_txn_join(struct hive_txn *t, size_t *joined, struct hive_err *err)
{
	struct hive_strv names = {0};
	struct dirent *de;
	cJSON *so_far = NULL, *details = NULL, *lanes = NULL, *one;
	const cJSON *n;
	char dir[4300], hash[HIVE_HASH_SIZE];
	size_t i, lines, len;
	int fd, rc = HIVE_OK;
	DIR *d;

	*joined = 0;
	if (t->opts.lane || t->is_new || !t->s)
		return hive_err_set(err, HIVE_EUSAGE, "a join is written to EVENTS.jsonl itself");
	snprintf(dir, sizeof(dir), "%.4000s/lanes", t->s->dir);
	if ((fd = openat(t->s->dirfd, "lanes", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) <
	    0)
		return errno == ENOENT ? HIVE_OK : hive_err_sys(err, HIVE_EENV, errno, "%s", dir);
	if (!(d = fdopendir(dup(fd)))) {
		close(fd);
		return hive_err_sys(err, HIVE_EENV, errno, "%s", dir);
	}
	while ((de = readdir(d)))
		if ((len = strlen(de->d_name)) > 6 && de->d_name[0] != '.' &&
		    !strcmp(de->d_name + len - 6, ".jsonl") &&
		    hive_strv_push(&names, de->d_name) < 0)
			rc = hive_err_set(err, HIVE_EENV, "out of memory");
	closedir(d);
	hive_strv_sort(&names);
	if (!rc && names.n && !(rc = joined_so_far(t->s, &so_far, err)) &&
	    (!(details = cJSON_CreateObject()) ||
	     !(lanes = cJSON_AddObjectToObject(details, "lanes"))))
		rc = hive_err_set(err, HIVE_EENV, "out of memory");
	for (i = 0; !rc && i < names.n; i++) {
		char lane[200];
		snprintf(lane, sizeof(lane), "%.*s", (int)(strlen(names.v[i]) - 6), names.v[i]);
		if (hive_id_check("lane", lane, strlen(lane), NULL) || !strcmp(lane, "main"))
			continue; /* not a lane's log: the gate reports it */
		if ((rc = lane_head(fd, dir, names.v[i], &lines, hash, err)))
			break;
		n = cJSON_GetObjectItemCaseSensitive(so_far, lane);
		if (!lines || (cJSON_IsNumber(n) && (double)lines <= n->valuedouble))
			continue;
		if (!(one = cJSON_AddObjectToObject(lanes, lane)) ||
		    !cJSON_AddNumberToObject(one, "lines", (double)lines) ||
		    !cJSON_AddStringToObject(one, "hash", hash)) {
			rc = hive_err_set(err, HIVE_EENV, "out of memory");
			break;
		}
		(*joined)++;
	}
	if (!rc && *joined)
		rc = hive_txn_add(t, "session_joined", details, err);
	if (rc)
		*joined = 0;
	close(fd);
	cJSON_Delete(details);
	cJSON_Delete(so_far);
	hive_strv_clear(&names);
	return rc;
}

/* Put the log and STATE.json back as they were at begin (under the lock). */
static void undo_existing(struct hive_txn *t)
{
	struct hive_err ignored = {0};

	if (hive_log_truncate(t->s, t->tail.size) < 0) {
		/* nothing more can be done: the caller reports the first failure */
	}
	if (t->old_state)
		hive_write_atomic_locked(t->s->dirfd, "STATE.json", t->old_state, t->old_len,
					 "STATE.json", &ignored);
	else
		unlinkat(t->s->dirfd, "STATE.json", 0);
}

int hive_txn_commit(struct hive_txn *t, struct hive_err *err)
{
	int rc;

	if (t->committed)
		return HIVE_OK;
	if (t->lines.len == 0)
		return HIVE_OK;
	if (t->opts.lane) {
		if ((rc = lane_commit(t, err)))
			return rc;
		t->committed = 1;
		return HIVE_OK;
	}
	if (t->is_new) {
		if ((rc = session_create(t->root, t->id, t->lines.p, t->lines.len, t->state, 1,
					 &t->created, t->made, &t->s, err)))
			return rc;
		t->committed = 1;
		if (!t->created) {
			/* another process made the session first: nothing of ours was written */
			cJSON_Delete(t->state);
			t->state = NULL;
			t->lines.len = 0;
		}
		return HIVE_OK;
	}
	if ((rc = hive_log_append(t->s, &t->tail, t->lines.p, t->lines.len, err)))
		return rc;
	if ((rc = hive_state_write(t->s, t->state, err))) {
		/* keep the log and its view in step: take the append back */
		undo_existing(t);
		hive_err_prefix(err, "events not added");
		return rc;
	}
	t->committed = 1;
	return HIVE_OK;
}

void hive_txn_rollback(struct hive_txn *t)
{
	char *slash, *parent;
	int pfd;

	if (!t || !t->committed || !t->s)
		return;
	if (t->opts.lane) {
		lane_undo(t);
	} else if (!t->is_new) {
		undo_existing(t);
	} else if (t->created) {
		/* nobody else can have written: we hold the lock since before it was published */
		if ((parent = strdup(t->s->dir)) && (slash = strrchr(parent, '/'))) {
			*slash = '\0';
			if ((pfd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
				remove_folder(pfd, t->s->dirfd, t->id);
				fsync(pfd);
				close(pfd);
			}
			/* and the folders the creation made for it, as if it never ran */
			if (t->made[1])
				rmdir(parent);
			hive_rmdir_parents(t->root, t->made[0]);
		}
		free(parent);
		t->created = 0;
	}
	t->committed = 0;
}

void hive_txn_free(struct hive_txn *t)
{
	if (!t)
		return;
	if (t->lanefd >= 0)
		close(t->lanefd);
	if (t->lanesfd >= 0)
		close(t->lanesfd);
	hive_session_close(t->s);
	cJSON_Delete(t->state);
	hive_buf_free(&t->lines);
	free(t->old_state);
	free(t->worker);
	free(t->root);
	free(t->id);
	free(t);
}

int hive_txn_is_new(const struct hive_txn *t)
{
	return t->is_new;
}

int hive_txn_created(const struct hive_txn *t)
{
	return t->created;
}

const char *hive_txn_rebuilt(const struct hive_txn *t)
{
	return t->rebuilt;
}

const char *hive_txn_lines(const struct hive_txn *t, size_t *len)
{
	*len = t->lines.len;
	return t->lines.p ? t->lines.p : "";
}

const struct cJSON *hive_txn_state(const struct hive_txn *t)
{
	return t->state;
}

struct hive_session *hive_txn_session(const struct hive_txn *t)
{
	return t->s;
}
