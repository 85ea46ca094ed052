/* mcp.h - hive as a Model Context Protocol server: JSON-RPC 2.0 messages in, replies out, and
 * the tools start, emit, check, show and finish, each the library call its CLI makes */
#ifndef HIVE_MCP_H
#define HIVE_MCP_H

#include <stddef.h>

#include "util.h"

/* The largest message hive-mcp reads (man/hive-mcp.1, LIMITS): a longer line is answered
 * with -32600 and skipped to its newline, never held in memory whole. */
#define HIVE_MCP_MESSAGE_MAX (1024 * 1024)

/* The protocol version answered when the client asks for one hive does not know. */
#define HIVE_MCP_PROTOCOL "2025-11-25"

/* JSON-RPC 2.0's error codes. */
enum {
	HIVE_MCP_PARSE_ERROR = -32700,
	HIVE_MCP_INVALID_REQUEST = -32600,
	HIVE_MCP_METHOD_NOT_FOUND = -32601,
	HIVE_MCP_INVALID_PARAMS = -32602,
	HIVE_MCP_INTERNAL_ERROR = -32603,
};

/* What every tool call starts from: hive-mcp's own command line (borrowed). */
struct hive_mcp_server {
	const char *root_opt;	 /* --root, or NULL */
	const char *config_opt;	 /* --config, or NULL */
	const char *session_opt; /* --session: the session a call names none, or NULL */
	int quiet;		 /* -q: no notes on stderr */
	int initialized;	 /* an initialize request was answered */
};

/*
 * Handle one message, msg[0..len) (a line without its newline): reply (the caller's,
 * emptied first) gets the response as one line of JSON without the newline, or stays empty
 * for a notification. Malformed JSON is -32700, a message that is not a request -32600
 * (batches too: the protocol has none since 2025-06-18), an unknown method -32601, bad
 * params or an unknown tool -32602. A tool that fails answers with its error as a tool
 * result with isError true (the text is what the CLI prints on stderr, scrubbed of
 * secrets). Out of memory sets reply->oom.
 */
void hive_mcp_handle(struct hive_mcp_server *s, const char *msg, size_t len,
		     struct hive_buf *reply);

/* The reply to a message longer than HIVE_MCP_MESSAGE_MAX: -32600, id null. */
void hive_mcp_oversize(struct hive_buf *reply);

#endif
