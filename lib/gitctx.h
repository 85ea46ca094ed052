/* gitctx.h - the git context of SPEC 2.2, read through libgit2 (no git subprocess) */
#ifndef HIVE_GITCTX_H
#define HIVE_GITCTX_H

#include "err.h"

struct cJSON;
struct git_repository;

/* An open repository and what has been read from it (computed once per process). */
struct hive_git;

/*
 * Discover the repository around `cwd` as git would, honouring GIT_DIR, GIT_WORK_TREE,
 * GIT_INDEX_FILE and GIT_CEILING_DIRECTORIES itself (libgit2 1.5 cannot). Outside any
 * repository *out is NULL and the result is HIVE_OK. A repository that cannot be opened
 * is HIVE_EENV.
 */
int hive_git_open(const char *cwd, struct hive_git **out, struct hive_err *err);

/* The top of the work tree with no trailing slash, or NULL for a bare repository.
 * Borrowed from g. */
const char *hive_git_workdir(const struct hive_git *g);

/* The underlying repository, borrowed from g. */
struct git_repository *hive_git_repo(const struct hive_git *g);

/*
 * The `git` object of events and STATE.json: commit, branch, dirty, tag, remote. With
 * g == NULL (outside a repository) *out is a JSON null. want_dirty == 0 gives
 * "dirty": null without scanning. The object is computed once and cached in g; *out is a
 * new copy the caller owns. An unreadable index (e.g. index.skipHash, which libgit2 1.5
 * cannot read) is HIVE_EENV with a message that says so.
 */
int hive_git_context(struct hive_git *g, int want_dirty, struct cJSON **out, struct hive_err *err);

/* Call fn for each path in the index, in index order; stops at fn's first non-zero
 * return, which is returned. Index read failures as in hive_git_context. */
int hive_git_index_foreach(struct hive_git *g, int (*fn)(const char *path, void *arg), void *arg,
			   struct hive_err *err);

/* Remove credentials from a remote URL into out: "scheme://user:pass@host" loses
 * "user:pass@"; an http(s) URL loses any user part (it is often a token). */
void hive_git_strip_credentials(const char *url, char *out, size_t size);

void hive_git_free(struct hive_git *g);

#endif
