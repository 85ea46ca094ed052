/* cli.c - option tables (getopt, --help), and resolving the run: repo, config, root, session */
#include "cli.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cictx.h"
#include "gitctx.h"

/* The common options of SPEC 2: keys of this table, not the tools'. */
enum {
	COMMON_CHDIR = 1,
	COMMON_ROOT,
	COMMON_SESSION,
	COMMON_CONFIG,
	COMMON_QUIET,
	COMMON_HELP,
	COMMON_VERSION,
	COMMON_HELP_OPTIONS,
};

static const struct hive_opt common_opts[] = {
	HIVE_OPT_STRING('C', NULL, "DIR", COMMON_CHDIR, "run as if started in DIR"),
	HIVE_OPT_STRING(0, "root", "DIR", COMMON_ROOT,
			"hive root (env HIVE_ROOT; default Docs/hive-mind at the top)"),
	HIVE_OPT_STRING(0, "session", "ID", COMMON_SESSION,
			"session id (env HIVE_SESSION_ID; CI ids)"),
	HIVE_OPT_STRING(0, "config", "FILE", COMMON_CONFIG,
			"configuration (env HIVE_CONFIG; default .hive.yml at the top)"),
	HIVE_OPT_FLAG('q', "quiet", COMMON_QUIET, "no warnings or notes on stderr"),
	HIVE_OPT_FLAG('h', "help", COMMON_HELP, "show this help"),
	HIVE_OPT_FLAG(0, "version", COMMON_VERSION, "show the version"),
	/* the option tables for the build's completion generator (scripts/completion.sh) */
	{0, "help-options", NULL, COMMON_HELP_OPTIONS, "list the options, one a line",
	 HIVE_OPT_HIDDEN},
	HIVE_OPT_END,
};

#define MAX_OPTS 64 /* the tool's options and the common ones together */

/* One option of the merged table: where it came from. */
struct opt_ref {
	const struct hive_opt *o;
	int common; /* from common_opts: cli.c handles it */
};

/* Is o an option getopt should see (not an operand line, not a help override)? */
static int is_option(const struct hive_opt *o)
{
	return !(o->flags & (HIVE_OPT_OPERAND | HIVE_OPT_COMMON));
}

/* "--output", else "-o": how messages name o. Returns buf. */
static const char *opt_name(char *buf, size_t size, const struct hive_opt *o)
{
	if (o->long_name)
		snprintf(buf, size, "--%s", o->long_name);
	else
		snprintf(buf, size, "-%c", o->short_name);
	return buf;
}

/* Does the table entry x name the option o (by its letter or its long name)? */
static int same_option(const struct hive_opt *x, const struct hive_opt *o)
{
	return (x->short_name && x->short_name == o->short_name) ||
	       (x->long_name && o->long_name && !strcmp(x->long_name, o->long_name));
}

/* The common option a tool's HIVE_OPT_COMMON entry x names, or NULL. */
static const struct hive_opt *find_common(const struct hive_opt *x)
{
	const struct hive_opt *o;

	for (o = common_opts; o->help; o++)
		if (!(o->flags & HIVE_OPT_HIDDEN) && same_option(x, o))
			return o;
	return NULL;
}

/* The tool's help text for the common option o, else o's own. */
static const char *common_help(const struct hive_cli_tool *t, const struct hive_opt *o)
{
	const struct hive_opt *x;

	for (x = t->opts; x && x->help; x++)
		if ((x->flags & HIVE_OPT_COMMON) && same_option(x, o))
			return x->help;
	return o->help;
}

/* The tool's options then the common ones into refs[]; their count, or -1 with err filled
 * when the tables are too long or name an option twice (a programming error). */
static int merge_tables(const struct hive_cli_tool *t, struct opt_ref *refs, struct hive_err *err)
{
	const struct hive_opt *tables[2] = {t->opts, common_opts};
	char name[64];
	int n = 0, i, j, k;

	for (k = 0; k < 2; k++) {
		for (i = 0; tables[k] && tables[k][i].help; i++) {
			const struct hive_opt *o = &tables[k][i];

			if ((o->flags & HIVE_OPT_COMMON) && !find_common(o)) {
				hive_err_set(err, HIVE_EENV, "option table: no common option %s",
					     opt_name(name, sizeof(name), o));
				return -1;
			}
			if (!is_option(o))
				continue;
			/* getopt gives ':', '?', '-' and 'W' meanings of their own */
			if (o->short_name && !isalnum((unsigned char)o->short_name)) {
				hive_err_set(err, HIVE_EENV, "option table: -%c is not a letter",
					     o->short_name);
				return -1;
			}
			if (o->short_name == 'W') {
				hive_err_set(err, HIVE_EENV, "option table: -W is getopt's");
				return -1;
			}
			if (n == MAX_OPTS) {
				hive_err_set(err, HIVE_EENV, "option table: over %d options",
					     MAX_OPTS);
				return -1;
			}
			for (j = 0; j < n; j++) {
				const struct hive_opt *p = refs[j].o;

				if (o->short_name && o->short_name == p->short_name) {
					hive_err_set(err, HIVE_EENV, "option table: -%c twice",
						     o->short_name);
					return -1;
				}
				if (o->long_name && p->long_name &&
				    !strcmp(o->long_name, p->long_name)) {
					hive_err_set(err, HIVE_EENV, "option table: --%s twice",
						     o->long_name);
					return -1;
				}
			}
			refs[n].o = o;
			refs[n].common = (k == 1);
			n++;
		}
	}
	return n;
}

/* Set the common option o (with its value) in ctx. */
static void set_common(struct hive_ctx *ctx, const struct hive_opt *o, const char *arg)
{
	switch (o->key) {
	case COMMON_CHDIR:
		ctx->chdir_opt = arg;
		break;
	case COMMON_ROOT:
		ctx->root_opt = arg;
		break;
	case COMMON_SESSION:
		ctx->session_opt = arg;
		break;
	case COMMON_CONFIG:
		ctx->config_opt = arg;
		break;
	case COMMON_QUIET:
		ctx->quiet = 1;
		break;
	case COMMON_HELP:
		if (!ctx->want_help)
			ctx->want_help = HIVE_HELP_USAGE;
		break;
	case COMMON_VERSION:
		ctx->want_version = 1;
		break;
	case COMMON_HELP_OPTIONS:
		ctx->want_help = HIVE_HELP_OPTIONS;
		break;
	}
}

/* The message for an unknown or ambiguous long option arg ("--bogus=1"): getopt_long
 * says only '?', so the table is searched for the options arg is a prefix of. */
static int unknown_long(struct hive_err *err, const struct opt_ref *refs, int n, const char *arg)
{
	size_t len = strcspn(arg + 2, "=");
	char could[256] = "";
	size_t used = 0;
	int i, found = 0;

	for (i = 0; i < n; i++) {
		const char *l = refs[i].o->long_name;

		if (!l || (refs[i].o->flags & HIVE_OPT_HIDDEN) || strncmp(l, arg + 2, len))
			continue;
		if (used < sizeof(could))
			used += (size_t)snprintf(could + used, sizeof(could) - used, "%s--%s",
						 found ? ", " : "", l);
		found++;
	}
	if (found > 1)
		return hive_err_set(err, HIVE_EUSAGE,
				    "ambiguous option --%.*s: could be %s (see --help)", (int)len,
				    arg + 2, could);
	return hive_err_set(err, HIVE_EUSAGE, "unknown option --%.*s (see --help)", (int)len,
			    arg + 2);
}

int hive_cli_parse(struct hive_ctx *ctx, const struct hive_cli_tool *t, int argc, char **argv,
		   int *first_arg)
{
	struct opt_ref refs[MAX_OPTS];
	struct option longopts[MAX_OPTS + 1];
	char shortopts[2 * MAX_OPTS + 2], name[64];
	const struct hive_opt *o;
	size_t ns = 0;
	int n, nl = 0, i, c, rc;

	if ((n = merge_tables(t, refs, &ctx->err)) < 0)
		return ctx->err.status;
	/* ':' first: a missing value is told apart from an unknown option */
	shortopts[ns++] = ':';
	for (i = 0; i < n; i++) {
		o = refs[i].o;
		if (o->short_name) {
			shortopts[ns++] = o->short_name;
			if (o->argh)
				shortopts[ns++] = ':';
		}
		if (o->long_name) {
			/* val 256 + i: an index into refs, clear of every short letter */
			longopts[nl].name = o->long_name;
			longopts[nl].has_arg = o->argh ? required_argument : no_argument;
			longopts[nl].flag = NULL;
			longopts[nl].val = 256 + i;
			nl++;
		}
	}
	shortopts[ns] = '\0';
	memset(&longopts[nl], 0, sizeof(longopts[nl]));

	/* options may follow operands (hive-emit TYPE --resource R k=v), as with git;
	 * "--" ends them */
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		if (c == ':' || c == '?') {
			/* optopt: the option's val (long or short), 0 for an unknown long one */
			o = NULL;
			if (optopt >= 256 && optopt < 256 + n)
				o = refs[optopt - 256].o;
			for (i = 0; !o && optopt > 0 && optopt < 256 && i < n; i++)
				if (refs[i].o->short_name == optopt)
					o = refs[i].o;
			/* named as it was given: "-o", or "--output" for "--out" */
			if (c == ':' && optopt < 256)
				return hive_err_set(&ctx->err, HIVE_EUSAGE,
						    "-%c: needs a value (see --help)", optopt);
			if (c == ':')
				return hive_err_set(
					&ctx->err, HIVE_EUSAGE, "%s: needs a value (see --help)",
					o ? opt_name(name, sizeof(name), o) : argv[optind - 1]);
			if (o && optopt >= 256)
				return hive_err_set(&ctx->err, HIVE_EUSAGE,
						    "%s: takes no value (see --help)",
						    opt_name(name, sizeof(name), o));
			if (optopt)
				return hive_err_set(&ctx->err, HIVE_EUSAGE,
						    "unknown option -%c (see --help)", optopt);
			return unknown_long(&ctx->err, refs, n, argv[optind - 1]);
		}
		o = NULL;
		if (c >= 256 && c < 256 + n)
			i = c - 256;
		else
			for (i = 0; i < n && refs[i].o->short_name != c; i++)
				;
		if (i == n)
			return hive_err_set(&ctx->err, HIVE_EUSAGE, "unknown option (see --help)");
		o = refs[i].o;
		if (refs[i].common) {
			set_common(ctx, o, optarg);
			continue;
		}
		if (!t->option)
			return hive_err_set(&ctx->err, HIVE_EUSAGE, "unknown option (see --help)");
		if ((rc = t->option(t->tool, o->key, optarg, &ctx->err)))
			return rc;
	}
	*first_arg = optind;
	return HIVE_OK;
}

#define HELP_COLUMN 23 /* where the help text of an option line starts */

/* One entry of --help: "  -o, --output FILE    help", the help's further lines indented
 * to the same column, and the help on a line of its own when the names are too long. */
static void put_help_line(FILE *out, const struct hive_opt *o, const char *help)
{
	char names[128];
	const char *nl;
	int w;

	char sh[3] = {'-', o->short_name, '\0'};

	if (o->flags & HIVE_OPT_OPERAND)
		snprintf(names, sizeof(names), "%s", o->argh);
	else
		snprintf(names, sizeof(names), "%s%s%s%s%s%s", o->short_name ? sh : "",
			 o->short_name && o->long_name ? ", " : "", o->long_name ? "--" : "",
			 o->long_name ? o->long_name : "", o->argh ? " " : "",
			 o->argh ? o->argh : "");
	w = fprintf(out, "  %s", names);
	if (w > HELP_COLUMN - 2) {
		fputc('\n', out);
		w = 0;
	}
	fprintf(out, "%*s", HELP_COLUMN - w, "");
	while ((nl = strchr(help, '\n'))) {
		fprintf(out, "%.*s\n%*s", (int)(nl - help), help, HELP_COLUMN, "");
		help = nl + 1;
	}
	fprintf(out, "%s\n", help);
}

int hive_cli_help(const struct hive_cli_tool *t, int what, FILE *out)
{
	const struct hive_opt *tables[2] = {t->opts, common_opts}, *o;
	int k;

	if (what == HIVE_HELP_USAGE && t->synopsis)
		fputs(t->synopsis, out);
	for (k = 0; k < 2; k++) {
		for (o = tables[k]; o && o->help; o++) {
			if (o->flags & (HIVE_OPT_HIDDEN | HIVE_OPT_COMMON))
				continue;
			if (what == HIVE_HELP_USAGE)
				put_help_line(out, o, k ? common_help(t, o) : o->help);
			else if (!(o->flags & HIVE_OPT_OPERAND))
				fprintf(out, "%s%.1s\t%s%s\t%s\n", o->short_name ? "-" : "",
					&o->short_name, o->long_name ? "--" : "",
					o->long_name ? o->long_name : "", o->argh ? o->argh : "");
		}
	}
	if (what == HIVE_HELP_USAGE && t->epilogue)
		fputs(t->epilogue, out);
	if (fflush(out) == EOF || ferror(out))
		return HIVE_EENV;
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
	const char *cfgpath, *root, *what = "the default root";
	char buf[PATH_MAX], whatbuf[4100];
	char *path = NULL;
	int rc, explicit_cfg = 0;

	hive_config_init(&ctx->cfg);
	if (ctx->chdir_opt && chdir(ctx->chdir_opt) < 0)
		return hive_err_sys(&ctx->err, HIVE_EUSAGE, errno, "-C %s", ctx->chdir_opt);
	if (!getcwd(buf, sizeof(buf)))
		return hive_err_sys(&ctx->err, HIVE_EENV, errno,
				    "cannot read the current directory");
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

	if ((root = ctx->root_opt) || ((root = getenv("HIVE_ROOT")) && *root)) {
		ctx->root = absolute(ctx->cwd, root);
		ctx->root_given = 1;
		what = ctx->root_opt ? "--root" : "HIVE_ROOT";
	} else if (ctx->cfg.root) {
		ctx->root = absolute(ctx->top, ctx->cfg.root);
		snprintf(whatbuf, sizeof(whatbuf), "root: in %.4000s,", ctx->cfg.path);
		what = whatbuf;
	} else {
		ctx->root = absolute(ctx->top, "Docs/hive-mind");
	}
	if (!ctx->root)
		return hive_err_set(&ctx->err, HIVE_EENV, "out of memory");
	/* inside a repository the root must be in its work tree (SPEC 9) */
	if (hive_git_workdir(ctx->git)) {
		char *inside, *real = NULL, *rtop = NULL;
		const char *below;
		if ((rc = hive_root_inside(ctx->top, ctx->root, what, &inside, &ctx->err)))
			return rc;
		free(ctx->root);
		ctx->root = inside;
		/* where the gate finds the configuration in a commit (SPEC 9) */
		if (!explicit_cfg) {
			ctx->config_rel = strdup(".hive.yml");
		} else if ((real = realpath(ctx->cfg.path, NULL)) &&
			   (rtop = realpath(ctx->top, NULL)) &&
			   (below = hive_path_under(rtop, real))) {
			ctx->config_rel = strdup(below);
		}
		free(real);
		free(rtop);
	}
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
		what = "generated";
	}
	if (!id)
		return hive_err_set(
			&ctx->err, HIVE_EUSAGE,
			"no session: pass --session ID or set HIVE_SESSION_ID (hive-init "
			"prints one)");
	if ((rc = hive_id_check("session id", id, strlen(id), &ctx->err))) {
		hive_err_prefix(&ctx->err, "%s", what);
		return rc;
	}
	snprintf(ctx->session_id, sizeof(ctx->session_id), "%s", id);
	ctx->session_from = what;
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
	free(ctx->config_rel);
	ctx->git = NULL;
	ctx->cwd = ctx->top = ctx->root = NULL;
}
