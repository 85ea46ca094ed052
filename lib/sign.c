/* sign.c - a session's CHECKPOINT written and signed into CHECKPOINT.sig, and cosigned
 * (SPEC 10): the part of checkpoints that signs (ssh-keygen) and verifies (libcrypto), apart
 * from checkpoint.c's format so that the checker, which hive-emit links, carries neither */
#include "checkpoint.h"

#include <errno.h>
#include <fcntl.h>
#include <git2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "session.h"
#include "sshsig.h"

/* Scan the log dirfd/name. */
static int scan_file(int dirfd, const char *name, size_t n, size_t *whole,
		     char hash[HIVE_HASH_SIZE], int *missing, struct hive_err *err)
{
	struct hive_lines *r = NULL;
	int fd, rc;

	*missing = 0;
	if ((fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		if (errno == ENOENT) {
			*missing = 1;
			return HIVE_OK;
		}
		return hive_err_sys(err, HIVE_EENV, errno, "%s", name);
	}
	if (!(rc = hive_lines_from_fd(fd, &r, err)))
		rc = hive_checkpoint_scan(r, n, whole, hash, err);
	if (rc)
		hive_err_prefix(err, "%s", name);
	hive_lines_free(r);
	close(fd);
	return rc;
}

int hive_checkpoint_signing_key(const struct hive_config *cfg, const char *top,
				git_repository *repo, char **out, struct hive_err *err)
{
	const char *env = getenv("HIVE_SIGNING_KEY"), *home = getenv("HOME");
	git_config *gc = NULL;
	git_buf fmt = {0}, key = {0};
	int rc = HIVE_OK;

	*out = NULL;
	if (env && *env)
		*out = strdup(env);
	else if (cfg && cfg->signing_key && cfg->signing_key[0] == '/')
		*out = strdup(cfg->signing_key);
	else if (cfg && cfg->signing_key) {
		if (asprintf(out, "%s/%s", top, cfg->signing_key) < 0)
			*out = NULL;
	} else if (repo && git_repository_config_snapshot(&gc, repo) == 0 &&
		   git_config_get_string_buf(&fmt, gc, "gpg.format") == 0 &&
		   !strcmp(fmt.ptr, "ssh") &&
		   git_config_get_string_buf(&key, gc, "user.signingkey") == 0) {
		if (!strncmp(key.ptr, "key::", 5) || !strncmp(key.ptr, "ssh-", 4))
			rc = hive_err_set(err, HIVE_EUSAGE,
					  "git's user.signingkey is a literal key: hive signs with "
					  "a key file (set trust.signing_key or HIVE_SIGNING_KEY)");
		else if (!strncmp(key.ptr, "~/", 2) && home) {
			if (asprintf(out, "%s/%s", home, key.ptr + 2) < 0)
				*out = NULL;
		} else {
			*out = strdup(key.ptr);
		}
	} else {
		goto done; /* no key */
	}
	if (!rc && !*out)
		rc = hive_err_set(err, HIVE_EENV, "out of memory");
done:
	git_buf_dispose(&fmt);
	git_buf_dispose(&key);
	git_config_free(gc);
	/* only when libgit2 was used: outside a repository it was never initialised, and
	 * git_error_clear would allocate its thread state, never to be freed */
	if (repo)
		git_error_clear();
	return rc;
}

/* The bytes of dirfd/name (*buf the caller's), or *buf NULL when missing. */
static int read_opt(int dirfd, const char *name, char **buf, size_t *len, struct hive_err *err)
{
	struct hive_err e = {0};

	*buf = NULL;
	*len = 0;
	if (hive_read_file(dirfd, name, 1, HIVE_CHECKPOINT_MAX, buf, len, &e) == HIVE_OK)
		return HIVE_OK;
	if (e.sys == ENOENT)
		return HIVE_OK;
	*err = e;
	return err->status = HIVE_EENV;
}

void hive_checkpoint_undo_free(struct hive_checkpoint_undo *u)
{
	free(u->cp);
	free(u->sig);
	memset(u, 0, sizeof(*u));
}

/* Put dirfd/name back to old (NULL: remove it). */
static void restore(struct hive_session *s, const char *name, const char *old, size_t len)
{
	struct hive_err e = {0};
	char shown[4300];

	snprintf(shown, sizeof(shown), "%s/%s", s->dir, name);
	if (old)
		hive_write_atomic(s->dirfd, name, old, len, shown, &e);
	else
		unlinkat(s->dirfd, name, 0);
}

void hive_checkpoint_undo(struct hive_session *s, struct hive_checkpoint_undo *u)
{
	if (!u->written)
		return;
	restore(s, HIVE_CHECKPOINT_SIG_FILE, u->sig, u->sig_len);
	restore(s, HIVE_CHECKPOINT_FILE, u->cp, u->cp_len);
	u->written = 0;
}

int hive_checkpoint_write(struct hive_session *s, const char *key, struct hive_checkpoint_undo *u,
			  struct hive_err *err)
{
	struct hive_buf text = {0};
	char *sig = NULL, shown[4300];
	size_t siglen = 0;
	int rc;

	memset(u, 0, sizeof(*u));
	if ((rc = read_opt(s->dirfd, HIVE_CHECKPOINT_FILE, &u->cp, &u->cp_len, err)) ||
	    (rc = read_opt(s->dirfd, HIVE_CHECKPOINT_SIG_FILE, &u->sig, &u->sig_len, err)) ||
	    (rc = hive_checkpoint_make(s->dirfd, s->id, &text, err)))
		goto out;
	if (key && (rc = hive_sshsig_sign(key, HIVE_SSHSIG_NAMESPACE, text.p, text.len, &sig,
					  &siglen, err)))
		goto out;
	snprintf(shown, sizeof(shown), "%s/%s", s->dir, HIVE_CHECKPOINT_SIG_FILE);
	if (sig) {
		if ((rc = hive_write_atomic(s->dirfd, HIVE_CHECKPOINT_SIG_FILE, sig, siglen, shown,
					    err)))
			goto out;
	} else if (u->sig && unlinkat(s->dirfd, HIVE_CHECKPOINT_SIG_FILE, 0) < 0) {
		rc = hive_err_sys(err, HIVE_EENV, errno, "%s", shown);
		goto out;
	}
	snprintf(shown, sizeof(shown), "%s/%s", s->dir, HIVE_CHECKPOINT_FILE);
	if ((rc = hive_write_atomic(s->dirfd, HIVE_CHECKPOINT_FILE, text.p, text.len, shown,
				    err))) {
		restore(s, HIVE_CHECKPOINT_SIG_FILE, u->sig, u->sig_len);
		goto out;
	}
	u->written = 1;
out:
	free(sig);
	hive_buf_free(&text);
	return rc;
}

int hive_checkpoint_cosign(struct hive_session *s, const char *key, int completed, int *already,
			   struct hive_err *err)
{
	struct hive_checkpoint cp = {0};
	struct hive_sshsig *old = NULL, *mine = NULL;
	struct hive_err e = {0};
	char *text = NULL, *sigs = NULL, *sig = NULL, *all = NULL, why[600], hash[HIVE_HASH_SIZE],
	     shown[4300];
	size_t len, siglen, newlen, nold = 0, nmine = 0, line, whole, i;
	int rc, missing;

	*already = 0;
	snprintf(shown, sizeof(shown), "%s/%s", s->dir, HIVE_CHECKPOINT_FILE);
	if ((rc = read_opt(s->dirfd, HIVE_CHECKPOINT_FILE, &text, &len, err)))
		goto out;
	if (!text) {
		rc = hive_err_set(
			err, HIVE_EUSAGE,
			"%s: no checkpoint to sign (hive-runbook --checkpoint or --finish "
			"writes one)",
			shown);
		goto out;
	}
	if ((rc = hive_checkpoint_parse(text, len, &cp, &line, err))) {
		hive_err_prefix(err, "%s:%zu", shown, line);
		goto out;
	}
	if (strcmp(cp.id, s->id)) {
		rc = hive_err_set(err, HIVE_FAIL, "%s names session %s, not %s: not signing it",
				  shown, cp.id, s->id);
		goto out;
	}
	/* a witness signs only what it has checked: the checkpoint against the logs */
	for (i = 0; i < cp.n; i++) {
		if ((rc = scan_file(s->dirfd, cp.logs[i].name, cp.logs[i].lines, &whole, hash,
				    &missing, err)))
			goto out;
		if (missing)
			snprintf(why, sizeof(why), "%s is missing", cp.logs[i].name);
		if (missing || hive_checkpoint_compare(&cp.logs[i], whole, hash, completed, why,
						       sizeof(why))) {
			rc = hive_err_set(err, HIVE_FAIL, "%s: %s: not signing it", shown, why);
			goto out;
		}
	}
	snprintf(shown, sizeof(shown), "%s/%s", s->dir, HIVE_CHECKPOINT_SIG_FILE);
	if ((rc = read_opt(s->dirfd, HIVE_CHECKPOINT_SIG_FILE, &sigs, &siglen, err)))
		goto out;
	if (sigs && hive_sshsig_parse(sigs, siglen, &old, &nold, &e)) {
		rc = hive_err_set(err, HIVE_FAIL, "%s:%s", shown, e.msg);
		goto out;
	}
	if ((rc = hive_sshsig_sign(key, HIVE_SSHSIG_NAMESPACE, text, len, &sig, &newlen, err)))
		goto out;
	if ((rc = hive_sshsig_parse(sig, newlen, &mine, &nmine, err)) || nmine != 1) {
		rc = hive_err_set(err, HIVE_EENV, "ssh-keygen wrote no signature hive can read");
		goto out;
	}
	for (i = 0; i < nold; i++)
		if (old[i].key_len == mine[0].key_len &&
		    !memcmp(old[i].key, mine[0].key, mine[0].key_len) &&
		    hive_sshsig_verify(&old[i], HIVE_SSHSIG_NAMESPACE, text, len, &e) == HIVE_OK) {
			*already = 1;
			goto out;
		}
	if (!(all = malloc(siglen + newlen + 2))) {
		rc = hive_err_set(err, HIVE_EENV, "out of memory");
		goto out;
	}
	memcpy(all, sigs ? sigs : "", siglen);
	if (siglen && all[siglen - 1] != '\n')
		all[siglen++] = '\n';
	memcpy(all + siglen, sig, newlen);
	rc = hive_write_atomic(s->dirfd, HIVE_CHECKPOINT_SIG_FILE, all, siglen + newlen, shown,
			       err);
out:
	hive_sshsig_free_all(old, nold);
	hive_sshsig_free_all(mine, nmine);
	hive_checkpoint_clear(&cp);
	free(all);
	free(sig);
	free(sigs);
	free(text);
	return rc;
}
