/* test_mcp.c - unit tests for lib/mcp.c: JSON-RPC 2.0 messages in, replies out (the tools
 * themselves are lib/ops.c's, run from the outside by tests/bats/mcp.bats) */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "unit.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../lib/mcp.h"

/* The reply to msg, as text ("" for none). */
static char *reply_to(struct hive_mcp_server *s, const char *msg)
{
	struct hive_buf r = {0};
	char *out;

	hive_mcp_handle(s, msg, strlen(msg), &r);
	assert_false(r.oom);
	out = strdup(r.len ? r.p : "");
	assert_non_null(out);
	hive_buf_free(&r);
	return out;
}

static void expect_reply(const char *msg, const char *want)
{
	struct hive_mcp_server s = {0};
	char *got = reply_to(&s, msg);

	if (strcmp(got, want))
		show_mismatch("the reply", got, want);
	free(got);
}

static void test_errors(void **state)
{
	(void)state;
	expect_reply("{", "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32700,\"message\":"
			  "\"Parse error: byte 2: the text ends inside an object\"}}");
	expect_reply("[]",
		     "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32600,\"message\":"
		     "\"Invalid Request: batches are not supported\"}}");
	expect_reply("1", "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32600,\"message\":"
			  "\"Invalid Request: not an object\"}}");
	expect_reply("{\"id\":1,\"method\":\"ping\"}",
		     "{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":{\"code\":-32600,\"message\":"
		     "\"Invalid Request: not a JSON-RPC 2.0 request\"}}");
	expect_reply("{\"jsonrpc\":\"2.0\",\"id\":\"x\",\"method\":\"nope\"}",
		     "{\"jsonrpc\":\"2.0\",\"id\":\"x\",\"error\":{\"code\":-32601,\"message\":"
		     "\"Method not found: nope\"}}");
	expect_reply("{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/list\",\"params\":3}",
		     "{\"jsonrpc\":\"2.0\",\"id\":2,\"error\":{\"code\":-32602,\"message\":"
		     "\"Invalid params: params must be an object\"}}");
	expect_reply("{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/call\",\"params\":"
		     "{\"name\":\"hive_nope\"}}",
		     "{\"jsonrpc\":\"2.0\",\"id\":3,\"error\":{\"code\":-32602,\"message\":"
		     "\"Unknown tool: hive_nope\"}}");
	/* an id of another type is no id */
	expect_reply("{\"jsonrpc\":\"2.0\",\"id\":[1],\"method\":\"ping\"}", "");
}

static void test_notifications_and_ping(void **state)
{
	(void)state;
	expect_reply("{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}", "");
	expect_reply("{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}", "");
	expect_reply("{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"ping\"}",
		     "{\"jsonrpc\":\"2.0\",\"id\":7,\"result\":{}}");
}

static void test_initialize_and_list(void **state)
{
	struct hive_mcp_server s = {0};
	char *got;
	cJSON *j, *tools, *t;
	int n = 0;

	(void)state;
	got = reply_to(&s, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":"
			   "{\"protocolVersion\":\"2025-06-18\"}}");
	j = unit_json(got);
	assert_string_equal(hive_json_str(cJSON_GetObjectItem(j, "result"), "protocolVersion"),
			    "2025-06-18");
	assert_true(s.initialized);
	cJSON_Delete(j);
	free(got);
	got = reply_to(&s, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":"
			   "{\"protocolVersion\":\"1999-01-01\"}}");
	j = unit_json(got);
	assert_string_equal(hive_json_str(cJSON_GetObjectItem(j, "result"), "protocolVersion"),
			    HIVE_MCP_PROTOCOL);
	cJSON_Delete(j);
	free(got);
	got = reply_to(&s, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/list\"}");
	j = unit_json(got);
	tools = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "result"), "tools");
	cJSON_ArrayForEach(t, tools)
	{
		assert_non_null(hive_json_str(t, "name"));
		assert_non_null(hive_json_str(t, "description"));
		assert_string_equal(hive_json_str(cJSON_GetObjectItem(t, "inputSchema"), "type"),
				    "object");
		n++;
	}
	assert_int_equal(n, 5);
	cJSON_Delete(j);
	free(got);
}

static void test_oversize(void **state)
{
	struct hive_buf r = {0};

	(void)state;
	hive_mcp_oversize(&r);
	assert_string_equal(r.p, "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32600,"
				 "\"message\":\"Invalid Request: message longer than 1048576 "
				 "bytes, skipped\"}}");
	hive_buf_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_notifications_and_ping),
		cmocka_unit_test(test_initialize_and_list),
		cmocka_unit_test(test_oversize),
	};

	return cmocka_run_group_tests_name("mcp", tests, NULL, NULL);
}
