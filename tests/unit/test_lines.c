/* test_lines.c - unit tests for lib/lines.c: the one line reader over a buffer, a file and a pipe
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "unit.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../lib/lines.h"
#include "../../lib/err.h"

/* --- the line reader ---------------------------------------------------------------- */

struct want_line {
	const char *text; /* NULL: a too-long line, checked by length and first byte */
	size_t len;
	enum hive_line_kind kind;
	char fill; /* for too-long lines: the byte the line is made of */
};

/* Read every line from r and compare with want[0..n), then expect the end. */
static void expect_lines(struct hive_lines *r, const struct want_line *want, size_t n)
{
	struct hive_err err = {0};
	enum hive_line_kind kind;
	const char *line;
	size_t len, i, j;

	for (i = 0; i < n; i++) {
		int rc = hive_lines_next(r, &line, &len, &kind, &err);
		if (rc != 1)
			fail_msg("line %zu: hive_lines_next returned %d (%s)", i + 1, rc, err.msg);
		if (kind != want[i].kind)
			fail_msg("line %zu: kind %d, want %d", i + 1, (int)kind, (int)want[i].kind);
		if (len != want[i].len)
			fail_msg("line %zu: len %zu, want %zu", i + 1, len, want[i].len);
		assert_int_equal(hive_lines_number(r), i + 1);
		if (want[i].text) {
			assert_memory_equal(line, want[i].text, len);
		} else {
			/* a too-long line: its first bytes are there */
			for (j = 0; j < len; j++)
				if (line[j] != want[i].fill)
					fail_msg("line %zu: byte %zu is %d, want %d", i + 1, j,
						 line[j], want[i].fill);
		}
	}
	assert_int_equal(hive_lines_next(r, &line, &len, &kind, &err), 0);
	assert_int_equal(hive_lines_next(r, &line, &len, &kind, &err), 0); /* stays at the end */
}

/* Build: "a\n" "bb\n" "\n" <n bytes of 'x'> "\n" "next\n" "last" (no newline). */
static char *input_with_long_line(size_t n, size_t *total)
{
	const char head[] = "a\nbb\n\n", tail[] = "\nnext\nlast";
	char *buf = malloc(sizeof(head) + n + sizeof(tail));

	assert_non_null(buf);
	memcpy(buf, head, sizeof(head) - 1);
	memset(buf + sizeof(head) - 1, 'x', n);
	memcpy(buf + sizeof(head) - 1 + n, tail, sizeof(tail));
	*total = sizeof(head) - 1 + n + sizeof(tail) - 1;
	return buf;
}

static void want_for_long(struct want_line *w, size_t n)
{
	w[0] = (struct want_line){"a", 1, HIVE_LINE_OK, 0};
	w[1] = (struct want_line){"bb", 2, HIVE_LINE_OK, 0};
	w[2] = (struct want_line){"", 0, HIVE_LINE_OK, 0};
	if (n > HIVE_LINE_MAX)
		w[3] = (struct want_line){NULL, HIVE_LINE_MAX, HIVE_LINE_TOO_LONG, 'x'};
	else
		w[3] = (struct want_line){NULL, n, HIVE_LINE_OK, 'x'};
	w[4] = (struct want_line){"next", 4, HIVE_LINE_OK, 0};
	w[5] = (struct want_line){"last", 4, HIVE_LINE_NO_NEWLINE, 0};
}

static const size_t long_sizes[] = {HIVE_LINE_MAX, HIVE_LINE_MAX + 1, 3 * HIVE_LINE_MAX + 7};

static void test_lines_mem(void **state)
{
	static const char in[] = "first\nsecond line\n\n  spaced  \nno newline";
	static const struct want_line want[] = {
		{"first", 5, HIVE_LINE_OK, 0},
		{"second line", 11, HIVE_LINE_OK, 0},
		{"", 0, HIVE_LINE_OK, 0},
		{"  spaced  ", 10, HIVE_LINE_OK, 0},
		{"no newline", 10, HIVE_LINE_NO_NEWLINE, 0},
	};
	static const struct want_line one_empty[] = {{"", 0, HIVE_LINE_OK, 0}};
	struct hive_lines *r = NULL;
	struct hive_err err = {0};
	struct want_line w[6];
	size_t i, total;
	char *buf;

	(void)state;
	assert_int_equal(hive_lines_from_mem(in, strlen(in), &r, &err), HIVE_OK);
	expect_lines(r, want, 5);
	hive_lines_free(r);

	/* a trailing newline ends the last line: no extra empty line */
	assert_int_equal(hive_lines_from_mem(in, 6, &r, &err), HIVE_OK);
	expect_lines(r, want, 1);
	hive_lines_free(r);

	/* empty input; a lone newline */
	assert_int_equal(hive_lines_from_mem("", 0, &r, &err), HIVE_OK);
	expect_lines(r, NULL, 0);
	assert_int_equal(hive_lines_number(r), 0);
	hive_lines_free(r);
	assert_int_equal(hive_lines_from_mem("\n", 1, &r, &err), HIVE_OK);
	expect_lines(r, one_empty, 1);
	hive_lines_free(r);

	/* a NUL byte is part of a line, not its end */
	assert_int_equal(hive_lines_from_mem("a\0b\n", 4, &r, &err), HIVE_OK);
	{
		static const struct want_line nul[] = {{"a\0b", 3, HIVE_LINE_OK, 0}};
		expect_lines(r, nul, 1);
	}
	hive_lines_free(r);

	for (i = 0; i < sizeof(long_sizes) / sizeof(long_sizes[0]); i++) {
		buf = input_with_long_line(long_sizes[i], &total);
		want_for_long(w, long_sizes[i]);
		assert_int_equal(hive_lines_from_mem(buf, total, &r, &err), HIVE_OK);
		expect_lines(r, w, 6);
		hive_lines_free(r);
		free(buf);
	}

	/* a too-long last line without a newline */
	buf = malloc(HIVE_LINE_MAX + 10);
	assert_non_null(buf);
	memset(buf, 'z', HIVE_LINE_MAX + 10);
	assert_int_equal(hive_lines_from_mem(buf, HIVE_LINE_MAX + 10, &r, &err), HIVE_OK);
	{
		const struct want_line z[] = {{NULL, HIVE_LINE_MAX, HIVE_LINE_TOO_LONG, 'z'}};
		expect_lines(r, z, 1);
	}
	hive_lines_free(r);
	free(buf);
	hive_lines_free(NULL);
}

static void test_lines_fd_file(void **state)
{
	const char *dir = *state;
	char *p = unit_path_in(dir, "input"), *buf;
	struct hive_lines *r = NULL;
	struct hive_err err = {0};
	struct want_line w[6];
	size_t i, total;
	int fd;

	for (i = 0; i < sizeof(long_sizes) / sizeof(long_sizes[0]); i++) {
		buf = input_with_long_line(long_sizes[i], &total);
		unit_spit(p, buf, total, "w");
		free(buf);
		want_for_long(w, long_sizes[i]);
		fd = open(p, O_RDONLY);
		assert_true(fd >= 0);
		assert_int_equal(hive_lines_from_fd(fd, &r, &err), HIVE_OK);
		expect_lines(r, w, 6);
		hive_lines_free(r);
		close(fd);
	}

	/* a too-long last line without a newline, larger than any buffer */
	buf = malloc(3 * HIVE_LINE_MAX);
	assert_non_null(buf);
	memset(buf, 'z', 3 * HIVE_LINE_MAX);
	memcpy(buf, "ok\n", 3);
	unit_spit(p, buf, 3 * HIVE_LINE_MAX, "w");
	free(buf);
	fd = open(p, O_RDONLY);
	assert_int_equal(hive_lines_from_fd(fd, &r, &err), HIVE_OK);
	{
		const struct want_line z[] = {{"ok", 2, HIVE_LINE_OK, 0},
					      {NULL, HIVE_LINE_MAX, HIVE_LINE_TOO_LONG, 'z'}};
		expect_lines(r, z, 2);
	}
	hive_lines_free(r);
	close(fd);

	/* an empty file */
	unit_spit(p, "", 0, "w");
	fd = open(p, O_RDONLY);
	assert_int_equal(hive_lines_from_fd(fd, &r, &err), HIVE_OK);
	expect_lines(r, NULL, 0);
	hive_lines_free(r);
	/* the reader does not close the descriptor */
	assert_true(fcntl(fd, F_GETFD) != -1);
	close(fd);
	free(p);
}

/* Many lines of varying length, so line ends fall on every buffer boundary. */
static void test_lines_fd_many(void **state)
{
	const char *dir = *state;
	char *p = unit_path_in(dir, "many"), *buf, *q;
	struct hive_lines *r = NULL;
	struct hive_err err = {0};
	enum hive_line_kind kind;
	const char *line;
	size_t len, i, n = 20000, total = 0, seen = 0;
	int fd;

	for (i = 0; i < n; i++)
		total += i % 997 + 1;
	buf = malloc(total);
	assert_non_null(buf);
	for (q = buf, i = 0; i < n; i++) {
		memset(q, 'a' + (char)(i % 26), i % 997);
		q += i % 997;
		*q++ = '\n';
	}
	unit_spit(p, buf, total, "w");
	free(buf);
	fd = open(p, O_RDONLY);
	assert_int_equal(hive_lines_from_fd(fd, &r, &err), HIVE_OK);
	while (hive_lines_next(r, &line, &len, &kind, &err) == 1) {
		if (len != seen % 997 || kind != HIVE_LINE_OK ||
		    (len && (line[0] != 'a' + (char)(seen % 26) ||
			     line[len - 1] != 'a' + (char)(seen % 26))))
			fail_msg("line %zu wrong (len %zu)", seen + 1, len);
		seen++;
		assert_int_equal(hive_lines_number(r), seen);
	}
	assert_int_equal(seen, n);
	hive_lines_free(r);
	close(fd);
	free(p);
}

/* Over a pipe, fed by a child in small writes: reads return partial data. */
static void test_lines_fd_pipe(void **state)
{
	struct want_line w[6];
	struct hive_lines *r = NULL;
	struct hive_err err = {0};
	size_t total, off, chunk, i;
	int fds[2], status;
	pid_t pid;
	char *buf;

	(void)state;
	for (i = 0; i < sizeof(long_sizes) / sizeof(long_sizes[0]); i++) {
		buf = input_with_long_line(long_sizes[i], &total);
		want_for_long(w, long_sizes[i]);
		assert_int_equal(pipe(fds), 0);
		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			close(fds[0]);
			for (off = 0; off < total; off += chunk) {
				chunk = total - off < 4000 ? total - off : 4000;
				if (write(fds[1], buf + off, chunk) != (ssize_t)chunk)
					_exit(1);
			}
			free(buf);
			_exit(0);
		}
		close(fds[1]);
		assert_int_equal(hive_lines_from_fd(fds[0], &r, &err), HIVE_OK);
		expect_lines(r, w, 6);
		hive_lines_free(r);
		close(fds[0]);
		free(buf);
		assert_int_equal(waitpid(pid, &status, 0), pid);
		assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}

	/* a pipe whose writer closes without a final newline */
	assert_int_equal(pipe(fds), 0);
	assert_int_equal(write(fds[1], "one\ntwo", 7), 7);
	close(fds[1]);
	assert_int_equal(hive_lines_from_fd(fds[0], &r, &err), HIVE_OK);
	{
		static const struct want_line two[] = {{"one", 3, HIVE_LINE_OK, 0},
						       {"two", 3, HIVE_LINE_NO_NEWLINE, 0}};
		expect_lines(r, two, 2);
	}
	hive_lines_free(r);
	close(fds[0]);
}

static void test_lines_fd_read_error(void **state)
{
	struct hive_lines *r = NULL;
	struct hive_err err = {0};
	enum hive_line_kind kind;
	const char *line;
	size_t len;
	int fd = open("/tmp", O_RDONLY | O_DIRECTORY);

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(hive_lines_from_fd(fd, &r, &err), HIVE_OK);
	assert_int_equal(hive_lines_next(r, &line, &len, &kind, &err), -1);
	assert_int_equal(err.status, HIVE_EENV);
	assert_non_null(strstr(err.msg, "Is a directory"));
	hive_lines_free(r);
	close(fd);
}

/* several inputs read in turn: numbering runs on, each line knows its input and its number
 * there, a cut-off last line of one input is given as such before the next input starts, and
 * empty inputs are passed over */
static void test_lines_sources(void **state)
{
	const char *bufs[] = {"a\nb\n", "", "c\nd", "e\n"};
	const size_t lens[] = {4, 0, 3, 2};
	const char *want[] = {"a", "b", "c", "d", "e"};
	const size_t src[] = {0, 0, 2, 2, 3}, local[] = {1, 2, 1, 2, 1};
	const enum hive_line_kind kinds[] = {HIVE_LINE_OK, HIVE_LINE_OK, HIVE_LINE_OK,
					     HIVE_LINE_NO_NEWLINE, HIVE_LINE_OK};
	struct hive_lines *r = NULL;
	struct hive_err err = {0};
	enum hive_line_kind kind;
	const char *line;
	size_t len, i, at;

	(void)state;
	assert_int_equal(hive_lines_from_mems(bufs, lens, 4, &r, &err), HIVE_OK);
	for (i = 0; i < 5; i++) {
		assert_int_equal(hive_lines_next(r, &line, &len, &kind, &err), 1);
		assert_int_equal(len, 1);
		assert_memory_equal(line, want[i], 1);
		assert_int_equal(kind, kinds[i]);
		assert_int_equal(hive_lines_number(r), i + 1);
		assert_int_equal(hive_lines_source(r, &at), src[i]);
		assert_int_equal(at, local[i]);
	}
	assert_int_equal(hive_lines_next(r, &line, &len, &kind, &err), 0);
	hive_lines_free(r);
}

#define T(f) cmocka_unit_test_setup_teardown(f, unit_setup_tmpdir, unit_teardown_tmpdir)

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lines_mem),
		cmocka_unit_test(test_lines_sources),
		T(test_lines_fd_file),
		T(test_lines_fd_many),
		cmocka_unit_test(test_lines_fd_pipe),
		cmocka_unit_test(test_lines_fd_read_error),
	};

	return cmocka_run_group_tests_name("lines", tests, NULL, NULL);
}
