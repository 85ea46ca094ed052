/* test_util_buf.c - unit tests for lib/util.c's helpers test_util.c leaves out: text buffers,
 * SHA-256, hive_json_str, atomic writes */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "unit.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../lib/util.h"

/* --- hive_buf ------------------------------------------------------------------------- */

static void test_buf_add_puts_printf(void **state)
{
	struct hive_buf b = {0};

	(void)state;
	hive_buf_add(&b, "abcdef", 3);
	assert_int_equal(b.len, 3);
	assert_string_equal(b.p, "abc"); /* NUL-terminated after every add */
	hive_buf_add(&b, "", 0);
	assert_string_equal(b.p, "abc");
	hive_buf_puts(&b, "-");
	hive_buf_printf(&b, "%d:%s:%05.1f", 42, "x", 2.25);
	assert_string_equal(b.p, "abc-42:x:002.2");
	assert_int_equal(b.len, strlen("abc-42:x:002.2"));
	assert_int_equal(b.oom, 0);
	/* bytes, not strings: a NUL inside is kept and counted */
	hive_buf_add(&b, "a\0b", 3);
	assert_int_equal(b.len, 17);
	assert_memory_equal(b.p + 14, "a\0b\0", 4);
	hive_buf_free(&b);
	assert_null(b.p);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.cap, 0);
	/* freed is empty again, and usable */
	hive_buf_puts(&b, "again");
	assert_string_equal(b.p, "again");
	hive_buf_free(&b);
	hive_buf_free(&b); /* twice: harmless */
}

/* Growth past the first allocation and a printf longer than its 512-byte fast path. */
static void test_buf_growth(void **state)
{
	struct hive_buf b = {0};
	char big[3000];
	size_t i;

	(void)state;
	memset(big, 'y', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	for (i = 0; i < 1000; i++)
		hive_buf_puts(&b, "0123456789");
	assert_int_equal(b.len, 10000);
	assert_true(b.cap > b.len);
	assert_int_equal(b.p[10000], '\0');
	assert_memory_equal(b.p + 9990, "0123456789", 10);
	hive_buf_free(&b);

	hive_buf_printf(&b, "<%s>", big);
	assert_int_equal(b.len, sizeof(big) + 1);
	assert_int_equal(b.p[0], '<');
	assert_int_equal(b.p[sizeof(big) - 1], 'y');
	assert_string_equal(b.p + sizeof(big), ">");
	/* exactly at the edge of the fast path: 511 and 512 characters */
	hive_buf_free(&b);
	big[511] = '\0';
	hive_buf_printf(&b, "%s", big);
	assert_int_equal(b.len, 511);
	big[511] = 'y';
	big[512] = '\0';
	hive_buf_printf(&b, "%s", big);
	assert_int_equal(b.len, 511 + 512);
	assert_int_equal(strlen(b.p), 511 + 512);
	hive_buf_free(&b);
}

/* Every _free accepts NULL (DESIGN.md); hive_buf_free(NULL) once dereferenced it. Checked
 * in a child so a crash cannot take the suite down. */
static void test_buf_free_null(void **state)
{
	int status = 0;
	pid_t pid;

	(void)state;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		signal(SIGSEGV, SIG_DFL); /* cmocka's handler would carry on with the suite here */
		signal(SIGBUS, SIG_DFL);
		hive_buf_free(NULL);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fail_msg("hive_buf_free(NULL) crashed (signal %d)",
			 WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

/* --- hive_sha256 ---------------------------------------------------------------------- */

static void test_sha256(void **state)
{
	char out[HIVE_HASH_SIZE];

	(void)state;
	/* FIPS 180-2 test vectors */
	hive_sha256("", 0, out);
	assert_string_equal(
		out, "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	hive_sha256("abc", 3, out);
	assert_string_equal(
		out, "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	hive_sha256("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56, out);
	assert_string_equal(
		out, "sha256:248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
	/* the length counts, not a NUL: "a\0b" (printf 'a\0b' | sha256sum) */
	hive_sha256("a\0b", 3, out);
	assert_string_equal(
		out, "sha256:59b271ae1bbcb1d31d41929817f4b16fb439eb4f31520b5ad1d5ce98920a7138");
	assert_int_equal(strlen(out), HIVE_HASH_SIZE - 1);
}

/* --- hive_json_str -------------------------------------------------------------------- */

static void test_json_str(void **state)
{
	cJSON *o =
		cJSON_Parse("{\"s\":\"v\",\"e\":\"\",\"n\":1,\"z\":null,\"o\":{},\"S\":\"upper\"}");

	(void)state;
	assert_non_null(o);
	assert_string_equal(hive_json_str(o, "s"), "v");
	assert_string_equal(hive_json_str(o, "e"), ""); /* empty is still a string */
	assert_null(hive_json_str(o, "n"));
	assert_null(hive_json_str(o, "z"));
	assert_null(hive_json_str(o, "o"));
	assert_null(hive_json_str(o, "missing"));
	assert_string_equal(hive_json_str(o, "S"), "upper"); /* keys are case-sensitive */
	assert_null(hive_json_str(NULL, "s"));
	cJSON_Delete(o);
}

/* --- hive_write_atomic ---------------------------------------------------------------- */

static void test_write_atomic_replaces(void **state)
{
	const char *dir = *state;
	struct hive_err err = {0};
	char *names, *text;
	int dirfd = open(dir, O_RDONLY | O_DIRECTORY);

	assert_true(dirfd >= 0);
	assert_int_equal(hive_write_atomic(dirfd, "f.json", "one\n", 4, "shown/f.json", &err),
			 HIVE_OK);
	assert_non_null(text = unit_slurp_in(dir, "f.json"));
	assert_string_equal(text, "one\n");
	free(text);
	assert_int_equal(hive_write_atomic(dirfd, "f.json", "2", 1, "shown/f.json", &err), HIVE_OK);
	assert_non_null(text = unit_slurp_in(dir, "f.json"));
	assert_string_equal(text, "2");
	free(text);
	/* empty content is a file of zero bytes */
	assert_int_equal(hive_write_atomic(dirfd, "f.json", "", 0, "shown/f.json", &err), HIVE_OK);
	assert_non_null(text = unit_slurp_in(dir, "f.json"));
	assert_string_equal(text, "");
	free(text);
	names = unit_list_dir(dir);
	assert_string_equal(names, "f.json"); /* no temporary file left behind */
	free(names);
	assert_int_equal(err.status, HIVE_OK);
	close(dirfd);
}

/* A symbolic link in the file's place is replaced, never written through. */
static void test_write_atomic_symlink(void **state)
{
	const char *dir = *state;
	struct hive_err err = {0};
	char path[4096], target[4096], *text;
	struct stat st;
	int dirfd = open(dir, O_RDONLY | O_DIRECTORY);

	assert_true(dirfd >= 0);
	snprintf(target, sizeof(target), "%s/target", dir);
	snprintf(path, sizeof(path), "%s/STATE.json", dir);
	assert_int_equal(hive_write_atomic(dirfd, "target", "keep", 4, "target", &err), HIVE_OK);
	assert_int_equal(symlink(target, path), 0);
	assert_int_equal(hive_write_atomic(dirfd, "STATE.json", "new", 3, "STATE.json", &err),
			 HIVE_OK);
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_non_null(text = unit_slurp_in(dir, "target"));
	assert_string_equal(text, "keep");
	free(text);
	close(dirfd);
}

static void test_write_atomic_locked_reuses_tmp(void **state)
{
	const char *dir = *state;
	struct hive_err err = {0};
	char *names, *text;
	int dirfd = open(dir, O_RDONLY | O_DIRECTORY), fd;

	assert_true(dirfd >= 0);
	/* left behind by a writer killed mid-write */
	fd = openat(dirfd, ".STATE.json.tmp", O_WRONLY | O_CREAT, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "half a state, much longer than the new one", 42), 42);
	close(fd);
	assert_int_equal(hive_write_atomic_locked(dirfd, "STATE.json", "{}", 2, "STATE.json", &err),
			 HIVE_OK);
	assert_non_null(text = unit_slurp_in(dir, "STATE.json"));
	assert_string_equal(text, "{}");
	free(text);
	names = unit_list_dir(dir);
	assert_string_equal(names, "STATE.json");
	free(names);
	close(dirfd);
}

static void test_write_atomic_mode(void **state)
{
	const char *dir = *state;
	struct hive_err err = {0};
	struct stat st;
	char path[4096];
	int dirfd = open(dir, O_RDONLY | O_DIRECTORY);
	mode_t old = umask(027);

	assert_true(dirfd >= 0);
	assert_int_equal(
		hive_write_atomic_mode(dirfd, "hook", "#!/bin/sh\n", 10, 0755, "hook", &err),
		HIVE_OK);
	snprintf(path, sizeof(path), "%s/hook", dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0755); /* exactly, whatever the umask */
	assert_int_equal(hive_write_atomic_mode(dirfd, "plain", "x", 1, -1, "plain", &err),
			 HIVE_OK);
	snprintf(path, sizeof(path), "%s/plain", dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640); /* 0644 less the umask */
	umask(old);
	close(dirfd);
}

/* A descriptor that is not a folder: HIVE_EENV naming `shown`, nothing written. */
static void test_write_atomic_fails(void **state)
{
	const char *dir = *state;
	struct hive_err err = {0};
	char path[4096], *names;
	int fd;

	snprintf(path, sizeof(path), "%s/file", dir);
	fd = open(path, O_WRONLY | O_CREAT, 0644);
	assert_true(fd >= 0);
	assert_int_equal(hive_write_atomic(fd, "x", "y", 1, "sessions/s1/STATE.json", &err),
			 HIVE_EENV);
	assert_int_equal(err.status, HIVE_EENV);
	assert_string_equal(err.msg, "sessions/s1/STATE.json: Not a directory");
	close(fd);
	names = unit_list_dir(dir);
	assert_string_equal(names, "file");
	free(names);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_buf_add_puts_printf),
		cmocka_unit_test(test_buf_growth),
		cmocka_unit_test(test_sha256),
		cmocka_unit_test(test_json_str),
		cmocka_unit_test_setup_teardown(test_write_atomic_replaces, unit_setup_tmpdir,
						unit_teardown_tmpdir),
		cmocka_unit_test_setup_teardown(test_write_atomic_symlink, unit_setup_tmpdir,
						unit_teardown_tmpdir),
		cmocka_unit_test_setup_teardown(test_write_atomic_locked_reuses_tmp,
						unit_setup_tmpdir, unit_teardown_tmpdir),
		cmocka_unit_test_setup_teardown(test_write_atomic_mode, unit_setup_tmpdir,
						unit_teardown_tmpdir),
		cmocka_unit_test_setup_teardown(test_write_atomic_fails, unit_setup_tmpdir,
						unit_teardown_tmpdir),
		cmocka_unit_test(test_buf_free_null),
	};
	return cmocka_run_group_tests_name("util_buf", tests, NULL, NULL);
}
