/* history.h - a published record only grows (SPEC 9): a session's published files against their new
 * version */
#ifndef HIVE_HISTORY_H
#define HIVE_HISTORY_H

#include <stddef.h>

#include "err.h"
#include "findings.h"

struct git_repository;
struct git_tree;

#define HIVE_HISTORY_RULE "history"

/*
 * Where a published file first stops being kept by its new version, as a 1-based line
 * number, or 0 when it is kept. A log (EVENTS.jsonl, any *.jsonl) is kept when the new
 * bytes start with the published ones, exactly; any other file, and a log of a sealed
 * (completed) session, only when the bytes are equal. *why says how it was not kept
 * (static text): "differs from the published version", "is missing: the log was cut short",
 * "was added after the published session_completed" or "changed after the published
 * session_completed".
 */
size_t hive_history_file(const char *pub, size_t publen, const char *now, size_t nowlen, int is_log,
			 int sealed, const char **why);

/*
 * Hold the published session folder pub_dir (a tree of repo) against its new version: the
 * folder now_dir in a new commit, or, when now_dir is NULL, the folder open on disk as
 * now_dirfd. Every log must still start with its published bytes; a session whose
 * published log ends in session_completed is sealed: EVENTS.jsonl, METRICS.json,
 * RUNBOOK.md and CHECKPOINT stay byte-identical, and CHECKPOINT.sig may only grow
 * (cosignatures are appended). STATE.json (derived) may change, and so may an active
 * session's CHECKPOINT and CHECKPOINT.sig (hive-runbook --checkpoint replaces them). Each break is
 * an error finding of rule "history" in the current session of f, naming "<shown_dir>/<file>" and
 * the first differing line, with label (the published commit, abbreviated) in the message.
 * With missing_ok, a published file (or lane) the new version lacks is no finding: what is
 * there must still extend what was published (hive-runbook --publish, whose commit keeps the
 * files the folder lacks). HIVE_OK, or HIVE_EENV when a blob or file cannot be read.
 */
int hive_history_session(struct git_repository *repo, const struct git_tree *pub_dir,
			 const struct git_tree *now_dir, int now_dirfd, const char *shown_dir,
			 const char *label, int missing_ok, struct hive_findings *f,
			 struct hive_err *err);

/* The finding for a published session that is gone from the new version (deleted or
 * moved), in the current session of f. */
void hive_history_gone(struct hive_findings *f, const char *shown_dir, const char *label);

/* How far back a cut-off last line is looked for (a line is at most this long). */
#define HIVE_HISTORY_TAIL_MAX (1024 * 1024 + 1)

/*
 * --repair never drops a line that is in HEAD's version of the log (SPEC 9): HIVE_OK when
 * the log open as fd ends in a newline (nothing would be cut), is not committed at path
 * (its path from the top of the work tree), or HEAD's version ends before the cut-off
 * tail; else HIVE_EENV naming shown, and the caller repairs nothing.
 */
int hive_history_repair_ok(struct git_repository *repo, const char *path, int fd, const char *shown,
			   struct hive_err *err);

#endif
