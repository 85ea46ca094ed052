/* publish.c - the sessions ref (SPEC 11): session folders committed onto refs/hive/sessions with
 * libgit2, touching neither the work tree, the index nor HEAD */
#include "publish.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "history.h"
#include "id.h"
#include "log.h"
#include "restore.h"
#include "session.h"
#include "util.h"

#define FILE_MAX ((size_t)1 << 31) /* one file of a session folder */
#define ATTEMPTS 16		   /* commits made again when the ref moved under us */

int hive_publish_ref(const char *ref, const char *cfg_ref, const char **out, struct hive_err *err)
{
	const char *env = getenv("HIVE_PUBLISH_REF");
	const char *from = "--ref";
	char q[300];
	int valid = 0;

	if (!ref && env && *env)
		ref = env, from = "HIVE_PUBLISH_REF";
	if (!ref && cfg_ref)
		ref = cfg_ref, from = "publish.ref";
	if (!ref)
		ref = HIVE_PUBLISH_REF, from = NULL;
	if (strncmp(ref, "refs/", 5) || strlen(ref) > 250 ||
	    git_reference_name_is_valid(&valid, ref) < 0 || !valid) {
		git_error_clear();
		return hive_err_set(
			err, HIVE_EUSAGE, "%s: %s is not a ref name below refs/ (for example %s)",
			from ? from : "ref", hive_quote(q, sizeof(q), ref), HIVE_PUBLISH_REF);
	}
	*out = ref;
	return HIVE_OK;
}

/* The tree updates one commit is made of: each a blob at a path of the ref's tree. */
struct updates {
	git_tree_update *u;
	size_t n, cap;
};

static void updates_clear(struct updates *up)
{
	size_t i;

	for (i = 0; i < up->n; i++)
		free((char *)up->u[i].path);
	free(up->u);
	memset(up, 0, sizeof(*up));
}

static int git_fail(struct hive_err *err, const char *what)
{
	const git_error *e = git_error_last();
	int rc = hive_err_set(err, HIVE_EENV, "git: %s: %s", what, e ? e->message : "failed");

	git_error_clear();
	return rc;
}

/* buf[0..len) as a blob at path (copied) of the ref's tree. */
static int add_blob(git_repository *repo, struct updates *up, const char *path, const char *buf,
		    size_t len, struct hive_err *err)
{
	git_tree_update *u;

	if (up->n == up->cap) {
		size_t cap = up->cap ? up->cap * 2 : 16;
		if (!(u = realloc(up->u, cap * sizeof(*u))))
			return hive_err_set(err, HIVE_EENV, "out of memory");
		up->u = u;
		up->cap = cap;
	}
	u = &up->u[up->n];
	memset(u, 0, sizeof(*u));
	u->action = GIT_TREE_UPDATE_UPSERT;
	u->filemode = GIT_FILEMODE_BLOB;
	if (git_blob_create_from_buffer(&u->id, repo, buf, len) < 0)
		return git_fail(err, path);
	if (!(u->path = strdup(path)))
		return hive_err_set(err, HIVE_EENV, "out of memory");
	up->n++;
	return HIVE_OK;
}

/* The regular file dirfd/name as a blob at "<prefix>/<name>" of the ref's tree. A symbolic
 * link is HIVE_EENV (never followed). */
static int add_file(git_repository *repo, struct updates *up, int dirfd, const char *name,
		    const char *prefix, struct hive_err *err)
{
	char path[4600], *buf = NULL;
	size_t len = 0;
	int rc;

	snprintf(path, sizeof(path), "%s/%s", prefix, name);
	if ((rc = hive_read_file(dirfd, name, 1, FILE_MAX, &buf, &len, err))) {
		hive_err_prefix(err, "%s", path);
		return rc;
	}
	rc = add_blob(repo, up, path, buf, len, err);
	free(buf);
	return rc;
}

/* Every regular file of the folder at dirfd (and, when lanes, of its lanes/ folder) whose name
 * does not start with '.', as blobs below prefix. A symbolic link or anything but a file is
 * refused (HIVE_EENV). */
static int add_folder(git_repository *repo, struct updates *up, int dirfd, const char *prefix,
		      int lanes, struct hive_err *err)
{
	struct hive_strv names = {0};
	struct dirent *de;
	struct stat st;
	char sub[4600];
	size_t i;
	int fd, rc = HIVE_OK;
	DIR *d;

	if ((fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 ||
	    !(d = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		return hive_err_sys(err, HIVE_EENV, errno, "%s", prefix);
	}
	while ((de = readdir(d)))
		if (de->d_name[0] != '.' && hive_strv_push(&names, de->d_name) < 0) {
			rc = hive_err_set(err, HIVE_EENV, "out of memory");
			break;
		}
	closedir(d);
	hive_strv_sort(&names);
	for (i = 0; !rc && i < names.n; i++) {
		if (fstatat(dirfd, names.v[i], &st, AT_SYMLINK_NOFOLLOW) < 0) {
			rc = hive_err_sys(err, HIVE_EENV, errno, "%s/%s", prefix, names.v[i]);
		} else if (S_ISREG(st.st_mode)) {
			rc = add_file(repo, up, dirfd, names.v[i], prefix, err);
		} else if (lanes && S_ISDIR(st.st_mode) && !strcmp(names.v[i], "lanes")) {
			snprintf(sub, sizeof(sub), "%s/lanes", prefix);
			if ((fd = openat(dirfd, "lanes",
					 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
				rc = hive_err_sys(err, HIVE_EENV, errno, "%s", sub);
			} else {
				rc = add_folder(repo, up, fd, sub, 0, err);
				close(fd);
			}
		} else {
			rc = hive_err_set(err, HIVE_EENV,
					  "%s/%s is not a regular file (a symbolic link or a "
					  "folder): refused, nothing published",
					  prefix, names.v[i]);
		}
	}
	hive_strv_clear(&names);
	return rc;
}

/* The file top/rel, when there is one, as a blob at rel of the ref's tree. */
static int add_top_file(git_repository *repo, struct updates *up, const char *top, const char *rel,
			struct hive_err *err)
{
	char path[4600], *buf = NULL;
	size_t len = 0;
	struct hive_err e = {0};
	int rc;

	if (!rel || !*rel || rel[0] == '/')
		return HIVE_OK;
	snprintf(path, sizeof(path), "%s/%s", top, rel);
	if (hive_read_file(AT_FDCWD, path, 1, 16 * 1024 * 1024, &buf, &len, &e)) {
		if (e.sys == ENOENT)
			return HIVE_OK;
		*err = e;
		return HIVE_EENV;
	}
	rc = add_blob(repo, up, rel, buf, len, err);
	free(buf);
	return rc;
}

/* One session folder: held against what tip's tree has of it (rule history, into f), then its
 * files added to up. *broken is set when the folder does not extend the ref's version. */
static int add_session(git_repository *repo, git_tree *tip_tree, const char *label,
		       const char *root, const char *rel, const char *id, struct updates *up,
		       struct hive_findings *f, int *broken, struct hive_err *err)
{
	struct hive_session *s = NULL;
	git_tree_entry *e = NULL;
	git_tree *pub = NULL;
	char prefix[4400], shown[4500];
	size_t before;
	int rc;

	if ((rc = hive_id_check("session", id, strlen(id), err)))
		return rc;
	snprintf(prefix, sizeof(prefix), "%s/%s", rel, id);
	if ((rc = hive_session_open_ro(root, id, &s, err)) ||
	    (rc = hive_session_lock_shared(s, hive_lock_timeout(), err)))
		goto out;
	if (tip_tree && git_tree_entry_bypath(&e, tip_tree, prefix) == 0 &&
	    git_tree_entry_type(e) == GIT_OBJECT_TREE &&
	    git_tree_lookup(&pub, repo, git_tree_entry_id(e)) == 0) {
		snprintf(shown, sizeof(shown), "%s/EVENTS.jsonl", prefix);
		hive_findings_session(f, id, shown, NULL, 0);
		before = hive_findings_errors(f);
		if ((rc = hive_history_session(repo, pub, NULL, s->dirfd, prefix, label, 1, f,
					       err)))
			goto out;
		if (hive_findings_errors(f) > before)
			*broken = 1;
	}
	git_error_clear();
	if (!*broken)
		rc = add_folder(repo, up, s->dirfd, prefix, 1, err);
out:
	git_tree_free(pub);
	git_tree_entry_free(e);
	hive_session_close(s);
	return rc;
}

/* An empty tree, the baseline of a ref's first commit. */
static int empty_tree(git_repository *repo, git_tree **out, struct hive_err *err)
{
	git_treebuilder *tb = NULL;
	git_oid id;
	int ok = git_treebuilder_new(&tb, repo, NULL) == 0 && git_treebuilder_write(&id, tb) == 0 &&
		 git_tree_lookup(out, repo, &id) == 0;

	git_treebuilder_free(tb);
	return ok ? HIVE_OK : git_fail(err, "an empty tree");
}

/* One attempt: the commit on the ref's current tip, and the compare-and-swap that moves the
 * ref. *moved is set when the ref moved under us (try again). */
static int attempt(git_repository *repo, const char *top, const char *root, const char *rel,
		   const char *ref, const char *const *ids, size_t nids, const char *config_rel,
		   const char *signers_rel, struct hive_findings *f, struct hive_publish_result *r,
		   int *moved, struct hive_err *err)
{
	struct updates up = {0};
	git_commit *tip = NULL;
	git_tree *base = NULL, *tree = NULL;
	git_signature *sig = NULL;
	git_reference *out = NULL;
	git_oid tip_id, tree_id, commit_id;
	const git_commit *parents[1];
	char label[16] = "", msg[600];
	size_t i;
	int has_tip, broken = 0, rc = HIVE_OK, g;

	*moved = 0;
	has_tip = git_reference_name_to_id(&tip_id, repo, ref) == 0;
	git_error_clear();
	if (has_tip) {
		if (git_commit_lookup(&tip, repo, &tip_id) < 0 || git_commit_tree(&base, tip) < 0) {
			rc = git_fail(err, ref);
			goto out;
		}
		git_oid_tostr(label, 8, &tip_id);
	} else if ((rc = empty_tree(repo, &base, err))) {
		goto out;
	}
	for (i = 0; !rc && i < nids; i++)
		rc = add_session(repo, has_tip ? base : NULL, label, root, rel, ids[i], &up, f,
				 &broken, err);
	if (!rc && broken)
		rc = hive_err_set(err, HIVE_FAIL,
				  "nothing published: a session no longer extends what %s holds "
				  "(rule history, above)",
				  ref);
	if (rc || (rc = add_top_file(repo, &up, top, config_rel, err)) ||
	    (rc = add_top_file(repo, &up, top, signers_rel, err)))
		goto out;
	if (git_tree_create_updated(&tree_id, repo, base, up.n, up.u) < 0) {
		rc = git_fail(err, "the sessions tree");
		goto out;
	}
	r->changed = !has_tip || !git_oid_equal(&tree_id, git_tree_id(base));
	if (has_tip)
		git_oid_cpy(&r->commit, &tip_id);
	if (!r->changed)
		goto out;
	if (git_tree_lookup(&tree, repo, &tree_id) < 0) {
		rc = git_fail(err, "the sessions tree");
		goto out;
	}
	if (git_signature_default(&sig, repo) < 0 &&
	    git_signature_now(&sig, "hive", "hive@localhost") < 0) {
		rc = git_fail(err, "a signature");
		goto out;
	}
	git_error_clear();
	snprintf(msg, sizeof(msg), "hive: publish %.150s%s\n", ids[0],
		 nids > 1 ? " and more sessions" : "");
	parents[0] = tip;
	if (git_commit_create(&commit_id, repo, NULL, sig, sig, NULL, msg, tree, has_tip ? 1 : 0,
			      parents) < 0) {
		rc = git_fail(err, "the commit");
		goto out;
	}
	g = has_tip ? git_reference_create_matching(&out, repo, ref, &commit_id, 1, &tip_id, msg)
		    : git_reference_create(&out, repo, ref, &commit_id, 0, msg);
	if (g == GIT_EMODIFIED || g == GIT_EEXISTS || g == GIT_ELOCKED) {
		git_error_clear();
		*moved = 1;
	} else if (g < 0) {
		rc = git_fail(err, ref);
	} else {
		git_oid_cpy(&r->commit, &commit_id);
	}
out:
	updates_clear(&up);
	git_reference_free(out);
	git_signature_free(sig);
	git_tree_free(tree);
	git_tree_free(base);
	git_commit_free(tip);
	return rc;
}

int hive_publish(git_repository *repo, const char *top, const char *root, const char *ref,
		 const char *const *ids, size_t nids, const char *config_rel,
		 const char *signers_rel, struct hive_findings *f, struct hive_publish_result *r,
		 struct hive_err *err)
{
	git_reference *head = NULL;
	const char *under = hive_path_under(top, root);
	char rel[4200];
	int moved = 0, rc;

	memset(r, 0, sizeof(*r));
	if (!under)
		return hive_err_set(err, HIVE_EUSAGE,
				    "--publish: the root %s is outside the work tree", root);
	if (!nids)
		return HIVE_OK;
	if (git_repository_head(&head, repo) == 0 && !strcmp(git_reference_name(head), ref)) {
		git_reference_free(head);
		return hive_err_set(err, HIVE_EUSAGE,
				    "--publish: %s is the branch checked out here; publish onto "
				    "a ref of its own (default %s)",
				    ref, HIVE_PUBLISH_REF);
	}
	git_reference_free(head);
	git_error_clear();
	snprintf(rel, sizeof(rel), "%s%ssessions", under, *under ? "/" : "");
	do {
		rc = attempt(repo, top, root, rel, ref, ids, nids, config_rel, signers_rel, f, r,
			     &moved, err);
	} while (!rc && moved && ++r->retries < ATTEMPTS);
	if (!rc && moved)
		rc = hive_err_set(err, HIVE_EENV,
				  "--publish: %s kept moving under this process (%u tries): "
				  "nothing published",
				  ref, ATTEMPTS);
	return rc;
}

/* Write the blobs of tree into the folder at dirfd (new files, never through a link), and its
 * lanes/ subtree one level down. */
static int write_tree(git_repository *repo, const git_tree *tree, int dirfd, int top,
		      const char *shown, struct hive_err *err)
{
	size_t i, n = git_tree_entrycount(tree);
	int fd, rc = HIVE_OK;

	for (i = 0; !rc && i < n; i++) {
		const git_tree_entry *e = git_tree_entry_byindex(tree, i);
		const char *name = git_tree_entry_name(e);
		git_blob *blob = NULL;
		git_tree *sub = NULL;

		if (name[0] == '.' || strchr(name, '/'))
			continue;
		if (top && git_tree_entry_type(e) == GIT_OBJECT_TREE && !strcmp(name, "lanes")) {
			if (mkdirat(dirfd, name, 0755) < 0 ||
			    (fd = openat(dirfd, name,
					 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
				return hive_err_sys(err, HIVE_EENV, errno, "%s/%s", shown, name);
			if (git_tree_lookup(&sub, repo, git_tree_entry_id(e)) < 0)
				rc = git_fail(err, name);
			else
				rc = write_tree(repo, sub, fd, 0, shown, err);
			git_tree_free(sub);
			if (!rc && fsync(fd) < 0)
				rc = hive_err_sys(err, HIVE_EENV, errno, "%s/%s", shown, name);
			close(fd);
			continue;
		}
		if (git_tree_entry_type(e) != GIT_OBJECT_BLOB ||
		    git_tree_entry_filemode(e) == GIT_FILEMODE_LINK)
			continue;
		if (git_blob_lookup(&blob, repo, git_tree_entry_id(e)) < 0)
			return git_fail(err, name);
		if ((fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
				 0644)) < 0 ||
		    hive_write_all_or_truncate(fd, git_blob_rawcontent(blob),
					       (size_t)git_blob_rawsize(blob), 0) < 0 ||
		    fsync(fd) < 0)
			rc = hive_err_sys(err, HIVE_EENV, errno, "%s/%s", shown, name);
		if (fd >= 0)
			close(fd);
		git_blob_free(blob);
	}
	return rc;
}

int hive_publish_restore(git_repository *repo, const char *top, const char *root, const char *ref,
			 const char *id, int *restored, struct hive_err *err)
{
	const char *under = hive_path_under(top, root);
	git_tree_entry *e = NULL;
	git_commit *c = NULL;
	git_tree *tree = NULL, *dir = NULL;
	struct hive_restore_tmp tmp = {.sessfd = -1, .fd = -1};
	char path[4400], shown[4500], shown_ref[4800];
	int rc = HIVE_OK, raced = 0;
	struct stat st;
	git_oid tip;

	*restored = 0;
	if (!under)
		return hive_err_set(err, HIVE_EUSAGE, "--ref: the root %s is outside the work tree",
				    root);
	if ((rc = hive_id_check("session", id, strlen(id), err)))
		return rc;
	snprintf(path, sizeof(path), "%s/sessions/%s", root, id);
	if (lstat(path, &st) == 0 || errno != ENOENT)
		return HIVE_OK; /* the folder is here: hive-init rejoins or refuses it */
	if (git_reference_name_to_id(&tip, repo, ref) < 0) {
		git_error_clear();
		return HIVE_OK; /* nothing published yet: a new session */
	}
	snprintf(shown, sizeof(shown), "%s/sessions/%s", under, id);
	if (git_commit_lookup(&c, repo, &tip) < 0 || git_commit_tree(&tree, c) < 0) {
		rc = git_fail(err, ref);
		goto out;
	}
	if (git_tree_entry_bypath(&e, tree, shown) < 0 || git_tree_entry_type(e) != GIT_OBJECT_TREE)
		goto out; /* not published: a new session */
	if (git_tree_lookup(&dir, repo, git_tree_entry_id(e)) < 0) {
		rc = git_fail(err, shown);
		goto out;
	}
	/* assembled under a temporary name, then put into place: whole or not at all */
	snprintf(shown_ref, sizeof(shown_ref), "%s:%s", ref, shown);
	if ((rc = hive_restore_tmp_make(root, id, "restore", &tmp, err)) ||
	    (rc = write_tree(repo, dir, tmp.fd, 1, path, err)) ||
	    (rc = hive_restore_install(&tmp, id, shown_ref, 0, &raced, err)) || raced)
		goto out; /* raced: another process made the folder first, and it is used */
	*restored = 1;
out:
	hive_restore_tmp_drop(&tmp);
	git_tree_free(dir);
	git_tree_entry_free(e);
	git_tree_free(tree);
	git_commit_free(c);
	git_error_clear();
	return rc;
}
