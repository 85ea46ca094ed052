/* agent.h - agents recording themselves: a Claude Code (or Codex) hook payload read as a hive
 * event, the PreToolUse policy, and the hooks merged into .claude/settings.json */
#ifndef HIVE_AGENT_H
#define HIVE_AGENT_H

#include <stddef.h>

#include "config.h"
#include "err.h"
#include "id.h"

struct cJSON;
struct hive_redactor;

/* What is read of what a tool was given before its summary is redacted and cut to
 * HIVE_TOOL_SUMMARY_MAX (event.h): a secret that straddles the cut is still whole when the
 * redactor looks at it, since no secret shape is anywhere near this long. */
#define HIVE_AGENT_SCAN_MAX (16 * 1024)

/* What a hook call asks of hive. */
enum hive_agent_kind {
	HIVE_AGENT_OTHER, /* Stop, UserPromptSubmit, Notification, …: nothing is recorded */
	HIVE_AGENT_START, /* SessionStart: start or rejoin the session */
	HIVE_AGENT_PRE,	  /* PreToolUse: the policy may refuse; nothing is recorded */
	HIVE_AGENT_TOOL,  /* PostToolUse, PostToolUseFailure: a tool_used event */
	HIVE_AGENT_END,	  /* SessionEnd: finish the session */
};

/* One hook payload, read. Free with hive_agent_call_clear. */
struct hive_agent_call {
	enum hive_agent_kind kind;
	const char *agent;		  /* "claude-code" or "codex" (static) */
	const char *hook;		  /* hook_event_name (borrowed from payload) */
	const char *source;		  /* SessionStart's source, or NULL (borrowed) */
	const char *cwd;		  /* the payload's cwd, or NULL (borrowed) */
	const char *tool;		  /* tool_name, or NULL (borrowed) */
	char session_id[HIVE_ID_MAX + 1]; /* hive's id for the agent's session */
	struct cJSON *payload;		  /* the whole payload (owned) */
};

/*
 * Read one hook payload, buf[0..len), sent by `agent` ("claude-code" or "codex"): strict
 * JSON (json.h), an object with hook_event_name and session_id strings. The session id is
 * "<prefix>-<session_id>" (prefix "claude" or "codex"), held to the id rule (id.h): a
 * session_id with other characters, too long or with a secret's shape is refused.
 * HIVE_EUSAGE naming the field; HIVE_EENV out of memory. call is the caller's either way
 * (hive_agent_call_clear).
 */
int hive_agent_read(const char *agent, const char *buf, size_t len, struct hive_agent_call *call,
		    struct hive_err *err);

/*
 * The summary of what the tool was given (Bash: the command; Read, Write, Edit, …: the file
 * path; WebFetch: the url; Grep and Glob: the pattern; WebSearch: the query; anything else:
 * tool_input as compact JSON, its values under secret key names redacted by red first when
 * red is not NULL, adding to *redacted), at most HIVE_AGENT_SCAN_MAX bytes of it (cut at a
 * character boundary), not otherwise redacted: *out is the caller's. *whole is the size of
 * the text it was taken from. HIVE_EENV out of memory.
 */
int hive_agent_input_summary(const struct hive_agent_call *call, struct hive_redactor *red,
			     int *redacted, char **out, size_t *whole, struct hive_err *err);

/*
 * A tool call's tool_used details (SPEC 12): resource the tool's name, status success
 * (PostToolUse) or failure (PostToolUseFailure), configuration {agent, hook, tool_use_id,
 * input, input_bytes, input_truncated, error}: input and error redacted by red first, then
 * cut to HIVE_TOOL_SUMMARY_MAX bytes at a character boundary (ending "…"). tool_response is
 * never looked at beyond the parse. *redacted counts the replacements. *out the caller's;
 * HIVE_EUSAGE for a payload without tool_name; HIVE_EENV out of memory.
 */
int hive_agent_tool_details(const struct hive_agent_call *call, struct hive_redactor *red,
			    struct cJSON **out, int *redacted, struct hive_err *err);

/*
 * policy.agent_require_session: the first pattern that "<tool_name> <input summary>" of a
 * PreToolUse matches (borrowed from cfg), or NULL when none does or none is configured.
 * A pattern that cannot be matched (match limit) counts as matching: a policy fails closed.
 */
const char *hive_agent_policy_match(const struct hive_config *cfg,
				    const struct hive_agent_call *call);

/* The hook command --install-agent-hooks installs, and the events it installs it for. */
#define HIVE_AGENT_HOOK_COMMAND "hive-emit --from claude-code"
extern const char *const hive_agent_hook_events[];

/* What hive_agent_hooks_install did. */
struct hive_agent_hooks {
	char *path;  /* <top>/.claude/settings.json (the caller's) */
	int created; /* the file did not exist */
	int added;   /* events hive's hook was added to (0: nothing written) */
	int kept;    /* hooks of other commands that were there, all kept */
};

/*
 * hive-init --install-agent-hooks: merge hive's hook into <top>/.claude/settings.json for
 * every event of hive_agent_hook_events, keeping everything already there (every other key,
 * every other hook, in order). An event that already runs HIVE_AGENT_HOOK_COMMAND is left
 * alone, so running it twice changes nothing (the file is not rewritten). The file is
 * written whole or not at all (a temporary file, fsync, rename), 2-space indented; .claude
 * is made when missing. Neither .claude nor settings.json may be a symbolic link (HIVE_EENV,
 * nothing written); a settings.json that is not strict JSON, not an object, or whose hooks
 * are not shaped as Claude Code reads them is HIVE_EUSAGE naming the file (nothing written).
 * res is the caller's (hive_agent_hooks_clear).
 */
int hive_agent_hooks_install(const char *top, struct hive_agent_hooks *res, struct hive_err *err);

void hive_agent_hooks_clear(struct hive_agent_hooks *res);

/* What hive_agent_handle did. */
struct hive_agent_outcome {
	const char *refused_by; /* PreToolUse refused: the policy pattern (borrowed), else NULL */
	const char *did;	/* "started", "rejoined", "recorded", "finished", "checked" or
				   "ignored" (static) */
	const char *was; /* the session was already "completed" or "failed" (static), or NULL */
	int redacted;	 /* values redacted before writing */
};

struct hive_ctx;

/*
 * Record one hook call in ctx's session (ctx set up, its session id set): SessionStart
 * starts or rejoins it (hive_op_start); a tool call appends a tool_used event
 * (hive_op_emit), starting the session first when it does not exist (hooks installed in the
 * middle of an agent's session); SessionEnd finishes it through `finish` (findings to
 * stderr; *was as hive_op_finish's); PreToolUse is held against
 * policy.agent_require_session: a matching call is refused (o->refused_by) unless the
 * session is active; any other event records nothing. Failures as the op that failed, in
 * ctx->err; a closed session is HIVE_EUSAGE saying so.
 *
 * finish is the caller's so that this file does not link the gate: hive-emit runs
 * `hive-runbook --finish` as its own process (the append path stays small, SPEC 6's cost),
 * a caller that links the gate anyway may pass a wrapper of hive_op_finish.
 */
typedef int (*hive_agent_finish_fn)(struct hive_ctx *ctx, const char **was);

int hive_agent_handle(struct hive_ctx *ctx, const struct hive_agent_call *call,
		      hive_agent_finish_fn finish, struct hive_agent_outcome *o);

void hive_agent_call_clear(struct hive_agent_call *call);

#endif
