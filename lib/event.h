/* event.h - build and validate events: the one schema both hive-emit and hive-check use */
#ifndef HIVE_EVENT_H
#define HIVE_EVENT_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "err.h"

struct cJSON;

/* The most bytes of a tool_used event's configuration.input and configuration.error: the
 * summary of what an agent gave a tool, and what went wrong (SPEC 12). Longer text is cut
 * at a character boundary by the writer (lib/agent.c) and refused by the schema. */
#define HIVE_TOOL_SUMMARY_MAX 1024

/* Is type an event type hive knows (built in, or in the config's events.types)? */
int hive_event_type_known(const char *type, const struct hive_config *cfg);

/* Is type one of the seed's five resource-change types (deployment_configured, …)? */
int hive_event_type_is_change(const char *type);

/* Is type written only by the tools (session_started, session_completed)? */
int hive_event_type_is_internal(const char *type);

/*
 * Validate the `details` of an event of the given type (SPEC 3). HIVE_OK, or HIVE_EUSAGE
 * with a message naming the field and the allowed values:
 * `details.action: "destroy" is not one of create, update, delete`.
 */
int hive_event_validate_details(const char *type, const struct cJSON *details,
				const struct hive_config *cfg, struct hive_err *err);

/* The largest seq a log may hold: 2^53, the last integer a JSON reader keeps exactly. */
#define HIVE_SEQ_MAX 9007199254740992.0

/* Is v a seq: a whole number from 1 to HIVE_SEQ_MAX (checked before any cast, which would
 * be undefined out of range)? */
int hive_seq_ok(double v);

/*
 * Validate a whole event line as read back from EVENTS.jsonl: every key of SPEC 3 with
 * its type, no others, and the details rules above. HIVE_OK or HIVE_EUSAGE.
 */
int hive_event_validate(const struct cJSON *event, const struct hive_config *cfg,
			struct hive_err *err);

/*
 * Put details in canonical order (resource, action, platform, configuration, status,
 * then anything else) and give `configuration` its default {}. Modifies in place.
 */
void hive_event_normalize_details(const char *type, struct cJSON *details);

/*
 * Build a complete event in SPEC 3's key order. Takes ownership of details, git and ci
 * (each may be a JSON null); prev NULL means line 1. Returns NULL when out of memory.
 */
struct cJSON *hive_event_build(int64_t seq, const char *timestamp, const char *type,
			       const char *worker, const char *session_id, struct cJSON *details,
			       struct cJSON *git, struct cJSON *ci, const char *prev);

/*
 * Apply `KEY=VALUE` (a string) or `KEY:=JSON` (a typed value) to obj; dotted keys
 * (`tags.team=infra`) make nested objects. HIVE_EUSAGE on a malformed argument or JSON
 * (obj is then as it was).
 */
int hive_event_apply_kv(struct cJSON *obj, const char *arg, struct hive_err *err);

/*
 * A name index for applying many KEY=VALUE arguments to one object: (object, name) to
 * member, filled an object at a time the first time an argument looks into it. Looking
 * a key up in a cJSON object walks its members, so n arguments cost O(n^2) without it
 * (100,000 took 13.6 s); with it, O(n). A member an argument replaces is kept by the
 * index, not freed, until hive_kv_index_free: no new object can take its address while
 * entries may name it.
 *
 *   ix = hive_kv_index_new();                 NULL when out of memory
 *   hive_event_apply_kv_in(ix, obj, arg, err) as hive_event_apply_kv, any number of
 *                                             times, always on the same obj; HIVE_EENV
 *                                             when out of memory (obj may then hold part
 *                                             of arg: the caller discards it)
 *   hive_kv_index_free(ix);                   accepts NULL; obj stays the caller's
 */
struct hive_kv_index;
struct hive_kv_index *hive_kv_index_new(void);
int hive_event_apply_kv_in(struct hive_kv_index *ix, struct cJSON *obj, const char *arg,
			   struct hive_err *err);
void hive_kv_index_free(struct hive_kv_index *ix);

#endif
