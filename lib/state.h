/* state.h - STATE.json, the view folded from EVENTS.jsonl: the fold, its check against the log, its
 * read/write */
#ifndef HIVE_STATE_H
#define HIVE_STATE_H

#include "err.h"
#include "log.h"

struct cJSON;

#define HIVE_STATE_MAX (64 * 1024 * 1024) /* the largest STATE.json any tool reads */

/*
 * Fold one event (already validated) into state, given the SHA-256 of its line
 * ("sha256:…"). A session_started event (line 1) creates the view's fields; every event
 * updates counts, last_seq, last_hash and updated_at; deployment_configured updates
 * `deployment`; session_completed sets status and completed_at. *state may be NULL for
 * line 1; it is then created. Returns HIVE_OK, or HIVE_EENV when out of memory.
 */
int hive_state_apply(struct cJSON **state, const struct cJSON *event, const char *line_hash,
		     struct hive_err *err);

/*
 * Rebuild the view from the whole log (under the caller's lock). A log that does not
 * parse is HIVE_EENV naming the line. *out belongs to the caller.
 */
int hive_state_rebuild(struct hive_session *s, struct cJSON **out, struct hive_err *err);

/* Does state agree with the log's last line (events.last_seq and events.last_hash)? */
int hive_state_matches_tail(const struct cJSON *state, long long last_seq, const char *last_hash);

/* Is the session completed or failed (no more events may be appended)? */
int hive_state_is_closed(const struct cJSON *state);

/*
 * Does the view disagree with the log? NULL when it agrees (last_seq, last_hash, count and
 * status all match what the tail of the log says), else a phrase saying what is wrong, for
 * the note that reports the rebuild. STATE.json is never obeyed over the log: a view that
 * disagrees is rebuilt from it.
 */
const char *hive_state_disagrees(const struct cJSON *state, const struct hive_tail *t);

/* Read STATE.json (never through a symbolic link). A missing or unparsable file gives
 * *out == NULL and HIVE_OK (the caller rebuilds); other failures HIVE_EENV. */
int hive_state_read(struct hive_session *s, struct cJSON **out, struct hive_err *err);

/* Replace STATE.json atomically: temporary file, fsync, rename. The caller holds the
 * session's exclusive lock (the temporary file's name is fixed: .STATE.json.tmp). */
int hive_state_write(struct hive_session *s, const struct cJSON *state, struct hive_err *err);

/* STATE.json's bytes as hive_state_write writes them: compact JSON and a newline. The
 * caller frees *out. HIVE_EENV when out of memory. */
int hive_state_text(const struct cJSON *state, char **out, size_t *len, struct hive_err *err);

#endif
