/* fuzz_agent.c - libFuzzer: a hook payload as hive-emit --from claude-code reads it
 * (hive_agent_read, hive_agent_tool_details, hive_agent_policy_match)
 *
 * Whatever the payload, a tool call's details must be what the schema accepts: a tool_used
 * whose input and error are valid UTF-8 of at most HIVE_TOOL_SUMMARY_MAX bytes, and never the
 * tool's response. A refused payload must say why.
 */
#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../lib/agent.h"
#include "../../lib/event.h"
#include "../../lib/json.h"
#include "../../lib/redact.h"

static struct hive_redactor *red;
static struct hive_config cfg;

static void capped(const cJSON *conf, const char *key)
{
	const char *v = hive_json_str(conf, key);

	if (v && (strlen(v) > HIVE_TOOL_SUMMARY_MAX || !hive_utf8_valid(v, strlen(v))))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char policy[] = "policy:\n  agent_require_session: ['terraform +apply', "
				     "'^Write .*\\.tf$']\n";
	struct hive_agent_call call;
	struct hive_err err;
	cJSON *d = NULL;
	int redacted = 0;

	if (!red) {
		hive_config_init(&cfg);
		if (hive_config_parse(&cfg, "fuzz.yml", policy, sizeof(policy) - 1, &err) ||
		    hive_redactor_new(&cfg, &red, &err))
			abort();
	}
	memset(&err, 0, sizeof(err));
	if (hive_agent_read("claude-code", (const char *)data, size, &call, &err)) {
		if (!err.msg[0])
			abort(); /* refused without a reason */
		hive_agent_call_clear(&call);
		return 0;
	}
	if (hive_id_check("session", call.session_id, strlen(call.session_id), NULL))
		abort(); /* an id the rules refuse was let through */
	(void)hive_agent_policy_match(&cfg, &call);
	if (call.kind == HIVE_AGENT_TOOL) {
		memset(&err, 0, sizeof(err));
		if (hive_agent_tool_details(&call, red, &d, &redacted, &err) == HIVE_OK) {
			const cJSON *conf = cJSON_GetObjectItemCaseSensitive(d, "configuration");
			capped(conf, "input");
			capped(conf, "error");
			if (cJSON_GetObjectItemCaseSensitive(conf, "tool_response"))
				abort();
			memset(&err, 0, sizeof(err));
			if (hive_event_validate_details("tool_used", d, &cfg, &err) &&
			    err.status != HIVE_EUSAGE)
				abort();
		} else if (!err.msg[0]) {
			abort();
		}
		cJSON_Delete(d);
	}
	hive_agent_call_clear(&call);
	return 0;
}
