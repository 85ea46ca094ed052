/* hooks.c - installing hive's pre-push hook: core.hooksPath or the common git dir, foreign hooks
 * kept */
#include "hooks.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <git2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gitctx.h"
#include "util.h"

/*
 * hooks/pre-push, embedded so that an installed hive-init needs no data file to find. The
 * Makefile generates $(BUILD)/gen/hook-pre-push.h from it (scripts/embed.sh), so an edit
 * of hooks/pre-push is all it takes; hooks.bats installs the text and compares it with
 * hooks/pre-push byte for byte. Keep the hook under 4095 bytes: the longest string C11
 * promises (-Wpedantic says so).
 */
const char hive_hook_pre_push[] =
#include "hook-pre-push.h"
	;

/* What <dir>/pre-push is now. */
enum { EX_NONE, EX_FOREIGN, EX_HIVE, EX_HIVE_SAME };

struct look {
	int kind;	/* EX_* */
	struct stat st; /* lstat of pre-push, when it exists */
	int local;	/* pre-push.local exists, of any type */
	int local_same; /* ...and is pre-push itself (a hard link left by a cut-off install) */
};

/* Does buf[0..n) hold the marker as a whole line? */
static int has_marker(const char *buf, size_t n)
{
	size_t m = strlen(HIVE_HOOK_MARKER), i = 0;

	while (i + m <= n) {
		const char *nl = memchr(buf + i, '\n', n - i);
		size_t end = nl ? (size_t)(nl - buf) : n;

		if (end - i == m && !memcmp(buf + i, HIVE_HOOK_MARKER, m))
			return 1;
		if (!nl)
			break;
		i = end + 1;
	}
	return 0;
}

#define CLASSIFY_MAX 65536 /* bytes of an existing pre-push read to classify it */

/* Is the existing pre-push hive's (and exactly the current one)? Reads at most
 * CLASSIFY_MAX bytes: the marker is line 2. A file that cannot be read (a dangling link)
 * is foreign. -1 when out of memory. */
static int classify(int dfd, const struct stat *st)
{
	size_t want = strlen(hive_hook_pre_push), n = 0;
	char *buf;
	ssize_t got;
	int fd, kind;

	/* a regular file is read without following a link swapped in meanwhile; a link is
	 * read through (one that points at hive's hook is hive's, and is replaced) */
	fd = openat(dfd, "pre-push",
		    O_RDONLY | O_CLOEXEC | (S_ISLNK(st->st_mode) ? 0 : O_NOFOLLOW));
	if (fd < 0)
		return EX_FOREIGN;
	if (!(buf = malloc(CLASSIFY_MAX))) {
		close(fd);
		return -1;
	}
	while (n < CLASSIFY_MAX && (got = read(fd, buf + n, CLASSIFY_MAX - n)) > 0)
		n += (size_t)got;
	close(fd);
	kind = has_marker(buf, n) ? EX_HIVE : EX_FOREIGN;
	if (kind == EX_HIVE && S_ISREG(st->st_mode) && (st->st_mode & 07777) == 0755 && n == want &&
	    (off_t)want == st->st_size && !memcmp(buf, hive_hook_pre_push, want))
		kind = EX_HIVE_SAME;
	free(buf);
	return kind;
}

static int look_at(int dfd, const char *dir, struct look *lk, struct hive_err *err)
{
	struct stat lst;

	memset(lk, 0, sizeof(*lk));
	if (fstatat(dfd, "pre-push", &lk->st, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno != ENOENT)
			return hive_err_sys(err, HIVE_EENV, errno, "%s/pre-push", dir);
		lk->kind = EX_NONE;
	} else if (S_ISREG(lk->st.st_mode) || S_ISLNK(lk->st.st_mode)) {
		if ((lk->kind = classify(dfd, &lk->st)) < 0)
			return hive_err_set(err, HIVE_EENV, "out of memory");
	} else {
		return hive_err_set(err, HIVE_EENV, "%s/pre-push: exists and is not a file", dir);
	}
	if (fstatat(dfd, "pre-push.local", &lst, AT_SYMLINK_NOFOLLOW) == 0) {
		lk->local = 1;
		lk->local_same = lk->kind != EX_NONE && lst.st_dev == lk->st.st_dev &&
				 lst.st_ino == lk->st.st_ino;
	} else if (errno != ENOENT) {
		return hive_err_sys(err, HIVE_EENV, errno, "%s/pre-push.local", dir);
	}
	if (lk->kind == EX_FOREIGN && lk->local && !lk->local_same)
		return hive_err_set(
			err, HIVE_EENV,
			"%s/pre-push is not hive's and pre-push.local exists too: nothing "
			"was changed; merge the two into pre-push.local (it runs before "
			"hive's hook), remove pre-push and run again",
			dir);
	return HIVE_OK;
}

static void fill_from_look(struct hive_hooks *h, const struct look *lk)
{
	h->park = lk->kind == EX_FOREIGN;
	h->has_local = lk->local || h->park;
	h->result = lk->kind == EX_HIVE_SAME ? HIVE_HOOK_UNCHANGED
		    : lk->kind == EX_HIVE    ? HIVE_HOOK_UPDATED
					     : HIVE_HOOK_INSTALLED;
}

/* The hooks folder git uses for repo: see hive_hooks_plan. */
static int hooks_dir(struct hive_git *g, struct hive_hooks *h, struct hive_err *err)
{
	git_repository *repo = hive_git_repo(g);
	git_config *cfg = NULL;
	git_buf buf = {0};
	const char *base;
	size_t n;
	int rc, oom;

	if (git_repository_config_snapshot(&cfg, repo) < 0)
		return hive_err_set(err, HIVE_EENV, "git: cannot read the configuration: %s",
				    git_error_last() ? git_error_last()->message : "failed");
	rc = git_config_get_path(&buf, cfg, "core.hooksPath");
	git_config_free(cfg);
	if (rc < 0 && rc != GIT_ENOTFOUND) {
		rc = hive_err_set(err, HIVE_EENV, "git: core.hooksPath: %s",
				  git_error_last() ? git_error_last()->message : "cannot read it");
		git_buf_dispose(&buf);
		return rc;
	}
	git_error_clear();
	if (rc == 0 && buf.ptr && *buf.ptr) {
		h->hooks_path = strdup(buf.ptr);
		/* git runs hooks at the top of the work tree, or in the git dir when bare */
		base = hive_git_workdir(g) ? hive_git_workdir(g) : git_repository_path(repo);
		if (buf.ptr[0] == '/')
			h->dir = strdup(buf.ptr);
		else if (asprintf(&h->dir, "%s%s%s", base, base[strlen(base) - 1] == '/' ? "" : "/",
				  buf.ptr) < 0)
			h->dir = NULL;
	} else if (asprintf(&h->dir, "%shooks", git_repository_commondir(repo)) < 0) {
		h->dir = NULL;
	}
	oom = !h->dir || (rc == 0 && buf.ptr && *buf.ptr && !h->hooks_path);
	git_buf_dispose(&buf);
	if (oom)
		return hive_err_set(err, HIVE_EENV, "out of memory");
	for (n = strlen(h->dir); n > 1 && h->dir[n - 1] == '/'; n--)
		h->dir[n - 1] = '\0';
	return HIVE_OK;
}

int hive_hooks_plan(struct hive_git *g, struct hive_hooks **out, struct hive_err *err)
{
	struct hive_hooks *h;
	struct look lk;
	int dfd = -1, rc;

	*out = NULL;
	if (!hive_git_repo(g))
		return hive_err_set(err, HIVE_EUSAGE,
				    "--install-hooks: not in a git repository (see -C)");
	if (!(h = calloc(1, sizeof(*h))))
		return hive_err_set(err, HIVE_EENV, "out of memory");
	if ((rc = hooks_dir(g, h, err)))
		goto fail;
	dfd = open(h->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 && errno == ENOENT) {
		h->dir_missing = 1;
		h->result = HIVE_HOOK_INSTALLED;
		*out = h;
		return HIVE_OK;
	}
	if (dfd < 0) {
		rc = hive_err_sys(err, HIVE_EENV, errno, "hooks folder %s", h->dir);
		goto fail;
	}
	if ((rc = look_at(dfd, h->dir, &lk, err)))
		goto fail;
	fill_from_look(h, &lk);
	if (h->result != HIVE_HOOK_UNCHANGED && faccessat(dfd, ".", W_OK, 0) < 0) {
		rc = hive_err_sys(err, HIVE_EENV, errno, "hooks folder %s", h->dir);
		goto fail;
	}
	close(dfd);
	*out = h;
	return HIVE_OK;
fail:
	if (dfd >= 0)
		close(dfd);
	hive_hooks_free(h);
	return rc;
}

/* mkdir -p dir (mode 0755). *made is the shortest prefix length that was created (0 when
 * nothing was), for undoing. */
static int make_dirs(char *dir, size_t *made, struct hive_err *err)
{
	size_t n = strlen(dir), i;

	*made = 0;
	for (i = 1; i <= n; i++) {
		if (i < n && dir[i] != '/')
			continue;
		dir[i] = '\0';
		if (mkdir(dir, 0755) == 0) {
			if (!*made)
				*made = i;
		} else if (errno != EEXIST) {
			int e = errno;

			if (i < n)
				dir[i] = '/';
			return hive_err_sys(err, HIVE_EENV, e, "cannot create the hooks folder %s",
					    dir);
		}
		if (i < n)
			dir[i] = '/';
	}
	return HIVE_OK;
}

/* Remove the folders make_dirs created, deepest first (they are empty): dir[0..made) is
 * the first one it created, and every folder below it was created too. */
static void unmake_dirs(char *dir, size_t made)
{
	size_t n = strlen(dir);

	for (;;) {
		dir[n] = '\0';
		if (rmdir(dir) < 0 || n <= made)
			break;
		while (n > made && dir[n - 1] != '/')
			n--;
		n--; /* the '/' before the last component */
	}
}

int hive_hooks_install(struct hive_hooks *h, struct hive_err *err)
{
	enum { NOT_PARKED, PARKED_LINK, PARKED_RENAME } parked = NOT_PARKED;
	char *dir_copy = NULL, shown[4200];
	size_t made = 0;
	struct look lk;
	int dfd = -1, rc;

	if (h->dir_missing) {
		if (!(dir_copy = strdup(h->dir)))
			return hive_err_set(err, HIVE_EENV, "out of memory");
		if ((rc = make_dirs(dir_copy, &made, err)))
			goto out;
	}
	if ((dfd = open(h->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		rc = hive_err_sys(err, HIVE_EENV, errno, "hooks folder %s", h->dir);
		goto out;
	}
	if ((rc = look_at(dfd, h->dir, &lk, err)))
		goto out;
	fill_from_look(h, &lk);
	if (lk.kind == EX_HIVE_SAME) {
		rc = HIVE_OK;
		goto out;
	}
	/* keep a foreign hook: a second name for it first, so that pre-push is never absent */
	if (lk.kind == EX_FOREIGN && !lk.local) {
		if (linkat(dfd, "pre-push", dfd, "pre-push.local", 0) == 0) {
			parked = PARKED_LINK;
		} else if (errno != EEXIST && renameat2(dfd, "pre-push", dfd, "pre-push.local",
							RENAME_NOREPLACE) == 0) {
			parked = PARKED_RENAME; /* no hard links here (some file systems) */
		} else {
			rc = hive_err_sys(err, HIVE_EENV, errno,
					  "cannot keep %s/pre-push as pre-push.local", h->dir);
			goto out;
		}
	}
	snprintf(shown, sizeof(shown), "%.4000s/pre-push", h->dir);
	rc = hive_write_atomic_mode(dfd, "pre-push", hive_hook_pre_push, strlen(hive_hook_pre_push),
				    0755, shown, err);
	if (rc) {
		if (parked == PARKED_LINK)
			unlinkat(dfd, "pre-push.local", 0);
		else if (parked == PARKED_RENAME)
			renameat(dfd, "pre-push.local", dfd, "pre-push");
		goto out;
	}
	fsync(dfd);
out:
	if (dfd >= 0)
		close(dfd);
	if (rc && made)
		unmake_dirs(dir_copy, made);
	free(dir_copy);
	return rc;
}

void hive_hooks_free(struct hive_hooks *h)
{
	if (!h)
		return;
	free(h->dir);
	free(h->hooks_path);
	free(h);
}

cJSON *hive_hooks_describe(const struct hive_hooks *h)
{
	static const char *said[] = {"installed", "updated", "unchanged"};
	char *local = NULL, *path = NULL;
	cJSON *o = cJSON_CreateObject();

	if (!o)
		return NULL;
	if (h->has_local && asprintf(&local, "%s/pre-push.local", h->dir) < 0)
		local = NULL;
	if (asprintf(&path, "%s/pre-push", h->dir) < 0)
		path = NULL;
	cJSON_AddItemToObject(o, "path", path ? cJSON_CreateString(path) : cJSON_CreateNull());
	cJSON_AddStringToObject(o, "result", said[h->result]);
	cJSON_AddItemToObject(o, "local", local ? cJSON_CreateString(local) : cJSON_CreateNull());
	cJSON_AddBoolToObject(o, "core_hooks_path", h->hooks_path != NULL);
	free(local);
	free(path);
	return o;
}
