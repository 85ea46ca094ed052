/* fuzz_kv.c - libFuzzer: hive-emit's KEY=VALUE and KEY:=JSON arguments (hive_event_apply_kv)
 *
 * The input is split at newlines into arguments applied in turn to one configuration
 * object, so dotted keys meet values set by earlier arguments. A refused argument must
 * leave the object exactly as it was.
 */
#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../lib/event.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cJSON *obj = cJSON_CreateObject();
	char *buf = malloc(size + 1), *arg, *nl, *before, *after;
	struct hive_err err;

	if (!obj || !buf)
		abort();
	memcpy(buf, data, size);
	buf[size] = '\0';
	for (arg = buf; arg; arg = nl ? nl + 1 : NULL) {
		if ((nl = strchr(arg, '\n')))
			*nl = '\0';
		memset(&err, 0, sizeof(err));
		before = cJSON_PrintUnformatted(obj);
		if (hive_event_apply_kv(obj, arg, &err) != HIVE_OK) {
			after = cJSON_PrintUnformatted(obj);
			if (!err.msg[0] || !before || !after || strcmp(before, after))
				abort(); /* refused, yet the object changed (or no message) */
			free(after);
		}
		free(before);
	}
	free(buf);
	cJSON_Delete(obj);
	return 0;
}
