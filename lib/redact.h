/* redact.h - secret redaction: built-in token shapes, secret key names, redact.patterns */
#ifndef HIVE_REDACT_H
#define HIVE_REDACT_H

#include <stddef.h>

#include "config.h"
#include "err.h"

struct cJSON;

/*
 * Ownership: a redactor belongs to its caller (hive_redactor_free; NULL is fine) and
 * borrows cfg, which must outlive it. Rule names it returns are static strings.
 *
 * Every expression, built-in or from redact.patterns, is matched by PCRE2 under these
 * limits (PCRE2's defaults: 10,000,000, 10,000,000 and 20,000,000 KiB). PCRE2 counts the
 * match and depth limits per start position. On the 2-core machine this was measured on,
 * (a+)+$ reaches the match limit in ~14 ms (the default took 170 ms); the depth limit is
 * reached by a group repeated 10,000 times in one match, like (?:a|b)+ over 10,000 bytes;
 * the heap limit bounds PCRE2's backtracking frames, whatever the number of groups.
 *
 * When a rule reaches a limit (or PCRE2 runs out of memory) it cannot say where a secret
 * is, so the whole value counts as one: hive_redact replaces the whole string with
 * "[REDACTED:match_limit]" and hive_redactor_find reports the rule "match_limit" at
 * offset 0. A scrubber that gave up must not let a secret through.
 */
#define HIVE_REDACT_MATCH_LIMIT 1000000
#define HIVE_REDACT_DEPTH_LIMIT 10000
#define HIVE_REDACT_HEAP_LIMIT	4096 /* KiB */
#define HIVE_REDACT_LIMIT_RULE	"match_limit"

struct hive_redactor;

/*
 * A redactor for the built-in token shapes (each compiled on first use), plus the config's
 * redact.keys and redact.patterns (cfg may be NULL: the built-ins only). HIVE_OK with *out
 * set, or HIVE_EENV ("out of memory") with *out NULL.
 */
int hive_redactor_new(const struct hive_config *cfg, struct hive_redactor **out,
		      struct hive_err *err);

/* Free r and what it compiled. */
void hive_redactor_free(struct hive_redactor *r);

/* Is this key name a secret's (password, token, api_key, … as words of the name,
 * case-insensitive, camelCase and - understood; plus redact.keys)? Cannot fail. */
int hive_redactor_key_is_secret(const struct hive_redactor *r, const char *key);

/*
 * Redact obj in place: values under secret key names become "[REDACTED]" (when obj is a
 * details object and keys_too); substrings matching a token shape or a redact.patterns
 * entry become "[REDACTED:<rule>]" in every string, keys included (the whole string at a
 * limit, above). Returns the number of replacements, or -1 when out of memory (obj is then
 * partly redacted and must not be written).
 */
int hive_redact(struct hive_redactor *r, struct cJSON *obj, int keys_too);

/*
 * Find the first token shape or pattern match in s[0..len): a raw line is fine, nothing
 * at or past s[len] is read and no NUL is needed. Returns the rule name (static) and sets
 * *at (when at is not NULL) to the match's offset, or returns NULL when there is none.
 */
const char *hive_redactor_find(struct hive_redactor *r, const char *s, size_t len, size_t *at);

#endif
