/* json.h - the one strict JSON reader: RFC 8259, duplicate keys refused, one nesting limit */
#ifndef HIVE_JSON_H
#define HIVE_JSON_H

#include <stddef.h>

#include "err.h"

/*
 * Every JSON text hive reads (event lines, STATE.json, --json, KEY:=JSON, NDJSON input)
 * goes through this reader, so that hive never accepts a line that jq or python3 would
 * read differently. It reads the text once, checking it and building the cJSON tree as it
 * goes (cJSON's own parser, which is lenient, is not used: the tree is the one it would
 * build, node for node), and it refuses:
 *   - anything outside RFC 8259's grammar: a raw control byte (below 0x20) in a string, an
 *     escape other than \" \\ \/ \b \f \n \r \t \uXXXX, a lone UTF-16 surrogate, a number
 *     with a leading zero (06), a bare point (2. .5), a plus sign, NaN or Infinity, any
 *     whitespace but space, tab, LF and CR, and any text after the value;
 *   - bytes that are not UTF-8, and a byte order mark (U+FEFF) before the value: an event
 *     line is never the start of a file but for line 1, and no line may start with one;
 *   - a NUL character, as a byte or as \u0000 (C strings cannot hold it);
 *   - a key named twice in one object, at any depth (cJSON reads the first, jq and
 *     python3 the last);
 *   - arrays and objects nested deeper than HIVE_JSON_DEPTH_MAX.
 * Ownership as in err.h: parsed trees belong to the caller (cJSON_Delete), but for trees
 * parsed into an arena, which belong to the arena.
 */

/* The one nesting limit: arrays and objects inside one another, counting the outermost
 * as 1. A whole event line must fit, so the event object itself is level 1, details 2 and
 * details.configuration 3: a --json object (merged into configuration) may be 62 deep.
 * The reader, hive-emit's writer and the gate all use this value. */
#define HIVE_JSON_DEPTH_MAX 64

struct cJSON;

/* Parse exactly one JSON value from buf[0..len) (not NUL-terminated; RFC whitespace may
 * surround it). Returns a new tree the caller owns, or NULL when the text is not strict
 * JSON (see above): then err (which may be NULL) says why as "byte N: REASON", N counting
 * from 1 (`byte 12: leading zero in a number`, `byte 40: duplicate key "prev"`), status
 * HIVE_EUSAGE; or "out of memory" with HIVE_EENV. The first thing wrong in the text is
 * named, but a duplicate key only once the rest is known to be JSON: text that is not JSON
 * at all gets hive_json_check's reason, and of several duplicates the one named again
 * first. */
struct cJSON *hive_json_parse_why(const char *buf, size_t len, struct hive_err *err);

/* hive_json_parse_why without the reason. */
struct cJSON *hive_json_parse(const char *line, size_t len);

/* Check that buf[0..len) is strict JSON text without building a tree: the grammar, UTF-8,
 * NUL and depth rules above, but not duplicate keys (those need the keys decoded). Returns
 * HIVE_OK, or HIVE_EUSAGE with err (may be NULL) saying why, as hive_json_parse_why. */
int hive_json_check(const char *buf, size_t len, struct hive_err *err);

/* A bump allocator for short-lived cJSON trees: hive-check parses every line of a log
 * and drops it a few microseconds later, and malloc and free of its nodes were a fifth
 * of its time. Embed one zeroed (HIVE_ARENA_INIT); it grows in 64 KiB chunks. */
struct hive_arena_chunk;
struct hive_arena {
	struct hive_arena_chunk *chunks; /* newest first; the last is kept across resets */
};
#define HIVE_ARENA_INIT                                                                            \
	{                                                                                          \
		NULL                                                                               \
	}

/* hive_json_parse_why, with every node and string of the tree taken from the arena. The
 * tree is freed with the arena (hive_arena_reset or hive_arena_release), never with
 * cJSON_Delete, and must not be changed (no cJSON_Add*, Delete*, Replace*). NULL and err
 * as for hive_json_parse_why. cJSON's allocation hooks are not touched: two threads may
 * each parse into an arena of their own. */
struct cJSON *hive_json_parse_in_why(struct hive_arena *a, const char *buf, size_t len,
				     struct hive_err *err);

/* hive_json_parse_in_why without the reason. */
struct cJSON *hive_json_parse_in(struct hive_arena *a, const char *line, size_t len);

/* Free every tree parsed into the arena, keeping one chunk for the next. */
void hive_arena_reset(struct hive_arena *a);

/* Free the arena's memory. The arena may be used again. */
void hive_arena_release(struct hive_arena *a);

/* obj[key] when it is a string (borrowed from obj), else NULL. */
const char *hive_json_str(const struct cJSON *obj, const char *key);

/* The offset of the first NUL character in JSON text s[0..len): a NUL byte, or a \u0000
 * escape inside a string (C strings cannot hold either, and cJSON would cut the string
 * there). len when there is none. The reader refuses text that holds one; this finds it
 * for a message that names the column. */
size_t hive_json_find_nul(const char *s, size_t len);

/* The first key that object obj names twice (borrowed from obj), or NULL: for a tree
 * built in memory, which the reader has not seen. Sets *oom (and returns NULL) when out
 * of memory; obj need not be an object (NULL then). */
const char *hive_json_duplicate_key(const struct cJSON *obj, int *oom);

/* The nesting depth of a tree: 0 for a scalar, 1 for [] or {} of scalars, and so on.
 * Stops counting (and returns limit + 1) once past limit, so a deep tree costs no more. */
int hive_json_depth(const struct cJSON *item, int limit);

/* Is s[0..len) well-formed UTF-8: no stray or missing continuation bytes, overlong forms,
 * surrogates or code points past U+10FFFF? 1 or 0 (NUL bytes are UTF-8). */
int hive_utf8_valid(const char *s, size_t len);

#endif
