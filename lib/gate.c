/* gate.c - which sessions a hive-check run reads (a folder, all of them, FILE operands, a push) and
 * the checks on each */
#include "gate.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "prepush.h"
#include "session.h"

/* A path as findings show it: relative to the top of the work tree when inside it. */
static const char *shown(const struct hive_gate *g, const char *path)
{
	size_t n = strlen(g->top);

	if (!strncmp(path, g->top, n) && path[n] == '/')
		return path + n + 1;
	return path;
}

/* Check the session folder root/sessions/id from the file system. */
int hive_gate_folder(struct hive_gate *g, const char *root, const char *id, struct hive_err *err)
{
	struct hive_check_input in = {0};
	struct hive_session *s = NULL;
	struct hive_err e = {0};
	char *state = NULL, dir[4200], events[4300];
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
		if ((rc = hive_session_open(root, id, &s, err)))
			return rc;
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
	if ((rc = hive_check_input_from_session(s, in.dir_shown, events, &in, &state, err))) {
		hive_session_close(s);
		return rc;
	}
	rc = hive_check_session(&g->checker, &in, g->f, err);
	free(state);
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

static int check_pushed(void *arg, const struct hive_check_input *in)
{
	struct pushed *p = arg;

	hive_findings_session(p->g->f, in->session, in->events_shown, p->g->rules, p->g->nrules);
	return hive_check_session(&p->g->checker, in, p->g->f, p->err);
}

int hive_gate_prepush(struct hive_gate *g, struct git_repository *repo, const char *root, int fd,
		      struct hive_err *err)
{
	struct pushed p = {g, err};
	size_t top_len = strlen(g->top);
	char rel[4200];

	if (!repo)
		return hive_err_set(err, HIVE_EUSAGE, "--pre-push: not in a git repository");
	if (strncmp(root, g->top, top_len) || root[top_len] != '/')
		return hive_err_set(err, HIVE_EUSAGE,
				    "--pre-push: the root %s is outside the work tree", root);
	if (strlen(root + top_len + 1) > 4000)
		return hive_err_set(err, HIVE_EUSAGE, "--pre-push: the root path is too long");
	snprintf(rel, sizeof(rel), "%s/sessions", root + top_len + 1);
	return hive_prepush_each(repo, rel, fd, check_pushed, &p, err);
}
