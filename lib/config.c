/* config.c - .hive.yml and worker front matter through libyaml's document API */
#include "config.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

#define CONFIG_MAX (1024 * 1024)

/* What the walker needs to name a position: the file name and a line offset (front matter
 * starts one line into its file). */
struct where {
	const char *name;
	size_t line_offset;
};

static int node_err(const struct where *w, const yaml_node_t *node, struct hive_err *err,
		    const char *msg)
{
	return hive_err_set(err, HIVE_EUSAGE, "%s:%zu:%zu: %s", w->name,
			    node->start_mark.line + 1 + w->line_offset, node->start_mark.column + 1,
			    msg);
}

static const char *scalar(const yaml_node_t *node)
{
	return node->type == YAML_SCALAR_NODE ? (const char *)node->data.scalar.value : NULL;
}

/* A plain scalar that YAML would read as null (`key:` or `key: ~`). */
static int is_null(const yaml_node_t *node)
{
	const char *s = scalar(node);

	return s && node->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
	       (!*s || !strcmp(s, "~") || !strcmp(s, "null") || !strcmp(s, "Null") ||
		!strcmp(s, "NULL"));
}

static int parse_load(yaml_document_t *doc, const struct where *w, const char *buf, size_t len,
		      struct hive_err *err)
{
	yaml_parser_t parser;
	int rc = HIVE_OK;

	if (!yaml_parser_initialize(&parser))
		return hive_err_set(err, HIVE_EENV, "out of memory");
	yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
	if (!yaml_parser_load(&parser, doc))
		goto syntax;
	/* yaml_parser_load reads one document: make sure there is no second one, which
	 * would otherwise be silently ignored */
	if (yaml_document_get_root_node(doc)) {
		yaml_document_t next;
		if (!yaml_parser_load(&parser, &next)) {
			yaml_document_delete(doc);
			goto syntax;
		}
		if (yaml_document_get_root_node(&next)) {
			rc = hive_err_set(
				err, HIVE_EUSAGE,
				"%s:%zu:%zu: a second YAML document (only one is allowed)", w->name,
				next.start_mark.line + 1 + w->line_offset,
				next.start_mark.column + 1);
			yaml_document_delete(doc);
		}
		yaml_document_delete(&next);
	}
	yaml_parser_delete(&parser);
	return rc;
syntax:
	rc = hive_err_set(err, HIVE_EUSAGE, "%s:%zu:%zu: %s%s%s", w->name,
			  parser.problem_mark.line + 1 + w->line_offset,
			  parser.problem_mark.column + 1,
			  parser.problem ? parser.problem : "invalid YAML",
			  parser.context ? " " : "", parser.context ? parser.context : "");
	yaml_parser_delete(&parser);
	return rc;
}

static int want_string(const struct where *w, yaml_node_t *node, const char *key, char **out,
		       struct hive_err *err)
{
	char msg[256];

	if (!scalar(node) || is_null(node)) {
		snprintf(msg, sizeof(msg), "%s: expected a string", key);
		return node_err(w, node, err, msg);
	}
	free(*out);
	if (!(*out = strdup(scalar(node))))
		return hive_err_set(err, HIVE_EENV, "out of memory");
	return HIVE_OK;
}

static int want_bool(const struct where *w, yaml_node_t *node, const char *key, int *out,
		     struct hive_err *err)
{
	static const char *yes[] = {"true", "yes", "on"}, *no[] = {"false", "no", "off"};
	const char *s = scalar(node);
	char msg[256];
	size_t i;

	if (s && node->data.scalar.style == YAML_PLAIN_SCALAR_STYLE) {
		for (i = 0; i < 3; i++) {
			if (!strcasecmp(s, yes[i]))
				return *out = 1, HIVE_OK;
			if (!strcasecmp(s, no[i]))
				return *out = 0, HIVE_OK;
		}
	}
	snprintf(msg, sizeof(msg), "%s: expected true or false", key);
	return node_err(w, node, err, msg);
}

static int want_count(const struct where *w, yaml_node_t *node, const char *key, long *out,
		      struct hive_err *err)
{
	const char *s = scalar(node);
	char msg[256], *end;
	long v;

	if (s && node->data.scalar.style == YAML_PLAIN_SCALAR_STYLE && isdigit((unsigned char)*s)) {
		v = strtol(s, &end, 10);
		if (!*end && v > 0 && v < 1000000)
			return *out = v, HIVE_OK;
	}
	snprintf(msg, sizeof(msg), "%s: expected a positive whole number", key);
	return node_err(w, node, err, msg);
}

static int want_strings(const struct where *w, yaml_document_t *doc, yaml_node_t *node,
			const char *key, struct hive_strv *out, struct hive_err *err)
{
	yaml_node_item_t *it;
	yaml_node_t *item;
	char msg[256];

	if (node->type != YAML_SEQUENCE_NODE) {
		snprintf(msg, sizeof(msg), "%s: expected a list of strings", key);
		return node_err(w, node, err, msg);
	}
	for (it = node->data.sequence.items.start; it < node->data.sequence.items.top; it++) {
		item = yaml_document_get_node(doc, *it);
		if (!scalar(item) || is_null(item) || !*scalar(item)) {
			snprintf(msg, sizeof(msg), "%s: expected a non-empty string", key);
			return node_err(w, item, err, msg);
		}
		if (hive_strv_push(out, scalar(item)) < 0)
			return hive_err_set(err, HIVE_EENV, "out of memory");
	}
	return HIVE_OK;
}

/* One key of a mapping the walker knows: its name, and how to read its value. */
struct key_rule {
	const char *name;
	int (*read)(const struct where *w, yaml_document_t *doc, yaml_node_t *value,
		    const char *path, void *ctx, struct hive_err *err);
};

/* Walk a mapping: every key must be one of rules (else "unknown key"), none twice. */
static int walk_mapping(const struct where *w, yaml_document_t *doc, yaml_node_t *map,
			const char *path, const struct key_rule *rules, size_t nrules, void *ctx,
			struct hive_err *err)
{
	yaml_node_pair_t *pair, *prev;
	yaml_node_t *key, *value;
	char msg[512], full[256], q[128];
	size_t i;
	int rc;

	if (map->type != YAML_MAPPING_NODE) {
		snprintf(msg, sizeof(msg), "%s%sexpected a mapping", path, *path ? ": " : "");
		return node_err(w, map, err, msg);
	}
	for (pair = map->data.mapping.pairs.start; pair < map->data.mapping.pairs.top; pair++) {
		key = yaml_document_get_node(doc, pair->key);
		value = yaml_document_get_node(doc, pair->value);
		if (!scalar(key))
			return node_err(w, key, err, "expected a string key");
		for (prev = map->data.mapping.pairs.start; prev < pair; prev++) {
			const char *k2 = scalar(yaml_document_get_node(doc, prev->key));
			if (k2 && !strcmp(k2, scalar(key))) {
				snprintf(msg, sizeof(msg), "duplicate key %s",
					 hive_quote(q, sizeof(q), scalar(key)));
				return node_err(w, key, err, msg);
			}
		}
		snprintf(full, sizeof(full), "%s%s%s", path, *path ? "." : "", scalar(key));
		for (i = 0; i < nrules; i++)
			if (!strcmp(rules[i].name, scalar(key)))
				break;
		if (i == nrules) {
			snprintf(msg, sizeof(msg), "unknown key %s",
				 hive_quote(q, sizeof(q), full));
			return node_err(w, key, err, msg);
		}
		if ((rc = rules[i].read(w, doc, value, full, ctx, err)))
			return rc;
	}
	return HIVE_OK;
}

#define CFG(ctx) ((struct hive_config *)(ctx))

static int rd_root(const struct where *w, yaml_document_t *d, yaml_node_t *v, const char *p,
		   void *c, struct hive_err *e)
{
	(void)d;
	return want_string(w, v, p, &CFG(c)->root, e);
}
static int rd_worker(const struct where *w, yaml_document_t *d, yaml_node_t *v, const char *p,
		     void *c, struct hive_err *e)
{
	(void)d;
	return want_string(w, v, p, &CFG(c)->worker, e);
}
static int rd_workers_dir(const struct where *w, yaml_document_t *d, yaml_node_t *v, const char *p,
			  void *c, struct hive_err *e)
{
	(void)d;
	return want_string(w, v, p, &CFG(c)->workers_dir, e);
}
static int rd_git_dirty(const struct where *w, yaml_document_t *d, yaml_node_t *v, const char *p,
			void *c, struct hive_err *e)
{
	(void)d;
	return want_bool(w, v, p, &CFG(c)->git_dirty, e);
}

/* Is s a valid configured name: an event type ([a-z][a-z0-9_]*) or a platform
 * ([A-Za-z0-9_-]+)? */
static int name_ok(const char *s, int event_type)
{
	if (event_type && !islower((unsigned char)*s))
		return 0;
	for (; *s; s++) {
		if (event_type ? (islower((unsigned char)*s) || isdigit((unsigned char)*s) ||
				  *s == '_')
			       : (isalnum((unsigned char)*s) || *s == '_' || *s == '-'))
			continue;
		return 0;
	}
	return 1;
}

static int check_names(const struct where *w, yaml_document_t *d, yaml_node_t *v, const char *p,
		       struct hive_strv *sv, size_t from, int event_type, struct hive_err *e)
{
	yaml_node_item_t *it = v->data.sequence.items.start;
	char msg[256], q[128];
	size_t i;

	for (i = from; i < sv->n; i++, it++) {
		if (name_ok(sv->v[i], event_type))
			continue;
		snprintf(msg, sizeof(msg), "%s: %s is not a valid %s", p,
			 hive_quote(q, sizeof(q), sv->v[i]),
			 event_type ? "event type (lowercase letters, digits and _, "
				      "starting with a letter)"
				    : "platform (letters, digits, _ and -)");
		return node_err(w, yaml_document_get_node(d, *it), e, msg);
	}
	return HIVE_OK;
}

static int rd_types(const struct where *w, yaml_document_t *d, yaml_node_t *v, const char *p,
		    void *c, struct hive_err *e)
{
	size_t from = CFG(c)->types.n;
	int rc = want_strings(w, d, v, p, &CFG(c)->types, e);

	return rc ? rc : check_names(w, d, v, p, &CFG(c)->types, from, 1, e);
}
static int rd_platforms(const struct where *w, yaml_document_t *d, yaml_node_t *v, const char *p,
			void *c, struct hive_err *e)
{
	size_t from = CFG(c)->platforms.n;
	int rc = want_strings(w, d, v, p, &CFG(c)->platforms, e);

	return rc ? rc : check_names(w, d, v, p, &CFG(c)->platforms, from, 0, e);
}
static int rd_redact_keys(const struct where *w, yaml_document_t *d, yaml_node_t *v, const char *p,
			  void *c, struct hive_err *e)
{
	return want_strings(w, d, v, p, &CFG(c)->redact_keys, e);
}
/* redact.patterns: each compiled by PCRE2 here, matched by the redactor under its limits
 * (redact.h). UTF mode, so `.` and classes take whole characters; PCRE2_MATCH_INVALID_UTF,
 * so a subject that is not UTF-8 (a raw line hive-check reads) is searched, its invalid
 * bytes never matching, instead of refused; \C (one byte of a character) is refused.
 * What glibc's regcomp could not compile in reasonable time or memory (stacked or nested
 * counts, a repeated empty match) PCRE2 compiles at once or refuses as too large; matching
 * that would run away (backtracking, backreferences) stops at the match limit. */
#define PATTERN_OPTIONS (PCRE2_UTF | PCRE2_MATCH_INVALID_UTF | PCRE2_NEVER_BACKSLASH_C)

/* A list of PCRE2 patterns into *out and *n (redact.patterns, policy.agent_require_session). */
static int compile_patterns(const struct where *w, yaml_document_t *d, yaml_node_t *v,
			    const char *p, struct hive_pattern **out, size_t *n, struct hive_err *e)
{
	struct hive_strv sv = {0};
	yaml_node_item_t *it;
	char msg[512], why[256], q[128];
	size_t i;
	int rc;

	if ((rc = want_strings(w, d, v, p, &sv, e)))
		goto out;
	*out = calloc(sv.n ? sv.n : 1, sizeof(**out));
	if (!*out) {
		rc = hive_err_set(e, HIVE_EENV, "out of memory");
		goto out;
	}
	for (i = 0, it = v->data.sequence.items.start; i < sv.n; i++, it++) {
		int code;
		PCRE2_SIZE off;

		(*out)[i].re = pcre2_compile((PCRE2_SPTR)sv.v[i], PCRE2_ZERO_TERMINATED,
					     PATTERN_OPTIONS, &code, &off, NULL);
		if (!(*out)[i].re) {
			if (pcre2_get_error_message(code, (PCRE2_UCHAR *)why, sizeof(why)) < 0)
				snprintf(why, sizeof(why), "error %d", code);
			snprintf(msg, sizeof(msg),
				 "%s: %s is not a valid PCRE2 pattern: %s at offset %zu", p,
				 hive_quote(q, sizeof(q), sv.v[i]), why, (size_t)off);
			rc = node_err(w, yaml_document_get_node(d, *it), e, msg);
			goto out;
		}
		(*out)[i].source = sv.v[i];
		sv.v[i] = NULL;
		(*n)++;
	}
out:
	for (i = 0; i < sv.n; i++)
		free(sv.v[i]);
	free(sv.v);
	return rc;
}

static int rd_patterns(const struct where *w, yaml_document_t *d, yaml_node_t *v, const char *p,
		       void *c, struct hive_err *e)
{
	return compile_patterns(w, d, v, p, &CFG(c)->patterns, &CFG(c)->npatterns, e);
}

static int rd_agent_session(const struct where *w, yaml_document_t *d, yaml_node_t *v,
			    const char *p, void *c, struct hive_err *e)
{
	return compile_patterns(w, d, v, p, &CFG(c)->agent_require_session,
				&CFG(c)->nagent_require_session, e);
}
static int rd_req_clean(const struct where *w, yaml_document_t *d, yaml_node_t *v, const char *p,
			void *c, struct hive_err *e)
{
	return want_strings(w, d, v, p, &CFG(c)->require_clean_tree, e);
}
static int rd_req_ci(const struct where *w, yaml_document_t *d, yaml_node_t *v, const char *p,
		     void *c, struct hive_err *e)
{
	return want_strings(w, d, v, p, &CFG(c)->require_ci, e);
}
static int rd_req_tags(const struct where *w, yaml_document_t *d, yaml_node_t *v, const char *p,
		       void *c, struct hive_err *e)
{
	return want_strings(w, d, v, p, &CFG(c)->require_tags, e);
}
static int rd_req_events(const struct where *w, yaml_document_t *d, yaml_node_t *v, const char *p,
			 void *c, struct hive_err *e)
{
	return want_strings(w, d, v, p, &CFG(c)->require_events, e);
}
static int rd_req_rollback(const struct where *w, yaml_document_t *d, yaml_node_t *v, const char *p,
			   void *c, struct hive_err *e)
{
	(void)d;
	return want_bool(w, v, p, &CFG(c)->require_rollback, e);
}
static int rd_max_minutes(const struct where *w, yaml_document_t *d, yaml_node_t *v, const char *p,
			  void *c, struct hive_err *e)
{
	(void)d;
	return want_count(w, v, p, &CFG(c)->max_session_minutes, e);
}

static int rd_req_signed(const struct where *w, yaml_document_t *d, yaml_node_t *v, const char *p,
			 void *c, struct hive_err *e)
{
	(void)d;
	return want_count(w, v, p, &CFG(c)->require_signed, e);
}
static int rd_req_completed(const struct where *w, yaml_document_t *d, yaml_node_t *v,
			    const char *p, void *c, struct hive_err *e)
{
	(void)d;
	return want_count(w, v, p, &CFG(c)->require_completed, e);
}
static int rd_req_infra(const struct where *w, yaml_document_t *d, yaml_node_t *v, const char *p,
			void *c, struct hive_err *e)
{
	(void)d;
	return want_bool(w, v, p, &CFG(c)->require_infra_events, e);
}
static int rd_signing_key(const struct where *w, yaml_document_t *d, yaml_node_t *v, const char *p,
			  void *c, struct hive_err *e)
{
	(void)d;
	return want_string(w, v, p, &CFG(c)->signing_key, e);
}
static int rd_allowed_signers(const struct where *w, yaml_document_t *d, yaml_node_t *v,
			      const char *p, void *c, struct hive_err *e)
{
	(void)d;
	return want_string(w, v, p, &CFG(c)->allowed_signers, e);
}

static int rd_publish_ref(const struct where *w, yaml_document_t *d, yaml_node_t *v, const char *p,
			  void *c, struct hive_err *e)
{
	(void)d;
	return want_string(w, v, p, &CFG(c)->publish_ref, e);
}

static const struct key_rule git_rules[] = {{"dirty", rd_git_dirty}};
static const struct key_rule events_rules[] = {{"types", rd_types}, {"platforms", rd_platforms}};
static const struct key_rule redact_rules[] = {{"keys", rd_redact_keys}, {"patterns", rd_patterns}};
static const struct key_rule policy_rules[] = {
	{"require_clean_tree", rd_req_clean},	{"require_ci", rd_req_ci},
	{"require_tags", rd_req_tags},		{"require_events", rd_req_events},
	{"require_rollback", rd_req_rollback},	{"max_session_minutes", rd_max_minutes},
	{"require_signed", rd_req_signed},	{"require_completed", rd_req_completed},
	{"require_infra_events", rd_req_infra}, {"agent_require_session", rd_agent_session},
};
static const struct key_rule trust_rules[] = {
	{"signing_key", rd_signing_key},
	{"allowed_signers", rd_allowed_signers},
};
static const struct key_rule publish_rules[] = {{"ref", rd_publish_ref}};

#define NRULES(a) (sizeof(a) / sizeof((a)[0]))
#define SECTION(fn, rules)                                                                         \
	static int fn(const struct where *w, yaml_document_t *d, yaml_node_t *v, const char *p,    \
		      void *c, struct hive_err *e)                                                 \
	{                                                                                          \
		return walk_mapping(w, d, v, p, rules, NRULES(rules), c, e);                       \
	}
SECTION(rd_git, git_rules)
SECTION(rd_events, events_rules)
SECTION(rd_redact, redact_rules)
SECTION(rd_policy, policy_rules)
SECTION(rd_trust, trust_rules)
SECTION(rd_publish, publish_rules)

static const struct key_rule top_rules[] = {
	{"root", rd_root},     {"worker", rd_worker}, {"workers_dir", rd_workers_dir},
	{"git", rd_git},       {"events", rd_events}, {"redact", rd_redact},
	{"policy", rd_policy}, {"trust", rd_trust},   {"publish", rd_publish},
};

void hive_config_init(struct hive_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->git_dirty = -1;
	cfg->require_rollback = -1;
	cfg->max_session_minutes = -1;
	cfg->require_completed = -1;
	cfg->require_infra_events = -1;
	cfg->require_signed = -1;
}

int hive_config_parse(struct hive_config *cfg, const char *name, const char *buf, size_t len,
		      struct hive_err *err)
{
	struct where w = {name, 0};
	yaml_document_t doc;
	yaml_node_t *root;
	int rc;

	if ((rc = parse_load(&doc, &w, buf, len, err)))
		return rc;
	root = yaml_document_get_root_node(&doc);
	if (root && !is_null(root))
		rc = walk_mapping(&w, &doc, root, "", top_rules, NRULES(top_rules), cfg, err);
	yaml_document_delete(&doc);
	return rc;
}

int hive_config_load(struct hive_config *cfg, const char *path, int optional, struct hive_err *err)
{
	char *buf = NULL;
	size_t len = 0;
	int rc;

	rc = hive_read_file(AT_FDCWD, path, 0, CONFIG_MAX, &buf, &len, err);
	if (rc == HIVE_EUSAGE && optional && err->sys == ENOENT) {
		hive_err_clear(err);
		return HIVE_OK;
	}
	if (rc)
		return rc;
	if (!(cfg->path = strdup(path))) {
		free(buf);
		return hive_err_set(err, HIVE_EENV, "out of memory");
	}
	rc = hive_config_parse(cfg, path, buf, len, err);
	free(buf);
	return rc;
}

void hive_config_free(struct hive_config *cfg)
{
	size_t i;

	if (!cfg)
		return;
	free(cfg->path);
	free(cfg->root);
	free(cfg->worker);
	free(cfg->workers_dir);
	free(cfg->signing_key);
	free(cfg->allowed_signers);
	free(cfg->publish_ref);
	hive_strv_clear(&cfg->types);
	hive_strv_clear(&cfg->platforms);
	hive_strv_clear(&cfg->redact_keys);
	for (i = 0; i < cfg->npatterns; i++) {
		pcre2_code_free(cfg->patterns[i].re);
		free(cfg->patterns[i].source);
	}
	free(cfg->patterns);
	for (i = 0; i < cfg->nagent_require_session; i++) {
		pcre2_code_free(cfg->agent_require_session[i].re);
		free(cfg->agent_require_session[i].source);
	}
	free(cfg->agent_require_session);
	hive_strv_clear(&cfg->require_clean_tree);
	hive_strv_clear(&cfg->require_ci);
	hive_strv_clear(&cfg->require_tags);
	hive_strv_clear(&cfg->require_events);
	hive_config_init(cfg);
}

/* --- worker front matter ------------------------------------------------------------ */

/* A front-matter value as JSON: a scalar is a string; for `tools`, also a comma list. */
static cJSON *fm_string(yaml_node_t *v)
{
	return scalar(v) && !is_null(v) ? cJSON_CreateString(scalar(v)) : cJSON_CreateNull();
}

static int fm_list(const struct where *w, yaml_document_t *doc, yaml_node_t *v, const char *key,
		   cJSON **out, struct hive_err *err)
{
	yaml_node_item_t *it;
	cJSON *arr = cJSON_CreateArray();
	char msg[256];

	*out = arr;
	if (is_null(v)) {
		cJSON_Delete(arr);
		*out = cJSON_CreateNull();
		return HIVE_OK;
	}
	if (scalar(v)) { /* "Bash, Read, Write": the form Claude Code agents use */
		const char *s = scalar(v), *end;
		while (*s) {
			char item[256];
			size_t n;
			while (*s == ' ' || *s == ',')
				s++;
			end = s + strcspn(s, ",");
			n = (size_t)(end - s);
			while (n && s[n - 1] == ' ')
				n--;
			if (n) {
				snprintf(item, sizeof(item), "%.*s", (int)n, s);
				cJSON_AddItemToArray(arr, cJSON_CreateString(item));
			}
			s = end;
		}
		return HIVE_OK;
	}
	if (v->type != YAML_SEQUENCE_NODE) {
		snprintf(msg, sizeof(msg), "%s: expected a list of strings", key);
		return node_err(w, v, err, msg);
	}
	for (it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
		yaml_node_t *item = yaml_document_get_node(doc, *it);
		if (!scalar(item)) {
			snprintf(msg, sizeof(msg), "%s: expected a list of strings", key);
			return node_err(w, item, err, msg);
		}
		cJSON_AddItemToArray(arr, cJSON_CreateString(scalar(item)));
	}
	return HIVE_OK;
}

int hive_worker_profile_parse(const char *source, const char *buf, size_t len, cJSON **out,
			      struct hive_err *err)
{
	static const char *strings[] = {"name", "type", "description", "priority"};
	static const char *lists[] = {"tools", "protocols"};
	struct where w = {source, 1};
	yaml_document_t doc;
	yaml_node_t *root = NULL;
	yaml_node_pair_t *pair;
	const char *p, *body, *end = NULL;
	cJSON *obj = NULL, *v;
	char msg[256];
	size_t i;
	int rc, loaded = 0;

	*out = NULL;
	if (len < 4 || strncmp(buf, "---", 3) || (buf[3] != '\n' && buf[3] != '\r'))
		return hive_err_set(err, HIVE_EUSAGE,
				    "%s:1:1: no YAML front matter (the file must start with ---)",
				    source);
	body = buf + (buf[3] == '\r' ? 5 : 4);
	for (p = body; p < buf + len;
	     p = (const char *)memchr(p, '\n', (size_t)(buf + len - p)) + 1) {
		size_t left = (size_t)(buf + len - p); /* buf need not be NUL-terminated */
		if (left >= 3 && (!memcmp(p, "---", 3) || !memcmp(p, "...", 3)) &&
		    (left == 3 || p[3] == '\n' || p[3] == '\r')) {
			end = p;
			break;
		}
		if (!memchr(p, '\n', (size_t)(buf + len - p)))
			break;
	}
	if (!end)
		return hive_err_set(err, HIVE_EUSAGE,
				    "%s:1:1: front matter is not closed by a --- line", source);
	if ((rc = parse_load(&doc, &w, body, (size_t)(end - body), err)))
		return rc;
	loaded = 1;
	root = yaml_document_get_root_node(&doc);
	if (!root || root->type != YAML_MAPPING_NODE) {
		rc = root ? node_err(&w, root, err, "front matter: expected a mapping")
			  : hive_err_set(err, HIVE_EUSAGE, "%s:2:1: front matter is empty", source);
		goto out;
	}
	obj = cJSON_CreateObject();
	cJSON_AddStringToObject(obj, "source", source);
	for (i = 0; i < 4; i++)
		cJSON_AddNullToObject(obj, strings[i]);
	for (i = 0; i < 2; i++)
		cJSON_AddNullToObject(obj, lists[i]);
	for (pair = root->data.mapping.pairs.start; pair < root->data.mapping.pairs.top; pair++) {
		yaml_node_t *key = yaml_document_get_node(&doc, pair->key);
		yaml_node_t *val = yaml_document_get_node(&doc, pair->value);
		const char *k = scalar(key);
		if (!k)
			continue;
		for (i = 0; i < 4; i++) {
			if (strcmp(k, strings[i]))
				continue;
			if (!scalar(val)) {
				snprintf(msg, sizeof(msg), "%s: expected a string", k);
				rc = node_err(&w, val, err, msg);
				goto out;
			}
			cJSON_ReplaceItemInObjectCaseSensitive(obj, k, fm_string(val));
		}
		for (i = 0; i < 2; i++) {
			if (strcmp(k, lists[i]))
				continue;
			if ((rc = fm_list(&w, &doc, val, k, &v, err))) {
				cJSON_Delete(v);
				goto out;
			}
			cJSON_ReplaceItemInObjectCaseSensitive(obj, k, v);
		}
	}
	*out = obj;
	obj = NULL;
out:
	cJSON_Delete(obj);
	if (loaded)
		yaml_document_delete(&doc);
	return rc;
}

int hive_worker_profile_load(const struct hive_config *cfg, const char *top, const char *worker,
			     cJSON **out, char **missing, struct hive_err *err)
{
	const char *dir = cfg->workers_dir ? cfg->workers_dir : ".claude/agents";
	char rel[4096], full[8192], *buf = NULL;
	size_t len;
	int rc;

	snprintf(rel, sizeof(rel), "%s/%s.md", dir, worker);
	if (rel[0] == '/')
		snprintf(full, sizeof(full), "%s", rel);
	else
		snprintf(full, sizeof(full), "%s/%s", top, rel);
	*out = NULL;
	*missing = NULL;
	rc = hive_read_file(AT_FDCWD, full, 0, 1024 * 1024, &buf, &len, err);
	if (rc == HIVE_EUSAGE && err->sys == ENOENT) {
		hive_err_clear(err);
		if (!(*missing = strdup(rel)) || !(*out = cJSON_CreateNull())) {
			free(*missing);
			*missing = NULL;
			return hive_err_set(err, HIVE_EENV, "out of memory");
		}
		return HIVE_OK;
	}
	if (rc)
		return rc;
	rc = hive_worker_profile_parse(rel, buf, len, out, err);
	free(buf);
	return rc;
}
