/* gitctx.c - repository discovery as git does it, and the commit/branch/dirty/tag/remote context */
#include "gitctx.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <git2.h>
#include <git2/sys/repository.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct hive_git {
	git_repository *repo;
	char *workdir;  /* no trailing slash; NULL when bare */
	cJSON *context; /* cached `git` object (with or without the dirty scan) */
	int context_has_dirty;
};

static int git_fail(struct hive_err *err, int status, const char *what)
{
	const git_error *e = git_error_last();

	return hive_err_set(err, status, "git: %s: %s", what, e && e->message ? e->message : "failed");
}

/* Does the index file end in an all-zero checksum (git's index.skipHash)? */
static int index_has_skip_hash(git_repository *repo)
{
	const char *env = getenv("GIT_INDEX_FILE");
	char path[PATH_MAX], tail[20] = {0};
	int fd, i;
	off_t size;

	if (env && *env)
		snprintf(path, sizeof(path), "%s", env);
	else
		snprintf(path, sizeof(path), "%sindex", git_repository_path(repo));
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return 0;
	size = lseek(fd, 0, SEEK_END);
	if (size < 32 || pread(fd, tail, sizeof(tail), size - 20) != 20) {
		close(fd);
		return 0;
	}
	close(fd);
	for (i = 0; i < 20; i++)
		if (tail[i])
			return 0;
	return 1;
}

static int index_fail(git_repository *repo, struct hive_err *err)
{
	if (index_has_skip_hash(repo))
		return hive_err_set(err, HIVE_EENV,
				    "git: the index was written with index.skipHash (git "
				    "feature.manyFiles), which libgit2 1.5 cannot read; run "
				    "'git config index.skipHash false && git update-index "
				    "--really-refresh', or set HIVE_GIT_DIRTY=0");
	return git_fail(err, HIVE_EENV, "cannot read the index");
}

static void set_workdir_field(struct hive_git *g)
{
	const char *wd = git_repository_workdir(g->repo);
	size_t n;

	free(g->workdir);
	g->workdir = NULL;
	if (!wd)
		return;
	g->workdir = strdup(wd);
	if (g->workdir && (n = strlen(g->workdir)) > 1 && g->workdir[n - 1] == '/')
		g->workdir[n - 1] = '\0';
}

int hive_git_open(const char *cwd, struct hive_git **out, struct hive_err *err)
{
	const char *gitdir = getenv("GIT_DIR"), *worktree = getenv("GIT_WORK_TREE");
	const char *index_file = getenv("GIT_INDEX_FILE");
	const char *ceiling = getenv("GIT_CEILING_DIRECTORIES");
	struct hive_git *g = NULL;
	git_index *index = NULL;
	git_config *config = NULL;
	git_config_entry *entry = NULL;
	int rc, status = HIVE_EENV;

	*out = NULL;
	git_libgit2_init();
	if (!(g = calloc(1, sizeof(*g))))
		return hive_err_set(err, HIVE_EENV, "out of memory");

	if (gitdir && *gitdir) {
		/* git's rule: GIT_DIR names the repository, and without GIT_WORK_TREE or
		 * core.worktree the current directory is the top of the work tree. */
		rc = git_repository_open_ext(&g->repo, gitdir, GIT_REPOSITORY_OPEN_NO_SEARCH, NULL);
		if (rc < 0) {
			git_fail(err, HIVE_EENV, "GIT_DIR");
			hive_err_prefix(err, "%s", gitdir);
			goto fail;
		}
		if (!(worktree && *worktree) && !git_repository_is_bare(g->repo) &&
		    git_repository_config_snapshot(&config, g->repo) == 0 &&
		    git_config_get_entry(&entry, config, "core.worktree") == GIT_ENOTFOUND &&
		    git_repository_set_workdir(g->repo, cwd, 0) < 0) {
			git_fail(err, HIVE_EENV, "cannot use the current directory as work tree");
			goto fail;
		}
	} else {
		rc = git_repository_open_ext(&g->repo, cwd, 0, ceiling);
		if (rc == GIT_ENOTFOUND) {
			git_error_clear();
			free(g);
			git_libgit2_shutdown();
			return HIVE_OK;
		}
		if (rc < 0) {
			git_fail(err, HIVE_EENV, "cannot open the repository");
			goto fail;
		}
	}
	if (worktree && *worktree && git_repository_set_workdir(g->repo, worktree, 0) < 0) {
		git_fail(err, HIVE_EENV, "GIT_WORK_TREE");
		goto fail;
	}
	if (index_file && *index_file) {
		if (git_index_open(&index, index_file) < 0) {
			git_fail(err, HIVE_EENV, "GIT_INDEX_FILE");
			goto fail;
		}
		git_repository_set_index(g->repo, index);
		git_index_free(index);
	}
	set_workdir_field(g);
	git_config_entry_free(entry);
	git_config_free(config);
	*out = g;
	return HIVE_OK;
fail:
	git_config_entry_free(entry);
	git_config_free(config);
	hive_git_free(g);
	return status;
}

const char *hive_git_workdir(const struct hive_git *g)
{
	return g ? g->workdir : NULL;
}

git_repository *hive_git_repo(const struct hive_git *g)
{
	return g ? g->repo : NULL;
}

void hive_git_strip_credentials(const char *url, char *out, size_t size)
{
	const char *scheme_end = strstr(url, "://"), *host, *at, *slash;
	int http;

	snprintf(out, size, "%s", url);
	if (!scheme_end)
		return;
	host = scheme_end + 3;
	slash = host + strcspn(host, "/?#");
	at = memrchr(host, '@', (size_t)(slash - host));
	if (!at)
		return;
	http = !strncmp(url, "http://", 7) || !strncmp(url, "https://", 8);
	if (!http && !memchr(host, ':', (size_t)(at - host)))
		return; /* ssh://git@host: a user name, not a credential */
	snprintf(out, size, "%.*s%s", (int)(host - url), url, at + 1);
}

/* Branch short name: from HEAD's symbolic target (also on an unborn branch); when
 * detached, from the CI's ref variables. Returns a new JSON string or null. */
static cJSON *branch_json(git_repository *repo, int *detached)
{
	static const char *env[] = {"GITHUB_HEAD_REF", "GITHUB_REF_NAME", "CI_COMMIT_REF_NAME"};
	git_reference *head = NULL;
	const char *target, *v;
	cJSON *out = NULL;
	size_t i;

	*detached = 0;
	if (git_reference_lookup(&head, repo, "HEAD") == 0 &&
	    git_reference_type(head) == GIT_REFERENCE_SYMBOLIC) {
		target = git_reference_symbolic_target(head);
		if (!strncmp(target, "refs/heads/", 11))
			out = cJSON_CreateString(target + 11);
	} else {
		*detached = 1;
		for (i = 0; i < 3 && !out; i++)
			if ((v = getenv(env[i])) && *v)
				out = cJSON_CreateString(v);
	}
	git_reference_free(head);
	git_error_clear();
	return out ? out : cJSON_CreateNull();
}

/* Abort a diff at its first delta: any tracked change makes the tree dirty. */
static int stop_at_first(const git_diff *diff, const git_diff_delta *delta,
			 const char *matched, void *payload)
{
	(void)diff;
	(void)delta;
	(void)matched;
	*(int *)payload = 1;
	return -1;
}

/* dirty: tracked changes in the index or the work tree against HEAD. Untracked files
 * and submodules are not scanned. Returns 0/1 in *dirty, or a status on failure. */
static int scan_dirty(struct hive_git *g, const git_oid *head, int *dirty, struct hive_err *err)
{
	git_diff_options opts;
	git_commit *commit = NULL;
	git_tree *tree = NULL;
	git_index *index = NULL;
	git_diff *diff = NULL;
	int rc = HIVE_OK, found = 0, r;

	*dirty = 0;
	git_diff_options_init(&opts, GIT_DIFF_OPTIONS_VERSION);
	if (git_repository_index(&index, g->repo) < 0)
		return index_fail(g->repo, err);
	opts.flags = GIT_DIFF_SKIP_BINARY_CHECK;
	opts.ignore_submodules = GIT_SUBMODULE_IGNORE_ALL;
	opts.notify_cb = stop_at_first;
	opts.payload = &found;
	if (head && (git_commit_lookup(&commit, g->repo, head) < 0 ||
		     git_commit_tree(&tree, commit) < 0)) {
		rc = git_fail(err, HIVE_EENV, "cannot read HEAD's tree");
		goto out;
	}
	r = git_diff_tree_to_index(&diff, g->repo, tree, index, &opts);
	git_diff_free(diff);
	diff = NULL;
	if (r < 0 && !found) {
		rc = git_fail(err, HIVE_EENV, "cannot compare HEAD with the index");
		goto out;
	}
	if (!found && g->workdir) {
		r = git_diff_index_to_workdir(&diff, g->repo, index, &opts);
		if (r < 0 && !found) {
			rc = git_fail(err, HIVE_EENV, "cannot compare the index with the work tree");
			goto out;
		}
	}
	*dirty = found;
out:
	git_error_clear();
	git_diff_free(diff);
	git_tree_free(tree);
	git_commit_free(commit);
	git_index_free(index);
	return rc;
}

struct tag_search {
	git_repository *repo;
	const git_oid *head;
	char *best; /* the alphabetically first tag name pointing at HEAD */
};

static int tag_cb(const char *name, git_oid *oid, void *payload)
{
	struct tag_search *ts = payload;
	git_object *obj = NULL, *peeled = NULL;
	int match = 0;

	if (!strncmp(name, "refs/tags/", 10))
		name += 10;
	if (git_oid_equal(oid, ts->head)) {
		match = 1;
	} else if (git_object_lookup(&obj, ts->repo, oid, GIT_OBJECT_TAG) == 0 &&
		   git_object_peel(&peeled, obj, GIT_OBJECT_COMMIT) == 0) {
		match = git_oid_equal(git_object_id(peeled), ts->head);
	}
	git_object_free(peeled);
	git_object_free(obj);
	git_error_clear();
	if (match && (!ts->best || strcmp(name, ts->best) < 0)) {
		free(ts->best);
		ts->best = strdup(name);
	}
	return 0;
}

/* remote: the URL of the branch's upstream remote, else origin's, credentials removed.
 * Read from one config snapshot (git_remote_lookup would take one per call). */
static cJSON *remote_json(git_repository *repo, const cJSON *branch)
{
	git_config *cfg = NULL;
	const char *name = "origin", *v, *url = NULL;
	char key[1200], clean[2048];
	cJSON *out = NULL;

	if (git_repository_config_snapshot(&cfg, repo) < 0)
		goto out;
	if (cJSON_IsString(branch)) {
		snprintf(key, sizeof(key), "branch.%s.remote", branch->valuestring);
		if (git_config_get_string(&v, cfg, key) == 0 && *v && strcmp(v, "."))
			name = v;
	}
	snprintf(key, sizeof(key), "remote.%s.url", name);
	if (git_config_get_string(&url, cfg, key) == 0 && url) {
		hive_git_strip_credentials(url, clean, sizeof(clean));
		out = cJSON_CreateString(clean);
	}
out:
	git_config_free(cfg);
	git_error_clear();
	return out ? out : cJSON_CreateNull();
}

int hive_git_context(struct hive_git *g, int want_dirty, cJSON **out, struct hive_err *err)
{
	struct tag_search ts = {0};
	git_oid head;
	char hex[GIT_OID_HEXSZ + 1];
	int have_head, detached, dirty, rc;
	cJSON *obj, *branch;

	*out = NULL;
	if (!g) {
		*out = cJSON_CreateNull();
		return HIVE_OK;
	}
	if (g->context && (g->context_has_dirty || !want_dirty))
		goto copy;

	cJSON_Delete(g->context);
	g->context = NULL;
	have_head = git_reference_name_to_id(&head, g->repo, "HEAD") == 0;
	git_error_clear();
	obj = cJSON_CreateObject();
	if (have_head)
		cJSON_AddStringToObject(obj, "commit", git_oid_tostr(hex, sizeof(hex), &head));
	else
		cJSON_AddNullToObject(obj, "commit");
	branch = branch_json(g->repo, &detached);
	cJSON_AddItemToObject(obj, "branch", branch);
	if (want_dirty) {
		if ((rc = scan_dirty(g, have_head ? &head : NULL, &dirty, err))) {
			cJSON_Delete(obj);
			return rc;
		}
		cJSON_AddBoolToObject(obj, "dirty", dirty);
	} else {
		cJSON_AddNullToObject(obj, "dirty");
	}
	if (have_head) {
		ts.repo = g->repo;
		ts.head = &head;
		git_tag_foreach(g->repo, tag_cb, &ts);
		git_error_clear();
	}
	if (ts.best)
		cJSON_AddStringToObject(obj, "tag", ts.best);
	else
		cJSON_AddNullToObject(obj, "tag");
	free(ts.best);
	cJSON_AddItemToObject(obj, "remote", remote_json(g->repo, detached ? NULL : branch));
	g->context = obj;
	g->context_has_dirty = want_dirty;
copy:
	*out = cJSON_Duplicate(g->context, 1);
	if (!want_dirty && g->context_has_dirty)
		cJSON_ReplaceItemInObjectCaseSensitive(*out, "dirty", cJSON_CreateNull());
	return *out ? HIVE_OK : hive_err_set(err, HIVE_EENV, "out of memory");
}

int hive_git_index_foreach(struct hive_git *g, int (*fn)(const char *path, void *arg), void *arg,
			   struct hive_err *err)
{
	git_index *index = NULL;
	const git_index_entry *e;
	size_t i, n;
	int rc = 0;

	if (!g)
		return 0;
	if (git_repository_index(&index, g->repo) < 0)
		return index_fail(g->repo, err);
	n = git_index_entrycount(index);
	for (i = 0; i < n && !rc; i++)
		if ((e = git_index_get_byindex(index, i)))
			rc = fn(e->path, arg);
	git_index_free(index);
	return rc;
}

void hive_git_free(struct hive_git *g)
{
	if (!g)
		return;
	git_repository_free(g->repo);
	cJSON_Delete(g->context);
	free(g->workdir);
	free(g);
	git_libgit2_shutdown();
}
