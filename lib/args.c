/* args.c - what hive-emit is given (flags, KEY=VALUE, --json, an NDJSON stream) as events to add */
#include "args.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "event.h"
#include "lines.h"
#include "redact.h"
#include "util.h"

/* Read all of fd (stdin) into a NUL-terminated buffer the caller frees. More than max
 * bytes is HIVE_EUSAGE, and reading stops there. */
static int slurp_fd(int fd, const char *what, size_t max, char **out, size_t *len_out,
		    struct hive_err *err)
{
	size_t cap = 65536, len = 0;
	char *buf = malloc(cap), *nb;
	ssize_t n;

	*out = NULL;
	if (!buf)
		return hive_err_set(err, HIVE_EENV, "out of memory");
	for (;;) {
		if (len + 1 >= cap) {
			if (!(nb = realloc(buf, cap *= 2))) {
				free(buf);
				return hive_err_set(err, HIVE_EENV, "out of memory");
			}
			buf = nb;
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			free(buf);
			return hive_err_sys(err, HIVE_EENV, errno, "%s", what);
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > max) {
			free(buf);
			return hive_err_set(err, HIVE_EUSAGE,
					    "%s: more than %zu bytes (%zu MiB), the most one input "
					    "may hold",
					    what, max, max >> 20);
		}
	}
	buf[len] = '\0';
	*out = buf;
	*len_out = len;
	return HIVE_OK;
}

int hive_args_read_fd(int fd, const char *what, size_t max, char **out, size_t *len,
		      struct hive_err *err)
{
	return slurp_fd(fd, what, max, out, len, err);
}

/* --json JSON|@FILE|-: the object to merge into configuration (caller owns *out). */
static int read_json_opt(const char *arg, cJSON **out, struct hive_err *err)
{
	char *buf = NULL, q[128];
	size_t len = 0;
	int rc = HIVE_OK;
	const char *src = arg;

	*out = NULL;
	if (!strcmp(arg, "-")) {
		if ((rc = slurp_fd(0, "standard input", HIVE_INPUT_MAX, &buf, &len, err))) {
			hive_err_prefix(err, "--json");
			return rc;
		}
		src = "standard input";
	} else if (arg[0] == '@') {
		if ((rc = hive_read_file(AT_FDCWD, arg + 1, 0, HIVE_INPUT_MAX, &buf, &len, err))) {
			hive_err_prefix(err, "--json");
			return rc;
		}
		src = arg + 1;
	}
	*out = buf ? hive_json_parse_why(buf, len, err)
		   : hive_json_parse_why(arg, strlen(arg), err);
	free(buf);
	if (!*out) {
		/* the reason, not the text: it may be megabytes, or a thousand brackets */
		if (buf || arg[0] == '@' || !strcmp(arg, "-"))
			hive_err_prefix(err, "--json: %s: not valid JSON", src);
		else
			hive_err_prefix(err, "--json: not valid JSON");
		return err->status;
	}
	if (!cJSON_IsObject(*out)) {
		cJSON_Delete(*out);
		*out = NULL;
		return hive_err_set(err, HIVE_EUSAGE, "--json: %s is not a JSON object",
				    buf || arg[0] == '@' || !strcmp(arg, "-")
					    ? src
					    : hive_quote(q, sizeof(q), arg));
	}
	return HIVE_OK;
}

int hive_args_details(const struct hive_args_fields *o, char **args, int nargs, cJSON **out,
		      struct hive_err *err)
{
	cJSON *details = cJSON_CreateObject(), *conf = NULL;
	struct hive_kv_index *ix = NULL;
	int i, rc;

	*out = NULL;
	if (o->json) {
		if ((rc = read_json_opt(o->json, &conf, err))) {
			cJSON_Delete(details);
			return rc;
		}
	} else {
		conf = cJSON_CreateObject();
	}
	if (nargs > 0 && !(ix = hive_kv_index_new())) {
		cJSON_Delete(conf);
		cJSON_Delete(details);
		return hive_err_set(err, HIVE_EENV, "out of memory");
	}
	for (i = 0; i < nargs; i++) {
		if ((rc = hive_event_apply_kv_in(ix, conf, args[i], err))) {
			hive_kv_index_free(ix);
			cJSON_Delete(conf);
			cJSON_Delete(details);
			return rc;
		}
	}
	hive_kv_index_free(ix);
	if (o->resource)
		cJSON_AddStringToObject(details, "resource", o->resource);
	if (o->action)
		cJSON_AddStringToObject(details, "action", o->action);
	if (o->platform)
		cJSON_AddStringToObject(details, "platform", o->platform);
	cJSON_AddItemToObject(details, "configuration", conf);
	if (o->status)
		cJSON_AddStringToObject(details, "status", o->status);
	*out = details;
	return HIVE_OK;
}

/* Fields a stream line may carry: the partial event, or a whole event from another
 * hive-emit (whose stamps are replaced by this session's). */
static int stream_key_ok(const char *k)
{
	static const char *keys[] = {"event_type", "details", "seq", "timestamp", "worker",
				     "session_id", "git",     "ci",  "prev"};
	size_t i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (!strcmp(k, keys[i]))
			return 1;
	return 0;
}

int hive_args_prepare(const struct hive_config *cfg, struct hive_redactor *red, const char *type,
		      cJSON *details, int *redacted, struct hive_err *err)
{
	char q[128];
	int n;

	if (hive_event_type_is_internal(type))
		return hive_err_set(
			err, HIVE_EUSAGE, "event_type: %s is written by %s, not hive-emit",
			hive_quote(q, sizeof(q), type),
			strcmp(type, "session_started") ? "hive-runbook --finish" : "hive-init");
	if (!hive_event_type_known(type, cfg))
		return hive_event_validate_details(type, details, cfg, err);
	if (cJSON_IsObject(details))
		hive_event_normalize_details(type, details);
	if ((n = hive_redact(red, details, 1)) < 0)
		return hive_err_set(err, HIVE_EENV, "out of memory");
	*redacted += n;
	return hive_event_validate_details(type, details, cfg, err);
}

int hive_args_stream(int fd, const struct hive_config *cfg, struct hive_redactor *red,
		     struct hive_args_events *b, int *redacted, struct hive_err *err)
{
	struct hive_lines *r = NULL;
	enum hive_line_kind kind;
	const char *line;
	size_t len, i;
	cJSON *obj, *type, *details, *item;
	int got, rc = HIVE_OK;
	char q[128];

	if ((rc = hive_lines_from_fd(fd, &r, err)))
		return rc;
	hive_lines_limit(r, HIVE_INPUT_MAX);
	while ((got = hive_lines_next(r, &line, &len, &kind, err)) > 0) {
		size_t no = hive_lines_number(r);
		for (i = 0; i < len && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r'); i++)
			;
		if (i == len && kind != HIVE_LINE_TOO_LONG)
			continue; /* blank line */
		if (kind == HIVE_LINE_TOO_LONG) {
			rc = hive_err_set(err, HIVE_EUSAGE, "stdin:%zu: longer than %d bytes", no,
					  HIVE_LINE_MAX);
			break;
		}
		if ((i = hive_json_find_nul(line, len)) != len) {
			rc = hive_err_set(
				err, HIVE_EUSAGE,
				"stdin:%zu:%zu: a NUL character (an event holds text, and "
				"text holds no NUL)",
				no, i + 1);
			break;
		}
		if (!(obj = hive_json_parse_why(line, len, err))) {
			rc = err->status;
			hive_err_prefix(err, "stdin:%zu: not valid JSON", no);
			break;
		}
		if (!cJSON_IsObject(obj)) {
			cJSON_Delete(obj);
			rc = hive_err_set(err, HIVE_EUSAGE, "stdin:%zu: not a JSON object", no);
			break;
		}
		cJSON_ArrayForEach(item, obj)
		{
			if (!stream_key_ok(item->string)) {
				rc = hive_err_set(err, HIVE_EUSAGE,
						  "stdin:%zu: unknown key %s (a line is "
						  "{\"event_type\":...,\"details\":{...}})",
						  no, hive_quote(q, sizeof(q), item->string));
				break;
			}
		}
		type = cJSON_GetObjectItemCaseSensitive(obj, "event_type");
		details = cJSON_GetObjectItemCaseSensitive(obj, "details");
		if (!rc && !cJSON_IsString(type))
			rc = hive_err_set(err, HIVE_EUSAGE,
					  "stdin:%zu: event_type: missing or not a string", no);
		if (!rc && b->n >= HIVE_STREAM_EVENTS_MAX)
			rc = hive_err_set(err, HIVE_EUSAGE,
					  "stdin:%zu: more than %d events, the most one stream may "
					  "hold: split it",
					  no, HIVE_STREAM_EVENTS_MAX);
		if (!rc && !details)
			details = cJSON_AddObjectToObject(obj, "details");
		if (!rc &&
		    (rc = hive_args_prepare(cfg, red, type->valuestring, details, redacted, err)))
			hive_err_prefix(err, "stdin:%zu", no);
		if (rc || hive_args_events_add(b, obj, type->valuestring, details) < 0) {
			cJSON_Delete(obj);
			if (!rc)
				rc = hive_err_set(err, HIVE_EENV, "out of memory");
			break;
		}
	}
	if (got < 0) {
		rc = err->status ? err->status : HIVE_EENV;
		if (rc == HIVE_EUSAGE)
			hive_err_prefix(err, "stdin");
	}
	hive_lines_free(r);
	return rc;
}

int hive_args_events_add(struct hive_args_events *b, cJSON *owner, const char *type, cJSON *details)
{
	if (b->n == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 16;
		struct hive_args_event *v = realloc(b->v, cap * sizeof(*v));
		cJSON **ow;
		if (!v)
			return -1;
		b->v = v;
		if (!(ow = realloc(b->owners, cap * sizeof(*ow))))
			return -1;
		b->owners = ow;
		b->cap = cap;
	}
	b->v[b->n].type = type;
	b->v[b->n].details = details;
	b->owners[b->n++] = owner;
	return 0;
}

void hive_args_events_free(struct hive_args_events *b)
{
	size_t i;

	for (i = 0; i < b->n; i++)
		cJSON_Delete(b->owners[i]);
	free(b->v);
	free(b->owners);
	memset(b, 0, sizeof(*b));
}
