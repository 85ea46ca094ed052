/* redact.c - secret redaction: built-in token shapes, secret key names, redact.patterns */
#include "redact.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* A built-in token shape. `maybe` is a cheap scan that every match passes (hive-check
 * runs it on every line of every log; the regex runs only after it says yes). `group` > 0
 * redacts only that subexpression. */
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

static int has(const char *s, size_t len, const char *lit)
{
	return find_lit(s, len, lit, strlen(lit)) != NULL;
}

/* AKIA, ASIA, ABIA, ACCA or A3T: one pass over the capital As. */
static int maybe_aws(const char *s, size_t len)
{
	const char *p = s, *end = s + len;

	while ((p = memchr(p, 'A', (size_t)(end - p))) && end - p >= 20) {
		if (!memcmp(p, "AKIA", 4) || !memcmp(p, "ASIA", 4) || !memcmp(p, "ABIA", 4) ||
		    !memcmp(p, "ACCA", 4) || !memcmp(p, "A3T", 3))
			return 1;
		p++;
	}
	return 0;
}

/* ghp_ gho_ ghs_ ghu_ ghr_ */
static int maybe_github(const char *s, size_t len)
{
	const char *p = s, *end = s + len;

	while ((p = find_lit(p, (size_t)(end - p), "gh", 2)) && end - p >= 4) {
		if (strchr("poshur", p[2]) && p[2] && p[3] == '_')
			return 1;
		p += 2;
	}
	return 0;
}

static int maybe_github_pat(const char *s, size_t len)
{
	return has(s, len, "github_pat_");
}

static int maybe_gitlab(const char *s, size_t len)
{
	return has(s, len, "glpat-");
}

static int maybe_slack(const char *s, size_t len)
{
	const char *p = s, *end = s + len;

	while ((p = find_lit(p, (size_t)(end - p), "xox", 3)) && end - p >= 5) {
		if (strchr("abposr", p[3]) && p[3] && p[4] == '-')
			return 1;
		p += 3;
	}
	return 0;
}

static int maybe_pem(const char *s, size_t len)
{
	return has(s, len, "PRIVATE KEY-----");
}

static int maybe_jwt(const char *s, size_t len)
{
	const char *p = find_lit(s, len, "eyJ", 3);

	return p && find_lit(p + 3, len - (size_t)(p + 3 - s), ".eyJ", 4);
}

/* scheme://user:pass@ : after "://", a ':' and then an '@' before any '/', space or quote */
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
	{"aws_access_key", maybe_aws, "(A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}", 0},
	{"github_token", maybe_github, "(ghp|gho|ghs|ghu|ghr)_[A-Za-z0-9]{30,}", 0},
	{"github_pat", maybe_github_pat, "github_pat_[A-Za-z0-9_]{22,}", 0},
	{"gitlab_token", maybe_gitlab, "glpat-[A-Za-z0-9_-]{20,}", 0},
	{"slack_token", maybe_slack, "xox[abposr]-[A-Za-z0-9-]{10,}", 0},
	{"private_key", maybe_pem,
	 "-----BEGIN ([A-Z0-9]+ )*PRIVATE KEY-----[A-Za-z0-9+/=:,[:space:]\\\\-]*", 0},
	{"jwt", maybe_jwt, "eyJ[A-Za-z0-9_-]{5,}\\.eyJ[A-Za-z0-9_-]{5,}\\.[A-Za-z0-9_-]*", 0},
	{"url_credentials", maybe_url,
	 "[A-Za-z][A-Za-z0-9+.-]*://([^]/@:[:space:][\"]+:[^]/@[:space:][\"]+)@", 1},
};

static const char *secret_keys[] = {"password",	  "passwd",	 "secret",
				    "token",	  "api_key",	 "apikey",
				    "private_key", "access_key", "client_secret"};

struct hive_redactor {
	regex_t re[N(shapes)];
	unsigned char state[N(shapes)]; /* 0 not compiled yet, 1 compiled, 2 failed */
	const struct hive_config *cfg;
	char *scratch;  /* a NUL-terminated copy of a raw line for regexec (see find_match) */
	size_t scratch_cap;
};

/* Shape i's regex, compiled on first use: glibc's regcomp costs more than the rest of a
 * hive-emit run, and most events never contain a shape's hint literal. */
static const regex_t *shape_re(struct hive_redactor *r, size_t i)
{
	if (r->state[i] == 0)
		r->state[i] = regcomp(&r->re[i], shapes[i].regex, REG_EXTENDED) ? 2 : 1;
	return r->state[i] == 1 ? &r->re[i] : NULL;
}

int hive_redactor_new(const struct hive_config *cfg, struct hive_redactor **out,
		      struct hive_err *err)
{
	struct hive_redactor *r = calloc(1, sizeof(*r));

	*out = NULL;
	if (!r)
		return hive_err_set(err, HIVE_EENV, "out of memory");
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
		if (r->state[i] == 1)
			regfree(&r->re[i]);
	free(r->scratch);
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

/* s[0..len) for regexec: s itself when s[len] is a NUL the caller vouches for, else a
 * NUL-terminated copy in r->scratch. glibc's regexec reads only [rm_so, rm_eo) with
 * REG_STARTEND, but the ASan and MSan interceptors of regexec run strlen over the string
 * (a raw line inside a read buffer has no NUL after it: fuzz_event found the report), and
 * REG_STARTEND is an extension other C libraries lack. Out of memory: s as it is. */
static const char *nul_terminated(struct hive_redactor *r, const char *s, size_t len)
{
	char *b;

	if (len + 1 > r->scratch_cap) {
		if (!(b = realloc(r->scratch, len + 1)))
			return s;
		r->scratch = b;
		r->scratch_cap = len + 1;
	}
	memcpy(r->scratch, s, len);
	r->scratch[len] = '\0';
	return r->scratch;
}

/* First match of any rule in s[0..len): built-in shapes, then configured patterns.
 * terminated: s[len] is a NUL (a cJSON string); else s is copied before any regexec. */
static const char *find_match(struct hive_redactor *r, const char *s, size_t len, int terminated,
			      regoff_t *so, regoff_t *eo)
{
	const regex_t *re;
	regmatch_t m[2];
	const char *best = NULL, *z = terminated ? s : NULL;
	size_t i;

	unsigned cand = shape_candidates(s, len);

	*so = -1;
	for (i = 0; cand && i < N(shapes); i++) {
		if (!(cand & (1u << i)) || !shapes[i].maybe(s, len))
			continue;
		m[0].rm_so = 0;
		m[0].rm_eo = (regoff_t)len;
		if (!(re = shape_re(r, i)))
			continue;
		if (!z)
			z = nul_terminated(r, s, len);
		if (regexec(re, z, 2, m, REG_STARTEND))
			continue;
		if (shapes[i].group)
			m[0] = m[shapes[i].group];
		if (*so < 0 || m[0].rm_so < *so) {
			*so = m[0].rm_so;
			*eo = m[0].rm_eo;
			best = shapes[i].rule;
		}
	}
	for (i = 0; r->cfg && i < r->cfg->npatterns; i++) {
		m[0].rm_so = 0;
		m[0].rm_eo = (regoff_t)len;
		if (!z)
			z = nul_terminated(r, s, len);
		if (regexec(&r->cfg->patterns[i].re, z, 1, m, REG_STARTEND) ||
		    m[0].rm_eo == m[0].rm_so)
			continue;
		if (*so < 0 || m[0].rm_so < *so) {
			*so = m[0].rm_so;
			*eo = m[0].rm_eo;
			best = "pattern";
		}
	}
	return best;
}

const char *hive_redactor_find(struct hive_redactor *r, const char *s, size_t len,
			       size_t *at)
{
	regoff_t so, eo;
	const char *rule = find_match(r, s, len, 0, &so, &eo);

	if (rule && at)
		*at = (size_t)so;
	return rule;
}

/* Replace every token shape in *sp; returns the number of replacements, -1 on OOM. The
 * string (owned by cJSON) is reallocated when something changes. */
static int redact_string(struct hive_redactor *r, char **sp)
{
	char *s = *sp, *out, repl[64];
	size_t len = strlen(s), pos = 0, rl, nlen;
	regoff_t so, eo;
	const char *rule;
	int count = 0;

	while (pos < len && (rule = find_match(r, s + pos, len - pos, 1, &so, &eo)) && eo > so) {
		rl = (size_t)snprintf(repl, sizeof(repl), "[REDACTED:%s]", rule);
		nlen = len - (size_t)(eo - so) + rl;
		if (!(out = cJSON_malloc(nlen + 1)))
			return -1;
		memcpy(out, s, pos + (size_t)so);
		memcpy(out + pos + (size_t)so, repl, rl);
		memcpy(out + pos + (size_t)so + rl, s + pos + (size_t)eo,
		       len - pos - (size_t)eo + 1);
		cJSON_free(s);
		*sp = s = out;
		pos += (size_t)so + rl;
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
		int secret_name = keys_too && child->string &&
				  hive_redactor_key_is_secret(r, child->string);

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
