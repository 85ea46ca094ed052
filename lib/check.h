/* check.h - the gate's rules over one session's files, from a folder or from git objects */
#ifndef HIVE_CHECK_H
#define HIVE_CHECK_H

#include <stddef.h>

#include "config.h"
#include "err.h"
#include "findings.h"

struct hive_redactor;

/* A session's files as the checker sees them: EVENTS.jsonl as a descriptor or a buffer
 * (a git blob), STATE.json as a buffer, and whether METRICS.json exists. */
struct hive_check_input {
	const char *session;    /* the folder's name (the session id), or NULL for a bare log */
	const char *dir_shown;  /* the folder as shown in findings, or NULL for a bare log */
	const char *events_shown; /* EVENTS.jsonl as shown in findings */
	int events_fd;          /* >= 0: read the log from here */
	const char *events_buf; /* else from here */
	size_t events_len;
	int events_missing;     /* the folder has no EVENTS.jsonl */
	const char *state_buf;  /* STATE.json, or NULL when missing */
	size_t state_len;
	int metrics_present;
	int is_symlink;         /* the session folder is a symbolic link: refused */
};

/* What every check needs: the config (its policies) and a redactor for the secrets rule. */
struct hive_checker {
	const struct hive_config *cfg;
	struct hive_redactor *red;
};

struct hive_session;

/* Fill in from an opened session folder: EVENTS.jsonl's descriptor (read from its start),
 * STATE.json's bytes (*state_owned, which the caller frees; NULL when missing) and whether
 * METRICS.json exists. dir_shown and events_shown are borrowed. HIVE_EENV when
 * STATE.json exists but cannot be read. */
int hive_check_input_from_session(struct hive_session *s, const char *dir_shown,
				  const char *events_shown, struct hive_check_input *in,
				  char **state_owned, struct hive_err *err);

/* The names of the rules hive-check applies with cfg (policy.<name> for configured ones),
 * for junit's testcases. Fills names (at least 16 slots); returns the count. */
size_t hive_check_rules(const struct hive_config *cfg, const char **names);

/*
 * Check one session (or bare log) in one streaming pass over its lines: json, schema,
 * chain, protocol, state, order, secrets and the configured policies. Findings go to f
 * (each rule reports at most 50 per session, then a count). Returns HIVE_OK when the
 * check ran (whatever it found), HIVE_EENV when the log could not be read.
 */
int hive_check_session(const struct hive_checker *c, const struct hive_check_input *in,
		       struct hive_findings *f, struct hive_err *err);

/* --- git's pre-push input ------------------------------------------------------------ */

/* One line of what git writes to a pre-push hook's stdin:
 * `<local ref> SP <local object id> SP <remote ref> SP <remote object id>`. */
struct hive_prepush_line {
	char buf[1024];             /* a copy of the line, cut into the fields below */
	const char *local_ref;      /* the four fields, NUL-terminated, pointing into buf */
	const char *local_hex;
	const char *remote_ref;
	const char *remote_hex;
	unsigned char local[20];    /* the object ids as raw SHA-1 bytes (unset when zero) */
	unsigned char remote[20];
	int local_zero;             /* all zeros, of 40 or 64 digits: a deleted ref */
	int remote_zero;            /* all zeros: a new branch */
};

/*
 * Parse one pre-push line from line[0..len) (not NUL-terminated; a NUL byte ends the line
 * as it does for git) into *out. Fields are separated by spaces or tabs. HIVE_OK, or
 * HIVE_EUSAGE for a line of 1024 bytes or more ("not a pre-push line"), a count of fields
 * other than four, or an object id that is not 40 or 64 lowercase hex digits; HIVE_EENV
 * for a non-zero 64-digit id (a SHA-256 repository, which libgit2 1.5 cannot read). The
 * message has no position: the caller prefixes it ("stdin:3").
 */
int hive_prepush_parse_line(const char *line, size_t len, struct hive_prepush_line *out,
			    struct hive_err *err);

#endif
