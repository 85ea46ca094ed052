/* test_hooks.c - unit tests for lib/hooks.c: where the hook goes, what is there, installing it */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "unit.h"

#include <fcntl.h>
#include <git2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../lib/gitctx.h"
#include "../../lib/hooks.h"

/* --- helpers ------------------------------------------------------------------------ */

/* Each test gets a fresh repository made with libgit2 in a new temporary folder. */
struct fx {
	char *dir;   /* the work tree */
	char *hooks; /* <dir>/.git/hooks */
	struct hive_git *g;
};

static int setup_repo(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));
	struct hive_err err = {0};
	git_repository *repo = NULL;

	if (!fx || !(fx->dir = unit_mkdtemp()))
		return -1;
	if (asprintf(&fx->hooks, "%s/.git/hooks", fx->dir) < 0)
		return -1;
	git_libgit2_init();
	if (git_repository_init(&repo, fx->dir, 0) < 0)
		return -1;
	git_repository_free(repo);
	git_libgit2_shutdown();
	mkdir(fx->hooks, 0755); /* libgit2 makes none without templates */
	if (hive_git_open(fx->dir, &fx->g, &err) || !fx->g)
		return -1;
	*state = fx;
	return 0;
}

static int teardown_repo(void **state)
{
	struct fx *fx = *state;

	hive_git_free(fx->g);
	unit_rm_tree(fx->dir);
	free(fx->dir);
	free(fx->hooks);
	free(fx);
	return 0;
}

/* dir/name holds text, with mode. */
static void put(const char *dir, const char *name, const char *text, mode_t mode)
{
	char *path = unit_path_in(dir, name);

	unit_spit(path, text, strlen(text), "wb");
	assert_int_equal(chmod(path, mode), 0);
	free(path);
}

static int exists(const char *dir, const char *name)
{
	char *path = unit_path_in(dir, name);
	int yes = unit_exists(path);

	free(path);
	return yes;
}

static const char foreign[] = "#!/bin/sh\necho mine\n";

/* --- tests -------------------------------------------------------------------------- */

static void test_no_repository(void **state)
{
	struct hive_hooks *h = (void *)1;
	struct hive_err err = {0};

	(void)state;
	assert_int_equal(hive_hooks_plan(NULL, &h, &err), HIVE_EUSAGE);
	assert_null(h);
	assert_string_equal(err.msg, "--install-hooks: not in a git repository (see -C)");
	hive_hooks_free(NULL);
}

static void test_embedded_text(void **state)
{
	(void)state;
	assert_true(strncmp(hive_hook_pre_push, "#!/bin/sh\n" HIVE_HOOK_MARKER "\n",
			    strlen("#!/bin/sh\n" HIVE_HOOK_MARKER "\n")) == 0);
	assert_non_null(strstr(hive_hook_pre_push, "--pre-push"));
	assert_non_null(strstr(hive_hook_pre_push, "pre-push.local"));
	assert_non_null(strstr(hive_hook_pre_push, "HIVE_SKIP"));
}

static void test_fresh_install_then_unchanged(void **state)
{
	struct fx *fx = *state;
	struct hive_hooks *h = NULL;
	struct hive_err err = {0};
	struct stat st1, st2;
	char path[4096], *text;

	assert_int_equal(hive_hooks_plan(fx->g, &h, &err), HIVE_OK);
	assert_string_equal(h->dir, fx->hooks);
	assert_null(h->hooks_path);
	assert_int_equal(h->result, HIVE_HOOK_INSTALLED);
	assert_false(h->park);
	assert_false(h->has_local);
	assert_false(exists(fx->hooks, "pre-push")); /* the plan writes nothing */
	assert_int_equal(hive_hooks_install(h, &err), HIVE_OK);
	assert_int_equal(h->result, HIVE_HOOK_INSTALLED);
	assert_non_null(text = unit_slurp_in(fx->hooks, "pre-push"));
	assert_string_equal(text, hive_hook_pre_push);
	free(text);
	snprintf(path, sizeof(path), "%s/pre-push", fx->hooks);
	assert_int_equal(lstat(path, &st1), 0);
	assert_true(S_ISREG(st1.st_mode));
	assert_int_equal(st1.st_mode & 07777, 0755);
	hive_hooks_free(h);

	/* again: nothing to do, nothing done (same inode: not even rewritten) */
	assert_int_equal(hive_hooks_plan(fx->g, &h, &err), HIVE_OK);
	assert_int_equal(h->result, HIVE_HOOK_UNCHANGED);
	assert_int_equal(hive_hooks_install(h, &err), HIVE_OK);
	assert_int_equal(h->result, HIVE_HOOK_UNCHANGED);
	assert_int_equal(lstat(path, &st2), 0);
	assert_int_equal(st1.st_ino, st2.st_ino);
	assert_false(exists(fx->hooks, "pre-push.local"));
	hive_hooks_free(h);
}

static void test_foreign_hook_is_kept(void **state)
{
	struct fx *fx = *state;
	struct hive_hooks *h = NULL;
	struct hive_err err = {0};
	char *text;

	put(fx->hooks, "pre-push", foreign, 0750);
	assert_int_equal(hive_hooks_plan(fx->g, &h, &err), HIVE_OK);
	assert_true(h->park);
	assert_true(h->has_local);
	assert_int_equal(h->result, HIVE_HOOK_INSTALLED);
	assert_int_equal(hive_hooks_install(h, &err), HIVE_OK);
	assert_non_null(text = unit_slurp_in(fx->hooks, "pre-push.local"));
	assert_string_equal(text, foreign);
	free(text);
	assert_non_null(text = unit_slurp_in(fx->hooks, "pre-push"));
	assert_string_equal(text, hive_hook_pre_push);
	free(text);
	hive_hooks_free(h);

	/* the next install recognises hive's hook: no second parking */
	assert_int_equal(hive_hooks_plan(fx->g, &h, &err), HIVE_OK);
	assert_false(h->park);
	assert_true(h->has_local);
	assert_int_equal(h->result, HIVE_HOOK_UNCHANGED);
	hive_hooks_free(h);
}

static void test_foreign_hook_and_local_conflict(void **state)
{
	struct fx *fx = *state;
	struct hive_hooks *h = NULL;
	struct hive_err err = {0};
	char *a, *b;

	put(fx->hooks, "pre-push", foreign, 0755);
	put(fx->hooks, "pre-push.local", "#!/bin/sh\n", 0755);
	assert_int_equal(hive_hooks_plan(fx->g, &h, &err), HIVE_EENV);
	assert_null(h);
	assert_non_null(strstr(err.msg, "pre-push.local exists too: nothing was changed"));
	assert_non_null(a = unit_slurp_in(fx->hooks, "pre-push"));
	assert_non_null(b = unit_slurp_in(fx->hooks, "pre-push.local"));
	assert_string_equal(a, foreign);
	assert_string_equal(b, "#!/bin/sh\n");
	free(a);
	free(b);
}

static void test_a_cut_off_park_is_finished(void **state)
{
	struct fx *fx = *state;
	struct hive_hooks *h = NULL;
	struct hive_err err = {0};
	char a[4096], b[4096], *text;

	/* an install killed between linking pre-push.local and renaming the new hook in */
	put(fx->hooks, "pre-push", foreign, 0755);
	snprintf(a, sizeof(a), "%s/pre-push", fx->hooks);
	snprintf(b, sizeof(b), "%s/pre-push.local", fx->hooks);
	assert_int_equal(link(a, b), 0);
	assert_int_equal(hive_hooks_plan(fx->g, &h, &err), HIVE_OK);
	assert_int_equal(hive_hooks_install(h, &err), HIVE_OK);
	assert_non_null(text = unit_slurp_in(fx->hooks, "pre-push.local"));
	assert_string_equal(text, foreign);
	free(text);
	assert_non_null(text = unit_slurp_in(fx->hooks, "pre-push"));
	assert_string_equal(text, hive_hook_pre_push);
	free(text);
	hive_hooks_free(h);
}

static void test_marker_recognition(void **state)
{
	struct fx *fx = *state;
	struct hive_hooks *h = NULL;
	struct hive_err err = {0};

	/* the marker line, whatever else: hive's (an older version), updated in place */
	put(fx->hooks, "pre-push", "#!/bin/sh\n" HIVE_HOOK_MARKER "\nexit 0\n", 0755);
	assert_int_equal(hive_hooks_plan(fx->g, &h, &err), HIVE_OK);
	assert_int_equal(h->result, HIVE_HOOK_UPDATED);
	assert_false(h->park);
	hive_hooks_free(h);
	/* the current text without its x bits: updated too */
	put(fx->hooks, "pre-push", hive_hook_pre_push, 0644);
	assert_int_equal(hive_hooks_plan(fx->g, &h, &err), HIVE_OK);
	assert_int_equal(h->result, HIVE_HOOK_UPDATED);
	hive_hooks_free(h);
	/* the marker inside a line, or with something after it: not hive's */
	put(fx->hooks, "pre-push", "#!/bin/sh\necho '" HIVE_HOOK_MARKER "'\n", 0755);
	assert_int_equal(hive_hooks_plan(fx->g, &h, &err), HIVE_OK);
	assert_true(h->park);
	hive_hooks_free(h);
	put(fx->hooks, "pre-push", "#!/bin/sh\n" HIVE_HOOK_MARKER " (not)\n", 0755);
	assert_int_equal(hive_hooks_plan(fx->g, &h, &err), HIVE_OK);
	assert_true(h->park);
	hive_hooks_free(h);
}

static void test_not_a_file(void **state)
{
	struct fx *fx = *state;
	struct hive_hooks *h = NULL;
	struct hive_err err = {0};
	char path[4096];

	snprintf(path, sizeof(path), "%s/pre-push", fx->hooks);
	assert_int_equal(mkdir(path, 0755), 0);
	assert_int_equal(hive_hooks_plan(fx->g, &h, &err), HIVE_EENV);
	assert_non_null(strstr(err.msg, "/pre-push: exists and is not a file"));
}

static void test_core_hooks_path(void **state)
{
	struct fx *fx = *state;
	struct hive_hooks *h = NULL;
	struct hive_err err = {0};
	git_config *cfg = NULL;
	char want[4096], *text;

	assert_int_equal(git_repository_config(&cfg, hive_git_repo(fx->g)), 0);
	assert_int_equal(git_config_set_string(cfg, "core.hooksPath", "tools/hooks/"), 0);
	git_config_free(cfg);
	assert_int_equal(hive_hooks_plan(fx->g, &h, &err), HIVE_OK);
	snprintf(want, sizeof(want), "%s/tools/hooks", fx->dir);
	assert_string_equal(h->dir, want); /* from the top, trailing slash dropped */
	assert_string_equal(h->hooks_path, "tools/hooks/");
	assert_true(h->dir_missing);
	assert_int_equal(hive_hooks_install(h, &err), HIVE_OK);
	assert_non_null(text = unit_slurp_in(want, "pre-push"));
	assert_string_equal(text, hive_hook_pre_push);
	free(text);
	assert_false(exists(fx->hooks, "pre-push"));
	hive_hooks_free(h);
}

static void test_hooks_folder_is_a_file(void **state)
{
	struct fx *fx = *state;
	struct hive_hooks *h = NULL;
	struct hive_err err = {0};
	git_config *cfg = NULL;

	put(fx->dir, "hooks-file", "x\n", 0644);
	assert_int_equal(git_repository_config(&cfg, hive_git_repo(fx->g)), 0);
	assert_int_equal(git_config_set_string(cfg, "core.hooksPath", "hooks-file"), 0);
	git_config_free(cfg);
	assert_int_equal(hive_hooks_plan(fx->g, &h, &err), HIVE_EENV);
	assert_non_null(strstr(err.msg, "hooks-file: Not a directory"));
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup_repo, teardown_repo)

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_repository),
		cmocka_unit_test(test_embedded_text),
		T(test_fresh_install_then_unchanged),
		T(test_foreign_hook_is_kept),
		T(test_foreign_hook_and_local_conflict),
		T(test_a_cut_off_park_is_finished),
		T(test_marker_recognition),
		T(test_not_a_file),
		T(test_core_hooks_path),
		T(test_hooks_folder_is_a_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
