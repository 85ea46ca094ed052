/* gate.c - which sessions a hive-check run reads (a folder, all of them, FILE operands, a push) and
 * the checks on each */
#include "gate.h"

#include <errno.h>
#include <git2.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "history.h"
#include "prepush.h"
#include "session.h"

/* A path as findings show it: relative to the top of the work tree when inside it. */
static const char *shown(const struct hive_gate *g, const char *path)
{
	const char *rel = hive_path_under(g->top, path);

	return rel ? rel : path;
}

/* --since: hold the folder on disk (dirfd) against its version in the published commit. */
static int since_session(struct hive_gate *g, const char *id, int dirfd, const char *shown,
			 struct hive_err *err)
{
	const git_tree_entry *e = git_tree_entry_byname(g->since->sessions, id);
	git_tree *pub = NULL;
	int rc;

	if (!e || git_tree_entry_type(e) != GIT_OBJECT_TREE ||
	    git_tree_lookup(&pub, g->since->repo, git_tree_entry_id(e)) < 0) {
		git_error_clear();
		return HIVE_OK; /* a session new since then */
	}
	rc = hive_history_session(g->since->repo, pub, NULL, dirfd, shown, g->since->label, g->f,
				  err);
	git_tree_free(pub);
	return rc;
}

/* Check the session folder root/sessions/id from the file system. */
int hive_gate_folder(struct hive_gate *g, const char *root, const char *id, struct hive_err *err)
{
	struct hive_check_input in = {0};
	struct hive_session *s = NULL;
	struct hive_err e = {0};
	struct hive_check_owned owned = {0};
	char dir[4200], events[4300];
	size_t moved;
	struct stat st;
	int rc, rebuilt;

	snprintf(dir, sizeof(dir), "%s/sessions/%s", root, id);
	snprintf(events, sizeof(events), "%s/EVENTS.jsonl", shown(g, dir));
	in.session = id;
	in.dir_shown = shown(g, dir);
	in.events_shown = events;
	in.events_fd = -1;
	hive_findings_session(g->f, id, events, g->rules, g->nrules);
	if (lstat(dir, &st) == 0 && S_ISLNK(st.st_mode)) {
		in.is_symlink = 1;
		return hive_check_session(&g->checker, &in, g->f, err);
	}
	if (g->repair) {
		char path[4400], shown_events[4400];
		const char *rel = hive_path_under(g->top, root);
		if ((rc = hive_session_open(root, id, &s, err)))
			return rc;
		/* a root outside the work tree is in no commit */
		if (g->repo && rel) {
			snprintf(path, sizeof(path), "%.4000s/sessions/%.150s/EVENTS.jsonl", rel,
				 id);
			snprintf(shown_events, sizeof(shown_events), "%.4200s/EVENTS.jsonl",
				 s->dir);
			rc = hive_history_repair_ok(g->repo, path, s->eventsfd, shown_events, err);
		}
		if (!rc)
			rc = hive_session_repair(s, &moved, &rebuilt, err);
		hive_session_close(s);
		s = NULL;
		if (rc)
			return rc;
		if (moved && g->notes)
			fprintf(g->notes,
				"%s: %s: moved a cut-off last line (%zu bytes) to "
				"EVENTS.jsonl.torn\n",
				hive_progname, id, moved);
		if (rebuilt == 1 && g->notes)
			fprintf(g->notes, "%s: %s: rebuilt STATE.json from the log\n",
				hive_progname, id);
	}
	rc = hive_session_open_ro(root, id, &s, &e);
	if (rc == HIVE_EENV && e.sys == ENOENT) { /* the folder is there, EVENTS.jsonl is not */
		in.events_missing = 1;
		return hive_check_session(&g->checker, &in, g->f, err);
	}
	if (rc) {
		*err = e;
		return rc;
	}
	/* a shared lock: the log and STATE.json are read in step with writers */
	if (hive_session_lock_shared(s, hive_lock_timeout(), &e) && e.sys != ENOENT) {
		*err = e;
		hive_session_close(s);
		return HIVE_EENV;
	}
	if ((rc = hive_check_input_from_session(s, in.dir_shown, events, &in, &owned, err))) {
		hive_session_close(s);
		return rc;
	}
	rc = hive_check_session(&g->checker, &in, g->f, err);
	if (!rc && g->since)
		rc = since_session(g, id, s->dirfd, in.dir_shown, err);
	hive_check_owned_free(&owned);
	hive_session_close(s);
	return rc;
}

struct walk {
	struct hive_gate *g;
	const char *root;
	struct hive_err *err;
};

static int check_one(const char *id, void *arg)
{
	struct walk *w = arg;

	return hive_gate_folder(w->g, w->root, id, w->err);
}

int hive_gate_all(struct hive_gate *g, const char *root, struct hive_err *err)
{
	struct walk w = {g, root, err};

	return hive_session_foreach(root, check_one, &w, err);
}

int hive_gate_operand(struct hive_gate *g, const char *arg, struct hive_err *err)
{
	struct hive_check_input in = {0};
	char *copy = NULL, *root = NULL, *id = NULL;
	struct stat st;
	int fd, rc;
	const char *base = strrchr(arg, '/');

	base = base ? base + 1 : arg;
	if (!strcmp(arg, "-")) {
		in.events_shown = "-";
		in.events_fd = 0;
		hive_findings_session(g->f, NULL, "-", g->rules, g->nrules);
		return hive_check_session(&g->checker, &in, g->f, err);
	}
	if (lstat(arg, &st) < 0)
		return hive_err_sys(err, HIVE_EUSAGE, errno, "%s", arg);
	if (S_ISDIR(st.st_mode) || !strcmp(base, "EVENTS.jsonl")) {
		/* <root>/sessions/<id>[/EVENTS.jsonl]: check the folder */
		if (!(copy = realpath(arg, NULL)))
			return hive_err_sys(err, HIVE_EUSAGE, errno, "%s", arg);
		rc = hive_session_path_split(copy, S_ISDIR(st.st_mode), &root, &id, err);
		free(copy);
		if (rc == HIVE_EUSAGE && !S_ISDIR(st.st_mode)) {
			hive_err_clear(err);
			goto bare; /* an EVENTS.jsonl outside a session folder: a bare log */
		}
		if (rc == HIVE_EUSAGE)
			return hive_err_set(err, HIVE_EUSAGE,
					    "%s: not a session folder (<root>/sessions/<id>)", arg);
		if (!rc)
			rc = hive_gate_folder(g, root, id, err);
		free(root);
		free(id);
		return rc;
	}
bare:
	if ((fd = open(arg, O_RDONLY | O_CLOEXEC)) < 0)
		return hive_err_sys(err, HIVE_EUSAGE, errno, "%s", arg);
	in.events_shown = arg;
	in.events_fd = fd;
	hive_findings_session(g->f, NULL, arg, g->rules, g->nrules);
	rc = hive_check_session(&g->checker, &in, g->f, err);
	close(fd);
	return rc;
}

/* --- pre-push ---------------------------------------------------------------------- */

struct pushed {
	struct hive_gate *g;
	struct hive_err *err;
};

static int check_pushed(void *arg, const struct hive_pushed *p)
{
	struct pushed *w = arg;
	struct hive_gate *g = w->g;
	int rc = HIVE_OK;

	hive_findings_session(g->f, p->id, p->events_shown, g->rules, g->nrules);
	if (p->in && (rc = hive_check_session(&g->checker, p->in, g->f, w->err)))
		return rc;
	if (!p->published)
		return HIVE_OK;
	if (!p->in)
		hive_history_gone(g->f, p->dir_shown, p->label);
	else if (p->now)
		rc = hive_history_session(p->repo, p->published, p->now, -1, p->dir_shown, p->label,
					  g->f, w->err);
	return rc;
}

/* "history" among the rules junit lists, once. */
static void add_history_rule(struct hive_gate *g)
{
	size_t i;

	for (i = 0; i < g->nrules; i++)
		if (!strcmp(g->rules[i], HIVE_HISTORY_RULE))
			return;
	if (g->nrules < sizeof(g->rules) / sizeof(g->rules[0]))
		g->rules[g->nrules++] = HIVE_HISTORY_RULE;
}

int hive_gate_prepush(struct hive_gate *g, struct git_repository *repo, const char *root,
		      const char *remote, int fd, struct hive_err *err)
{
	struct pushed p = {g, err};
	const char *under = hive_path_under(g->top, root);
	char rel[4200];

	if (!repo)
		return hive_err_set(err, HIVE_EUSAGE, "--pre-push: not in a git repository");
	if (!under)
		return hive_err_set(err, HIVE_EUSAGE,
				    "--pre-push: the root %s is outside the work tree", root);
	if (strlen(under) > 4000)
		return hive_err_set(err, HIVE_EUSAGE, "--pre-push: the root path is too long");
	snprintf(rel, sizeof(rel), "%s/sessions", under);
	add_history_rule(g);
	return hive_prepush_each(repo, rel, remote, fd, check_pushed, &p, err);
}

int hive_gate_since(struct hive_gate *g, struct git_repository *repo, const char *rev,
		    const char *root, struct hive_err *err)
{
	struct hive_gate_since since = {repo, NULL, ""};
	git_object *o = NULL;
	git_commit *c = NULL;
	git_tree *tree = NULL;
	git_tree_entry *e = NULL;
	const char *under = hive_path_under(g->top, root);
	size_t i, n;
	char rel[4200], shown[4400];
	int rc;

	if (!repo)
		return hive_err_set(err, HIVE_EUSAGE, "--since: not in a git repository");
	if (!under)
		return hive_err_set(err, HIVE_EUSAGE,
				    "--since: the root %s is outside the work tree", root);
	snprintf(rel, sizeof(rel), "%.4000s/sessions", under);
	if (git_revparse_single(&o, repo, rev) < 0 ||
	    git_object_peel((git_object **)&c, o, GIT_OBJECT_COMMIT) < 0) {
		rc = hive_err_set(err, HIVE_EUSAGE, "--since %s: not a commit in this repository",
				  rev);
		goto out;
	}
	git_oid_tostr(since.label, 8, git_commit_id(c)); /* as git abbreviates */
	if (git_commit_tree(&tree, c) == 0 && git_tree_entry_bypath(&e, tree, rel) == 0 &&
	    git_tree_entry_type(e) == GIT_OBJECT_TREE)
		git_tree_lookup(&since.sessions, repo, git_tree_entry_id(e));
	git_error_clear();
	add_history_rule(g);
	g->since = since.sessions ? &since : NULL;
	if ((rc = hive_gate_all(g, root, err)))
		goto out;
	/* the published sessions that are not on disk any more */
	n = since.sessions ? git_tree_entrycount(since.sessions) : 0;
	for (i = 0; i < n; i++) {
		const char *id = git_tree_entry_name(git_tree_entry_byindex(since.sessions, i));
		char path[4400];
		struct stat st;

		if (hive_id_check("session", id, strlen(id), NULL) != HIVE_OK)
			continue; /* not a session: a .tmp-* folder a killed hive-init left */

		snprintf(path, sizeof(path), "%.4000s/sessions/%.150s", root, id);
		if (lstat(path, &st) == 0 || errno != ENOENT)
			continue;
		snprintf(shown, sizeof(shown), "%.4200s/%.150s", rel, id);
		hive_findings_session(g->f, id, shown, g->rules, g->nrules);
		hive_history_gone(g->f, shown, since.label);
	}
out:
	g->since = NULL;
	git_tree_free(since.sessions);
	git_tree_entry_free(e);
	git_tree_free(tree);
	git_commit_free(c);
	git_object_free(o);
	git_error_clear();
	return rc;
}
