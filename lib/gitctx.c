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
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gitindex.h"

struct hive_git {
	git_repository *repo;
	char *workdir;	/* no trailing slash; NULL when bare */
	cJSON *context; /* cached `git` object (with or without the dirty scan) */
	int context_has_dirty;
	int skip_hash;	    /* index written with index.skipHash: -1 not looked at yet, 0, 1 */
	git_config *config; /* one snapshot for the process; NULL until first needed */
};

/* The repository's configuration, snapshotted once per process: each snapshot re-reads
 * and parses every config file, and the work tree, the dirty scan and the remote all ask.
 * NULL when it cannot be read (callers then use git's defaults). */
static git_config *config_of(struct hive_git *g)
{
	if (!g->config && git_repository_config_snapshot(&g->config, g->repo) < 0) {
		g->config = NULL;
		git_error_clear();
	}
	return g->config;
}

static int git_fail(struct hive_err *err, int status, const char *what)
{
	const git_error *e = git_error_last();

	return hive_err_set(err, status, "git: %s: %s", what,
			    e && e->message ? e->message : "failed");
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

/* git_repository_set_workdir, skipped when the repository already has that work tree:
 * libgit2 1.5.1 leaks its prettified copy of the path in that case (it returns before
 * freeing it), which ASan and valgrind report on every hook run with GIT_DIR set. */
static int set_workdir(git_repository *repo, const char *path)
{
	const char *now = git_repository_workdir(repo);
	char *real = realpath(path, NULL);
	size_t n = real ? strlen(real) : 0;
	int same = real && now && strncmp(now, real, n) == 0 &&
		   (now[n] == '\0' || (now[n] == '/' && now[n + 1] == '\0'));

	free(real);
	return same ? 0 : git_repository_set_workdir(repo, path, 0);
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
	git_config_entry *entry = NULL;
	int rc, status = HIVE_EENV;

	*out = NULL;
	git_libgit2_init();
	/* Like git, trust the object database on read: re-hashing every object read (the
	 * default in libgit2) doubled the cost of diffing HEAD against the index. */
	git_libgit2_opts(GIT_OPT_ENABLE_STRICT_HASH_VERIFICATION, 0);
	if (!(g = calloc(1, sizeof(*g))))
		return hive_err_set(err, HIVE_EENV, "out of memory");
	g->skip_hash = -1;

	if (gitdir && *gitdir) {
		/* git's rule: GIT_DIR names the repository, and without GIT_WORK_TREE or
		 * core.worktree the current directory is the top of the work tree. */
		rc = git_repository_open_ext(&g->repo, gitdir, GIT_REPOSITORY_OPEN_NO_SEARCH, NULL);
		if (rc < 0) {
			git_fail(err, HIVE_EENV, "GIT_DIR");
			hive_err_prefix(err, "%s", gitdir);
			goto fail;
		}
		if (!(worktree && *worktree) && !git_repository_is_bare(g->repo) && config_of(g) &&
		    git_config_get_entry(&entry, g->config, "core.worktree") == GIT_ENOTFOUND &&
		    set_workdir(g->repo, cwd) < 0) {
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
	if (worktree && *worktree && set_workdir(g->repo, worktree) < 0) {
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
	*out = g;
	return HIVE_OK;
fail:
	git_config_entry_free(entry);
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
static int stop_at_first(const git_diff *diff, const git_diff_delta *delta, const char *matched,
			 void *payload)
{
	(void)diff;
	(void)delta;
	(void)matched;
	*(int *)payload = 1;
	return -1;
}

/* The index file git would read: GIT_INDEX_FILE, else <gitdir>/index. */
static void index_path(git_repository *repo, char *out, size_t size)
{
	const char *env = getenv("GIT_INDEX_FILE");

	if (env && *env)
		snprintf(out, size, "%s", env);
	else
		snprintf(out, size, "%sindex", git_repository_path(repo));
}

/* The stat comparison settings git takes from core.* (git's ie_match_stat). */
struct stat_rules {
	int filemode;	/* core.filemode: the executable bit counts */
	int trustctime; /* core.trustctime */
	int minimal;	/* core.checkStat=minimal: only mtime seconds, size and type */
	int symlinks;	/* core.symlinks */
};

static int config_bool(git_config *cfg, const char *key, int dflt)
{
	int v;

	return cfg && git_config_get_bool(&v, cfg, key) == 0 ? v : dflt;
}

/* One thread's share of the work-tree scan. */
struct scan_job {
	const struct hive_index *idx;
	const struct stat_rules *rules;
	int wdfd;
	size_t from, to;
	atomic_int *dirty; /* set by whoever finds a change first; all stop */
	size_t *recheck;   /* entries whose stat data cannot decide: compare contents */
	size_t nrecheck, cap;
	int oom;
};

static void add_recheck(struct scan_job *j, size_t i)
{
	if (j->nrecheck == j->cap) {
		size_t cap = j->cap ? j->cap * 2 : 64;
		size_t *n = realloc(j->recheck, cap * sizeof(*n));
		if (!n) {
			j->oom = 1;
			return;
		}
		j->recheck = n;
		j->cap = cap;
	}
	j->recheck[j->nrecheck++] = i;
}

/* Compare entries [from, to) with lstat, as git does; record those only a content
 * comparison can decide (racily clean, or stat data changed). */
static void *scan_slice(void *arg)
{
	struct scan_job *j = arg;
	const struct hive_index *idx = j->idx;
	const struct stat_rules *r = j->rules;
	struct stat st;
	size_t i;

	for (i = j->from; i < j->to && !atomic_load_explicit(j->dirty, memory_order_relaxed); i++) {
		const struct hive_index_entry *e = &idx->e[i];
		uint32_t type = e->mode & S_IFMT;
		int changed = 0;

		if (HIVE_INDEX_STAGE(e)) { /* an unresolved merge */
			atomic_store(j->dirty, 1);
			break;
		}
		if (type == 0160000 || type == S_IFDIR || (e->flags & HIVE_INDEX_ASSUME_VALID) ||
		    (e->xflags & HIVE_INDEX_SKIP_WORKTREE))
			continue; /* submodules, sparse directories, entries git is told to trust */
		if (e->xflags & HIVE_INDEX_INTENT_TO_ADD) {
			atomic_store(j->dirty, 1);
			break;
		}
		if (fstatat(j->wdfd, e->path, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			if (errno == ENOENT || errno == ENOTDIR)
				atomic_store(j->dirty, 1); /* deleted */
			else
				add_recheck(j, i); /* let the content check report the error */
			continue;
		}
		if (type == S_IFREG) {
			if (!S_ISREG(st.st_mode) ||
			    (r->filemode && ((e->mode ^ st.st_mode) & 0100))) {
				atomic_store(j->dirty, 1);
				break;
			}
		} else if (type == S_IFLNK) {
			if (!S_ISLNK(st.st_mode) && (r->symlinks || !S_ISREG(st.st_mode))) {
				atomic_store(j->dirty, 1);
				break;
			}
		}
		changed |= e->mtime_s != (uint32_t)st.st_mtim.tv_sec;
		changed |= e->size != (uint32_t)st.st_size;
		if (!r->minimal) {
			changed |= e->mtime_ns != (uint32_t)st.st_mtim.tv_nsec;
			changed |= r->trustctime && (e->ctime_s != (uint32_t)st.st_ctim.tv_sec ||
						     e->ctime_ns != (uint32_t)st.st_ctim.tv_nsec);
			changed |= e->ino != (uint32_t)st.st_ino || e->uid != (uint32_t)st.st_uid ||
				   e->gid != (uint32_t)st.st_gid;
		}
		/* racily clean: modified in the same instant the index was written */
		if (changed || e->mtime_s > (uint32_t)idx->mtime.tv_sec ||
		    (e->mtime_s == (uint32_t)idx->mtime.tv_sec &&
		     e->mtime_ns >= (uint32_t)idx->mtime.tv_nsec))
			add_recheck(j, i);
	}
	return NULL;
}

/* Does entry e's content in the work tree differ from its blob? 1, 0, or -1 on error
 * (with err filled). Filters (core.autocrlf, .gitattributes) apply as in git. */
static int content_differs(struct hive_git *g, const struct hive_index_entry *e,
			   struct hive_err *err)
{
	git_oid want, got;
	char target[4096], full[8192];
	ssize_t n;

	git_oid_fromraw(&want, e->oid);
	if ((e->mode & S_IFMT) == S_IFLNK) {
		snprintf(full, sizeof(full), "%s/%s", g->workdir, e->path);
		n = readlink(full, target, sizeof(target));
		if (n >= 0) {
			if (git_odb_hash(&got, target, (size_t)n, GIT_OBJECT_BLOB) < 0)
				return git_fail(err, HIVE_EENV, "cannot hash a symlink"), -1;
			return !git_oid_equal(&got, &want);
		}
	}
	/* libgit2 reads the index for .gitattributes in git_repository_hashfile, and 1.5
	 * cannot read one written with index.skipHash: say so, as everywhere else. Asked
	 * before the call, because 1.5.1 leaks its path buffer when that read fails. */
	if (g->skip_hash < 0)
		g->skip_hash = index_has_skip_hash(g->repo);
	if (g->skip_hash)
		return index_fail(g->repo, err), -1;
	if (git_repository_hashfile(&got, g->repo, e->path, GIT_OBJECT_BLOB, NULL) < 0) {
		git_fail(err, HIVE_EENV, "cannot read a tracked file");
		hive_err_prefix(err, "%s", e->path);
		return -1;
	}
	return !git_oid_equal(&got, &want);
}

/* Work tree against the index: a parallel lstat pass (git's preload-index), then content
 * comparisons, serially, for the few entries stat data cannot decide. */
static int scan_worktree(struct hive_git *g, const struct hive_index *idx,
			 const struct stat_rules *rules, int *dirty, struct hive_err *err)
{
	struct scan_job jobs[8];
	pthread_t threads[8];
	atomic_int found = 0;
	size_t nthreads = 1, t, k, started = 0;
	int wdfd, rc = HIVE_OK, r;

	*dirty = 0;
	if (idx->n >= 4096) { /* threads pay off only on big trees; CPUs from our affinity mask */
		cpu_set_t set;
		int cpus = sched_getaffinity(0, sizeof(set), &set) == 0 ? CPU_COUNT(&set) : 1;
		nthreads = (size_t)(cpus < 1 ? 1 : cpus > 8 ? 8 : cpus);
	}
	if ((wdfd = open(g->workdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return hive_err_sys(err, HIVE_EENV, errno, "git: %s", g->workdir);
	memset(jobs, 0, sizeof(jobs));
	for (t = 0; t < nthreads; t++) {
		jobs[t].idx = idx;
		jobs[t].rules = rules;
		jobs[t].wdfd = wdfd;
		jobs[t].dirty = &found;
		jobs[t].from = idx->n * t / nthreads;
		jobs[t].to = idx->n * (t + 1) / nthreads;
	}
	for (t = 1; t < nthreads; t++)
		if (pthread_create(&threads[t], NULL, scan_slice, &jobs[t]) == 0)
			started = t;
		else
			break;
	/* slices whose thread did not start are scanned here */
	for (k = started + 1; k < nthreads; k++)
		scan_slice(&jobs[k]);
	scan_slice(&jobs[0]);
	for (t = 1; t <= started; t++)
		pthread_join(threads[t], NULL);
	close(wdfd);
	*dirty = atomic_load(&found);
	for (t = 0; t < nthreads && !*dirty; t++) {
		if (jobs[t].oom) {
			rc = hive_err_set(err, HIVE_EENV, "out of memory");
			break;
		}
		for (k = 0; k < jobs[t].nrecheck && !*dirty; k++) {
			if ((r = content_differs(g, &idx->e[jobs[t].recheck[k]], err)) < 0) {
				rc = HIVE_EENV;
				break;
			}
			*dirty = r;
		}
		if (rc)
			break;
	}
	for (t = 0; t < nthreads; t++)
		free(jobs[t].recheck);
	return rc;
}

/* Index against HEAD with libgit2, stopping at the first difference: the slow path,
 * taken only when the index's cache-tree cannot answer. */
static int diff_head_index(struct hive_git *g, const git_oid *head_tree, int *dirty,
			   struct hive_err *err)
{
	git_diff_options opts;
	git_tree *tree = NULL;
	git_index *index = NULL;
	git_diff *diff = NULL;
	int found = 0, r, rc = HIVE_OK;

	*dirty = 0;
	git_diff_options_init(&opts, GIT_DIFF_OPTIONS_VERSION);
	opts.flags = GIT_DIFF_SKIP_BINARY_CHECK;
	opts.ignore_submodules = GIT_SUBMODULE_IGNORE_ALL;
	opts.notify_cb = stop_at_first;
	opts.payload = &found;
	if (git_repository_index(&index, g->repo) < 0)
		return index_fail(g->repo, err);
	if (git_tree_lookup(&tree, g->repo, head_tree) < 0) {
		rc = git_fail(err, HIVE_EENV, "cannot read HEAD's tree");
		goto out;
	}
	r = git_diff_tree_to_index(&diff, g->repo, tree, index, &opts);
	if (r < 0 && !found)
		rc = git_fail(err, HIVE_EENV, "cannot compare HEAD with the index");
	*dirty = found;
out:
	git_error_clear();
	git_diff_free(diff);
	git_tree_free(tree);
	git_index_free(index);
	return rc;
}

/* The cache-tree child of node named name[0..len), or HIVE_CT_NONE. */
static size_t ct_child(const struct hive_index *idx, size_t node, const char *name, size_t len)
{
	size_t c;

	if (node == HIVE_CT_NONE)
		return HIVE_CT_NONE;
	for (c = idx->ct[node].first_child; c != HIVE_CT_NONE; c = idx->ct[c].next_sibling)
		if (idx->ct[c].name_len == len && !memcmp(idx->ct[c].name, name, len))
			return c;
	return HIVE_CT_NONE;
}

/* Index against HEAD, as git does it: walk HEAD's tree beside the index entries
 * [lo, hi), which are exactly those under prefix (plen bytes, "" or "dir/sub/"), and skip
 * every directory whose cache-tree node (node, or HIVE_CT_NONE) is still valid by
 * comparing one tree id. Only the directories a `git add` touched are read entry by entry.
 * Returns 1 when they differ, 0 when they are the same, and -1 when this walk will not
 * say: a conflict, an intent-to-add entry, a submodule or a sparse index's directory
 * entry (libgit2's diff decides those as before), a path too long, or a tree libgit2
 * cannot read. */
static int staged_walk(git_repository *repo, const struct hive_index *idx, size_t node,
		       const git_tree *tree, char *prefix, size_t plen, size_t lo, size_t hi)
{
	size_t i = lo, j, matched = 0, len, child;
	const struct hive_index_entry *e;
	const git_tree_entry *te;
	const char *rest, *slash;
	git_oid oid;
	int r;

	while (i < hi) {
		e = &idx->e[i];
		if (HIVE_INDEX_STAGE(e) || (e->xflags & HIVE_INDEX_INTENT_TO_ADD) ||
		    (e->mode & 0170000) == 0160000 || (e->mode & 0170000) == 0040000)
			return -1; /* 040000: a sparse index's directory entry */
		rest = e->path + plen;
		if (!(slash = strchr(rest, '/'))) { /* a file in this directory */
			te = git_tree_entry_byname(tree, rest);
			git_oid_fromraw(&oid, e->oid);
			if (!te || git_tree_entry_type(te) != GIT_OBJECT_BLOB ||
			    (uint32_t)git_tree_entry_filemode(te) != e->mode ||
			    !git_oid_equal(&oid, git_tree_entry_id(te)))
				return 1;
			matched++;
			i++;
			continue;
		}
		/* a subdirectory: the entries [i, j) under rest[0..len) + "/" */
		len = (size_t)(slash - rest);
		if (plen + len + 2 > PATH_MAX)
			return -1;
		memcpy(prefix + plen, rest, len + 1);
		for (j = i + 1; j < hi && !strncmp(idx->e[j].path, prefix, plen + len + 1); j++)
			;
		prefix[plen + len] = '\0';
		te = git_tree_entry_byname(tree, prefix + plen);
		prefix[plen + len] = '/';
		if (!te || git_tree_entry_type(te) != GIT_OBJECT_TREE)
			return 1;
		child = ct_child(idx, node, rest, len);
		if (child != HIVE_CT_NONE && idx->ct[child].entries >= 0 &&
		    (size_t)idx->ct[child].entries == j - i) {
			git_oid_fromraw(&oid, idx->ct[child].oid);
			if (!git_oid_equal(&oid, git_tree_entry_id(te)))
				return 1;
		} else {
			git_tree *sub = NULL;

			if (git_tree_lookup(&sub, repo, git_tree_entry_id(te)) < 0)
				return -1;
			r = staged_walk(repo, idx, child, sub, prefix, plen + len + 1, i, j);
			git_tree_free(sub);
			if (r)
				return r;
		}
		matched++;
		i = j;
	}
	/* every entry of HEAD's tree here has its counterpart in the index */
	return matched == git_tree_entrycount(tree) ? 0 : 1;
}

/* Index against HEAD's tree: staged_walk from the root, else libgit2's diff. */
static int staged_differs(struct hive_git *g, const struct hive_index *idx,
			  const git_oid *head_tree, int *dirty, struct hive_err *err)
{
	char prefix[PATH_MAX];
	git_tree *tree = NULL;
	int r = -1;

	if (git_tree_lookup(&tree, g->repo, head_tree) == 0)
		r = staged_walk(g->repo, idx, idx->ct ? 0 : HIVE_CT_NONE, tree, prefix, 0, 0,
				idx->n);
	git_tree_free(tree);
	git_error_clear();
	if (r >= 0) {
		*dirty = r;
		return HIVE_OK;
	}
	return diff_head_index(g, head_tree, dirty, err);
}

/* dirty: tracked changes in the index or the work tree against HEAD. Untracked files
 * and submodules are not scanned. The index is read directly so its cache-tree can say
 * "index equals HEAD" at once (as git does); the work tree is compared by stat data in
 * parallel. Returns 0/1 in *dirty, or a status on failure. */
static int scan_dirty(struct hive_git *g, const git_oid *head, int *dirty, struct hive_err *err)
{
	struct hive_index *idx = NULL;
	struct stat_rules rules;
	git_config *cfg = NULL;
	git_commit *commit = NULL;
	git_oid tree_id;
	char path[4096];
	int rc, staged_known = 0;
	git_buf buf = {0};

	*dirty = 0;
	if (git_repository_is_bare(g->repo))
		return HIVE_OK; /* no work tree and no index: nothing can differ from HEAD */
	index_path(g->repo, path, sizeof(path));
	if ((rc = hive_index_read(path, &idx, err)))
		return rc;
	if (idx->split) {
		rc = hive_err_set(err, HIVE_EENV,
				  "git: %s is a split index (core.splitIndex), which hive cannot "
				  "read; set HIVE_GIT_DIRTY=0",
				  path);
		goto out;
	}
	if (!head) {
		*dirty = idx->n > 0; /* unborn branch: anything staged is a change */
		goto out;
	}
	if (git_commit_lookup(&commit, g->repo, head) < 0) {
		rc = git_fail(err, HIVE_EENV, "cannot read HEAD");
		goto out;
	}
	git_oid_cpy(&tree_id, git_commit_tree_id(commit));
	if (idx->tree_root_valid) {
		git_oid root;
		git_oid_fromraw(&root, idx->tree_root);
		if (git_oid_equal(&root, &tree_id))
			staged_known = 1; /* the index is HEAD's tree */
		else {
			*dirty = 1;
			goto out;
		}
	}
	if (g->workdir) {
		cfg = config_of(g);
		rules.filemode = config_bool(cfg, "core.filemode", 1);
		rules.trustctime = config_bool(cfg, "core.trustctime", 1);
		rules.symlinks = config_bool(cfg, "core.symlinks", 1);
		rules.minimal = cfg &&
				git_config_get_string_buf(&buf, cfg, "core.checkstat") == 0 &&
				!strcmp(buf.ptr, "minimal");
		if ((rc = scan_worktree(g, idx, &rules, dirty, err)) || *dirty)
			goto out;
	}
	if (!staged_known)
		rc = staged_differs(g, idx, &tree_id, dirty, err);
out:
	git_buf_dispose(&buf);
	git_commit_free(commit);
	hive_index_free(idx);
	git_error_clear();
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
static cJSON *remote_json(struct hive_git *g, const cJSON *branch)
{
	git_config *cfg;
	const char *name = "origin", *v, *url = NULL;
	char key[1200], clean[2048];
	cJSON *out = NULL;

	if (!(cfg = config_of(g)))
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
	cJSON_AddItemToObject(obj, "remote", remote_json(g, detached ? NULL : branch));
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
	struct hive_index *idx = NULL;
	const char *last = NULL;
	char path[4096];
	size_t i;
	int rc;

	if (!g)
		return 0;
	index_path(g->repo, path, sizeof(path));
	if ((rc = hive_index_read(path, &idx, err)))
		return rc;
	for (i = 0, rc = 0; i < idx->n && !rc; i++) {
		if (last && !strcmp(last, idx->e[i].path))
			continue; /* the stages of a conflicted path */
		last = idx->e[i].path;
		rc = fn(last, arg);
	}
	hive_index_free(idx);
	return rc;
}

void hive_git_free(struct hive_git *g)
{
	if (!g)
		return;
	git_config_free(g->config);
	git_repository_free(g->repo);
	cJSON_Delete(g->context);
	free(g->workdir);
	free(g);
	git_libgit2_shutdown();
}
