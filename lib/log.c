/* log.c - a session's EVENTS.jsonl as bytes: descriptors, lock, segments, tail,
 * append-with-truncate, torn tail */
#include "log.h"

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

#include "event.h" /* hive_seq_ok */
#include "util.h"  /* hive_json_parse */

/* Close every segment. */
static void log_close(struct hive_session *s)
{
	size_t i;

	for (i = 0; i < s->nsegs; i++)
		close(s->segs[i]);
	if (!s->nsegs && s->eventsfd >= 0)
		close(s->eventsfd);
	free(s->segs);
	s->segs = NULL;
	s->nsegs = 0;
	s->eventsfd = -1;
}

const char *hive_log_segment_name(size_t i, char buf[32])
{
	if (i == 0)
		snprintf(buf, 32, "EVENTS.jsonl");
	else
		snprintf(buf, 32, "EVENTS-%06u.jsonl", (unsigned)((i + 1) % 1000000));
	return buf;
}

long hive_log_segment_index(const char *name)
{
	size_t i;
	long n = 0;

	if (!strcmp(name, "EVENTS.jsonl"))
		return 0;
	if (strncmp(name, "EVENTS-", 7) || strlen(name) != 19 || strcmp(name + 13, ".jsonl"))
		return -1;
	for (i = 7; i < 13; i++) {
		if (name[i] < '0' || name[i] > '9')
			return -1;
		n = n * 10 + (name[i] - '0');
	}
	return n >= 2 ? n - 1 : -1;
}

size_t hive_log_segment_max(void)
{
	const char *v = getenv("HIVE_SEGMENT_BYTES");
	char *end;
	unsigned long long n;

	if (v && *v) {
		errno = 0;
		n = strtoull(v, &end, 10);
		if (!errno && !*end && n >= 4096 && n <= (1ULL << 30))
			return (size_t)n;
	}
	return (size_t)2 << 20;
}

/* Add fd to s->segs as the new active segment. -1 when out of memory (fd not taken). */
static int log_push(struct hive_session *s, int fd)
{
	int *segs = realloc(s->segs, (s->nsegs + 1) * sizeof(*segs));

	if (!segs)
		return -1;
	s->segs = segs;
	s->segs[s->nsegs++] = fd;
	s->eventsfd = fd;
	return 0;
}

int hive_log_open(struct hive_session *s, int readonly, struct hive_err *err)
{
	int flags = (readonly ? O_RDONLY : O_RDWR | O_APPEND) | O_NOFOLLOW | O_CLOEXEC, fd;
	char name[32];
	size_t i;

	log_close(s);
	for (i = 0; i < HIVE_SEGMENTS_MAX; i++) {
		hive_log_segment_name(i, name);
		if ((fd = openat(s->dirfd, name, flags)) < 0) {
			if (errno == ENOENT && i > 0)
				return HIVE_OK;
			if (errno == ELOOP)
				hive_err_set(err, HIVE_EENV, "%s/%s: is a symbolic link (refused)",
					     s->dir, name);
			else
				hive_err_sys(err, HIVE_EENV, errno, "%s/%s", s->dir, name);
			log_close(s);
			return HIVE_EENV;
		}
		if (log_push(s, fd) < 0) {
			close(fd);
			log_close(s);
			return hive_err_set(err, HIVE_EENV, "out of memory");
		}
	}
	return HIVE_OK;
}

int hive_log_lines(struct hive_session *s, struct hive_lines **out, struct hive_err *err)
{
	char name[32];
	size_t i;

	for (i = 0; i < s->nsegs; i++)
		if (lseek(s->segs[i], 0, SEEK_SET) < 0)
			return hive_err_sys(err, HIVE_EENV, errno, "%s/%s", s->dir,
					    hive_log_segment_name(i, name));
	return hive_lines_from_fds(s->segs, s->nsegs, out, err);
}

/* The active segment's name, for messages. */
static const char *active_name(const struct hive_session *s, char buf[32])
{
	return hive_log_segment_name(s->nsegs ? s->nsegs - 1 : 0, buf);
}

void hive_session_close(struct hive_session *s)
{
	if (!s)
		return;
	hive_session_unlock(s);
	log_close(s);
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

static int session_lock(struct hive_session *s, int mode, double timeout_s, struct hive_err *err);

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
	fd = mode == LOCK_SH
		     ? openat(s->dirfd, ".lock", O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
		     : openat(s->dirfd, ".lock", O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0) {
		if (errno == ELOOP)
			return hive_err_set(err, HIVE_EENV,
					    "%s/.lock: is a symbolic link (refused)", s->dir);
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

int hive_log_tail_fd(int fd, const char *dir, const char *name, struct hive_tail *t,
		     struct hive_err *err)
{
	char *buf = NULL, last;
	struct stat st;
	off_t start, end;
	size_t cap = 0, n;
	cJSON *obj = NULL, *seq;
	const char *type, *status;
	int rc = HIVE_EENV;
	char *nl;

	memset(t, 0, sizeof(*t));
	t->status = "active";
	if (fstat(fd, &st) < 0)
		return hive_err_sys(err, HIVE_EENV, errno, "%s/%s", dir, name);
	t->size = st.st_size;
	if (st.st_size == 0)
		return HIVE_OK;
	if (pread(fd, &last, 1, st.st_size - 1) != 1)
		return hive_err_sys(err, HIVE_EENV, errno, "%s/%s", dir, name);
	if (last != '\n')
		return hive_err_set(err, HIVE_EENV,
				    "%s/%s: the last line is cut off (no newline): run "
				    "hive-check --repair",
				    dir, name);
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
		if (pread(fd, buf, n, start) != (ssize_t)n) {
			hive_err_sys(err, HIVE_EENV, errno, "%s/%s", dir, name);
			goto out;
		}
		buf[n] = '\0';
		nl = memrchr(buf, '\n', n);
		if (nl || start == 0)
			break;
		if (cap >= HIVE_LINE_MAX + 2) {
			hive_err_set(err, HIVE_EENV, "%s/%s: the last line is over %d bytes", dir,
				     name, HIVE_LINE_MAX);
			goto out;
		}
	}
	nl = nl ? nl + 1 : buf;
	n = (size_t)(buf + n - nl);
	hive_sha256(nl, n, t->last_hash);
	obj = hive_json_parse(nl, n);
	seq = cJSON_GetObjectItemCaseSensitive(obj, "seq");
	if (!cJSON_IsNumber(seq) || !hive_seq_ok(seq->valuedouble)) {
		hive_err_set(err, HIVE_EENV,
			     "%s/%s: the last line is not an event with a seq: run "
			     "hive-check",
			     dir, name);
		goto out;
	}
	t->last_seq = (int64_t)seq->valuedouble;
	t->status = "active";
	if ((type = hive_json_str(obj, "event_type")) && !strcmp(type, "session_completed")) {
		status = hive_json_str(cJSON_GetObjectItemCaseSensitive(obj, "details"), "status");
		t->status = status && !strcmp(status, "failure") ? "failed" : "completed";
	}
	rc = HIVE_OK;
out:
	cJSON_Delete(obj);
	free(buf);
	return rc;
}

int hive_log_tail(struct hive_session *s, struct hive_tail *t, struct hive_err *err)
{
	char an[32];

	return hive_log_tail_fd(s->eventsfd, s->dir, active_name(s, an), t, err);
}

/* buf as the first lines of a new segment, made the active one (under the caller's lock). */
static int log_roll(struct hive_session *s, const char *buf, size_t len, struct hive_err *err)
{
	char name[32], tmp[48];
	int fd, nfd = -1, saved;

	if (s->nsegs >= HIVE_SEGMENTS_MAX)
		return hive_err_set(err, HIVE_EENV,
				    "%s: the log has %d segments, the most there may be", s->dir,
				    HIVE_SEGMENTS_MAX);
	hive_log_segment_name(s->nsegs, name);
	snprintf(tmp, sizeof(tmp), ".%s.tmp", name);
	unlinkat(s->dirfd, tmp, 0); /* a killed writer's (the lock is ours) */
	if ((fd = openat(s->dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
			 0644)) < 0)
		return hive_err_sys(err, HIVE_EENV, errno, "%s/%s", s->dir, tmp);
	if (hive_write_all_or_truncate(fd, buf, len, 0) < 0 || fsync(fd) < 0 ||
	    linkat(s->dirfd, tmp, s->dirfd, name, 0) < 0) {
		saved = errno;
		close(fd);
		unlinkat(s->dirfd, tmp, 0);
		return hive_err_sys(err, HIVE_EENV, saved,
				    "%s/%s: a new segment could not be written, log left as it was",
				    s->dir, name);
	}
	close(fd);
	unlinkat(s->dirfd, tmp, 0);
	if (fsync(s->dirfd) < 0 ||
	    (nfd = openat(s->dirfd, name, O_RDWR | O_APPEND | O_NOFOLLOW | O_CLOEXEC)) < 0 ||
	    log_push(s, nfd) < 0) {
		saved = errno;
		if (nfd >= 0)
			close(nfd);
		unlinkat(s->dirfd, name, 0);
		fsync(s->dirfd);
		return hive_err_sys(err, HIVE_EENV, saved, "%s/%s: append undone", s->dir, name);
	}
	s->rolled = 1;
	return HIVE_OK;
}

int hive_log_append(struct hive_session *s, const struct hive_tail *t, const char *buf, size_t len,
		    struct hive_err *err)
{
	char an[32];
	int saved;

	s->rolled = 0;
	if (t->size > 0 && (size_t)t->size + len > hive_log_segment_max())
		return log_roll(s, buf, len, err);

	if (hive_write_all_or_truncate(s->eventsfd, buf, len, t->size) < 0)
		return hive_err_sys(err, HIVE_EENV, errno,
				    "%s/%s: append failed, log left as it was", s->dir,
				    active_name(s, an));
	if (fsync(s->eventsfd) < 0) {
		saved = errno;
		if (ftruncate(s->eventsfd, t->size) < 0) {
			/* the original failure is what we report */
		}
		return hive_err_sys(err, HIVE_EENV, saved, "%s/%s: fsync failed, append undone",
				    s->dir, active_name(s, an));
	}
	return HIVE_OK;
}

int hive_log_truncate(struct hive_session *s, off_t size)
{
	char name[32];

	if (s->rolled) { /* the append made a segment: it goes */
		s->rolled = 0;
		hive_log_segment_name(s->nsegs - 1, name);
		close(s->segs[--s->nsegs]);
		s->eventsfd = s->segs[s->nsegs - 1];
		if (unlinkat(s->dirfd, name, 0) < 0 || fsync(s->dirfd) < 0)
			return -1;
		return 0;
	}
	if (ftruncate(s->eventsfd, size) < 0 || fsync(s->eventsfd) < 0)
		return -1;
	return 0;
}

int hive_log_cut_torn(struct hive_session *s, size_t *moved, struct hive_err *err)
{
	struct stat st;
	char *buf = NULL, *nl, an[32], torn[40];
	off_t start, keep;
	size_t n;
	int fd = -1, rc = HIVE_EENV;

	*moved = 0;
	if (fstat(s->eventsfd, &st) < 0) {
		hive_err_sys(err, HIVE_EENV, errno, "%s/%s", s->dir, active_name(s, an));
		goto out;
	}
	if (st.st_size > 0) {
		char last;
		if (pread(s->eventsfd, &last, 1, st.st_size - 1) != 1) {
			hive_err_sys(err, HIVE_EENV, errno, "%s/%s", s->dir, active_name(s, an));
			goto out;
		}
		if (last != '\n') {
			/* the cut-off tail: everything after the last newline (at most a line) */
			start = st.st_size > HIVE_LINE_MAX + 1 ? st.st_size - (HIVE_LINE_MAX + 1)
							       : 0;
			n = (size_t)(st.st_size - start);
			if (!(buf = malloc(n + 1))) {
				hive_err_set(err, HIVE_EENV, "out of memory");
				goto out;
			}
			if (pread(s->eventsfd, buf, n, start) != (ssize_t)n) {
				hive_err_sys(err, HIVE_EENV, errno, "%s/%s", s->dir,
					     active_name(s, an));
				goto out;
			}
			nl = memrchr(buf, '\n', n);
			keep = nl ? start + (nl - buf) + 1 : 0;
			if (!nl && start > 0) {
				hive_err_set(err, HIVE_EENV,
					     "%s/%s: the last line is over %d bytes", s->dir,
					     active_name(s, an), HIVE_LINE_MAX);
				goto out;
			}
			/* a tail without its newline was never reported written (a write is one
			 * line with its newline): whether or not it parses, it goes aside */
			{
				n = (size_t)(st.st_size - keep);
				buf[keep - start + (off_t)n] = '\n';
				snprintf(torn, sizeof(torn), "%s.torn", active_name(s, an));
				fd = openat(s->dirfd, torn,
					    O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC,
					    0644);
				if (fd < 0 || fstat(fd, &st) < 0 ||
				    hive_write_all_or_truncate(fd, buf + (keep - start), n + 1,
							       st.st_size) < 0 ||
				    fsync(fd) < 0) {
					hive_err_sys(err, HIVE_EENV, errno, "%s/%s", s->dir, torn);
					goto out;
				}
				if (ftruncate(s->eventsfd, keep) < 0 || fsync(s->eventsfd) < 0) {
					hive_err_sys(err, HIVE_EENV, errno, "%s/%s", s->dir,
						     active_name(s, an));
					goto out;
				}
				*moved = n;
			}
		}
	}
	rc = HIVE_OK;
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	return rc;
}

int hive_log_head(struct hive_session *s, char **line, size_t *len, struct hive_err *err)
{
	size_t cap = 4096, n = 0;
	char *buf = NULL, *nb, *nl = NULL;
	ssize_t got;

	*line = NULL;
	*len = 0;
	for (;;) {
		if (!(nb = realloc(buf, cap + 1))) {
			free(buf);
			return hive_err_set(err, HIVE_EENV, "out of memory");
		}
		buf = nb;
		got = pread(s->nsegs ? s->segs[0] : s->eventsfd, buf + n, cap - n, (off_t)n);
		if (got < 0) {
			if (errno == EINTR)
				continue;
			free(buf);
			return hive_err_sys(err, HIVE_EENV, errno, "%s/EVENTS.jsonl", s->dir);
		}
		if ((nl = memchr(buf + n, '\n', (size_t)got)) || got == 0)
			break;
		n += (size_t)got;
		if (n == cap) {
			if (cap > HIVE_LINE_MAX)
				break; /* no newline within the longest line there may be */
			cap *= 4;
		}
	}
	if (!nl) {
		free(buf);
		return hive_err_set(err, HIVE_EENV, "%s/EVENTS.jsonl:1: not a whole line", s->dir);
	}
	*len = (size_t)(nl - buf);
	buf[*len] = '\0';
	*line = buf;
	return HIVE_OK;
}
