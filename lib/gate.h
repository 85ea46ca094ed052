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
	/* --pre-push and --since: where the published and the new configuration are (SPEC 9) */
	const char *
		config_path;	 /* the file below the top (".hive.yml", or --config's); NULL when
				    it is outside the work tree: then the file on disk is the new one */
	const char *config_disk; /* the file on disk that checker.cfg was read from, or NULL */
	int root_given; /* the root came from --root or HIVE_ROOT: it replaces the new version's */
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
 * The gate's configuration comes from the published version (SPEC 9): --pre-push and --since
 * check under the published commit's configuration file (g->config_path in it: root, policies,
 * redaction, trust.allowed_signers read from the same commit) and, when the new version's file
 * differs (another blob), under the new one too: each session is checked under both, findings
 * joined. A root outside the work tree in either is HIVE_EUSAGE naming the commit and file;
 * so is a configuration file in a commit that does not parse.
 */

/*
 * --pre-push: read git's pre-push lines from fd and check every session under the root that
 * the pushed commits add or change, as it is in those commits, and hold each against its
 * published version (rule history, SPEC 9; remote: the remote pushed to, or NULL) — see
 * hive_prepush_refs and hive_prepush_sessions. The new configuration is the pushed commit's
 * (g->checker's with --root, which replaces its root; the file on disk when config_path is
 * NULL). root: the run's root (g->checker's). HIVE_EUSAGE outside a repository, for a root
 * outside the work tree, or a malformed line; HIVE_EENV when an object is missing.
 */
int hive_gate_prepush(struct hive_gate *g, struct git_repository *repo, const char *root,
		      const char *remote, int fd, struct hive_err *err);

/*
 * --since REV (CI): every session under root, checked as hive_gate_all does, and each held
 * against its version in commit REV (rule history, SPEC 9): a log must still start with
 * REV's bytes, a session completed in REV must be unchanged, and a session in REV that is
 * gone from disk is an error. The new configuration is the one on disk (g->checker, root);
 * when REV's differs, every session under REV's root is checked under REV's configuration
 * too. HIVE_EUSAGE outside a repository, for a REV that is no commit, or a root outside the
 * work tree.
 */
int hive_gate_since(struct hive_gate *g, struct git_repository *repo, const char *rev,
		    const char *root, struct hive_err *err);

/*
 * --ref REF: check every session folder on the sessions ref REF (SPEC 11), as its tip commit
 * holds it under root's place below the top, with the run's configuration; paths are shown as
 * "REF:<path>". HIVE_EUSAGE outside a repository, for a root outside the work tree or a ref
 * that does not exist here; HIVE_EENV when an object cannot be read.
 */
int hive_gate_ref(struct hive_gate *g, struct git_repository *repo, const char *root,
		  const char *ref, struct hive_err *err);

#endif
