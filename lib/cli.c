/* cli.c - the shared options of every tool, and resolving the run's repo, config, root and session */
#include "cli.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cictx.h"
#include "gitctx.h"

enum { OPT_ROOT = 1000, OPT_SESSION, OPT_CONFIG, OPT_HELP, OPT_VERSION };

static const struct option common_long[] = {
	{"root", required_argument, NULL, OPT_ROOT},
	{"session", required_argument, NULL, OPT_SESSION},
	{"config", required_argument, NULL, OPT_CONFIG},
	{"quiet", no_argument, NULL, 'q'},
	{"help", no_argument, NULL, 'h'},
	{"version", no_argument, NULL, OPT_VERSION},
};
#define NCOMMON (sizeof(common_long) / sizeof(common_long[0]))

int hive_cli_parse(struct hive_ctx *ctx, const struct hive_cli_tool *t, int argc, char **argv,
		   int *first_arg)
{
	struct option longopts[64];
	char shortopts[64];
	size_t n = 0, i;
	int c, rc;

	for (i = 0; i < NCOMMON; i++)
		longopts[n++] = common_long[i];
	for (i = 0; t->longopts && t->longopts[i].name && n < 63; i++)
		longopts[n++] = t->longopts[i];
	memset(&longopts[n], 0, sizeof(longopts[n]));
	/* options may follow operands (hive-emit TYPE --resource R k=v), as with git;
	 * "--" ends them. ':' reports a missing argument distinctly. */
	snprintf(shortopts, sizeof(shortopts), ":C:qh%s", t->shortopts ? t->shortopts : "");
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		switch (c) {
		case 'C':
			ctx->chdir_opt = optarg;
			break;
		case OPT_ROOT:
			ctx->root_opt = optarg;
			break;
		case OPT_SESSION:
			ctx->session_opt = optarg;
			break;
		case OPT_CONFIG:
			ctx->config_opt = optarg;
			break;
		case 'q':
			ctx->quiet = 1;
			break;
		case 'h':
			ctx->want_help = 1;
			break;
		case OPT_VERSION:
			ctx->want_version = 1;
			break;
		case ':':
			return hive_err_set(&ctx->err, HIVE_EUSAGE, "%s: needs a value (see --help)",
					    argv[optind - 1]);
		case '?':
			if (optopt)
				return hive_err_set(&ctx->err, HIVE_EUSAGE,
						    "unknown option -%c (see --help)", optopt);
			return hive_err_set(&ctx->err, HIVE_EUSAGE,
					    "unknown option %s (see --help)", argv[optind - 1]);
		default:
			if (!t->option)
				return hive_err_set(&ctx->err, HIVE_EUSAGE, "unknown option");
			if ((rc = t->option(t->tool, c, optarg, &ctx->err)))
				return rc;
		}
	}
	*first_arg = optind;
	return HIVE_OK;
}

/* An absolute version of path, relative paths taken from base. Caller frees. */
static char *absolute(const char *base, const char *path)
{
	char *out;

	if (path[0] == '/')
		return strdup(path);
	if (asprintf(&out, "%s/%s", base, path) < 0)
		return NULL;
	return out;
}

int hive_ctx_setup(struct hive_ctx *ctx)
{
	const char *cfgpath, *root;
	char buf[PATH_MAX];
	char *path = NULL;
	int rc, explicit_cfg = 0;

	hive_config_init(&ctx->cfg);
	if (ctx->chdir_opt && chdir(ctx->chdir_opt) < 0)
		return hive_err_sys(&ctx->err, HIVE_EUSAGE, errno, "-C %s", ctx->chdir_opt);
	if (!getcwd(buf, sizeof(buf)))
		return hive_err_sys(&ctx->err, HIVE_EENV, errno, "cannot read the current directory");
	if (!(ctx->cwd = strdup(buf)))
		return hive_err_set(&ctx->err, HIVE_EENV, "out of memory");
	if ((rc = hive_git_open(ctx->cwd, &ctx->git, &ctx->err)))
		return rc;
	ctx->top = strdup(hive_git_workdir(ctx->git) ? hive_git_workdir(ctx->git) : ctx->cwd);
	if (!ctx->top)
		return hive_err_set(&ctx->err, HIVE_EENV, "out of memory");

	cfgpath = ctx->config_opt;
	if (!cfgpath && (cfgpath = getenv("HIVE_CONFIG")) && !*cfgpath)
		cfgpath = NULL;
	if (cfgpath) {
		explicit_cfg = 1;
		path = absolute(ctx->cwd, cfgpath);
	} else {
		path = absolute(ctx->top, ".hive.yml");
	}
	if (!path)
		return hive_err_set(&ctx->err, HIVE_EENV, "out of memory");
	rc = hive_config_load(&ctx->cfg, explicit_cfg ? cfgpath : path, !explicit_cfg, &ctx->err);
	free(path);
	if (rc)
		return rc;

	if ((root = ctx->root_opt) || ((root = getenv("HIVE_ROOT")) && *root))
		ctx->root = absolute(ctx->cwd, root);
	else if (ctx->cfg.root)
		ctx->root = absolute(ctx->top, ctx->cfg.root);
	else
		ctx->root = absolute(ctx->top, "Docs/hive-mind");
	if (!ctx->root)
		return hive_err_set(&ctx->err, HIVE_EENV, "out of memory");
	return HIVE_OK;
}

int hive_ctx_session(struct hive_ctx *ctx, int generate, int *generated)
{
	const char *id = ctx->session_opt, *what = "--session";
	char buf[192];
	int rc;

	*generated = 0;
	if (!id && (id = getenv("HIVE_SESSION_ID")) && *id)
		what = "HIVE_SESSION_ID";
	else if (!ctx->session_opt)
		id = NULL;
	if (!id && (id = hive_ci_session_id(buf, sizeof(buf))))
		what = "the CI's session id";
	if (!id && generate) {
		if ((rc = hive_id_generate(buf, &ctx->err)))
			return rc;
		id = buf;
		*generated = 1;
	}
	if (!id)
		return hive_err_set(&ctx->err, HIVE_EUSAGE,
				    "no session: pass --session ID or set HIVE_SESSION_ID (hive-init "
				    "prints one)");
	if ((rc = hive_id_check("session id", id, strlen(id), &ctx->err))) {
		hive_err_prefix(&ctx->err, "%s", what);
		return rc;
	}
	snprintf(ctx->session_id, sizeof(ctx->session_id), "%s", id);
	return HIVE_OK;
}

int hive_ctx_want_dirty(const struct hive_ctx *ctx)
{
	const char *v = getenv("HIVE_GIT_DIRTY");

	if (v && (!strcmp(v, "0") || !strcmp(v, "false")))
		return 0;
	return ctx->cfg.git_dirty != 0;
}

const char *hive_ctx_worker(const struct hive_ctx *ctx, const char *given)
{
	if (given)
		return given;
	if (ctx->cfg.worker)
		return ctx->cfg.worker;
	return "devops-worker";
}

void hive_ctx_free(struct hive_ctx *ctx)
{
	hive_git_free(ctx->git);
	hive_config_free(&ctx->cfg);
	free(ctx->cwd);
	free(ctx->top);
	free(ctx->root);
	ctx->git = NULL;
	ctx->cwd = ctx->top = ctx->root = NULL;
}
