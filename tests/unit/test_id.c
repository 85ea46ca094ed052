/* test_id.c - unit tests for lib/id.c: the session id rule and generated ids */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "unit.h"

#include <regex.h>
#include <string.h>
#include <time.h>

#include "../../lib/id.h"

/* --- hive_id_check ------------------------------------------------------------------ */

static void id_ok(const char *id)
{
	struct hive_err err = {0};
	int rc = hive_id_check("session id", id, strlen(id), &err);

	if (rc != HIVE_OK)
		fail_msg("id %s rejected: %s", id, err.msg);
}

static void id_bad(const char *id, size_t len, const char *want)
{
	struct hive_err err = {0};

	assert_int_equal(hive_id_check("session id", id, len, &err), HIVE_EUSAGE);
	assert_int_equal(err.status, HIVE_EUSAGE);
	assert_string_equal(err.msg, want);
}

static void test_id_check_valid(void **state)
{
	char id128[HIVE_ID_MAX + 1];

	(void)state;
	id_ok("a");
	id_ok("Z");
	id_ok("7");
	id_ok("_x");
	id_ok("gh-8812-1");
	id_ok("gl-12345");
	id_ok("20250115T103000Z-deadbeef");
	id_ok("A.b_c-d.9");
	id_ok("x..y");
	id_ok("a.");
	memset(id128, 'a', HIVE_ID_MAX);
	id128[HIVE_ID_MAX] = '\0';
	id_ok(id128);
}

static void test_id_check_invalid(void **state)
{
	char id129[HIVE_ID_MAX + 2];
	const char nul[] = "a\0b";
	struct hive_err err = {0};

	(void)state;
	id_bad("../x", 4,
	       "session id \"../x\": only letters, digits, '.', '_' and '-' are allowed");
	id_bad("a/b", 3, "session id \"a/b\": only letters, digits, '.', '_' and '-' are allowed");
	id_bad("", 0, "session id is empty");
	id_bad(nul, 3, "session id contains a NUL byte");
	id_bad("a\nb", 3,
	       "session id \"a\\nb\": only letters, digits, '.', '_' and '-' are allowed");
	memset(id129, 'a', HIVE_ID_MAX + 1);
	id129[HIVE_ID_MAX + 1] = '\0';
	id_bad(id129, HIVE_ID_MAX + 1, "session id is 129 characters long (at most 128)");
	id_bad(".hidden", 7, "session id \".hidden\" must not start with '.'");
	id_bad(".", 1, "session id \".\" must not start with '.'");
	id_bad("..", 2, "session id \"..\" must not start with '.'");
	id_bad("-rf", 3, "session id \"-rf\" must not start with '-'");
	id_bad("a b", 3, "session id \"a b\": only letters, digits, '.', '_' and '-' are allowed");
	id_bad("caf\xc3\xa9", 5,
	       "session id \"caf\xc3\xa9\": only letters, digits, '.', '_' and '-' are allowed");
	/* `what` names the value */
	assert_int_equal(hive_id_check("worker", "a/b", 3, &err), HIVE_EUSAGE);
	assert_string_equal(err.msg,
			    "worker \"a/b\": only letters, digits, '.', '_' and '-' are allowed");
	/* the length argument is what counts: a NUL inside it is refused... */
	assert_int_equal(hive_id_check("session id", "ok\0", 3, &err), HIVE_EUSAGE);
	assert_string_equal(err.msg, "session id contains a NUL byte");
	/* ...and a valid prefix of a longer string is checked on its own */
	assert_int_equal(hive_id_check("session id", "ok/../x", 2, &err), HIVE_OK);
}

/* --- hive_id_generate --------------------------------------------------------------- */

/* An id with a secret's shape is refused, and the message names the rule, not the id. */
static void test_id_check_secret_shape(void **state)
{
	static const char *ids[] = {
		"wghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789",
		"AKIAQ2W3E4R5T6Y7U8I9",
		"deploy-glpat-ZYXWVUTSRQPONMLKJIHG",
		"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.sig",
	};
	struct hive_err err = {0};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		assert_int_equal(hive_id_check("worker", ids[i], strlen(ids[i]), &err),
				 HIVE_EUSAGE);
		if (strncmp(err.msg, "worker has the shape of a secret (", 34) ||
		    strstr(err.msg, ids[i] + 5))
			fail_msg("%s: %s", ids[i], err.msg);
	}
	/* ids hive makes, and ordinary names, are fine */
	assert_int_equal(hive_id_check("session id", "gh-8812-1", 9, &err), HIVE_OK);
	assert_int_equal(hive_id_check("session id", "20250115T103000Z-0a1b2c3d", 25, &err),
			 HIVE_OK);
	assert_int_equal(hive_id_check("worker", "devops-worker", 13, &err), HIVE_OK);
}

static void test_id_generate(void **state)
{
	char a[32], b[32];
	struct hive_err err = {0};
	regex_t re;
	struct tm tm = {0};
	struct timespec t0, t1;
	time_t t;

	(void)state;
	clock_gettime(CLOCK_REALTIME, &t0); /* the clock hive_id_generate reads */
	assert_int_equal(regcomp(&re, "^[0-9]{8}T[0-9]{6}Z-[0-9a-f]{8}$", REG_EXTENDED | REG_NOSUB),
			 0);
	assert_int_equal(hive_id_generate(a, &err), HIVE_OK);
	assert_int_equal(hive_id_generate(b, &err), HIVE_OK);
	clock_gettime(CLOCK_REALTIME, &t1);
	assert_int_equal(regexec(&re, a, 0, NULL, 0), 0);
	assert_int_equal(regexec(&re, b, 0, NULL, 0), 0);
	regfree(&re);
	assert_int_equal(hive_id_check("session id", a, strlen(a), &err), HIVE_OK);
	assert_string_not_equal(a, b); /* 32 random bits each */
	/* the time part is now, in UTC */
	assert_non_null(strptime(a, "%Y%m%dT%H%M%SZ", &tm));
	t = timegm(&tm);
	assert_true(t >= t0.tv_sec && t <= t1.tv_sec);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_id_check_valid),
		cmocka_unit_test(test_id_check_invalid),
		cmocka_unit_test(test_id_check_secret_shape),
		cmocka_unit_test(test_id_generate),
	};

	return cmocka_run_group_tests_name("id", tests, NULL, NULL);
}
