/* fuzz_event.c - libFuzzer: one EVENTS.jsonl line through hive-check's and hive-emit's paths
 *
 * The input is one line as hive-check reads it: the secrets prefilter over the raw bytes,
 * hive_json_parse_in (its per-line arena), which must build the same tree as
 * hive_json_parse (and hive_json_check and hive_json_parse_why, which must agree and say why
 * they refuse, and cJSON's own parser, whose tree the reader's must be node for node),
 * hive_event_validate and, for a valid event, the STATE.json fold. Then as
 * hive-emit treats a stream line: normalise and redact the details, validate them, and
 * check that the redacted details hold nothing the gate's secrets rule would report.
 */
#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../lib/config.h"
#include "../../lib/event.h"
#include "../../lib/redact.h"
#include "../../lib/state.h"
#include "../../lib/util.h"

static struct hive_config cfg;
static struct hive_redactor *red;
static struct hive_arena arena = HIVE_ARENA_INIT;

/* The two trees print the same. (Not cJSON_Compare: it calls 1e999, read as infinity,
 * unequal to itself.) */
static int same_tree(const cJSON *a, const cJSON *b)
{
	char *ta = cJSON_PrintUnformatted(a), *tb = cJSON_PrintUnformatted(b);
	int same = ta && tb && !strcmp(ta, tb);

	free(ta);
	free(tb);
	return same;
}

/* a and b are the same tree node for node: types, keys, values (the double to the bit) and
 * cJSON's links (a head's prev is the tail). */
static int same_nodes(const cJSON *a, const cJSON *b)
{
	const cJSON *x, *y;

	if (a->type != b->type || !a->string != !b->string ||
	    (a->string && strcmp(a->string, b->string)) || !a->valuestring != !b->valuestring ||
	    (a->valuestring && strcmp(a->valuestring, b->valuestring)) ||
	    a->valueint != b->valueint || memcmp(&a->valuedouble, &b->valuedouble, sizeof(double)))
		return 0;
	for (x = a->child, y = b->child; x && y; x = x->next, y = y->next)
		if (!same_nodes(x, y) || (x->next ? x->next->prev != x : a->child->prev != x) ||
		    (y->next ? y->next->prev != y : b->child->prev != y))
			return 0;
	return !x && !y;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct hive_err err = {0};

	(void)argc;
	(void)argv;
	hive_config_init(&cfg);
	if (hive_redactor_new(&cfg, &red, &err))
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *line = (const char *)data;
	struct hive_err err = {0};
	cJSON *ev, *state = NULL, *type, *details, *in_arena;
	char hash[HIVE_HASH_SIZE], *text;
	size_t at;
	int valid;

	/* hive-check: the raw line, parsed into the arena */
	(void)hive_redactor_find(red, line, size, &at);
	in_arena = hive_json_parse_in(&arena, line, size);
	ev = hive_json_parse(line, size);
	if (!ev != !in_arena || (ev && !same_tree(ev, in_arena))) {
		fprintf(stderr, "hive_json_parse_in and hive_json_parse disagree\n");
		abort();
	}
	/* the strict reader says why it refuses, and its pass alone agrees with the parse */
	{
		struct hive_err why = {0}, why_check = {0};
		int checked = hive_json_check(line, size, &why_check);
		cJSON *again = hive_json_parse_why(line, size, &why);

		if (!again != !ev || (checked != HIVE_OK && again) ||
		    (!again && strncmp(why.msg, "byte ", 5) && strcmp(why.msg, "out of memory")) ||
		    (checked != HIVE_OK && strcmp(why.msg, why_check.msg)) ||
		    (again && hive_json_depth(again, HIVE_JSON_DEPTH_MAX) > HIVE_JSON_DEPTH_MAX)) {
			fprintf(stderr, "the strict reader disagrees with itself: %s\n", why.msg);
			abort();
		}
		cJSON_Delete(again);
	}
	/* what the reader takes, cJSON takes too, and builds the same tree */
	if (ev) {
		cJSON *theirs = cJSON_ParseWithLength(line, size);
		if (!theirs || !same_nodes(ev, theirs)) {
			fprintf(stderr, "the reader's tree is not cJSON's\n");
			abort();
		}
		cJSON_Delete(theirs);
	}
	valid = in_arena && hive_event_validate(in_arena, &cfg, &err) == HIVE_OK;
	hive_arena_reset(&arena);
	if (!ev)
		return 0;
	if ((hive_event_validate(ev, &cfg, &err) == HIVE_OK) != valid) {
		fprintf(stderr, "an event valid in one tree and not in the other\n");
		abort();
	}
	if (valid) {
		hive_sha256(line, size, hash);
		(void)hive_state_apply(&state, ev, hash, &err);
		(void)hive_state_is_closed(state);
		(void)hive_state_matches_tail(state, 1, hash);
		cJSON_Delete(state);
	}

	/* hive-emit: a stream line {"event_type":…,"details":{…}} */
	type = cJSON_GetObjectItemCaseSensitive(ev, "event_type");
	details = cJSON_GetObjectItemCaseSensitive(ev, "details");
	if (cJSON_IsString(type) && details && hive_event_type_known(type->valuestring, &cfg) &&
	    !hive_event_type_is_internal(type->valuestring)) {
		if (cJSON_IsObject(details))
			hive_event_normalize_details(type->valuestring, details);
		if (hive_redact(red, details, HIVE_REDACT_DETAILS) >= 0 &&
		    hive_event_validate_details(type->valuestring, details, &cfg, &err) ==
			    HIVE_OK &&
		    (text = cJSON_PrintUnformatted(details))) {
			/* what hive-emit writes, hive-check must not call a secret: neither its
			 * scan for the token shapes (the raw bytes, or the decoded strings of a
			 * line with escapes) nor that of the decoded strings (every rule, key
			 * names too) */
			const char *rule = NULL;

			at = 0;
			if (strchr(text, '\\')
				    ? hive_redactor_scan_json(red, details, HIVE_REDACT_SHAPES,
							      NULL, NULL) > 0
				    : (rule = hive_redactor_find_shape(red, text, strlen(text),
								       &at)) != NULL)
				rule = rule ? rule : "shape (decoded)";
			if (!rule &&
			    hive_redactor_scan_json(red, details, HIVE_REDACT_DETAILS, NULL, NULL))
				rule = "rule (decoded)";
			if (rule) {
				fprintf(stderr, "redacted details still hold a %s at %zu: %s\n",
					rule, at, text);
				abort();
			}
			free(text);
		}
	}
	(void)hive_redact(red, ev, HIVE_REDACT_CONTEXT);
	cJSON_Delete(ev);
	return 0;
}
