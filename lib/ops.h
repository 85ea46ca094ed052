/* ops.h - the tools' operations as one library call each (start, emit: ops.c; finish, check,
 * show: opsread.c): what the mains, hive-emit --from claude-code and hive-mcp all call */
#ifndef HIVE_OPS_H
#define HIVE_OPS_H

#include <stddef.h>
#include <stdio.h>

#include "cli.h"
#include "err.h"
#include "start.h"
#include "util.h"

struct cJSON;
struct hive_args_events;
struct hive_facts;
struct hive_gate;
struct hive_findings;

/*
 * Each call takes a context that hive_ctx_setup has resolved and whose session id is set
 * (hive_ctx_session, or a caller that derived and checked it), and reports failures in
 * ctx->err with the status returned (SPEC 2's 0/1/2/3). Notes and warnings go to stderr
 * through hive_note and hive_warn (ctx->quiet silences them); nothing is ever written to
 * stdout: what a main prints is handed back.
 */

/* git and CI context for one run, redacted (the stamp every written event carries): *git and
 * *ci are the caller's. HIVE_EUSAGE/HIVE_EENV as hive_git_context and the redactor fail. */
int hive_op_context(struct hive_ctx *ctx, struct cJSON **git, struct cJSON **ci);

/*
 * hive-init's start (SPEC 5.1): the worker's profile (worker NULL: hive_ctx_worker), the
 * requirements, git and CI context, redacted, then hive_start. res is the caller's
 * (hive_start_result_clear). Everything is read and checked before anything is written.
 */
int hive_op_start(struct hive_ctx *ctx, const char *worker, struct hive_start_result *res);

/*
 * hive-emit's append: git and CI context (once, redacted), then one transaction adding
 * every event of b (already prepared: hive_args_prepare). deliver, when not NULL, is called
 * with the lines as written while the lock is still held; if it fails (non-zero) the lines
 * are taken back out of the log and the call fails with deliver's error (set in err by
 * deliver). dry_run: validated and delivered, never committed. A session that does not
 * exist is HIVE_EUSAGE with ctx->err.sys ENOENT, as hive_txn_begin says (the caller may
 * start it and call again).
 */
int hive_op_emit(struct hive_ctx *ctx, const struct hive_args_events *b, int dry_run,
		 int (*deliver)(const char *lines, size_t len, void *arg, struct hive_err *err),
		 void *arg);

/* The same into lane `lane` (lanes/<lane>.jsonl, SPEC 11; NULL: EVENTS.jsonl), and with join
 * a session_joined first (every lane's new lines: hive_txn_join; b may then be empty). */
int hive_op_emit_lane(struct hive_ctx *ctx, const struct hive_args_events *b, int dry_run,
		      const char *lane, int join,
		      int (*deliver)(const char *lines, size_t len, void *arg,
				     struct hive_err *err),
		      void *arg);

/*
 * hive-runbook --finish (status NULL or "success", or "failure"): hive_finish with git and
 * CI context and the configured signing key. *was as hive_finish's; *verdict (the caller's,
 * or NULL when not wanted) the gate's findings on the finished session. findings: where a
 * refusal's findings go (stderr for a main). With preview not NULL (--dry-run) nothing is
 * written: hive_finish_preview, *preview the facts the reports would be made from.
 */
int hive_op_finish(struct hive_ctx *ctx, const char *status, FILE *findings, const char **was,
		   struct cJSON **verdict, struct hive_facts **preview);

/*
 * hive-runbook without --finish: the report `which` (runbook, deployment, incident,
 * infrastructure or all) of the session in `format` (markdown, json or prometheus),
 * scrubbed of secrets, appended to out, read under the session's shared lock.
 */
int hive_op_show(struct hive_ctx *ctx, const char *which, const char *format, struct hive_buf *out);

/*
 * What every hive-check run reads sessions with: g (the caller's, zeroed here) takes over
 * the findings sink f (hive_findings_new) and gets the redactor, the trust.allowed_signers
 * of the configuration, the rules and where the configuration is. On failure (HIVE_EUSAGE
 * for an allowed_signers file it cannot read, HIVE_EENV out of memory) f is freed too and
 * g left zeroed; otherwise release it all with hive_op_gate_close.
 */
int hive_op_gate_open(struct hive_ctx *ctx, struct hive_findings *f, struct hive_gate *g);

/* Free what hive_op_gate_open put in g. Accepts NULL and a zeroed gate. */
void hive_op_gate_close(struct hive_gate *g);

/*
 * hive-check on the context's session (all: every session under the root instead) with
 * findings written to out in `format`; *errors and *warnings count them. HIVE_OK when
 * the check ran (findings are not a failure here: the caller decides, as hive-check's
 * exit status does), else the error that stopped it.
 */
int hive_op_check(struct hive_ctx *ctx, int all, const char *format, FILE *out, size_t *errors,
		  size_t *warnings);

#endif
