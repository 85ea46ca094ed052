/* test_util.c - unit tests for lib/util.c: RFC 3339 times, string vectors, file reads,
 * all-or-nothing writes */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "unit.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../../lib/util.h"

/* --- helpers ------------------------------------------------------------------------ */

static off_t file_size(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	return st.st_size;
}

/* --- hive_time_parse ---------------------------------------------------------------- */

static void time_parse_ok(const char *s, int64_t want)
{
	int64_t ms = -12345;

	if (hive_time_parse(s, &ms) != 0)
		fail_msg("hive_time_parse rejected %s", s);
	if (ms != want)
		fail_msg("hive_time_parse(%s) = %lld, want %lld", s, (long long)ms,
			 (long long)want);
}

static void time_parse_bad(const char *s)
{
	int64_t ms = 777;

	if (hive_time_parse(s, &ms) != -1)
		fail_msg("hive_time_parse accepted %s", s ? s : "(null)");
}

static void test_time_parse_with_fraction(void **state)
{
	(void)state;
	time_parse_ok("2025-01-15T10:30:00.123Z", 1736937000123LL);
	time_parse_ok("2025-01-15T10:30:00.000Z", 1736937000000LL);
	time_parse_ok("2025-01-15T10:30:00.999Z", 1736937000999LL);
	/* one digit is tenths, more than three are truncated to milliseconds */
	time_parse_ok("2025-01-15T10:30:00.5Z", 1736937000500LL);
	time_parse_ok("2025-01-15T10:30:00.12Z", 1736937000120LL);
	time_parse_ok("2025-01-15T10:30:00.123456789Z", 1736937000123LL);
}

static void test_time_parse_without_fraction(void **state)
{
	(void)state;
	time_parse_ok("2025-01-15T10:30:00Z", 1736937000000LL);
	time_parse_ok("1970-01-01T00:00:00Z", 0);
	time_parse_ok("2024-02-29T23:59:59Z", 1709251199000LL); /* a leap day */
	time_parse_ok("2000-03-01T00:00:00Z", 951868800000LL);
	time_parse_ok("2016-12-31T23:59:60Z", 1483228800000LL); /* a leap second: the next minute */
}

/* Every day from year 0001 to 9999 against libc's timegm, which hive_time_parse's
 * arithmetic replaces, and hive_time_format (which replaces gmtime_r) back to the same
 * text (seconds 0..59 here: a leap second :60 is read as the next minute's :00). */
static void test_time_parse_agrees_with_timegm(void **state)
{
	static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	char s[40];
	int y, m, d, leap;
	struct tm tm;

	(void)state;
	for (y = 1; y <= 9999; y++) {
		leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
		for (m = 1; m <= 12; m++) {
			for (d = 1; d <= mdays[m - 1] + (m == 2 && leap); d++) {
				int h = (y + d) % 24, mi = (m * d) % 60, sec = (y + m + d) % 60;
				char back[32];

				snprintf(s, sizeof(s), "%04d-%02d-%02dT%02d:%02d:%02d.042Z", y, m,
					 d, h, mi, sec);
				memset(&tm, 0, sizeof(tm));
				tm.tm_year = y - 1900;
				tm.tm_mon = m - 1;
				tm.tm_mday = d;
				tm.tm_hour = h;
				tm.tm_min = mi;
				tm.tm_sec = sec;
				time_parse_ok(s, (int64_t)timegm(&tm) * 1000 + 42);
				hive_time_format((int64_t)timegm(&tm) * 1000 + 42, back);
				assert_string_equal(back, s);
			}
		}
	}
}

static void test_time_parse_offsets(void **state)
{
	(void)state;
	time_parse_ok("2025-01-15T10:30:00+00:00", 1736937000000LL);
	time_parse_ok("2025-01-15T10:30:00.250+00:00", 1736937000250LL);
	/* RFC 3339 allows lowercase t and z */
	time_parse_ok("2025-01-15t10:30:00z", 1736937000000LL);
}

static void test_time_parse_rejects_garbage(void **state)
{
	(void)state;
	time_parse_bad(NULL);
	time_parse_bad("");
	time_parse_bad("yesterday");
	time_parse_bad("2025-01-15");
	time_parse_bad("2025-01-15T10:30:00");	     /* no zone */
	time_parse_bad("2025-01-15T10:30:00.Z");     /* a dot with no digits */
	time_parse_bad("2025-01-15T10:30:00.123");   /* fraction, no zone */
	time_parse_bad("2025-01-15T10:30:00+01:00"); /* not UTC */
	time_parse_bad("2025-01-15T10:30:00-00:00");
	time_parse_bad("2025-01-15T10:30:00ZZ"); /* trailing garbage */
	time_parse_bad("2025-01-15T10:30:00Z ");
	time_parse_bad(" 2025-01-15T10:30:00Z");
	time_parse_bad("2025/01/15T10:30:00Z");
	time_parse_bad("2025-01-15X10:30:00Z");
	time_parse_bad("2025-1-15T10:30:00Z");
	time_parse_bad("20250115T103000Z");
	time_parse_bad("2025-01-15T10:30:0aZ");
	time_parse_bad("2025-01-15T10:30:00.12aZ");
}

static void test_time_parse_rejects_bad_fields(void **state)
{
	(void)state;
	time_parse_bad("2025-13-01T00:00:00Z"); /* month 13 */
	time_parse_bad("2025-00-10T00:00:00Z"); /* month 0 */
	time_parse_bad("2025-01-00T00:00:00Z"); /* day 0 */
	time_parse_bad("2025-01-32T00:00:00Z");
	time_parse_bad("2025-01-15T24:00:00Z");
	time_parse_bad("2025-01-15T10:60:00Z");
	time_parse_bad("2025-01-15T10:30:61Z");
	/* days that the month does not have: never silently moved into the next month */
	time_parse_bad("2025-02-29T00:00:00Z"); /* 2025 is not a leap year */
	time_parse_bad("2025-02-30T00:00:00Z");
	time_parse_bad("2025-04-31T00:00:00Z");
	time_parse_bad("1900-02-29T00:00:00Z");		       /* century, not a leap year */
	time_parse_ok("2000-02-29T00:00:00Z", 951782400000LL); /* 400-year rule: leap */
}

/* --- hive_time_format ------------------------------------------------------------- */

static void test_time_format_known(void **state)
{
	char out[32];

	(void)state;
	hive_time_format(1736937000123LL, out);
	assert_string_equal(out, "2025-01-15T10:30:00.123Z");
	hive_time_format(0, out);
	assert_string_equal(out, "1970-01-01T00:00:00.000Z");
	hive_time_format(1736937000007LL, out);
	assert_string_equal(out, "2025-01-15T10:30:00.007Z");
}

static void test_time_format_round_trip(void **state)
{
	static const int64_t samples[] = {0,
					  1,
					  999,
					  1000,
					  1736937000123LL,
					  1709251199999LL,
					  951782400000LL,
					  4102444799999LL, /* 2099-12-31T23:59:59.999Z */
					  253402300799999LL /* 9999-12-31T23:59:59.999Z */};
	char out[32];
	int64_t back;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
		hive_time_format(samples[i], out);
		assert_int_equal(strlen(out), 24);
		assert_int_equal(hive_time_parse(out, &back), 0);
		if (back != samples[i])
			fail_msg("%lld -> %s -> %lld", (long long)samples[i], out, (long long)back);
	}
}

static void test_time_format_before_epoch(void **state)
{
	char out[32];
	int64_t back;

	(void)state;
	/* hive_time_parse accepts years before 1970; formatting them must round-trip too */
	hive_time_format(-1, out);
	assert_string_equal(out, "1969-12-31T23:59:59.999Z");
	hive_time_format(-1000, out);
	assert_string_equal(out, "1969-12-31T23:59:59.000Z");
	assert_int_equal(hive_time_parse("1969-07-20T20:17:40.500Z", &back), 0);
	hive_time_format(back, out);
	assert_string_equal(out, "1969-07-20T20:17:40.500Z");
}

/* Bounded by the clock hive_now_rfc3339 reads, CLOCK_REALTIME. (Not time(NULL): glibc
 * answers it from the coarse clock, up to a tick behind, and this test once failed in CI
 * when a second began between the two.) */
static void test_now_rfc3339(void **state)
{
	struct timespec t0, t1;
	char out[32];
	int64_t ms;

	(void)state;
	clock_gettime(CLOCK_REALTIME, &t0);
	hive_now_rfc3339(out);
	clock_gettime(CLOCK_REALTIME, &t1);
	assert_int_equal(strlen(out), 24);
	assert_int_equal(out[23], 'Z');
	assert_int_equal(out[19], '.');
	assert_int_equal(hive_time_parse(out, &ms), 0);
	assert_true(ms >= (int64_t)t0.tv_sec * 1000 + t0.tv_nsec / 1000000);
	assert_true(ms <= (int64_t)t1.tv_sec * 1000 + t1.tv_nsec / 1000000);
}

/* --- hive_strv -------------------------------------------------------------------- */

static void test_strv_push_has_clear(void **state)
{
	struct hive_strv sv = {0};
	char buf[32];
	char word[] = "mutable";
	int i;

	(void)state;
	assert_int_equal(hive_strv_has(&sv, "a"), 0); /* empty vector */
	assert_int_equal(hive_strv_push(&sv, "alpha"), 0);
	assert_int_equal(hive_strv_push(&sv, ""), 0);
	assert_int_equal(hive_strv_push(&sv, word), 0);
	word[0] = 'X'; /* the vector holds a copy */
	assert_int_equal(sv.n, 3);
	assert_string_equal(sv.v[0], "alpha");
	assert_string_equal(sv.v[1], "");
	assert_string_equal(sv.v[2], "mutable");
	assert_null(sv.v[3]);
	assert_int_equal(hive_strv_has(&sv, "alpha"), 1);
	assert_int_equal(hive_strv_has(&sv, ""), 1);
	assert_int_equal(hive_strv_has(&sv, "mutable"), 1);
	assert_int_equal(hive_strv_has(&sv, "Xutable"), 0);
	assert_int_equal(hive_strv_has(&sv, "alph"), 0); /* exact match only */
	assert_int_equal(hive_strv_has(&sv, "alphaa"), 0);
	assert_int_equal(hive_strv_has(&sv, "ALPHA"), 0);

	/* grow well past the first allocation; stays NULL-terminated */
	for (i = 0; i < 100; i++) {
		snprintf(buf, sizeof(buf), "item-%d", i);
		assert_int_equal(hive_strv_push(&sv, buf), 0);
		assert_null(sv.v[sv.n]);
	}
	assert_int_equal(sv.n, 103);
	assert_string_equal(sv.v[3], "item-0");
	assert_string_equal(sv.v[102], "item-99");
	assert_int_equal(hive_strv_has(&sv, "item-57"), 1);

	hive_strv_clear(&sv);
	assert_null(sv.v);
	assert_int_equal(sv.n, 0);
	assert_int_equal(sv.cap, 0);
	assert_int_equal(hive_strv_has(&sv, "alpha"), 0);
	hive_strv_clear(&sv); /* clearing twice is harmless */

	/* reusable after clear */
	assert_int_equal(hive_strv_push(&sv, "again"), 0);
	assert_int_equal(sv.n, 1);
	assert_string_equal(sv.v[0], "again");
	assert_null(sv.v[1]);
	hive_strv_clear(&sv);
}

/* --- hive_read_file --------------------------------------------------------------- */

static void test_read_file(void **state)
{
	const char *dir = *state;
	char *p = unit_path_in(dir, "f.txt"), *link = unit_path_in(dir, "link"), *buf = NULL;
	struct hive_err err = {0};
	size_t len = 99;
	int dirfd = open(dir, O_RDONLY | O_DIRECTORY);

	assert_true(dirfd >= 0);
	unit_write_file(p, "hello\nworld\n");

	assert_int_equal(hive_read_file(AT_FDCWD, p, 0, 1024, &buf, &len, &err), HIVE_OK);
	assert_int_equal(len, 12);
	assert_string_equal(buf, "hello\nworld\n");
	free(buf);
	buf = NULL;

	/* relative to a directory descriptor */
	assert_int_equal(hive_read_file(dirfd, "f.txt", 1, 1024, &buf, &len, &err), HIVE_OK);
	assert_string_equal(buf, "hello\nworld\n");
	free(buf);
	buf = NULL;

	/* missing: HIVE_EUSAGE (the caller decides whether that is fine) */
	assert_int_equal(hive_read_file(dirfd, "nope", 1, 1024, &buf, &len, &err), HIVE_EUSAGE);
	assert_int_equal(err.status, HIVE_EUSAGE);
	assert_null(buf);
	assert_non_null(strstr(err.msg, "nope"));
	assert_non_null(strstr(err.msg, "No such file"));

	/* over the size limit */
	assert_int_equal(hive_read_file(dirfd, "f.txt", 1, 5, &buf, &len, &err), HIVE_EUSAGE);
	assert_string_equal(err.msg, "f.txt: larger than 5 bytes");
	assert_null(buf);

	/* not a regular file */
	assert_int_equal(hive_read_file(AT_FDCWD, dir, 0, 1024, &buf, &len, &err), HIVE_EUSAGE);
	assert_non_null(strstr(err.msg, "not a regular file"));
	assert_null(buf);

	/* a symbolic link: refused with nofollow, read through without */
	assert_int_equal(symlink("f.txt", link), 0);
	assert_int_equal(hive_read_file(dirfd, "link", 1, 1024, &buf, &len, &err), HIVE_EENV);
	assert_string_equal(err.msg, "link: is a symbolic link");
	assert_null(buf);
	assert_int_equal(hive_read_file(dirfd, "link", 0, 1024, &buf, &len, &err), HIVE_OK);
	assert_string_equal(buf, "hello\nworld\n");
	free(buf);
	buf = NULL;

	/* an empty file is an empty NUL-terminated buffer */
	unit_write_file(p, "");
	assert_int_equal(hive_read_file(dirfd, "f.txt", 1, 1024, &buf, NULL, &err), HIVE_OK);
	assert_non_null(buf);
	assert_string_equal(buf, "");
	free(buf);

	close(dirfd);
	free(p);
	free(link);
}

/* --- hive_write_all_or_truncate --------------------------------------------------- */

static void test_write_all_or_truncate(void **state)
{
	const char *dir = *state;
	char *p = unit_path_in(dir, "log"), *text = NULL;
	struct rlimit old, lim;
	void (*old_handler)(int);
	struct hive_err err = {0};
	size_t len;
	int fd;

	unit_write_file(p, "line one\n");
	fd = open(p, O_RDWR | O_APPEND);
	assert_true(fd >= 0);
	assert_int_equal(hive_write_all_or_truncate(fd, "line two\n", 9, 9), 0);
	assert_int_equal(file_size(p), 18);

	/* A short write (file size limit) must leave the file exactly as it was. */
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	old_handler = signal(SIGXFSZ, SIG_IGN);
	lim = old;
	lim.rlim_cur = 22; /* room for 4 more bytes only */
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	errno = 0;
	assert_int_equal(hive_write_all_or_truncate(fd, "line three\n", 11, 18), -1);
	assert_true(errno != 0);
	/* and a write that starts at the limit fails outright */
	lim.rlim_cur = 18;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	assert_int_equal(hive_write_all_or_truncate(fd, "line three\n", 11, 18), -1);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, old_handler);

	close(fd);
	assert_int_equal(hive_read_file(AT_FDCWD, p, 0, 1024, &text, &len, &err), HIVE_OK);
	assert_string_equal(text, "line one\nline two\n");
	free(text);
	free(p);
}

/* --- hive_random ------------------------------------------------------------------ */

static void test_random(void **state)
{
	unsigned char a[32] = {0}, b[32] = {0}, zero[32] = {0};

	(void)state;
	assert_int_equal(hive_random(a, sizeof(a)), 0);
	assert_int_equal(hive_random(b, sizeof(b)), 0);
	/* 256 random bits: equal or all zero only if getrandom is not being used */
	assert_memory_not_equal(a, b, sizeof(a));
	assert_memory_not_equal(a, zero, sizeof(a));
	assert_int_equal(hive_random(a, 0), 0);
}

static void test_path_under_and_strv_sort(void **state)
{
	struct hive_strv sv = {0};

	(void)state;
	assert_string_equal(hive_path_under("/r/top", "/r/top/Docs/hive"), "Docs/hive");
	assert_null(hive_path_under("/r/top", "/r/top"));
	assert_null(hive_path_under("/r/top", "/r/top/"));
	assert_null(hive_path_under("/r/top", "/r/topx/a"));
	assert_null(hive_path_under("/r/top", "/elsewhere"));
	assert_null(hive_path_under(NULL, "/r/top/a"));
	assert_int_equal(hive_strv_push(&sv, "b"), 0);
	assert_int_equal(hive_strv_push(&sv, "a-1"), 0);
	assert_int_equal(hive_strv_push(&sv, "a"), 0);
	hive_strv_sort(&sv);
	assert_string_equal(sv.v[0], "a");
	assert_string_equal(sv.v[1], "a-1");
	assert_string_equal(sv.v[2], "b");
	hive_strv_clear(&sv);
	hive_strv_sort(&sv); /* empty: nothing to do */
}

/* hive_root_inside: ".", "..", "//" and symbolic links resolved before the root is held
 * against the top. */
static void test_root_inside(void **state)
{
	const char *dir = *state;
	char top[4200], path[4400], link[4400], *out = NULL;
	struct hive_err err = {0};

	snprintf(top, sizeof(top), "%s/top", dir);
	assert_int_equal(mkdir(top, 0755), 0);
	snprintf(path, sizeof(path), "%s/./Docs//x/../hive", top);
	assert_int_equal(hive_root_inside(top, path, "--root", &out, &err), HIVE_OK);
	snprintf(path, sizeof(path), "%s/Docs/hive", top);
	assert_string_equal(out, path);
	free(out);
	/* out of the top by "..", by an absolute path, the top itself, .git */
	snprintf(path, sizeof(path), "%s/Docs/../../up", top);
	assert_int_equal(hive_root_inside(top, path, "--root", &out, &err), HIVE_EUSAGE);
	assert_null(out);
	assert_non_null(strstr(err.msg, "--root "));
	assert_non_null(strstr(err.msg, "is outside the work tree"));
	assert_int_equal(hive_root_inside(top, "/elsewhere", "x", &out, &err), HIVE_EUSAGE);
	assert_int_equal(hive_root_inside(top, top, "x", &out, &err), HIVE_EUSAGE);
	snprintf(path, sizeof(path), "%s/sub/..", top);
	assert_int_equal(hive_root_inside(top, path, "x", &out, &err), HIVE_EUSAGE);
	snprintf(path, sizeof(path), "%s/.git/hive", top);
	assert_int_equal(hive_root_inside(top, path, "x", &out, &err), HIVE_EUSAGE);
	assert_non_null(strstr(err.msg, "inside .git"));
	snprintf(path, sizeof(path), "%s/.github/hive", top); /* not .git */
	assert_int_equal(hive_root_inside(top, path, "x", &out, &err), HIVE_OK);
	free(out);
	/* a folder on the way linked out of the top counts as outside; one linked within, in */
	snprintf(link, sizeof(link), "%s/Docs", top);
	assert_int_equal(symlink(dir, link), 0);
	snprintf(path, sizeof(path), "%s/Docs/hive-mind", top);
	assert_int_equal(hive_root_inside(top, path, "x", &out, &err), HIVE_EUSAGE);
	assert_int_equal(unlink(link), 0);
	snprintf(path, sizeof(path), "%s/real", top);
	assert_int_equal(mkdir(path, 0755), 0);
	assert_int_equal(symlink("real", link), 0);
	snprintf(path, sizeof(path), "%s/Docs/hive-mind", top);
	assert_int_equal(hive_root_inside(top, path, "x", &out, &err), HIVE_OK);
	snprintf(path, sizeof(path), "%s/real/hive-mind", top);
	assert_string_equal(out, path);
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_time_parse_with_fraction),
		cmocka_unit_test(test_time_parse_without_fraction),
		cmocka_unit_test(test_time_parse_offsets),
		cmocka_unit_test(test_time_parse_agrees_with_timegm),
		cmocka_unit_test(test_time_parse_rejects_garbage),
		cmocka_unit_test(test_time_parse_rejects_bad_fields),
		cmocka_unit_test(test_time_format_known),
		cmocka_unit_test(test_time_format_round_trip),
		cmocka_unit_test(test_time_format_before_epoch),
		cmocka_unit_test(test_now_rfc3339),
		cmocka_unit_test(test_strv_push_has_clear),
		cmocka_unit_test_setup_teardown(test_read_file, unit_setup_tmpdir,
						unit_teardown_tmpdir),
		cmocka_unit_test_setup_teardown(test_write_all_or_truncate, unit_setup_tmpdir,
						unit_teardown_tmpdir),
		cmocka_unit_test(test_random),
		cmocka_unit_test(test_path_under_and_strv_sort),
		cmocka_unit_test_setup_teardown(test_root_inside, unit_setup_tmpdir,
						unit_teardown_tmpdir),
	};

	return cmocka_run_group_tests_name("util", tests, NULL, NULL);
}
