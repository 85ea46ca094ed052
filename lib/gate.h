/* gate.h - which sessions a hive-check run reads (a folder, all of them, FILE operands, a push) and
 * the checks on each */
#ifndef HIVE_GATE_H
#define HIVE_GATE_H

#include <stddef.h>
#include <stdio.h>

#include "check.h"
#include "err.h"
#include "findings.h"

struct git_repository;
struct git_tree;

/* What --since holds the sessions on disk against (SPEC 9). */
struct hive_gate_since {
	struct git_repository *repo;
	struct git_tree *sessions; /* the published commit's sessions folder */
	char label[16];		   /* the published commit, abbreviated */
};

/* One hive-check run: what every session it reads shares. The caller fills it and owns
 * what it points to. */
struct hive_gate {
	const char *top;	     /* paths are shown relative to it when inside it */
	int repair;		     /* --repair: mend a folder before checking it */
	struct git_repository *repo; /* the work tree's repository, or NULL (repair guard) */
	FILE *notes;		     /* where repair notes go (stderr), or NULL (quiet) */
	struct hive_checker checker; /* the config and the redactor */
	struct hive_findings *f;     /* where findings go */
	const char *rules[HIVE_CHECK_RULES_MAX]; /* hive_check_rules, for junit's testcases */
	struct hive_gate_since *since; /* set by hive_gate_since while it runs, else NULL */
	size_t nrules;
};

/*
 * Check the folder root/sessions/id as it is on disk, under its shared lock (a folder that
 * is a symbolic link is a finding, not followed; a folder without EVENTS.jsonl too). With
 * g->repair the folder is mended first (hive_session_repair). HIVE_OK with findings
 * recorded, or the error that stopped it (HIVE_EUSAGE for a session that does not exist).
 */
int hive_gate_folder(struct hive_gate *g, const char *root, const char *id, struct hive_err *err);

/* Every session folder under root, in name order (none is fine). Stops at the first error. */
int hive_gate_all(struct hive_gate *g, const char *root, struct hive_err *err);

/*
 * A FILE operand: a session folder or its EVENTS.jsonl (checked as the folder), any other
 * file (a bare log: no STATE.json, no folder), or "-" (a log on standard input).
 * HIVE_EUSAGE naming arg when it cannot be read or a folder is no session folder.
 */
int hive_gate_operand(struct hive_gate *g, const char *arg, struct hive_err *err);

/*
 * --pre-push: read git's pre-push lines from fd and check every session under root that
 * the pushed commits add or change, as it is in those commits, and hold each against its
 * published version (rule history, SPEC 9; remote: the remote pushed to, or NULL) — see
 * hive_prepush_each. root must be inside the work tree g->top of repo. HIVE_EUSAGE outside a
 * repository, for a root outside the work tree, or a malformed line; HIVE_EENV when an object is
 * missing.
 */
int hive_gate_prepush(struct hive_gate *g, struct git_repository *repo, const char *root,
		      const char *remote, int fd, struct hive_err *err);

/*
 * --since REV (CI): every session under root, checked as hive_gate_all does, and each held
 * against its version in commit REV (rule history, SPEC 9): a log must still start with
 * REV's bytes, a session completed in REV must be unchanged, and a session in REV that is
 * gone from disk is an error. HIVE_EUSAGE outside a repository, for a REV that is no
 * commit, or a root outside the work tree.
 */
int hive_gate_since(struct hive_gate *g, struct git_repository *repo, const char *rev,
		    const char *root, struct hive_err *err);

#endif
