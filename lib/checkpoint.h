/* checkpoint.h - <session>/CHECKPOINT (what a session's logs held at a moment) and
 * CHECKPOINT.sig (SSH signatures over it): make, read, compare (checkpoint.c); write, sign,
 * cosign (sign.c) */
#ifndef HIVE_CHECKPOINT_H
#define HIVE_CHECKPOINT_H

#include <stddef.h>

#include "config.h"
#include "err.h"
#include "lines.h"
#include "util.h"

#define HIVE_CHECKPOINT_MAX (1024 * 1024) /* the largest CHECKPOINT or CHECKPOINT.sig read */

struct git_repository;
struct hive_session;

/*
 * The format (man/hive.7), one item a line, each line ended by "\n", fields separated by
 * one space, nothing else in the file:
 *
 *	hive-checkpoint/v1
 *	session <id>
 *	log EVENTS.jsonl <lines> <sha256:hex of the last line>
 *	log <name>.jsonl <lines> <sha256:…, or - when it has no line>	(every other log)
 *
 * EVENTS.jsonl first, the other logs (every other regular file of the folder whose name
 * ends in ".jsonl": the lanes of SPEC 11) in bytewise order of their names. <lines> counts
 * whole lines (ended by a newline), in decimal without leading zeros; the hash is the
 * SHA-256 of the last whole line without its newline, as the next line's prev holds it.
 * A checkpoint describes a prefix: every log holds at least <lines> lines and its line
 * <lines> hashes to <hash>. A completed session's checkpoint describes all of it.
 */
#define HIVE_CHECKPOINT_FORMAT	 "hive-checkpoint/v1"
#define HIVE_CHECKPOINT_FILE	 "CHECKPOINT"
#define HIVE_CHECKPOINT_SIG_FILE "CHECKPOINT.sig"

struct hive_checkpoint_log {
	char *name;
	size_t lines;
	char hash[HIVE_HASH_SIZE]; /* "" when lines is 0 */
};

struct hive_checkpoint {
	char *id;
	struct hive_checkpoint_log *logs; /* logs[0] is EVENTS.jsonl */
	size_t n;
};

/*
 * Read a checkpoint. Anything but the canonical text above is refused: HIVE_EUSAGE with
 * *line the 1-based line at fault and err saying why. cp is the caller's
 * (hive_checkpoint_clear), empty on failure.
 */
int hive_checkpoint_parse(const char *buf, size_t len, struct hive_checkpoint *cp, size_t *line,
			  struct hive_err *err);
void hive_checkpoint_clear(struct hive_checkpoint *cp);

/*
 * Read a log to its end: *whole is its number of whole lines and hash_n the hash of its
 * line n ("" when n is 0 or past the end, or when that line is over HIVE_LINE_MAX: its
 * hash is then unknown). HIVE_EENV when the reader fails.
 */
int hive_checkpoint_scan(struct hive_lines *r, size_t n, size_t *whole, char hash_n[HIVE_HASH_SIZE],
			 struct hive_err *err);

/*
 * Does a log (whole lines, and the hash of its line e->lines) agree with its entry e? NULL
 * when it does, else why not (written to why): fewer lines than the checkpoint says, a
 * different line at the checkpoint's last, or, for a completed session, more lines (a
 * completed session's checkpoint covers its whole log).
 */
const char *hive_checkpoint_compare(const struct hive_checkpoint_log *e, size_t whole,
				    const char *hash_n, int completed, char *why, size_t size);

/*
 * The checkpoint of the session folder open as dirfd (id: its id) as it is now, into out.
 * The caller holds the session lock. HIVE_EUSAGE when a log has a line over
 * HIVE_LINE_MAX or EVENTS.jsonl has no whole line; HIVE_EENV when a file cannot be read.
 */
int hive_checkpoint_make(int dirfd, const char *id, struct hive_buf *out, struct hive_err *err);

/*
 * The key hive signs with, as a path (*out, the caller's; NULL when none is configured):
 * HIVE_SIGNING_KEY when set and not empty; else the config's trust.signing_key (relative
 * to top); else git's user.signingkey when gpg.format is ssh (repo may be NULL; "~/" is
 * the home folder). HIVE_EUSAGE for a user.signingkey that is a literal key ("key::…").
 */
int hive_checkpoint_signing_key(const struct hive_config *cfg, const char *top,
				struct git_repository *repo, char **out, struct hive_err *err);

/* What hive_checkpoint_write replaced, for hive_checkpoint_undo. */
struct hive_checkpoint_undo {
	char *cp, *sig; /* the files' old bytes, NULL when they did not exist */
	size_t cp_len, sig_len;
	int written; /* the new files are in place */
};

/*
 * Write the session's checkpoint as it is now (hive_checkpoint_make), under the session
 * lock the caller holds: when key is set, sign it first (ssh-keygen, hive_sshsig_sign) and
 * replace CHECKPOINT.sig with that one signature; without a key an old CHECKPOINT.sig
 * (signatures over an older checkpoint) is removed. Both files are written atomically;
 * what they held before is kept in u (the caller's; hive_checkpoint_undo_free) so that
 * hive_checkpoint_undo can put it back. On failure nothing is changed (HIVE_EENV, or
 * HIVE_EUSAGE from hive_checkpoint_make). shown_dir names the folder in messages.
 */
int hive_checkpoint_write(struct hive_session *s, const char *key, struct hive_checkpoint_undo *u,
			  struct hive_err *err);
void hive_checkpoint_undo(struct hive_session *s, struct hive_checkpoint_undo *u);
void hive_checkpoint_undo_free(struct hive_checkpoint_undo *u);

/*
 * Cosign (hive-runbook --sign): under the session lock the caller holds, check that
 * CHECKPOINT agrees with the logs (completed: the session's log ends in session_completed),
 * sign it with key and append the signature to CHECKPOINT.sig (atomically); CHECKPOINT is
 * never changed. A key that already signed it adds nothing (*already = 1). HIVE_EUSAGE
 * when there is no CHECKPOINT or it is malformed; HIVE_FAIL when it does not agree with
 * the logs or CHECKPOINT.sig is malformed; HIVE_EENV when signing or writing fails.
 * Nothing is changed on failure.
 */
int hive_checkpoint_cosign(struct hive_session *s, const char *key, int completed, int *already,
			   struct hive_err *err);

#endif
