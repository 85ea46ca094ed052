/* cli.h - option tables (SPEC 2's common ones and each tool's), parsed once; the run context */
#ifndef HIVE_CLI_H
#define HIVE_CLI_H

#include <getopt.h>
#include <stdio.h>

#include "config.h"
#include "err.h"
#include "log.h"

struct hive_git;

enum { HIVE_HELP_USAGE = 1, HIVE_HELP_OPTIONS = 2 };

/* Everything a tool run knows, built by hive_cli_parse and hive_ctx_setup. */
struct hive_ctx {
	/* from the command line */
	const char *chdir_opt;	 /* -C DIR */
	const char *root_opt;	 /* --root */
	const char *session_opt; /* --session */
	const char *config_opt;	 /* --config */
	int quiet;		 /* -q */
	int want_help;		 /* HIVE_HELP_*: the main prints hive_cli_help and exits 0 */
	int want_version;	 /* --version */
	/* resolved by hive_ctx_setup */
	char *cwd;		/* the directory we run in, after -C */
	struct hive_git *git;	/* NULL outside a repository */
	char *top;		/* top of the work tree, or cwd outside one */
	struct hive_config cfg; /* .hive.yml (empty when there is none) */
	char *root;		/* absolute root of the hive tree */
	int root_given;		/* it came from --root or HIVE_ROOT */
	char *config_rel;	/* the configuration file below the top (".hive.yml" when none was
				   named), NULL when it is outside the work tree or there is none */
	char session_id[HIVE_ID_MAX + 1]; /* "" until resolved */
	const char
		*session_from; /* where it came from: "--session", "HIVE_SESSION_ID", "the CI's
				  session id" or "generated" (static text), NULL until resolved */
	struct hive_err err;   /* the last failure */
};

/*
 * Options are declared once, in tables (git's parse-options): the common ones of SPEC 2
 * live in cli.c, each tool has its own. The tables drive getopt_long, the option lines of
 * --help, and --help-options, the hidden listing the build turns into the bash completion
 * (tests/bats/options.bats holds each table against the tool's man page).
 *
 *	enum { OPT_WORKER = 1, OPT_HOOKS };
 *	static const struct hive_opt init_options[] = {
 *		HIVE_OPT_STRING(0, "worker", "NAME", OPT_WORKER, "worker name"),
 *		HIVE_OPT_FLAG(0, "install-hooks", OPT_HOOKS, "install the hook"),
 *		HIVE_OPT_COMMON_HELP(0, "quiet", "no warnings"),
 *		HIVE_OPT_END,
 *	};
 *
 * and in main: hive_cli_parse with a struct hive_cli_tool naming the table; when it sets
 * ctx.want_help, return hive_cli_help(&tool, ctx.want_help, stdout).
 */
struct hive_opt {
	char short_name;       /* 'o' for -o, or 0 */
	const char *long_name; /* "output" for --output, or NULL */
	const char *argh;      /* the value's name in --help ("FILE"); NULL for a flag */
	int key;	       /* what the tool's option callback switches on */
	const char *help;      /* --help's text; '\n' starts a continuation line; NULL ends */
	unsigned flags;	       /* HIVE_OPT_* below */
};

enum {
	HIVE_OPT_OPERAND = 1, /* a line of --help about an operand (argh is its name): no option */
	HIVE_OPT_COMMON = 2,  /* this tool's help text for the common option of that name */
	HIVE_OPT_HIDDEN = 4,  /* parsed, but in neither --help nor --help-options */
};

/* clang-format off */
#define HIVE_OPT_FLAG(s, l, key, help)         {(s), (l), NULL, (key), (help), 0}
#define HIVE_OPT_STRING(s, l, argh, key, help) {(s), (l), (argh), (key), (help), 0}
#define HIVE_OPT_OPERAND(name, help)           {0, NULL, (name), 0, (help), HIVE_OPT_OPERAND}
#define HIVE_OPT_COMMON_HELP(s, l, help)       {(s), (l), NULL, 0, (help), HIVE_OPT_COMMON}
#define HIVE_OPT_END                           {0, NULL, NULL, 0, NULL, 0}
/* clang-format on */

/* A tool's side of the command line, handed to the shared parser. */
struct hive_cli_tool {
	const char *synopsis;	     /* "usage: ..." lines and the description, '\n'-ended */
	const struct hive_opt *opts; /* the tool's table, HIVE_OPT_END terminated; may be NULL */
	const char *epilogue;	     /* after the option lines (exit statuses); may be NULL */
	/* called for each of the tool's options: HIVE_OK or HIVE_EUSAGE with err filled */
	int (*option)(void *tool, int key, const char *arg, struct hive_err *err);
	void *tool; /* handed back to option */
};

/* What --version shows: scripts/version.sh at build time (git describe: "1.2.0" on the tag
 * v1.2.0, "1.2.0-3-g<abbrev>" after it, "0.0.0-N-g<abbrev>" before any tag; README,
 * "Installing a release"). Only lib/version.o depends on it, so a commit relinks the tools
 * without recompiling the rest. */
extern const char hive_version[];
#define HIVE_VERSION hive_version

/*
 * Parse argv: the common options into ctx, the tool's through t->option. *first_arg is
 * the index of the first operand (options may follow operands; "--" ends them). HIVE_OK,
 * or HIVE_EUSAGE with ctx->err saying which option was unknown, lacked its value or was
 * given one it does not take. --help and --help-options only set ctx->want_help.
 */
int hive_cli_parse(struct hive_ctx *ctx, const struct hive_cli_tool *t, int argc, char **argv,
		   int *first_arg);

/*
 * Write what --help prints (what == HIVE_HELP_USAGE) to out, a stream the main chooses:
 * the synopsis, the option lines of the tool's table then of the common table, and the
 * epilogue. For --help-options (HIVE_HELP_OPTIONS), one line per option instead, three
 * tab-separated fields "-o", "--output", "FILE", each empty when the option has none.
 * 0, or HIVE_EENV when out could not be written (a full disk behind a redirection).
 */
int hive_cli_help(const struct hive_cli_tool *t, int what, FILE *out);

/*
 * Resolve the run: chdir for -C, discover the repository, read the config (--config,
 * HIVE_CONFIG, or .hive.yml at the top), and work out the root (--root, HIVE_ROOT, the
 * config's root:, or Docs/hive-mind at the top). Fills ctx; failures per SPEC 2.
 */
int hive_ctx_setup(struct hive_ctx *ctx);

/*
 * Resolve the session id (SPEC 2.1): --session, HIVE_SESSION_ID, GitHub Actions, GitLab
 * CI, then a generated one when `generate` is set. With none, HIVE_EUSAGE saying so.
 * An invalid id is HIVE_EUSAGE. Sets ctx->session_id and *generated.
 */
int hive_ctx_session(struct hive_ctx *ctx, int generate, int *generated);

/* Should the dirty scan run? (HIVE_GIT_DIRTY=0 or git.dirty: false say no.) */
int hive_ctx_want_dirty(const struct hive_ctx *ctx);

/* The worker name: the given one, the config's worker:, or "devops-worker". */
const char *hive_ctx_worker(const struct hive_ctx *ctx, const char *given);

void hive_ctx_free(struct hive_ctx *ctx);

#endif
