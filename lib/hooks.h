/* hooks.h - installing hive's pre-push hook into a repository (hive-init --install-hooks) */
#ifndef HIVE_HOOKS_H
#define HIVE_HOOKS_H

#include "err.h"

struct cJSON;

struct hive_git;

/* The text of hooks/pre-push, byte for byte (tests/bats/hooks.bats holds the two equal). */
extern const char hive_hook_pre_push[];

/* The line that marks a pre-push hook as hive's own: one that has it is rewritten in
 * place, never kept as pre-push.local. */
#define HIVE_HOOK_MARKER "# hive-managed-hook: pre-push"

enum hive_hook_result {
	HIVE_HOOK_INSTALLED, /* no pre-push hook was there, or a foreign one (now pre-push.local) */
	HIVE_HOOK_UPDATED,   /* hive's hook was there, but older, edited or not mode 0755 */
	HIVE_HOOK_UNCHANGED, /* hive's hook was there byte for byte, mode 0755: nothing written */
};

/* Where and how the hook goes: made by hive_hooks_plan, carried out by hive_hooks_install. */
struct hive_hooks {
	char *dir;	  /* the hooks folder, absolute (as git finds it; may not exist yet) */
	char *hooks_path; /* core.hooksPath as configured, NULL when unset: dir comes from it */
	int dir_missing;  /* the folder (and any missing parent) is created by the install */
	int park;	  /* a foreign pre-push is kept as pre-push.local */
	int has_local;	  /* pre-push.local is (or, after the install, will be) there: runs first */
	enum hive_hook_result result; /* what the install does (plan) or did (install) */
};

/*
 * Work out where the pre-push hook of g's repository goes, as git looks for it:
 * core.hooksPath when set (~/ expanded; a relative path is taken from the top of the
 * work tree, or from the git dir of a bare repository, where git runs hooks), else the
 * "hooks" folder of the common git dir (so a linked worktree installs into the main
 * repository's hooks, which are the ones git runs for every worktree). Looks at what is
 * there without changing anything. *out is the caller's (hive_hooks_free).
 * HIVE_EUSAGE outside a repository (g == NULL). HIVE_EENV when the folder or the hook is
 * not what it should be (not a folder, a pre-push that is not a file, not writable), or
 * when a foreign pre-push must be kept but pre-push.local exists too (nothing is ever
 * overwritten or lost: the message says how to merge them).
 */
int hive_hooks_plan(struct hive_git *g, struct hive_hooks **out, struct hive_err *err);

/*
 * Install hive_hook_pre_push as <dir>/pre-push, mode 0755: a foreign hook first becomes
 * pre-push.local (a hard link, then the new hook renamed over pre-push, so a push at any
 * instant finds a hook); the hook is written to a temporary file and renamed into place,
 * and no symbolic link is followed when writing (a pre-push that is a link is replaced,
 * its target untouched). Looks again rather than trusting the plan, and updates
 * h->result, h->park and h->has_local. Running it twice changes nothing the second time.
 * HIVE_EENV on failure, with everything as it was before the call.
 */
int hive_hooks_install(struct hive_hooks *h, struct hive_err *err);

void hive_hooks_free(struct hive_hooks *h);

/* hive-init's "hook" object for h after an install: {"path","result","local",
 * "core_hooks_path"}. NULL when out of memory. */
struct cJSON *hive_hooks_describe(const struct hive_hooks *h);

#endif
