/* prepush.h - git's pre-push lines to the sessions a push touches, each read from the pushed commit
 */
#ifndef HIVE_PREPUSH_H
#define HIVE_PREPUSH_H

#include <stddef.h>

#include <git2.h>

#include "check.h"
#include "err.h"
#include "util.h"

/* One session as a push changes it. */
struct hive_pushed {
	const char *id;			   /* the session id (its folder's name) */
	const char *dir_shown;		   /* "<rel>/<id>" */
	const char *events_shown;	   /* "<rel>/<id>/EVENTS.jsonl" */
	const struct hive_check_input *in; /* the folder in the pushed commit; NULL when gone */
	struct git_repository *repo;
	const struct git_tree *published; /* the folder in the published commit, or NULL */
	const struct git_tree *now;	  /* the folder in the pushed commit, or NULL */
	const char *label;		  /* the published commit, abbreviated ("" if none) */
};

/* Called once for each session a push changes (p and what it points to are borrowed for
 * the call). Returns HIVE_OK to go on. */
typedef int (*hive_prepush_fn)(void *arg, const struct hive_pushed *p);

/* One ref git is about to push, and the published version it is held against (SPEC 9). */
struct hive_push_ref {
	git_oid tip; /* the pushed commit (an annotated tag peeled) */
	git_oid old; /* the remote's old tip, when has_old (an update, not a new branch) */
	int has_old;
	git_oid published; /* the published version, when has_published */
	int has_published;
	char label[16]; /* the published commit abbreviated as git does, or "" */
	char name[256]; /* the remote ref ("refs/heads/main"), or "" when not known */
};

/* Called once for each pushed ref. Returns HIVE_OK to go on. */
typedef int (*hive_prepush_ref_fn)(void *arg, const struct hive_push_ref *r);

/*
 * Read git's pre-push lines from fd and give fn every pushed ref with its published version:
 * the remote's old tip for an update, and for a new branch the newest merge base with the tips
 * of the refs under refs/remotes/<remote>/ (remote: the hook's first argument; NULL: every
 * remote), none when there is no such ref. Deleted refs and tags of trees or blobs are skipped.
 * An empty fd fails closed: every local branch is given as a new branch. HIVE_EUSAGE for a
 * malformed line ("stdin:N: ..."); HIVE_EENV for an object that is not in the repository (an
 * old tip not fetched among them) or stdin that cannot be read; the first status fn returns
 * that is not HIVE_OK stops the walk.
 */
int hive_prepush_refs(git_repository *repo, const char *remote, int fd, hive_prepush_ref_fn fn,
		      void *arg, struct hive_err *err);

/*
 * Give fn every session under rel ("<root relative to the top of the work tree>/sessions")
 * that the ref r adds or changes, and every session of its published version that the pushed
 * commit no longer has as it was. The pushed commits are those not on the old tip (a new
 * branch: not on any remote-tracking ref); each commit's sessions tree is compared with its
 * parents' (unchanged subtrees skipped by object id). seen (the caller's, across refs) holds a
 * key for each session given, made of tag (the configuration the caller checks under) and the
 * folder's object ids on both sides: a session is given once per tag and content however many
 * refs carry it. HIVE_OK, or the first status fn returns that is not HIVE_OK.
 */
int hive_prepush_sessions(git_repository *repo, const struct hive_push_ref *r, const char *rel,
			  const char *tag, struct hive_strv *seen, hive_prepush_fn fn, void *arg,
			  struct hive_err *err);

/*
 * Give fn every session folder under rel ("<root below the top>/sessions") in commit's tree,
 * each read from the commit as a pushed session is (p->published NULL; in->pushed 0: these
 * are read, not pushed), its paths shown after prefix ("refs/hive/sessions:"; NULL: none).
 * Entries that are not session ids are skipped. HIVE_EENV when the commit cannot be read;
 * else the first status fn returns that is not HIVE_OK.
 */
int hive_tree_sessions(git_repository *repo, const git_oid *commit, const char *rel,
		       const char *prefix, hive_prepush_fn fn, void *arg, struct hive_err *err);

/*
 * hive_tree_sessions over the tip of the sessions ref `ref` (SPEC 11), the sessions at root's
 * place below top, shown as "REF:<path>". HIVE_EUSAGE when repo is NULL, root is outside the
 * work tree or the ref does not exist here (the message says how to fetch it).
 */
int hive_ref_sessions(git_repository *repo, const char *top, const char *root, const char *ref,
		      hive_prepush_fn fn, void *arg, struct hive_err *err);

/*
 * The file at path (from the top) in commit's tree, into *buf (NUL-terminated, the caller
 * frees it) and *len, with its blob id in key; no such file is HIVE_OK with *buf NULL and
 * key "-". HIVE_EENV when the commit or the blob cannot be read.
 */
int hive_commit_file(git_repository *repo, const git_oid *commit, const char *path, char **buf,
		     size_t *len, char key[GIT_OID_HEXSZ + 1], struct hive_err *err);

/* One line of what git writes to a pre-push hook's stdin:
 * `<local ref> SP <local object id> SP <remote ref> SP <remote object id>`. */
struct hive_prepush_line {
	char buf[1024];	       /* a copy of the line, cut into the fields below */
	const char *local_ref; /* the four fields, NUL-terminated, pointing into buf */
	const char *local_hex;
	const char *remote_ref;
	const char *remote_hex;
	unsigned char local[20]; /* the object ids as raw SHA-1 bytes (unset when zero) */
	unsigned char remote[20];
	int local_zero;	 /* all zeros, of 40 or 64 digits: a deleted ref */
	int remote_zero; /* all zeros: a new branch */
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
