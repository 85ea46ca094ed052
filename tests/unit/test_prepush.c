/* test_prepush.c - unit tests for lib/prepush.c: the pre-push line parser (fuzzed by
 * tests/fuzz/fuzz_prepush.c) */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "../../lib/prepush.h"

#define A40 "3f786850e387550fdab836ed7e6dc881de23001b"
#define B40 "89e6c98d92887913cadf06b2adb97f26cde4849b"
#define Z40 "0000000000000000000000000000000000000000"
#define Z64 Z40 "000000000000000000000000"

/* Parse text from an exact-size heap copy (no NUL after it, as a line reader hands it). */
static int parse(const char *text, struct hive_prepush_line *pl, struct hive_err *err)
{
	size_t len = strlen(text);
	char *copy = malloc(len ? len : 1);
	int rc;

	assert_non_null(copy);
	memcpy(copy, text, len);
	memset(err, 0, sizeof(*err));
	rc = hive_prepush_parse_line(copy, len, pl, err);
	free(copy);
	return rc;
}

static void bad(const char *text, int status, const char *want)
{
	struct hive_prepush_line pl;
	struct hive_err err;
	int rc = parse(text, &pl, &err);

	if (rc != status)
		fail_msg("%s: rc %d, expected %d (%s)", text, rc, status, err.msg);
	assert_int_equal(err.status, status);
	assert_string_equal(err.msg, want);
}

static void test_prepush_update(void **state)
{
	struct hive_prepush_line pl;
	struct hive_err err;

	(void)state;
	assert_int_equal(parse("refs/heads/main " A40 " refs/heads/main " B40, &pl, &err), HIVE_OK);
	assert_string_equal(pl.local_ref, "refs/heads/main");
	assert_string_equal(pl.local_hex, A40);
	assert_string_equal(pl.remote_ref, "refs/heads/main");
	assert_string_equal(pl.remote_hex, B40);
	assert_int_equal(pl.local_zero, 0);
	assert_int_equal(pl.remote_zero, 0);
	assert_int_equal(pl.local[0], 0x3f);
	assert_int_equal(pl.local[19], 0x1b);
	assert_int_equal(pl.remote[0], 0x89);
	assert_int_equal(pl.remote[19], 0x9b);
}

static void test_prepush_zero_ids(void **state)
{
	struct hive_prepush_line pl;
	struct hive_err err;

	(void)state;
	/* a new branch, tabs between fields */
	assert_int_equal(parse("refs/heads/t\t" A40 "\trefs/heads/t\t" Z40, &pl, &err), HIVE_OK);
	assert_int_equal(pl.local_zero, 0);
	assert_int_equal(pl.remote_zero, 1);
	/* a deleted ref; all-zero ids of 64 digits mean "none" too, whatever the hash */
	assert_int_equal(parse("(delete) " Z64 " refs/heads/old " B40, &pl, &err), HIVE_OK);
	assert_int_equal(pl.local_zero, 1);
	assert_int_equal(parse("(delete) " Z40 " refs/heads/old " Z64, &pl, &err), HIVE_OK);
	assert_int_equal(pl.remote_zero, 1);
}

static void test_prepush_malformed(void **state)
{
	char long_line[1100];

	(void)state;
	bad("", HIVE_EUSAGE, "expected <local ref> <local sha> <remote ref> <remote sha>");
	bad("refs/heads/main " A40 " refs/heads/main", HIVE_EUSAGE,
	    "expected <local ref> <local sha> <remote ref> <remote sha>");
	bad("refs/heads/main " A40 " refs/heads/main " B40 " extra", HIVE_EUSAGE,
	    "expected <local ref> <local sha> <remote ref> <remote sha>");
	bad("refs/heads/main nothex refs/heads/main " B40, HIVE_EUSAGE,
	    "not an object id of 40 or 64 hex digits");
	bad("refs/heads/main " A40 " refs/heads/main 3F786850E387550FDAB836ED7E6DC881DE23001B",
	    HIVE_EUSAGE, "not an object id of 40 or 64 hex digits");
	bad("refs/heads/main " A40 "0 refs/heads/main " B40, HIVE_EUSAGE,
	    "not an object id of 40 or 64 hex digits");
	/* a SHA-256 repository: libgit2 1.5 cannot read it */
	bad("refs/heads/main " A40 "012345678901234567890123 refs/heads/main " Z40, HIVE_EENV,
	    "a SHA-256 repository, which hive cannot read yet");
	/* a line as long as the buffer, or longer: refused, never cut to fit */
	memset(long_line, 'r', sizeof(long_line) - 1);
	long_line[sizeof(long_line) - 1] = '\0';
	bad(long_line, HIVE_EUSAGE, "not a pre-push line");
	long_line[1024] = '\0';
	bad(long_line, HIVE_EUSAGE, "not a pre-push line");
}

/* A NUL byte ends the line, as it does for git, and a refusal leaves no field set. */
static void test_prepush_nul_byte(void **state)
{
	static const char line[] = "refs/heads/main " A40 "\0 refs/heads/main " B40;
	struct hive_prepush_line pl;
	struct hive_err err = {0};

	(void)state;
	assert_int_equal(hive_prepush_parse_line(line, sizeof(line) - 1, &pl, &err), HIVE_EUSAGE);
	assert_null(pl.local_ref);
	assert_null(pl.remote_hex);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_prepush_update),
		cmocka_unit_test(test_prepush_zero_ids),
		cmocka_unit_test(test_prepush_malformed),
		cmocka_unit_test(test_prepush_nul_byte),
	};

	return cmocka_run_group_tests_name("prepush", tests, NULL, NULL);
}
