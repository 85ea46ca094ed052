/* prepush.c - git's pre-push lines to the sessions a push touches, each read from the pushed commit
 */
#include "prepush.h"

#include <cjson/cJSON.h>
#include <git2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint.h"
#include "event.h"
#include "id.h"
#include "json.h"
#include "lines.h"
#include "log.h"
#include "util.h"

/* One ref's sessions under one sessions folder, given to fn (hive_prepush_sessions). */
struct push_walk {
	git_repository *repo;
	const char *rel; /* "<root relative to the top>/sessions" */
	const char *tag; /* the configuration the caller checks under, part of each seen key */
	hive_prepush_fn fn;
	void *arg;
	struct hive_err *err;
	struct hive_strv *seen; /* "<tag>:<folder id>:<published folder id>" already given */
	int not_pushed;		/* hive_tree_sessions: the sessions are read, not pushed */
	const char *prefix;	/* shown before each path ("refs/hive/sessions:"), or NULL */
};

/* The commit a pushed object id stands for: an annotated tag is peeled to its commit.
 * 0 with *id replaced, 1 when the object is no committish (a tag of a tree or a blob:
 * no commits to check), -1 when the object is not in the repository. */
static int peel_to_commit(git_repository *repo, git_oid *id)
{
	git_object *o = NULL, *c = NULL;
	int rc;

	if (git_object_lookup(&o, repo, id, GIT_OBJECT_ANY) < 0)
		return -1;
	rc = git_object_peel(&c, o, GIT_OBJECT_COMMIT) < 0 ? 1 : 0;
	if (!rc)
		git_oid_cpy(id, git_object_id(c));
	git_object_free(c);
	git_object_free(o);
	git_error_clear();
	return rc;
}

/* The sessions subtree ("<rel>/sessions") of a commit's tree, or NULL. */
static git_tree *sessions_tree(git_repository *repo, const git_commit *c, const char *rel)
{
	git_tree *root = NULL, *sub = NULL;
	git_tree_entry *e = NULL;

	if (git_commit_tree(&root, c) == 0 && git_tree_entry_bypath(&e, root, rel) == 0 &&
	    git_tree_entry_type(e) == GIT_OBJECT_TREE)
		git_tree_lookup(&sub, repo, git_tree_entry_id(e));
	git_tree_entry_free(e);
	git_tree_free(root);
	git_error_clear();
	return sub;
}

/* git's tree order: names compare bytewise, a tree's name as if it ended in '/'. */
static int tree_order(const git_tree_entry *a, const git_tree_entry *b)
{
	const char *x = git_tree_entry_name(a), *y = git_tree_entry_name(b);
	size_t lx = strlen(x), ly = strlen(y), n = lx < ly ? lx : ly;
	int c = memcmp(x, y, n);
	unsigned char cx, cy;

	if (c)
		return c;
	cx = lx > n ? (unsigned char)x[n] : git_tree_entry_type(a) == GIT_OBJECT_TREE ? '/' : 0;
	cy = ly > n ? (unsigned char)y[n] : git_tree_entry_type(b) == GIT_OBJECT_TREE ? '/' : 0;
	return (int)cx - (int)cy;
}

static void add_touched(struct hive_strv *sv, const git_tree_entry *e)
{
	const char *id = git_tree_entry_name(e);

	/* not a session (as hive_session_foreach): a .tmp-* folder a killed hive-init left */
	if (hive_id_check("session", id, strlen(id), NULL) != HIVE_OK)
		return;
	if (!hive_strv_has(sv, id))
		hive_strv_push(sv, id);
}

/* The sessions whose folder differs between two sessions trees: one merge walk over
 * the two sorted entry lists, comparing object ids (O(entries), no allocation per entry;
 * a session whose folder id is unchanged is never opened). */
static void diff_sessions(const git_tree *before, const git_tree *now, struct hive_strv *out)
{
	size_t i = 0, j = 0, n = now ? git_tree_entrycount(now) : 0;
	size_t m = before ? git_tree_entrycount(before) : 0;

	while (i < n || j < m) {
		const git_tree_entry *a = i < n ? git_tree_entry_byindex(now, i) : NULL;
		const git_tree_entry *b = j < m ? git_tree_entry_byindex(before, j) : NULL;
		int c = !a ? 1 : !b ? -1 : tree_order(a, b);

		if (c < 0) { /* a new session folder */
			add_touched(out, a);
			i++;
		} else if (c > 0) { /* removed by the push: nothing to check */
			j++;
		} else {
			if (!git_oid_equal(git_tree_entry_id(a), git_tree_entry_id(b)))
				add_touched(out, a);
			i++;
			j++;
		}
	}
}

/* The sessions touched by commits in the push: each commit's sessions subtree compared
 * with its parents' (an unchanged subtree is skipped by its object id; a changed one costs
 * one pass over its entries, never a look inside an unchanged session). */
static int touched_sessions(git_repository *repo, const git_oid *local, const git_oid *remote,
			    const char *rel, struct hive_strv *out, struct hive_err *err)
{
	git_revwalk *walk = NULL;
	git_oid id;
	int rc = HIVE_OK;

	if (git_revwalk_new(&walk, repo) < 0 || git_revwalk_push(walk, local) < 0) {
		rc = hive_err_set(err, HIVE_EENV, "git: cannot walk the pushed commits: %s",
				  git_error_last() ? git_error_last()->message : "?");
		goto out;
	}
	/* a new branch: the commits not on any remote-tracking ref; an update: not on the
	 * remote's old tip (or, if we do not have it, not on any remote-tracking ref) */
	if (!remote || git_revwalk_hide(walk, remote) < 0)
		git_revwalk_hide_glob(walk, "refs/remotes/*");
	git_error_clear();
	while (git_revwalk_next(&id, walk) == 0) {
		git_commit *c = NULL, *parent = NULL;
		git_tree *now = NULL, *before = NULL;
		unsigned int i, np;

		if (git_commit_lookup(&c, repo, &id) < 0)
			continue;
		now = sessions_tree(repo, c, rel);
		np = git_commit_parentcount(c);
		for (i = 0; i < (np ? np : 1); i++) {
			before = NULL;
			if (np && git_commit_parent(&parent, c, i) == 0) {
				before = sessions_tree(repo, parent, rel);
				git_commit_free(parent);
				parent = NULL;
			}
			if (!(now && before &&
			      git_oid_equal(git_tree_id(now), git_tree_id(before))))
				diff_sessions(before, now, out);
			git_tree_free(before);
		}
		git_tree_free(now);
		git_commit_free(c);
		git_error_clear();
	}
out:
	git_revwalk_free(walk);
	return rc;
}

/* Give one session, as it is in the pushed commit (now: that commit's sessions tree) and
 * as it was published (pub: the published commit's, or NULL), to w->fn: blobs from the
 * object database. A session given before with the same content on both sides (another
 * pushed ref carrying the same commits) is not given again. */
/* check input's read_log over a session folder in a commit. */
struct tree_logs {
	git_repository *repo;
	const git_tree *dir;
};

static int read_tree_log(void *arg, const char *name, char **buf, size_t *len, int *missing,
			 struct hive_err *err)
{
	struct tree_logs *t = arg;
	const git_tree_entry *e = git_tree_entry_byname(t->dir, name);
	git_blob *blob = NULL;

	*missing = 0;
	if (!e || git_tree_entry_type(e) != GIT_OBJECT_BLOB) {
		*missing = 1;
		return HIVE_OK;
	}
	if (git_blob_lookup(&blob, t->repo, git_tree_entry_id(e)) < 0)
		return hive_err_set(err, HIVE_EENV, "git: %s: %s", name,
				    git_error_last() ? git_error_last()->message : "?");
	*len = (size_t)git_blob_rawsize(blob);
	if ((*buf = malloc(*len + 1))) {
		memcpy(*buf, git_blob_rawcontent(blob), *len);
		(*buf)[*len] = '\0';
	}
	git_blob_free(blob);
	return *buf ? HIVE_OK : hive_err_set(err, HIVE_EENV, "out of memory");
}

/* The blob dir/name as a buffer of in (borrowed from *blob, which the caller frees). */
static void give_blob(git_repository *repo, const git_tree *dir, const char *name, git_blob **blob,
		      const char **buf, size_t *len)
{
	const git_tree_entry *e = git_tree_entry_byname(dir, name);

	if (e && git_tree_entry_type(e) == GIT_OBJECT_BLOB &&
	    git_blob_lookup(blob, repo, git_tree_entry_id(e)) == 0) {
		*buf = git_blob_rawcontent(*blob);
		*len = (size_t)git_blob_rawsize(*blob);
	}
}

/* A log's segments as the check reads them: blobs of a session folder tree, in order (the first
 * source may be the tail of a blob: bufs[0] points into blobs[0]). */
struct tree_segs {
	git_blob **blobs;
	const char **bufs;
	size_t *lens;
	size_t n, cap;
	char stray[32]; /* a segment name after a gap, or "" */
};

static void segs_free(struct tree_segs *ts)
{
	size_t i;

	for (i = 0; i < ts->n; i++)
		git_blob_free(ts->blobs[i]);
	free(ts->blobs);
	free(ts->bufs);
	free(ts->lens);
	ts->blobs = NULL;
	ts->bufs = NULL;
	ts->lens = NULL;
	ts->n = ts->cap = 0;
}

/* How many segments dir holds (EVENTS.jsonl, EVENTS-000002.jsonl, ... without a gap); a
 * segment name past a gap goes to stray. */
static size_t count_segs(const git_tree *dir, char stray[32])
{
	size_t i, n = 0, count = git_tree_entrycount(dir);
	char name[32];
	long k;

	while (n < HIVE_SEGMENTS_MAX && git_tree_entry_byname(dir, hive_log_segment_name(n, name)))
		n++;
	stray[0] = '\0';
	for (i = 0; i < count; i++)
		if ((k = hive_log_segment_index(
			     git_tree_entry_name(git_tree_entry_byindex(dir, i)))) >= 0 &&
		    (size_t)k >= n && !stray[0])
			snprintf(stray, 32, "%s",
				 git_tree_entry_name(git_tree_entry_byindex(dir, i)));
	return n;
}

/* Segment i of dir into ts (as its next source). HIVE_EENV when it cannot be read. */
static int load_seg(git_repository *repo, const git_tree *dir, size_t i, struct tree_segs *ts,
		    struct hive_err *err)
{
	char name[32];
	const git_tree_entry *e = git_tree_entry_byname(dir, hive_log_segment_name(i, name));

	if (ts->n == ts->cap) {
		size_t cap = ts->cap ? ts->cap * 2 : 8;
		git_blob **b = realloc(ts->blobs, cap * sizeof(*b));
		const char **p = b ? realloc(ts->bufs, cap * sizeof(*p)) : NULL;
		size_t *l = p ? realloc(ts->lens, cap * sizeof(*l)) : NULL;
		if (b)
			ts->blobs = b;
		if (p)
			ts->bufs = p;
		if (!l)
			return hive_err_set(err, HIVE_EENV, "out of memory");
		ts->lens = l;
		ts->cap = cap;
	}
	if (!e || git_tree_entry_type(e) != GIT_OBJECT_BLOB ||
	    git_blob_lookup(&ts->blobs[ts->n], repo, git_tree_entry_id(e)) < 0)
		return hive_err_set(err, HIVE_EENV, "git: %s: %s", name,
				    git_error_last() ? git_error_last()->message : "not a file");
	ts->bufs[ts->n] = git_blob_rawcontent(ts->blobs[ts->n]);
	ts->lens[ts->n] = (size_t)git_blob_rawsize(ts->blobs[ts->n]);
	ts->n++;
	return HIVE_OK;
}

/* The number of lines in buf[0..len), and the last one (without its newline) in *last. */
static size_t count_lines(const char *buf, size_t len, const char **last, size_t *lastlen)
{
	const char *p = buf, *end = buf + len, *nl;
	size_t n = 0;

	*last = NULL;
	*lastlen = 0;
	while (p < end && (nl = memchr(p, '\n', (size_t)(end - p)))) {
		*last = p;
		*lastlen = (size_t)(nl - p);
		n++;
		p = nl + 1;
	}
	return n;
}

/* The timestamp of a line, in Unix milliseconds, or -1. */
static int64_t line_ts(const char *line, size_t len)
{
	cJSON *ev = hive_json_parse(line, len);
	const char *ts = hive_json_str(ev, "timestamp");
	int64_t ms = -1;

	if (!ts || hive_time_parse(ts, &ms) < 0)
		ms = -1;
	cJSON_Delete(ev);
	return ms;
}

/* The published facts a seeded check starts from: the last published line (its seq, hash and
 * time), and the first line's time. */
struct seed {
	char hash[HIVE_HASH_SIZE];
};

/*
 * Cost follows the push (SPEC 9): when a session was published and the push only adds lines
 * to its log (the published segments but the last kept by object id, the last one grown, new
 * segments after it, STATE.json changed, nothing else changed or added, no CHECKPOINT, and no
 * session_completed among the new lines), in is made to check only the new lines, seeded from
 * the last published one; ts holds them. At most two segments are in memory at once. Returns 1
 * then, 0 when the whole log must be read (then ts is empty), -1 on a read error (err). The
 * published lines are not parsed again: they were checked when they were pushed, and rule history
 * holds their bytes.
 */
static int seed_input(git_repository *repo, const git_tree *pdir, const git_tree *dir,
		      struct hive_check_input *in, struct tree_segs *ts, struct seed *sd,
		      struct hive_err *err)
{
	size_t i, np, nn, count = git_tree_entrycount(dir), publen, lines, lastlen;
	const char *last, *name;
	const git_tree_entry *e, *pe;
	git_blob *pub = NULL;
	char stray[32], segname[32];
	cJSON *ev = NULL;
	int64_t ms;
	const cJSON *seq;
	int rc = 0;

	np = count_segs(pdir, stray);
	nn = count_segs(dir, stray);
	if (!np || nn < np || stray[0] || git_tree_entry_byname(dir, HIVE_CHECKPOINT_FILE))
		return 0;
	for (i = 0; i < count; i++) { /* only STATE.json and the log may differ */
		e = git_tree_entry_byindex(dir, i);
		name = git_tree_entry_name(e);
		pe = git_tree_entry_byname(pdir, name);
		if (pe && git_oid_equal(git_tree_entry_id(pe), git_tree_entry_id(e)))
			continue;
		if (strcmp(name, "STATE.json") && hive_log_segment_index(name) < 0)
			return 0;
		if (pe && hive_log_segment_index(name) >= 0 &&
		    (size_t)hive_log_segment_index(name) + 1 < np)
			return 0; /* a sealed segment changed: rule history reports it */
	}
	/* the published last segment, and its new version (a prefix of it, or history reports) */
	e = git_tree_entry_byname(pdir, hive_log_segment_name(np - 1, segname));
	if (git_blob_lookup(&pub, repo, git_tree_entry_id(e)) < 0)
		return hive_err_set(err, HIVE_EENV, "git: %s: %s", segname,
				    git_error_last() ? git_error_last()->message : "?"),
		       -1;
	publen = (size_t)git_blob_rawsize(pub);
	lines = count_lines(git_blob_rawcontent(pub), publen, &last, &lastlen);
	if (!last || ((const char *)git_blob_rawcontent(pub))[publen - 1] != '\n' ||
	    !(ev = hive_json_parse(last, lastlen)) ||
	    !cJSON_IsNumber(seq = cJSON_GetObjectItemCaseSensitive(ev, "seq")) ||
	    !hive_seq_ok(seq->valuedouble) || (ms = line_ts(last, lastlen)) < 0 ||
	    hive_json_str(ev, "event_type") == NULL ||
	    !strcmp(hive_json_str(ev, "event_type"), "session_completed"))
		goto full;
	hive_sha256(last, lastlen, sd->hash);
	in->seed_seq = (int64_t)seq->valuedouble;
	in->seed_ts_ms = ms;
	in->seed_lines = (size_t)in->seed_seq; /* the published log passed the chain rule */
	in->seed_seg = np - 1;
	in->seed_seg_lines = lines;
	in->seed_hash = sd->hash;
	/* a pushed session's start is used by no rule that reads only new lines (require_completed
	 * holds a pushed session whatever its age; max_session_minutes needs session_completed,
	 * which takes the full path): line 1 is not read */
	in->seed_started_ms = ms;
	/* what follows: the new bytes of the last published segment, then every new segment; a
	 * new version that does not start with the published bytes takes the full path (rule
	 * history reports where, the other rules what the edit broke) */
	if (load_seg(repo, dir, np - 1, ts, err) < 0)
		goto fail;
	if (ts->lens[0] < publen || memcmp(ts->bufs[0], git_blob_rawcontent(pub), publen))
		goto full;
	git_blob_free(pub); /* before any new segment is read: two segments in memory at most */
	pub = NULL;
	ts->bufs[0] += publen;
	ts->lens[0] -= publen;
	for (i = np; i < nn; i++)
		if (load_seg(repo, dir, i, ts, err) < 0)
			goto fail;
	for (i = 0; i < ts->n; i++)
		if (memmem(ts->bufs[i], ts->lens[i], "session_completed", 17))
			goto full; /* the completion's rules read the whole session */
	in->seg_bufs = ts->bufs;
	in->seg_lens = ts->lens;
	in->nsegs = ts->n;
	cJSON_Delete(ev);
	return 1;
full:
	rc = 0;
	goto out;
fail:
	rc = -1;
out:
	in->seed_lines = 0;
	in->seed_seg = in->seed_seg_lines = 0;
	segs_free(ts);
	cJSON_Delete(ev);
	git_blob_free(pub);
	git_error_clear();
	return rc;
}

/* The whole log of dir into in (every segment, and a stray one's name). HIVE_EENV when a
 * segment cannot be read. */
static int full_input(git_repository *repo, const git_tree *dir, struct hive_check_input *in,
		      struct tree_segs *ts, struct hive_err *err)
{
	size_t i, n = count_segs(dir, ts->stray);

	if (!n) {
		in->events_missing = 1;
		return HIVE_OK;
	}
	for (i = 0; i < n; i++)
		if (load_seg(repo, dir, i, ts, err))
			return HIVE_EENV;
	in->seg_bufs = ts->bufs;
	in->seg_lens = ts->lens;
	in->nsegs = ts->n;
	in->stray_segment = ts->stray[0] ? ts->stray : NULL;
	return HIVE_OK;
}

/* A session folder tree's lanes/NAME.jsonl files, in memory for the checker. */
struct tree_lanes {
	struct hive_check_file *files;
	size_t n;
};

static void lanes_free(struct tree_lanes *tl)
{
	size_t i;

	for (i = 0; i < tl->n; i++) {
		free(tl->files[i].name);
		free(tl->files[i].buf);
	}
	free(tl->files);
	tl->files = NULL;
	tl->n = 0;
}

/* Every *.jsonl blob of dir's lanes/ subtree into tl (none without one). HIVE_EENV when one
 * cannot be read. */
static int tree_lanes(git_repository *repo, const git_tree *dir, struct tree_lanes *tl,
		      struct hive_err *err)
{
	const git_tree_entry *e = git_tree_entry_byname(dir, "lanes");
	git_tree *sub = NULL;
	git_blob *blob = NULL;
	size_t i, n, len;
	const char *name;
	char shown[300];

	if (!e || git_tree_entry_type(e) != GIT_OBJECT_TREE)
		return HIVE_OK;
	if (git_tree_lookup(&sub, repo, git_tree_entry_id(e)) < 0)
		return hive_err_set(err, HIVE_EENV, "git: lanes: %s",
				    git_error_last() ? git_error_last()->message : "?");
	n = git_tree_entrycount(sub);
	if (n && !(tl->files = calloc(n, sizeof(*tl->files)))) {
		git_tree_free(sub);
		return hive_err_set(err, HIVE_EENV, "out of memory");
	}
	for (i = 0; i < n; i++) {
		e = git_tree_entry_byindex(sub, i);
		name = git_tree_entry_name(e);
		len = strlen(name);
		if (git_tree_entry_type(e) != GIT_OBJECT_BLOB || len <= 6 || len > 200 ||
		    strcmp(name + len - 6, ".jsonl"))
			continue;
		snprintf(shown, sizeof(shown), "lanes/%s", name);
		if (git_blob_lookup(&blob, repo, git_tree_entry_id(e)) < 0) {
			hive_err_set(err, HIVE_EENV, "git: lanes/%s: %s", name,
				     git_error_last() ? git_error_last()->message : "?");
			git_tree_free(sub);
			return HIVE_EENV;
		}
		tl->files[tl->n].len = (size_t)git_blob_rawsize(blob);
		tl->files[tl->n].name = strdup(shown);
		tl->files[tl->n].buf = malloc(tl->files[tl->n].len + 1);
		if (tl->files[tl->n].buf)
			memcpy(tl->files[tl->n].buf, git_blob_rawcontent(blob),
			       tl->files[tl->n].len);
		git_blob_free(blob);
		blob = NULL;
		if (!tl->files[tl->n].name || !tl->files[tl->n].buf) {
			tl->n++;
			git_tree_free(sub);
			return hive_err_set(err, HIVE_EENV, "out of memory");
		}
		tl->n++;
	}
	git_tree_free(sub);
	return HIVE_OK;
}

static int give_session(struct push_walk *w, git_tree *now, git_tree *pub, const char *label,
			const char *id)
{
	struct tree_segs segs = {0};
	struct tree_lanes lanes = {NULL, 0};
	struct seed seed;
	struct hive_check_input in = {0};
	struct hive_pushed p = {0};
	const git_tree_entry *e, *pe = pub ? git_tree_entry_byname(pub, id) : NULL;
	git_tree *dir = NULL, *pdir = NULL;
	git_blob *state = NULL, *cp = NULL, *sig = NULL, *metrics = NULL, *runbook = NULL;
	struct tree_logs logs = {w->repo, NULL};
	char dir_shown[4200], events_shown[4300], key[2 * GIT_OID_HEXSZ + 80];
	int rc;

	e = git_tree_entry_byname(now, id);
	if (!e && !pe)
		return HIVE_OK; /* neither published nor pushed: nothing to check */
	snprintf(key, sizeof(key), "%.60s:%s", w->tag,
		 e ? git_oid_tostr_s(git_tree_entry_id(e)) : "-");
	snprintf(key + strlen(key), sizeof(key) - strlen(key), ":%s",
		 pe ? git_oid_tostr_s(git_tree_entry_id(pe)) : "-");
	if (hive_strv_has(w->seen, key))
		return HIVE_OK;
	if (hive_strv_push(w->seen, key) < 0)
		return hive_err_set(w->err, HIVE_EENV, "out of memory");
	snprintf(dir_shown, sizeof(dir_shown), "%.300s%.3700s/%.150s", w->prefix ? w->prefix : "",
		 w->rel, id);
	snprintf(events_shown, sizeof(events_shown), "%s/EVENTS.jsonl", dir_shown);
	p.repo = w->repo;
	p.id = id;
	p.dir_shown = dir_shown;
	p.events_shown = events_shown;
	p.label = label;
	if (pe && git_tree_entry_type(pe) == GIT_OBJECT_TREE)
		git_tree_lookup(&pdir, w->repo, git_tree_entry_id(pe));
	p.published = pdir;
	if (!e) { /* published, and gone from the pushed commit */
		rc = w->fn(w->arg, &p);
		goto out;
	}
	in.session = id;
	in.dir_shown = dir_shown;
	in.events_shown = events_shown;
	in.events_fd = -1;
	in.pushed = !w->not_pushed;
	p.in = &in;
	if (git_tree_entry_filemode(e) == GIT_FILEMODE_LINK) {
		in.is_symlink = 1;
		rc = w->fn(w->arg, &p);
		goto out;
	}
	rc = HIVE_OK;
	if (git_tree_entry_type(e) != GIT_OBJECT_TREE ||
	    git_tree_lookup(&dir, w->repo, git_tree_entry_id(e)) < 0)
		goto out;
	p.now = dir;
	rc = pdir ? seed_input(w->repo, pdir, dir, &in, &segs, &seed, w->err) : 0;
	if (rc < 0 || (!rc && full_input(w->repo, dir, &in, &segs, w->err))) {
		rc = HIVE_EENV;
		goto out;
	}
	if ((e = git_tree_entry_byname(dir, "STATE.json")) &&
	    git_tree_entry_type(e) == GIT_OBJECT_BLOB &&
	    git_blob_lookup(&state, w->repo, git_tree_entry_id(e)) == 0) {
		in.state_buf = git_blob_rawcontent(state);
		in.state_len = (size_t)git_blob_rawsize(state);
	}
	in.metrics_present = git_tree_entry_byname(dir, "METRICS.json") != NULL;
	give_blob(w->repo, dir, HIVE_CHECKPOINT_FILE, &cp, &in.checkpoint_buf, &in.checkpoint_len);
	give_blob(w->repo, dir, HIVE_CHECKPOINT_SIG_FILE, &sig, &in.signature_buf,
		  &in.signature_len);
	/* for the secrets rule, as on disk */
	give_blob(w->repo, dir, "METRICS.json", &metrics, &in.metrics_buf, &in.metrics_len);
	give_blob(w->repo, dir, "RUNBOOK.md", &runbook, &in.runbook_buf, &in.runbook_len);
	if ((rc = tree_lanes(w->repo, dir, &lanes, w->err)))
		goto out;
	in.lanes = lanes.files;
	in.nlanes = lanes.n;
	logs.dir = dir;
	in.read_log = read_tree_log;
	in.read_log_arg = &logs;
	rc = w->fn(w->arg, &p);
out:
	lanes_free(&lanes);
	segs_free(&segs);
	git_blob_free(state);
	git_blob_free(cp);
	git_blob_free(sig);
	git_blob_free(metrics);
	git_blob_free(runbook);
	git_tree_free(dir);
	git_tree_free(pdir);
	git_error_clear();
	return rc;
}

/* The sessions whose folder in the published sessions tree is not the same in now (changed
 * or gone), added to out. */
static void published_changed(const git_tree *pub, const git_tree *now, struct hive_strv *out)
{
	size_t i, n = pub ? git_tree_entrycount(pub) : 0;

	for (i = 0; i < n; i++) {
		const git_tree_entry *pe = git_tree_entry_byindex(pub, i);
		const git_tree_entry *ne =
			now ? git_tree_entry_byname(now, git_tree_entry_name(pe)) : NULL;
		if (!ne || !git_oid_equal(git_tree_entry_id(ne), git_tree_entry_id(pe)))
			add_touched(out, pe);
	}
}

/*
 * The published version a pushed ref is held against (SPEC 9): the remote's old tip for an
 * update; for a new branch, the newest merge base of the pushed commit with the tips of
 * the refs under refs/remotes/<remote>/ (every remote's when remote is NULL); none when there is no
 * such ref (*found 0). An old tip that is not in this repository is HIVE_EENV: without it
 * nothing can be compared, and the push is refused (fail closed).
 */
static int published_commit(git_repository *repo, const git_oid *local, const git_oid *remote,
			    const char *remote_name, git_oid *out, int *found, struct hive_err *err)
{
	git_reference_iterator *it = NULL;
	git_reference *ref = NULL;
	git_commit *c = NULL;
	char glob[300];
	git_oid mb;

	*found = 0;
	if (remote) {
		if (git_commit_lookup(&c, repo, remote) < 0) {
			git_error_clear();
			return hive_err_set(
				err, HIVE_EENV,
				"the remote's tip %s is not in this repository, so the "
				"push cannot be held against it: git fetch, then push again",
				git_oid_tostr_s(remote));
		}
		git_commit_free(c);
		git_oid_cpy(out, remote);
		*found = 1;
		return HIVE_OK;
	}
	snprintf(glob, sizeof(glob), "refs/remotes/%.200s/*", remote_name ? remote_name : "*");
	if (git_reference_iterator_glob_new(&it, repo, glob) < 0) {
		git_error_clear();
		return HIVE_OK;
	}
	while (git_reference_next(&ref, it) == 0) {
		git_object *o = NULL;
		if (git_reference_peel(&o, ref, GIT_OBJECT_COMMIT) == 0 &&
		    git_merge_base(&mb, repo, local, git_object_id(o)) == 0 &&
		    (!*found || git_graph_descendant_of(repo, &mb, out) == 1)) {
			git_oid_cpy(out, &mb);
			*found = 1;
		}
		git_object_free(o);
		git_reference_free(ref);
		git_error_clear();
	}
	git_reference_iterator_free(it);
	git_error_clear();
	return HIVE_OK;
}

int hive_prepush_sessions(git_repository *repo, const struct hive_push_ref *r, const char *rel,
			  const char *tag, struct hive_strv *seen, hive_prepush_fn fn, void *arg,
			  struct hive_err *err)
{
	struct push_walk w = {repo, rel, tag, fn, arg, err, seen, 0, NULL};
	struct hive_strv ids = {0};
	git_commit *tip = NULL, *pc = NULL;
	git_tree *now = NULL, *pub = NULL;
	size_t i;
	int rc;

	rc = touched_sessions(repo, &r->tip, r->has_old ? &r->old : NULL, rel, &ids, err);
	if (!rc && git_commit_lookup(&tip, repo, &r->tip) == 0)
		now = sessions_tree(repo, tip, rel);
	if (!rc && r->has_published && git_commit_lookup(&pc, repo, &r->published) == 0) {
		pub = sessions_tree(repo, pc, rel);
		published_changed(pub, now, &ids);
	}
	hive_strv_sort(&ids);
	for (i = 0; !rc && i < ids.n; i++)
		rc = now || pub ? give_session(&w, now, pub, r->label, ids.v[i]) : HIVE_OK;
	git_tree_free(now);
	git_tree_free(pub);
	git_commit_free(tip);
	git_commit_free(pc);
	hive_strv_clear(&ids);
	git_error_clear();
	return rc;
}

int hive_tree_sessions(git_repository *repo, const git_oid *commit, const char *rel,
		       const char *prefix, hive_prepush_fn fn, void *arg, struct hive_err *err)
{
	struct hive_strv seen = {0};
	struct push_walk w = {repo, rel, "ref", fn, arg, err, &seen, 1, prefix};
	git_commit *c = NULL;
	git_tree *now = NULL;
	size_t i, n;
	int rc = HIVE_OK;

	if (git_commit_lookup(&c, repo, commit) < 0) {
		rc = hive_err_set(err, HIVE_EENV, "git: commit %s: %s", git_oid_tostr_s(commit),
				  git_error_last() ? git_error_last()->message : "?");
		git_error_clear();
		return rc;
	}
	now = sessions_tree(repo, c, rel);
	n = now ? git_tree_entrycount(now) : 0;
	for (i = 0; !rc && i < n; i++) {
		const char *id = git_tree_entry_name(git_tree_entry_byindex(now, i));
		if (hive_id_check("session", id, strlen(id), NULL) == HIVE_OK)
			rc = give_session(&w, now, NULL, "", id);
	}
	git_tree_free(now);
	git_commit_free(c);
	hive_strv_clear(&seen);
	git_error_clear();
	return rc;
}

int hive_ref_sessions(git_repository *repo, const char *top, const char *root, const char *ref,
		      hive_prepush_fn fn, void *arg, struct hive_err *err)
{
	const char *under = hive_path_under(top, root);
	char rel[4200], prefix[300];
	git_oid tip;

	if (!repo)
		return hive_err_set(err, HIVE_EUSAGE, "--ref: not in a git repository");
	if (!under || strlen(under) > 4000)
		return hive_err_set(err, HIVE_EUSAGE, "--ref: the root %s is outside the work tree",
				    root);
	if (git_reference_name_to_id(&tip, repo, ref) < 0) {
		git_error_clear();
		return hive_err_set(err, HIVE_EUSAGE,
				    "--ref %s: no such ref here (fetch it first: git fetch origin "
				    "'+%s:%s')",
				    ref, ref, ref);
	}
	snprintf(rel, sizeof(rel), "%s/sessions", under);
	snprintf(prefix, sizeof(prefix), "%s:", ref);
	return hive_tree_sessions(repo, &tip, rel, prefix, fn, arg, err);
}

/* Resolve one pushed ref (local: a commit; old: the remote's tip, or NULL for a new
 * branch; name: the remote ref, or NULL) and give it to fn. */
static int give_ref(git_repository *repo, const git_oid *local, const git_oid *old,
		    const char *name, const char *remote, hive_prepush_ref_fn fn, void *arg,
		    struct hive_err *err)
{
	struct hive_push_ref r;
	int rc, found;

	memset(&r, 0, sizeof(r));
	snprintf(r.name, sizeof(r.name), "%s", name ? name : "");
	git_oid_cpy(&r.tip, local);
	if (old) {
		git_oid_cpy(&r.old, old);
		r.has_old = 1;
	}
	if ((rc = published_commit(repo, local, old, remote, &r.published, &found, err)))
		return rc;
	r.has_published = found;
	if (found)
		git_oid_tostr(r.label, 8, &r.published); /* as git abbreviates */
	return fn(arg, &r);
}

/* An empty standard input (fail closed, SPEC 9): every local branch, and every sessions ref
 * under refs/hive/ (SPEC 11), as a new branch. */
static int all_branches(git_repository *repo, const char *remote, hive_prepush_ref_fn fn, void *arg,
			struct hive_err *err)
{
	static const char *const globs[] = {"refs/heads/*", "refs/hive/*"};
	git_reference_iterator *it = NULL;
	git_reference *ref = NULL;
	size_t i;
	int rc = HIVE_OK;

	for (i = 0; !rc && i < sizeof(globs) / sizeof(globs[0]); i++) {
		if (git_reference_iterator_glob_new(&it, repo, globs[i]) < 0)
			return hive_err_set(err, HIVE_EENV, "git: cannot list %s: %s", globs[i],
					    git_error_last() ? git_error_last()->message : "?");
		while (!rc && git_reference_next(&ref, it) == 0) {
			git_object *o = NULL;
			git_oid id;
			if (git_reference_peel(&o, ref, GIT_OBJECT_COMMIT) == 0) {
				git_oid_cpy(&id, git_object_id(o));
				rc = give_ref(repo, &id, NULL, git_reference_name(ref), remote, fn,
					      arg, err);
			}
			git_object_free(o);
			git_reference_free(ref);
		}
		git_reference_iterator_free(it);
		it = NULL;
	}
	git_error_clear();
	return rc;
}

int hive_prepush_refs(git_repository *repo, const char *remote, int fd, hive_prepush_ref_fn fn,
		      void *arg, struct hive_err *err)
{
	struct hive_lines *r = NULL;
	enum hive_line_kind kind;
	const char *line;
	size_t len, refs = 0;
	int got = 0, rc = HIVE_OK, pr;
	git_oid local, old;
	struct hive_prepush_line pl;

	if ((rc = hive_lines_from_fd(fd, &r, err)))
		return rc;
	while (!rc && (got = hive_lines_next(r, &line, &len, &kind, err)) > 0) {
		if (len == 0)
			continue;
		if ((rc = hive_prepush_parse_line(line, len, &pl, err))) {
			hive_err_prefix(err, "stdin:%zu", hive_lines_number(r));
			break;
		}
		refs++;
		if (pl.local_zero)
			continue; /* a deleted ref: nothing is pushed */
		git_oid_fromraw(&local, pl.local);
		if (!pl.remote_zero)
			git_oid_fromraw(&old, pl.remote);
		/* an annotated tag pushes the commits it points at (and git_commit_lookup below
		 * would fail on the tag object itself, checking nothing) */
		if ((pr = peel_to_commit(repo, &local)) < 0) {
			rc = hive_err_set(err, HIVE_EENV, "stdin:%zu: %s: no such object",
					  hive_lines_number(r), pl.local_hex);
			break;
		}
		if (pr > 0)
			continue; /* a tag of a tree or a blob: no commits */
		if ((rc = give_ref(repo, &local, pl.remote_zero ? NULL : &old, pl.remote_ref,
				   remote, fn, arg, err)))
			hive_err_prefix(err, "stdin:%zu", hive_lines_number(r));
	}
	if (!rc && got < 0)
		rc = err->status; /* stdin could not be read: nothing was checked */
	if (!rc && refs == 0)
		rc = all_branches(repo, remote, fn, arg, err);
	hive_lines_free(r);
	return rc;
}

int hive_commit_file(git_repository *repo, const git_oid *commit, const char *path, char **buf,
		     size_t *len, char key[GIT_OID_HEXSZ + 1], struct hive_err *err)
{
	git_commit *c = NULL;
	git_tree *tree = NULL;
	git_tree_entry *e = NULL;
	git_blob *blob = NULL;
	int rc = HIVE_OK;

	*buf = NULL;
	*len = 0;
	snprintf(key, GIT_OID_HEXSZ + 1, "-");
	if (git_commit_lookup(&c, repo, commit) < 0 || git_commit_tree(&tree, c) < 0) {
		rc = hive_err_set(err, HIVE_EENV, "git: commit %s: %s", git_oid_tostr_s(commit),
				  git_error_last() ? git_error_last()->message : "?");
		goto out;
	}
	if (git_tree_entry_bypath(&e, tree, path) < 0 || git_tree_entry_type(e) != GIT_OBJECT_BLOB)
		goto out; /* no such file in that commit */
	if (git_blob_lookup(&blob, repo, git_tree_entry_id(e)) < 0) {
		rc = hive_err_set(err, HIVE_EENV, "git: %s: %s", path,
				  git_error_last() ? git_error_last()->message : "?");
		goto out;
	}
	*len = (size_t)git_blob_rawsize(blob);
	if (!(*buf = malloc(*len + 1))) {
		rc = hive_err_set(err, HIVE_EENV, "out of memory");
		goto out;
	}
	memcpy(*buf, git_blob_rawcontent(blob), *len);
	(*buf)[*len] = '\0';
	git_oid_tostr(key, GIT_OID_HEXSZ + 1, git_tree_entry_id(e));
out:
	git_blob_free(blob);
	git_tree_entry_free(e);
	git_tree_free(tree);
	git_commit_free(c);
	git_error_clear();
	return rc;
}

static int hex_digit(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* An object id of 40 or 64 lowercase hex digits into raw (20 bytes) and *zero ("none").
 * 0, -1 when it is no object id, -2 for a non-zero 64-digit (SHA-256) id. */
static int parse_oid(const char *s, unsigned char raw[20], int *zero)
{
	size_t n = strlen(s), i;

	if (n != 40 && n != 64)
		return -1;
	*zero = 1;
	for (i = 0; i < n; i++) {
		if (hex_digit(s[i]) < 0)
			return -1;
		if (s[i] != '0')
			*zero = 0;
	}
	if (*zero)
		return 0;
	if (n == 64)
		return -2; /* a SHA-256 object id: libgit2 1.5 reads SHA-1 repositories only */
	for (i = 0; i < 20; i++)
		raw[i] = (unsigned char)(hex_digit(s[2 * i]) << 4 | hex_digit(s[2 * i + 1]));
	return 0;
}

int hive_prepush_parse_line(const char *line, size_t len, struct hive_prepush_line *out,
			    struct hive_err *err)
{
	char *f[5], *save = NULL;
	int n, pr;

	memset(out, 0, sizeof(*out));
	if (len >= sizeof(out->buf))
		return hive_err_set(err, HIVE_EUSAGE, "not a pre-push line");
	memcpy(out->buf, line, len);
	out->buf[len] = '\0';
	for (n = 0, f[0] = strtok_r(out->buf, " \t", &save); f[n] && n < 4;)
		f[++n] = strtok_r(NULL, " \t", &save);
	if (n != 4 || f[4])
		return hive_err_set(err, HIVE_EUSAGE,
				    "expected <local ref> <local sha> <remote ref> <remote sha>");
	if ((pr = parse_oid(f[1], out->local, &out->local_zero)) ||
	    (pr = parse_oid(f[3], out->remote, &out->remote_zero)))
		return pr == -2 ? hive_err_set(err, HIVE_EENV,
					       "a SHA-256 repository, which hive cannot read yet")
				: hive_err_set(err, HIVE_EUSAGE,
					       "not an object id of 40 or 64 hex digits");
	out->local_ref = f[0];
	out->local_hex = f[1];
	out->remote_ref = f[2];
	out->remote_hex = f[3];
	return HIVE_OK;
}
