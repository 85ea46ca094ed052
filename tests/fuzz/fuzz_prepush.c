/* fuzz_prepush.c - libFuzzer: one line of git's pre-push input (hive_prepush_parse_line) */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../lib/prepush.h"

static int is_oid(const char *s)
{
	size_t n = strlen(s);

	return (n == 40 || n == 64) && strspn(s, "0123456789abcdef") == n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hive_prepush_line pl;
	struct hive_err err = {0};

	if (hive_prepush_parse_line((const char *)data, size, &pl, &err) != HIVE_OK) {
		if (!err.msg[0])
			abort();
		return 0;
	}
	/* what the caller relies on: four non-empty fields, two object ids */
	if (!pl.local_ref || !*pl.local_ref || !pl.remote_ref || !*pl.remote_ref ||
	    !is_oid(pl.local_hex) || !is_oid(pl.remote_hex))
		abort();
	if (pl.local_zero != (strspn(pl.local_hex, "0") == strlen(pl.local_hex)) ||
	    pl.remote_zero != (strspn(pl.remote_hex, "0") == strlen(pl.remote_hex)))
		abort();
	return 0;
}
