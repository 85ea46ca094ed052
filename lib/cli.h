/* cli.h - the options every tool shares (SPEC 2), parsed once, and the context they give */
#ifndef HIVE_CLI_H
#define HIVE_CLI_H

#include <getopt.h>

#include "config.h"
#include "err.h"
#include "log.h"

struct hive_git;

/* Everything a tool run knows, built by hive_cli_parse and hive_ctx_setup. */
struct hive_ctx {
	/* from the command line */
	const char *chdir_opt;   /* -C DIR */
	const char *root_opt;    /* --root */
	const char *session_opt; /* --session */
	const char *config_opt;  /* --config */
	int quiet;               /* -q */
	int want_help;           /* --help: the main prints usage and exits 0 */
	int want_version;        /* --version */
	/* resolved by hive_ctx_setup */
	char *cwd;               /* the directory we run in, after -C */
	struct hive_git *git;    /* NULL outside a repository */
	char *top;               /* top of the work tree, or cwd outside one */
	struct hive_config cfg;  /* .hive.yml (empty when there is none) */
	char *root;              /* absolute root of the hive tree */
	char session_id[HIVE_ID_MAX + 1]; /* "" until resolved */
	struct hive_err err;     /* the last failure */
};

/* A tool's own options, handed to the shared parser. */
struct hive_cli_tool {
	const char *usage;         /* the whole usage text, shown by --help */
	const char *shortopts;     /* getopt letters of the tool's own short options */
	const struct option *longopts; /* the tool's own long options, {0} terminated */
	/* called for each of the tool's options: HIVE_OK or HIVE_EUSAGE with err filled */
	int (*option)(void *tool, int key, const char *arg, struct hive_err *err);
	void *tool;
};

#define HIVE_VERSION "0.1.0"

/*
 * Parse argv: the common options into ctx, the tool's through t->option. *first_arg is
 * the index of the first operand. HIVE_OK, or HIVE_EUSAGE (err filled) on a bad flag.
 */
int hive_cli_parse(struct hive_ctx *ctx, const struct hive_cli_tool *t, int argc, char **argv,
		   int *first_arg);

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
