/* check.c - hive-check's rules: one streaming pass over a session's log, then STATE.json and
 * policies */
#include "check.h"

#include "checkpoint.h"
#include "sshsig.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "event.h"
#include "log.h"
#include "policy.h"
#include "redact.h"
#include "util.h"

enum rule {
	R_JSON,
	R_SCHEMA,
	R_CHAIN,
	R_PROTOCOL,
	R_STATE,
	R_ORDER,
	R_SECRETS,
	R_SIGNATURE,
	R_CLEAN_TREE,
	R_CI,
	R_TAGS,
	R_EVENTS,
	R_ROLLBACK,
	R_MAX_MINUTES,
	R_SIGNED,
	R_COMPLETED,
	NRULES
};

static const char *rule_names[NRULES] = {
	"json",
	"schema",
	"chain",
	"protocol",
	"state",
	"order",
	"secrets",
	"signature",
	"policy.require_clean_tree",
	"policy.require_ci",
	"policy.require_tags",
	"policy.require_events",
	"policy.require_rollback",
	"policy.max_session_minutes",
	"policy.require_signed",
	"policy.require_completed",
};

#define CAP_PER_RULE 50

size_t hive_check_rules(const struct hive_config *cfg, const char **names)
{
	size_t n = 0, i;

	for (i = 0; i <= R_SIGNATURE; i++)
		names[n++] = rule_names[i];
	if (!cfg)
		return n;
	if (cfg->require_clean_tree.n)
		names[n++] = rule_names[R_CLEAN_TREE];
	if (cfg->require_ci.n)
		names[n++] = rule_names[R_CI];
	if (cfg->require_tags.n)
		names[n++] = rule_names[R_TAGS];
	if (cfg->require_events.n)
		names[n++] = rule_names[R_EVENTS];
	if (cfg->require_rollback == 1)
		names[n++] = rule_names[R_ROLLBACK];
	if (cfg->max_session_minutes > 0)
		names[n++] = rule_names[R_MAX_MINUTES];
	if (cfg->require_signed > 0)
		names[n++] = rule_names[R_SIGNED];
	if (cfg->require_completed > 0)
		names[n++] = rule_names[R_COMPLETED];
	return n;
}

/* One session's pass: what has been seen so far. */
struct run {
	const struct hive_checker *c;
	const struct hive_check_input *in;
	struct hive_findings *f;
	size_t count[NRULES];
	cJSON *state;
	char *worker; /* STATE.json's worker, else line 1's */
	int64_t next_seq;
	char prev_hash[HIVE_HASH_SIZE]; /* SHA-256 of the previous line */
	size_t lines;
	int64_t last_seq;
	int64_t last_ts;
	int have_ts;
	int have_start; /* line 1's timestamp parsed */
	size_t completed_line;
	int completed_failure;
	int64_t started_ms, completed_ms;
	struct hive_strv types;
	struct hive_arena arena;      /* the line being checked, parsed */
	int torn;		      /* the last line has no newline */
	struct hive_checkpoint cp;    /* CHECKPOINT, read (cp.n == 0: none, or malformed) */
	char cp_hash[HIVE_HASH_SIZE]; /* the hash of EVENTS.jsonl's line cp.logs[0].lines */
	/* where each source of the log reader starts: the line number (as counted across the
	 * segments) of its first line, and the segment it is; seg0_lines: EVENTS.jsonl's lines */
	struct seg_start {
		size_t first, seg, before; /* before: the segment's lines ahead of the source */
	} * starts;
	size_t nstarts, seg0_lines;
	int seg_local; /* the line being checked is line seg_local of segment cur_seg */
	size_t cur_seg;
	/* lanes (SPEC 11): for each of in->lanes, the main log's line its lane_started names
	 * (seq and hash; 0 when none) and whether the pass met it, and its lines the last
	 * session_joined counted */
	struct lane_seen {
		int64_t main_seq;
		char main_hash[HIVE_HASH_SIZE];
		int met;
		size_t joined;
	} * lane;
};

/* Where line `line` (as counted across the segments) of the log is: its file, written into
 * buf (or in->events_shown for EVENTS.jsonl), and in *local its number in that file. */
static const char *line_where(const struct run *r, size_t line, char *buf, size_t size,
			      size_t *local)
{
	const struct seg_start *st = NULL;
	char name[32];
	size_t i;

	*local = line;
	for (i = 0; i < r->nstarts && r->starts[i].first <= line; i++)
		st = &r->starts[i];
	if (!st)
		return r->in->events_shown;
	*local = line - st->first + 1 + st->before;
	if (st->seg == 0)
		return r->in->events_shown;
	snprintf(buf, size, "%.4200s/%s", r->in->dir_shown ? r->in->dir_shown : ".",
		 hive_log_segment_name(st->seg, name));
	return buf;
}

static void report(struct run *r, enum hive_level level, enum rule rule, const char *file,
		   size_t line, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

static void report(struct run *r, enum hive_level level, enum rule rule, const char *file,
		   size_t line, const char *fmt, ...)
{
	char msg[1536], where[4300];
	va_list ap;

	if (++r->count[rule] > CAP_PER_RULE)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (!file && line)
		file = line_where(r, line, where, sizeof(where), &line);
	hive_findings_add(r->f, level, rule_names[rule], file ? file : r->in->events_shown, line,
			  "%s", msg);
}

/* secrets, over decoded strings: what fn's caller is scanning, and where. */
struct secret_scan {
	struct run *r;
	const char *file; /* NULL: the log */
	size_t line;
	int raw_found; /* the raw bytes' scan reported this line already */
	int reported;  /* a shape or pattern reported for this line: one is enough */
};

/* One finding of hive_redactor_scan_json: a value under a secret key name that was not
 * redacted (each is reported), or a rule matching a decoded string (the first of a line,
 * unless the raw bytes' scan found one): a token written as JSON escapes ("gh\u0070_…"), a
 * URL with "\/", a redact.patterns match. A key holding a secret is not named. */
static void secret_found(void *arg, const char *rule, const char *key, int in_key)
{
	struct secret_scan *sc = arg;

	if (!strcmp(rule, HIVE_REDACT_KEY_RULE)) {
		report(sc->r, HIVE_LEVEL_ERROR, R_SECRETS, sc->file, sc->line,
		       "%s holds a value that was not redacted (secret key name)", key);
		return;
	}
	if (sc->raw_found || sc->reported++)
		return;
	if (in_key || !key)
		report(sc->r, HIVE_LEVEL_ERROR, R_SECRETS, sc->file, sc->line,
		       "an unredacted secret (%s) in a %s", rule, in_key ? "key" : "string");
	else
		report(sc->r, HIVE_LEVEL_ERROR, R_SECRETS, sc->file, sc->line,
		       "an unredacted secret (%s) in the value of %s", rule, key);
}

/* secrets, over raw bytes: the token shapes in a JSON line, the built-in rules in a text
 * file (redact.patterns would match hive's own ids and hashes too, and a JSON line's escapes
 * would fool secret_assignment: both are looked for in the decoded strings users supply).
 * Returns 1 when it reported one. */
static int secret_raw(struct run *r, const char *file, size_t line, const char *text, size_t len,
		      int json)
{
	const char *rule;
	size_t at;

	if (!(rule = json ? hive_redactor_find_shape(r->c->red, text, len, &at)
			  : hive_redactor_find_builtin(r->c->red, text, len, &at)))
		return 0;
	report(r, HIVE_LEVEL_ERROR, R_SECRETS, file, line,
	       "an unredacted secret (%s) at column %zu", rule, at + 1);
	return 1;
}

/* secrets: the token shapes anywhere in a JSON line (or file), keys and hive's own fields
 * included. Without a backslash its strings are its bytes: the raw scan, which can give a
 * column. With one, its escapes may spell in the bytes what no string holds ("\u000b://"
 * reads "b://"), so its decoded strings are looked at instead. Returns 1 when it reported. */
static int secret_shapes(struct secret_scan *sc, const char *text, size_t len, const cJSON *parsed)
{
	if (!parsed || !memchr(text, '\\', len))
		return secret_raw(sc->r, sc->file, sc->line, text, len, 1);
	return hive_redactor_scan_json(sc->r->c->red, parsed, HIVE_REDACT_SHAPES, secret_found,
				       sc) > 0;
}

/* secrets in one line of a log (EVENTS.jsonl or a lane): the token shapes anywhere, then,
 * when it parsed, the event's decoded strings as hive-emit would have redacted them. */
static void secret_line(struct run *r, const char *file, size_t line, const char *text, size_t len,
			const cJSON *ev)
{
	struct secret_scan sc = {r, file, line, 0, 0};

	if (ev && !cJSON_IsObject(ev))
		ev = NULL;
	sc.raw_found = secret_shapes(&sc, text, len, ev);
	if (ev)
		hive_redactor_scan_event(r->c->red, ev, secret_found, &sc);
}

/* secrets in a file the session holds: each line's bytes (json: STATE.json, METRICS.json;
 * else RUNBOOK.md, CHECKPOINT). */
static void secret_text(struct run *r, const char *file, const char *buf, size_t len, int json)
{
	const char *p = buf, *end = buf + len, *nl;
	size_t line = 0;

	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		line++;
		secret_raw(r, file, line, p, (size_t)((nl ? nl : end) - p), json);
		p = nl ? nl + 1 : end;
	}
}

/* secrets in a JSON file hive writes (STATE.json, METRICS.json): its lines' bytes, then its
 * decoded strings as hive's own objects (hive_redact's HIVE_REDACT_CONTEXT). */
static void secret_json_file(struct run *r, const char *file, const char *buf, size_t len,
			     const cJSON *parsed)
{
	struct secret_scan sc = {r, file, 1, 0, 0};
	size_t before = r->count[R_SECRETS];
	cJSON *own = NULL;

	if (!parsed)
		parsed = own = hive_json_parse(buf, len);
	if (!parsed || !memchr(buf, '\\', len)) {
		secret_text(r, file, buf, len, 1); /* each line's bytes, with its number */
		sc.raw_found = r->count[R_SECRETS] != before;
	} else {
		sc.raw_found = secret_shapes(&sc, buf, len, parsed);
	}
	if (parsed)
		hive_redactor_scan_json(r->c->red, parsed, HIVE_REDACT_CONTEXT, secret_found, &sc);
	cJSON_Delete(own);
}

/* hive_policy_event's findings, each under its rule. */
struct policy_line {
	struct run *r;
	const char *file; /* NULL: the main log */
	size_t line;
};

static void policy_found(void *arg, const char *rule, const char *message, const char *fix)
{
	struct policy_line *p = arg;
	enum rule i;

	(void)fix; /* the writer shows it; the gate reports what is there */
	for (i = R_CLEAN_TREE; i < NRULES && strcmp(rule_names[i], rule); i++)
		;
	if (i < NRULES) /* "policy.require_tags" is reported "(policy: require_tags)" */
		report(p->r, HIVE_LEVEL_ERROR, i, p->file, p->line, "%s (policy: %s)", message,
		       rule + strlen("policy."));
}

static void check_policies(struct run *r, const cJSON *ev, const char *file, size_t line)
{
	struct policy_line p = {r, file, line};

	hive_policy_event(r->c->cfg, ev, policy_found, &p);
}

/* policy.require_infra_events: where a change event was recorded, "<commit>" or
 * "<commit>+dirty", added to set once. */
static void note_recorded(struct hive_strv *set, const cJSON *ev)
{
	const cJSON *git = cJSON_GetObjectItemCaseSensitive(ev, "git");
	const char *commit = hive_json_str(git, "commit");
	char key[80];

	if (!commit)
		return;
	snprintf(key, sizeof(key), "%.64s%s", commit,
		 cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(git, "dirty")) ? "+dirty" : "");
	if (!hive_strv_has(set, key))
		hive_strv_push(set, key);
}

/* secrets in the session's other files: STATE.json, METRICS.json, RUNBOOK.md, CHECKPOINT and
 * the lane logs (each line as a log line is), named in findings under in->dir_shown. */
static void secret_files(struct run *r, const char *state_shown, const char *metrics_shown,
			 const char *cp_shown)
{
	const struct hive_check_input *in = r->in;
	const char *dir = in->dir_shown ? in->dir_shown : ".";
	char shown[4400];
	const char *p, *end, *nl;
	cJSON *ev;
	size_t i, line;

	if (in->state_buf)
		secret_json_file(r, state_shown, in->state_buf, in->state_len, r->state);
	if (in->metrics_buf)
		secret_json_file(r, metrics_shown, in->metrics_buf, in->metrics_len, NULL);
	if (in->runbook_buf) {
		snprintf(shown, sizeof(shown), "%s/RUNBOOK.md", dir);
		secret_text(r, shown, in->runbook_buf, in->runbook_len, 0);
	}
	if (in->checkpoint_buf)
		secret_text(r, cp_shown, in->checkpoint_buf, in->checkpoint_len, 0);
	for (i = 0; i < in->nlanes; i++) {
		snprintf(shown, sizeof(shown), "%s/%s", dir, in->lanes[i].name);
		p = in->lanes[i].buf;
		end = p ? p + in->lanes[i].len : p;
		for (line = 1; p && p < end; line++, p = nl ? nl + 1 : end) {
			nl = memchr(p, '\n', (size_t)(end - p));
			ev = hive_json_parse(p, (size_t)((nl ? nl : end) - p));
			secret_line(r, shown, line, p, (size_t)((nl ? nl : end) - p), ev);
			cJSON_Delete(ev);
		}
	}
}

/* lane_started names the main log's line `seq` with its hash: the line with that seq, met in
 * the pass, must have it. */
static void lane_heads_seen(struct run *r, int64_t seq, const char *hash)
{
	size_t i;
	char shown[4400];

	for (i = 0; r->lane && i < r->in->nlanes; i++) {
		if (r->lane[i].main_seq != seq || r->lane[i].met)
			continue;
		r->lane[i].met = 1;
		if (strcmp(r->lane[i].main_hash, hash)) {
			snprintf(shown, sizeof(shown), "%.4000s/%.200s",
				 r->in->dir_shown ? r->in->dir_shown : ".", r->in->lanes[i].name);
			report(r, HIVE_LEVEL_ERROR, R_CHAIN, shown, 1,
			       "lane_started names line %lld of EVENTS.jsonl with hash %s, which "
			       "is not that line's (%s): the lane forked from another log",
			       (long long)seq, r->lane[i].main_hash, hash);
		}
	}
}

/* The lane log lanes/<name>.jsonl among in->lanes, or -1. */
static long lane_index(const struct hive_check_input *in, const char *name)
{
	char want[200];
	size_t i;

	snprintf(want, sizeof(want), "lanes/%s.jsonl", name);
	for (i = 0; i < in->nlanes; i++)
		if (!strcmp(in->lanes[i].name, want))
			return (long)i;
	return -1;
}

/* Line n of buf[0..len) (1-based, whole): its hash into hash; 0 when there is no such line. */
static int nth_line_hash(const char *buf, size_t len, size_t n, char hash[HIVE_HASH_SIZE])
{
	const char *p = buf, *end = buf + len, *nl;
	size_t i;

	for (i = 1; p && p < end; i++, p = nl + 1) {
		if (!(nl = memchr(p, '\n', (size_t)(end - p))))
			return 0;
		if (i == n) {
			hive_sha256(p, (size_t)(nl - p), hash);
			return 1;
		}
	}
	return 0;
}

/* chain: a session_joined at line no of the main log names each lane's line count and last
 * hash; the lane must have that line with that hash, and a join never goes back. */
static void check_join(struct run *r, const cJSON *ev, size_t no)
{
	const cJSON *lanes = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(ev, "details"), "lanes");
	const cJSON *item, *n;
	const char *want;
	char hash[HIVE_HASH_SIZE];
	long i;
	size_t lines;

	cJSON_ArrayForEach(item, lanes)
	{
		n = cJSON_GetObjectItemCaseSensitive(item, "lines");
		want = hive_json_str(item, "hash");
		if (!cJSON_IsNumber(n) || !want || n->valuedouble < 1 || n->valuedouble > 1e15)
			continue; /* the schema reports it */
		lines = (size_t)n->valuedouble;
		if ((i = lane_index(r->in, item->string)) < 0) {
			report(r, HIVE_LEVEL_ERROR, R_CHAIN, NULL, no,
			       "session_joined names lane %s, which the session does not have "
			       "(lanes/%s.jsonl)",
			       item->string, item->string);
			continue;
		}
		if (!nth_line_hash(r->in->lanes[i].buf, r->in->lanes[i].len, lines, hash))
			report(r, HIVE_LEVEL_ERROR, R_CHAIN, NULL, no,
			       "session_joined counts %zu lines of lane %s, which has fewer: lines "
			       "were removed from it",
			       lines, item->string);
		else if (strcmp(hash, want))
			report(r, HIVE_LEVEL_ERROR, R_CHAIN, NULL, no,
			       "session_joined names %s as the hash of line %zu of lane %s, which "
			       "is %s: the lane was edited",
			       want, lines, item->string, hash);
		if (r->lane && lines < r->lane[i].joined)
			report(r, HIVE_LEVEL_ERROR, R_CHAIN, NULL, no,
			       "session_joined counts %zu lines of lane %s, fewer than the join "
			       "before (%zu)",
			       lines, item->string, r->lane[i].joined);
		if (r->lane)
			r->lane[i].joined = lines;
	}
}

/* Before the pass: each lane's line 1, lane_started, read for the main log's line it names. */
static int lanes_prepare(struct run *r)
{
	const struct hive_check_input *in = r->in;
	const char *nl, *hash;
	const cJSON *main, *seq;
	cJSON *ev;
	size_t i;

	if (!in->nlanes)
		return 0;
	if (!(r->lane = calloc(in->nlanes, sizeof(*r->lane))))
		return -1;
	for (i = 0; i < in->nlanes; i++) {
		if (!in->lanes[i].buf || !(nl = memchr(in->lanes[i].buf, '\n', in->lanes[i].len)))
			continue;
		ev = hive_json_parse(in->lanes[i].buf, (size_t)(nl - in->lanes[i].buf));
		main = cJSON_GetObjectItemCaseSensitive(
			cJSON_GetObjectItemCaseSensitive(ev, "details"), "main");
		seq = cJSON_GetObjectItemCaseSensitive(main, "seq");
		hash = hive_json_str(main, "hash");
		if (cJSON_IsNumber(seq) && hive_seq_ok(seq->valuedouble) && hash &&
		    strlen(hash) < HIVE_HASH_SIZE) {
			r->lane[i].main_seq = (int64_t)seq->valuedouble;
			snprintf(r->lane[i].main_hash, HIVE_HASH_SIZE, "%s", hash);
		}
		cJSON_Delete(ev);
	}
	return 0;
}

/* After the pass: every lane's own log (json, schema, its chain, line 1 lane_started, its
 * name and session), the main line its lane_started names, and, in a completed session, no
 * line left unjoined. */
static void lanes_check(struct run *r)
{
	const struct hive_check_input *in = r->in;
	const char *p, *end, *nl, *type, *lane, *sid;
	char shown[4400], name[200], hash[HIVE_HASH_SIZE], prev[HIVE_HASH_SIZE], q[160];
	const cJSON *seq, *pv;
	struct hive_err e = {0};
	cJSON *ev;
	size_t i, line, n;
	int64_t next;

	for (i = 0; i < in->nlanes; i++) {
		snprintf(shown, sizeof(shown), "%.4000s/%.200s",
			 in->dir_shown ? in->dir_shown : ".", in->lanes[i].name);
		n = strlen(in->lanes[i].name);
		snprintf(name, sizeof(name), "%.*s", n > 12 ? (int)(n - 12) : 0,
			 in->lanes[i].name + 6); /* "lanes/NAME.jsonl" */
		if (hive_id_check("lane", name, strlen(name), NULL) || !strcmp(name, "main")) {
			report(r, HIVE_LEVEL_ERROR, R_PROTOCOL, shown, 0,
			       "not a lane's log: a lane's name follows the session id rule and is "
			       "not main");
			continue;
		}
		p = in->lanes[i].buf;
		end = p ? p + in->lanes[i].len : p;
		prev[0] = '\0';
		next = 1;
		for (line = 1; p && p < end; line++, p = nl ? nl + 1 : end) {
			nl = memchr(p, '\n', (size_t)(end - p));
			if (!nl) {
				report(r, HIVE_LEVEL_ERROR, R_JSON, shown, line,
				       "the file does not end with a newline: the last line is cut "
				       "off");
				break;
			}
			hive_sha256(p, (size_t)(nl - p), hash);
			ev = hive_json_parse_in_why(&r->arena, p, (size_t)(nl - p), &e);
			if (!ev || !cJSON_IsObject(ev)) {
				report(r, HIVE_LEVEL_ERROR, R_JSON, shown, line, "%s%s",
				       ev ? "not a JSON object" : "not valid JSON: ",
				       ev ? "" : e.msg);
				memcpy(prev, hash, sizeof(prev));
				next++;
				hive_arena_reset(&r->arena);
				continue;
			}
			if (hive_event_validate(ev, r->c->cfg, &e))
				report(r, HIVE_LEVEL_ERROR, R_SCHEMA, shown, line, "%s", e.msg);
			seq = cJSON_GetObjectItemCaseSensitive(ev, "seq");
			if (cJSON_IsNumber(seq) && hive_seq_ok(seq->valuedouble)) {
				if ((int64_t)seq->valuedouble != next)
					report(r, HIVE_LEVEL_ERROR, R_CHAIN, shown, line,
					       "seq is %lld, expected %lld (a line was removed, "
					       "inserted, duplicated or moved)",
					       (long long)seq->valuedouble, (long long)next);
				next = (int64_t)seq->valuedouble + 1;
			} else {
				next++;
			}
			pv = cJSON_GetObjectItemCaseSensitive(ev, "prev");
			if (line == 1 ? !cJSON_IsNull(pv)
				      : !(cJSON_IsString(pv) && !strcmp(pv->valuestring, prev)))
				report(r, HIVE_LEVEL_ERROR, R_CHAIN, shown, line,
				       line == 1 ? "line 1 must have prev null"
						 : "prev does not match the SHA-256 of the line "
						   "before: "
						   "that line was edited, or lines were removed, "
						   "inserted or reordered");
			memcpy(prev, hash, sizeof(prev));
			type = hive_json_str(ev, "event_type");
			lane = hive_json_str(ev, "lane");
			sid = hive_json_str(ev, "session_id");
			if (line == 1 && (!type || strcmp(type, "lane_started")))
				report(r, HIVE_LEVEL_ERROR, R_PROTOCOL, shown, line,
				       "line 1 of a lane must be lane_started, found %s",
				       type ? hive_quote(q, sizeof(q), type) : "no event_type");
			else if (line > 1 && type && hive_event_type_is_internal(type))
				report(r, HIVE_LEVEL_ERROR, R_PROTOCOL, shown, line,
				       "%s in a lane (only EVENTS.jsonl starts, joins and "
				       "completes "
				       "the session)",
				       type);
			if (!lane || strcmp(lane, name))
				report(r, HIVE_LEVEL_ERROR, R_PROTOCOL, shown, line,
				       "lane %s does not match the file's lane %s",
				       lane ? hive_quote(q, sizeof(q), lane) : "(missing)", name);
			if (in->session && sid && strcmp(sid, in->session))
				report(r, HIVE_LEVEL_ERROR, R_PROTOCOL, shown, line,
				       "session_id %s does not match the session folder %s",
				       hive_quote(q, sizeof(q), sid), in->session);
			if (type)
				check_policies(r, ev, shown, line);
			hive_arena_reset(&r->arena);
		}
		if (r->lane && r->lane[i].main_seq && !r->lane[i].met &&
		    (size_t)r->lane[i].main_seq >
			    in->seed_lines) /* a published line: checked then */
			report(r, HIVE_LEVEL_ERROR, R_CHAIN, shown, 1,
			       "lane_started names line %lld of EVENTS.jsonl, which the log does "
			       "not have",
			       (long long)r->lane[i].main_seq);
		if (r->lane && r->completed_line && line - 1 > r->lane[i].joined)
			report(r, HIVE_LEVEL_ERROR, R_PROTOCOL, shown, r->lane[i].joined + 1,
			       "%zu line%s of the lane %s not joined before session_completed "
			       "(line %zu of EVENTS.jsonl)",
			       line - 1 - r->lane[i].joined,
			       line - 1 - r->lane[i].joined == 1 ? "" : "s",
			       line - 1 - r->lane[i].joined == 1 ? "was" : "were",
			       r->completed_line);
	}
}

/* Every rule that looks at one line. */
static void check_line(struct run *r, const char *text, size_t len, enum hive_line_kind kind,
		       size_t no)
{
	const struct hive_check_input *in = r->in;
	char hash[HIVE_HASH_SIZE], q[160];
	struct hive_err e = {0};
	const cJSON *seq, *prev, *ts;
	const char *type, *sid, *worker;
	cJSON *ev = NULL;
	int64_t ms;

	r->lines++;
	if (r->cur_seg == 0)
		r->seg0_lines++;
	if (kind == HIVE_LINE_NO_NEWLINE)
		r->torn = 1;
	if (kind == HIVE_LINE_TOO_LONG) {
		report(r, HIVE_LEVEL_ERROR, R_JSON, NULL, no, "the line is longer than %d bytes",
		       HIVE_LINE_MAX);
		r->prev_hash[0] = '\0'; /* its hash is unknown: the next prev cannot be checked */
		r->next_seq++;
		return;
	}
	if (kind == HIVE_LINE_NO_NEWLINE)
		report(r, HIVE_LEVEL_ERROR, R_JSON, NULL, no,
		       "the file does not end with a newline: the last line is cut off "
		       "(hive-check --repair moves it aside)");
	hive_sha256(text, len, hash);
	lane_heads_seen(r, r->next_seq, hash);
	if (r->cp.n && r->cur_seg == 0 && (size_t)r->seg_local == r->cp.logs[0].lines &&
	    kind == HIVE_LINE_OK)
		memcpy(r->cp_hash, hash, sizeof(hash));
	ev = hive_json_parse_in_why(&r->arena, text, len, &e);
	secret_line(r, NULL, no, text, len, ev);
	if (!ev || !cJSON_IsObject(ev)) {
		/* the reason: "not valid JSON: byte 40: duplicate key \"prev\"" */
		report(r, HIVE_LEVEL_ERROR, R_JSON, NULL, no, "%s%s",
		       ev ? "not a JSON object" : "not valid JSON: ", ev ? "" : e.msg);
		memcpy(r->prev_hash, hash, sizeof(hash));
		r->next_seq++;
		hive_arena_reset(&r->arena);
		return;
	}
	if (hive_event_validate(ev, r->c->cfg, &e))
		report(r, HIVE_LEVEL_ERROR, R_SCHEMA, NULL, no, "%s", e.msg);

	/* chain: seq counts from 1 without gaps; prev is the SHA-256 of the line before */
	seq = cJSON_GetObjectItemCaseSensitive(ev, "seq");
	/* only a whole number the schema accepts (it reports the others): converting a double
	 * out of int64_t's range is undefined, and -5 or 1.5 is no position to resync to */
	if (cJSON_IsNumber(seq) && hive_seq_ok(seq->valuedouble)) {
		int64_t s = (int64_t)seq->valuedouble;
		if (s != r->next_seq)
			report(r, HIVE_LEVEL_ERROR, R_CHAIN, NULL, no,
			       "seq is %lld, expected %lld (a line was removed, inserted, "
			       "duplicated "
			       "or moved)",
			       (long long)s, (long long)r->next_seq);
		r->last_seq = s;
		r->next_seq = s + 1; /* resynchronise: one finding per break */
	} else {
		r->next_seq++;
	}
	prev = cJSON_GetObjectItemCaseSensitive(ev, "prev");
	if (no == 1) {
		if (!cJSON_IsNull(prev))
			report(r, HIVE_LEVEL_ERROR, R_CHAIN, NULL, no,
			       "line 1 must have prev null");
	} else if (r->prev_hash[0] &&
		   !(cJSON_IsString(prev) && !strcmp(prev->valuestring, r->prev_hash))) {
		report(r, HIVE_LEVEL_ERROR, R_CHAIN, NULL, no,
		       "prev does not match the SHA-256 of line %zu (%s): that line was edited, or "
		       "lines were removed, inserted or reordered",
		       no - 1, r->prev_hash);
	}
	memcpy(r->prev_hash, hash, sizeof(hash));

	/* protocol */
	type = hive_json_str(ev, "event_type");
	sid = hive_json_str(ev, "session_id");
	worker = hive_json_str(ev, "worker");
	if (no == 1 && (!type || strcmp(type, "session_started")))
		report(r, HIVE_LEVEL_ERROR, R_PROTOCOL, NULL, no,
		       "line 1 must be session_started, found %s",
		       type ? hive_quote(q, sizeof(q), type) : "no event_type");
	else if (no > 1 && type && !strcmp(type, "session_started"))
		report(r, HIVE_LEVEL_ERROR, R_PROTOCOL, NULL, no,
		       "session_started again (only line 1 may start the session)");
	if (r->completed_line)
		report(r, HIVE_LEVEL_ERROR, R_PROTOCOL, NULL, no,
		       "an event after session_completed (line %zu)", r->completed_line);
	if (in->session && sid && strcmp(sid, in->session))
		report(r, HIVE_LEVEL_ERROR, R_PROTOCOL, NULL, no,
		       "session_id %s does not match the session folder %s",
		       hive_quote(q, sizeof(q), sid), in->session);
	if (no == 1 && !r->worker && worker)
		r->worker = strdup(worker);
	if (worker && r->worker && strcmp(worker, r->worker))
		report(r, HIVE_LEVEL_ERROR, R_PROTOCOL, NULL, no,
		       "worker %s does not match the session's worker %s",
		       hive_quote(q, sizeof(q), worker), r->worker);
	if (type && !strcmp(type, "session_completed") && !r->completed_line) {
		const char *st =
			hive_json_str(cJSON_GetObjectItemCaseSensitive(ev, "details"), "status");
		r->completed_line = no;
		r->completed_failure = st && !strcmp(st, "failure");
	}

	/* order: timestamps never go backwards */
	ts = cJSON_GetObjectItemCaseSensitive(ev, "timestamp");
	if (cJSON_IsString(ts) && hive_time_parse(ts->valuestring, &ms) == 0) {
		if (r->have_ts && ms < r->last_ts)
			report(r, HIVE_LEVEL_WARNING, R_ORDER, NULL, no,
			       "timestamp %s is earlier than the line before", ts->valuestring);
		if (no == 1) {
			r->started_ms = ms;
			r->have_start = 1;
		}
		if (type && !strcmp(type, "session_completed"))
			r->completed_ms = ms;
		r->last_ts = ms;
		r->have_ts = 1;
	}
	if (type) {
		if (!hive_strv_has(&r->types, type))
			hive_strv_push(&r->types, type);
		check_policies(r, ev, NULL, no);
		if (!strcmp(type, "session_joined"))
			check_join(r, ev, no);
		if (r->c->recorded && hive_event_type_is_change(type))
			note_recorded(r->c->recorded, ev);
	}
	hive_arena_reset(&r->arena);
}

/* A number from STATE.json as JSON writes it ("9", "1e+300"), or "missing". */
static const char *number_text(const cJSON *v, char *buf, size_t size)
{
	char *t = cJSON_IsNumber(v) ? cJSON_PrintUnformatted(v) : NULL;

	snprintf(buf, size, "%s", t ? t : "missing");
	cJSON_free(t);
	return buf;
}

/* state: STATE.json parses and agrees with the log. */
static void check_state(struct run *r, char *state_shown)
{
	char num[64];
	const cJSON *ev = cJSON_GetObjectItemCaseSensitive(r->state, "events");
	const cJSON *count = cJSON_GetObjectItemCaseSensitive(ev, "count");
	const cJSON *last = cJSON_GetObjectItemCaseSensitive(ev, "last_seq");
	const char *hash = hive_json_str(ev, "last_hash"),
		   *status = hive_json_str(r->state, "status");
	const char *sid = hive_json_str(r->state, "session_id");
	const char *want =
		r->completed_line ? (r->completed_failure ? "failed" : "completed") : "active";

	if (!r->in->state_buf) {
		report(r, HIVE_LEVEL_ERROR, R_STATE, state_shown, 0,
		       "STATE.json is missing (hive-check --repair rebuilds it from the log)");
		return;
	}
	if (!r->state) {
		report(r, HIVE_LEVEL_ERROR, R_STATE, state_shown, 1,
		       "STATE.json is not a JSON object (hive-check --repair rebuilds it)");
		return;
	}
	if (!sid || strcmp(sid, r->in->session))
		report(r, HIVE_LEVEL_ERROR, R_STATE, state_shown, 1,
		       "session_id %s does not match the folder %s", sid ? sid : "(missing)",
		       r->in->session);
	/* compared as doubles: STATE.json may hold any number (1e300, -1), and converting one
	 * out of range to an integer is undefined */
	if (!cJSON_IsNumber(count) || count->valuedouble != (double)r->lines)
		report(r, HIVE_LEVEL_ERROR, R_STATE, state_shown, 1,
		       "events.count is %s, the log has %zu lines",
		       number_text(count, num, sizeof(num)), r->lines);
	if (!cJSON_IsNumber(last) || last->valuedouble != (double)r->last_seq)
		report(r, HIVE_LEVEL_ERROR, R_STATE, state_shown, 1,
		       "events.last_seq is %s, the log's last seq is %lld",
		       number_text(last, num, sizeof(num)), (long long)r->last_seq);
	if (r->lines && (!hash || strcmp(hash, r->prev_hash)))
		report(r, HIVE_LEVEL_ERROR, R_STATE, state_shown, 1,
		       "events.last_hash does not match the log's last line (%s)", r->prev_hash);
	if (!status || strcmp(status, want))
		report(r, HIVE_LEVEL_ERROR, R_STATE, state_shown, 1,
		       "status is %s, the log says %s", status ? status : "(missing)", want);
}

/* signature, before the pass: CHECKPOINT read, so that the pass notes the hash of the line
 * it names. */
static void read_checkpoint(struct run *r, const char *cp_shown)
{
	struct hive_err e = {0};
	size_t line;

	if (r->in->checkpoint_buf &&
	    hive_checkpoint_parse(r->in->checkpoint_buf, r->in->checkpoint_len, &r->cp, &line, &e))
		report(r, HIVE_LEVEL_ERROR, R_SIGNATURE, cp_shown, line,
		       "CHECKPOINT is malformed: %s", e.msg);
}

/* signature: a lane CHECKPOINT names, against its entry. */
static void check_lane(struct run *r, const struct hive_checkpoint_log *e, const char *cp_shown,
		       size_t line)
{
	struct hive_lines *lines = NULL;
	struct hive_err err = {0};
	char *buf = NULL, hash[HIVE_HASH_SIZE], why[600];
	size_t len = 0, whole = 0;
	int missing = 0;

	if (!r->in->read_log)
		return;
	if (r->in->read_log(r->in->read_log_arg, e->name, &buf, &len, &missing, &err) ||
	    (!missing && (hive_lines_from_mem(buf, len, &lines, &err) ||
			  hive_checkpoint_scan(lines, e->lines, &whole, hash, &err))))
		report(r, HIVE_LEVEL_ERROR, R_SIGNATURE, cp_shown, line, "%s cannot be read: %s",
		       e->name, err.msg);
	else if (missing)
		report(r, HIVE_LEVEL_ERROR, R_SIGNATURE, cp_shown, line,
		       "CHECKPOINT names %s, which is missing", e->name);
	else if (hive_checkpoint_compare(e, whole, hash, r->completed_line != 0, why, sizeof(why)))
		report(r, HIVE_LEVEL_ERROR, R_SIGNATURE, cp_shown, line, "%s", why);
	hive_lines_free(lines);
	free(buf);
}

/* signature, after the pass: CHECKPOINT against the logs, every signature of CHECKPOINT.sig
 * verified and its signer allowed; then policy.require_signed. */
static void check_signature(struct run *r, const char *cp_shown, const char *sig_shown)
{
	const struct hive_check_input *in = r->in;
	const struct hive_config *cfg = r->c->cfg;
	const struct hive_sshsig **valid = NULL;
	struct hive_sshsig *v = NULL;
	struct hive_err e = {0};
	char why[600], who[200], q[160];
	size_t n = 0, nvalid = 0, i, j;
	int warned = 0;

	if (r->cp.n) {
		if (strcmp(r->cp.id, in->session))
			report(r, HIVE_LEVEL_ERROR, R_SIGNATURE, cp_shown, 2,
			       "CHECKPOINT names session %s, the folder is %s",
			       hive_quote(q, sizeof(q), r->cp.id), in->session);
		if (hive_checkpoint_compare(&r->cp.logs[0],
					    r->seg0_lines - (size_t)(r->torn && r->cur_seg == 0),
					    r->cp_hash, r->completed_line != 0, why, sizeof(why)))
			report(r, HIVE_LEVEL_ERROR, R_SIGNATURE, cp_shown, 3, "%s", why);
		for (i = 1; i < r->cp.n; i++)
			check_lane(r, &r->cp.logs[i], cp_shown, 3 + i);
	}
	if (in->signature_buf && !in->checkpoint_buf) {
		report(r, HIVE_LEVEL_ERROR, R_SIGNATURE, sig_shown, 0,
		       "CHECKPOINT.sig without a CHECKPOINT: nothing it could sign");
	} else if (in->signature_buf) {
		if (hive_sshsig_parse(in->signature_buf, in->signature_len, &v, &n, &e)) {
			report(r, HIVE_LEVEL_ERROR, R_SIGNATURE, sig_shown,
			       (size_t)strtoul(e.msg, NULL, 10), "CHECKPOINT.sig is malformed: %s",
			       e.msg);
			n = 0;
		}
		if (n && !(valid = calloc(n, sizeof(*valid))))
			report(r, HIVE_LEVEL_ERROR, R_SIGNATURE, sig_shown, 0,
			       "out of memory: the signatures were not checked");
		for (i = 0; valid && i < n; i++) {
			hive_sshsig_describe(v[i].key, v[i].key_len, who, sizeof(who));
			if (!r->c->verify) {
				report(r, HIVE_LEVEL_ERROR, R_SIGNATURE, sig_shown, v[i].line,
				       "the signature by %s was not verified: this check has no "
				       "verifier",
				       who);
				continue;
			}
			if (r->c->verify(&v[i], HIVE_SSHSIG_NAMESPACE, in->checkpoint_buf,
					 in->checkpoint_len, &e)) {
				report(r, HIVE_LEVEL_ERROR, R_SIGNATURE, sig_shown, v[i].line,
				       "the signature by %s does not verify over CHECKPOINT: %s",
				       who, e.msg);
				continue;
			}
			if (!r->c->signers) {
				if (!warned++)
					report(r, HIVE_LEVEL_WARNING, R_SIGNATURE, sig_shown,
					       v[i].line,
					       "the signature by %s verifies, but no "
					       "trust.allowed_signers says whose key it is",
					       who);
				continue;
			}
			if (!hive_signers_find(r->c->signers, v[i].key, v[i].key_len,
					       HIVE_SSHSIG_NAMESPACE)) {
				report(r, HIVE_LEVEL_ERROR, R_SIGNATURE, sig_shown, v[i].line,
				       "the signer %s is not in trust.allowed_signers (for "
				       "namespace %s)",
				       who, HIVE_SSHSIG_NAMESPACE);
				continue;
			}
			for (j = 0; j < nvalid; j++)
				if (valid[j]->key_len == v[i].key_len &&
				    !memcmp(valid[j]->key, v[i].key, v[i].key_len))
					break;
			if (j == nvalid)
				valid[nvalid++] = &v[i];
		}
	}
	if (cfg && cfg->require_signed > 0 && r->completed_line) {
		if (!r->c->signers)
			report(r, HIVE_LEVEL_ERROR, R_SIGNED, cp_shown, 0,
			       "policy.require_signed needs trust.allowed_signers to say whose "
			       "signatures count");
		else if (!in->checkpoint_buf)
			report(r, HIVE_LEVEL_ERROR, R_SIGNED, cp_shown, 0,
			       "the completed session has no CHECKPOINT: %ld signer%s required "
			       "(policy: require_signed)",
			       cfg->require_signed, cfg->require_signed == 1 ? "" : "s");
		else if ((long)nvalid < cfg->require_signed)
			report(r, HIVE_LEVEL_ERROR, R_SIGNED, sig_shown, 0,
			       "CHECKPOINT has %zu valid signer%s in trust.allowed_signers, %ld "
			       "required (policy: require_signed)",
			       nvalid, nvalid == 1 ? "" : "s", cfg->require_signed);
	}
	free(valid);
	hive_sshsig_free_all(v, n);
}

/* check input's read_log over a session folder: arg is its directory descriptor. */
static int read_folder_log(void *arg, const char *name, char **buf, size_t *len, int *missing,
			   struct hive_err *err)
{
	struct hive_err e = {0};

	*missing = 0;
	if (hive_read_file(*(int *)arg, name, 1, (size_t)1 << 31, buf, len, &e) == HIVE_OK)
		return HIVE_OK;
	if (e.sys == ENOENT) {
		*missing = 1;
		return HIVE_OK;
	}
	*err = e;
	return HIVE_EENV;
}

/* dirfd/name into *buf (NULL when missing). */
static int read_optional(int dirfd, const char *name, char **buf, size_t *len, struct hive_err *err)
{
	struct hive_err e = {0};
	int rc = hive_read_file(dirfd, name, 1, 64 * 1024 * 1024, buf, len, &e);

	if (rc && e.sys != ENOENT) {
		*err = e;
		return HIVE_EENV;
	}
	return HIVE_OK;
}

/* Every lanes/NAME.jsonl of the folder at dirfd into owned->lanes, in name order (none
 * when there is no lanes folder). HIVE_EENV when one cannot be read; what was read stays in
 * owned for hive_check_owned_free. */
int hive_check_read_lanes(int dirfd, struct hive_check_owned *owned, struct hive_err *err)
{
	struct hive_strv names = {0};
	struct hive_check_file *f;
	struct dirent *de;
	char path[600];
	DIR *d;
	size_t i, n;
	int fd, rc = HIVE_OK;

	if ((fd = openat(dirfd, "lanes", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return errno == ENOENT || errno == ENOTDIR
			       ? HIVE_OK
			       : hive_err_sys(err, HIVE_EENV, errno, "lanes");
	if (!(d = fdopendir(fd))) {
		close(fd);
		return hive_err_sys(err, HIVE_EENV, errno, "lanes");
	}
	while ((de = readdir(d))) {
		n = strlen(de->d_name);
		if (n > 6 && n < 256 && !strcmp(de->d_name + n - 6, ".jsonl") &&
		    hive_strv_push(&names, de->d_name) < 0) {
			rc = hive_err_set(err, HIVE_EENV, "out of memory");
			goto out;
		}
	}
	hive_strv_sort(&names);
	if (names.n && !(owned->lanes = calloc(names.n, sizeof(*owned->lanes)))) {
		rc = hive_err_set(err, HIVE_EENV, "out of memory");
		goto out;
	}
	for (i = 0; i < names.n; i++) {
		f = &owned->lanes[owned->nlanes];
		snprintf(path, sizeof(path), "lanes/%s", names.v[i]);
		if (!(f->name = strdup(path))) {
			rc = hive_err_set(err, HIVE_EENV, "out of memory");
			goto out;
		}
		owned->nlanes++;
		if ((rc = read_optional(dirfd, path, &f->buf, &f->len, err)))
			goto out;
	}
out:
	closedir(d);
	hive_strv_clear(&names);
	return rc;
}

/* The first segment file of the folder past the ones s has open (a gap in the numbering),
 * into owned->stray; none is HIVE_OK with it NULL. */
static int stray_segment(struct hive_session *s, struct hive_check_owned *owned,
			 struct hive_err *err)
{
	struct dirent *de;
	long i;
	int fd;
	DIR *d;

	if ((fd = openat(s->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 ||
	    !(d = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		return hive_err_sys(err, HIVE_EENV, errno, "%s", s->dir);
	}
	while (!owned->stray && (de = readdir(d)))
		if ((i = hive_log_segment_index(de->d_name)) >= 0 && (size_t)i >= s->nsegs &&
		    !(owned->stray = strdup(de->d_name))) {
			closedir(d);
			return hive_err_set(err, HIVE_EENV, "out of memory");
		}
	closedir(d);
	return HIVE_OK;
}

int hive_check_input_from_session(struct hive_session *s, const char *dir_shown,
				  const char *events_shown, struct hive_check_input *in,
				  struct hive_check_owned *owned, struct hive_err *err)
{
	struct stat st;
	size_t i;
	int rc;

	memset(owned, 0, sizeof(*owned));
	memset(in, 0, sizeof(*in));
	in->session = s->id;
	in->dir_shown = dir_shown;
	in->events_shown = events_shown;
	in->events_fd = s->nsegs ? s->segs[0] : s->eventsfd;
	in->seg_fds = s->segs;
	in->nsegs = s->nsegs;
	for (i = 0; i < s->nsegs; i++)
		if (lseek(s->segs[i], 0, SEEK_SET) < 0)
			return hive_err_sys(err, HIVE_EENV, errno, "%s", events_shown);
	if ((rc = stray_segment(s, owned, err)))
		return rc;
	in->stray_segment = owned->stray;
	if ((rc = read_optional(s->dirfd, "STATE.json", &owned->state, &in->state_len, err)) ||
	    (rc = read_optional(s->dirfd, HIVE_CHECKPOINT_FILE, &owned->checkpoint,
				&in->checkpoint_len, err)) ||
	    (rc = read_optional(s->dirfd, HIVE_CHECKPOINT_SIG_FILE, &owned->signature,
				&in->signature_len, err))) {
		hive_check_owned_free(owned);
		return rc;
	}
	if ((rc = read_optional(s->dirfd, "METRICS.json", &owned->metrics, &in->metrics_len,
				err)) ||
	    (rc = read_optional(s->dirfd, "RUNBOOK.md", &owned->runbook, &in->runbook_len, err)) ||
	    (rc = hive_check_read_lanes(s->dirfd, owned, err))) {
		hive_check_owned_free(owned);
		return rc;
	}
	in->state_buf = owned->state;
	in->checkpoint_buf = owned->checkpoint;
	in->signature_buf = owned->signature;
	in->metrics_buf = owned->metrics;
	in->runbook_buf = owned->runbook;
	in->lanes = owned->lanes;
	in->nlanes = owned->nlanes;
	in->metrics_present = fstatat(s->dirfd, "METRICS.json", &st, AT_SYMLINK_NOFOLLOW) == 0;
	in->read_log = read_folder_log;
	in->read_log_arg = &s->dirfd;
	return HIVE_OK;
}

void hive_check_owned_free(struct hive_check_owned *owned)
{
	size_t i;

	for (i = 0; i < owned->nlanes; i++) {
		free(owned->lanes[i].name);
		free(owned->lanes[i].buf);
	}
	free(owned->lanes);
	free(owned->state);
	free(owned->checkpoint);
	free(owned->signature);
	free(owned->metrics);
	free(owned->runbook);
	free(owned->stray);
	memset(owned, 0, sizeof(*owned));
}

/* Note that the log reader's next source starts at line `first` (as counted across segments):
 * segment seg, after its first `before` lines. 0 when out of memory. */
static int note_start(struct run *r, size_t first, size_t seg, size_t before)
{
	struct seg_start *n = realloc(r->starts, (r->nstarts + 1) * sizeof(*n));

	if (!n)
		return 0;
	r->starts = n;
	n[r->nstarts].first = first;
	n[r->nstarts].seg = seg;
	n[r->nstarts].before = before;
	r->nstarts++;
	return 1;
}

/* protocol: a segment after EVENTS.jsonl holds at least one line (a writer makes it whole,
 * with its first lines, or not at all). */
static void empty_segments(struct run *r)
{
	const struct hive_check_input *in = r->in;
	char shown[4300], name[32];
	size_t i;
	off_t size;

	for (i = 1; i < in->nsegs; i++) {
		if (in->seg_fds) {
			struct stat st;
			size = fstat(in->seg_fds[i], &st) == 0 ? st.st_size : 1;
		} else {
			size = (off_t)in->seg_lens[i];
		}
		if (size == 0) {
			snprintf(shown, sizeof(shown), "%.4200s/%s",
				 in->dir_shown ? in->dir_shown : ".",
				 hive_log_segment_name(in->seed_seg + i, name));
			report(r, HIVE_LEVEL_ERROR, R_PROTOCOL, shown, 0,
			       "the segment is empty: a segment is made with its first lines");
		}
	}
}

/* policy.require_completed (a session not completed yet): one the push carries, or one that
 * started more than `minutes` ago, is an error. */
static void check_completed(struct run *r, long minutes)
{
	struct timespec now;
	int64_t age;

	if (r->in->pushed) {
		report(r, HIVE_LEVEL_ERROR, R_COMPLETED, NULL, 1,
		       "the session is pushed without being completed: finish it first with "
		       "hive-runbook --finish (or --status failure) (policy: require_completed)");
		return;
	}
	clock_gettime(CLOCK_REALTIME, &now);
	age = (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000 - r->started_ms;
	if (age > (int64_t)minutes * 60000)
		report(r, HIVE_LEVEL_ERROR, R_COMPLETED, NULL, 1,
		       "the session started %lld minutes ago and is not completed: finish it "
		       "with hive-runbook --finish (or --status failure) (policy: "
		       "require_completed: %ld)",
		       (long long)(age / 60000), minutes);
}

int hive_check_session(const struct hive_checker *c, const struct hive_check_input *in,
		       struct hive_findings *f, struct hive_err *err)
{
	struct run r;
	struct hive_lines *lines = NULL;
	enum hive_line_kind kind;
	const char *text;
	char state_shown[4200], metrics_shown[4200], cp_shown[4200], sig_shown[4200];
	size_t len, i;
	int got, rc = HIVE_OK;
	const char *rule;

	memset(&r, 0, sizeof(r));
	r.c = c;
	r.in = in;
	r.f = f;
	r.next_seq = 1;
	snprintf(state_shown, sizeof(state_shown), "%s/STATE.json",
		 in->dir_shown ? in->dir_shown : ".");
	snprintf(metrics_shown, sizeof(metrics_shown), "%s/METRICS.json",
		 in->dir_shown ? in->dir_shown : ".");
	snprintf(cp_shown, sizeof(cp_shown), "%s/CHECKPOINT", in->dir_shown ? in->dir_shown : ".");
	snprintf(sig_shown, sizeof(sig_shown), "%s/CHECKPOINT.sig",
		 in->dir_shown ? in->dir_shown : ".");
	if (in->is_symlink) {
		report(&r, HIVE_LEVEL_ERROR, R_PROTOCOL, in->dir_shown, 0,
		       "the session folder is a symbolic link (refused)");
		return HIVE_OK;
	}
	/* a folder an older hive named after a secret: its name is in every path and commit */
	if (in->session && (rule = hive_secret_shape(in->session, strlen(in->session))))
		report(&r, HIVE_LEVEL_ERROR, R_SECRETS, in->dir_shown, 0,
		       "the session folder's name has the shape of a secret (%s)", rule);
	if (in->events_missing) {
		report(&r, HIVE_LEVEL_ERROR, R_PROTOCOL, NULL, 0,
		       "the session has no EVENTS.jsonl");
		return HIVE_OK;
	}
	if (in->session && in->state_buf) {
		r.state = hive_json_parse(in->state_buf, in->state_len);
		if (r.state && !cJSON_IsObject(r.state)) {
			cJSON_Delete(r.state);
			r.state = NULL;
		}
		if (hive_json_str(r.state, "worker"))
			r.worker = strdup(hive_json_str(r.state, "worker"));
	}
	if (in->session)
		read_checkpoint(&r, cp_shown);
	if (in->stray_segment)
		report(&r, HIVE_LEVEL_ERROR, R_PROTOCOL, in->dir_shown, 0,
		       "%s is a segment after a gap in the numbering: the segments before it are "
		       "missing",
		       in->stray_segment);
	if (lanes_prepare(&r) < 0) {
		rc = hive_err_set(err, HIVE_EENV, "out of memory");
		goto out;
	}
	if (in->seed_lines) {
		r.lines = in->seed_lines;
		r.last_seq = in->seed_seq;
		r.next_seq = in->seed_seq + 1;
		memcpy(r.prev_hash, in->seed_hash, sizeof(r.prev_hash));
		r.last_ts = in->seed_ts_ms;
		r.have_ts = 1;
		r.started_ms = in->seed_started_ms;
		r.have_start = 1;
		r.seg0_lines = in->seed_seg == 0 ? in->seed_seg_lines : 0;
	}
	rc = in->nsegs ? (in->seg_fds ? hive_lines_from_fds(in->seg_fds, in->nsegs, &lines, err)
				      : hive_lines_from_mems(in->seg_bufs, in->seg_lens, in->nsegs,
							     &lines, err))
	     : in->events_fd >= 0
		     ? hive_lines_from_fd(in->events_fd, &lines, err)
		     : hive_lines_from_mem(in->events_buf, in->events_len, &lines, err);
	if (rc)
		goto out;
	while ((got = hive_lines_next(lines, &text, &len, &kind, err)) > 0) {
		size_t local, src = hive_lines_source(lines, &local);
		size_t no = in->seed_lines + hive_lines_number(lines);
		if (local == 1 &&
		    !note_start(&r, no, in->seed_seg + src, src == 0 ? in->seed_seg_lines : 0)) {
			rc = hive_err_set(err, HIVE_EENV, "out of memory");
			goto out;
		}
		r.cur_seg = in->seed_seg + src;
		r.seg_local = (int)(local + (src == 0 ? in->seed_seg_lines : 0));
		check_line(&r, text, len, kind, no);
	}
	if (got < 0) {
		hive_err_prefix(err, "%s", in->events_shown);
		rc = HIVE_EENV;
		goto out;
	}
	if (r.lines == 0)
		report(&r, HIVE_LEVEL_ERROR, R_PROTOCOL, NULL, 0,
		       "the log is empty: line 1 must be session_started");
	empty_segments(&r);
	lanes_check(&r);
	if (in->session) {
		check_state(&r, state_shown);
		check_signature(&r, cp_shown, sig_shown);
		secret_files(&r, state_shown, metrics_shown, cp_shown);
	}
	if (in->session && r.completed_line && !in->metrics_present)
		report(&r, HIVE_LEVEL_ERROR, R_PROTOCOL, metrics_shown, 0,
		       "the session is completed but has no METRICS.json");
	if (c->cfg && r.completed_line) {
		for (i = 0; i < c->cfg->require_events.n; i++)
			if (!hive_strv_has(&r.types, c->cfg->require_events.v[i]))
				report(&r, HIVE_LEVEL_ERROR, R_EVENTS, NULL, r.completed_line,
				       "the completed session has no %s event (policy: "
				       "require_events)",
				       c->cfg->require_events.v[i]);
		if (c->cfg->max_session_minutes > 0 && r.completed_ms && r.have_start &&
		    r.completed_ms - r.started_ms > c->cfg->max_session_minutes * 60000)
			report(&r, HIVE_LEVEL_ERROR, R_MAX_MINUTES, NULL, r.completed_line,
			       "the session took %lld minutes, more than %ld (policy: "
			       "max_session_minutes)",
			       (long long)((r.completed_ms - r.started_ms + 59999) / 60000),
			       c->cfg->max_session_minutes);
	}
	if (c->cfg && c->cfg->require_completed > 0 && in->session && r.have_start &&
	    !r.completed_line)
		check_completed(&r, c->cfg->require_completed);
	for (i = 0; i < NRULES; i++)
		if (r.count[i] > CAP_PER_RULE)
			hive_findings_add(f, i == R_ORDER ? HIVE_LEVEL_WARNING : HIVE_LEVEL_ERROR,
					  rule_names[i], in->events_shown, 0,
					  "%zu more %s findings not shown",
					  r.count[i] - CAP_PER_RULE, rule_names[i]);
out:
	free(r.lane);
	free(r.starts);
	hive_lines_free(lines);
	hive_arena_release(&r.arena);
	cJSON_Delete(r.state);
	free(r.worker);
	hive_strv_clear(&r.types);
	hive_checkpoint_clear(&r.cp);
	return rc;
}
