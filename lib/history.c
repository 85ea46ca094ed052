/* history.c - a published record only grows (SPEC 9): a session's published files against their new
 * version */
#include "history.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <git2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "json.h"
#include "log.h"
#include "util.h"

#define FILE_MAX ((size_t)1 << 31) /* the largest file read from disk for the comparison */

size_t hive_history_file(const char *pub, size_t publen, const char *now, size_t nowlen, int is_log,
			 int sealed, const char **why)
{
	size_t n = publen < nowlen ? publen : nowlen, i, line = 1;

	*why = NULL;
	for (i = 0; i < n && pub[i] == now[i]; i++)
		if (pub[i] == '\n')
			line++;
	if (i == publen && (nowlen == publen || (is_log && !sealed)))
		return 0; /* equal, or a log that only grew */
	if (i == publen) {
		*why = is_log ? "was added after the published session_completed"
			      : "changed after the published session_completed";
		return line;
	}
	/* the new version stops or differs at byte i: the line that byte belongs to */
	*why = i == nowlen && is_log ? "is missing: the log was cut short"
				     : "differs from the published version";
	return line;
}

/* Is the last line of a published log a session_completed event? */
static int is_sealed(const char *log, size_t len)
{
	const char *start;
	const char *type;
	cJSON *ev;
	int sealed;

	if (len < 2 || log[len - 1] != '\n')
		return 0;
	start = memrchr(log, '\n', len - 1);
	start = start ? start + 1 : log;
	if (!(ev = hive_json_parse(start, (size_t)(log + len - 1 - start))))
		return 0;
	type = hive_json_str(ev, "event_type");
	sealed = type && !strcmp(type, "session_completed");
	cJSON_Delete(ev);
	return sealed;
}

static int is_log_name(const char *name)
{
	size_t n = strlen(name);

	return n > 6 && !strcmp(name + n - 6, ".jsonl");
}

/* The new version of one file: *buf (the caller's) and *len, or *missing. */
static int read_now(git_repository *repo, const git_tree *now_dir, int now_dirfd, const char *name,
		    char **buf, git_blob **blob, const char **bytes, size_t *len, int *missing,
		    struct hive_err *err)
{
	const git_tree_entry *e;
	struct hive_err e2 = {0};

	*buf = NULL;
	*blob = NULL;
	*bytes = NULL;
	*len = 0;
	*missing = 0;
	if (now_dir) { /* the blob's own bytes, not a copy: a log segment may be megabytes */
		if (!(e = git_tree_entry_byname(now_dir, name)) ||
		    git_tree_entry_type(e) != GIT_OBJECT_BLOB) {
			*missing = 1;
			return HIVE_OK;
		}
		if (git_blob_lookup(blob, repo, git_tree_entry_id(e)) < 0)
			return hive_err_set(err, HIVE_EENV, "git: %s: %s", name,
					    git_error_last() ? git_error_last()->message : "?");
		*bytes = git_blob_rawcontent(*blob);
		*len = (size_t)git_blob_rawsize(*blob);
		return HIVE_OK;
	}
	if (hive_read_file(now_dirfd, name, 1, FILE_MAX, buf, len, &e2)) {
		if (e2.sys == ENOENT) {
			*missing = 1;
			return HIVE_OK;
		}
		*err = e2;
		return err->status = HIVE_EENV;
	}
	*bytes = *buf;
	return HIVE_OK;
}

/* The published folder pub_dir against now (now_dir, or the folder open as now_dirfd), file by
 * file; lanes/ (SPEC 11) the same, one level down. A published lanes/ that is gone leaves every
 * lane of it "gone". */
static int history_dir(git_repository *repo, const git_tree *pub_dir, const git_tree *now_dir,
		       int now_dirfd, const char *shown_dir, const char *label, int sealed, int top,
		       int missing_ok, struct hive_findings *f, struct hive_err *err)
{
	const git_tree_entry *e;
	size_t i, n = git_tree_entrycount(pub_dir);
	int rc = HIVE_OK;
	char shown[4400];

	for (i = 0; !rc && i < n; i++) {
		const char *name, *why;
		git_blob *pub = NULL;
		char *now = NULL;
		const char *bytes = NULL;
		git_blob *nowblob = NULL;
		size_t nowlen, line;
		int missing, is_log, kept_whole;

		e = git_tree_entry_byindex(pub_dir, i);
		name = git_tree_entry_name(e);
		snprintf(shown, sizeof(shown), "%.4200s/%.150s", shown_dir, name);
		if (top && !strcmp(name, "lanes") && git_tree_entry_type(e) == GIT_OBJECT_TREE) {
			git_tree *psub = NULL, *nsub = NULL;
			const git_tree_entry *ne =
				now_dir ? git_tree_entry_byname(now_dir, name) : NULL;
			int fd = -1;
			if (ne && git_oid_equal(git_tree_entry_id(ne), git_tree_entry_id(e)))
				continue; /* every lane kept: read nothing */
			if (git_tree_lookup(&psub, repo, git_tree_entry_id(e)) < 0) {
				rc = hive_err_set(err, HIVE_EENV, "git: %s: %s", shown,
						  git_error_last() ? git_error_last()->message
								   : "?");
				break;
			}
			if (ne && git_tree_entry_type(ne) == GIT_OBJECT_TREE)
				git_tree_lookup(&nsub, repo, git_tree_entry_id(ne));
			if (!now_dir)
				fd = openat(now_dirfd, "lanes",
					    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (now_dir ? !nsub : fd < 0) { /* the lanes folder is gone */
				if (missing_ok) {
					git_tree_free(psub);
					continue;
				}
				size_t j;
				char lane[4600];
				for (j = 0; j < git_tree_entrycount(psub); j++) {
					snprintf(lane, sizeof(lane), "%.4400s/%.150s", shown,
						 git_tree_entry_name(
							 git_tree_entry_byindex(psub, j)));
					hive_findings_add(f, HIVE_LEVEL_ERROR, HIVE_HISTORY_RULE,
							  lane, 0,
							  "published in %s and gone: a published "
							  "record only grows",
							  label);
				}
			} else {
				rc = history_dir(repo, psub, nsub, fd, shown, label, sealed, 0,
						 missing_ok, f, err);
			}
			if (fd >= 0)
				close(fd);
			git_tree_free(nsub);
			git_tree_free(psub);
			continue;
		}
		is_log = is_log_name(name);
		kept_whole = sealed && top &&
			     (hive_log_segment_index(name) >= 0 || !strcmp(name, "METRICS.json") ||
			      !strcmp(name, "RUNBOOK.md") || !strcmp(name, "CHECKPOINT"));
		/* a sealed session's signatures only grow: cosignatures are appended (SPEC 10) */
		if (sealed && top && !strcmp(name, "CHECKPOINT.sig"))
			is_log = 1;
		if (git_tree_entry_type(e) != GIT_OBJECT_BLOB || (!is_log && !kept_whole))
			continue; /* STATE.json and the like are derived: they may change */
		if (now_dir) {
			const git_tree_entry *ne = git_tree_entry_byname(now_dir, name);
			if (ne && git_oid_equal(git_tree_entry_id(ne), git_tree_entry_id(e)))
				continue; /* the same blob: kept, read nothing */
		}
		if ((rc = read_now(repo, now_dir, now_dirfd, name, &now, &nowblob, &bytes, &nowlen,
				   &missing, err)))
			break;
		if (missing && missing_ok)
			continue;
		if (missing) {
			hive_findings_add(f, HIVE_LEVEL_ERROR, HIVE_HISTORY_RULE, shown, 0,
					  "published in %s and gone: a published record only grows",
					  label);
			continue;
		}
		if (git_blob_lookup(&pub, repo, git_tree_entry_id(e)) < 0) {
			free(now);
			git_blob_free(nowblob);
			rc = hive_err_set(err, HIVE_EENV, "git: %s: %s", shown,
					  git_error_last() ? git_error_last()->message : "?");
			break;
		}
		line = hive_history_file(git_blob_rawcontent(pub), (size_t)git_blob_rawsize(pub),
					 bytes, nowlen, is_log, kept_whole, &why);
		if (line)
			hive_findings_add(f, HIVE_LEVEL_ERROR, HIVE_HISTORY_RULE, shown, line,
					  "line %zu %s (%s): a published record only grows", line,
					  why, label);
		git_blob_free(pub);
		git_blob_free(nowblob);
		free(now);
	}
	git_error_clear();
	return rc;
}

int hive_history_session(git_repository *repo, const git_tree *pub_dir, const git_tree *now_dir,
			 int now_dirfd, const char *shown_dir, const char *label, int missing_ok,
			 struct hive_findings *f, struct hive_err *err)
{
	const git_tree_entry *e;
	git_blob *events = NULL;
	size_t i, n = git_tree_entrycount(pub_dir);
	long seg, last = -1;
	int sealed = 0;
	char name_last[32];

	/* sealed: the published log (its last segment) ends in session_completed */
	for (i = 0; i < n; i++)
		if ((seg = hive_log_segment_index(
			     git_tree_entry_name(git_tree_entry_byindex(pub_dir, i)))) > last)
			last = seg;
	if (last >= 0 &&
	    (e = git_tree_entry_byname(pub_dir, hive_log_segment_name((size_t)last, name_last))) &&
	    git_tree_entry_type(e) == GIT_OBJECT_BLOB &&
	    git_blob_lookup(&events, repo, git_tree_entry_id(e)) == 0) {
		sealed = is_sealed(git_blob_rawcontent(events), (size_t)git_blob_rawsize(events));
		git_blob_free(events);
	}
	git_error_clear();
	return history_dir(repo, pub_dir, now_dir, now_dirfd, shown_dir, label, sealed, 1,
			   missing_ok, f, err);
}

void hive_history_gone(struct hive_findings *f, const char *shown_dir, const char *label)
{
	hive_findings_add(f, HIVE_LEVEL_ERROR, HIVE_HISTORY_RULE, shown_dir, 0,
			  "session published in %s is gone (deleted or moved): a published record "
			  "only grows",
			  label);
}

int hive_history_repair_ok(struct git_repository *repo, const char *path, int fd, const char *shown,
			   struct hive_err *err)
{
	git_object *head = NULL;
	git_tree *tree = NULL;
	git_tree_entry *e = NULL;
	git_blob *blob = NULL;
	struct stat st;
	off_t keep;
	char c;
	int rc = HIVE_OK;

	if (!repo || fstat(fd, &st) < 0 || st.st_size == 0)
		return HIVE_OK;
	if (pread(fd, &c, 1, st.st_size - 1) != 1 || c == '\n')
		return HIVE_OK; /* ends in a newline: repair cuts nothing */
	if (git_revparse_single(&head, repo, "HEAD^{tree}") == 0 &&
	    git_tree_lookup(&tree, repo, git_object_id(head)) == 0 &&
	    git_tree_entry_bypath(&e, tree, path) == 0 && git_tree_entry_type(e) == GIT_OBJECT_BLOB)
		git_blob_lookup(&blob, repo, git_tree_entry_id(e));
	git_error_clear();
	if (!blob)
		goto out; /* no commit, or the log is not in it: nothing HEAD has */
	/* what repair keeps: up to and with the last newline (a line is at most
	 * HIVE_HISTORY_TAIL_MAX bytes, so the search stops there) */
	for (keep = st.st_size; keep > 0 && st.st_size - keep <= HIVE_HISTORY_TAIL_MAX; keep--)
		if (pread(fd, &c, 1, keep - 1) != 1 || c == '\n')
			break;
	if ((off_t)git_blob_rawsize(blob) > keep)
		rc = hive_err_set(
			err, HIVE_EENV,
			"%s: not repaired: the cut-off last line is in HEAD's version of the "
			"log (--repair never drops a committed line; git checkout restores "
			"it)",
			shown);
out:
	git_blob_free(blob);
	git_tree_entry_free(e);
	git_tree_free(tree);
	git_object_free(head);
	return rc;
}
