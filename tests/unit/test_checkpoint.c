/* test_checkpoint.c - unit tests for lib/checkpoint.c: the canonical CHECKPOINT text, read and
 * made; a log against its entry (prefix, edited, cut short, grown past a completed one) */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../lib/checkpoint.h"

#define H64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static void test_parse_canonical(void **state)
{
	static const char ok[] = "hive-checkpoint/v1\nsession s-1\n"
				 "log EVENTS.jsonl 7 sha256:" H64 "\n"
				 "log lane-a.jsonl 0 -\n"
				 "log lane-b.jsonl 12 sha256:" H64 "\n";
	struct hive_checkpoint cp;
	struct hive_err err = {0};
	size_t line;

	(void)state;
	assert_int_equal(hive_checkpoint_parse(ok, strlen(ok), &cp, &line, &err), HIVE_OK);
	assert_string_equal(cp.id, "s-1");
	assert_int_equal(cp.n, 3);
	assert_string_equal(cp.logs[0].name, "EVENTS.jsonl");
	assert_int_equal(cp.logs[0].lines, 7);
	assert_string_equal(cp.logs[0].hash, "sha256:" H64);
	assert_int_equal(cp.logs[1].lines, 0);
	assert_string_equal(cp.logs[1].hash, "");
	assert_int_equal(cp.logs[2].lines, 12);
	hive_checkpoint_clear(&cp);
	hive_checkpoint_clear(&cp);
	hive_checkpoint_clear(NULL);
}

/* Each text is refused at line `want_line`. */
static void refused(const char *text, size_t want_line, const char *want)
{
	struct hive_checkpoint cp;
	struct hive_err err = {0};
	size_t line;

	assert_int_equal(hive_checkpoint_parse(text, strlen(text), &cp, &line, &err), HIVE_EUSAGE);
	assert_int_equal(line, want_line);
	assert_string_equal(err.msg, want);
	assert_int_equal(cp.n, 0);
	assert_null(cp.id);
}

static void test_parse_refuses(void **state)
{
	(void)state;
	refused("hive-checkpoint/v2\n", 1, "line 1 must be hive-checkpoint/v1");
	refused("hive-checkpoint/v1\nsession ../x\n", 2,
		"line 2 must be \"session <id>\" with a valid id");
	refused("hive-checkpoint/v1\nsession s\n", 3, "no log: EVENTS.jsonl must be listed");
	refused("hive-checkpoint/v1\nsession s\nlog EVENTS.jsonl 1 sha256:" H64, 3,
		"the last line has no newline");
	refused("hive-checkpoint/v1\nsession s\nlog EVENTS.jsonl 01 sha256:" H64 "\n", 3,
		"expected \"log <name>.jsonl <lines> <sha256:hex|->\"");
	refused("hive-checkpoint/v1\nsession s\nlog EVENTS.jsonl 1 sha256:ABC\n", 3,
		"the hash is not sha256: and 64 lowercase hex");
	refused("hive-checkpoint/v1\nsession s\nlog a.jsonl 1 sha256:" H64 "\n", 3,
		"the first log must be EVENTS.jsonl");
	refused("hive-checkpoint/v1\nsession s\nlog EVENTS.jsonl 1 sha256:" H64
		"\nlog b.jsonl 0 -\nlog a.jsonl 0 -\n",
		5, "the logs are not in order (EVENTS.jsonl, then by name)");
	refused("hive-checkpoint/v1\nsession s\nlog ../x.jsonl 0 -\n", 3,
		"expected \"log <name>.jsonl <lines> <sha256:hex|->\"");
	/* not canonical: two spaces, a trailing field, a hash where there is no line */
	refused("hive-checkpoint/v1\nsession s\nlog  EVENTS.jsonl 1 sha256:" H64 "\n", 3,
		"not in canonical form (one space between fields, nothing after the hash)");
	refused("hive-checkpoint/v1\nsession s\nlog EVENTS.jsonl 1 sha256:" H64 " x\n", 3,
		"not in canonical form (one space between fields, nothing after the hash)");
	refused("hive-checkpoint/v1\nsession s\nlog EVENTS.jsonl 1 sha256:" H64
		"\nlog a.jsonl 0 sha256:" H64 "\n",
		4, "not in canonical form (one space between fields, nothing after the hash)");
	refused("hive-checkpoint/v1\r\nsession s\n", 1, "line 1 must be hive-checkpoint/v1");
}

static void test_compare(void **state)
{
	struct hive_checkpoint_log e = {"EVENTS.jsonl", 5, "sha256:" H64};
	char why[600];

	(void)state;
	/* the same, and grown past while active */
	assert_null(hive_checkpoint_compare(&e, 5, "sha256:" H64, 0, why, sizeof(why)));
	assert_null(hive_checkpoint_compare(&e, 9, "sha256:" H64, 0, why, sizeof(why)));
	assert_null(hive_checkpoint_compare(&e, 5, "sha256:" H64, 1, why, sizeof(why)));
	/* grown past a completed session's checkpoint */
	assert_non_null(hive_checkpoint_compare(&e, 6, "sha256:" H64, 1, why, sizeof(why)));
	assert_string_equal(why, "EVENTS.jsonl grew past the checkpoint (6 lines, CHECKPOINT says "
				 "5): a completed session's checkpoint covers all of it");
	/* edited, cut short */
	assert_non_null(hive_checkpoint_compare(&e, 5, "sha256:x", 0, why, sizeof(why)));
	assert_string_equal(why, "line 5 of EVENTS.jsonl is not the line CHECKPOINT names "
				 "(sha256:" H64 "): the log was edited");
	assert_non_null(hive_checkpoint_compare(&e, 4, "", 0, why, sizeof(why)));
	assert_string_equal(why, "CHECKPOINT says EVENTS.jsonl has 5 lines, it has 4: the log was "
				 "cut short");
}

static void test_scan(void **state)
{
	struct hive_lines *r = NULL;
	struct hive_err err = {0};
	char hash[HIVE_HASH_SIZE], want[HIVE_HASH_SIZE];
	size_t whole;
	static const char log[] = "a\nbb\ncut";

	(void)state;
	hive_sha256("bb", 2, want);
	assert_int_equal(hive_lines_from_mem(log, strlen(log), &r, &err), HIVE_OK);
	assert_int_equal(hive_checkpoint_scan(r, 2, &whole, hash, &err), HIVE_OK);
	assert_int_equal(whole, 2); /* the cut-off "cut" is no line of the record */
	assert_string_equal(hash, want);
	hive_lines_free(r);
	assert_int_equal(hive_lines_from_mem(log, strlen(log), &r, &err), HIVE_OK);
	assert_int_equal(hive_checkpoint_scan(r, 9, &whole, hash, &err), HIVE_OK);
	assert_string_equal(hash, "");
	hive_lines_free(r);
}

/* Write text to dirfd/name. */
static void put(int dirfd, const char *name, const char *text)
{
	int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static void test_make(void **state)
{
	struct hive_checkpoint cp;
	struct hive_buf out = {0};
	struct hive_err err = {0};
	char dir[] = "/tmp/hive-cp-XXXXXX", h1[HIVE_HASH_SIZE], h2[HIVE_HASH_SIZE], want[600];
	size_t line;
	int fd;

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_true((fd = open(dir, O_RDONLY | O_DIRECTORY)) >= 0);
	/* no EVENTS.jsonl */
	assert_int_equal(hive_checkpoint_make(fd, "s", &out, &err), HIVE_EENV);
	assert_string_equal(err.msg, "the session has no EVENTS.jsonl");
	put(fd, "EVENTS.jsonl", "{\"a\":1}\n{\"b\":2}\n");
	put(fd, "zz.jsonl", "x\n");
	put(fd, "A.jsonl", "");
	put(fd, "EVENTS.jsonl.torn", "y"); /* not a log */
	assert_int_equal(symlinkat("EVENTS.jsonl", fd, "link.jsonl"), 0);
	out.len = 0;
	assert_int_equal(hive_checkpoint_make(fd, "s", &out, &err), HIVE_OK);
	hive_sha256("{\"b\":2}", 7, h1);
	hive_sha256("x", 1, h2);
	snprintf(want, sizeof(want),
		 "hive-checkpoint/v1\nsession s\nlog EVENTS.jsonl 2 %s\nlog A.jsonl 0 -\nlog "
		 "zz.jsonl 1 %s\n",
		 h1, h2);
	assert_string_equal(out.p, want);
	/* what it makes, it reads */
	assert_int_equal(hive_checkpoint_parse(out.p, out.len, &cp, &line, &err), HIVE_OK);
	assert_int_equal(cp.n, 3);
	hive_checkpoint_clear(&cp);
	hive_buf_free(&out);
	close(fd);
	snprintf(want, sizeof(want), "rm -rf %s", dir);
	assert_int_equal(system(want), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_canonical),
		cmocka_unit_test(test_parse_refuses),
		cmocka_unit_test(test_compare),
		cmocka_unit_test(test_scan),
		cmocka_unit_test(test_make),
	};
	return cmocka_run_group_tests_name("checkpoint", tests, NULL, NULL);
}
