/* log.c - session folder, lock, last-line lookup, append with truncate-on-failure, STATE.json, line reader */
#include "log.h"

#include "event.h"
#include "state.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define STATE_MAX (64 * 1024 * 1024)

int hive_id_check(const char *what, const char *id, size_t len, struct hive_err *err)
{
	char q[300];
	size_t i;

	if (!id || len == 0)
		return hive_err_set(err, HIVE_EUSAGE, "%s is empty", what);
	if (len > HIVE_ID_MAX)
		return hive_err_set(err, HIVE_EUSAGE, "%s is %zu characters long (at most %d)", what,
				    len, HIVE_ID_MAX);
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)id[i];
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '.' || c == '_' || c == '-')
			continue;
		if (c == '\0')
			return hive_err_set(err, HIVE_EUSAGE, "%s contains a NUL byte", what);
		return hive_err_set(err, HIVE_EUSAGE,
				    "%s %s: only letters, digits, '.', '_' and '-' are allowed", what,
				    hive_quote(q, sizeof(q), id));
	}
	if (id[0] == '.' || id[0] == '-')
		return hive_err_set(err, HIVE_EUSAGE, "%s %s must not start with '%c'", what,
				    hive_quote(q, sizeof(q), id), id[0]);
	return HIVE_OK;
}

int hive_id_generate(char out[32], struct hive_err *err)
{
	unsigned char rnd[4];
	char t[32];

	if (hive_random(rnd, sizeof(rnd)) < 0)
		return hive_err_sys(err, HIVE_EENV, errno, "getrandom");
	/* the clock every timestamp comes from (time(NULL) is the coarse clock, a tick behind) */
	hive_now_rfc3339(t); /* 2025-01-15T10:30:00.123Z */
	snprintf(out, 32, "%.4s%.2s%.2sT%.2s%.2s%.2sZ-%02x%02x%02x%02x", t, t + 5, t + 8, t + 11,
		 t + 14, t + 17, rnd[0], rnd[1], rnd[2], rnd[3]);
	return HIVE_OK;
}

/* Open name inside dirfd as a directory, refusing a symbolic link. */
static int open_dir_nofollow(int dirfd, const char *name, const char *shown, struct hive_err *err)
{
	struct stat st;
	int fd;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return -1; /* errno tells the caller */
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

/* Open the files of an opened session folder: EVENTS.jsonl for append, or for reading. */
static int session_open_files(struct hive_session *s, int readonly, struct hive_err *err)
{
	s->eventsfd = openat(s->dirfd, "EVENTS.jsonl",
			     (readonly ? O_RDONLY : O_RDWR | O_APPEND) | O_NOFOLLOW | O_CLOEXEC);
	if (s->eventsfd < 0) {
		if (errno == ELOOP)
			return hive_err_set(err, HIVE_EENV,
					    "%s/EVENTS.jsonl: is a symbolic link (refused)", s->dir);
		return hive_err_sys(err, HIVE_EENV, errno, "%s/EVENTS.jsonl", s->dir);
	}
	return HIVE_OK;
}

static int session_open(const char *root, const char *id, int readonly,
			struct hive_session **out, struct hive_err *err)
{
	struct hive_session *s = NULL;
	int rootfd = -1, sessfd = -1, rc = HIVE_EENV;
	char shown[4200];

	*out = NULL;
	if ((rc = hive_id_check("session id", id, strlen(id), err)))
		return rc;
	rc = HIVE_EENV;
	if (!(s = session_new(root, id)))
		return hive_err_set(err, HIVE_EENV, "out of memory");
	rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0) {
		if (errno == ENOENT)
			rc = hive_err_set(err, HIVE_EUSAGE,
					  "session %s does not exist (no %s): run hive-init first", id,
					  root);
		else
			hive_err_sys(err, HIVE_EENV, errno, "%s", root);
		goto out;
	}
	snprintf(shown, sizeof(shown), "%s/sessions", root);
	if ((sessfd = open_dir_nofollow(rootfd, "sessions", shown, err)) < 0) {
		if (errno == ENOENT)
			rc = hive_err_set(err, HIVE_EUSAGE,
					  "session %s does not exist: run hive-init first", id);
		goto out;
	}
	if ((s->dirfd = open_dir_nofollow(sessfd, id, s->dir, err)) < 0) {
		if (errno == ENOENT)
			rc = hive_err_set(err, HIVE_EUSAGE,
					  "session %s does not exist: run hive-init first", id);
		goto out;
	}
	if ((rc = session_open_files(s, readonly, err)))
		goto out;
	*out = s;
	s = NULL;
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

/* mkdir -p for the root; records in *made how many trailing components it created so a
 * failure can remove them again. */
static int mkdir_parents(const char *path, int *made, struct hive_err *err)
{
	char buf[4096], *p;
	size_t n = strlen(path);

	*made = 0;
	if (n == 0 || n >= sizeof(buf))
		return hive_err_set(err, HIVE_EUSAGE, "root path is empty or too long");
	memcpy(buf, path, n + 1);
	while (n > 1 && buf[n - 1] == '/')
		buf[--n] = '\0';
	for (p = buf + 1;; p++) {
		if (*p == '/' || *p == '\0') {
			char c = *p;
			*p = '\0';
			if (mkdir(buf, 0755) == 0)
				(*made)++;
			else if (errno != EEXIST)
				return hive_err_sys(err, HIVE_EENV, errno, "%s", buf);
			else
				*made = 0; /* only a trailing run of new folders is ours */
			*p = c;
			if (!c)
				break;
		}
	}
	return HIVE_OK;
}

static void rmdir_parents(const char *path, int made)
{
	char buf[4096], *slash;

	snprintf(buf, sizeof(buf), "%s", path);
	while (made-- > 0) {
		if (rmdir(buf) < 0)
			return;
		if (!(slash = strrchr(buf, '/')) || slash == buf)
			return;
		*slash = '\0';
	}
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

int hive_session_create(const char *root, const char *id, const char *first_line, size_t len,
			const cJSON *state, int (*before_publish)(void *arg, struct hive_err *err),
			void *arg, int *created, struct hive_session **out, struct hive_err *err)
{
	static const char *files[] = {"STATE.json", "EVENTS.jsonl", ".lock"};
	unsigned char rnd[4];
	char tmp[HIVE_ID_MAX + 64], shown[4200], *state_text = NULL;
	struct hive_buf state_buf = {0};
	int rootfd = -1, sessfd = -1, tmpfd = -1, made_root = 0, made_sessions = 0, rc;
	struct stat st;
	size_t i;

	*out = NULL;
	*created = 0;
	if ((rc = hive_id_check("session id", id, strlen(id), err)))
		return rc;
	rc = HIVE_EENV;
	if (mkdir_parents(root, &made_root, err))
		return HIVE_EENV;
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
	if (!(state_text = cJSON_PrintUnformatted(state))) {
		hive_err_set(err, HIVE_EENV, "out of memory");
		goto undo;
	}
	state_buf.len = 0;
	hive_buf_puts(&state_buf, state_text);
	hive_buf_puts(&state_buf, "\n"); /* as hive_state_write writes it */
	if (state_buf.oom) {
		hive_err_set(err, HIVE_EENV, "out of memory");
		goto undo;
	}
	/* the files are named as they will be, <root>/sessions/<id>/NAME, in messages: the
	 * temporary folder is never seen (it said ".../sessions/EVENTS.jsonl" before) */
	snprintf(shown, sizeof(shown), "%s/sessions/%s", root, id);
	if (write_new_file(tmpfd, ".lock", NULL, 0, shown, err) ||
	    write_new_file(tmpfd, "EVENTS.jsonl", first_line, len, shown, err) ||
	    write_new_file(tmpfd, "STATE.json", state_buf.p, state_buf.len, shown, err))
		goto undo;
	if (fsync(tmpfd) < 0) {
		hive_err_sys(err, HIVE_EENV, errno, "%s", shown);
		goto undo;
	}
	if (before_publish && (rc = before_publish(arg, err)))
		goto undo;
	if (renameat2(sessfd, tmp, sessfd, id, RENAME_NOREPLACE) < 0) {
		if (errno == EEXIST || errno == ENOTEMPTY) {
			/* another hive-init won the race: use its session */
			for (i = 0; i < 3; i++)
				unlinkat(tmpfd, files[i], 0);
			unlinkat(sessfd, tmp, AT_REMOVEDIR);
			made_root = made_sessions = 0;
			rc = hive_session_open(root, id, out, err);
			goto out;
		}
		hive_err_sys(err, HIVE_EENV, errno, "%s", shown);
		rc = HIVE_EENV;
		goto undo;
	}
	fsync(sessfd);
	made_root = made_sessions = 0;
	*created = 1;
	rc = hive_session_open(root, id, out, err);
	goto out;
undo:
	if (rc == HIVE_OK)
		rc = HIVE_EENV;
	if (tmpfd >= 0)
		for (i = 0; i < 3; i++)
			unlinkat(tmpfd, files[i], 0);
	unlinkat(sessfd, tmp, AT_REMOVEDIR);
out:
	free(state_text);
	hive_buf_free(&state_buf);
	if (tmpfd >= 0)
		close(tmpfd);
	if (sessfd >= 0)
		close(sessfd);
	if (made_sessions && rootfd >= 0)
		unlinkat(rootfd, "sessions", AT_REMOVEDIR);
	if (rootfd >= 0)
		close(rootfd);
	if (made_root)
		rmdir_parents(root, made_root);
	return rc;
}

void hive_session_close(struct hive_session *s)
{
	if (!s)
		return;
	hive_session_unlock(s);
	if (s->eventsfd >= 0)
		close(s->eventsfd);
	if (s->dirfd >= 0)
		close(s->dirfd);
	free(s->id);
	free(s->dir);
	free(s);
}

double hive_lock_timeout(void)
{
	const char *v = getenv("HIVE_LOCK_TIMEOUT");
	char *end;
	double t;

	if (v && *v) {
		t = strtod(v, &end);
		if (!*end && t >= 0 && t < 86400)
			return t;
	}
	return 10.0;
}

static int session_lock(struct hive_session *s, int mode, double timeout_s,
			struct hive_err *err);

static void on_alarm(int sig)
{
	(void)sig;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int hive_session_lock(struct hive_session *s, double timeout_s, struct hive_err *err)
{
	return session_lock(s, LOCK_EX, timeout_s, err);
}

int hive_session_lock_shared(struct hive_session *s, double timeout_s, struct hive_err *err)
{
	return session_lock(s, LOCK_SH, timeout_s, err);
}

static int session_lock(struct hive_session *s, int mode, double timeout_s, struct hive_err *err)
{
	struct sigaction sa, old;
	struct itimerval it, off = {{0, 0}, {0, 0}};
	double deadline;
	int fd, r, saved;

	if (s->lockfd >= 0)
		return HIVE_OK;
	/* a reader needs no write access: a shared lock works on a read-only descriptor */
	fd = mode == LOCK_SH ? openat(s->dirfd, ".lock", O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
			     : openat(s->dirfd, ".lock", O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0) {
		if (errno == ELOOP)
			return hive_err_set(err, HIVE_EENV, "%s/.lock: is a symbolic link (refused)",
					    s->dir);
		return hive_err_sys(err, HIVE_EENV, errno, "%s/.lock", s->dir);
	}
	if (flock(fd, mode | LOCK_NB) == 0)
		goto locked;
	if (errno != EWOULDBLOCK) {
		saved = errno;
		close(fd);
		return hive_err_sys(err, HIVE_EENV, saved, "%s/.lock", s->dir);
	}
	/* Wait in a blocking flock (woken at once when the holder lets go), interrupted by
	 * a repeating timer so the deadline is checked even if a tick lands early. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm; /* no SA_RESTART: flock returns EINTR */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, &old);
	memset(&it, 0, sizeof(it));
	it.it_value.tv_usec = 50000;
	it.it_interval.tv_usec = 50000;
	setitimer(ITIMER_REAL, &it, NULL);
	deadline = now_s() + timeout_s;
	for (;;) {
		r = flock(fd, mode);
		saved = errno;
		if (r == 0 || saved != EINTR || now_s() >= deadline)
			break;
	}
	setitimer(ITIMER_REAL, &off, NULL);
	sigaction(SIGALRM, &old, NULL);
	if (r < 0) {
		close(fd);
		if (saved == EINTR)
			return hive_err_set(err, HIVE_EENV,
					    "%s/.lock: still held by another process after %gs "
					    "(HIVE_LOCK_TIMEOUT)",
					    s->dir, timeout_s);
		return hive_err_sys(err, HIVE_EENV, saved, "%s/.lock", s->dir);
	}
locked:
	s->lockfd = fd;
	return HIVE_OK;
}

void hive_session_unlock(struct hive_session *s)
{
	if (s && s->lockfd >= 0) {
		close(s->lockfd); /* closing the only descriptor releases the flock */
		s->lockfd = -1;
	}
}

int hive_log_tail(struct hive_session *s, struct hive_tail *t, struct hive_err *err)
{
	char *buf = NULL, last;
	struct stat st;
	off_t start, end;
	size_t cap = 0, n;
	cJSON *obj = NULL, *seq;
	int rc = HIVE_EENV;
	char *nl;

	memset(t, 0, sizeof(*t));
	if (fstat(s->eventsfd, &st) < 0)
		return hive_err_sys(err, HIVE_EENV, errno, "%s/EVENTS.jsonl", s->dir);
	t->size = st.st_size;
	if (st.st_size == 0)
		return HIVE_OK;
	if (pread(s->eventsfd, &last, 1, st.st_size - 1) != 1)
		return hive_err_sys(err, HIVE_EENV, errno, "%s/EVENTS.jsonl", s->dir);
	if (last != '\n')
		return hive_err_set(err, HIVE_EENV,
				    "%s/EVENTS.jsonl: the last line is cut off (no newline): run "
				    "hive-check --repair",
				    s->dir);
	/* Read backwards in growing windows until the previous newline is in view. */
	end = st.st_size - 1; /* the last line's newline */
	for (cap = 4096;; cap *= 4) {
		if (cap > HIVE_LINE_MAX + 2)
			cap = HIVE_LINE_MAX + 2;
		start = end > (off_t)cap ? end - (off_t)cap : 0;
		free(buf);
		if (!(buf = malloc((size_t)(end - start) + 1)))
			return hive_err_set(err, HIVE_EENV, "out of memory");
		n = (size_t)(end - start);
		if (pread(s->eventsfd, buf, n, start) != (ssize_t)n) {
			hive_err_sys(err, HIVE_EENV, errno, "%s/EVENTS.jsonl", s->dir);
			goto out;
		}
		buf[n] = '\0';
		nl = memrchr(buf, '\n', n);
		if (nl || start == 0)
			break;
		if (cap >= HIVE_LINE_MAX + 2) {
			hive_err_set(err, HIVE_EENV, "%s/EVENTS.jsonl: the last line is over %d bytes",
				     s->dir, HIVE_LINE_MAX);
			goto out;
		}
	}
	nl = nl ? nl + 1 : buf;
	n = (size_t)(buf + n - nl);
	hive_sha256(nl, n, t->last_hash);
	obj = hive_json_parse(nl, n);
	seq = cJSON_GetObjectItemCaseSensitive(obj, "seq");
	/* a whole number in range (checked before the cast, which would be undefined) */
	if (!cJSON_IsNumber(seq) || seq->valuedouble < 1 || seq->valuedouble > 9007199254740992.0 ||
	    seq->valuedouble != (double)(int64_t)seq->valuedouble) {
		hive_err_set(err, HIVE_EENV,
			     "%s/EVENTS.jsonl: the last line is not an event with a seq: run "
			     "hive-check",
			     s->dir);
		goto out;
	}
	t->last_seq = (int64_t)seq->valuedouble;
	rc = HIVE_OK;
out:
	cJSON_Delete(obj);
	free(buf);
	return rc;
}

int hive_log_append(struct hive_session *s, const struct hive_tail *t, const char *buf,
		    size_t len, struct hive_err *err)
{
	int saved;

	if (hive_write_all_or_truncate(s->eventsfd, buf, len, t->size) < 0)
		return hive_err_sys(err, HIVE_EENV, errno, "%s/EVENTS.jsonl: append failed, log left as it was", s->dir);
	if (fsync(s->eventsfd) < 0) {
		saved = errno;
		if (ftruncate(s->eventsfd, t->size) < 0) {
			/* the original failure is what we report */
		}
		return hive_err_sys(err, HIVE_EENV, saved, "%s/EVENTS.jsonl: fsync failed, append undone", s->dir);
	}
	return HIVE_OK;
}

int hive_state_read(struct hive_session *s, cJSON **out, struct hive_err *err)
{
	char *buf = NULL;
	size_t len = 0;
	int rc;

	*out = NULL;
	rc = hive_read_file(s->dirfd, "STATE.json", 1, STATE_MAX, &buf, &len, err);
	if (rc == HIVE_EUSAGE && strstr(err->msg, "No such file")) {
		err->status = HIVE_OK;
		err->msg[0] = '\0';
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

int hive_state_write(struct hive_session *s, const cJSON *state, struct hive_err *err)
{
	char shown[4300], *text = cJSON_PrintUnformatted(state);
	struct hive_buf b = {0};
	int rc;

	if (!text)
		return hive_err_set(err, HIVE_EENV, "out of memory");
	hive_buf_puts(&b, text);
	hive_buf_puts(&b, "\n");
	cJSON_free(text);
	if (b.oom) {
		hive_buf_free(&b);
		return hive_err_set(err, HIVE_EENV, "out of memory");
	}
	snprintf(shown, sizeof(shown), "%.4200s/STATE.json", s->dir);
	rc = hive_write_atomic_locked(s->dirfd, "STATE.json", b.p, b.len, shown, err);
	hive_buf_free(&b);
	return rc;
}

/* --- line reader ------------------------------------------------------------------ */

struct hive_lines {
	int fd;          /* -1 for a memory reader */
	const char *mem; /* memory reader: the whole input */
	size_t memlen, mempos;
	char *buf;       /* fd reader: buffered bytes */
	size_t cap, start, end;
	int eof;
	size_t lineno;
};

#define CHUNK (256 * 1024)

int hive_lines_from_fd(int fd, struct hive_lines **out, struct hive_err *err)
{
	struct hive_lines *r = calloc(1, sizeof(*r));

	*out = NULL;
	if (!r || !(r->buf = malloc(CHUNK))) {
		free(r);
		return hive_err_set(err, HIVE_EENV, "out of memory");
	}
	r->fd = fd;
	r->cap = CHUNK;
	*out = r;
	return HIVE_OK;
}

int hive_lines_from_mem(const char *buf, size_t len, struct hive_lines **out,
			struct hive_err *err)
{
	struct hive_lines *r = calloc(1, sizeof(*r));

	*out = NULL;
	if (!r)
		return hive_err_set(err, HIVE_EENV, "out of memory");
	r->fd = -1;
	r->mem = buf;
	r->memlen = len;
	*out = r;
	return HIVE_OK;
}

static int lines_next_mem(struct hive_lines *r, const char **line, size_t *len,
			  enum hive_line_kind *kind)
{
	const char *p, *nl;
	size_t left;

	if (r->mempos >= r->memlen)
		return 0;
	p = r->mem + r->mempos;
	left = r->memlen - r->mempos;
	nl = memchr(p, '\n', left);
	*line = p;
	*len = nl ? (size_t)(nl - p) : left;
	*kind = nl ? HIVE_LINE_OK : HIVE_LINE_NO_NEWLINE;
	r->mempos += *len + (nl ? 1 : 0);
	if (*len > HIVE_LINE_MAX) {
		*len = HIVE_LINE_MAX;
		*kind = HIVE_LINE_TOO_LONG;
	}
	r->lineno++;
	return 1;
}

/* Fill the buffer with more input; returns bytes read, 0 at EOF, -1 on error. */
static ssize_t lines_fill(struct hive_lines *r)
{
	ssize_t n;

	if (r->start > 0 && r->start == r->end)
		r->start = r->end = 0;
	if (r->end == r->cap && r->start > 0) {
		memmove(r->buf, r->buf + r->start, r->end - r->start);
		r->end -= r->start;
		r->start = 0;
	}
	if (r->end == r->cap) {
		size_t cap = r->cap * 2;
		char *b;
		if (cap > HIVE_LINE_MAX + CHUNK)
			cap = HIVE_LINE_MAX + CHUNK;
		if (cap == r->cap)
			return -2; /* full: the caller handles an over-long line */
		if (!(b = realloc(r->buf, cap)))
			return -1;
		r->buf = b;
		r->cap = cap;
	}
	do
		n = read(r->fd, r->buf + r->end, r->cap - r->end);
	while (n < 0 && errno == EINTR);
	if (n > 0)
		r->end += (size_t)n;
	return n;
}

int hive_lines_next(struct hive_lines *r, const char **line, size_t *len,
		    enum hive_line_kind *kind, struct hive_err *err)
{
	char *nl;
	size_t scanned = 0;
	ssize_t n;

	if (r->fd < 0)
		return lines_next_mem(r, line, len, kind);
	for (;;) {
		nl = memchr(r->buf + r->start + scanned, '\n', r->end - r->start - scanned);
		if (nl) {
			*line = r->buf + r->start;
			*len = (size_t)(nl - *line);
			*kind = HIVE_LINE_OK;
			r->start = (size_t)(nl - r->buf) + 1;
			if (*len > HIVE_LINE_MAX) {
				*len = HIVE_LINE_MAX;
				*kind = HIVE_LINE_TOO_LONG;
			}
			r->lineno++;
			return 1;
		}
		scanned = r->end - r->start;
		if (r->eof) {
			if (r->start == r->end)
				return 0;
			*line = r->buf + r->start;
			*len = r->end - r->start;
			*kind = *len > HIVE_LINE_MAX ? HIVE_LINE_TOO_LONG : HIVE_LINE_NO_NEWLINE;
			if (*len > HIVE_LINE_MAX)
				*len = HIVE_LINE_MAX;
			r->start = r->end;
			r->lineno++;
			return 1;
		}
		n = lines_fill(r);
		if (n == -2) {
			/* A line longer than the buffer (start is 0, the buffer is full): keep
			 * its first HIVE_LINE_MAX bytes at the front, where *line points, and
			 * read the rest of it into the space after them until its newline. */
			*line = r->buf;
			*len = HIVE_LINE_MAX;
			*kind = HIVE_LINE_TOO_LONG;
			r->lineno++;
			for (;;) {
				r->start = r->end = HIVE_LINE_MAX;
				do
					n = read(r->fd, r->buf + HIVE_LINE_MAX, r->cap - HIVE_LINE_MAX);
				while (n < 0 && errno == EINTR);
				if (n <= 0) {
					r->eof = 1;
					break;
				}
				r->end = HIVE_LINE_MAX + (size_t)n;
				if ((nl = memchr(r->buf + HIVE_LINE_MAX, '\n', (size_t)n))) {
					r->start = (size_t)(nl - r->buf) + 1;
					break;
				}
			}
			return 1;
		}
		if (n < 0)
			return hive_err_sys(err, HIVE_EENV, errno, "read"), -1;
		if (n == 0)
			r->eof = 1;
	}
}

size_t hive_lines_number(const struct hive_lines *r)
{
	return r->lineno;
}

void hive_lines_free(struct hive_lines *r)
{
	if (!r)
		return;
	free(r->buf);
	free(r);
}

/* --- the append critical section ----------------------------------------------- */

struct outbuf {
	char *p;
	size_t len, cap;
};

static int outbuf_add(struct outbuf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		char *np;
		while (cap < b->len + n + 1)
			cap *= 2;
		if (!(np = realloc(b->p, cap)))
			return -1;
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}

/* Put the log and STATE.json back as they were before an append (under the lock):
 * truncate, fsync, and rewrite the old STATE.json bytes (or remove a new one). */
static void undo_append(struct hive_session *s, const struct hive_tail *t, const char *old_state,
			size_t old_len)
{
	struct hive_err ignored = {0};

	if (ftruncate(s->eventsfd, t->size) == 0)
		fsync(s->eventsfd);
	if (old_state)
		hive_write_atomic_locked(s->dirfd, "STATE.json", old_state, old_len, "STATE.json",
					 &ignored);
	else
		unlinkat(s->dirfd, "STATE.json", 0);
}

int hive_log_append_events(struct hive_session *s, const struct hive_pending *events, size_t n,
			   const cJSON *git, const cJSON *ci, int closed_ok,
			   int (*deliver)(void *arg, const char *lines, size_t len), void *arg,
			   cJSON **state_out, struct hive_err *err)
{
	struct hive_tail tail;
	struct outbuf out = {0};
	struct hive_err e = {0};
	cJSON *state = NULL, *ev = NULL;
	const cJSON *w;
	char prev[HIVE_HASH_SIZE], ts[32], *text = NULL, *old_state = NULL;
	const char *worker;
	size_t i, len, old_len = 0;
	int rc, saved;

	if (state_out)
		*state_out = NULL;
	if ((rc = hive_session_lock(s, hive_lock_timeout(), err)))
		return rc;
	if ((rc = hive_log_tail(s, &tail, err)))
		goto out;
	/* the view's bytes as they are, to put back if the append is undone */
	if (hive_read_file(s->dirfd, "STATE.json", 1, STATE_MAX, &old_state, &old_len, &e) &&
	    !strstr(e.msg, "No such file")) {
		rc = hive_err_set(err, HIVE_EENV, "%s/%s", s->dir, e.msg);
		goto out;
	}
	state = old_state ? hive_json_parse(old_state, old_len) : NULL;
	if (state && !cJSON_IsObject(state)) {
		cJSON_Delete(state);
		state = NULL;
	}
	if (tail.size == 0) {
		rc = hive_err_set(err, HIVE_EENV,
				  "%s/EVENTS.jsonl: empty (no session_started): run hive-init", s->dir);
		goto out;
	}
	if (!state || !hive_state_matches_tail(state, tail.last_seq, tail.last_hash)) {
		/* a process died between its append and its STATE.json: rebuild the view */
		cJSON_Delete(state);
		if ((rc = hive_state_rebuild(s, &state, err)))
			goto out;
	}
	if (!closed_ok && hive_state_is_closed(state)) {
		rc = hive_err_set(err, HIVE_EUSAGE,
				  "session %s is %s: no more events can be added (start a new one "
				  "with hive-init)",
				  s->id, cJSON_GetObjectItemCaseSensitive(state, "status")->valuestring);
		goto out;
	}
	w = cJSON_GetObjectItemCaseSensitive(state, "worker");
	worker = cJSON_IsString(w) ? w->valuestring : "devops-worker";
	memcpy(prev, tail.last_hash, sizeof(prev));
	hive_now_rfc3339(ts);
	for (i = 0; i < n; i++) {
		ev = hive_event_build(tail.last_seq + 1 + (int64_t)i, ts, events[i].type, worker, s->id,
				      cJSON_Duplicate(events[i].details, 1),
				      git ? cJSON_Duplicate(git, 1) : cJSON_CreateNull(),
				      ci ? cJSON_Duplicate(ci, 1) : cJSON_CreateNull(), prev);
		if (!ev || !(text = cJSON_PrintUnformatted(ev))) {
			rc = hive_err_set(err, HIVE_EENV, "out of memory");
			goto out;
		}
		len = strlen(text);
		if (len > HIVE_LINE_MAX) {
			rc = hive_err_set(err, HIVE_EUSAGE,
					  "event %zu would be %zu bytes, over the %d-byte line limit",
					  i + 1, len, HIVE_LINE_MAX);
			goto out;
		}
		hive_sha256(text, len, prev);
		if ((rc = hive_state_apply(&state, ev, prev, err)))
			goto out;
		if (outbuf_add(&out, text, len) < 0 || outbuf_add(&out, "\n", 1) < 0) {
			rc = hive_err_set(err, HIVE_EENV, "out of memory");
			goto out;
		}
		cJSON_free(text);
		text = NULL;
		cJSON_Delete(ev);
		ev = NULL;
	}
	if (n == 0)
		goto done;
	if ((rc = hive_log_append(s, &tail, out.p, out.len, err)))
		goto out;
	if ((rc = hive_state_write(s, state, err))) {
		/* keep the log and its view in step: undo the append we still hold the lock for */
		undo_append(s, &tail, old_state, old_len);
		hive_err_prefix(err, "events not added");
		goto out;
	}
	if (deliver && deliver(arg, out.p, out.len) < 0) {
		saved = errno;
		undo_append(s, &tail, old_state, old_len);
		rc = hive_err_sys(err, HIVE_EENV, saved,
				  "cannot write the events to standard output, so they were not added");
		goto out;
	}
done:
	if (state_out) {
		*state_out = state;
		state = NULL;
	}
	rc = HIVE_OK;
out:
	hive_session_unlock(s);
	cJSON_free(text);
	cJSON_Delete(ev);
	cJSON_Delete(state);
	free(old_state);
	free(out.p);
	return rc;
}

int hive_log_repair(struct hive_session *s, size_t *moved, int *rebuilt, struct hive_err *err)
{
	struct hive_tail tail;
	struct stat st;
	char *buf = NULL, *nl;
	cJSON *state = NULL;
	off_t start, keep;
	size_t n;
	int fd = -1, rc;

	*moved = 0;
	*rebuilt = 0;
	if ((rc = hive_session_lock(s, hive_lock_timeout(), err)))
		return rc;
	rc = HIVE_EENV;
	if (fstat(s->eventsfd, &st) < 0) {
		hive_err_sys(err, HIVE_EENV, errno, "%s/EVENTS.jsonl", s->dir);
		goto out;
	}
	if (st.st_size > 0) {
		char last;
		if (pread(s->eventsfd, &last, 1, st.st_size - 1) != 1) {
			hive_err_sys(err, HIVE_EENV, errno, "%s/EVENTS.jsonl", s->dir);
			goto out;
		}
		if (last != '\n') {
			/* the cut-off tail: everything after the last newline (at most a line) */
			start = st.st_size > HIVE_LINE_MAX + 1 ? st.st_size - (HIVE_LINE_MAX + 1) : 0;
			n = (size_t)(st.st_size - start);
			if (!(buf = malloc(n + 1))) {
				hive_err_set(err, HIVE_EENV, "out of memory");
				goto out;
			}
			if (pread(s->eventsfd, buf, n, start) != (ssize_t)n) {
				hive_err_sys(err, HIVE_EENV, errno, "%s/EVENTS.jsonl", s->dir);
				goto out;
			}
			nl = memrchr(buf, '\n', n);
			keep = nl ? start + (nl - buf) + 1 : 0;
			if (!nl && start > 0) {
				hive_err_set(err, HIVE_EENV, "%s/EVENTS.jsonl: the last line is over %d bytes",
					     s->dir, HIVE_LINE_MAX);
				goto out;
			}
			/* a tail without its newline was never reported written (a write is one
			 * line with its newline): whether or not it parses, it goes aside */
			{
				n = (size_t)(st.st_size - keep);
				buf[keep - start + (off_t)n] = '\n';
				fd = openat(s->dirfd, "EVENTS.jsonl.torn",
					    O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0644);
				if (fd < 0 || fstat(fd, &st) < 0 ||
				    hive_write_all_or_truncate(fd, buf + (keep - start), n + 1,
							       st.st_size) < 0 ||
				    fsync(fd) < 0) {
					hive_err_sys(err, HIVE_EENV, errno, "%s/EVENTS.jsonl.torn", s->dir);
					goto out;
				}
				if (ftruncate(s->eventsfd, keep) < 0 || fsync(s->eventsfd) < 0) {
					hive_err_sys(err, HIVE_EENV, errno, "%s/EVENTS.jsonl", s->dir);
					goto out;
				}
				*moved = n;
			}
		}
	}
	/* the view: rebuilt only when it is missing or behind the log */
	if (hive_log_tail(s, &tail, err) || hive_state_read(s, &state, err)) {
		*rebuilt = -1;
		err->status = HIVE_OK;
		rc = HIVE_OK;
		goto out;
	}
	if (tail.size && (!state || !hive_state_matches_tail(state, tail.last_seq, tail.last_hash))) {
		cJSON_Delete(state);
		state = NULL;
		if (hive_state_rebuild(s, &state, err) || !state) {
			*rebuilt = -1;
			err->status = HIVE_OK;
		} else if ((rc = hive_state_write(s, state, err))) {
			goto out;
		} else {
			*rebuilt = 1;
		}
	}
	rc = HIVE_OK;
out:
	if (fd >= 0)
		close(fd);
	cJSON_Delete(state);
	free(buf);
	hive_session_unlock(s);
	return rc;
}
