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
	const char *session;	  /* the folder's name (the session id), or NULL for a bare log */
	const char *dir_shown;	  /* the folder as shown in findings, or NULL for a bare log */
	const char *events_shown; /* EVENTS.jsonl as shown in findings */
	int events_fd;		  /* >= 0: read the log from here */
	const char *events_buf;	  /* else from here */
	size_t events_len;
	int events_missing;    /* the folder has no EVENTS.jsonl */
	const char *state_buf; /* STATE.json, or NULL when missing */
	size_t state_len;
	int metrics_present;
	int is_symlink; /* the session folder is a symbolic link: refused */
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

#endif
