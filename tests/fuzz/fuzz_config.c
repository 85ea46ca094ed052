/* fuzz_config.c - libFuzzer: .hive.yml through hive_config_parse (libyaml, FILE:LINE:COL) */
#include <stdint.h>
#include <stdlib.h>

#include "../../lib/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hive_config cfg;
	struct hive_err err = {0};

	hive_config_init(&cfg);
	if (hive_config_parse(&cfg, "fuzz.yml", (const char *)data, size, &err) != HIVE_OK &&
	    (err.status == HIVE_OK || !err.msg[0]))
		abort(); /* a refusal always says why */
	hive_config_free(&cfg);
	return 0;
}
