/* redact.h - secret redaction: built-in token shapes, secret key names, redact.patterns */
#ifndef HIVE_REDACT_H
#define HIVE_REDACT_H

#include <stddef.h>

#include "config.h"
#include "err.h"

struct cJSON;
struct hive_buf;

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
/* The rule of NAME=VALUE, NAME:=VALUE and NAME: VALUE in free text when NAME is a secret key
 * name (a command line's --password=x): only VALUE is replaced. */
#define HIVE_REDACT_ASSIGNMENT_RULE "secret_assignment"
/* hive_redactor_find_json's rule for a value under a secret key name. */
#define HIVE_REDACT_KEY_RULE "secret_key"

/*
 * What hive_redact may touch. Redaction applies to what users supply, never to what hive
 * itself defines: keys of its own objects, ids, hashes, times, flags, enums.
 *  HIVE_REDACT_CONTEXT  git, ci, a worker profile, requirements, STATE.json, METRICS.json:
 *                       keys are never touched, nor the values of seq, timestamp,
 *                       event_type, worker, session_id, prev, commit, dirty, run_id,
 *                       run_attempt, pipeline_id, job_id, provider, last_hash, last_seq,
 *                       status, started_at, updated_at, completed_at, count; every other
 *                       string value is (branch, tag, remote, job, workflow, url, …).
 *  HIVE_REDACT_DETAILS  an event's details: the keys resource, action, platform,
 *                       configuration and status stay, and so do the values of the first
 *                       four but configuration (action, platform, status are enums the
 *                       schema checks; resource is an identifier the schema refuses when it
 *                       has a secret's shape); configuration's content is user data; any
 *                       other key is user data too (the schema refuses it).
 *  HIVE_REDACT_USER     all of it is user data: values under secret key names become
 *                       "[REDACTED]", and every string, keys included, is scrubbed of the
 *                       rules' matches.
 *  HIVE_REDACT_SHAPES   every string, keys included, hive's own too, for the token shapes
 *                       alone: what a raw-bytes scan of a JSON line means, read decoded (the
 *                       gate, for a line with escapes: "\u000b://b@a:b@c" spells a URL in
 *                       its bytes that no string holds).
 */
enum hive_redact_mode {
	HIVE_REDACT_CONTEXT = 0,
	HIVE_REDACT_DETAILS = 1,
	HIVE_REDACT_USER = 2,
	HIVE_REDACT_SHAPES = 3,
};

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

/*
 * Is this key name a secret's? The key is cut into lowercase words at '_', '-', '.',
 * spaces and camelCase humps; then (README "Redaction" has the list and the corpus):
 *   password, passwd, passphrase, credential, authorization   anywhere in a word
 *                                                              (dbpassword, passwords);
 *   token, auth, pwd, secret(s), apikey(s), privatekey(s), accesskey(s)
 *                                     a word, or the end of one (access_token, oauth,
 *                                     clientSecret), not tokens, tokenizer, author;
 *   pass, api_key, private_key, access_key  exactly these words (db_pass, not bypass);
 * plus redact.keys (exactly its words). Cannot fail.
 */
int hive_redactor_key_is_secret(const struct hive_redactor *r, const char *key);

/*
 * Redact obj in place, touching only what mode allows (above): a value under a secret key
 * name becomes "[REDACTED]" (user data only); every substring matching a token shape,
 * secret_assignment or a redact.patterns entry becomes "[REDACTED:<rule>]" (the whole
 * string at a limit, above). A bare string is scrubbed whatever the mode. Returns the number
 * of replacements, or -1 when out of memory (obj is then partly redacted and must not be
 * written).
 */
int hive_redact(struct hive_redactor *r, struct cJSON *obj, enum hive_redact_mode mode);

/*
 * Find the first token shape, secret_assignment or pattern match in s[0..len): a raw line
 * is fine, nothing at or past s[len] is read and no NUL is needed. Returns the rule name
 * (static) and sets *at (when at is not NULL) to the match's offset, or returns NULL when
 * there is none. hive_redactor_find_builtin leaves redact.patterns out: for text files
 * (RUNBOOK.md, CHECKPOINT) and ids, where a pattern would also match hive's own ids and
 * hashes.
 */
const char *hive_redactor_find(struct hive_redactor *r, const char *s, size_t len, size_t *at);
const char *hive_redactor_find_builtin(struct hive_redactor *r, const char *s, size_t len,
				       size_t *at);

/* The token shapes alone (no secret_assignment, no patterns), for the raw bytes of a JSON
 * line: there "\n" is an escape, not a backslash and an n, so a NAME=VALUE rule would read
 * values the decoded string does not hold. Assignments are looked for in decoded strings
 * (hive_redactor_scan_json). */
const char *hive_redactor_find_shape(struct hive_redactor *r, const char *s, size_t len,
				     size_t *at);

/*
 * Everything hive_redact(obj, mode) would replace, without changing obj: fn (when not NULL)
 * is called for each, with the rule (static; HIVE_REDACT_KEY_RULE for a value under a secret
 * key name) and the key the string is under or, when in_key, is (borrowed from obj; NULL for
 * a bare string). Strings are looked at decoded, as JSON readers see them. Returns the
 * number of findings (0: hive_redact would change nothing).
 */
typedef void (*hive_redact_found_fn)(void *arg, const char *rule, const char *key, int in_key);
int hive_redactor_scan_json(struct hive_redactor *r, const struct cJSON *obj,
			    enum hive_redact_mode mode, hive_redact_found_fn fn, void *arg);

/* The same over a whole event as hive-emit builds it: details as HIVE_REDACT_DETAILS
 * (HIVE_REDACT_CONTEXT for session_started and session_completed, which hive writes), git
 * and ci as HIVE_REDACT_CONTEXT; seq, timestamp, event_type, worker, session_id and prev
 * are not looked at (the schema and the raw bytes' scan see to them). */
int hive_redactor_scan_event(struct hive_redactor *r, const struct cJSON *ev,
			     hive_redact_found_fn fn, void *arg);

/* Scrub free text in place: every match of the built-in rules (and redact.patterns when
 * `patterns`) becomes "[REDACTED:<rule>]"; what does not fit in size is cut off. Returns the
 * number of replacements, -1 when out of memory (buf unchanged). */
int hive_redact_text(struct hive_redactor *r, char *buf, size_t size, int patterns);

/* The built-in rule s[0..len) matches (a token shape, secret_assignment), or NULL: for ids,
 * which are refused rather than rewritten. Needs no redactor (it makes one only when s holds
 * a trigger); HIVE_REDACT_LIMIT_RULE when it could not look (out of memory). */
const char *hive_secret_shape(const char *s, size_t len);

/* Scrub a whole text a tool writes (a report, RUNBOOK.md, a step summary) with the built-in
 * rules (not redact.patterns, which would also match the commits and hashes a report
 * quotes). A replacement never takes a quote or a backslash away, so JSON output stays
 * JSON. Returns the number of replacements, or -1 when out of memory (b->oom is then set or
 * b is as it was: the caller must not write it). */
int hive_redact_buf(struct hive_buf *b);

/* Scrub a diagnostic in place with the built-in rules, before any config is loaded too:
 * what hive_err_print and hive_warn print. When the redactor cannot run (out of memory) the
 * whole message becomes "[REDACTED:match_limit]". Returns the number of replacements. */
int hive_redact_message(char *buf, size_t size);

#endif
