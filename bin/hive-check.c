/* hive-check.c - the gate: verify sessions from the work tree, from files, or as git is about to push them */
#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <git2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../lib/check.h"
#include "../lib/cictx.h"
#include "../lib/cli.h"
#include "../lib/findings.h"
#include "../lib/gitctx.h"
#include "../lib/log.h"
#include "../lib/redact.h"
#include "../lib/util.h"

static const char usage[] =
	"usage: hive-check [--session ID | --all | FILE... | -] [--format FORMAT] [--strict]\n"
	"                  [--repair] [options]\n"
	"       hive-check --pre-push [options] < git's pre-push lines\n"
	"\n"
	"Verify sessions: every line JSON, the event schema, seq and the prev hash chain,\n"
	"protocol order, STATE.json agreement, timestamps, secrets and the policies in\n"
	".hive.yml. With no selection: the resolved session, else every session.\n"
	"\n"
	"  --all                every session under the root\n"
	"  FILE...              session folders or EVENTS.jsonl files (a file named\n"
	"                       EVENTS.jsonl is checked with its folder); - reads a log\n"
	"                       from standard input\n"
	"  --format FORMAT      text (default), json, github, junit or codequality\n"
	"  --strict             warnings fail the check too\n"
	"  --repair             move a cut-off last line to EVENTS.jsonl.torn and rebuild a\n"
	"                       STATE.json that is behind the log, then check\n"
	"  --pre-push           check the sessions changed by the commits being pushed, as\n"
	"                       they are in those commits (reads git's pre-push lines)\n"
	"  -C DIR               run as if started in DIR\n"
	"  --root DIR           hive root (env HIVE_ROOT; default Docs/hive-mind at the top)\n"
	"  --session ID         session id (env HIVE_SESSION_ID; CI ids)\n"
	"  --config FILE        configuration (env HIVE_CONFIG; default .hive.yml at the top)\n"
	"  -q, --quiet          no summary or notes on stderr\n"
	"  -h, --help           show this help\n"
	"      --version        show the version\n"
	"\n"
	"Exit status: 0 no errors (and no warnings with --strict), 1 findings, 2 usage or\n"
	"invalid input, 3 environment or I/O failure.\n";

enum { OPT_ALL = 2000, OPT_FORMAT, OPT_STRICT, OPT_PREPUSH, OPT_REPAIR };

struct check_opts {
	int all, strict, pre_push, repair;
	const char *format;
};

static const struct option check_long[] = {
	{"all", no_argument, NULL, OPT_ALL},
	{"format", required_argument, NULL, OPT_FORMAT},
	{"strict", no_argument, NULL, OPT_STRICT},
	{"pre-push", no_argument, NULL, OPT_PREPUSH},
	{"repair", no_argument, NULL, OPT_REPAIR},
	{0, 0, 0, 0},
};

static int check_option(void *tool, int key, const char *arg, struct hive_err *err)
{
	struct check_opts *o = tool;

	switch (key) {
	case OPT_ALL:
		o->all = 1;
		return HIVE_OK;
	case OPT_FORMAT:
		o->format = arg;
		return HIVE_OK;
	case OPT_STRICT:
		o->strict = 1;
		return HIVE_OK;
	case OPT_PREPUSH:
		o->pre_push = 1;
		return HIVE_OK;
	case OPT_REPAIR:
		o->repair = 1;
		return HIVE_OK;
	}
	return hive_err_set(err, HIVE_EUSAGE, "unknown option");
}

/* What one run shares between its sessions. */
struct gate {
	struct hive_ctx *ctx;
	struct check_opts *o;
	struct hive_checker checker;
	struct hive_findings *f;
	const char *rules[16];
	size_t nrules;
};

/* A path as findings show it: relative to the top of the work tree when inside it. */
static const char *shown(const struct hive_ctx *ctx, const char *path)
{
	size_t n = strlen(ctx->top);

	if (!strncmp(path, ctx->top, n) && path[n] == '/')
		return path + n + 1;
	return path;
}

/* Check the session folder root/sessions/id from the file system. */
static int check_folder(struct gate *g, const char *root, const char *id)
{
	struct hive_check_input in = {0};
	struct hive_session *s = NULL;
	struct hive_err e = {0};
	char *state = NULL, dir[4200], events[4300];
	size_t moved;
	struct stat st;
	int rc, rebuilt;

	snprintf(dir, sizeof(dir), "%s/sessions/%s", root, id);
	snprintf(events, sizeof(events), "%s/EVENTS.jsonl", shown(g->ctx, dir));
	in.session = id;
	in.dir_shown = shown(g->ctx, dir);
	in.events_shown = events;
	in.events_fd = -1;
	hive_findings_session(g->f, id, events, g->rules, g->nrules);
	if (lstat(dir, &st) == 0 && S_ISLNK(st.st_mode)) {
		in.is_symlink = 1;
		return hive_check_session(&g->checker, &in, g->f, &g->ctx->err);
	}
	if (g->o->repair) {
		if ((rc = hive_session_open(root, id, &s, &g->ctx->err)))
			return rc;
		rc = hive_log_repair(s, &moved, &rebuilt, &g->ctx->err);
		hive_session_close(s);
		s = NULL;
		if (rc)
			return rc;
		if (moved && !g->ctx->quiet)
			fprintf(stderr, "%s: %s: moved a cut-off last line (%zu bytes) to EVENTS.jsonl.torn\n",
				hive_progname, id, moved);
		if (rebuilt == 1 && !g->ctx->quiet)
			fprintf(stderr, "%s: %s: rebuilt STATE.json from the log\n", hive_progname, id);
	}
	rc = hive_session_open_ro(root, id, &s, &e);
	if (rc && strstr(e.msg, "EVENTS.jsonl") && strstr(e.msg, "No such file")) {
		in.events_missing = 1;
		return hive_check_session(&g->checker, &in, g->f, &g->ctx->err);
	}
	if (rc) {
		g->ctx->err = e;
		return rc;
	}
	/* a shared lock: the log and STATE.json are read in step with writers */
	if (hive_session_lock_shared(s, hive_lock_timeout(), &e) && !strstr(e.msg, "No such file")) {
		g->ctx->err = e;
		hive_session_close(s);
		return HIVE_EENV;
	}
	if ((rc = hive_check_input_from_session(s, in.dir_shown, events, &in, &state, &g->ctx->err))) {
		hive_session_close(s);
		return rc;
	}
	rc = hive_check_session(&g->checker, &in, g->f, &g->ctx->err);
	free(state);
	hive_session_close(s);
	return rc;
}

/* Every session folder under root, in name order. */
static int check_all(struct gate *g, const char *root)
{
	struct dirent **names = NULL;
	char dir[4200];
	int n, i, rc = HIVE_OK;

	snprintf(dir, sizeof(dir), "%s/sessions", root);
	n = scandir(dir, &names, NULL, alphasort);
	if (n < 0) {
		if (errno == ENOENT)
			return HIVE_OK; /* no sessions yet */
		return hive_err_sys(&g->ctx->err, HIVE_EENV, errno, "%s", dir);
	}
	for (i = 0; i < n; i++) {
		const char *id = names[i]->d_name;
		if (!rc && id[0] != '.' && hive_id_check("session", id, strlen(id), NULL) == HIVE_OK &&
		    (names[i]->d_type == DT_DIR || names[i]->d_type == DT_LNK ||
		     names[i]->d_type == DT_UNKNOWN))
			rc = check_folder(g, root, id);
		free(names[i]);
	}
	free(names);
	return rc;
}

/* A FILE operand: a folder, an EVENTS.jsonl (checked with its folder), or a bare log. */
static int check_operand(struct gate *g, const char *arg)
{
	struct hive_check_input in = {0};
	char *copy = NULL, *slash, *root = NULL;
	struct stat st;
	int fd, rc;
	const char *base = strrchr(arg, '/');

	base = base ? base + 1 : arg;
	if (!strcmp(arg, "-")) {
		in.events_shown = "-";
		in.events_fd = 0;
		hive_findings_session(g->f, NULL, "-", g->rules, g->nrules);
		return hive_check_session(&g->checker, &in, g->f, &g->ctx->err);
	}
	if (lstat(arg, &st) < 0)
		return hive_err_sys(&g->ctx->err, HIVE_EUSAGE, errno, "%s", arg);
	if (S_ISDIR(st.st_mode) || !strcmp(base, "EVENTS.jsonl")) {
		/* <root>/sessions/<id>[/EVENTS.jsonl]: check the folder */
		if (!(copy = realpath(arg, NULL)))
			return hive_err_sys(&g->ctx->err, HIVE_EUSAGE, errno, "%s", arg);
		if (!S_ISDIR(st.st_mode) && (slash = strrchr(copy, '/')))
			*slash = '\0';
		slash = strrchr(copy, '/');
		if (!slash || slash - copy < 9 || strncmp(slash - 9, "/sessions", 9)) {
			free(copy);
			if (S_ISDIR(st.st_mode))
				return hive_err_set(&g->ctx->err, HIVE_EUSAGE,
						    "%s: not a session folder (<root>/sessions/<id>)",
						    arg);
			goto bare; /* an EVENTS.jsonl outside a session folder: a bare log */
		}
		*slash = '\0';
		root = strndup(copy, (size_t)(slash - 9 - copy));
		rc = root ? check_folder(g, root, slash + 1) : HIVE_EENV;
		free(root);
		free(copy);
		return rc;
	}
bare:
	if ((fd = open(arg, O_RDONLY | O_CLOEXEC)) < 0)
		return hive_err_sys(&g->ctx->err, HIVE_EUSAGE, errno, "%s", arg);
	in.events_shown = arg;
	in.events_fd = fd;
	hive_findings_session(g->f, NULL, arg, g->rules, g->nrules);
	rc = hive_check_session(&g->checker, &in, g->f, &g->ctx->err);
	close(fd);
	return rc;
}

/* --- pre-push ---------------------------------------------------------------------- */

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
			if (!(now && before && git_oid_equal(git_tree_id(now), git_tree_id(before))))
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

/* Check one session as it is in the pushed commit: blobs from the object database. */
static int check_blob_session(struct gate *g, git_repository *repo, git_tree *sessions,
			      const char *rel, const char *id)
{
	struct hive_check_input in = {0};
	const git_tree_entry *e;
	git_tree *dir = NULL;
	git_blob *events = NULL, *state = NULL;
	char dir_shown[4200], events_shown[4300];
	int rc;

	snprintf(dir_shown, sizeof(dir_shown), "%.4000s/%.150s", rel, id);
	snprintf(events_shown, sizeof(events_shown), "%s/EVENTS.jsonl", dir_shown);
	if (!(e = git_tree_entry_byname(sessions, id)))
		return HIVE_OK; /* deleted by the push: nothing to check */
	in.session = id;
	in.dir_shown = dir_shown;
	in.events_shown = events_shown;
	in.events_fd = -1;
	hive_findings_session(g->f, id, events_shown, g->rules, g->nrules);
	if (git_tree_entry_filemode(e) == GIT_FILEMODE_LINK) {
		in.is_symlink = 1;
		return hive_check_session(&g->checker, &in, g->f, &g->ctx->err);
	}
	if (git_tree_entry_type(e) != GIT_OBJECT_TREE ||
	    git_tree_lookup(&dir, repo, git_tree_entry_id(e)) < 0)
		return HIVE_OK;
	if ((e = git_tree_entry_byname(dir, "EVENTS.jsonl")) &&
	    git_tree_entry_type(e) == GIT_OBJECT_BLOB &&
	    git_blob_lookup(&events, repo, git_tree_entry_id(e)) == 0) {
		in.events_buf = git_blob_rawcontent(events);
		in.events_len = (size_t)git_blob_rawsize(events);
	} else {
		in.events_missing = 1;
	}
	if ((e = git_tree_entry_byname(dir, "STATE.json")) &&
	    git_tree_entry_type(e) == GIT_OBJECT_BLOB &&
	    git_blob_lookup(&state, repo, git_tree_entry_id(e)) == 0) {
		in.state_buf = git_blob_rawcontent(state);
		in.state_len = (size_t)git_blob_rawsize(state);
	}
	in.metrics_present = git_tree_entry_byname(dir, "METRICS.json") != NULL;
	rc = hive_check_session(&g->checker, &in, g->f, &g->ctx->err);
	git_blob_free(events);
	git_blob_free(state);
	git_tree_free(dir);
	git_error_clear();
	return rc;
}

static int pre_push(struct gate *g)
{
	git_repository *repo = hive_git_repo(g->ctx->git);
	struct hive_lines *r = NULL;
	enum hive_line_kind kind;
	const char *line;
	char rel[4200];
	size_t len, top_len = strlen(g->ctx->top);
	int got, rc = HIVE_OK, pr;
	git_oid local, remote;
	struct hive_prepush_line pl;

	if (!repo)
		return hive_err_set(&g->ctx->err, HIVE_EUSAGE, "--pre-push: not in a git repository");
	if (strncmp(g->ctx->root, g->ctx->top, top_len) || g->ctx->root[top_len] != '/')
		return hive_err_set(&g->ctx->err, HIVE_EUSAGE,
				    "--pre-push: the root %s is outside the work tree", g->ctx->root);
	if (strlen(g->ctx->root + top_len + 1) > 4000)
		return hive_err_set(&g->ctx->err, HIVE_EUSAGE, "--pre-push: the root path is too long");
	memcpy(rel, g->ctx->root + top_len + 1, strlen(g->ctx->root + top_len + 1));
	strcpy(rel + strlen(g->ctx->root + top_len + 1), "/sessions");
	if ((rc = hive_lines_from_fd(0, &r, &g->ctx->err)))
		return rc;
	while (!rc && (got = hive_lines_next(r, &line, &len, &kind, &g->ctx->err)) > 0) {
		struct hive_strv touched = {0};
		git_commit *tip = NULL;
		git_tree *sessions = NULL;
		size_t i;

		if (len == 0)
			continue;
		if ((rc = hive_prepush_parse_line(line, len, &pl, &g->ctx->err))) {
			hive_err_prefix(&g->ctx->err, "stdin:%zu", hive_lines_number(r));
			break;
		}
		if (pl.local_zero)
			continue; /* a deleted ref: nothing is pushed */
		git_oid_fromraw(&local, pl.local);
		if (!pl.remote_zero)
			git_oid_fromraw(&remote, pl.remote);
		/* an annotated tag pushes the commits it points at (and git_commit_lookup below
		 * would fail on the tag object itself, checking nothing) */
		if ((pr = peel_to_commit(repo, &local)) < 0) {
			rc = hive_err_set(&g->ctx->err, HIVE_EENV, "stdin:%zu: %s: no such object",
					  hive_lines_number(r), pl.local_hex);
			break;
		}
		if (pr > 0)
			continue; /* a tag of a tree or a blob: no commits */
		rc = touched_sessions(repo, &local, pl.remote_zero ? NULL : &remote, rel, &touched,
				      &g->ctx->err);
		if (!rc && touched.n && git_commit_lookup(&tip, repo, &local) == 0)
			sessions = sessions_tree(repo, tip, rel);
		for (i = 0; !rc && sessions && i < touched.n; i++)
			rc = check_blob_session(g, repo, sessions, rel, touched.v[i]);
		git_tree_free(sessions);
		git_commit_free(tip);
		hive_strv_clear(&touched);
	}
	if (!rc && got < 0)
		rc = g->ctx->err.status; /* stdin could not be read: nothing was checked */
	hive_lines_free(r);
	return rc;
}

int main(int argc, char **argv)
{
	struct check_opts opts = {0, 0, 0, 0, "text"};
	struct hive_cli_tool tool = {usage, "", check_long, check_option, &opts};
	struct hive_ctx ctx = {0};
	struct gate g = {0};
	const char *no_color = getenv("NO_COLOR");
	char buf[192];
	int rc, first, generated, i, color;

	hive_progname = "hive-check";
	if ((rc = hive_cli_parse(&ctx, &tool, argc, argv, &first)))
		goto fail;
	if (ctx.want_help) {
		fputs(usage, stdout);
		return 0;
	}
	if (ctx.want_version) {
		printf("hive-check %s\n", HIVE_VERSION);
		return 0;
	}
	if (opts.pre_push && (first < argc || opts.all || ctx.session_opt || opts.repair)) {
		rc = hive_err_set(&ctx.err, HIVE_EUSAGE,
				  "--pre-push takes its sessions from the push: no FILE, --all, "
				  "--session or --repair");
		goto fail;
	}
	if (first < argc && ctx.session_opt) {
		rc = hive_err_set(&ctx.err, HIVE_EUSAGE, "--session cannot be combined with FILE");
		goto fail;
	}
	if (opts.all && (first < argc || ctx.session_opt)) {
		rc = hive_err_set(&ctx.err, HIVE_EUSAGE, "--all cannot be combined with FILE or --session");
		goto fail;
	}
	color = !strcmp(opts.format, "text") && isatty(1) && !(no_color && *no_color);
	if ((rc = hive_findings_new(opts.format, stdout, color, &g.f, &ctx.err)) ||
	    (rc = hive_ctx_setup(&ctx)) ||
	    (rc = hive_redactor_new(&ctx.cfg, &g.checker.red, &ctx.err)))
		goto fail;
	g.ctx = &ctx;
	g.o = &opts;
	g.checker.cfg = &ctx.cfg;
	g.nrules = hive_check_rules(&ctx.cfg, g.rules);

	if (opts.pre_push) {
		rc = pre_push(&g);
	} else if (first < argc) {
		for (i = first, rc = HIVE_OK; i < argc && !rc; i++)
			rc = check_operand(&g, argv[i]);
	} else if (!opts.all && (ctx.session_opt || (getenv("HIVE_SESSION_ID") &&
						      *getenv("HIVE_SESSION_ID")) ||
				 hive_ci_session_id(buf, sizeof(buf)))) {
		if (!(rc = hive_ctx_session(&ctx, 0, &generated)))
			rc = check_folder(&g, ctx.root, ctx.session_id);
	} else {
		rc = check_all(&g, ctx.root);
	}
	if (rc)
		goto fail;
	if (hive_findings_finish(g.f, opts.strict) < 0) {
		rc = hive_err_set(&ctx.err, HIVE_EENV, "cannot write to standard output");
		goto fail;
	}
	rc = hive_findings_errors(g.f) || (opts.strict && hive_findings_warnings(g.f)) ? HIVE_FAIL
										 : HIVE_OK;
	if (!ctx.quiet)
		fprintf(stderr, "%s: %zu session%s checked: %zu error%s, %zu warning%s%s\n",
			hive_progname, hive_findings_sessions(g.f),
			hive_findings_sessions(g.f) == 1 ? "" : "s", hive_findings_errors(g.f),
			hive_findings_errors(g.f) == 1 ? "" : "s", hive_findings_warnings(g.f),
			hive_findings_warnings(g.f) == 1 ? "" : "s",
			rc && opts.pre_push ? " (push refused; HIVE_SKIP=1 bypasses the hook)" : "");
	goto done;
fail:
	hive_err_print(&ctx.err);
done:
	hive_findings_free(g.f);
	hive_redactor_free(g.checker.red);
	hive_ctx_free(&ctx);
	return rc;
}
