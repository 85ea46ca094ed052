/* prepush.h - git's pre-push lines to the sessions a push touches, each read from the pushed commit
 */
#ifndef HIVE_PREPUSH_H
#define HIVE_PREPUSH_H

#include <stddef.h>

#include "check.h"
#include "err.h"

struct git_repository;

/* Called once for each session folder a push touches; in (borrowed for the call) reads
 * the folder as it is in the pushed commit. Returns HIVE_OK to go on. */
typedef int (*hive_prepush_fn)(void *arg, const struct hive_check_input *in);

/*
 * Read git's pre-push lines from fd and give fn every session folder under rel
 * ("<root relative to the top of the work tree>/sessions") that the pushed commits add or
 * change: each pushed commit's sessions tree is compared with its parents' (unchanged
 * subtrees skipped by object id), over the commits not on the remote's old tip (a new
 * branch: not on any remote-tracking ref). A folder is given once per distinct content,
 * however many pushed refs carry it. Deleted refs and deleted sessions are skipped.
 * HIVE_EUSAGE for a malformed line ("stdin:N: ..."), HIVE_EENV for an object that is not in
 * the repository or stdin that cannot be read; the first status fn returns that is not
 * HIVE_OK stops the walk and is returned.
 */
int hive_prepush_each(struct git_repository *repo, const char *rel, int fd, hive_prepush_fn fn,
		      void *arg, struct hive_err *err);

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
