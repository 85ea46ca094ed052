/* lines.h - the one line reader: the same over a file descriptor, stdin or a buffer (a git blob) */
#ifndef HIVE_LINES_H
#define HIVE_LINES_H

#include <stddef.h>

#include "err.h"

#define HIVE_LINE_MAX (1024 * 1024) /* an event line, without its newline */

struct hive_lines;

/* Read lines from fd (not closed by the reader). */
int hive_lines_from_fd(int fd, struct hive_lines **out, struct hive_err *err);
/* Read lines from buf[0..len), borrowed for the reader's lifetime. */
int hive_lines_from_mem(const char *buf, size_t len, struct hive_lines **out, struct hive_err *err);

/* Read the lines of several inputs in turn, as one numbering (the segments of one log, SPEC 9):
 * fds[0..n) (not closed by the reader, each read from its offset) or bufs/lens[0..n) (borrowed).
 * A line never runs from one input into the next: an input whose last line has no newline gives
 * it as HIVE_LINE_NO_NEWLINE before the next input is read. */
int hive_lines_from_fds(const int *fds, size_t n, struct hive_lines **out, struct hive_err *err);
int hive_lines_from_mems(const char *const *bufs, const size_t *lens, size_t n,
			 struct hive_lines **out, struct hive_err *err);
/* Which input the line last returned came from (0-based), and, in *line when not NULL, its
 * 1-based number within that input. */
size_t hive_lines_source(const struct hive_lines *r, size_t *line);

/*
 * Bound what an fd reader may read: once more than max bytes in all have been offered,
 * hive_lines_next returns -1 with err HIVE_EUSAGE ("more than N bytes …", err->sys EFBIG)
 * and reads nothing more, so an endless input costs at most max bytes of reading and one
 * buffer of memory. 0 (the default) is no limit. Has no effect on a memory reader.
 */
void hive_lines_limit(struct hive_lines *r, size_t max);

enum hive_line_kind {
	HIVE_LINE_OK,	      /* a whole line, newline stripped */
	HIVE_LINE_NO_NEWLINE, /* the last line of the input, without its newline */
	HIVE_LINE_TOO_LONG,   /* longer than HIVE_LINE_MAX: *line holds its first bytes */
};

/*
 * The next line: 1 with line, len and kind set (borrowed until the next call), 0 at the
 * end, or -1 on a read error (err filled, HIVE_EENV) or past hive_lines_limit (HIVE_EUSAGE). A line
 * over HIVE_LINE_MAX is skipped to its end, so memory stays bounded whatever the input.
 */
int hive_lines_next(struct hive_lines *r, const char **line, size_t *len, enum hive_line_kind *kind,
		    struct hive_err *err);

/* The 1-based number of the line last returned. */
size_t hive_lines_number(const struct hive_lines *r);

void hive_lines_free(struct hive_lines *r);

#endif
