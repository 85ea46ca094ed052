/* id.c - session, lane and worker ids: the rule of SPEC 2.1 and generated ids */
#include "id.h"

#include <errno.h>
#include <stdio.h>

#include "redact.h"
#include "util.h"

int hive_id_check_syntax(const char *what, const char *id, size_t len, struct hive_err *err)
{
	char q[300];
	size_t i;

	if (!id || len == 0)
		return hive_err_set(err, HIVE_EUSAGE, "%s is empty", what);
	if (len > HIVE_ID_MAX)
		return hive_err_set(err, HIVE_EUSAGE, "%s is %zu characters long (at most %d)",
				    what, len, HIVE_ID_MAX);
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)id[i];
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '.' || c == '_' || c == '-')
			continue;
		if (c == '\0')
			return hive_err_set(err, HIVE_EUSAGE, "%s contains a NUL byte", what);
		return hive_err_set(err, HIVE_EUSAGE,
				    "%s %s: only letters, digits, '.', '_' and '-' are allowed",
				    what, hive_quote(q, sizeof(q), id));
	}
	if (id[0] == '.' || id[0] == '-')
		return hive_err_set(err, HIVE_EUSAGE, "%s %s must not start with '%c'", what,
				    hive_quote(q, sizeof(q), id), id[0]);
	return HIVE_OK;
}

int hive_id_check(const char *what, const char *id, size_t len, struct hive_err *err)
{
	const char *rule;
	int rc;

	if ((rc = hive_id_check_syntax(what, id, len, err)))
		return rc;
	/* an id is written in clear into the log, STATE.json, folder names and git's objects,
	 * where nothing can take it back: one with a secret's shape is refused, not rewritten,
	 * and the message does not repeat it */
	if ((rule = hive_secret_shape(id, len)))
		return hive_err_set(err, HIVE_EUSAGE,
				    "%s has the shape of a secret (%s): an id is written in clear, "
				    "so it is refused (the value is not repeated here)",
				    what, rule);
	return HIVE_OK;
}

int hive_id_generate(char out[32], struct hive_err *err)
{
	unsigned char rnd[4];
	char t[32];

	if (hive_random(rnd, sizeof(rnd)) < 0)
		return hive_err_sys(err, HIVE_EENV, errno, "getrandom");
	/* the clock every timestamp comes from (time(NULL) is the coarse clock, a tick behind) */
	hive_now_rfc3339(t); /* 2025-01-15T10:30:00.123Z */
	snprintf(out, 32, "%.4s%.2s%.2sT%.2s%.2s%.2sZ-%02x%02x%02x%02x", t, t + 5, t + 8, t + 11,
		 t + 14, t + 17, rnd[0], rnd[1], rnd[2], rnd[3]);
	return HIVE_OK;
}
