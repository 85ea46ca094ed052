/* hive-mcp.c - hive as a Model Context Protocol server on stdio: start, emit, check, show and
 * finish a session as tools */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../lib/cli.h"
#include "../lib/mcp.h"
#include "../lib/util.h"

static const char synopsis[] =
	"usage: hive-mcp [options]\n"
	"\n"
	"A Model Context Protocol server on standard input and output (JSON-RPC 2.0, one\n"
	"message a line) with the tools hive_start, hive_emit, hive_check, hive_show and\n"
	"hive_finish: each is the library call hive-init, hive-emit, hive-check and\n"
	"hive-runbook make. Runs until standard input ends.\n"
	"\n";

static const struct hive_opt mcp_options[] = {
	HIVE_OPT_COMMON_HELP(0, "session",
			     "the session a tool call that names none works on\n"
			     "(env HIVE_SESSION_ID; CI ids)"),
	HIVE_OPT_COMMON_HELP(0, "quiet", "no notes on stderr"),
	HIVE_OPT_END,
};

static const char epilogue[] =
	"\n"
	"A message longer than 1 MiB is answered with JSON-RPC error -32600 and skipped.\n"
	"\n"
	"Exit status: 0 when standard input ends, 2 usage, 3 standard input or output failed.\n";

static int mcp_option(void *tool, int key, const char *arg, struct hive_err *err)
{
	(void)tool;
	(void)key;
	(void)arg;
	return hive_err_set(err, HIVE_EUSAGE, "unknown option");
}

/* One reply line on stdout, flushed: the client waits for it. -1 when stdout is gone. */
static int send_reply(const struct hive_buf *reply)
{
	if (!reply->len)
		return 0;
	if (fwrite(reply->p, 1, reply->len, stdout) != reply->len || putchar('\n') == EOF ||
	    fflush(stdout) != 0)
		return -1;
	return 0;
}

/* Read messages from fd 0 until it ends, answering each: a line is held until its newline
 * only up to HIVE_MCP_MESSAGE_MAX bytes; past that the rest of it is read and dropped. */
static int serve(struct hive_mcp_server *s, struct hive_err *err)
{
	static char chunk[65536];
	struct hive_buf line = {0}, reply = {0};
	int skipping = 0, rc = HIVE_OK;
	ssize_t n;

	for (;;) {
		char *p, *nl;

		n = read(0, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = hive_err_sys(err, HIVE_EENV, errno, "stdin");
			break;
		}
		if (n == 0)
			break;
		for (p = chunk; p < chunk + n; p = nl + 1) {
			size_t take;

			nl = memchr(p, '\n', (size_t)(chunk + n - p));
			take = (size_t)((nl ? nl : chunk + n) - p);
			if (!skipping && line.len + take > HIVE_MCP_MESSAGE_MAX) {
				skipping = 1;
				line.len = 0;
			}
			if (!skipping)
				hive_buf_add(&line, p, take);
			if (!nl)
				break;
			if (skipping)
				hive_mcp_oversize(&reply);
			else if (line.len && !(line.len == 1 && line.p[0] == '\r'))
				hive_mcp_handle(s, line.p, line.len, &reply);
			else
				reply.len = 0;
			skipping = 0;
			line.len = 0;
			if (line.oom || reply.oom) {
				rc = hive_err_set(err, HIVE_EENV, "out of memory");
				goto out;
			}
			if (send_reply(&reply) < 0) {
				rc = hive_err_set(err, HIVE_EENV,
						  "cannot write to standard output");
				goto out;
			}
		}
	}
	/* a last message without its newline is still a message */
	if (!rc && (line.len || skipping)) {
		if (skipping)
			hive_mcp_oversize(&reply);
		else
			hive_mcp_handle(s, line.p, line.len, &reply);
		if (send_reply(&reply) < 0)
			rc = hive_err_set(err, HIVE_EENV, "cannot write to standard output");
	}
out:
	hive_buf_free(&line);
	hive_buf_free(&reply);
	return rc;
}

int main(int argc, char **argv)
{
	struct hive_cli_tool tool = {synopsis, mcp_options, epilogue, mcp_option, NULL};
	struct hive_ctx ctx = {0};
	struct hive_mcp_server s = {0};
	int rc, first;

	hive_progname = "hive-mcp";
	if ((rc = hive_cli_parse(&ctx, &tool, argc, argv, &first)))
		goto fail;
	if (ctx.want_help)
		return hive_cli_help(&tool, ctx.want_help, stdout);
	if (ctx.want_version) {
		printf("hive-mcp %s\n", HIVE_VERSION);
		return 0;
	}
	if (first < argc) {
		rc = hive_err_set(&ctx.err, HIVE_EUSAGE, "unexpected argument %s (see --help)",
				  argv[first]);
		goto fail;
	}
	/* -C once, here: every call then starts from the same folder */
	if (ctx.chdir_opt && chdir(ctx.chdir_opt) < 0) {
		rc = hive_err_sys(&ctx.err, HIVE_EUSAGE, errno, "-C %s", ctx.chdir_opt);
		goto fail;
	}
	s.root_opt = ctx.root_opt;
	s.config_opt = ctx.config_opt;
	s.session_opt = ctx.session_opt;
	s.quiet = ctx.quiet;
	if ((rc = serve(&s, &ctx.err)))
		goto fail;
	goto done;
fail:
	hive_err_print(&ctx.err);
done:
	hive_ctx_free(&ctx);
	return rc;
}
