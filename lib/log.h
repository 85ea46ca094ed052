/* log.h - a session's EVENTS.jsonl as bytes: descriptors, lock, segments, tail,
 * append-with-truncate, torn tail */
#ifndef HIVE_LOG_H
#define HIVE_LOG_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "err.h"
#include "id.h"
#include "lines.h"
#include "util.h"

/* An open session folder. Every file in it is opened relative to dirfd and never through
 * a symbolic link. Made by session.c (hive_session_open, hive_session_create); this
 * module only reads and appends bytes through it. */
struct hive_session {
	char *id;
	char *dir;    /* path of the folder as given (root + "/sessions/" + id) */
	int dirfd;    /* the folder, O_DIRECTORY|O_NOFOLLOW */
	int lockfd;   /* .lock while held, else -1 */
	int eventsfd; /* the active segment (segs[nsegs - 1]): where lines are appended,
			 O_RDWR|O_APPEND|O_NOFOLLOW (O_RDONLY for a reader) */
	int *segs;    /* every segment of the log, in order: segs[0] is EVENTS.jsonl */
	size_t nsegs;
	int rolled; /* the last hive_log_append started a new segment */
};

/*
 * Segments (SPEC 9, cost follows the push): the log is EVENTS.jsonl followed by
 * EVENTS-000002.jsonl, EVENTS-000003.jsonl, ... Each file only grows, and only the last one
 * (the active segment) is appended to: once an append would take it past HIVE_SEGMENT_BYTES
 * (default 2 MiB), the lines start the next segment instead. A sealed segment's git blob never
 * changes again, so a push compares it by object id and reads only the active one. The seq and
 * prev chain run across segments as through one file.
 */
#define HIVE_SEGMENTS_MAX 999999
/* The name of segment i (0-based: 0 is "EVENTS.jsonl", 1 "EVENTS-000002.jsonl"), in buf. */
const char *hive_log_segment_name(size_t i, char buf[32]);
/* Which segment a file name is: its 0-based index, or -1 when the name is no segment's. */
long hive_log_segment_index(const char *name);
/* HIVE_SEGMENT_BYTES (4096 to 1 GiB), or 2 MiB. */
size_t hive_log_segment_max(void);
/* Open the folder's segments (s->dirfd) into s->segs and s->eventsfd, read-only or for
 * appending, never through a symbolic link. HIVE_EENV naming the file (a missing EVENTS.jsonl:
 * err->sys ENOENT); on failure nothing is left open. */
int hive_log_open(struct hive_session *s, int readonly, struct hive_err *err);
/* A line reader over every segment from its start (hive_lines_from_fds). */
int hive_log_lines(struct hive_session *s, struct hive_lines **out, struct hive_err *err);

/* What the end of EVENTS.jsonl says: read under the lock before an append. */
struct hive_tail {
	off_t size;			/* bytes in the file */
	int64_t last_seq;		/* 0 when empty */
	char last_hash[HIVE_HASH_SIZE]; /* prev for the next line; "" when empty */
	const char *status;		/* from the last line, never from STATE.json:
					   "completed" or "failed" after session_completed,
					   else "active" (static strings) */
};

/* Release the folder's descriptors (and its lock) and free s. Accepts NULL. */
void hive_session_close(struct hive_session *s);

/* Take the session's exclusive lock, waiting at most timeout_s seconds (HIVE_EENV after).
 * Holding it already is HIVE_OK. */
int hive_session_lock(struct hive_session *s, double timeout_s, struct hive_err *err);
/* A shared lock, for readers that want the log and STATE.json in step (hive-check).
 * A session without a .lock file is HIVE_EENV with err->sys ENOENT. */
int hive_session_lock_shared(struct hive_session *s, double timeout_s, struct hive_err *err);
void hive_session_unlock(struct hive_session *s);

/* HIVE_LOCK_TIMEOUT, or 10 seconds. */
double hive_lock_timeout(void);

/* hive_log_tail for any log open as fd (a lane), named dir/name in messages. */
int hive_log_tail_fd(int fd, const char *dir, const char *name, struct hive_tail *t,
		     struct hive_err *err);
/* Read the last line of EVENTS.jsonl. A log whose last line has no newline is HIVE_EENV
 * ("cut off: run hive-check --repair"); one whose last line is not an event, HIVE_EENV.
 * Nothing is changed. */
int hive_log_tail(struct hive_session *s, struct hive_tail *t, struct hive_err *err);

/* Append buf (whole lines, each ending in \n) with one write(2), then fsync. When that would
 * take the active segment past hive_log_segment_max() (and it holds a line), buf starts the next
 * segment instead: written under a temporary name, fsync'd and linked into place, so the new
 * segment either exists whole or not at all. On failure the file is truncated back to t->size
 * (a new segment is not made) and the result is HIVE_EENV: the log is as it was. */
int hive_log_append(struct hive_session *s, const struct hive_tail *t, const char *buf, size_t len,
		    struct hive_err *err);

/* Put the log back to `size` bytes (an append being undone; one that started a segment removes
 * it) and fsync. 0 or -1. */
int hive_log_truncate(struct hive_session *s, off_t size);

/*
 * Under the caller's exclusive lock: a last line cut off (no newline: a writer died
 * mid-write, so it was never reported written) is appended to EVENTS.jsonl.torn and the
 * log truncated to its last whole line. *moved is the number of bytes moved aside (0 when
 * the log ends in a newline). On failure nothing was truncated.
 */
int hive_log_cut_torn(struct hive_session *s, size_t *moved, struct hive_err *err);
/* The first line of EVENTS.jsonl, without its newline, read with pread (the file offset is
 * not moved): *line (the caller's, NUL-terminated) and *len. HIVE_EENV when it cannot be
 * read or has no newline within HIVE_LINE_MAX bytes. Nothing is changed. */
int hive_log_head(struct hive_session *s, char **line, size_t *len, struct hive_err *err);

#endif
