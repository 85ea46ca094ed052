/* test_err.c - unit tests for lib/err.c: the error record, prefixes and value quoting for messages
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "../../lib/err.h"

static void test_err_set(void **state)
{
	struct hive_err err = {0};

	(void)state;
	assert_int_equal(hive_err_set(&err, HIVE_EUSAGE, "bad %s at %d", "thing", 7), HIVE_EUSAGE);
	assert_int_equal(err.status, HIVE_EUSAGE);
	assert_string_equal(err.msg, "bad thing at 7");
	/* a NULL record is allowed: only the status comes back */
	assert_int_equal(hive_err_set(NULL, HIVE_EENV, "x"), HIVE_EENV);
	assert_int_equal(hive_err_sys(NULL, HIVE_EENV, ENOENT, "x"), HIVE_EENV);
	hive_err_prefix(NULL, "p");
}

static void test_err_sys(void **state)
{
	struct hive_err err = {0};

	(void)state;
	assert_int_equal(hive_err_sys(&err, HIVE_EENV, ENOENT, "%s/STATE.json", "dir"), HIVE_EENV);
	assert_int_equal(err.status, HIVE_EENV);
	assert_string_equal(err.msg, "dir/STATE.json: No such file or directory");
}

static void test_err_prefix(void **state)
{
	struct hive_err err = {0};
	char longmsg[2000];

	(void)state;
	hive_err_set(&err, HIVE_EUSAGE, "details.action: missing");
	hive_err_prefix(&err, "event %d", 3);
	assert_string_equal(err.msg, "event 3: details.action: missing");
	assert_int_equal(err.status, HIVE_EUSAGE); /* keeps the status */

	/* a long message is cut, never overflowed, and stays NUL-terminated */
	memset(longmsg, 'x', sizeof(longmsg) - 1);
	longmsg[sizeof(longmsg) - 1] = '\0';
	hive_err_set(&err, HIVE_EENV, "%s", longmsg);
	assert_int_equal(strlen(err.msg), sizeof(err.msg) - 1);
	hive_err_prefix(&err, "head");
	assert_true(strlen(err.msg) < sizeof(err.msg));
	assert_true(!strncmp(err.msg, "head: xxx", 9));
}

static void test_quote(void **state)
{
	char buf[64], tiny[10];
	char longs[200];

	(void)state;
	assert_string_equal(hive_quote(buf, sizeof(buf), "destroy"), "\"destroy\"");
	assert_string_equal(hive_quote(buf, sizeof(buf), ""), "\"\"");
	assert_string_equal(hive_quote(buf, sizeof(buf), "a\"b\\c"), "\"a\\\"b\\\\c\"");
	assert_string_equal(hive_quote(buf, sizeof(buf), "a\nb"), "\"a\\nb\"");
	assert_string_equal(hive_quote(buf, sizeof(buf), "a\tb\x01\x7f"),
			    "\"a\\u0009b\\u0001\\u007f\"");
	/* UTF-8 passes through */
	assert_string_equal(hive_quote(buf, sizeof(buf), "caf\xc3\xa9"), "\"caf\xc3\xa9\"");
	/* too long: cut with ... inside the quotes, within the buffer */
	memset(longs, 'v', sizeof(longs) - 1);
	longs[sizeof(longs) - 1] = '\0';
	hive_quote(buf, sizeof(buf), longs);
	assert_true(strlen(buf) < sizeof(buf));
	assert_int_equal(buf[0], '"');
	assert_string_equal(buf + strlen(buf) - 4, "...\"");
	hive_quote(tiny, sizeof(tiny), longs);
	assert_true(strlen(tiny) < sizeof(tiny));
	assert_int_equal(tiny[0], '"');
	/* escapes near the end never overflow */
	memset(longs, '\x01', sizeof(longs) - 1);
	hive_quote(buf, sizeof(buf), longs);
	assert_true(strlen(buf) < sizeof(buf));
	assert_string_equal(buf + strlen(buf) - 4, "...\"");
	/* a buffer too small for anything is left empty */
	assert_string_equal(hive_quote(tiny, 4, "abc"), "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_err_set),
		cmocka_unit_test(test_err_sys),
		cmocka_unit_test(test_err_prefix),
		cmocka_unit_test(test_quote),
	};

	return cmocka_run_group_tests_name("err", tests, NULL, NULL);
}
