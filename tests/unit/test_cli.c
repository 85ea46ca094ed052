/* test_cli.c - unit tests for lib/cli.c: the table-driven option parser and --help */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../lib/cli.h"

/* --- a tool of the shape of the real ones ------------------------------------------- */

enum { OPT_FORMAT = 1, OPT_STRICT, OPT_OUTPUT, OPT_PICKY };

struct fake_opts {
	const char *format, *output;
	int strict, calls;
};

static const struct hive_opt fake_options[] = {
	HIVE_OPT_STRING(0, "format", "FORMAT", OPT_FORMAT, "text (default) or json"),
	HIVE_OPT_OPERAND("FILE...", "logs to read; - reads\nstandard input"),
	HIVE_OPT_FLAG(0, "strict", OPT_STRICT, "warnings fail too"),
	HIVE_OPT_STRING('o', "output", "FILE", OPT_OUTPUT, "write to FILE"),
	HIVE_OPT_STRING(0, "picky", "A-VERY-LONG-ARGUMENT", OPT_PICKY, "refuses \"bad\""),
	HIVE_OPT_COMMON_HELP(0, "quiet", "no notes"),
	HIVE_OPT_END,
};

static int fake_option(void *tool, int key, const char *arg, struct hive_err *err)
{
	struct fake_opts *o = tool;

	o->calls++;
	switch (key) {
	case OPT_FORMAT:
		o->format = arg;
		return HIVE_OK;
	case OPT_STRICT:
		o->strict = 1;
		return HIVE_OK;
	case OPT_OUTPUT:
		o->output = arg;
		return HIVE_OK;
	case OPT_PICKY:
		if (!strcmp(arg, "bad"))
			return hive_err_set(err, HIVE_EUSAGE, "--picky: \"bad\" is not allowed");
		return HIVE_OK;
	}
	return hive_err_set(err, HIVE_EUSAGE, "unknown option");
}

/* Parse the NULL-terminated words after "fake" with a fresh context; the status. */
static int parse(struct hive_ctx *ctx, struct fake_opts *o, int *first, ...)
{
	struct hive_cli_tool t = {"usage: fake\n\n", fake_options, "\nExit status: 0\n",
				  fake_option, o};
	static char *argv[32];
	const char *w;
	va_list ap;
	int argc = 0;

	memset(ctx, 0, sizeof(*ctx));
	memset(o, 0, sizeof(*o));
	argv[argc++] = "fake";
	va_start(ap, first);
	while ((w = va_arg(ap, const char *)) && argc < 31)
		argv[argc++] = (char *)w;
	va_end(ap);
	argv[argc] = NULL;
	*first = -1;
	return hive_cli_parse(ctx, &t, argc, argv, first);
}

/* --- parsing ------------------------------------------------------------------------ */

static void test_tool_and_common_options(void **state)
{
	struct hive_ctx ctx;
	struct fake_opts o;
	int first;

	(void)state;
	assert_int_equal(parse(&ctx, &o, &first, "--format", "json", "-qo", "out.txt", "--strict",
			       "-C", "dir", "--session=s1", "--root", "r", "--config", "c.yml",
			       NULL),
			 HIVE_OK);
	assert_string_equal(o.format, "json");
	assert_string_equal(o.output, "out.txt");
	assert_int_equal(o.strict, 1);
	assert_int_equal(o.calls, 3); /* the common options never reach the tool */
	assert_int_equal(ctx.quiet, 1);
	assert_string_equal(ctx.chdir_opt, "dir");
	assert_string_equal(ctx.session_opt, "s1");
	assert_string_equal(ctx.root_opt, "r");
	assert_string_equal(ctx.config_opt, "c.yml");
	assert_int_equal(ctx.want_help, 0);
	assert_int_equal(ctx.want_version, 0);
	assert_int_equal(first, 13);
}

static void test_operands_options_after_them_and_dashdash(void **state)
{
	struct hive_ctx ctx;
	struct fake_opts o;
	int first;

	(void)state;
	/* getopt moves the operands to the end, keeping their order */
	assert_int_equal(
		parse(&ctx, &o, &first, "a.jsonl", "--strict", "-", "--", "--format", NULL),
		HIVE_OK);
	assert_int_equal(o.strict, 1);
	assert_null(o.format);
	assert_int_equal(first, 3); /* a.jsonl, - and --format, after the -- */
	/* a unique prefix of a long option is that option, as with getopt_long */
	assert_int_equal(parse(&ctx, &o, &first, "--form=text", "--out", "x", NULL), HIVE_OK);
	assert_string_equal(o.format, "text");
	assert_string_equal(o.output, "x");
}

static void test_help_version_and_help_options(void **state)
{
	struct hive_ctx ctx;
	struct fake_opts o;
	int first;

	(void)state;
	assert_int_equal(parse(&ctx, &o, &first, "-h", NULL), HIVE_OK);
	assert_int_equal(ctx.want_help, HIVE_HELP_USAGE);
	assert_int_equal(parse(&ctx, &o, &first, "--help", "--version", NULL), HIVE_OK);
	assert_int_equal(ctx.want_help, HIVE_HELP_USAGE);
	assert_int_equal(ctx.want_version, 1);
	/* --help-options wins over --help, in either order */
	assert_int_equal(parse(&ctx, &o, &first, "--help-options", "--help", NULL), HIVE_OK);
	assert_int_equal(ctx.want_help, HIVE_HELP_OPTIONS);
	assert_int_equal(parse(&ctx, &o, &first, "--help", "--help-options", NULL), HIVE_OK);
	assert_int_equal(ctx.want_help, HIVE_HELP_OPTIONS);
}

static void test_usage_errors(void **state)
{
	static const struct {
		const char *words[3];
		const char *msg;
	} cases[] = {
		{{"--bogus", NULL}, "unknown option --bogus (see --help)"},
		{{"--bogus=1", NULL}, "unknown option --bogus (see --help)"},
		{{"-x", NULL}, "unknown option -x (see --help)"},
		{{"-qx", NULL}, "unknown option -x (see --help)"},
		{{"--format", NULL}, "--format: needs a value (see --help)"},
		{{"--form", NULL}, "--format: needs a value (see --help)"},
		{{"-o", NULL}, "-o: needs a value (see --help)"},
		{{"-C", NULL}, "-C: needs a value (see --help)"},
		{{"--session", NULL}, "--session: needs a value (see --help)"},
		{{"--strict=yes", NULL}, "--strict: takes no value (see --help)"},
		{{"--quiet=1", NULL}, "--quiet: takes no value (see --help)"},
		{{"--s", NULL}, "ambiguous option --s: could be --strict, --session (see --help)"},
		{{"--help-opt=1", NULL}, "--help-options: takes no value (see --help)"},
		{{"--picky", "bad"}, "--picky: \"bad\" is not allowed"},
	};
	struct hive_ctx ctx;
	struct fake_opts o;
	size_t i;
	int first;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(
			parse(&ctx, &o, &first, cases[i].words[0], cases[i].words[1], NULL),
			HIVE_EUSAGE);
		assert_int_equal(ctx.err.status, HIVE_EUSAGE);
		assert_string_equal(ctx.err.msg, cases[i].msg);
	}
}

static void test_a_table_naming_an_option_twice_is_refused(void **state)
{
	static const struct hive_opt twice[] = {
		HIVE_OPT_FLAG('q', "quieter", 1, "clashes with -q"),
		HIVE_OPT_END,
	};
	static const struct hive_opt twice_long[] = {
		HIVE_OPT_STRING(0, "root", "DIR", 1, "clashes with --root"),
		HIVE_OPT_END,
	};
	struct hive_cli_tool t = {"usage: fake\n", twice, NULL, fake_option, NULL};
	struct hive_ctx ctx = {0};
	char *argv[] = {"fake", NULL};
	int first;

	(void)state;
	assert_int_equal(hive_cli_parse(&ctx, &t, 1, argv, &first), HIVE_EENV);
	assert_string_equal(ctx.err.msg, "option table: -q twice");
	t.opts = twice_long;
	memset(&ctx, 0, sizeof(ctx));
	assert_int_equal(hive_cli_parse(&ctx, &t, 1, argv, &first), HIVE_EENV);
	assert_string_equal(ctx.err.msg, "option table: --root twice");
}

static void test_a_bad_letter_or_a_help_for_no_common_option_is_refused(void **state)
{
	static const struct hive_opt colon[] = {
		HIVE_OPT_FLAG(':', "colon", 1, "getopt's own"),
		HIVE_OPT_END,
	};
	static const struct hive_opt w[] = {
		HIVE_OPT_STRING('W', NULL, "X", 1, "getopt's -W foo"),
		HIVE_OPT_END,
	};
	static const struct hive_opt typo[] = {
		HIVE_OPT_COMMON_HELP(0, "quite", "no notes"),
		HIVE_OPT_END,
	};
	static const struct {
		const struct hive_opt *opts;
		const char *msg;
	} cases[] = {
		{colon, "option table: -: is not a letter"},
		{w, "option table: -W is getopt's"},
		{typo, "option table: no common option --quite"},
	};
	struct hive_cli_tool t = {"usage: fake\n", NULL, NULL, fake_option, NULL};
	struct hive_ctx ctx;
	char *argv[] = {"fake", NULL};
	size_t i;
	int first;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&ctx, 0, sizeof(ctx));
		t.opts = cases[i].opts;
		assert_int_equal(hive_cli_parse(&ctx, &t, 1, argv, &first), HIVE_EENV);
		assert_string_equal(ctx.err.msg, cases[i].msg);
	}
}

/* --- --help and --help-options ------------------------------------------------------ */

/* What hive_cli_help writes for what, as a string the caller frees. */
static char *help_text(int what)
{
	struct fake_opts o = {0};
	struct hive_cli_tool t = {"usage: fake [options] FILE...\n\nDoes fake things.\n\n",
				  fake_options, "\nExit status: 0 success, 2 usage\n", fake_option,
				  &o};
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	assert_non_null(f);
	assert_int_equal(hive_cli_help(&t, what, f), HIVE_OK);
	fclose(f);
	return text;
}

static void test_usage_text_rendering(void **state)
{
	char *text = help_text(HIVE_HELP_USAGE);

	(void)state;
	assert_string_equal(text,
			    "usage: fake [options] FILE...\n"
			    "\n"
			    "Does fake things.\n"
			    "\n"
			    "  --format FORMAT      text (default) or json\n"
			    "  FILE...              logs to read; - reads\n"
			    "                       standard input\n"
			    "  --strict             warnings fail too\n"
			    "  -o, --output FILE    write to FILE\n"
			    "  --picky A-VERY-LONG-ARGUMENT\n"
			    "                       refuses \"bad\"\n"
			    "  -C DIR               run as if started in DIR\n"
			    "  --root DIR           hive root (env HIVE_ROOT; default "
			    "Docs/hive-mind at the top)\n"
			    "  --session ID         session id (env HIVE_SESSION_ID; CI ids)\n"
			    "  --config FILE        configuration (env HIVE_CONFIG; default "
			    ".hive.yml at the top)\n"
			    "  -q, --quiet          no notes\n"
			    "  -h, --help           show this help\n"
			    "  --version            show the version\n"
			    "\n"
			    "Exit status: 0 success, 2 usage\n");
	free(text);
}

static void test_help_options_listing(void **state)
{
	char *text = help_text(HIVE_HELP_OPTIONS);

	(void)state;
	assert_string_equal(text, "\t--format\tFORMAT\n"
				  "\t--strict\t\n"
				  "-o\t--output\tFILE\n"
				  "\t--picky\tA-VERY-LONG-ARGUMENT\n"
				  "-C\t\tDIR\n"
				  "\t--root\tDIR\n"
				  "\t--session\tID\n"
				  "\t--config\tFILE\n"
				  "-q\t--quiet\t\n"
				  "-h\t--help\t\n"
				  "\t--version\t\n");
	free(text);
}

static void test_help_to_a_full_disk_is_an_environment_error(void **state)
{
	struct hive_cli_tool t = {"usage: fake\n", fake_options, NULL, fake_option, NULL};
	FILE *f = fopen("/dev/full", "w");

	(void)state;
	if (!f)
		fail_msg("cannot open /dev/full");
	assert_int_equal(hive_cli_help(&t, HIVE_HELP_USAGE, f), HIVE_EENV);
	fclose(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tool_and_common_options),
		cmocka_unit_test(test_operands_options_after_them_and_dashdash),
		cmocka_unit_test(test_help_version_and_help_options),
		cmocka_unit_test(test_usage_errors),
		cmocka_unit_test(test_a_table_naming_an_option_twice_is_refused),
		cmocka_unit_test(test_a_bad_letter_or_a_help_for_no_common_option_is_refused),
		cmocka_unit_test(test_usage_text_rendering),
		cmocka_unit_test(test_help_options_listing),
		cmocka_unit_test(test_help_to_a_full_disk_is_an_environment_error),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
