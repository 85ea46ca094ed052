/* redact.c - secret redaction: built-in token shapes, secret key names, redact.patterns */
#include "redact.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* A built-in token shape: a PCRE2 pattern (byte mode: every shape is ASCII) and the rule
 * name it redacts as. `group` > 0 redacts only that group. Before PCRE2 sees a string,
 * shape_candidates (one memchr pass per trigger byte) must name the shape, and `maybe`,
 * when there is one, must say yes: a second look that only pays for the shapes whose
 * pattern PCRE2 cannot anchor cheaply (tests/bench, README "Redaction"). */
struct shape {
	const char *rule;
	int (*maybe)(const char *s, size_t len);
	const char *regex;
	int group;
};

/* The first occurrence of lit in s[0..len), or NULL: memchr for its first byte, then a
 * compare (glibc's memmem sets up a two-way search on every call, too dear per line). */
static const char *find_lit(const char *s, size_t len, const char *lit, size_t n)
{
	const char *p = s, *end = s + len;

	while (n && (size_t)(end - p) >= n && (p = memchr(p, lit[0], (size_t)(end - p) - n + 1))) {
		if (!memcmp(p, lit, n))
			return p;
		p++;
	}
	return NULL;
}

/* "eyJ" and then ".eyJ": the two base64url JSON objects a JWT starts with. Without it,
 * PCRE2 tries the jwt pattern at every 'e' of a line holding "eyJ" anywhere. */
static int maybe_jwt(const char *s, size_t len)
{
	const char *p = find_lit(s, len, "eyJ", 3);

	return p && find_lit(p + 3, len - (size_t)(p + 3 - s), ".eyJ", 4);
}

/* scheme://user:pass@ : after "://", a ':' and then an '@' before any '/', space or quote.
 * Without it, on a line with "://" and an '@' (a git remote, an e-mail address), PCRE2
 * tries the url pattern at every letter. */
static int maybe_url(const char *s, size_t len)
{
	const char *p = s, *end = s + len, *q;
	int colon;

	while ((p = find_lit(p, (size_t)(end - p), "://", 3))) {
		for (q = p + 3, colon = 0; q < end && !strchr("/@ \"\t\n\\", *q) && *q; q++)
			colon |= *q == ':';
		if (q < end && *q == '@' && colon)
			return 1;
		p += 3;
	}
	return 0;
}

static const struct shape shapes[] = {
	{"aws_access_key", NULL, "(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}", 0},
	{"github_token", NULL, "gh[pousr]_[A-Za-z0-9]{30,}", 0},
	{"github_pat", NULL, "github_pat_[A-Za-z0-9_]{22,}", 0},
	{"gitlab_token", NULL, "glpat-[A-Za-z0-9_-]{20,}", 0},
	{"slack_token", NULL, "xox[abposr]-[A-Za-z0-9-]{10,}", 0},
	{"private_key", NULL, "-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----[A-Za-z0-9+/=:,\\s\\\\-]*",
	 0},
	{"jwt", maybe_jwt, "eyJ[A-Za-z0-9_-]{5,}\\.eyJ[A-Za-z0-9_-]{5,}\\.[A-Za-z0-9_-]*", 0},
	{"url_credentials", maybe_url,
	 "[A-Za-z][A-Za-z0-9+.-]*://([^\\]/@:\\s\\[\"]+:[^\\]/@\\s\\[\"]+)@", 1},
};

static const char *secret_keys[] = {"password",	   "passwd",	 "secret",
				    "token",	   "api_key",	 "apikey",
				    "private_key", "access_key", "client_secret"};

struct hive_redactor {
	pcre2_code *re[N(shapes)];
	unsigned char state[N(shapes)]; /* 0 not compiled yet, 1 compiled, 2 failed (no memory) */
	const struct hive_config *cfg;
	pcre2_match_data *md;	   /* room for the whole match and one group */
	pcre2_match_context *mctx; /* the limits of redact.h */
};

/* Shape i's expression, compiled on first use: most events never contain a shape's trigger,
 * and hive-emit's whole run is ~2 ms. NULL when it cannot be compiled (out of memory). */
static const pcre2_code *shape_re(struct hive_redactor *r, size_t i)
{
	int code;
	PCRE2_SIZE off;

	if (r->state[i] == 0) {
		r->re[i] = pcre2_compile((PCRE2_SPTR)shapes[i].regex, PCRE2_ZERO_TERMINATED, 0,
					 &code, &off, NULL);
		r->state[i] = r->re[i] ? 1 : 2;
	}
	return r->re[i];
}

int hive_redactor_new(const struct hive_config *cfg, struct hive_redactor **out,
		      struct hive_err *err)
{
	struct hive_redactor *r = calloc(1, sizeof(*r));

	*out = NULL;
	if (!r || !(r->md = pcre2_match_data_create(2, NULL)) ||
	    !(r->mctx = pcre2_match_context_create(NULL))) {
		hive_redactor_free(r);
		return hive_err_set(err, HIVE_EENV, "out of memory");
	}
	pcre2_set_match_limit(r->mctx, HIVE_REDACT_MATCH_LIMIT);
	pcre2_set_depth_limit(r->mctx, HIVE_REDACT_DEPTH_LIMIT);
	pcre2_set_heap_limit(r->mctx, HIVE_REDACT_HEAP_LIMIT);
	r->cfg = cfg;
	*out = r;
	return HIVE_OK;
}

void hive_redactor_free(struct hive_redactor *r)
{
	size_t i;

	if (!r)
		return;
	for (i = 0; i < N(shapes); i++)
		pcre2_code_free(r->re[i]);
	pcre2_match_data_free(r->md);
	pcre2_match_context_free(r->mctx);
	free(r);
}

/* Key name as lowercase words joined by '_': "clientSecret" and "client-secret" both
 * become "client_secret". */
static void key_words(const char *key, char *out, size_t size)
{
	size_t o = 0;
	const char *p;

	for (p = key; *p && o + 2 < size; p++) {
		unsigned char c = (unsigned char)*p;
		if (isupper(c) && p > key && islower((unsigned char)p[-1]))
			out[o++] = '_';
		out[o++] = (c == '-' || c == ' ' || c == '.') ? '_' : (char)tolower(c);
	}
	out[o] = '\0';
}

/* Does `name` (already lowercase words) occur in `words` on word boundaries? */
static int has_words(const char *words, const char *name)
{
	size_t n = strlen(name);
	const char *p = words;

	while ((p = strstr(p, name))) {
		if ((p == words || p[-1] == '_') && (p[n] == '\0' || p[n] == '_'))
			return 1;
		p++;
	}
	return 0;
}

/* Could key be a secret's name at all? Every built-in name contains "pass", "secret",
 * "token" or "key" (any case): one pass over the key, most keys are done here. */
static int maybe_secret_key(const char *k)
{
	for (; *k; k++) {
		switch (*k | 0x20) {
		case 'p':
			if ((k[1] | 0x20) == 'a' && (k[2] | 0x20) == 's' && (k[3] | 0x20) == 's')
				return 1;
			break;
		case 's':
			if (!strncasecmp(k, "secret", 6))
				return 1;
			break;
		case 't':
			if (!strncasecmp(k, "token", 5))
				return 1;
			break;
		case 'k':
			if ((k[1] | 0x20) == 'e' && (k[2] | 0x20) == 'y')
				return 1;
			break;
		}
	}
	return 0;
}

int hive_redactor_key_is_secret(const struct hive_redactor *r, const char *key)
{
	char words[512], name[512];
	size_t i;

	/* every built-in name contains one of these: most keys are done here */
	if (!(r->cfg && r->cfg->redact_keys.n) && !maybe_secret_key(key))
		return 0;
	key_words(key, words, sizeof(words));
	for (i = 0; i < N(secret_keys); i++)
		if (has_words(words, secret_keys[i]))
			return 1;
	for (i = 0; r->cfg && i < r->cfg->redact_keys.n; i++) {
		key_words(r->cfg->redact_keys.v[i], name, sizeof(name));
		if (has_words(words, name))
			return 1;
	}
	return 0;
}

/* Does a shape plausibly start or end at p (left bytes from p to the end of s)?
 * Returns its bit (shapes[i] is bit i), or 0. */
static unsigned shape_at(const char *s, const char *p, size_t left)
{
	switch (*p) {
	case 'A': /* aws_access_key */
		return left >= 20 && (!memcmp(p, "AKIA", 4) || !memcmp(p, "ASIA", 4) ||
				      !memcmp(p, "ABIA", 4) || !memcmp(p, "ACCA", 4) ||
				      !memcmp(p, "A3T", 3))
			       ? 1u << 0
			       : 0;
	case 'g': /* github_token, github_pat, gitlab_token */
		return (left >= 4 && p[1] == 'h' && p[3] == '_' && p[2] && strchr("poshur", p[2])
				? 1u << 1
				: 0) |
		       (left >= 11 && !memcmp(p, "github_pat_", 11) ? 1u << 2 : 0) |
		       (left >= 6 && !memcmp(p, "glpat-", 6) ? 1u << 3 : 0);
	case 'x': /* slack_token */
		return left >= 5 && p[1] == 'o' && p[2] == 'x' && p[4] == '-' && p[3] &&
				       strchr("abposr", p[3])
			       ? 1u << 4
			       : 0;
	case 'P': /* private_key */
		return left >= 16 && !memcmp(p, "PRIVATE KEY-----", 16) ? 1u << 5 : 0;
	case 'J': /* jwt: "eyJ", keyed on the rarer J */
		return p - s >= 2 && p[-2] == 'e' && p[-1] == 'y' ? 1u << 6 : 0;
	case '/': /* url_credentials: "://", keyed on '/' (JSON is full of ':') */
		return left >= 2 && p[1] == '/' && p > s && p[-1] == ':' ? 1u << 7 : 0;
	}
	return 0;
}

/* Which shapes might occur in s[0..len): a memchr pass per trigger byte (vectorised, far
 * cheaper than looking at every byte), a closer look only where one stands. */
static unsigned shape_candidates(const char *s, size_t len)
{
	static const char triggers[] = "AgxPJ/";
	const char *p, *end = s + len;
	unsigned m = 0;
	size_t t;

	for (t = 0; t < sizeof(triggers) - 1; t++)
		for (p = s; p < end && (p = memchr(p, triggers[t], (size_t)(end - p))); p++)
			m |= shape_at(s, p, (size_t)(end - p));
	return m;
}

/* One expression over s[0..len): 1 with the match (or `group`, when it took part) in
 * [*so, *eo), 0 when there is none, -1 when PCRE2 gave up (a limit, out of memory). */
static int match_one(struct hive_redactor *r, const pcre2_code *re, const char *s, size_t len,
		     uint32_t options, int group, size_t *so, size_t *eo)
{
	int rc = pcre2_match(re, (PCRE2_SPTR)s, len, 0, options, r->md, r->mctx);
	PCRE2_SIZE *ov;

	if (rc == PCRE2_ERROR_NOMATCH)
		return 0;
	if (rc < 0)
		return -1;
	ov = pcre2_get_ovector_pointer(r->md);
	/* rc 0: more groups than the ovector holds; the whole match is there all the same */
	if (group <= 0 || (rc > 0 && rc <= group) || ov[2 * group] == PCRE2_UNSET)
		group = 0;
	*so = ov[2 * group];
	*eo = ov[2 * group + 1];
	return 1;
}

/* The first match of any rule in s[0..len): built-in shapes, then configured patterns (an
 * empty match is none: PCRE2_NOTEMPTY). Returns its rule with [*so, *eo), or NULL. When a
 * rule reaches a limit or PCRE2 fails, HIVE_REDACT_LIMIT_RULE with the whole of s. */
static const char *find_match(struct hive_redactor *r, const char *s, size_t len, size_t *so,
			      size_t *eo)
{
	const pcre2_code *re;
	const char *best = NULL;
	size_t i, mso, meo;
	int rc;
	unsigned cand = shape_candidates(s, len);

	*so = *eo = 0;
	for (i = 0; cand && i < N(shapes); i++) {
		if (!(cand & (1u << i)) || (shapes[i].maybe && !shapes[i].maybe(s, len)))
			continue;
		/* a shape that could not be compiled (out of memory) cannot vouch for s either */
		if (!(re = shape_re(r, i)) ||
		    (rc = match_one(r, re, s, len, 0, shapes[i].group, &mso, &meo)) < 0)
			goto limit;
		if (rc && (!best || mso < *so)) {
			*so = mso;
			*eo = meo;
			best = shapes[i].rule;
		}
	}
	for (i = 0; r->cfg && i < r->cfg->npatterns; i++) {
		rc = match_one(r, r->cfg->patterns[i].re, s, len, PCRE2_NOTEMPTY, 0, &mso, &meo);
		if (rc < 0)
			goto limit;
		if (rc && (!best || mso < *so)) {
			*so = mso;
			*eo = meo;
			best = "pattern";
		}
	}
	return best;
limit:
	*so = 0;
	*eo = len;
	return HIVE_REDACT_LIMIT_RULE;
}

const char *hive_redactor_find(struct hive_redactor *r, const char *s, size_t len, size_t *at)
{
	size_t so, eo;
	const char *rule = find_match(r, s, len, &so, &eo);

	if (rule && at)
		*at = so;
	return rule;
}

/* Replace every match in *sp; returns the number of replacements, -1 on OOM. The string
 * (owned by cJSON) is reallocated when something changes. At a match limit the whole
 * string becomes "[REDACTED:match_limit]", one replacement. */
static int redact_string(struct hive_redactor *r, char **sp)
{
	static const char limited[] = "[REDACTED:" HIVE_REDACT_LIMIT_RULE "]";
	char *s = *sp, *out, repl[64];
	size_t len = strlen(s), pos = 0, rl, nlen, so, eo;
	const char *rule;
	int count = 0;

	while (pos < len && (rule = find_match(r, s + pos, len - pos, &so, &eo)) && eo > so) {
		if (!strcmp(rule, HIVE_REDACT_LIMIT_RULE)) {
			if (!strcmp(s, limited))
				return 0;
			if (!(out = cJSON_malloc(sizeof(limited))))
				return -1;
			memcpy(out, limited, sizeof(limited));
			cJSON_free(s);
			*sp = out;
			return 1;
		}
		rl = (size_t)snprintf(repl, sizeof(repl), "[REDACTED:%s]", rule);
		nlen = len - (eo - so) + rl;
		if (!(out = cJSON_malloc(nlen + 1)))
			return -1;
		memcpy(out, s, pos + so);
		memcpy(out + pos + so, repl, rl);
		memcpy(out + pos + so + rl, s + pos + eo, len - pos - eo + 1);
		cJSON_free(s);
		*sp = s = out;
		pos += so + rl;
		len = nlen;
		count++;
	}
	return count;
}

static int redact_node(struct hive_redactor *r, cJSON *node, int keys_too)
{
	cJSON *child;
	int total = 0, n;

	cJSON_ArrayForEach(child, node)
	{
		/* the name as given decides whether the value is a secret; then the key's own
		 * token shapes go too, even when its value is replaced: a token pasted into
		 * a key named like a secret ("token ghp_…") was written as it was */
		int secret_name =
			keys_too && child->string && hive_redactor_key_is_secret(r, child->string);

		if (child->string && !(child->type & cJSON_StringIsConst)) {
			if ((n = redact_string(r, &child->string)) < 0)
				return -1;
			total += n;
		}
		if (secret_name && !cJSON_IsNull(child) &&
		    !(cJSON_IsString(child) && !strncmp(child->valuestring, "[REDACTED", 9))) {
			cJSON *repl = cJSON_CreateString("[REDACTED]");
			if (!repl)
				return -1;
			repl->string = child->string; /* the key moves to the replacement */
			repl->type |= child->type & cJSON_StringIsConst;
			child->string = NULL;
			cJSON_ReplaceItemViaPointer(node, child, repl);
			child = repl;
			total++;
			continue;
		}
		if (cJSON_IsString(child)) {
			if ((n = redact_string(r, &child->valuestring)) < 0)
				return -1;
			total += n;
		} else if (cJSON_IsArray(child) || cJSON_IsObject(child)) {
			if ((n = redact_node(r, child, keys_too)) < 0)
				return -1;
			total += n;
		}
	}
	return total;
}

int hive_redact(struct hive_redactor *r, cJSON *obj, int keys_too)
{
	int n;

	if (cJSON_IsString(obj)) {
		n = redact_string(r, &obj->valuestring);
		return n;
	}
	return redact_node(r, obj, keys_too);
}
