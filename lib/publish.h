/* publish.h - the sessions ref (SPEC 11): session folders committed onto refs/hive/sessions with
 * libgit2, touching neither the work tree, the index nor HEAD */
#ifndef HIVE_PUBLISH_H
#define HIVE_PUBLISH_H

#include <stddef.h>

#include <git2.h>

#include "err.h"
#include "findings.h"

#define HIVE_PUBLISH_REF "refs/hive/sessions"

/* The sessions ref a run uses: ref (from --ref), else HIVE_PUBLISH_REF from the environment,
 * else cfg_ref (publish.ref), else refs/hive/sessions (borrowed). HIVE_EUSAGE naming where
 * it came from when it is not a valid ref name below refs/. */
int hive_publish_ref(const char *ref, const char *cfg_ref, const char **out, struct hive_err *err);

/* What one hive_publish did. */
struct hive_publish_result {
	git_oid commit;	  /* the ref's tip afterwards (unset when the ref does not exist) */
	int changed;	  /* 1 when a commit was added, 0 when the ref held every file already */
	unsigned retries; /* how often the ref moved under us and the commit was made again */
};

/*
 * Commit the session folders <root>/sessions/<ids[i]> onto ref, as a new commit on its tip
 * (the first commit when the ref does not exist): the ref's tree is the work tree's layout
 * (<root below top>/sessions/<id>/<file>, lanes/ included) plus the configuration file
 * config_rel and its trust.allowed_signers file signers_rel (each path below top; NULL when
 * there is none), so the gate reads the ref under the same configuration. Each folder is read
 * under its shared lock; only regular files are taken (a name starting with '.' is skipped,
 * .lock and temporary files among them; a symbolic link is refused, HIVE_EENV). Files the ref
 * has and the folder lacks stay: a published record only grows.
 *
 * Before anything is written, each session the ref already holds is held against its folder
 * (rule history, SPEC 9): a folder that does not extend what the ref holds is reported to f
 * and the result is HIVE_FAIL with nothing written. The ref is moved with compare-and-swap
 * against the tip the commit was made on; when another process moved it first, the commit
 * is made again on the new tip (at most 16 times, then HIVE_EENV). Nothing changed is HIVE_OK
 * with r->changed 0. HIVE_EUSAGE when root is not below top or a session does not exist;
 * HIVE_EENV when a file or the repository cannot be read or written (nothing was moved).
 */
int hive_publish(git_repository *repo, const char *top, const char *root, const char *ref,
		 const char *const *ids, size_t nids, const char *config_rel,
		 const char *signers_rel, struct hive_findings *f, struct hive_publish_result *r,
		 struct hive_err *err);

/*
 * A session that runs on more than one runner (SPEC 11): when <root>/sessions/<id> does not
 * exist and the sessions ref holds it, write the ref's version of the folder there (its files
 * and lanes/, with a new .lock), assembled under a temporary name, held to what a rejoin
 * would hold it to and renamed into place (hive_restore_install), so it is there whole or not
 * at all; *restored says whether it was. A published log whose chain breaks is HIVE_EENV
 * ("REF:PATH: the log breaks hive-check's chain rule"), nothing written. A folder that exists, a
 * ref that does not, and a session the ref lacks are HIVE_OK with *restored 0 (nothing touched).
 * HIVE_EUSAGE for a root outside the work tree or a bad id; HIVE_EENV when the ref or a file
 * cannot be read or written (nothing is left behind).
 */
int hive_publish_restore(git_repository *repo, const char *top, const char *root, const char *ref,
			 const char *id, int *restored, struct hive_err *err);

#endif
