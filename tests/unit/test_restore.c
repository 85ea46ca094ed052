/* test_restore.c - unit tests for lib/restore.c: copies of a session folder merged (the longest
 * log over its segments and the longest copy of each lane win, the others must be prefixes),
 * and what is refused or skipped without anything written (end to end: tests/bats/restore.bats) */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "unit.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../../lib/restore.h"

#include "../../lib/util.h"

/* Log lines with a real chain (seq from 1, prev the SHA-256 of the line before): the merged
 * folder must pass the integrity rules before it goes in. L1 starts s1; L2 and L2B are two
 * different second lines; L3 follows L2; OTHER starts s2. E1, E2, EQ are lane eu's (forked
 * at L1; E2 and EQ two different second lines), U1 lane us's first line. Made by lines(). */
static char L1[512], L2[512], L2B[512], L3[512], OTHER[512], E1[512], E2[512], EQ[512], U1[512];

/* out: line seq of session sid, of type, whose prev is the line `before` (NULL: null), in
 * lane (NULL: the main log), with details. */
static void make_line(char *out, size_t size, const char *sid, int seq, const char *type,
		      const char *before, const char *lane, const char *details)
{
	char prev[HIVE_HASH_SIZE + 2] = "null", h[HIVE_HASH_SIZE];
	char tail[64] = "";

	if (before) {
		hive_sha256(before, strlen(before) - 1, h); /* without its newline */
		snprintf(prev, sizeof(prev), "\"%s\"", h);
	}
	if (lane)
		snprintf(tail, sizeof(tail), ",\"lane\":\"%s\"", lane);
	snprintf(out, size,
		 "{\"seq\":%d,\"event_type\":\"%s\",\"session_id\":\"%s\",\"details\":%s,"
		 "\"prev\":%s%s}\n",
		 seq, type, sid, details, prev, tail);
}

static void lines(void)
{
	char h[HIVE_HASH_SIZE], fork[200];

	make_line(L1, sizeof(L1), "s1", 1, "session_started", NULL, NULL, "{}");
	make_line(L2, sizeof(L2), "s1", 2, "pipeline_updated", L1, NULL, "{}");
	make_line(L2B, sizeof(L2B), "s1", 2, "monitoring_added", L1, NULL, "{}");
	make_line(L3, sizeof(L3), "s1", 3, "pipeline_updated", L2, NULL, "{}");
	make_line(OTHER, sizeof(OTHER), "s2", 1, "session_started", NULL, NULL, "{}");
	hive_sha256(L1, strlen(L1) - 1, h);
	snprintf(fork, sizeof(fork), "{\"main\":{\"seq\":1,\"hash\":\"%s\"}}", h);
	make_line(E1, sizeof(E1), "s1", 1, "lane_started", NULL, "eu", fork);
	make_line(E2, sizeof(E2), "s1", 2, "pipeline_updated", E1, "eu", "{}");
	make_line(EQ, sizeof(EQ), "s1", 2, "monitoring_added", E1, "eu", "{}");
	make_line(U1, sizeof(U1), "s1", 1, "lane_started", NULL, "us", fork);
}

/* a + b (+ c), as a new string */
static char *cat(const char *a, const char *b, const char *c)
{
	return unit_pathf("%s%s%s", a, b, c ? c : "");
}

/* A copy DIR/name of a session folder: EVENTS.jsonl holding log, STATE.json naming s1. */
static char *copy(const char *dir, const char *name, const char *log)
{
	char *c = unit_path_in(dir, name);

	assert_int_equal(mkdir(c, 0755), 0);
	unit_write_in(c, "EVENTS.jsonl", log);
	unit_write_in(c, "STATE.json", "{\"session_id\":\"s1\"}\n");
	return c;
}

/* lanes/<lane>.jsonl of copy c, holding text. */
static void lane(const char *c, const char *name, const char *text)
{
	char *d = unit_path_in(c, "lanes"), *f = unit_pathf("%s/%s.jsonl", d, name);

	mkdir(d, 0755);
	unit_write_file(f, text);
	free(f);
	free(d);
}

/* The file name of the session folder root/sessions/s1, as a new string (NULL if missing). */
static char *result(const char *root, const char *name)
{
	char *p = unit_pathf("%s/sessions/s1/%s", root, name), *text = unit_slurp(p, NULL);

	free(p);
	return text;
}

static void test_absent_or_empty_is_a_new_session(void **state)
{
	const char *tmp = *state;
	char *root = unit_path_in(tmp, "root"), *dir = unit_path_in(tmp, "copies");
	struct hive_restore_result r;
	struct hive_err err = {0};

	assert_int_equal(hive_restore_copies(root, "s1", dir, &r, &err), HIVE_OK);
	assert_int_equal(r.restored, 0);
	assert_int_equal(r.copies, 0);
	assert_int_equal(mkdir(dir, 0755), 0);
	assert_int_equal(hive_restore_copies(root, "s1", dir, &r, &err), HIVE_OK);
	assert_int_equal(r.restored, 0);
	assert_false(unit_exists(root)); /* nothing made */
	free(root);
	free(dir);
}

static void test_longest_wins_over_segments(void **state)
{
	const char *tmp = *state;
	char *root = unit_path_in(tmp, "root"), *dir = unit_path_in(tmp, "copies"), *a, *b, *t,
	     *list;
	struct hive_restore_result r;
	struct hive_err err = {0};

	assert_int_equal(mkdir(dir, 0755), 0);
	/* a: the first segment only; b: the same first segment, and a second one */
	a = copy(dir, "a", L1);
	b = copy(dir, "b", L1);
	unit_write_in(b, "EVENTS-000002.jsonl", L2);
	unit_write_in(b, "RUNBOOK.md", "# b\n");
	unit_write_in(b, ".hidden", "x\n");
	assert_int_equal(hive_restore_copies(root, "s1", dir, &r, &err), HIVE_OK);
	assert_int_equal(r.restored, 1);
	assert_int_equal(r.replaced, 0);
	assert_int_equal(r.copies, 2);
	assert_string_equal(r.from, b);
	assert_string_equal((t = result(root, "EVENTS.jsonl")), L1);
	free(t);
	assert_string_equal((t = result(root, "EVENTS-000002.jsonl")), L2);
	free(t);
	assert_string_equal((t = result(root, "RUNBOOK.md")), "# b\n");
	free(t);
	assert_null(result(root, ".hidden")); /* names starting with '.' are never taken */
	assert_non_null((t = result(root, ".lock")));
	free(t);
	t = unit_pathf("%s/sessions", root);
	list = unit_list_dir(t);
	assert_string_equal(list, "s1"); /* no temporary folder left */
	free(list);
	free(t);
	free(a);
	free(b);
	free(root);
	free(dir);
}

static void test_copies_that_diverge_are_refused(void **state)
{
	const char *tmp = *state;
	char *root = unit_path_in(tmp, "root"), *dir = unit_path_in(tmp, "copies"), *a, *b, *want;
	struct hive_restore_result r;
	struct hive_err err = {0};

	assert_int_equal(mkdir(dir, 0755), 0);
	char *l12 = cat(L1, L2, NULL), *l12b = cat(L1, L2B, NULL);

	a = copy(dir, "a", l12);
	b = copy(dir, "b", l12b);
	free(l12);
	free(l12b);
	assert_int_equal(hive_restore_copies(root, "s1", dir, &r, &err), HIVE_EENV);
	want = unit_pathf("the session copies in %s and %s differ: two jobs wrote to the session "
			  "at the same time",
			  a, b);
	assert_string_equal(err.msg, want);
	assert_int_equal(r.restored, 0);
	assert_false(unit_exists(root));
	free(want);
	free(a);
	free(b);
	free(root);
	free(dir);
}

static void test_lanes_merged_and_diverging_lanes_refused(void **state)
{
	const char *tmp = *state;
	char *root = unit_path_in(tmp, "root"), *dir = unit_path_in(tmp, "copies"), *a, *b, *c, *t,
	     *want;
	struct hive_restore_result r;
	struct hive_err err = {0};

	assert_int_equal(mkdir(dir, 0755), 0);
	a = copy(dir, "a", L1);
	b = copy(dir, "b", L1);
	char *e12 = cat(E1, E2, NULL), *e1q = cat(E1, EQ, NULL);

	lane(a, "eu", E1);
	lane(b, "eu", e12);
	lane(b, "us", U1);
	lane(b, ".tmp-eu", "junk\n"); /* not a lane */
	assert_int_equal(hive_restore_copies(root, "s1", dir, &r, &err), HIVE_OK);
	assert_int_equal(r.lanes, 2);
	assert_string_equal((t = result(root, "lanes/eu.jsonl")), e12);
	free(t);
	assert_string_equal((t = result(root, "lanes/us.jsonl")), U1);
	free(t);
	assert_null(result(root, "lanes/.tmp-eu.jsonl"));
	/* a third copy whose eu went another way: refused, the folder as it was (the local
	 * folder, now a copy too, holds the longest eu so far) */
	c = copy(dir, "c", L1);
	lane(c, "eu", e1q);
	assert_int_equal(hive_restore_copies(root, "s1", dir, &r, &err), HIVE_EENV);
	want = unit_pathf("the copies of lane eu in %s/sessions/s1 and %s differ: two jobs wrote "
			  "to that lane at the same time",
			  root, c);
	assert_string_equal(err.msg, want);
	assert_string_equal((t = result(root, "lanes/eu.jsonl")), e12);
	free(t);
	free(want);
	free(e12);
	free(e1q);
	free(a);
	free(b);
	free(c);
	free(root);
	free(dir);
}

static void test_other_sessions_skipped_local_folder_counts(void **state)
{
	const char *tmp = *state;
	char *root = unit_path_in(tmp, "root"), *dir = unit_path_in(tmp, "copies"), *a, *o, *local,
	     *t, *list;
	char *l12 = cat(L1, L2, NULL), *l123 = cat(L1, L2, L3);
	struct hive_restore_result r;
	struct hive_err err = {0};

	assert_int_equal(mkdir(dir, 0755), 0);
	o = copy(dir, "other", OTHER);
	assert_int_equal(hive_restore_copies(root, "s1", dir, &r, &err), HIVE_OK);
	assert_int_equal(r.skipped, 1);
	assert_int_equal(r.copies, 0);
	assert_false(unit_exists(root));
	/* the local folder holds more than the copy: nothing is written */
	a = copy(dir, "a", L1);
	local = unit_pathf("%s/sessions", root);
	assert_int_equal(mkdir(root, 0755), 0);
	assert_int_equal(mkdir(local, 0755), 0);
	free(local);
	local = copy(root, "sessions/s1", l12);
	unit_write_in(local, ".lock", "");
	assert_int_equal(hive_restore_copies(root, "s1", dir, &r, &err), HIVE_OK);
	assert_int_equal(r.copies, 1);
	assert_int_equal(r.restored, 0);
	assert_string_equal((t = result(root, "EVENTS.jsonl")), l12);
	free(t);
	/* a copy longer than the local folder replaces it whole */
	unit_write_in(a, "EVENTS.jsonl", l123);
	unit_write_in(local, "OLD.md", "old\n");
	assert_int_equal(hive_restore_copies(root, "s1", dir, &r, &err), HIVE_OK);
	assert_int_equal(r.restored, 1);
	assert_int_equal(r.replaced, 1);
	assert_string_equal((t = result(root, "EVENTS.jsonl")), l123);
	free(t);
	assert_null(result(root, "OLD.md"));
	t = unit_pathf("%s/sessions", root);
	list = unit_list_dir(t);
	assert_string_equal(list, "s1");
	free(list);
	free(t);
	free(a);
	free(o);
	free(local);
	free(l12);
	free(l123);
	free(root);
	free(dir);
}

/* the merged folder is checked before it goes in: a winning copy cut off mid-line is refused,
 * named, and nothing is left behind */
static void test_unsound_result_refused(void **state)
{
	const char *tmp = *state;
	char *root = unit_path_in(tmp, "root"), *dir = unit_path_in(tmp, "copies"), *a, *b, *t;
	struct hive_restore_result r;
	struct hive_err err = {0};

	assert_int_equal(mkdir(dir, 0755), 0);
	a = copy(dir, "a", L1);
	t = cat(L1, "{\"seq\":2,", NULL);
	b = copy(dir, "b", t);
	free(t);
	assert_int_equal(hive_restore_copies(root, "s1", dir, &r, &err), HIVE_EENV);
	t = unit_pathf("%s/EVENTS.jsonl", b);
	assert_true(strstr(err.msg, t) == err.msg);
	free(t);
	assert_int_equal(r.restored, 0);
	assert_false(
		unit_exists(root)); /* the temporary folder went, and the folders made for it */
	free(a);
	free(b);
	free(root);
	free(dir);
}

static void test_bad_id_and_not_a_folder(void **state)
{
	const char *tmp = *state;
	char *root = unit_path_in(tmp, "root"), *file = unit_path_in(tmp, "file");
	struct hive_restore_result r;
	struct hive_err err = {0};

	assert_int_equal(hive_restore_copies(root, "../x", tmp, &r, &err), HIVE_EUSAGE);
	unit_write_file(file, "x\n");
	assert_int_equal(hive_restore_copies(root, "s1", file, &r, &err), HIVE_EUSAGE);
	assert_true(strstr(err.msg, "not a folder") != NULL);
	assert_false(unit_exists(root));
	free(root);
	free(file);
}

/* the tmpdir, and the log lines */
static int setup(void **state)
{
	lines();
	return unit_setup_tmpdir(state);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_absent_or_empty_is_a_new_session, setup,
						unit_teardown_tmpdir),
		cmocka_unit_test_setup_teardown(test_longest_wins_over_segments, setup,
						unit_teardown_tmpdir),
		cmocka_unit_test_setup_teardown(test_copies_that_diverge_are_refused, setup,
						unit_teardown_tmpdir),
		cmocka_unit_test_setup_teardown(test_lanes_merged_and_diverging_lanes_refused,
						setup, unit_teardown_tmpdir),
		cmocka_unit_test_setup_teardown(test_other_sessions_skipped_local_folder_counts,
						setup, unit_teardown_tmpdir),
		cmocka_unit_test_setup_teardown(test_unsound_result_refused, setup,
						unit_teardown_tmpdir),
		cmocka_unit_test_setup_teardown(test_bad_id_and_not_a_folder, unit_setup_tmpdir,
						unit_teardown_tmpdir),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
