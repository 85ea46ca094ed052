/* test_agent.c - unit tests for lib/agent.c: hook payloads read, tool inputs summarised and cut,
 * the PreToolUse policy, and hive's hook merged into .claude/settings.json */
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
#include <sys/stat.h>

#include "../../lib/agent.h"
#include "../../lib/event.h"
#include "../../lib/redact.h"

/* read text as a claude-code payload; HIVE_OK expected. */
static void read_ok(const char *text, struct hive_agent_call *call)
{
	struct hive_err err = {0};

	if (hive_agent_read("claude-code", text, strlen(text), call, &err))
		fail_msg("refused: %s", err.msg);
}

static void read_bad(const char *agent, const char *text, const char *want)
{
	struct hive_agent_call call;
	struct hive_err err = {0};
	int rc = hive_agent_read(agent, text, strlen(text), &call, &err);

	assert_int_equal(rc, HIVE_EUSAGE);
	if (!strstr(err.msg, want))
		show_mismatch("the message", err.msg, want);
	hive_agent_call_clear(&call);
}

static void test_read_kinds_and_ids(void **state)
{
	static const struct {
		const char *hook;
		enum hive_agent_kind kind;
	} cases[] = {
		{"SessionStart", HIVE_AGENT_START},	{"PreToolUse", HIVE_AGENT_PRE},
		{"PostToolUse", HIVE_AGENT_TOOL},	{"PostToolUseFailure", HIVE_AGENT_TOOL},
		{"SessionEnd", HIVE_AGENT_END},		{"Stop", HIVE_AGENT_OTHER},
		{"UserPromptSubmit", HIVE_AGENT_OTHER},
	};
	struct hive_agent_call call;
	struct hive_err err = {0};
	char text[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(text, sizeof(text),
			 "{\"session_id\":\"abc-1\",\"hook_event_name\":\"%s\",\"cwd\":\"/r\","
			 "\"source\":\"resume\",\"tool_name\":\"Bash\"}",
			 cases[i].hook);
		read_ok(text, &call);
		assert_int_equal(call.kind, cases[i].kind);
		assert_string_equal(call.session_id, "claude-abc-1");
		assert_string_equal(call.agent, "claude-code");
		assert_string_equal(call.hook, cases[i].hook);
		assert_string_equal(call.cwd, "/r");
		assert_string_equal(call.source, "resume");
		assert_string_equal(call.tool, "Bash");
		hive_agent_call_clear(&call);
	}
	{
		const char *t = "{\"session_id\":\"x\",\"hook_event_name\":\"Stop\"}";
		assert_int_equal(hive_agent_read("codex", t, strlen(t), &call, &err), HIVE_OK);
	}
	assert_string_equal(call.session_id, "codex-x");
	assert_string_equal(call.agent, "codex");
	hive_agent_call_clear(&call);
}

static void test_read_refusals(void **state)
{
	char longid[300];

	(void)state;
	read_bad("claude-code", "", "not JSON");
	read_bad("claude-code", "{\"a\":1,\"a\":2}", "duplicate key");
	read_bad("claude-code", "[]", "not an object");
	read_bad("claude-code", "{\"session_id\":\"a\"}", "hook_event_name: missing");
	read_bad("claude-code", "{\"session_id\":1,\"hook_event_name\":\"Stop\"}",
		 "session_id: missing or not a string");
	read_bad("claude-code", "{\"session_id\":\"\",\"hook_event_name\":\"Stop\"}", "session_id");
	read_bad("claude-code", "{\"session_id\":\"a/b\",\"hook_event_name\":\"Stop\"}",
		 "session_id");
	read_bad("claude-code",
		 "{\"session_id\":\"ghp_0123456789abcdefghijklmnopqrstuvwxyz\","
		 "\"hook_event_name\":\"Stop\"}",
		 "secret");
	memset(longid, 'a', 122);
	snprintf(longid + 122, sizeof(longid) - 122, "\",\"hook_event_name\":\"Stop\"}");
	{
		char text[400] = "{\"session_id\":\"";
		strcat(text, longid);
		/* claude- + 122 = 129 characters: one too many */
		read_bad("claude-code", text, "longer than a session id may be");
	}
}

/* The tool_used details of a PostToolUse(Failure) payload with this tool and input. */
static cJSON *details_of(const char *hook, const char *tool_input, const char *extra, int *redacted)
{
	struct hive_redactor *red = NULL;
	struct hive_agent_call call;
	struct hive_err err = {0};
	cJSON *d = NULL;
	char *text;
	size_t n = strlen(tool_input) + (extra ? strlen(extra) : 0) + 200;

	text = malloc(n);
	assert_non_null(text);
	snprintf(text, n,
		 "{\"session_id\":\"s\",\"hook_event_name\":\"%s\",\"tool_name\":\"T\","
		 "\"tool_use_id\":\"toolu_1\",\"tool_input\":%s%s%s}",
		 hook, tool_input, extra ? "," : "", extra ? extra : "");
	read_ok(text, &call);
	free(text);
	assert_int_equal(hive_redactor_new(NULL, &red, &err), HIVE_OK);
	if (hive_agent_tool_details(&call, red, &d, redacted, &err))
		fail_msg("details: %s", err.msg);
	hive_redactor_free(red);
	hive_agent_call_clear(&call);
	return d;
}

static const char *conf_str(const cJSON *d, const char *key)
{
	return hive_json_str(cJSON_GetObjectItemCaseSensitive(d, "configuration"), key);
}

static double conf_num(const cJSON *d, const char *key)
{
	return cJSON_GetObjectItemCaseSensitive(
		       cJSON_GetObjectItemCaseSensitive(d, "configuration"), key)
		->valuedouble;
}

static int conf_true(const cJSON *d, const char *key)
{
	return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(d, "configuration"), key));
}

static void test_summaries(void **state)
{
	static const struct {
		const char *input, *want;
	} cases[] = {
		{"{\"command\":\"ls -la\",\"description\":\"d\"}", "ls -la"},
		{"{\"file_path\":\"/r/main.tf\",\"content\":\"SECRET-CONTENT\"}", "/r/main.tf"},
		{"{\"notebook_path\":\"/r/n.ipynb\"}", "/r/n.ipynb"},
		{"{\"url\":\"https://e.com\",\"prompt\":\"p\"}", "https://e.com"},
		{"{\"pattern\":\"a.*\",\"path\":\"src\"}", "a.*"},
		{"{\"query\":\"q\"}", "q"},
		{"{\"sql\":\"select 1\",\"password\":\"hunter2\"}",
		 "{\"sql\":\"select 1\",\"password\":\"[REDACTED]\"}"},
		{"\"just text\"", "just text"},
		{"null", ""},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int redacted = 0;
		cJSON *d = details_of("PostToolUse", cases[i].input, NULL, &redacted);
		char *line = unit_print(d);
		struct hive_err err = {0};

		if (strcmp(conf_str(d, "input"), cases[i].want))
			show_mismatch("input", conf_str(d, "input"), cases[i].want);
		assert_string_equal(hive_json_str(d, "resource"), "T");
		assert_string_equal(hive_json_str(d, "status"), "success");
		assert_string_equal(conf_str(d, "agent"), "claude-code");
		assert_string_equal(conf_str(d, "tool_use_id"), "toolu_1");
		assert_false(conf_true(d, "input_truncated"));
		assert_null(strstr(line, "SECRET-CONTENT"));
		/* the schema accepts what the writer makes */
		assert_int_equal(hive_event_validate_details("tool_used", d, NULL, &err), HIVE_OK);
		free(line);
		cJSON_Delete(d);
	}
}

/* A long input is cut to HIVE_TOOL_SUMMARY_MAX at a character boundary, with an ellipsis;
 * a secret is redacted before the cut, never cut in half and left. */
static void test_cut_and_redact(void **state)
{
	size_t n = 3000 * 2 + 64, i, len;
	char *in = malloc(n), *json = malloc(n + 64);
	const char *v;
	int redacted = 0;
	cJSON *d;

	(void)state;
	assert_non_null(in);
	assert_non_null(json);
	/* 1020 ASCII bytes, then 2-byte characters: the cut falls inside one */
	memset(in, 'a', 1020);
	for (i = 0; i < 1000; i++)
		memcpy(in + 1020 + 2 * i, "\xc3\xa9", 2);
	in[1020 + 2000] = '\0';
	snprintf(json, n + 64, "{\"command\":\"%s\"}", in);
	d = details_of("PostToolUse", json, NULL, &redacted);
	v = conf_str(d, "input");
	len = strlen(v);
	assert_true(len <= HIVE_TOOL_SUMMARY_MAX);
	assert_true(len >= HIVE_TOOL_SUMMARY_MAX - 4);
	assert_int_equal(memcmp(v + len - 3, "\xe2\x80\xa6", 3), 0);
	assert_true(hive_utf8_valid(v, len));
	assert_true(conf_true(d, "input_truncated"));
	assert_true(conf_num(d, "input_bytes") == 3020.0);
	cJSON_Delete(d);

	/* a token at the cut is redacted whole first */
	memset(in, 'b', 1000);
	strcpy(in + 1000, " ghp_0123456789abcdefghijklmnopqrstuvwxyzAB tail");
	snprintf(json, n + 64, "{\"command\":\"%s\"}", in);
	redacted = 0;
	d = details_of("PostToolUse", json, NULL, &redacted);
	assert_int_equal(redacted, 1);
	assert_null(strstr(conf_str(d, "input"), "ghp_"));
	assert_null(strstr(conf_str(d, "input"), "0123456789abcdef"));
	cJSON_Delete(d);

	/* a failure's error, redacted and cut the same way */
	redacted = 0;
	memset(in, 'e', 2000);
	in[2000] = '\0';
	snprintf(json, n + 64, "\"error\":\"glpat-abcdefghij0123456789 %s\"", in);
	d = details_of("PostToolUseFailure", "{\"command\":\"x\"}", json, &redacted);
	assert_string_equal(hive_json_str(d, "status"), "failure");
	assert_non_null(strstr(conf_str(d, "error"), "[REDACTED:"));
	assert_true(strlen(conf_str(d, "error")) <= HIVE_TOOL_SUMMARY_MAX);
	assert_int_equal(redacted, 1);
	cJSON_Delete(d);
	free(in);
	free(json);
}

static void test_schema_caps(void **state)
{
	struct hive_err err = {0};
	char big[1100 + 64];
	cJSON *d;

	(void)state;
	d = unit_json("{\"resource\":\"Bash\",\"configuration\":{\"tool_response\":\"x\"},"
		      "\"status\":\"success\"}");
	assert_int_equal(hive_event_validate_details("tool_used", d, NULL, &err), HIVE_EUSAGE);
	assert_non_null(strstr(err.msg, "never stores the tool's response"));
	cJSON_Delete(d);
	memset(big, 'x', 1025);
	big[1025] = '\0';
	d = unit_json("{\"resource\":\"Bash\",\"configuration\":{},\"status\":\"success\"}");
	cJSON_AddStringToObject(cJSON_GetObjectItemCaseSensitive(d, "configuration"), "input", big);
	assert_int_equal(hive_event_validate_details("tool_used", d, NULL, &err), HIVE_EUSAGE);
	assert_string_equal(err.msg, "details.configuration.input: 1025 bytes, more than the 1024 "
				     "a tool_used summary may hold");
	cJSON_Delete(d);
	d = unit_json("{\"resource\":\"Bash\"}");
	assert_int_equal(hive_event_validate_details("tool_used", d, NULL, &err), HIVE_EUSAGE);
	assert_non_null(strstr(err.msg, "details.status: missing"));
	cJSON_Delete(d);
}

static void test_policy_match(void **state)
{
	struct hive_config cfg;
	struct hive_agent_call call;

	(void)state;
	unit_config_from(&cfg, "policy:\n  agent_require_session: ['terraform +apply', "
			       "'^Write .*\\.tf$']\n");
	read_ok("{\"session_id\":\"s\",\"hook_event_name\":\"PreToolUse\",\"tool_name\":\"Bash\","
		"\"tool_input\":{\"command\":\"cd x && terraform  apply -auto-approve\"}}",
		&call);
	assert_string_equal(hive_agent_policy_match(&cfg, &call), "terraform +apply");
	hive_agent_call_clear(&call);
	read_ok("{\"session_id\":\"s\",\"hook_event_name\":\"PreToolUse\",\"tool_name\":\"Write\","
		"\"tool_input\":{\"file_path\":\"infra/main.tf\"}}",
		&call);
	assert_string_equal(hive_agent_policy_match(&cfg, &call), "^Write .*\\.tf$");
	hive_agent_call_clear(&call);
	read_ok("{\"session_id\":\"s\",\"hook_event_name\":\"PreToolUse\",\"tool_name\":\"Bash\","
		"\"tool_input\":{\"command\":\"terraform plan\"}}",
		&call);
	assert_null(hive_agent_policy_match(&cfg, &call));
	hive_agent_call_clear(&call);
	/* only a PreToolUse is held to it */
	read_ok("{\"session_id\":\"s\",\"hook_event_name\":\"PostToolUse\",\"tool_name\":\"Bash\","
		"\"tool_input\":{\"command\":\"terraform apply\"}}",
		&call);
	assert_null(hive_agent_policy_match(&cfg, &call));
	hive_agent_call_clear(&call);
	hive_config_free(&cfg);
}

static void test_settings_merge(void **state)
{
	const char *dir = *state;
	struct hive_agent_hooks r;
	struct hive_err err = {0};
	char *claude = unit_path_in(dir, ".claude"), *path, *before, *after;
	cJSON *j;

	assert_int_equal(mkdir(claude, 0755), 0);
	path = unit_path_in(claude, "settings.json");
	unit_write_file(path, "{\"model\":\"x\",\"hooks\":{\"PreToolUse\":[{\"matcher\":\"Bash\","
			      "\"hooks\":[{\"type\":\"command\",\"command\":\"guard.sh\"}]}],"
			      "\"Stop\":[{\"hooks\":[{\"type\":\"command\",\"command\":\"a\"},"
			      "{\"type\":\"command\",\"command\":\"b\"}]}]}}\n");
	assert_int_equal(hive_agent_hooks_install(dir, &r, &err), HIVE_OK);
	assert_int_equal(r.added, 5);
	assert_int_equal(r.kept, 3);
	assert_int_equal(r.created, 0);
	hive_agent_hooks_clear(&r);
	before = unit_slurp(path, NULL);
	j = unit_json(before);
	assert_string_equal(hive_json_str(j, "model"), "x");
	assert_string_equal(
		hive_json_str(
			cJSON_GetArrayItem(
				cJSON_GetObjectItemCaseSensitive(
					cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(
								   cJSON_GetObjectItemCaseSensitive(
									   j, "hooks"),
								   "PreToolUse"),
							   1),
					"hooks"),
				0),
			"command"),
		HIVE_AGENT_HOOK_COMMAND);
	cJSON_Delete(j);
	/* again: nothing added, the file byte for byte the same */
	assert_int_equal(hive_agent_hooks_install(dir, &r, &err), HIVE_OK);
	assert_int_equal(r.added, 0);
	hive_agent_hooks_clear(&r);
	after = unit_slurp(path, NULL);
	assert_string_equal(before, after);
	free(before);
	free(after);
	/* a shape Claude Code would not read: refused, unchanged */
	unit_write_file(path, "{\"hooks\":{\"SessionEnd\":\"x\"}}\n");
	assert_int_equal(hive_agent_hooks_install(dir, &r, &err), HIVE_EUSAGE);
	assert_non_null(strstr(err.msg, "hooks.SessionEnd is not an array"));
	hive_agent_hooks_clear(&r);
	after = unit_slurp(path, NULL);
	assert_string_equal(after, "{\"hooks\":{\"SessionEnd\":\"x\"}}\n");
	free(after);
	free(path);
	free(claude);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_read_kinds_and_ids),
		cmocka_unit_test(test_read_refusals),
		cmocka_unit_test(test_summaries),
		cmocka_unit_test(test_cut_and_redact),
		cmocka_unit_test(test_schema_caps),
		cmocka_unit_test(test_policy_match),
		cmocka_unit_test_setup_teardown(test_settings_merge, unit_setup_tmpdir,
						unit_teardown_tmpdir),
	};

	return cmocka_run_group_tests_name("agent", tests, NULL, NULL);
}
