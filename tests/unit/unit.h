/* unit.h - what several cmocka suites share: a fresh folder per test, file and JSON helpers, a
 * mismatch shown as TAP comments */
#ifndef HIVE_UNIT_H
#define HIVE_UNIT_H

/* Include after <cmocka.h>. Every helper here fails the running test (cmocka's assertions)
 * rather than return an error, unless its comment says otherwise. */

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../lib/config.h"

/* On a mismatch: got and want as TAP comments ("# " before every line, so no line of theirs
 * can pass for a result), then a short failure (cmocka cuts long messages, and the cut can
 * swallow the newline before "not ok"). */
static inline void show_mismatch(const char *what, const char *got, const char *want)
{
	const char *texts[2] = {got ? got : "(null)", want}, *names[2] = {"got", "want"}, *p, *nl;
	int i;

	fflush(stdout);
	for (i = 0; i < 2; i++) {
		printf("# --- %s\n", names[i]);
		for (p = texts[i]; *p; p = nl ? nl + 1 : p + strlen(p)) {
			nl = strchr(p, '\n');
			printf("#   %.*s%s\n", (int)(nl ? nl - p : (long)strlen(p)), p,
			       nl ? "" : "(no newline)");
		}
	}
	fflush(stdout);
	fail_msg("%s differs from what was expected (shown above)", what);
}

/* --- a fresh folder per test ---------------------------------------------------------- */

static inline int unit_rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* Remove dir and all below it, never following a symbolic link; errors are ignored. */
static inline void unit_rm_tree(const char *dir)
{
	nftw(dir, unit_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* A new folder /tmp/hive-unit-<name>-XXXXXX, where name is the test program's name without
 * "test_"; the caller frees the path. NULL when it cannot be made (setups return -1 then). */
static inline char *unit_mkdtemp(void)
{
	const char *name = program_invocation_short_name;
	char *tmpl;

	if (!strncmp(name, "test_", 5))
		name += 5;
	if (asprintf(&tmpl, "/tmp/hive-unit-%s-XXXXXX", name) < 0)
		return NULL;
	if (!mkdtemp(tmpl)) {
		free(tmpl);
		return NULL;
	}
	return tmpl;
}

/* unit_mkdtemp into buf (size bytes): 0, or -1 when it cannot be made or does not fit. */
static inline int unit_mkdtemp_into(char *buf, size_t size)
{
	char *dir = unit_mkdtemp();
	int n = dir ? snprintf(buf, size, "%s", dir) : -1;

	free(dir);
	return n < 0 || (size_t)n >= size ? -1 : 0;
}

/* cmocka setup: *state is the path of a new folder (a char *). */
static inline int unit_setup_tmpdir(void **state)
{
	*state = unit_mkdtemp();
	return *state ? 0 : -1;
}

/* cmocka teardown for unit_setup_tmpdir: the folder and all in it go. */
static inline int unit_teardown_tmpdir(void **state)
{
	unit_rm_tree(*state);
	free(*state);
	return 0;
}

/* --- paths and files ------------------------------------------------------------------ */

/* A new string from a printf format; the caller frees it. */
static inline char *unit_pathf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline char *unit_pathf(const char *fmt, ...)
{
	va_list ap;
	char *p;

	va_start(ap, fmt);
	assert_true(vasprintf(&p, fmt, ap) > 0);
	va_end(ap);
	return p;
}

/* dir/name as a new string; the caller frees it. */
static inline char *unit_path_in(const char *dir, const char *name)
{
	return unit_pathf("%s/%s", dir, name);
}

/* The whole file as a new NUL-terminated string (NULL when it cannot be opened); *len, when
 * len is not NULL, its size (0 when
 * missing). */
static inline char *unit_slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	if (len)
		*len = 0;
	if (!f)
		return NULL;
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	rewind(f);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	if (len)
		*len = (size_t)n;
	return buf;
}

/* unit_slurp of dir/name. */
static inline char *unit_slurp_in(const char *dir, const char *name)
{
	char *path = unit_path_in(dir, name), *buf = unit_slurp(path, NULL);

	free(path);
	return buf;
}

/* len bytes of buf written to path, opened with fopen's mode ("w" replaces, "a" appends). */
static inline void unit_spit(const char *path, const void *buf, size_t len, const char *mode)
{
	FILE *f = fopen(path, mode);

	assert_non_null(f);
	assert_int_equal(fwrite(buf, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

/* path holds text and nothing else. */
static inline void unit_write_file(const char *path, const char *text)
{
	unit_spit(path, text, strlen(text), "w");
}

/* dir/name holds text and nothing else. */
static inline void unit_write_in(const char *dir, const char *name, const char *text)
{
	char *path = unit_path_in(dir, name);

	unit_write_file(path, text);
	free(path);
}

/* 1 when path names anything (a dangling symbolic link too), else 0. */
static inline int unit_exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

/* The names in dir but . and .., sorted and joined by spaces ("" when none); the caller frees
 * the string. */
static inline char *unit_list_dir(const char *dir)
{
	struct dirent **names;
	char *out = calloc(1, 1);
	size_t len = 0, n_len;
	int n, i;

	assert_non_null(out);
	n = scandir(dir, &names, NULL, alphasort);
	assert_true(n >= 0);
	for (i = 0; i < n; i++) {
		if (strcmp(names[i]->d_name, ".") && strcmp(names[i]->d_name, "..")) {
			n_len = strlen(names[i]->d_name);
			out = realloc(out, len + n_len + 2);
			assert_non_null(out);
			if (len)
				out[len++] = ' ';
			memcpy(out + len, names[i]->d_name, n_len + 1);
			len += n_len;
		}
		free(names[i]);
	}
	free(names);
	return out;
}

/* --- JSON and configuration ----------------------------------------------------------- */

/* text parsed; a test whose own JSON does not parse fails as a test bug. */
static inline cJSON *unit_json(const char *text)
{
	cJSON *j = cJSON_Parse(text);

	if (!j)
		fail_msg("test bug: not JSON: %s", text);
	return j;
}

/* j printed on one line; the caller frees it. */
static inline char *unit_print(const cJSON *j)
{
	char *s = cJSON_PrintUnformatted(j);

	assert_non_null(s);
	return s;
}

/* A config from YAML text (the real parser, so tests see what users write). */
static inline void unit_config_from(struct hive_config *cfg, const char *yaml)
{
	struct hive_err err = {0};

	hive_config_init(cfg);
	if (hive_config_parse(cfg, "test.yml", yaml, strlen(yaml), &err))
		fail_msg("test bug: config: %s", err.msg);
}

#endif
