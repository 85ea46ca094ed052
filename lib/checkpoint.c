/* checkpoint.c - <session>/CHECKPOINT (what a session's logs held at a moment): make, read,
 * compare (writing and signing it, and CHECKPOINT.sig, are sign.c's) */
#include "checkpoint.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <git2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "id.h"
#include "log.h"
#include "sshsig.h"

void hive_checkpoint_clear(struct hive_checkpoint *cp)
{
	size_t i;

	if (!cp)
		return;
	for (i = 0; i < cp->n; i++)
		free(cp->logs[i].name);
	free(cp->logs);
	free(cp->id);
	memset(cp, 0, sizeof(*cp));
}

/* Is s a log's name: [A-Za-z0-9._-]+ ending ".jsonl", not starting with '.'? */
static int log_name_ok(const char *s)
{
	size_t n = strlen(s), i;

	if (n <= 6 || n > 255 || strcmp(s + n - 6, ".jsonl") || s[0] == '.')
		return 0;
	for (i = 0; i < n; i++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-",
			    s[i]))
			return 0;
	return 1;
}

/* EVENTS.jsonl first, then bytewise. */
static int log_order(const char *a, const char *b)
{
	int ea = !strcmp(a, "EVENTS.jsonl"), eb = !strcmp(b, "EVENTS.jsonl");

	if (ea || eb)
		return eb - ea;
	return strcmp(a, b);
}

static void render_log(struct hive_buf *out, const char *name, size_t lines, const char *hash)
{
	hive_buf_printf(out, "log %s %zu %s\n", name, lines, lines ? hash : "-");
}

int hive_checkpoint_parse(const char *buf, size_t len, struct hive_checkpoint *cp, size_t *line,
			  struct hive_err *err)
{
	struct hive_buf again = {0};
	const char *p = buf, *end = buf + len, *nl;
	struct hive_checkpoint_log *grown;
	char text[600], name[300], hash[HIVE_HASH_SIZE + 8], count[32];
	size_t i;
	int rc = HIVE_OK;

	memset(cp, 0, sizeof(*cp));
	*line = 0;
	if (memchr(buf, '\0', len)) {
		*line = 1;
		return hive_err_set(err, HIVE_EUSAGE, "a NUL byte");
	}
	while (p < end) {
		size_t ll;
		char *stop;
		nl = memchr(p, '\n', (size_t)(end - p));
		(*line)++;
		if (!nl) {
			rc = hive_err_set(err, HIVE_EUSAGE, "the last line has no newline");
			goto out;
		}
		ll = (size_t)(nl - p);
		if (ll >= sizeof(text)) {
			rc = hive_err_set(err, HIVE_EUSAGE, "the line is too long");
			goto out;
		}
		memcpy(text, p, ll);
		text[ll] = '\0';
		p = nl + 1;
		if (*line == 1) {
			if (strcmp(text, HIVE_CHECKPOINT_FORMAT)) {
				rc = hive_err_set(err, HIVE_EUSAGE, "line 1 must be %s",
						  HIVE_CHECKPOINT_FORMAT);
				goto out;
			}
			continue;
		}
		if (*line == 2) {
			struct hive_err e = {0};
			if (strncmp(text, "session ", 8) ||
			    hive_id_check("session", text + 8, strlen(text + 8), &e)) {
				rc = hive_err_set(
					err, HIVE_EUSAGE,
					"line 2 must be \"session <id>\" with a valid id");
				goto out;
			}
			if (!(cp->id = strdup(text + 8))) {
				rc = hive_err_set(err, HIVE_EENV, "out of memory");
				goto out;
			}
			continue;
		}
		if (sscanf(text, "log %299s %31s %79s", name, count, hash) != 3 ||
		    !log_name_ok(name) || !strchr("0123456789", count[0]) ||
		    (count[0] == '0' && count[1])) {
			rc = hive_err_set(err, HIVE_EUSAGE,
					  "expected \"log <name>.jsonl <lines> <sha256:hex|->\"");
			goto out;
		}
		errno = 0;
		if (!(grown = realloc(cp->logs, (cp->n + 1) * sizeof(*grown)))) {
			rc = hive_err_set(err, HIVE_EENV, "out of memory");
			goto out;
		}
		cp->logs = grown;
		memset(&cp->logs[cp->n], 0, sizeof(*grown));
		cp->logs[cp->n].lines = (size_t)strtoull(count, &stop, 10);
		if (*stop || errno) {
			rc = hive_err_set(err, HIVE_EUSAGE, "the line count is not a number");
			goto out;
		}
		if (cp->logs[cp->n].lines) {
			if (strlen(hash) != HIVE_HASH_SIZE - 1 || strncmp(hash, "sha256:", 7) ||
			    strspn(hash + 7, "0123456789abcdef") != 64) {
				rc = hive_err_set(err, HIVE_EUSAGE,
						  "the hash is not sha256: and 64 lowercase hex");
				goto out;
			}
			memcpy(cp->logs[cp->n].hash, hash, HIVE_HASH_SIZE);
		}
		if (cp->n == 0 && strcmp(name, "EVENTS.jsonl")) {
			rc = hive_err_set(err, HIVE_EUSAGE, "the first log must be EVENTS.jsonl");
			goto out;
		}
		if (cp->n && log_order(cp->logs[cp->n - 1].name, name) >= 0) {
			rc = hive_err_set(err, HIVE_EUSAGE,
					  "the logs are not in order (EVENTS.jsonl, then by name)");
			goto out;
		}
		if (!(cp->logs[cp->n].name = strdup(name))) {
			rc = hive_err_set(err, HIVE_EENV, "out of memory");
			goto out;
		}
		cp->n++;
	}
	if (!cp->n) {
		(*line)++;
		rc = hive_err_set(err, HIVE_EUSAGE, "no log: EVENTS.jsonl must be listed");
		goto out;
	}
	/* canonical: rendering what was read gives the same bytes (one space, no extras) */
	hive_buf_printf(&again, "%s\nsession %s\n", HIVE_CHECKPOINT_FORMAT, cp->id);
	for (i = 0; i < cp->n; i++)
		render_log(&again, cp->logs[i].name, cp->logs[i].lines, cp->logs[i].hash);
	if (again.oom) {
		rc = hive_err_set(err, HIVE_EENV, "out of memory");
	} else if (again.len != len || memcmp(again.p, buf, len)) {
		/* the first line that differs */
		const char *a = again.p;
		*line = 1;
		for (i = 0; i < len && i < again.len && a[i] == buf[i]; i++)
			if (buf[i] == '\n')
				(*line)++;
		rc = hive_err_set(err, HIVE_EUSAGE,
				  "not in canonical form (one space between "
				  "fields, nothing after the hash)");
	}
out:
	hive_buf_free(&again);
	if (rc)
		hive_checkpoint_clear(cp);
	return rc;
}

int hive_checkpoint_scan(struct hive_lines *r, size_t n, size_t *whole, char hash_n[HIVE_HASH_SIZE],
			 struct hive_err *err)
{
	enum hive_line_kind kind;
	const char *text;
	size_t len, no = 0;
	int got;

	*whole = 0;
	hash_n[0] = '\0';
	while ((got = hive_lines_next(r, &text, &len, &kind, err)) > 0) {
		no++;
		if (kind == HIVE_LINE_NO_NEWLINE)
			break; /* a cut-off last line is no line of the record */
		*whole = no;
		if (no == n && kind == HIVE_LINE_OK)
			hive_sha256(text, len, hash_n);
	}
	return got < 0 ? HIVE_EENV : HIVE_OK;
}

const char *hive_checkpoint_compare(const struct hive_checkpoint_log *e, size_t whole,
				    const char *hash_n, int completed, char *why, size_t size)
{
	if (whole < e->lines)
		snprintf(why, size,
			 "CHECKPOINT says %s has %zu lines, it has %zu: the log was cut short",
			 e->name, e->lines, whole);
	else if (e->lines && strcmp(hash_n, e->hash))
		snprintf(why, size,
			 "line %zu of %s is not the line CHECKPOINT names (%s): the log was edited",
			 e->lines, e->name, e->hash);
	else if (completed && whole > e->lines)
		snprintf(
			why, size,
			"%s grew past the checkpoint (%zu lines, CHECKPOINT says %zu): a completed "
			"session's checkpoint covers all of it",
			e->name, whole, e->lines);
	else
		return NULL;
	return why;
}

static int name_cmp(const void *a, const void *b)
{
	return log_order(*(char *const *)a, *(char *const *)b);
}

int hive_checkpoint_make(int dirfd, const char *id, struct hive_buf *out, struct hive_err *err)
{
	struct hive_strv names = {0};
	struct dirent *de;
	struct stat st;
	DIR *d = NULL;
	char hash[HIVE_HASH_SIZE];
	size_t i, whole;
	int fd, rc = HIVE_OK;

	if ((fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 ||
	    !(d = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		return hive_err_sys(err, HIVE_EENV, errno, "cannot list the session folder");
	}
	while ((de = readdir(d)))
		if (log_name_ok(de->d_name) &&
		    fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISREG(st.st_mode) && hive_strv_push(&names, de->d_name) < 0) {
			rc = hive_err_set(err, HIVE_EENV, "out of memory");
			goto out;
		}
	if (!hive_strv_has(&names, "EVENTS.jsonl")) {
		rc = hive_err_set(err, HIVE_EENV, "the session has no EVENTS.jsonl");
		goto out;
	}
	qsort(names.v, names.n, sizeof(*names.v), name_cmp);
	hive_buf_printf(out, "%s\nsession %s\n", HIVE_CHECKPOINT_FORMAT, id);
	for (i = 0; i < names.n; i++) {
		/* the hash of the last whole line: scan once to count, the count is the line */
		struct hive_lines *r = NULL;
		enum hive_line_kind kind;
		const char *text;
		size_t len, no = 0;
		int got, lfd;
		hash[0] = '\0';
		whole = 0;
		if ((lfd = openat(dirfd, names.v[i], O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
			rc = hive_err_sys(err, HIVE_EENV, errno, "%s", names.v[i]);
			goto out;
		}
		if ((rc = hive_lines_from_fd(lfd, &r, err))) {
			close(lfd);
			goto out;
		}
		while ((got = hive_lines_next(r, &text, &len, &kind, err)) > 0) {
			no++;
			if (kind == HIVE_LINE_NO_NEWLINE)
				break;
			if (kind == HIVE_LINE_TOO_LONG) {
				rc = hive_err_set(
					err, HIVE_EUSAGE,
					"%s: line %zu is longer than %d bytes: no checkpoint "
					"can name it",
					names.v[i], no, HIVE_LINE_MAX);
				break;
			}
			whole = no;
			hive_sha256(text, len, hash);
		}
		if (got < 0) {
			hive_err_prefix(err, "%s", names.v[i]);
			rc = HIVE_EENV;
		}
		hive_lines_free(r);
		close(lfd);
		if (rc)
			goto out;
		if (i == 0 && !whole) {
			rc = hive_err_set(err, HIVE_EUSAGE, "EVENTS.jsonl has no whole line");
			goto out;
		}
		render_log(out, names.v[i], whole, hash);
	}
	if (out->oom)
		rc = hive_err_set(err, HIVE_EENV, "out of memory");
out:
	closedir(d);
	hive_strv_clear(&names);
	return rc;
}
