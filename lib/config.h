/* config.h - .hive.yml and worker front matter, read with libyaml, with FILE:LINE:COL errors */
#ifndef HIVE_CONFIG_H
#define HIVE_CONFIG_H

/* PCRE2's 8-bit library (libpcre2-8, linked statically) */
#ifndef PCRE2_CODE_UNIT_WIDTH
#define PCRE2_CODE_UNIT_WIDTH 8
#endif
#include <pcre2.h>

#include "err.h"
#include "util.h"

struct cJSON;

struct hive_pattern {
	char *source;	/* the expression as written in the config */
	pcre2_code *re; /* compiled by PCRE2: UTF-8, invalid UTF-8 in a subject never matches */
};

struct hive_config {
	char *path;		       /* the file read, or NULL when none was */
	char *root;		       /* root:, NULL when unset */
	char *worker;		       /* worker:, NULL when unset */
	char *workers_dir;	       /* workers_dir:, NULL when unset */
	int git_dirty;		       /* git.dirty: -1 unset, 0 or 1 */
	struct hive_strv types;	       /* events.types */
	struct hive_strv platforms;    /* events.platforms */
	struct hive_strv redact_keys;  /* redact.keys */
	struct hive_pattern *patterns; /* redact.patterns, compiled */
	size_t npatterns;
	struct hive_strv require_clean_tree; /* policy.* */
	struct hive_strv require_ci;
	struct hive_strv require_tags;
	struct hive_strv require_events;
	int require_rollback;	  /* -1 unset, 0 or 1 */
	long max_session_minutes; /* -1 unset */
	long require_signed;	  /* policy.require_signed: distinct valid signers, -1 unset */
	long require_completed;	  /* policy.require_completed: minutes, -1 unset */
	int require_infra_events; /* policy.require_infra_events: -1 unset, 0 or 1 */
	struct hive_pattern *agent_require_session; /* policy.agent_require_session, compiled */
	size_t nagent_require_session;
	char *signing_key;     /* trust.signing_key as written (a path), NULL when unset */
	char *allowed_signers; /* trust.allowed_signers as written (a path), NULL when unset */
	char *publish_ref; /* publish.ref: the sessions ref (SPEC 11), NULL for refs/hive/sessions
			    */
};

/* Set every field of cfg to "unset". */
void hive_config_init(struct hive_config *cfg);

/*
 * Load the YAML configuration at path into cfg (initialised by the caller). A missing file
 * is HIVE_OK with cfg left empty when `optional`, HIVE_EUSAGE otherwise. An unknown key, a
 * wrong type, an invalid PCRE2 pattern or a syntax error is HIVE_EUSAGE with
 * "FILE:LINE:COL: message".
 */
int hive_config_load(struct hive_config *cfg, const char *path, int optional, struct hive_err *err);

/* Same, from a buffer; `name` is used in messages. */
int hive_config_parse(struct hive_config *cfg, const char *name, const char *buf, size_t len,
		      struct hive_err *err);

void hive_config_free(struct hive_config *cfg);

/*
 * Parse the YAML front matter of a worker definition (Markdown starting with a `---` line,
 * closed by another). *out is a new JSON object with source, name, type, description,
 * tools, priority and protocols (absent keys are null). `source` is recorded as given.
 * A file without front matter or with broken YAML is HIVE_EUSAGE with FILE:LINE:COL.
 */
int hive_worker_profile_parse(const char *source, const char *buf, size_t len, struct cJSON **out,
			      struct hive_err *err);

/*
 * The worker profile of `worker`: <top>/<workers_dir>/<worker>.md (workers_dir from the
 * config, default .claude/agents; an absolute workers_dir is used as it is), parsed as
 * above. No such file is not an error: *out is JSON null and *missing the path looked at
 * (the caller's, for a warning). HIVE_EUSAGE for broken front matter; HIVE_EENV when the
 * file cannot be read.
 */
int hive_worker_profile_load(const struct hive_config *cfg, const char *top, const char *worker,
			     struct cJSON **out, char **missing, struct hive_err *err);

/*
 * The worker profile of `worker`: <top>/<workers_dir>/<worker>.md (workers_dir from the
 * config, default .claude/agents; an absolute workers_dir is used as it is), parsed as
 * above. No such file is not an error: *out is JSON null and *missing the path looked at
 * (the caller's, for a warning). HIVE_EUSAGE for broken front matter; HIVE_EENV when the
 * file cannot be read.
 */
int hive_worker_profile_load(const struct hive_config *cfg, const char *top, const char *worker,
			     struct cJSON **out, char **missing, struct hive_err *err);

#endif
