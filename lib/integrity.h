/* integrity.h - hive-check's integrity rules (json, chain) on one session before a tool writes to
 * it */
#ifndef HIVE_INTEGRITY_H
#define HIVE_INTEGRITY_H

#include <stdio.h>

#include "config.h"
#include "err.h"

struct hive_session;

/*
 * Run the gate's own code (hive_check_session, every rule) over an open session, with
 * CHECKPOINT and CHECKPOINT.sig left out, and judge it by the integrity rules only: json
 * (every line strict JSON) and chain (seq from 1 without gaps, prev the SHA-256 of the
 * line before). The findings are written to findings as text (NULL: nowhere). HIVE_OK
 * when neither rule has an error finding; HIVE_FAIL when one has, *rule then naming it
 * ("chain", or "json"; static), for the caller to word its refusal; HIVE_EENV when the
 * session's files cannot be read. Nothing is changed. hive-runbook --finish and hive-init
 * (rejoining a session) call it: a log whose chain is broken is never written to.
 */
int hive_integrity_check(const struct hive_config *cfg, struct hive_session *s, FILE *findings,
			 const char **rule, struct hive_err *err);

#endif
