/* args.h - what hive-emit is given (flags, KEY=VALUE, --json, an NDJSON stream) as events to add */
#ifndef HIVE_ARGS_H
#define HIVE_ARGS_H

#include <stddef.h>

#include "config.h"
#include "err.h"

struct cJSON;
struct hive_redactor;

/*
 * What one hive-emit run reads at most (man/hive-emit.1, LIMITS). Past either, the run is
 * refused (HIVE_EUSAGE, nothing written) as soon as the input goes past it, so an endless
 * or huge stdin costs a bounded time and memory:
 *   - any input: 16 MiB, whether an NDJSON stream on stdin, --json - or --json @FILE;
 *   - a stream: 100,000 events (each stamped event is held until all are checked);
 *   - a line: HIVE_LINE_MAX (1 MiB), as every event line (SPEC 3).
 */
#define HIVE_INPUT_MAX	       (16 * 1024 * 1024)
#define HIVE_STREAM_EVENTS_MAX 100000

/* The single-event form's fields (borrowed from argv). */
struct hive_args_fields {
	const char *resource, *action, *platform, *status;
	const char *json; /* --json JSON|@FILE|- */
};

/* One event to add: its type and details, borrowed from owner. */
struct hive_args_event {
	const char *type;
	struct cJSON *details;
};

/* The events of one hive-emit run, with the JSON that owns them. */
struct hive_args_events {
	struct hive_args_event *v;
	struct cJSON **owners;
	size_t n, cap;
};

/*
 * The details of the single-event form: the fields, --json merged into configuration,
 * then each KEY=VALUE or KEY:=JSON of kv[0..nkv), in time linear in nkv (a name index,
 * not a scan of configuration per argument). *out belongs to the caller. HIVE_EUSAGE
 * naming the bad argument, or a --json @FILE or --json - that is missing, not a regular
 * file or larger than HIVE_INPUT_MAX (nothing allocated); HIVE_EENV when reading fails.
 */
int hive_args_details(const struct hive_args_fields *f, char **kv, int nkv, struct cJSON **out,
		      struct hive_err *err);

/*
 * Make one event ready to add: refuse the types only the tools write, put known types'
 * details in canonical order, redact them (adding the count to *redacted) and validate
 * them with the schema. HIVE_EUSAGE naming the field; HIVE_EENV when out of memory.
 */
int hive_args_prepare(const struct hive_config *cfg, struct hive_redactor *red, const char *type,
		      struct cJSON *details, int *redacted, struct hive_err *err);

/* Add an event whose strings belong to owner (taken over: freed with the list). -1 when
 * out of memory (owner is then still the caller's). */
int hive_args_events_add(struct hive_args_events *b, struct cJSON *owner, const char *type,
			 struct cJSON *details);

/*
 * Read an NDJSON stream from fd, one {"event_type":…,"details":{…}} per line (blank lines
 * skipped), each prepared as above, into b. Every line is checked before any is kept for
 * writing: HIVE_EUSAGE names "stdin:LINE" and what is wrong, or says the stream holds more
 * than HIVE_INPUT_MAX bytes or HIVE_STREAM_EVENTS_MAX events (reading stops there);
 * HIVE_EENV when reading fails. b then holds what was read before it (the caller frees it
 * and writes nothing).
 */
int hive_args_stream(int fd, const struct hive_config *cfg, struct hive_redactor *red,
		     struct hive_args_events *b, int *redacted, struct hive_err *err);

/* Read all of fd into a NUL-terminated buffer (*out the caller's; *len its length): what
 * `what` names in messages ("stdin"). More than max bytes is HIVE_EUSAGE, reading stopping
 * there; a read error HIVE_EENV. */
int hive_args_read_fd(int fd, const char *what, size_t max, char **out, size_t *len,
		      struct hive_err *err);

/* Free the list and the JSON it owns. Accepts an empty list. */
void hive_args_events_free(struct hive_args_events *b);

#endif
