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

#define L1    "{\"seq\":1,\"event_type\":\"session_started\",\"session_id\":\"s1\"}\n"
#define L2    "{\"seq\":2,\"event_type\":\"pipeline_updated\",\"session_id\":\"s1\"}\n"
#define L2B   "{\"seq\":2,\"event_type\":\"monitoring_added\",\"session_id\":\"s1\"}\n"
#define OTHER "{\"seq\":1,\"event_type\":\"session_started\",\"session_id\":\"s2\"}\n"

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
	a = copy(dir, "a", L1 L2);
	b = copy(dir, "b", L1 L2B);
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
	lane(a, "eu", "x\n");
	lane(b, "eu", "x\ny\n");
	lane(b, "us", "z\n");
	lane(b, ".tmp-eu", "junk\n"); /* not a lane */
	assert_int_equal(hive_restore_copies(root, "s1", dir, &r, &err), HIVE_OK);
	assert_int_equal(r.lanes, 2);
	assert_string_equal((t = result(root, "lanes/eu.jsonl")), "x\ny\n");
	free(t);
	assert_string_equal((t = result(root, "lanes/us.jsonl")), "z\n");
	free(t);
	assert_null(result(root, "lanes/.tmp-eu.jsonl"));
	/* a third copy whose eu went another way: refused, the folder as it was (the local
	 * folder, now a copy too, holds the longest eu so far) */
	c = copy(dir, "c", L1);
	lane(c, "eu", "x\nq\n");
	assert_int_equal(hive_restore_copies(root, "s1", dir, &r, &err), HIVE_EENV);
	want = unit_pathf("the copies of lane eu in %s/sessions/s1 and %s differ: two jobs wrote "
			  "to that lane at the same time",
			  root, c);
	assert_string_equal(err.msg, want);
	assert_string_equal((t = result(root, "lanes/eu.jsonl")), "x\ny\n");
	free(t);
	free(want);
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
	local = copy(root, "sessions/s1", L1 L2);
	unit_write_in(local, ".lock", "");
	assert_int_equal(hive_restore_copies(root, "s1", dir, &r, &err), HIVE_OK);
	assert_int_equal(r.copies, 1);
	assert_int_equal(r.restored, 0);
	assert_string_equal((t = result(root, "EVENTS.jsonl")), L1 L2);
	free(t);
	/* a copy longer than the local folder replaces it whole */
	unit_write_in(a, "EVENTS.jsonl", L1 L2 L2);
	unit_write_in(local, "OLD.md", "old\n");
	assert_int_equal(hive_restore_copies(root, "s1", dir, &r, &err), HIVE_OK);
	assert_int_equal(r.restored, 1);
	assert_int_equal(r.replaced, 1);
	assert_string_equal((t = result(root, "EVENTS.jsonl")), L1 L2 L2);
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
	b = copy(dir, "b", L1 "{\"seq\":2,");
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_absent_or_empty_is_a_new_session,
						unit_setup_tmpdir, unit_teardown_tmpdir),
		cmocka_unit_test_setup_teardown(test_longest_wins_over_segments, unit_setup_tmpdir,
						unit_teardown_tmpdir),
		cmocka_unit_test_setup_teardown(test_copies_that_diverge_are_refused,
						unit_setup_tmpdir, unit_teardown_tmpdir),
		cmocka_unit_test_setup_teardown(test_lanes_merged_and_diverging_lanes_refused,
						unit_setup_tmpdir, unit_teardown_tmpdir),
		cmocka_unit_test_setup_teardown(test_other_sessions_skipped_local_folder_counts,
						unit_setup_tmpdir, unit_teardown_tmpdir),
		cmocka_unit_test_setup_teardown(test_unsound_result_refused, unit_setup_tmpdir,
						unit_teardown_tmpdir),
		cmocka_unit_test_setup_teardown(test_bad_id_and_not_a_folder, unit_setup_tmpdir,
						unit_teardown_tmpdir),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
