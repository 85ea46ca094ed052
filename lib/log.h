/* log.h - the session folder and its append-only, hash-chained EVENTS.jsonl (SPEC 3, 4, 6) */
#ifndef HIVE_LOG_H
#define HIVE_LOG_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "err.h"
#include "util.h"

struct cJSON;

#define HIVE_ID_MAX 128
#define HIVE_LINE_MAX (1024 * 1024) /* an event line, without its newline */

/* An open session folder. Every file in it is opened relative to dirfd and never through
 * a symbolic link. */
struct hive_session {
	char *id;
	char *dir;    /* path of the folder as given (root + "/sessions/" + id) */
	int dirfd;    /* the folder, O_DIRECTORY|O_NOFOLLOW */
	int lockfd;   /* .lock while held, else -1 */
	int eventsfd; /* EVENTS.jsonl, O_RDWR|O_APPEND|O_NOFOLLOW */
};

/* What the end of EVENTS.jsonl says: read under the lock before an append. */
struct hive_tail {
	off_t size;                   /* bytes in the file */
	int64_t last_seq;             /* 0 when empty */
	char last_hash[HIVE_HASH_SIZE]; /* prev for the next line; "" when empty */
};

/* Is id a valid session id (SPEC 2.1)? HIVE_OK, or HIVE_EUSAGE naming what is wrong.
 * `what` names the value in the message ("session id", "worker"). */
int hive_id_check(const char *what, const char *id, size_t len, struct hive_err *err);

/* A new id: <UTC yyyymmddThhmmssZ>-<8 random hex>. */
int hive_id_generate(char out[32], struct hive_err *err);

/*
 * Open the existing session <root>/sessions/<id>. A missing session is HIVE_EUSAGE
 * ("run hive-init"); a folder or file that is a symbolic link, or unreadable, HIVE_EENV.
 */
int hive_session_open(const char *root, const char *id, struct hive_session **out,
		      struct hive_err *err);

/*
 * Create <root>/sessions/<id> whole or not at all: the folder is assembled under a
 * temporary name (.lock, EVENTS.jsonl holding first_line, STATE.json) and renamed into
 * place. When the session already exists (or another process wins the race), nothing is
 * written, *created is 0 and the existing session is opened. `before_publish`, when not
 * NULL, runs after the folder is complete and before it is published; its failure undoes
 * everything.
 */
int hive_session_create(const char *root, const char *id, const char *first_line, size_t len,
			const struct cJSON *state, int (*before_publish)(void *arg, struct hive_err *err),
			void *arg, int *created, struct hive_session **out, struct hive_err *err);

/* The same, with EVENTS.jsonl opened read-only (hive-check): works on a read-only tree. */
int hive_session_open_ro(const char *root, const char *id, struct hive_session **out,
			 struct hive_err *err);

void hive_session_close(struct hive_session *s);

/* Take the session's exclusive lock, waiting at most timeout_s seconds (HIVE_EENV after). */
int hive_session_lock(struct hive_session *s, double timeout_s, struct hive_err *err);
/* A shared lock, for readers that want the log and STATE.json in step (hive-check).
 * A session without a .lock file is HIVE_EENV with errno ENOENT's message. */
int hive_session_lock_shared(struct hive_session *s, double timeout_s, struct hive_err *err);
void hive_session_unlock(struct hive_session *s);

/* HIVE_LOCK_TIMEOUT, or 10 seconds. */
double hive_lock_timeout(void);

/* Read the last line of EVENTS.jsonl. A log whose last line has no newline is HIVE_EENV
 * ("cut off: run hive-check --repair"); one whose last line is not an event, HIVE_EENV. */
int hive_log_tail(struct hive_session *s, struct hive_tail *t, struct hive_err *err);

/* Append buf (whole lines, each ending in \n) with one write(2), then fsync. On failure
 * the file is truncated back to t->size and the result is HIVE_EENV. */
int hive_log_append(struct hive_session *s, const struct hive_tail *t, const char *buf,
		    size_t len, struct hive_err *err);

/* Read STATE.json. A missing or unparsable file gives *out == NULL and HIVE_OK (the caller
 * rebuilds); other failures HIVE_EENV. */
int hive_state_read(struct hive_session *s, struct cJSON **out, struct hive_err *err);

/* Replace STATE.json atomically: temporary file, fsync, rename. The caller holds the
 * session's exclusive lock (the temporary file's name is fixed: .STATE.json.tmp). */
int hive_state_write(struct hive_session *s, const struct cJSON *state, struct hive_err *err);

/* --- the line reader: the same over a file descriptor, stdin or a buffer (a git blob) */

struct hive_lines;

/* Read lines from fd (not closed by the reader). */
int hive_lines_from_fd(int fd, struct hive_lines **out, struct hive_err *err);
/* Read lines from buf[0..len), borrowed for the reader's lifetime. */
int hive_lines_from_mem(const char *buf, size_t len, struct hive_lines **out,
			struct hive_err *err);

enum hive_line_kind {
	HIVE_LINE_OK,        /* a whole line, newline stripped */
	HIVE_LINE_NO_NEWLINE, /* the last line of the input, without its newline */
	HIVE_LINE_TOO_LONG,  /* longer than HIVE_LINE_MAX: *line holds its first bytes */
};

/*
 * The next line: 1 with line, len and kind set (borrowed until the next call), 0 at the
 * end, or -1 on a read error (err filled). A line over HIVE_LINE_MAX is skipped to its
 * end, so memory stays bounded whatever the input.
 */
int hive_lines_next(struct hive_lines *r, const char **line, size_t *len,
		    enum hive_line_kind *kind, struct hive_err *err);

/* The 1-based number of the line last returned. */
size_t hive_lines_number(const struct hive_lines *r);

void hive_lines_free(struct hive_lines *r);


/* --- the append critical section, shared by hive-emit and hive-runbook --finish --- */

/* One event to append: its type and details (owned by the caller, borrowed here). */
struct hive_pending {
	const char *type;
	struct cJSON *details;
};

/*
 * Append events to the session as one all-or-nothing write, under the session lock:
 * read the tail, bring STATE.json up to date (rebuilding it from the log when it lags),
 * refuse a completed or failed session (HIVE_EUSAGE) unless closed_ok, stamp each event
 * (seq, timestamp, the session's worker and id, git, ci, prev), append them with one
 * write(2) + fsync, rewrite STATE.json, and hand the lines exactly as written to
 * deliver (when not NULL; hive-emit prints them), still under the lock. If STATE.json
 * cannot be written, or deliver fails (returns -1 with errno set), the append is undone:
 * the log is truncated back and STATE.json restored byte for byte (HIVE_EENV). A line
 * over HIVE_LINE_MAX is HIVE_EUSAGE naming its index. When state_out is not NULL,
 * *state_out is the new view (caller frees).
 */
int hive_log_append_events(struct hive_session *s, const struct hive_pending *events, size_t n,
			   const struct cJSON *git, const struct cJSON *ci, int closed_ok,
			   int (*deliver)(void *arg, const char *lines, size_t len), void *arg,
			   struct cJSON **state_out, struct hive_err *err);

/*
 * hive-check --repair, under the session lock: a last line cut off (no newline: a writer
 * died mid-write, so it was never reported written) is appended to EVENTS.jsonl.torn and the log truncated to its last whole line; then a
 * STATE.json that is missing or disagrees with the log is rebuilt from it. Nothing else
 * is touched. *moved is the number of bytes moved aside; *rebuilt is 1 when STATE.json
 * was rebuilt, -1 when the log is too damaged to rebuild it (left for the checks to
 * report), else 0.
 */
int hive_log_repair(struct hive_session *s, size_t *moved, int *rebuilt, struct hive_err *err);
#endif
