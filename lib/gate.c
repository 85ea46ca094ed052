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

#include "coverage.h"
#include "history.h"
#include "prepush.h"
#include "publish.h"
#include "redact.h"
#include "session.h"
#include "sshsig.h"

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
	rc = hive_history_session(g->since->repo, pub, NULL, dirfd, shown, g->since->label, 0, g->f,
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
			char seg[32]; /* the active segment: the one a cut-off line can end */
			hive_log_segment_name(s->nsegs ? s->nsegs - 1 : 0, seg);
			snprintf(path, sizeof(path), "%.4000s/sessions/%.150s/%s", rel, id, seg);
			snprintf(shown_events, sizeof(shown_events), "%.4200s/%s", s->dir, seg);
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

/* --- the published configuration (SPEC 9) ------------------------------------------ */

/* One configuration a --pre-push or --since run checks under. */
struct conf {
	char key[2 * GIT_OID_HEXSZ + 16]; /* "<config blob>:<allowed_signers blob>" ("-": none),
					     "+root" when --root replaced its root */
	struct hive_config cfg;
	const struct hive_config *cfg_ptr; /* &cfg, or the run's own (borrowed) */
	struct hive_checker checker;
	char *root;	/* absolute, inside the work tree */
	char rel[4200]; /* "<root below the top>/sessions" */
	const char *rules[HIVE_CHECK_RULES_MAX + 1];
	size_t nrules;
	int borrowed; /* the run's own (g->checker): nothing here to free */
};

/* The configurations one run has met, each made once. */
struct confs {
	struct conf *v[16];
	size_t n;
};

static void conf_free(struct conf *c)
{
	if (!c)
		return;
	if (!c->borrowed) {
		hive_redactor_free(c->checker.red);
		hive_signers_free((struct hive_signers *)c->checker.signers);
		hive_config_free(&c->cfg);
	}
	free(c->root);
	free(c);
}

static void confs_free(struct confs *cs)
{
	size_t i;

	for (i = 0; i < cs->n; i++)
		conf_free(cs->v[i]);
	cs->n = 0;
}

static struct conf *confs_find(struct confs *cs, const char *key)
{
	size_t i;

	for (i = 0; i < cs->n; i++)
		if (!strcmp(cs->v[i]->key, key))
			return cs->v[i];
	return NULL;
}

/* "history" among c's rules, once. */
static void add_history_rule(const char **rules, size_t *n)
{
	size_t i;

	for (i = 0; i < *n; i++)
		if (!strcmp(rules[i], HIVE_HISTORY_RULE))
			return;
	if (*n < HIVE_CHECK_RULES_MAX)
		rules[(*n)++] = HIVE_HISTORY_RULE;
}

/* c->rel from c->root; HIVE_EUSAGE when the root is not inside the work tree. */
static int conf_place(struct hive_gate *g, struct conf *c, const char *what, struct hive_err *err)
{
	const char *under = hive_path_under(g->top, c->root);

	if (!under)
		return hive_err_set(err, HIVE_EUSAGE, "%s: the root %s is outside the work tree",
				    what, c->root);
	if (strlen(under) > 4000)
		return hive_err_set(err, HIVE_EUSAGE, "%s: the root path is too long", what);
	snprintf(c->rel, sizeof(c->rel), "%s/sessions", under);
	return HIVE_OK;
}

/* Add c to cs (which owns it from then on), or free it on failure. */
static int confs_add(struct confs *cs, struct conf *c, struct conf **out, struct hive_err *err)
{
	if (cs->n == sizeof(cs->v) / sizeof(cs->v[0])) {
		conf_free(c);
		return hive_err_set(err, HIVE_EUSAGE,
				    "the push holds more than %zu configurations: push fewer refs",
				    sizeof(cs->v) / sizeof(cs->v[0]));
	}
	cs->v[cs->n++] = c;
	*out = c;
	return HIVE_OK;
}

/* The run's own configuration (g->checker, root): the new version in --since, and in
 * --pre-push when the configuration file is outside the work tree. key: its file's blob id. */
static int conf_own(struct hive_gate *g, struct confs *cs, const char *key, const char *root,
		    struct conf **out, struct hive_err *err)
{
	struct conf *c;
	int rc;

	if ((*out = confs_find(cs, key)))
		return HIVE_OK;
	if (!(c = calloc(1, sizeof(*c))) || !(c->root = strdup(root))) {
		free(c);
		return hive_err_set(err, HIVE_EENV, "out of memory");
	}
	c->borrowed = 1;
	snprintf(c->key, sizeof(c->key), "%s", key);
	c->checker = g->checker;
	c->cfg_ptr = g->checker.cfg;
	c->nrules = hive_check_rules(g->checker.cfg, c->rules);
	add_history_rule(c->rules, &c->nrules);
	if ((rc = conf_place(g, c, "the root", err))) {
		conf_free(c);
		return rc;
	}
	return confs_add(cs, c, out, err);
}

/* The configuration in commit (label: it abbreviated): g->config_path in its tree (none: the
 * defaults), with trust.allowed_signers read from the same commit (an absolute path: from
 * disk), its root replaced by root when given (the new version under --root). One conf per
 * distinct pair of files. */
static int conf_commit(struct hive_gate *g, struct confs *cs, struct git_repository *repo,
		       const git_oid *commit, const char *label, const char *root,
		       struct conf **out, struct hive_err *err)
{
	const char *path = g->config_path ? g->config_path : ".hive.yml";
	char key[GIT_OID_HEXSZ + 1], skey[GIT_OID_HEXSZ + 1] = "-", name[4300], sname[4300];
	char what[4400], *buf = NULL, *sbuf = NULL;
	const char *signers_path;
	struct hive_signers *signers = NULL;
	struct conf *c;
	size_t len, slen = 0;
	int rc;

	if (!(c = calloc(1, sizeof(*c))))
		return hive_err_set(err, HIVE_EENV, "out of memory");
	hive_config_init(&c->cfg);
	snprintf(name, sizeof(name), "%s:%.4000s", label, path);
	if ((rc = hive_commit_file(repo, commit, path, &buf, &len, key, err)) ||
	    (buf && (rc = hive_config_parse(&c->cfg, name, buf, len, err))))
		goto fail;
	signers_path = c->cfg.allowed_signers;
	snprintf(sname, sizeof(sname), "%s:%.4000s", label, signers_path ? signers_path : "");
	if (signers_path && *signers_path != '/') {
		if ((rc = hive_commit_file(repo, commit, signers_path, &sbuf, &slen, skey, err)))
			goto fail;
		if (!sbuf) {
			rc = hive_err_set(err, HIVE_EUSAGE,
					  "%s: trust.allowed_signers: no such file", sname);
			goto fail;
		}
	}
	snprintf(c->key, sizeof(c->key), "%s:%s%s", key, skey, root ? "+root" : "");
	if ((*out = confs_find(cs, c->key))) {
		rc = HIVE_OK; /* made before */
		goto fail;
	}
	if (root) {
		rc = (c->root = strdup(root)) ? HIVE_OK
					      : hive_err_set(err, HIVE_EENV, "out of memory");
	} else {
		char *given = NULL;
		if (c->cfg.root)
			snprintf(what, sizeof(what), "root: in %s,", name);
		else
			snprintf(what, sizeof(what), "the default root of %s", label);
		rc = asprintf(&given, "%s/%s", g->top,
			      c->cfg.root ? c->cfg.root : "Docs/hive-mind") < 0
			     ? hive_err_set(err, HIVE_EENV, "out of memory")
			     : hive_root_inside(g->top, given, what, &c->root, err);
		free(given);
	}
	if (rc || (rc = conf_place(g, c, name, err)) ||
	    (rc = hive_redactor_new(&c->cfg, &c->checker.red, err)))
		goto fail;
	if (signers_path)
		rc = sbuf ? hive_signers_parse(sname, sbuf, slen, &signers, err)
			  : hive_signers_load(signers_path, signers_path, &signers, err);
	if (rc)
		goto fail;
	c->checker.cfg = &c->cfg;
	c->cfg_ptr = &c->cfg;
	c->checker.signers = signers;
	c->checker.verify = g->checker.verify; /* the run's verifier */
	c->nrules = hive_check_rules(&c->cfg, c->rules);
	add_history_rule(c->rules, &c->nrules);
	free(buf);
	free(sbuf);
	return confs_add(cs, c, out, err);
fail:
	free(buf);
	free(sbuf);
	conf_free(c);
	return rc;
}

/* Run with c's checker and rules (g's own are put back by gate_restore). */
static void gate_use(struct hive_gate *g, const struct conf *c)
{
	size_t i;

	g->checker = c->checker;
	for (i = 0; i < c->nrules; i++)
		g->rules[i] = c->rules[i];
	g->nrules = c->nrules;
}

/* The blob id path would have (a relative path: from the top when from_top, else from the
 * working directory), into key ("-" when there is no path). */
static int disk_blob(const struct hive_gate *g, const char *path, int from_top,
		     char key[GIT_OID_HEXSZ + 1], struct hive_err *err)
{
	char full[4400], *buf = NULL;
	size_t len;
	git_oid id;
	int rc;

	snprintf(key, GIT_OID_HEXSZ + 1, "-");
	if (!path)
		return HIVE_OK;
	from_top = from_top && *path != '/';
	snprintf(full, sizeof(full), "%s%s%.4000s", from_top ? g->top : "", from_top ? "/" : "",
		 path);
	if ((rc = hive_read_file(AT_FDCWD, full, 0, 1 << 24, &buf, &len, err)))
		return rc;
	if (git_odb_hash(&id, buf, len, GIT_OBJECT_BLOB) == 0)
		git_oid_tostr(key, GIT_OID_HEXSZ + 1, &id);
	git_error_clear();
	free(buf);
	return HIVE_OK;
}

/* The key conf_commit would give the files on disk (g->checker's configuration). */
static int disk_key(const struct hive_gate *g, char key[2 * GIT_OID_HEXSZ + 16],
		    struct hive_err *err)
{
	const char *signers = g->checker.cfg ? g->checker.cfg->allowed_signers : NULL;
	char a[GIT_OID_HEXSZ + 1], b[GIT_OID_HEXSZ + 1];
	int rc;

	if ((rc = disk_blob(g, g->config_disk, 0, a, err)))
		return rc;
	if (signers && *signers != '/') {
		if ((rc = disk_blob(g, signers, 1, b, err)))
			return rc;
	} else {
		snprintf(b, sizeof(b), "-");
	}
	snprintf(key, 2 * GIT_OID_HEXSZ + 16, "%s:%s", a, b);
	return HIVE_OK;
}

/* --- pre-push ---------------------------------------------------------------------- */

/* A pushed ref whose commits policy.require_infra_events holds (after every session is read). */
struct infra_ref {
	git_oid tip, old;
	int has_old;
};

struct pushed {
	struct hive_gate *g;
	struct git_repository *repo;
	const char *root;      /* the run's root */
	struct confs confs;    /* every configuration met */
	struct hive_strv seen; /* the sessions given, per configuration (hive_prepush_sessions) */
	int noted;	       /* "checked under both" said once */
	struct hive_err *err;
	struct hive_strv recorded; /* where the pushed sessions' change events were recorded */
	struct infra_ref *infra;   /* the refs policy.require_infra_events holds */
	size_t ninfra;
	const char *publish_ref; /* the sessions ref (SPEC 11): only fast-forwards */
};

/* Does either configuration ask for policy.require_infra_events? */
static int wants_infra(const struct conf *a, const struct conf *b)
{
	return (a && a->cfg_ptr->require_infra_events == 1) ||
	       (b && b->cfg_ptr->require_infra_events == 1);
}

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
					  0, g->f, w->err);
	return rc;
}

/* One pushed ref: under the new configuration, and the published one when it differs. */
static int check_ref(void *arg, const struct hive_push_ref *r)
{
	struct pushed *w = arg;
	struct hive_gate *g = w->g;
	struct hive_checker own = g->checker;
	struct conf *now = NULL, *pub = NULL;
	char label[16], key[2 * GIT_OID_HEXSZ + 16];
	int rc;

	git_oid_tostr(label, 8, &r->tip);
	if (r->has_old && !strcmp(r->name, w->publish_ref) && !git_oid_equal(&r->tip, &r->old) &&
	    git_graph_descendant_of(w->repo, &r->tip, &r->old) != 1) {
		char old[16];
		git_oid_tostr(old, 8, &r->old);
		git_error_clear();
		hive_findings_session(g->f, r->name, r->name, g->rules, g->nrules);
		hive_findings_add(g->f, HIVE_LEVEL_ERROR, HIVE_HISTORY_RULE, r->name, 0,
				  "the push replaces the remote's %s with %s, which does not "
				  "contain it: the sessions ref only grows (fetch it, publish "
				  "again onto its tip, push that)",
				  old, label);
	}
	if (!g->config_path)
		rc = disk_key(g, key, w->err) ? w->err->status
					      : conf_own(g, &w->confs, key, w->root, &now, w->err);
	else
		rc = conf_commit(g, &w->confs, w->repo, &r->tip, label,
				 g->root_given ? w->root : NULL, &now, w->err);
	if (!rc && r->has_published)
		rc = conf_commit(g, &w->confs, w->repo, &r->published, r->label, NULL, &pub,
				 w->err);
	if (rc)
		return rc;
	if (wants_infra(now, pub)) {
		struct infra_ref *n = realloc(w->infra, (w->ninfra + 1) * sizeof(*n));
		if (!n)
			return hive_err_set(w->err, HIVE_EENV, "out of memory");
		w->infra = n;
		git_oid_cpy(&n[w->ninfra].tip, &r->tip);
		if ((n[w->ninfra].has_old = r->has_old))
			git_oid_cpy(&n[w->ninfra].old, &r->old);
		w->ninfra++;
	}
	gate_use(g, now);
	g->checker.recorded = &w->recorded;
	rc = hive_prepush_sessions(w->repo, r, now->rel, now->key, &w->seen, check_pushed, w,
				   w->err);
	if (!rc && pub && pub != now) {
		if (!w->noted && g->notes)
			fprintf(g->notes,
				"%s: the configuration of %s differs from the published one (%s): "
				"checked under both\n",
				hive_progname, label, r->label);
		w->noted = 1;
		gate_use(g, pub);
		g->checker.recorded = &w->recorded;
		rc = hive_prepush_sessions(w->repo, r, pub->rel, pub->key, &w->seen, check_pushed,
					   w, w->err);
	}
	g->checker = own;
	return rc;
}

int hive_gate_prepush(struct hive_gate *g, struct git_repository *repo, const char *root,
		      const char *remote, int fd, struct hive_err *err)
{
	struct pushed p = {g, repo, root, {{0}, 0}, {0}, 0, err, {0}, NULL, 0, NULL};
	struct hive_strv judged = {0};
	const char *rules[HIVE_CHECK_RULES_MAX + 1];
	size_t nrules = g->nrules, i;
	int rc;

	if (!repo)
		return hive_err_set(err, HIVE_EUSAGE, "--pre-push: not in a git repository");
	if (!hive_path_under(g->top, root))
		return hive_err_set(err, HIVE_EUSAGE,
				    "--pre-push: the root %s is outside the work tree", root);
	if ((rc = hive_publish_ref(NULL, g->checker.cfg ? g->checker.cfg->publish_ref : NULL,
				   &p.publish_ref, err)))
		return rc;
	memcpy(rules, g->rules, sizeof(rules[0]) * nrules);
	rc = hive_prepush_refs(repo, remote, fd, check_ref, &p, err);
	/* every pushed session read: the commits that change infrastructure, each covered */
	for (i = 0; !rc && i < p.ninfra; i++)
		rc = hive_coverage_check(repo, &p.infra[i].tip,
					 p.infra[i].has_old ? &p.infra[i].old : NULL, 1,
					 &p.recorded, &judged, g->f, err);
	memcpy(g->rules, rules, sizeof(rules[0]) * nrules);
	g->nrules = nrules;
	confs_free(&p.confs);
	hive_strv_clear(&p.seen);
	hive_strv_clear(&p.recorded);
	hive_strv_clear(&judged);
	free(p.infra);
	return rc;
}

/* --- since ------------------------------------------------------------------------- */

/* One --since pass: every session under c's root on disk, held against commit c (label)
 * under configuration conf. */
static int since_pass(struct hive_gate *g, struct git_repository *repo, git_commit *commit,
		      const char *label, const struct conf *c, struct hive_strv *recorded,
		      struct hive_err *err)
{
	struct hive_gate_since since = {repo, NULL, ""};
	git_tree *tree = NULL;
	git_tree_entry *e = NULL;
	size_t i, n;
	char shown[4400];
	int rc;

	snprintf(since.label, sizeof(since.label), "%s", label);
	if (git_commit_tree(&tree, commit) == 0 && git_tree_entry_bypath(&e, tree, c->rel) == 0 &&
	    git_tree_entry_type(e) == GIT_OBJECT_TREE)
		git_tree_lookup(&since.sessions, repo, git_tree_entry_id(e));
	git_error_clear();
	gate_use(g, c);
	g->checker.recorded = recorded;
	g->since = since.sessions ? &since : NULL;
	if ((rc = hive_gate_all(g, c->root, err)))
		goto out;
	/* the published sessions that are not on disk any more */
	n = since.sessions ? git_tree_entrycount(since.sessions) : 0;
	for (i = 0; i < n; i++) {
		const char *id = git_tree_entry_name(git_tree_entry_byindex(since.sessions, i));
		char path[4400];
		struct stat st;

		if (hive_id_check("session", id, strlen(id), NULL) != HIVE_OK)
			continue; /* not a session: a .tmp-* folder a killed hive-init left */

		snprintf(path, sizeof(path), "%.4000s/sessions/%.150s", c->root, id);
		if (lstat(path, &st) == 0 || errno != ENOENT)
			continue;
		snprintf(shown, sizeof(shown), "%.4200s/%.150s", c->rel, id);
		hive_findings_session(g->f, id, shown, g->rules, g->nrules);
		hive_history_gone(g->f, shown, since.label);
	}
out:
	g->since = NULL;
	git_tree_free(since.sessions);
	git_tree_entry_free(e);
	git_tree_free(tree);
	git_error_clear();
	return rc;
}

int hive_gate_since(struct hive_gate *g, struct git_repository *repo, const char *rev,
		    const char *root, struct hive_err *err)
{
	struct confs cs = {{0}, 0};
	struct hive_checker own = g->checker;
	struct conf *now = NULL, *pub = NULL;
	const char *rules[HIVE_CHECK_RULES_MAX + 1];
	size_t nrules = g->nrules;
	git_object *o = NULL;
	git_commit *c = NULL;
	char label[16], key[2 * GIT_OID_HEXSZ + 16];
	struct hive_strv recorded = {0}, judged = {0};
	int rc;

	if (!repo)
		return hive_err_set(err, HIVE_EUSAGE, "--since: not in a git repository");
	if (!hive_path_under(g->top, root))
		return hive_err_set(err, HIVE_EUSAGE,
				    "--since: the root %s is outside the work tree", root);
	memcpy(rules, g->rules, sizeof(rules[0]) * nrules);
	if (git_revparse_single(&o, repo, rev) < 0 ||
	    git_object_peel((git_object **)&c, o, GIT_OBJECT_COMMIT) < 0) {
		rc = hive_err_set(err, HIVE_EUSAGE, "--since %s: not a commit in this repository",
				  rev);
		goto out;
	}
	git_oid_tostr(label, 8, git_commit_id(c)); /* as git abbreviates */
	if ((rc = disk_key(g, key, err)) || (rc = conf_own(g, &cs, key, root, &now, err)) ||
	    (rc = conf_commit(g, &cs, repo, git_commit_id(c), label, NULL, &pub, err)))
		goto out;
	/* the same file (blob id), and its root not replaced: one pass */
	if (!g->root_given && !strcmp(pub->key, now->key))
		pub = now;
	rc = since_pass(g, repo, c, label, now, &recorded, err);
	if (!rc && pub != now) {
		if (g->notes)
			fprintf(g->notes,
				"%s: the configuration differs from %s's: checked under both\n",
				hive_progname, label);
		rc = since_pass(g, repo, c, label, pub, &recorded, err);
	}
	/* every session read: the commits since REV that change infrastructure, each covered */
	if (!rc && wants_infra(now, pub)) {
		git_oid head;
		if (git_reference_name_to_id(&head, repo, "HEAD") < 0)
			rc = hive_err_set(err, HIVE_EUSAGE, "--since: HEAD is no commit");
		else
			rc = hive_coverage_check(repo, &head, git_commit_id(c), 0, &recorded,
						 &judged, g->f, err);
	}
out:
	g->checker = own;
	memcpy(g->rules, rules, sizeof(rules[0]) * nrules);
	g->nrules = nrules;
	confs_free(&cs);
	hive_strv_clear(&recorded);
	hive_strv_clear(&judged);
	git_commit_free(c);
	git_object_free(o);
	git_error_clear();
	return rc;
}

/* --- the sessions ref ---------------------------------------------------------------- */

struct ref_walk {
	struct hive_gate *g;
	struct hive_err *err;
};

static int check_ref_session(void *arg, const struct hive_pushed *p)
{
	struct ref_walk *w = arg;

	hive_findings_session(w->g->f, p->id, p->events_shown, w->g->rules, w->g->nrules);
	return p->in ? hive_check_session(&w->g->checker, p->in, w->g->f, w->err) : HIVE_OK;
}

int hive_gate_ref(struct hive_gate *g, struct git_repository *repo, const char *root,
		  const char *ref, struct hive_err *err)
{
	struct ref_walk w = {g, err};

	return hive_ref_sessions(repo, g->top, root, ref, check_ref_session, &w, err);
}
