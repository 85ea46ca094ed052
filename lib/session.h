/* session.h - session folders (create, open, enumerate, name) and the transaction every event is
 * written through */
#ifndef HIVE_SESSION_H
#define HIVE_SESSION_H

#include <stddef.h>

#include "config.h"
#include "err.h"
#include "log.h"

struct cJSON;

/*
 * The transaction. Every line hive adds to a log, session_started included, goes through
 * it, so the bytes on disk are always bytes the gate's own code has already accepted.
 *
 * Calling sequence:
 *
 *   hive_txn_begin(root, id, &opts, &txn, err)
 *	An existing session is opened and its exclusive lock taken (HIVE_LOCK_TIMEOUT); the
 *	tail of EVENTS.jsonl is read and the view derived: STATE.json is used only when it
 *	agrees with the log (hive_state_disagrees), else it is rebuilt from the log and
 *	hive_txn_rebuilt says why. A session the log says is completed or failed is
 *	HIVE_EUSAGE unless opts.closed_ok. A session that does not exist is HIVE_EUSAGE
 *	("run hive-init") unless opts.create: then the transaction is new (hive_txn_is_new)
 *	and nothing is on disk yet.
 *
 *   hive_txn_add(txn, type, details, err)	(any number of times)
 *	Stamps the event (seq, timestamp, worker, session id, opts.git, opts.ci, prev),
 *	serialises it, reads those exact bytes back with the strict JSON reader, validates
 *	them with hive_event_validate (the gate's schema), holds them against the
 *	policies one event can break (hive_policy_event) and folds them into the view.
 *	Nothing is written. On failure (HIVE_EUSAGE naming the event and field; HIVE_FAIL
 *	naming every broken policy and what would satisfy it, in one message; HIVE_EENV
 *	out of memory) the transaction is as it was before the call.
 *
 *   hive_txn_commit(txn, err)
 *	Existing session: one write(2) + fsync of every added line, then STATE.json; if
 *	either fails, both are put back (HIVE_EENV). New session: the folder is assembled
 *	under a temporary name and renamed into place; if another process created the
 *	session first, nothing is written and hive_txn_created says 0. The lock is still
 *	held after a commit, so the caller can deliver (print the lines, write reports)
 *	before anyone else appends.
 *
 *   hive_txn_rollback(txn)
 *	After a commit whose delivery failed: the log is truncated back and STATE.json
 *	restored byte for byte (a created session is removed again).
 *
 *   hive_txn_free(txn)
 *	Lets go of the lock and frees everything. A transaction never committed wrote
 *	nothing. Accepts NULL.
 */
struct hive_txn;

struct hive_txn_opts {
	const struct hive_config *cfg; /* event types, platforms (borrowed) */
	const struct cJSON *git;       /* stamped on every event; NULL is JSON null */
	const struct cJSON *ci;	       /* likewise */
	const char *worker;	       /* a new session's worker; an existing one keeps its own */
	int create;		       /* a missing session becomes a new transaction */
	int closed_ok;		       /* allow a completed or failed session (reports only) */
	const char *id_from; /* where the id came from (hive_ctx's session_from), for the message
				naming a closed session, or NULL */
	const char *lane;    /* a lane (SPEC 11): the lines go to lanes/<lane>.jsonl with their own
				seq and prev chain and a "lane" key, line 1 lane_started naming the
				main log's head; STATE.json is not touched. NULL: EVENTS.jsonl */
};

int hive_txn_begin(const char *root, const char *id, const struct hive_txn_opts *opts,
		   struct hive_txn **out, struct hive_err *err);
int hive_txn_add(struct hive_txn *t, const char *type, const struct cJSON *details,
		 struct hive_err *err);
/* Add session_joined (SPEC 11) to a transaction on EVENTS.jsonl: every lane of the folder
 * (lanes/<lane>.jsonl) with lines the main log has not joined yet, with its line count and last
 * line's hash. *joined: how many lanes (0: nothing added). A lane whose last line is cut off
 * is HIVE_EENV; HIVE_EUSAGE for a lane's own transaction. On failure nothing is added. */
int hive_txn_join(struct hive_txn *t, size_t *joined, struct hive_err *err);
int hive_txn_commit(struct hive_txn *t, struct hive_err *err);
void hive_txn_rollback(struct hive_txn *t);
void hive_txn_free(struct hive_txn *t);

/* Is this a session that did not exist when the transaction began? */
int hive_txn_is_new(const struct hive_txn *t);
/* After commit of a new transaction: 1 when this call created the session, 0 when another
 * process had (then nothing was written and hive_txn_session is that session). */
int hive_txn_created(const struct hive_txn *t);
/* Why STATE.json was rebuilt from the log by hive_txn_begin, or NULL (borrowed). */
const char *hive_txn_rebuilt(const struct hive_txn *t);
/* The lines added so far, exactly as they are (or will be) written (borrowed). */
const char *hive_txn_lines(const struct hive_txn *t, size_t *len);
/* The view with every added event folded in (borrowed). */
const struct cJSON *hive_txn_state(const struct hive_txn *t);
/* The open session: NULL for a new transaction before its commit (borrowed). */
struct hive_session *hive_txn_session(const struct hive_txn *t);

/* --- session folders --------------------------------------------------------------- */

/*
 * Open the existing session <root>/sessions/<id>. A missing session is HIVE_EUSAGE
 * ("run hive-init") with err->sys ENOENT; a folder or file that is a symbolic link, or
 * unreadable, HIVE_EENV (a missing EVENTS.jsonl: err->sys ENOENT). Nothing is changed.
 */
int hive_session_open(const char *root, const char *id, struct hive_session **out,
		      struct hive_err *err);

/* The same, with EVENTS.jsonl opened read-only (hive-check): works on a read-only tree. */
int hive_session_open_ro(const char *root, const char *id, struct hive_session **out,
			 struct hive_err *err);

/*
 * Create <root>/sessions/<id> whole or not at all: the folder is assembled under a
 * temporary name (.lock, EVENTS.jsonl holding first_line, STATE.json from state) and
 * renamed into place. When the session already exists (or another process wins the
 * race), nothing is written, *created is 0 and the existing session is opened. On failure
 * nothing is left behind, not even the root folders it made. The temporary folder,
 * .tmp-<id>-<pid>-<8 hex>, has its .lock taken before anything is written in it and held
 * until it is renamed into place; before making one, stale ones are swept away
 * (hive_session_sweep, best effort).
 */
int hive_session_create(const char *root, const char *id, const char *first_line, size_t len,
			const struct cJSON *state, int *created, struct hive_session **out,
			struct hive_err *err);

/*
 * Remove the temporary folders killed hive-inits left in <root>/sessions (which `git add -A`
 * would commit). A folder is removed only when all of these hold: its name is
 * .tmp-<id>-<pid>-<8 hex>; it is a folder, not a symbolic link (nothing is ever followed);
 * it holds nothing but regular files named STATE.json, EVENTS.jsonl, .lock or
 * .STATE.json.tmp; it has not changed for 10 seconds; and nobody holds its .lock (taken
 * here without waiting, and kept while the files are unlinked one by one and the folder
 * removed). Anything else is left as it is. *removed counts the folders removed. No root
 * or no sessions folder is HIVE_OK; HIVE_EENV when they cannot be read.
 */
int hive_session_sweep(const char *root, size_t *removed, struct hive_err *err);

/*
 * Remove the folder name of sessfd (a temporary session folder being taken back, or a replaced
 * one): its files, its lanes/ folder's files, then the folders. Nothing is followed: a
 * symbolic link is unlinked, never entered; a folder other than lanes/ inside it is left, and
 * then so is the folder. Best effort, no result.
 */
void hive_session_remove_tmp(int sessfd, const char *name);

/*
 * Call fn(id, arg) for every session folder under <root>/sessions in name order (entries
 * that are not valid ids, or start with '.', are skipped). No sessions folder is no
 * sessions. Stops at the first fn that does not return HIVE_OK and returns that.
 */
int hive_session_foreach(const char *root, int (*fn)(const char *id, void *arg), void *arg,
			 struct hive_err *err);

/*
 * Split the path of a session folder or of its EVENTS.jsonl into root and id:
 * ".../R/sessions/ID[/EVENTS.jsonl]" gives *root "…/R" and *id "ID" (both the caller's).
 * HIVE_EUSAGE when the path is not shaped so (nothing allocated).
 */
int hive_session_path_split(const char *path, int is_dir, char **root, char **id,
			    struct hive_err *err);

/*
 * A session that already exists must be sound before hive-init rejoins it: line 1 is its
 * session_started, the last line is whole, STATE.json names it (that every line is strict
 * JSON and chained is hive_integrity_check's, which hive_start runs after this). HIVE_EENV naming
 * the first problem otherwise; *state_out (the caller's) is STATE.json as derived from the log.
 */
int hive_session_check_sound(struct hive_session *s, struct cJSON **state_out,
			     struct hive_err *err);

/*
 * hive-check --repair, under the session lock: a cut-off last line goes to
 * EVENTS.jsonl.torn (hive_log_cut_torn), then a STATE.json that disagrees with the log is
 * rebuilt from it. *moved is the number of bytes moved aside; *rebuilt is 1 when STATE.json
 * was rebuilt, -1 when the log is too damaged to rebuild it (left for the checks to
 * report), else 0.
 */
int hive_session_repair(struct hive_session *s, size_t *moved, int *rebuilt, struct hive_err *err);

#endif
