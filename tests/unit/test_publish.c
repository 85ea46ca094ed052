/* test_publish.c - unit tests for lib/publish.c: which sessions ref a run uses, and refusals that
 * write nothing (the commits themselves are tested end to end in tests/bats/sessions-ref.bats) */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "unit.h"

#include <stdlib.h>
#include <string.h>

#include "../../lib/publish.h"

static void ref_is(const char *opt, const char *cfg, const char *want)
{
	struct hive_err err = {0};
	const char *got = NULL;

	assert_int_equal(hive_publish_ref(opt, cfg, &got, &err), HIVE_OK);
	assert_string_equal(got, want);
}

static void ref_bad(const char *opt, const char *cfg, const char *want)
{
	struct hive_err err = {0};
	const char *got = NULL;

	assert_int_equal(hive_publish_ref(opt, cfg, &got, &err), HIVE_EUSAGE);
	assert_null(got);
	assert_string_equal(err.msg, want);
}

/* --ref, then HIVE_PUBLISH_REF, then publish.ref, then refs/hive/sessions */
static void test_ref_order(void **state)
{
	(void)state;
	unsetenv("HIVE_PUBLISH_REF");
	ref_is(NULL, NULL, "refs/hive/sessions");
	ref_is(NULL, "refs/hive/audit", "refs/hive/audit");
	ref_is("refs/hive/x", "refs/hive/audit", "refs/hive/x");
	setenv("HIVE_PUBLISH_REF", "refs/hive/env", 1);
	ref_is(NULL, "refs/hive/audit", "refs/hive/env");
	ref_is("refs/hive/x", "refs/hive/audit", "refs/hive/x");
	setenv("HIVE_PUBLISH_REF", "", 1); /* empty is unset */
	ref_is(NULL, "refs/hive/audit", "refs/hive/audit");
	unsetenv("HIVE_PUBLISH_REF");
}

/* a name git would refuse, or one outside refs/, names where it came from */
static void test_ref_refused(void **state)
{
	(void)state;
	unsetenv("HIVE_PUBLISH_REF");
	ref_bad("main", NULL,
		"--ref: \"main\" is not a ref name below refs/ (for example refs/hive/sessions)");
	ref_bad(NULL, "refs/hive/a..b",
		"publish.ref: \"refs/hive/a..b\" is not a ref name below refs/ (for example "
		"refs/hive/sessions)");
	ref_bad("refs/hive/x.lock", NULL,
		"--ref: \"refs/hive/x.lock\" is not a ref name below refs/ (for example "
		"refs/hive/sessions)");
	ref_bad("refs/hive/a b", NULL,
		"--ref: \"refs/hive/a b\" is not a ref name below refs/ (for example "
		"refs/hive/sessions)");
	setenv("HIVE_PUBLISH_REF", "HEAD", 1);
	ref_bad(NULL, NULL,
		"HIVE_PUBLISH_REF: \"HEAD\" is not a ref name below refs/ (for example "
		"refs/hive/sessions)");
	unsetenv("HIVE_PUBLISH_REF");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ref_order),
		cmocka_unit_test(test_ref_refused),
	};

	git_libgit2_init(); /* as hive_ctx_setup does before any tool calls it */
	return cmocka_run_group_tests_name("publish", tests, NULL, NULL);
}
