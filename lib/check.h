/* check.h - the gate's rules over one session's files, from a folder or from git objects */
#ifndef HIVE_CHECK_H
#define HIVE_CHECK_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "err.h"
#include "sshsig.h"
#include "findings.h"

struct hive_redactor;
struct hive_signers;

/* A file of a session folder held in memory: its name in the folder ("lanes/b.jsonl") and
 * its bytes. */
struct hive_check_file {
	char *name;
	char *buf;
	size_t len;
};

/* A session's files as the checker sees them: EVENTS.jsonl as a descriptor or a buffer
 * (a git blob), STATE.json as a buffer, and whether METRICS.json exists. */
struct hive_check_input {
	const char *session;	  /* the folder's name (the session id), or NULL for a bare log */
	const char *dir_shown;	  /* the folder as shown in findings, or NULL for a bare log */
	const char *events_shown; /* EVENTS.jsonl as shown in findings */
	int events_fd;		  /* >= 0: read the log from here */
	const char *events_buf;	  /* else from here */
	size_t events_len;
	int events_missing; /* the folder has no EVENTS.jsonl */
	/* A log in segments (EVENTS.jsonl, EVENTS-000002.jsonl, ..., log.h): when nsegs > 0 they
	 * are read in turn instead of events_fd/events_buf, from seg_fds (each from its offset)
	 * or seg_bufs/seg_lens. Findings name each segment's file and its own line numbers. */
	const int *seg_fds;
	const char *const *seg_bufs;
	const size_t *seg_lens;
	size_t nsegs;
	const char *stray_segment; /* a segment file after a gap in the numbering, or NULL */
	/* A check that starts after the published lines (SPEC 9: cost follows the push): when
	 * seed_lines > 0, the log given is what follows the first seed_lines lines, which end in
	 * seq seed_seq with hash seed_hash at time seed_ts_ms, in a session started at
	 * seed_started_ms; the first source given is segment seed_seg, after its first
	 * seed_seg_lines lines. The published lines are not read again. */
	size_t seed_lines;
	int64_t seed_seq, seed_ts_ms, seed_started_ms;
	const char *seed_hash;
	size_t seed_seg, seed_seg_lines;
	const char *state_buf; /* STATE.json, or NULL when missing */
	size_t state_len;
	int metrics_present;
	int is_symlink; /* the session folder is a symbolic link: refused */
	int pushed; /* the session is in a push (--pre-push): policy.require_completed holds it */
	const char *checkpoint_buf; /* CHECKPOINT, or NULL when missing (rule signature) */
	size_t checkpoint_len;
	const char *signature_buf; /* CHECKPOINT.sig, or NULL when missing */
	size_t signature_len;
	/* Files looked at by the secrets rule only: METRICS.json and RUNBOOK.md (NULL when
	 * missing or not given), and the lane logs (lanes/NAME.jsonl). */
	const char *metrics_buf;
	size_t metrics_len;
	const char *runbook_buf;
	size_t runbook_len;
	const struct hive_check_file *lanes;
	size_t nlanes;
	/* Another log a CHECKPOINT names (a lane): its bytes in *buf (the caller's), or
	 * *missing. NULL when the input has none to give. */
	int (*read_log)(void *arg, const char *name, char **buf, size_t *len, int *missing,
			struct hive_err *err);
	void *read_log_arg;
};

/* What every check needs: the config (its policies), a redactor for the secrets rule and
 * the allowed signers for the signature rule. */
struct hive_checker {
	const struct hive_config *cfg;
	struct hive_redactor *red;
	const struct hive_signers *signers; /* trust.allowed_signers, or NULL when not set */
	/* how CHECKPOINT.sig's signatures are verified: hive_sshsig_verify in every gate
	 * (hive_op_gate_open); NULL only for integrity's checker, which is never given a
	 * CHECKPOINT.sig (a signature met without it is an error, never a pass). A pointer so
	 * that the checker links no public-key code: hive-emit and hive-init rejoin through it. */
	hive_sshsig_verify_fn verify;
	struct hive_strv *recorded; /* when not NULL, the commits change events were recorded at
				       are added: "<git.commit>", "<git.commit>+dirty" (once) */
};

struct hive_session;

/* The files of a session folder the checker reads besides its log, owned by the caller of
 * hive_check_input_from_session (hive_check_owned_free). */
struct hive_check_owned {
	char *state, *checkpoint, *signature, *metrics, *runbook, *stray;
	struct hive_check_file *lanes;
	size_t nlanes;
};

/* Fill in from an opened session folder: EVENTS.jsonl's descriptor (read from its start),
 * the bytes of STATE.json, CHECKPOINT, CHECKPOINT.sig, METRICS.json, RUNBOOK.md and every
 * lanes/NAME.jsonl (in *owned; NULL or none when missing), whether METRICS.json exists, and a
 * reader for the folder's other logs. dir_shown and
 * events_shown are borrowed, and s must stay open while in is used. HIVE_EENV when one of
 * those files exists but cannot be read. */
int hive_check_input_from_session(struct hive_session *s, const char *dir_shown,
				  const char *events_shown, struct hive_check_input *in,
				  struct hive_check_owned *owned, struct hive_err *err);
void hive_check_owned_free(struct hive_check_owned *owned);
/* Every lanes/NAME.jsonl of the folder at dirfd into owned->lanes, in name order (none when
 * there is no lanes folder; a link is not followed). HIVE_EENV when one cannot be read; what
 * was read stays in owned for hive_check_owned_free. */
int hive_check_read_lanes(int dirfd, struct hive_check_owned *owned, struct hive_err *err);

/* The names of the rules hive-check applies with cfg (policy.<name> for configured ones),
 * for junit's testcases. Fills names (at least HIVE_CHECK_RULES_MAX slots); returns the
 * count. */
#define HIVE_CHECK_RULES_MAX 24
size_t hive_check_rules(const struct hive_config *cfg, const char **names);

/*
 * Check one session (or bare log) in one streaming pass over its lines: json, schema,
 * chain, protocol, state, order, secrets (raw bytes and decoded strings of the log, then of
 * STATE.json, METRICS.json, RUNBOOK.md, CHECKPOINT and the lane logs), signature
 * (CHECKPOINT against the logs, each signature of CHECKPOINT.sig verified and its signer
 * looked up in c->signers) and the configured policies. Findings go to f
 * (each rule reports at most 50 per session, then a count). Returns HIVE_OK when the
 * check ran (whatever it found), HIVE_EENV when the log could not be read.
 */
int hive_check_session(const struct hive_checker *c, const struct hive_check_input *in,
		       struct hive_findings *f, struct hive_err *err);

#endif
