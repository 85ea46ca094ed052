/* state.h - STATE.json as a view folded from EVENTS.jsonl, one event at a time */
#ifndef HIVE_STATE_H
#define HIVE_STATE_H

#include "err.h"

struct cJSON;
struct hive_session;

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

#endif
