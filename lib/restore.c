/* restore.c - a session folder put back together from copies of it (CI artifacts, one per job):
 * the longest log and the longest copy of each lane win, every other copy must be a prefix */
#include "restore.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "id.h"
#include "integrity.h"
#include "log.h"
#include "session.h"
#include "util.h"

/* One copy of the session folder. */
struct copy {
	struct hive_session *s; /* its folder and main log's segments, read-only (heap) */
	int lanesfd;		/* its lanes/ folder, or -1 */
	off_t size;		/* bytes in the main log, every segment */
	int local;		/* the session folder itself (s holds its exclusive lock) */
};

/* One lane, over every copy. */
struct lane {
	char *name;  /* the file name, <lane>.jsonl */
	size_t best; /* the copy holding its longest version */
	off_t size;  /* that version's bytes */
	off_t local; /* its bytes in the local folder, -1 when the local folder lacks it */
};

struct merge {
	const char *id;
	struct copy *c;
	size_t n, cap;
	struct lane *l;
	size_t nl, capl;
	char *buf; /* two 64 KiB halves, for comparing */
};

#define CHUNK 65536

static void merge_clear(struct merge *m)
{
	size_t i;

	for (i = 0; i < m->n; i++) {
		if (m->c[i].lanesfd >= 0)
			close(m->c[i].lanesfd);
		hive_session_close(m->c[i].s);
	}
	for (i = 0; i < m->nl; i++)
		free(m->l[i].name);
	free(m->c);
	free(m->l);
	free(m->buf);
}

/* Several files read in turn as one stream (the segments of a log), with pread. */
struct cat {
	const int *fds;
	size_t n, i;
	off_t off;
};

static ssize_t cat_read(struct cat *c, char *buf, size_t len)
{
	while (c->i < c->n) {
		ssize_t k = pread(c->fds[c->i], buf, len, c->off);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -1;
		if (k > 0) {
			c->off += k;
			return k;
		}
		c->i++;
		c->off = 0;
	}
	return 0;
}

/* Are the bytes of the files sf (in turn) a prefix of those of lf? 1 yes, 0 no, -1 on a read
 * error (errno). */
static int is_prefix(char *buf, const int *sf, size_t sn, const int *lf, size_t ln)
{
	struct cat a = {sf, sn, 0, 0}, b = {lf, ln, 0, 0};
	char *x = buf, *y = buf + CHUNK;

	for (;;) {
		ssize_t k = cat_read(&a, x, CHUNK), got = 0, g;

		if (k <= 0)
			return k < 0 ? -1 : 1;
		while (got < k) {
			if ((g = cat_read(&b, y + got, (size_t)(k - got))) <= 0)
				return g < 0 ? -1 : 0;
			got += g;
		}
		if (memcmp(x, y, (size_t)k))
			return 0;
	}
}

/* The bytes in fds (fstat), or -1 (errno). */
static off_t fds_size(const int *fds, size_t n)
{
	struct stat st;
	off_t sum = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		if (fstat(fds[i], &st) < 0)
			return -1;
		sum += st.st_size;
	}
	return sum;
}

/* Is line 1 of the copy's main log a JSON object whose session_id is id? 1 yes, 0 another
 * session's, else HIVE_EENV naming the copy's line 1. */
static int names_session(struct hive_session *s, const char *id, struct hive_err *err)
{
	const char *end = NULL, *v;
	char *line = NULL;
	size_t len = 0;
	cJSON *ev;
	int rc;

	if (hive_log_head(s, &line, &len, err))
		return -HIVE_EENV;
	ev = cJSON_ParseWithOpts(line, &end, 1);
	free(line);
	if (!cJSON_IsObject(ev)) {
		cJSON_Delete(ev);
		hive_err_set(err, HIVE_EENV, "%s/EVENTS.jsonl:1: not a JSON object (corrupt copy)",
			     s->dir);
		return -HIVE_EENV;
	}
	v = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(ev, "session_id"));
	rc = v && !strcmp(v, id);
	cJSON_Delete(ev);
	return rc;
}

/* fstatat without following: HIVE_OK with *st, ENOENT as HIVE_OK with *missing 1, a symbolic
 * link refused; HIVE_EENV naming dir/name. */
static int stat_nofollow(int dirfd, const char *name, const char *dir, struct stat *st,
			 int *missing, struct hive_err *err)
{
	*missing = 0;
	if (fstatat(dirfd, name, st, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno == ENOENT) {
			*missing = 1;
			return HIVE_OK;
		}
		return hive_err_sys(err, HIVE_EENV, errno, "%s/%s", dir, name);
	}
	if (S_ISLNK(st->st_mode))
		return hive_err_set(err, HIVE_EENV, "%s/%s: is a symbolic link (refused)", dir,
				    name);
	return HIVE_OK;
}

/* A read-only session over the folder dirfd (taken over, also on failure) of session id, shown
 * in messages as shown, its main log's segments open (hive_log_open). *out the caller's
 * (hive_session_close). HIVE_EENV out of memory, else as hive_log_open. */
static int session_at(int dirfd, const char *id, const char *shown, struct hive_session **out,
		      struct hive_err *err)
{
	struct hive_session *s = calloc(1, sizeof(*s));
	int rc;

	*out = NULL;
	if (!s) {
		close(dirfd);
		return hive_err_set(err, HIVE_EENV, "out of memory");
	}
	s->dirfd = dirfd;
	s->lockfd = s->eventsfd = -1;
	if (!(s->id = strdup(id)) || !(s->dir = strdup(shown)))
		rc = hive_err_set(err, HIVE_EENV, "out of memory");
	else
		rc = hive_log_open(s, 1, err);
	if (rc) {
		hive_session_close(s);
		return rc;
	}
	*out = s;
	return HIVE_OK;
}

/* Take the folder dirfd (taken over) named shown as a copy: its main log opened through log.c,
 * its lanes/ folder. A folder without EVENTS.jsonl, an empty log or another session's is
 * skipped (*skipped 1, dirfd closed). */
static int add_copy(struct merge *m, int dirfd, const char *shown, int *skipped,
		    struct hive_err *err)
{
	struct hive_session *s = NULL;
	struct copy *c;
	struct stat st;
	int missing, rc, lfd = -1;
	off_t size;

	*skipped = 0;
	if ((rc = stat_nofollow(dirfd, "EVENTS.jsonl", shown, &st, &missing, err)) || missing) {
		close(dirfd);
		*skipped = missing;
		return rc;
	}
	if ((rc = session_at(dirfd, m->id, shown, &s, err)))
		return rc;
	if ((size = fds_size(s->segs, s->nsegs)) < 0) {
		rc = hive_err_sys(err, HIVE_EENV, errno, "%s/EVENTS.jsonl", shown);
		goto fail;
	}
	if (size == 0 || (rc = names_session(s, m->id, err)) == 0) {
		*skipped = 1;
		rc = HIVE_OK;
		goto fail;
	}
	if (rc < 0) {
		rc = -rc;
		goto fail;
	}
	if ((rc = stat_nofollow(dirfd, "lanes", shown, &st, &missing, err)))
		goto fail;
	if (!missing && S_ISDIR(st.st_mode) &&
	    (lfd = openat(dirfd, "lanes", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		rc = hive_err_sys(err, HIVE_EENV, errno, "%s/lanes", shown);
		goto fail;
	}
	if (m->n == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 8;
		struct copy *more = realloc(m->c, cap * sizeof(*more));
		if (!more) {
			rc = hive_err_set(err, HIVE_EENV, "out of memory");
			goto fail;
		}
		m->c = more;
		m->cap = cap;
	}
	c = &m->c[m->n++];
	c->s = s;
	c->lanesfd = lfd;
	c->size = size;
	c->local = 0;
	return HIVE_OK;
fail:
	if (lfd >= 0)
		close(lfd);
	hive_session_close(s);
	return rc;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The copies in dir: dir itself when it holds EVENTS.jsonl, else each folder in it, in name
 * order. A symbolic link among them is refused. *absent when dir does not exist. */
static int add_copies(struct merge *m, const char *dir, int *absent, size_t *skipped,
		      struct hive_err *err)
{
	char **names = NULL, shown[4200];
	struct dirent *de;
	struct stat st;
	size_t n = 0, cap = 0, i;
	int dfd = -1, fd, rc = HIVE_OK, missing, skip;
	DIR *d = NULL;

	*absent = 0;
	if (lstat(dir, &st) < 0) {
		if (errno == ENOENT) {
			*absent = 1;
			return HIVE_OK;
		}
		return hive_err_sys(err, HIVE_EENV, errno, "--restore: %s", dir);
	}
	if (S_ISLNK(st.st_mode))
		return hive_err_set(err, HIVE_EENV, "--restore: %s: is a symbolic link (refused)",
				    dir);
	if (!S_ISDIR(st.st_mode))
		return hive_err_set(err, HIVE_EUSAGE, "--restore: %s: not a folder", dir);
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return hive_err_sys(err, HIVE_EENV, errno, "--restore: %s", dir);
	if ((rc = stat_nofollow(dfd, "EVENTS.jsonl", dir, &st, &missing, err)))
		goto out;
	if (!missing) { /* dir is a copy itself */
		rc = add_copy(m, dfd, dir, &skip, err);
		dfd = -1;
		*skipped += (size_t)skip;
		return rc;
	}
	if ((fd = dup(dfd)) < 0 || !(d = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		rc = hive_err_sys(err, HIVE_EENV, errno, "%s", dir);
		goto out;
	}
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if (n == cap) {
			char **more = realloc(names, (cap = cap ? cap * 2 : 16) * sizeof(*more));
			if (!more) {
				rc = hive_err_set(err, HIVE_EENV, "out of memory");
				goto out;
			}
			names = more;
		}
		if (!(names[n] = strdup(de->d_name))) {
			rc = hive_err_set(err, HIVE_EENV, "out of memory");
			goto out;
		}
		n++;
	}
	if (n) /* qsort may not be given a NULL array, even empty */
		qsort(names, n, sizeof(*names), by_name);
	for (i = 0; i < n; i++) {
		snprintf(shown, sizeof(shown), "%s/%s", dir, names[i]);
		if ((rc = stat_nofollow(dfd, names[i], dir, &st, &missing, err)))
			goto out;
		if (missing || !S_ISDIR(st.st_mode))
			continue; /* a file beside the copies */
		if ((fd = openat(dfd, names[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) <
		    0) {
			rc = hive_err_sys(err, HIVE_EENV, errno, "%s", shown);
			goto out;
		}
		if ((rc = add_copy(m, fd, shown, &skip, err)))
			goto out;
		*skipped += (size_t)skip;
	}
out:
	if (d)
		closedir(d);
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	if (dfd >= 0)
		close(dfd);
	return rc;
}

/* Open lane file name of copy c, never through a symbolic link: the fd, or -1 with err. */
static int open_lane(const struct copy *c, const char *name, struct hive_err *err)
{
	int fd = openat(c->lanesfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0)
		hive_err_sys(err, HIVE_EENV, errno, "%s/lanes/%s", c->s->dir, name);
	return fd;
}

/* The lanes of copy ci, held against what the copies before it hold. */
static int add_lanes(struct merge *m, size_t ci, struct hive_err *err)
{
	struct copy *c = &m->c[ci];
	char shown[4200];
	struct dirent *de;
	struct stat st;
	DIR *d;
	int fd, rc = HIVE_OK, missing;

	if (c->lanesfd < 0)
		return HIVE_OK;
	snprintf(shown, sizeof(shown), "%s/lanes", c->s->dir);
	if ((fd = dup(c->lanesfd)) < 0 || !(d = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		return hive_err_sys(err, HIVE_EENV, errno, "%s", shown);
	}
	while (!rc && (de = readdir(d))) {
		const char *name = de->d_name;
		size_t len = strlen(name), i;
		struct lane *l = NULL;

		if (name[0] == '.' || len <= 6 || strcmp(name + len - 6, ".jsonl") ||
		    hive_id_check_syntax("lane", name, len - 6, NULL))
			continue; /* not a lane (temporary files start with '.') */
		if ((rc = stat_nofollow(c->lanesfd, name, shown, &st, &missing, err)) || missing)
			continue;
		if (!S_ISREG(st.st_mode)) {
			rc = hive_err_set(err, HIVE_EENV, "%s/%s: not a regular file", shown, name);
			continue;
		}
		for (i = 0; i < m->nl; i++)
			if (!strcmp(m->l[i].name, name))
				l = &m->l[i];
		if (!l) {
			if (m->nl == m->capl) {
				size_t cap = m->capl ? m->capl * 2 : 8;
				struct lane *more = realloc(m->l, cap * sizeof(*more));
				if (!more) {
					rc = hive_err_set(err, HIVE_EENV, "out of memory");
					continue;
				}
				m->l = more;
				m->capl = cap;
			}
			l = &m->l[m->nl];
			if (!(l->name = strdup(name))) {
				rc = hive_err_set(err, HIVE_EENV, "out of memory");
				continue;
			}
			m->nl++;
			l->best = ci;
			l->size = st.st_size;
			l->local = c->local ? st.st_size : -1;
			continue;
		}
		if (c->local)
			l->local = st.st_size;
		{
			int a = open_lane(&m->c[l->best], name, err),
			    b = a < 0 ? -1 : open_lane(c, name, err);
			int longer_is_new = st.st_size > l->size, p;

			if (a < 0 || b < 0) {
				rc = HIVE_EENV;
			} else {
				p = longer_is_new ? is_prefix(m->buf, &a, 1, &b, 1)
						  : is_prefix(m->buf, &b, 1, &a, 1);
				if (p < 0)
					rc = hive_err_sys(err, HIVE_EENV, errno, "%s/%s", shown,
							  name);
				else if (!p)
					rc = hive_err_set(
						err, HIVE_EENV,
						"the copies of lane %.*s in %s and %s differ: "
						"two jobs wrote to that lane at the same time",
						(int)(len - 6), name, m->c[l->best].s->dir,
						c->s->dir);
				else if (longer_is_new) {
					l->best = ci;
					l->size = st.st_size;
				}
			}
			if (a >= 0)
				close(a);
			if (b >= 0)
				close(b);
		}
	}
	closedir(d);
	return rc;
}

/* Copy regular file name from sfd to a new file in dfd (fsync'd); shown names the source. */
static int copy_file(char *buf, int sfd, int dfd, const char *name, const char *shown,
		     const char *dshown, struct hive_err *err)
{
	int in = openat(sfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC), out = -1, rc = HIVE_OK;
	off_t done = 0;
	ssize_t k;

	if (in < 0)
		return hive_err_sys(err, HIVE_EENV, errno, "%s/%s", shown, name);
	if ((out = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644)) <
	    0) {
		rc = hive_err_sys(err, HIVE_EENV, errno, "%s/%s", dshown, name);
		goto out;
	}
	while ((k = read(in, buf, CHUNK)) != 0) {
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			rc = hive_err_sys(err, HIVE_EENV, errno, "%s/%s", shown, name);
			goto out;
		}
		if (hive_write_all_or_truncate(out, buf, (size_t)k, done) < 0) {
			rc = hive_err_sys(err, HIVE_EENV, errno, "%s/%s", dshown, name);
			goto out;
		}
		done += k;
	}
	if (fsync(out) < 0)
		rc = hive_err_sys(err, HIVE_EENV, errno, "%s/%s", dshown, name);
out:
	if (out >= 0)
		close(out);
	close(in);
	return rc;
}

/* Fill the empty folder fd (shown in messages as dshown) with the merged session: every
 * regular file of the winning copy w but its lanes, each lane from its best copy (each file
 * fsync'd; hive_restore_install makes the .lock and checks the whole). */
static int assemble(struct merge *m, size_t w, int fd, const char *dshown, struct hive_err *err)
{
	struct copy *c = &m->c[w];
	char lshown[4300];
	struct dirent *de;
	struct stat st;
	int dfd, lfd = -1, rc = HIVE_OK, missing;
	size_t i;
	DIR *d;

	if ((dfd = dup(c->s->dirfd)) < 0 || !(d = fdopendir(dfd))) {
		if (dfd >= 0)
			close(dfd);
		return hive_err_sys(err, HIVE_EENV, errno, "%s", c->s->dir);
	}
	/* from the start: fdopendir on a dup shares the offset another read may have moved */
	rewinddir(d);
	while (!rc && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if ((rc = stat_nofollow(c->s->dirfd, de->d_name, c->s->dir, &st, &missing, err)) ||
		    missing || !S_ISREG(st.st_mode))
			continue; /* lanes/ (below), or a folder no session has */
		rc = copy_file(m->buf, c->s->dirfd, fd, de->d_name, c->s->dir, dshown, err);
	}
	closedir(d);
	if (rc)
		return rc;
	snprintf(lshown, sizeof(lshown), "%.4200s/lanes", dshown);
	if (m->nl &&
	    (mkdirat(fd, "lanes", 0755) < 0 ||
	     (lfd = openat(fd, "lanes", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0))
		return hive_err_sys(err, HIVE_EENV, errno, "%s", lshown);
	for (i = 0; !rc && i < m->nl; i++) {
		char from[4300];
		snprintf(from, sizeof(from), "%s/lanes", m->c[m->l[i].best].s->dir);
		rc = copy_file(m->buf, m->c[m->l[i].best].lanesfd, lfd, m->l[i].name, from, lshown,
			       err);
	}
	if (!rc && lfd >= 0 && fsync(lfd) < 0)
		rc = hive_err_sys(err, HIVE_EENV, errno, "%s", lshown);
	if (lfd >= 0)
		close(lfd);
	if (rc)
		return rc;
	return HIVE_OK;
}

int hive_restore_tmp_make(const char *root, const char *id, const char *what,
			  struct hive_restore_tmp *t, struct hive_err *err)
{
	int rc;

	memset(t, 0, sizeof(*t));
	t->sessfd = t->fd = -1;
	snprintf(t->sessions, sizeof(t->sessions), "%s/sessions", root);
	snprintf(t->name, sizeof(t->name), ".tmp-%s-%ld-%s", id, (long)getpid(), what);
	snprintf(t->shown, sizeof(t->shown), "%s/%s", t->sessions, t->name);
	if ((rc = hive_mkdir_parents(t->sessions, &t->made_root, err)))
		return rc;
	if ((t->sessfd = open(t->sessions, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return hive_err_sys(err, HIVE_EENV, errno, "%s", t->sessions);
	hive_session_remove_tmp(t->sessfd, t->name); /* a killed run's, with our pid */
	if (mkdirat(t->sessfd, t->name, 0755) < 0 ||
	    (t->fd = openat(t->sessfd, t->name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) <
		    0)
		return hive_err_sys(err, HIVE_EENV, errno, "%s", t->shown);
	t->made = 1;
	return HIVE_OK;
}

void hive_restore_tmp_drop(struct hive_restore_tmp *t)
{
	if (t->made && t->sessfd >= 0) /* the temporary folder, or the folder it replaced */
		hive_session_remove_tmp(t->sessfd, t->name);
	if (t->made_root)
		hive_rmdir_parents(t->sessions, t->made_root);
	if (t->fd >= 0)
		close(t->fd);
	if (t->sessfd >= 0)
		close(t->sessfd);
	t->fd = t->sessfd = -1;
	t->made = t->made_root = 0;
}

int hive_restore_install(struct hive_restore_tmp *tmp, const char *id, const char *from,
			 int exchange, int *raced, struct hive_err *err)
{
	struct hive_session *t = NULL;
	cJSON *state = NULL;
	const char *rule = NULL;
	int k, rc;

	*raced = 0;
	k = openat(tmp->fd, ".lock", O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (k < 0 || fsync(tmp->fd) < 0) {
		rc = hive_err_sys(err, HIVE_EENV, errno, "%s/.lock", tmp->shown);
		if (k >= 0)
			close(k);
		return rc;
	}
	close(k);
	/* what a rejoin would hold it to, before it replaces anything: a sound session whose
	 * log passes the integrity rules (a copy whose chain was forged never goes in) */
	if ((k = dup(tmp->fd)) < 0)
		return hive_err_sys(err, HIVE_EENV, errno, "%s", tmp->shown);
	if (!(rc = session_at(k, id, from, &t, err)) &&
	    !(rc = hive_session_check_sound(t, &state, err)) &&
	    (rc = hive_integrity_check(NULL, t, stderr, &rule, err)) == HIVE_FAIL)
		rc = hive_err_set(err, HIVE_EENV,
				  "%s: the log breaks hive-check's %s rule (the findings above): "
				  "nothing restored",
				  from, rule);
	cJSON_Delete(state);
	hive_session_close(t);
	if (rc)
		return rc;
	if (renameat2(tmp->sessfd, tmp->name, tmp->sessfd, id,
		      exchange ? RENAME_EXCHANGE : RENAME_NOREPLACE) < 0) {
		if (exchange || (errno != EEXIST && errno != ENOTEMPTY))
			return hive_err_sys(err, HIVE_EENV, errno, "%s/%s", tmp->sessions, id);
		*raced = 1; /* another process made the folder first: nothing moved */
		return HIVE_OK;
	}
	fsync(tmp->sessfd);
	/* in place: the folders made for it stay; with exchange the temporary name now holds
	 * the folder it replaced, for hive_restore_tmp_drop to remove */
	tmp->made_root = 0;
	tmp->made = exchange;
	return HIVE_OK;
}

int hive_restore_copies(const char *root, const char *id, const char *dir,
			struct hive_restore_result *r, struct hive_err *err)
{
	struct merge m = {0};
	struct hive_session *local = NULL;
	struct hive_restore_tmp tmp = {.sessfd = -1, .fd = -1};
	char path[4200];
	struct stat st;
	int absent = 0, rc, nothing_new, raced = 0;
	size_t i, w = 0;

	memset(r, 0, sizeof(*r));
	m.id = id;
	if ((rc = hive_id_check("session", id, strlen(id), err)))
		return rc;
	if (!(m.buf = malloc(2 * CHUNK)))
		return hive_err_set(err, HIVE_EENV, "out of memory");
	snprintf(path, sizeof(path), "%s/sessions/%s", root, id);
	/* the local folder first (so that it wins a tie), under its lock */
	if (lstat(path, &st) == 0 || errno != ENOENT) {
		if ((rc = hive_session_open(root, id, &local, err)) ||
		    (rc = hive_session_lock(local, hive_lock_timeout(), err)))
			goto out;
		m.c = calloc(8, sizeof(*m.c));
		if (!m.c) {
			rc = hive_err_set(err, HIVE_EENV, "out of memory");
			goto out;
		}
		m.cap = 8;
		m.c[0].s = local;
		m.c[0].local = 1;
		m.c[0].lanesfd = openat(local->dirfd, "lanes",
					O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (m.c[0].lanesfd < 0 && errno != ENOENT) {
			rc = hive_err_sys(err, HIVE_EENV, errno, "%s/lanes", path);
			m.n = 1;
			local = NULL;
			goto out;
		}
		if ((m.c[0].size = fds_size(local->segs, local->nsegs)) < 0) {
			rc = hive_err_sys(err, HIVE_EENV, errno, "%s/EVENTS.jsonl", path);
			m.n = 1;
			local = NULL;
			goto out;
		}
		m.n = 1;
		local = NULL; /* m owns it now */
	}
	if ((rc = add_copies(&m, dir, &absent, &r->skipped, err)))
		goto out;
	r->copies = m.n - (m.n && m.c[0].local);
	if (!r->copies)
		goto out; /* nothing downloaded: a new session, or the local one as it is */
	/* the main log: the longest copy wins, every other must be a prefix of it */
	for (i = 1; i < m.n; i++)
		if (m.c[i].size > m.c[w].size)
			w = i;
	for (i = 0; i < m.n; i++) {
		int p;
		if (i == w)
			continue;
		p = is_prefix(m.buf, m.c[i].s->segs, m.c[i].s->nsegs, m.c[w].s->segs,
			      m.c[w].s->nsegs);
		if (p < 0) {
			rc = hive_err_sys(err, HIVE_EENV, errno, "%s/EVENTS.jsonl", m.c[i].s->dir);
			goto out;
		}
		if (!p) {
			rc = hive_err_set(
				err, HIVE_EENV,
				"the session copies in %s and %s differ: two jobs wrote to "
				"the session at the same time",
				m.c[w].s->dir, m.c[i].s->dir);
			goto out;
		}
	}
	for (i = 0; i < m.n; i++)
		if ((rc = add_lanes(&m, i, err)))
			goto out;
	r->lanes = m.nl;
	snprintf(r->from, sizeof(r->from), "%.4000s", m.c[w].local ? path : m.c[w].s->dir);
	nothing_new = m.c[0].local && m.c[0].size == m.c[w].size;
	for (i = 0; nothing_new && i < m.nl; i++)
		nothing_new = m.l[i].local == m.l[i].size;
	if (nothing_new)
		goto out; /* the local folder has it all already */
	if (m.c[0].local && m.c[0].size == m.c[w].size)
		w = 0; /* equal logs: the local folder's other files */

	/* assembled under a temporary name, then renamed into place: whole or not at all */
	if ((rc = hive_restore_tmp_make(root, id, "merge", &tmp, err)) ||
	    (rc = assemble(&m, w, tmp.fd, tmp.shown, err)) ||
	    (rc = hive_restore_install(&tmp, id, m.c[w].s->dir, m.c[0].local, &raced, err)))
		goto out;
	if (raced) {
		rc = hive_err_set(err, HIVE_EENV,
				  "%s: made by another process while the copies were merged: run "
				  "hive-init again",
				  path);
		goto out;
	}
	r->replaced = m.c[0].local;
	r->restored = 1;
out:
	hive_restore_tmp_drop(&tmp);
	hive_session_close(local);
	merge_clear(&m);
	return rc;
}
