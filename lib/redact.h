/* redact.h - secret redaction: built-in token shapes, secret key names, redact.patterns */
#ifndef HIVE_REDACT_H
#define HIVE_REDACT_H

#include <stddef.h>

#include "config.h"
#include "err.h"

struct cJSON;

struct hive_redactor;

/* A redactor for the built-in token shapes (each compiled on first use), plus the
 * config's redact.keys and redact.patterns (borrowed from cfg, which must outlive it). */
int hive_redactor_new(const struct hive_config *cfg, struct hive_redactor **out,
		      struct hive_err *err);
void hive_redactor_free(struct hive_redactor *r);

/* Is this key name a secret's (password, token, api_key, … as words of the name,
 * case-insensitive, camelCase and - understood; plus redact.keys)? */
int hive_redactor_key_is_secret(const struct hive_redactor *r, const char *key);

/*
 * Redact obj in place: values under secret key names become "[REDACTED]" (when obj is a
 * details object and keys_too); substrings matching a token shape become
 * "[REDACTED:<rule>]" in every string, keys included. Returns the number of values
 * changed, or -1 when out of memory.
 */
int hive_redact(struct hive_redactor *r, struct cJSON *obj, int keys_too);

/*
 * Find the first token shape in s[0..len) (a raw line is fine). Returns the rule name
 * (borrowed) and sets *at to the match offset, or NULL when there is none.
 */
const char *hive_redactor_find(struct hive_redactor *r, const char *s, size_t len,
			       size_t *at);


#endif
