/* test_history.c - unit tests for lib/history.c: what keeps a published file, and where it breaks
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "../../lib/history.h"

static size_t diff(const char *pub, const char *now, int is_log, int sealed, const char **why)
{
	return hive_history_file(pub, strlen(pub), now, strlen(now), is_log, sealed, why);
}

static void test_log_may_only_grow(void **state)
{
	const char *why;

	(void)state;
	assert_int_equal(diff("a\nb\n", "a\nb\n", 1, 0, &why), 0);
	assert_null(why);
	assert_int_equal(diff("a\nb\n", "a\nb\nc\n", 1, 0, &why), 0);
	assert_int_equal(diff("", "a\n", 1, 0, &why), 0);
	/* an edit: the line the first differing byte is on */
	assert_int_equal(diff("a\nb\nc\n", "a\nB\nc\n", 1, 0, &why), 2);
	assert_string_equal(why, "differs from the published version");
	assert_int_equal(diff("a\nb\nc\n", "a\nbb\nc\n", 1, 0, &why), 2);
	/* cut short, at a line boundary and inside a line */
	assert_int_equal(diff("a\nb\nc\n", "a\n", 1, 0, &why), 2);
	assert_string_equal(why, "is missing: the log was cut short");
	assert_int_equal(diff("a\nb\nc\n", "a\nb", 1, 0, &why), 2);
	assert_int_equal(diff("a\nb\n", "", 1, 0, &why), 1);
	/* reordered lines */
	assert_int_equal(diff("a\nb\n", "b\na\n", 1, 0, &why), 1);
	assert_string_equal(why, "differs from the published version");
}

static void test_sealed_and_other_files_stay_equal(void **state)
{
	const char *why;

	(void)state;
	assert_int_equal(diff("a\nb\n", "a\nb\n", 1, 1, &why), 0);
	assert_int_equal(diff("a\nb\n", "a\nb\nc\n", 1, 1, &why), 3);
	assert_string_equal(why, "was added after the published session_completed");
	assert_int_equal(diff("{\"x\":1}\n", "{\"x\":1}\n\n", 0, 1, &why), 2);
	assert_string_equal(why, "changed after the published session_completed");
	assert_int_equal(diff("# r\n", "# R\n", 0, 1, &why), 1);
	assert_string_equal(why, "differs from the published version");
}

/* A sealed session's CHECKPOINT.sig is held as a log (hive_history_session passes is_log 1,
 * sealed 0 for it): a cosignature appended keeps it, a block removed or replaced does not. */
static void test_signatures_only_grow(void **state)
{
	static const char a[] =
		"-----BEGIN SSH SIGNATURE-----\nAAAA\n-----END SSH SIGNATURE-----\n";
	static const char b[] =
		"-----BEGIN SSH SIGNATURE-----\nBBBB\n-----END SSH SIGNATURE-----\n";
	char ab[256];
	const char *why;

	(void)state;
	snprintf(ab, sizeof(ab), "%s%s", a, b);
	assert_int_equal(diff(a, ab, 1, 0, &why), 0);
	assert_int_equal(diff(ab, a, 1, 0, &why), 4);
	assert_string_equal(why, "is missing: the log was cut short");
	assert_int_equal(diff(a, b, 1, 0, &why), 2);
	assert_string_equal(why, "differs from the published version");
	/* CHECKPOINT itself is kept whole */
	assert_int_equal(diff("hive-checkpoint/v1\n", "hive-checkpoint/v1\nlog\n", 0, 1, &why), 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_log_may_only_grow),
		cmocka_unit_test(test_sealed_and_other_files_stay_equal),
		cmocka_unit_test(test_signatures_only_grow),
	};
	return cmocka_run_group_tests_name("history", tests, NULL, NULL);
}
