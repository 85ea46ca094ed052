/* report.h - what a session says, as METRICS.json, the seed's Markdown reports, JSON, Prometheus
 * and DORA */
#ifndef HIVE_REPORT_H
#define HIVE_REPORT_H

#include "err.h"
#include "util.h"

struct cJSON;
struct git_repository;
struct hive_session;

/* Everything read from one session: its events (parsed), its view, and what git says
 * about the deployed commits. */
struct hive_facts;

/*
 * Read the session's STATE.json and every line of EVENTS.jsonl (under the caller's lock
 * if it needs one). repo, when not NULL, gives commit times for lead time. A line that is
 * not JSON is HIVE_EENV naming it. *out belongs to the caller.
 */
int hive_facts_load(struct hive_session *s, struct git_repository *repo, struct hive_facts **out,
		    struct hive_err *err);
/* The same, with pending[0..pending_len) folded in after the log: whole lines a transaction
 * would add (--dry-run: what the reports would say once they are written). */
int hive_facts_load_pending(struct hive_session *s, struct git_repository *repo,
			    const char *pending, size_t pending_len, struct hive_facts **out,
			    struct hive_err *err);
/* The same from a log held in memory, its segments segs/lens[0..n) (blobs of the sessions ref),
 * derived as for a finished session; dir names its folder in messages. */
int hive_facts_load_log(const char *const *segs, const size_t *lens, size_t n, const char *dir,
			struct git_repository *repo, struct hive_facts **out, struct hive_err *err);
void hive_facts_free(struct hive_facts *f);

/* The session's events in log order (an array, borrowed from f), and its view folded from
 * them (STATE.json's shape, borrowed; NULL for an empty log): what lib/otlp.c and
 * lib/export.c read. */
const struct cJSON *hive_facts_events(const struct hive_facts *f);
const struct cJSON *hive_facts_state(const struct hive_facts *f);
/* The commit time of ev's git.commit in repo, in milliseconds, or -1 when repo is NULL or
 * the commit is unknown: what lead time for changes counts from. */
int64_t hive_facts_commit_ms(struct git_repository *repo, const struct cJSON *ev);

/* METRICS.json (SPEC 5.4) as a new JSON object. */
struct cJSON *hive_report_metrics(const struct hive_facts *f);

/*
 * Markdown for `which` (runbook, deployment, incident, infrastructure or all) appended to
 * out. findings, when not NULL, is an array of hive-check JSON findings shown as the
 * validation section. Facts the events do not hold are written "not recorded".
 */
void hive_report_markdown(const struct hive_facts *f, const char *which,
			  const struct cJSON *findings, struct hive_buf *out);

/* The same facts as one JSON object: metrics plus the reports' structured content. */
struct cJSON *hive_report_json(const struct hive_facts *f, const struct cJSON *findings);

/* Prometheus text exposition format (for a textfile collector or a Pushgateway). */
void hive_report_prometheus(const struct hive_facts *f, struct hive_buf *out);

/* A Grafana dashboard (JSON model, schemaVersion 39) over the series of
 * hive_report_prometheus: a Prometheus data source variable, worker and environment
 * variables, and one panel per figure (man/hive-runbook.1 lists them). NULL when out of
 * memory; the caller deletes it. */
struct cJSON *hive_report_dashboard(void);

/* --- DORA across sessions -------------------------------------------------------- */

struct hive_dora;

int hive_dora_new(struct hive_dora **out, struct hive_err *err);
/* Count only deployments made and incidents detected in [since_ms, until_ms) (Unix
 * milliseconds; -1 leaves that end open), sessions that overlap it, and frequency over it. */
void hive_dora_window(struct hive_dora *d, int64_t since_ms, int64_t until_ms);
/* Add one session's deployments and incidents. */
void hive_dora_add(struct hive_dora *d, const struct hive_facts *f);
/* The four keys as JSON: deployment frequency, median lead time for changes, change
 * failure rate, median failed deployment recovery time. */
struct cJSON *hive_dora_json(const struct hive_dora *d);
void hive_dora_markdown(const struct hive_dora *d, struct hive_buf *out);
void hive_dora_prometheus(const struct hive_dora *d, struct hive_buf *out);
/* Add every session under root (in name order, each read under its shared lock) to d.
 * The first session that cannot be read stops it: its error. */
int hive_dora_collect(struct hive_dora *d, const char *root, struct git_repository *repo,
		      struct hive_err *err);

/* hive_dora_collect over the work tree and the sessions ref `ref` (SPEC 11) together: each
 * session counted once, from whichever log is longer (the work tree's when equal). HIVE_EUSAGE
 * outside a repository, for a root outside the work tree or a ref that does not exist here. */
int hive_dora_collect_ref(struct hive_dora *d, const char *root, const char *top,
			  struct git_repository *repo, const char *ref, struct hive_err *err);
/*
 * The report a run prints, in one of hive-runbook's formats ("markdown", "json" or
 * "prometheus", or "otlp" and "otlp-logs" for lib/otlp.c's export), added to out; md gets the
 * Markdown in every case (for the step summary). Out of memory sets out->oom or md->oom.
 */
void hive_report_render(const struct hive_facts *f, const char *which, const char *format,
			const struct cJSON *findings, struct hive_buf *out, struct hive_buf *md);

/* The same for DORA across sessions. */
void hive_dora_render(const struct hive_dora *d, const char *format, struct hive_buf *out,
		      struct hive_buf *md);

void hive_dora_free(struct hive_dora *d);

#endif
