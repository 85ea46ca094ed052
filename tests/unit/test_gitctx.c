/* test_gitctx.c - unit tests for lib/gitctx.c: discovery, the git context (commit, branch,
 * dirty, tag, remote) of repositories made with the git command, credentials, index paths */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "unit.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../lib/gitctx.h"

/* --- helpers ------------------------------------------------------------------------ */

/* What the environment may hold that would change what git or gitctx see. */
static const char *const cleared[] = {"GIT_DIR",	   "GIT_WORK_TREE",   "GIT_INDEX_FILE",
				      "GIT_COMMON_DIR",	   "GITHUB_HEAD_REF", "GITHUB_REF_NAME",
				      "CI_COMMIT_REF_NAME"};

/* Git's identity and dates, and no system configuration or discovery above /tmp. */
static const char *const pinned[][2] = {
	{"GIT_CONFIG_NOSYSTEM", "1"},
	{"GIT_CEILING_DIRECTORIES", "/tmp"},
	{"GIT_AUTHOR_NAME", "Hive Test"},
	{"GIT_AUTHOR_EMAIL", "hive@example.com"},
	{"GIT_AUTHOR_DATE", "2025-01-15T10:30:00Z"},
	{"GIT_COMMITTER_NAME", "Hive Test"},
	{"GIT_COMMITTER_EMAIL", "hive@example.com"},
	{"GIT_COMMITTER_DATE", "2025-01-15T10:30:00Z"},
};

/* A fresh folder (the state) that is also HOME, with git's identity and dates pinned and no
 * system configuration. */
static int setup(void **state)
{
	size_t i;

	for (i = 0; i < sizeof(cleared) / sizeof(cleared[0]); i++)
		unsetenv(cleared[i]);
	if (unit_setup_tmpdir(state))
		return -1;
	setenv("HOME", *state, 1);
	for (i = 0; i < sizeof(pinned) / sizeof(pinned[0]); i++)
		setenv(pinned[i][0], pinned[i][1], 1);
	return 0;
}

/* Run a shell command line in dir (its output out of the TAP stream); it must succeed. */
static void sh(const char *dir, const char *cmd)
{
	char *line = unit_pathf("cd '%s' && { %s; } >/dev/null 2>&1", dir, cmd);
	int rc = system(line);

	if (rc != 0)
		fail_msg("test bug: `%s` in %s exited %d", cmd, dir, rc);
	free(line);
}

/* The first line a command prints in dir, without its newline, or NULL when it prints
 * nothing; the caller frees it. */
static char *sh_out(const char *dir, const char *cmd)
{
	char *line = unit_pathf("cd '%s' && %s", dir, cmd), buf[256];
	FILE *p = popen(line, "r");
	int got;

	assert_non_null(p);
	got = fgets(buf, sizeof(buf), p) != NULL;
	pclose(p);
	free(line);
	if (!got)
		return NULL;
	buf[strcspn(buf, "\n")] = '\0';
	return strdup(buf);
}

/* dir becomes a repository on branch main with a.txt and sub/b.txt in one commit. */
static void repo_with_commit(const char *dir)
{
	sh(dir, "git init -q -b main . && echo a >a.txt && mkdir sub && echo b >sub/b.txt && "
		"git add a.txt sub/b.txt && git commit -q -m one");
}

/* The repository around dir, opened (it must be one). */
static struct hive_git *open_repo(const char *dir)
{
	struct hive_git *g = NULL;
	struct hive_err err = {0};

	if (hive_git_open(dir, &g, &err))
		fail_msg("hive_git_open: %s", err.msg);
	assert_non_null(g);
	return g;
}

/* hive_git_context of the repository around dir, opened afresh (the context is cached per
 * open repository), is {"commit":<`git rev-parse HEAD`, or null>,"branch":branch,
 * "dirty":dirty,"tag":tag,"remote":remote}, each of those given as JSON text. */
static void context_is(const char *dir, int want_dirty, const char *branch, const char *dirty,
		       const char *tag, const char *remote)
{
	struct hive_git *g = open_repo(dir);
	struct hive_err err = {0};
	cJSON *ctx = NULL;
	char *head = sh_out(dir, "git rev-parse -q --verify HEAD"), *got, *want;

	want = unit_pathf("{\"commit\":%s%s%s,\"branch\":%s,\"dirty\":%s,\"tag\":%s,\"remote\":%s}",
			  head ? "\"" : "", head ? head : "null", head ? "\"" : "", branch, dirty,
			  tag, remote);
	if (hive_git_context(g, want_dirty, &ctx, &err))
		fail_msg("hive_git_context: %s", err.msg);
	got = unit_print(ctx);
	if (strcmp(got, want))
		show_mismatch("git context", got, want);
	free(got);
	free(want);
	free(head);
	cJSON_Delete(ctx);
	hive_git_free(g);
}

#define MAIN   "\"main\""
#define ORIGIN "\"https://example.com/acme/app.git\""

/* --- hive_git_open ------------------------------------------------------------------ */

static void test_outside_any_repository(void **state)
{
	struct hive_git *g = (struct hive_git *)state; /* anything but NULL: must be reset */
	struct hive_err err = {0};
	cJSON *ctx = NULL;

	assert_int_equal(hive_git_open(*state, &g, &err), HIVE_OK);
	assert_null(g);
	/* no repository: the context is a JSON null, not an error */
	assert_int_equal(hive_git_context(NULL, 1, &ctx, &err), HIVE_OK);
	assert_true(cJSON_IsNull(ctx));
	cJSON_Delete(ctx);
	hive_git_free(NULL);
}

static void test_open_from_a_subfolder(void **state)
{
	const char *dir = *state;
	char *sub = unit_path_in(dir, "sub");
	struct hive_git *g;

	repo_with_commit(dir);
	g = open_repo(sub);
	assert_string_equal(hive_git_workdir(g), dir);
	assert_non_null(hive_git_repo(g));
	hive_git_free(g);
	free(sub);
}

/* --- hive_git_context --------------------------------------------------------------- */

static void test_context_one_commit(void **state)
{
	const char *dir = *state;

	repo_with_commit(dir);
	context_is(dir, 1, MAIN, "false", "null", "null");
	/* want_dirty 0: no scan, "dirty" is null */
	context_is(dir, 0, MAIN, "null", "null", "null");
}

static void test_context_unborn_branch(void **state)
{
	const char *dir = *state;

	sh(dir, "git init -q -b trunk .");
	context_is(dir, 0, "\"trunk\"", "null", "null", "null");
}

/* One step of a scenario: a shell line (or NULL), then the context it leaves. */
struct step {
	const char *cmd;
	int want_dirty;
	const char *dirty, *tag, *remote; /* JSON text; the branch is main */
};

/* repo_with_commit, then each step in turn. */
static void run_steps(const char *dir, const struct step *steps, size_t n)
{
	size_t i;

	repo_with_commit(dir);
	for (i = 0; i < n; i++) {
		if (steps[i].cmd)
			sh(dir, steps[i].cmd);
		context_is(dir, steps[i].want_dirty, MAIN, steps[i].dirty, steps[i].tag,
			   steps[i].remote);
	}
}

#define STEPS(dir, v) run_steps(dir, v, sizeof(v) / sizeof(v[0]))

static void test_context_dirty_file(void **state)
{
	static const struct step steps[] = {
		/* an untracked file does not count: tracked files only */
		{"echo new >untracked.txt", 1, "false", "null", "null"},
		{"echo changed >>sub/b.txt", 1, "true", "null", "null"},
		{NULL, 0, "null", "null", "null"},
		/* back as committed: clean again */
		{"git checkout -q -- sub/b.txt", 1, "false", "null", "null"},
	};

	STEPS(*state, steps);
}

static void test_context_staged_change(void **state)
{
	static const struct step steps[] = {
		/* staged, the work tree agreeing with the index: the index differs from HEAD */
		{"echo changed >a.txt && git add a.txt", 1, "true", "null", "null"},
		{"git reset -q --hard", 1, "false", "null", "null"},
		/* a new file added to the index */
		{"echo c >c.txt && git add c.txt", 1, "true", "null", "null"},
	};

	STEPS(*state, steps);
}

static void test_context_detached_head(void **state)
{
	const char *dir = *state;

	repo_with_commit(dir);
	sh(dir, "git remote add origin https://example.com/acme/app.git && "
		"git checkout -q --detach");
	context_is(dir, 1, "null", "false", "null", ORIGIN);
	/* detached in CI: the branch comes from the CI's variables */
	setenv("GITHUB_REF_NAME", "release", 1);
	context_is(dir, 0, "\"release\"", "null", "null", ORIGIN);
	setenv("GITHUB_HEAD_REF", "feature", 1);
	context_is(dir, 0, "\"feature\"", "null", "null", ORIGIN);
	unsetenv("GITHUB_HEAD_REF");
	unsetenv("GITHUB_REF_NAME");
}

static void test_context_tags(void **state)
{
	static const struct step steps[] = {
		/* a tag on another commit is not HEAD's */
		{"git tag old && echo more >>a.txt && git commit -q -am two", 1, "false", "null",
		 "null"},
		/* the alphabetically first of HEAD's tags, lightweight or annotated */
		{"git tag v1.1 && git tag -a -m annotated v1.0", 1, "false", "\"v1.0\"", "null"},
	};

	STEPS(*state, steps);
}

static void test_context_remote(void **state)
{
	static const struct step steps[] = {
		{"git remote add origin https://user:token@host.example/x.git", 1, "false", "null",
		 "\"https://host.example/x.git\""},
		/* the branch's upstream remote before origin; an ssh user name is kept */
		{"git remote add up ssh://git@host.example/y.git && git config branch.main.remote "
		 "up",
		 1, "false", "null", "\"ssh://git@host.example/y.git\""},
		/* "." (the repository itself) is no remote: origin again */
		{"git config branch.main.remote .", 1, "false", "null",
		 "\"https://host.example/x.git\""},
	};

	STEPS(*state, steps);
}

/* --- hive_git_strip_credentials ----------------------------------------------------- */

static void stripped(const char *url, const char *want)
{
	char out[256];

	hive_git_strip_credentials(url, out, sizeof(out));
	if (strcmp(out, want))
		show_mismatch(url, out, want);
}

static void test_strip_credentials(void **state)
{
	char small[12];

	(void)state;
	stripped("https://user:token@host/x.git", "https://host/x.git");
	stripped("https://token@host/x.git", "https://host/x.git"); /* http: any user part */
	stripped("http://u:p@host:8080/x", "http://host:8080/x");
	stripped("ssh://git@host/x.git", "ssh://git@host/x.git"); /* a user name, kept */
	stripped("ssh://git:secret@host/x.git", "ssh://host/x.git");
	stripped("git@github.com:acme/app.git", "git@github.com:acme/app.git"); /* no scheme */
	stripped("https://host/path@v1", "https://host/path@v1"); /* @ after the host */
	stripped("https://a@b@host/x", "https://host/x");	  /* the last @ */
	stripped("/srv/git/x.git", "/srv/git/x.git");
	stripped("", "");
	/* a short buffer: cut, always terminated */
	hive_git_strip_credentials("https://host/long/path.git", small, sizeof(small));
	assert_string_equal(small, "https://hos");
}

/* --- hive_git_index_foreach --------------------------------------------------------- */

struct seen {
	char list[512];
	int stop_after; /* return 7 after this many paths (0: never) */
	int n;
};

static int collect(const char *path, void *arg)
{
	struct seen *s = arg;

	snprintf(s->list + strlen(s->list), sizeof(s->list) - strlen(s->list), "%s%s",
		 *s->list ? " " : "", path);
	return ++s->n == s->stop_after ? 7 : 0;
}

static void test_index_foreach(void **state)
{
	const char *dir = *state;
	struct seen all = {"", 0, 0}, two = {"", 2, 0};
	struct hive_err err = {0};
	struct hive_git *g;

	repo_with_commit(dir);
	sh(dir,
	   "echo z >z.txt && echo u >untracked.txt && git add z.txt && git rm -q --cached a.txt");
	g = open_repo(dir);
	/* the index, in its order: staged paths yes, untracked and removed ones no */
	assert_int_equal(hive_git_index_foreach(g, collect, &all, &err), 0);
	assert_string_equal(all.list, "sub/b.txt z.txt");
	/* the callback's first non-zero return stops the walk and is returned */
	sh(dir, "git add a.txt");
	hive_git_free(g);
	g = open_repo(dir);
	assert_int_equal(hive_git_index_foreach(g, collect, &two, &err), 7);
	assert_string_equal(two.list, "a.txt sub/b.txt");
	hive_git_free(g);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, unit_teardown_tmpdir)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_outside_any_repository), T(test_open_from_a_subfolder),
		T(test_context_one_commit),	T(test_context_unborn_branch),
		T(test_context_dirty_file),	T(test_context_staged_change),
		T(test_context_detached_head),	T(test_context_tags),
		T(test_context_remote),		cmocka_unit_test(test_strip_credentials),
		T(test_index_foreach),
	};

	return cmocka_run_group_tests_name("gitctx", tests, NULL, NULL);
}
