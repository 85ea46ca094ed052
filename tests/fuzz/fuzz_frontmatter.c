/* fuzz_frontmatter.c - libFuzzer: a worker definition's YAML front matter
 * (hive_worker_profile_parse) */
#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdlib.h>

#include "../../lib/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hive_err err = {0};
	cJSON *profile = NULL;
	char *text;
	int rc;

	rc = hive_worker_profile_parse(".claude/agents/fuzz.md", (const char *)data, size, &profile,
				       &err);
	if (rc == HIVE_OK) {
		if (!cJSON_IsObject(profile))
			abort();
		text = cJSON_PrintUnformatted(profile);
		free(text);
	} else if (profile || !err.msg[0]) {
		abort(); /* a refusal returns nothing and says why */
	}
	cJSON_Delete(profile);
	return 0;
}
