/* lines.c - the one line reader: the same over a file descriptor, stdin or a buffer (a git blob) */
#include "lines.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* One input of a reader over several (the segments of one log, read in turn). */
struct source {
	int fd;
	const char *mem;
	size_t memlen;
};

struct hive_lines {
	struct source *srcs; /* every input, in order; srcs[cur] is being read */
	size_t nsrcs, cur;
	size_t src_first; /* the number of the first line of srcs[cur] */
	int fd;		  /* -1 for a memory reader */
	const char *mem;  /* memory reader: the whole input */
	size_t memlen, mempos;
	char *buf; /* fd reader: buffered bytes */
	size_t cap, start, end;
	int eof;
	size_t lineno;
	size_t limit; /* fd reader: the most bytes it may read in all (0: no limit) */
	size_t total; /* fd reader: bytes read so far */
	int over;     /* more than limit bytes were offered: nothing more is read */
};

#define CHUNK (256 * 1024)

void hive_lines_limit(struct hive_lines *r, size_t max)
{
	r->limit = max;
}

/* read(2) into buf[0..room) for an fd reader, EINTR retried, never asking for more than
 * one byte past the limit: -3 (and r->over) once more than the limit has been read. */
static ssize_t lines_read(struct hive_lines *r, char *buf, size_t room)
{
	ssize_t n;

	if (r->limit && room > r->limit - r->total + 1)
		room = r->limit - r->total + 1;
	do
		n = read(r->fd, buf, room);
	while (n < 0 && errno == EINTR);
	if (n > 0) {
		r->total += (size_t)n;
		if (r->limit && r->total > r->limit) {
			r->over = 1;
			return -3;
		}
	}
	return n;
}

static int lines_over(struct hive_lines *r, struct hive_err *err)
{
	hive_err_set(err, HIVE_EUSAGE, "more than %zu bytes (%zu MiB), the most one input may hold",
		     r->limit, r->limit >> 20);
	err->sys = EFBIG;
	return -1;
}

/* Start reading srcs[i]: the buffer is kept, its content dropped. */
static void lines_switch(struct hive_lines *r, size_t i)
{
	r->cur = i;
	r->src_first = r->lineno + 1;
	r->fd = r->srcs[i].fd;
	r->mem = r->srcs[i].mem;
	r->memlen = r->srcs[i].memlen;
	r->mempos = 0;
	r->start = r->end = 0;
	r->eof = 0;
}

/* A reader over n inputs: fds (when fds is not NULL) or bufs/lens. */
static int lines_multi(const int *fds, const char *const *bufs, const size_t *lens, size_t n,
		       struct hive_lines **out, struct hive_err *err)
{
	struct hive_lines *r = calloc(1, sizeof(*r));
	size_t i;

	*out = NULL;
	if (!r || !(r->srcs = calloc(n ? n : 1, sizeof(*r->srcs))) ||
	    (fds && !(r->buf = malloc(CHUNK)))) {
		if (r)
			free(r->srcs);
		free(r);
		return hive_err_set(err, HIVE_EENV, "out of memory");
	}
	for (i = 0; i < n; i++) {
		r->srcs[i].fd = fds ? fds[i] : -1;
		r->srcs[i].mem = fds ? NULL : bufs[i];
		r->srcs[i].memlen = fds ? 0 : lens[i];
	}
	r->nsrcs = n ? n : 1;
	if (!n) {
		r->srcs[0].fd = -1;
		r->srcs[0].mem = "";
	}
	r->cap = fds ? CHUNK : 0;
	lines_switch(r, 0);
	*out = r;
	return HIVE_OK;
}

int hive_lines_from_fds(const int *fds, size_t n, struct hive_lines **out, struct hive_err *err)
{
	return lines_multi(fds, NULL, NULL, n, out, err);
}

int hive_lines_from_mems(const char *const *bufs, const size_t *lens, size_t n,
			 struct hive_lines **out, struct hive_err *err)
{
	return lines_multi(NULL, bufs, lens, n, out, err);
}

size_t hive_lines_source(const struct hive_lines *r, size_t *line)
{
	if (line)
		*line = r->lineno - r->src_first + 1;
	return r->cur;
}

int hive_lines_from_fd(int fd, struct hive_lines **out, struct hive_err *err)
{
	return hive_lines_from_fds(&fd, 1, out, err);
}

int hive_lines_from_mem(const char *buf, size_t len, struct hive_lines **out, struct hive_err *err)
{
	return hive_lines_from_mems(&buf, &len, 1, out, err);
}

static int lines_next_mem(struct hive_lines *r, const char **line, size_t *len,
			  enum hive_line_kind *kind)
{
	const char *p, *nl;
	size_t left;

	if (r->mempos >= r->memlen)
		return 0;
	p = r->mem + r->mempos;
	left = r->memlen - r->mempos;
	nl = memchr(p, '\n', left);
	*line = p;
	*len = nl ? (size_t)(nl - p) : left;
	*kind = nl ? HIVE_LINE_OK : HIVE_LINE_NO_NEWLINE;
	r->mempos += *len + (nl ? 1 : 0);
	if (*len > HIVE_LINE_MAX) {
		*len = HIVE_LINE_MAX;
		*kind = HIVE_LINE_TOO_LONG;
	}
	r->lineno++;
	return 1;
}

/* Fill the buffer with more input; returns bytes read, 0 at EOF, -1 on error. */
static ssize_t lines_fill(struct hive_lines *r)
{
	ssize_t n;

	if (r->start > 0 && r->start == r->end)
		r->start = r->end = 0;
	if (r->end == r->cap && r->start > 0) {
		memmove(r->buf, r->buf + r->start, r->end - r->start);
		r->end -= r->start;
		r->start = 0;
	}
	if (r->end == r->cap) {
		size_t cap = r->cap * 2;
		char *b;
		if (cap > HIVE_LINE_MAX + CHUNK)
			cap = HIVE_LINE_MAX + CHUNK;
		if (cap == r->cap)
			return -2; /* full: the caller handles an over-long line */
		if (!(b = realloc(r->buf, cap)))
			return -1;
		r->buf = b;
		r->cap = cap;
	}
	n = lines_read(r, r->buf + r->end, r->cap - r->end);
	if (n > 0)
		r->end += (size_t)n;
	return n;
}

static int lines_next_one(struct hive_lines *r, const char **line, size_t *len,
			  enum hive_line_kind *kind, struct hive_err *err);

int hive_lines_next(struct hive_lines *r, const char **line, size_t *len, enum hive_line_kind *kind,
		    struct hive_err *err)
{
	int got;

	/* at the end of one input, the next one: a line never runs from one into the next */
	while ((got = lines_next_one(r, line, len, kind, err)) == 0 && r->cur + 1 < r->nsrcs)
		lines_switch(r, r->cur + 1);
	return got;
}

/* The next line of the input being read: hive_lines_next for one input. */
static int lines_next_one(struct hive_lines *r, const char **line, size_t *len,
			  enum hive_line_kind *kind, struct hive_err *err)
{
	char *nl;
	size_t scanned = 0;
	ssize_t n;

	if (r->fd < 0)
		return lines_next_mem(r, line, len, kind);
	if (r->over)
		return lines_over(r, err);
	for (;;) {
		nl = memchr(r->buf + r->start + scanned, '\n', r->end - r->start - scanned);
		if (nl) {
			*line = r->buf + r->start;
			*len = (size_t)(nl - *line);
			*kind = HIVE_LINE_OK;
			r->start = (size_t)(nl - r->buf) + 1;
			if (*len > HIVE_LINE_MAX) {
				*len = HIVE_LINE_MAX;
				*kind = HIVE_LINE_TOO_LONG;
			}
			r->lineno++;
			return 1;
		}
		scanned = r->end - r->start;
		if (r->eof) {
			if (r->start == r->end)
				return 0;
			*line = r->buf + r->start;
			*len = r->end - r->start;
			*kind = *len > HIVE_LINE_MAX ? HIVE_LINE_TOO_LONG : HIVE_LINE_NO_NEWLINE;
			if (*len > HIVE_LINE_MAX)
				*len = HIVE_LINE_MAX;
			r->start = r->end;
			r->lineno++;
			return 1;
		}
		n = lines_fill(r);
		if (n == -2) {
			/* A line longer than the buffer (start is 0, the buffer is full): keep
			 * its first HIVE_LINE_MAX bytes at the front, where *line points, and
			 * read the rest of it into the space after them until its newline. */
			*line = r->buf;
			*len = HIVE_LINE_MAX;
			*kind = HIVE_LINE_TOO_LONG;
			r->lineno++;
			for (;;) {
				r->start = r->end = HIVE_LINE_MAX;
				n = lines_read(r, r->buf + HIVE_LINE_MAX, r->cap - HIVE_LINE_MAX);
				if (n == -3)
					return lines_over(r, err);
				if (n <= 0) {
					r->eof = 1;
					break;
				}
				r->end = HIVE_LINE_MAX + (size_t)n;
				if ((nl = memchr(r->buf + HIVE_LINE_MAX, '\n', (size_t)n))) {
					r->start = (size_t)(nl - r->buf) + 1;
					break;
				}
			}
			return 1;
		}
		if (n == -3)
			return lines_over(r, err);
		if (n < 0)
			return hive_err_sys(err, HIVE_EENV, errno, "read"), -1;
		if (n == 0)
			r->eof = 1;
	}
}

size_t hive_lines_number(const struct hive_lines *r)
{
	return r->lineno;
}

void hive_lines_free(struct hive_lines *r)
{
	if (!r)
		return;
	free(r->srcs);
	free(r->buf);
	free(r);
}
