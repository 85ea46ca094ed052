/* json.c - the one strict JSON reader: an RFC 8259 pass, then cJSON, then duplicate keys */
#include "json.h"

#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --- UTF-8 ------------------------------------------------------------------------------- */

/* The length of the well-formed UTF-8 sequence at s[0..avail), or 0 when there is none
 * (RFC 3629: no overlong forms, no surrogates, nothing past U+10FFFF). */
static size_t utf8_seq(const unsigned char *s, size_t avail)
{
	unsigned c = s[0];

	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		return avail >= 2 && (s[1] & 0xC0) == 0x80 ? 2 : 0;
	if (c >= 0xE0 && c <= 0xEF) {
		if (avail < 3 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80)
			return 0;
		if ((c == 0xE0 && s[1] < 0xA0) || (c == 0xED && s[1] >= 0xA0))
			return 0; /* overlong, or a surrogate */
		return 3;
	}
	if (c >= 0xF0 && c <= 0xF4) {
		if (avail < 4 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80 ||
		    (s[3] & 0xC0) != 0x80)
			return 0;
		if ((c == 0xF0 && s[1] < 0x90) || (c == 0xF4 && s[1] >= 0x90))
			return 0; /* overlong, or past U+10FFFF */
		return 4;
	}
	return 0;
}

int hive_utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + len;
	size_t n;

	while (p < end) {
		if (*p < 0x80) {
			p++;
			continue;
		}
		if (!(n = utf8_seq(p, (size_t)(end - p))))
			return 0;
		p += n;
	}
	return 1;
}

/* --- the RFC 8259 pass --------------------------------------------------------------------- */

/* What a byte is inside a string: 0 taken as it is, 1 the closing quote, 2 a backslash, 3 a
 * control character (never raw in JSON), 4 the first byte of a UTF-8 sequence. */
/* clang-format off */
static const unsigned char str_class[256] = {
	3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, /* 0x00 */
	3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, /* 0x10 */
	0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x20 " */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x30 */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x40 */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, /* 0x50 \ */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x60 */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x70 */
	4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, /* 0x80 */
	4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, /* 0x90 */
	4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, /* 0xA0 */
	4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, /* 0xB0 */
	4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, /* 0xC0 */
	4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, /* 0xD0 */
	4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, /* 0xE0 */
	4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, /* 0xF0 */
};
/* clang-format on */

/* One pass over the text. Also finds where a duplicate key stands, when asked: the tree
 * says which object and key, the text where (objects are numbered in the order their
 * braces open, which is the tree's pre-order). */
struct scan {
	const unsigned char *s, *end;
	struct hive_err *err;
	size_t objects;	      /* objects opened so far */
	size_t want_object;   /* locate: the object to look in (from 1), or 0 */
	const char *want_key; /* locate: the key named twice */
	int want_depth;	      /* locate: that object's depth while inside it, else 0 */
	int seen;	      /* locate: how many times want_key was met in it */
	size_t found;	      /* locate: offset of its second occurrence, or SIZE_MAX */
};

static int fail(struct scan *sc, const unsigned char *at, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct scan *sc, const unsigned char *at, const char *fmt, ...)
{
	char why[200];
	va_list ap;

	if (!sc->err)
		return HIVE_EUSAGE;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	return hive_err_set(sc->err, HIVE_EUSAGE, "byte %zu: %s", (size_t)(at - sc->s) + 1, why);
}

/* The byte at p for a message: 'x' when printable, else its value. */
static const char *shown(const unsigned char *p, char buf[16])
{
	if (*p > 0x20 && *p < 0x7F)
		snprintf(buf, 16, "character '%c'", *p);
	else
		snprintf(buf, 16, "byte 0x%02X", *p);
	return buf;
}

static int hex4(const unsigned char *p, const unsigned char *end, unsigned *out)
{
	unsigned v = 0, d;
	int i;

	if (end - p < 4)
		return -1;
	for (i = 0; i < 4; i++) {
		if (p[i] >= '0' && p[i] <= '9')
			d = p[i] - '0';
		else if ((p[i] | 0x20) >= 'a' && (p[i] | 0x20) <= 'f')
			d = (p[i] | 0x20) - 'a' + 10;
		else
			return -1;
		v = v << 4 | d;
	}
	*out = v;
	return 0;
}

/* A word trick (Bit Twiddling Hacks): nonzero when some byte of w is below n <= 128 (a byte
 * equal to c is a zero in w ^ ONES * c, so below 1). A false positive only ever follows a
 * true one, and either way the byte loop then decides. */
#define ONES  0x0101010101010101ull
#define HIGHS 0x8080808080808080ull

static inline uint64_t has_less(uint64_t w, unsigned n)
{
	return (w - ONES * n) & ~w & HIGHS;
}

/* The string opening at *pp: *pp is moved past its closing quote. */
static int scan_string(struct scan *sc, const unsigned char **pp)
{
	const unsigned char *p = *pp + 1, *end = sc->end;
	unsigned cp, lo;
	size_t n;

	for (;;) {
		/* eight bytes at a time: most of a line is string */
		while (end - p >= 8) {
			uint64_t w, special;
			memcpy(&w, p, 8);
			special = has_less(w, 0x20) | has_less(w ^ (ONES * '"'), 1) |
				  has_less(w ^ (ONES * '\\'), 1) | (w & HIGHS);
			if (!special) {
				p += 8;
				continue;
			}
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
			/* the lowest flag is never a false one: that is the first special byte */
			p += __builtin_ctzll(special) >> 3;
#endif
			break;
		}
		while (p < end && !str_class[*p])
			p++;
		if (p == end)
			return fail(sc, *pp, "a string that is never closed");
		switch (str_class[*p]) {
		case 1:
			*pp = p + 1;
			return HIVE_OK;
		case 2:
			if (p + 1 == end)
				return fail(sc, *pp, "a string that is never closed");
			switch (p[1]) {
			case '"':
			case '\\':
			case '/':
			case 'b':
			case 'f':
			case 'n':
			case 'r':
			case 't':
				p += 2;
				continue;
			case 'u':
				break;
			default: {
				char b[16];
				return fail(sc, p,
					    "invalid escape in a string: a backslash before %s",
					    shown(p + 1, b));
			}
			}
			if (hex4(p + 2, end, &cp))
				return fail(sc, p, "\\u needs 4 hex digits");
			if (cp == 0)
				return fail(sc, p, "\\u0000 (a NUL character) in a string");
			if (cp >= 0xDC00 && cp <= 0xDFFF)
				return fail(sc, p, "lone surrogate \\u%04X in a string", cp);
			if (cp >= 0xD800 && cp <= 0xDBFF) {
				if (end - p < 12 || p[6] != '\\' || p[7] != 'u' ||
				    hex4(p + 8, end, &lo) || lo < 0xDC00 || lo > 0xDFFF)
					return fail(sc, p, "lone surrogate \\u%04X in a string",
						    cp);
				p += 12;
				continue;
			}
			p += 6;
			continue;
		case 3:
			return fail(sc, p, "raw control character U+%04X in a string", *p);
		default:
			if (!(n = utf8_seq(p, (size_t)(end - p))))
				return fail(sc, p, "invalid UTF-8 in a string");
			p += n;
		}
	}
}

#define IS_DIGIT(c) ((unsigned)((c) - '0') < 10)

/* The number starting at *pp (a '-' or a digit): *pp is moved past it. */
static int scan_number(struct scan *sc, const unsigned char **pp)
{
	const unsigned char *start = *pp, *p = start, *end = sc->end;

	if (*p == '-') {
		p++;
		if (end - p >= 8 && !memcmp(p, "Infinity", 8))
			return fail(sc, start, "NaN and Infinity are not JSON numbers");
		if (p == end || !IS_DIGIT(*p))
			return fail(sc, start, "a number needs a digit after '-'");
	}
	if (*p == '0') {
		p++;
		if (p < end && IS_DIGIT(*p))
			return fail(sc, start, "leading zero in a number");
	} else {
		while (p < end && IS_DIGIT(*p))
			p++;
	}
	if (p < end && *p == '.') {
		p++;
		if (p == end || !IS_DIGIT(*p))
			return fail(sc, start, "a number needs a digit after its decimal point");
		while (p < end && IS_DIGIT(*p))
			p++;
	}
	if (p < end && (*p | 0x20) == 'e') {
		p++;
		if (p < end && (*p == '+' || *p == '-'))
			p++;
		if (p == end || !IS_DIGIT(*p))
			return fail(sc, start, "a number needs a digit in its exponent");
		while (p < end && IS_DIGIT(*p))
			p++;
	}
	*pp = p;
	return HIVE_OK;
}

/* A key's text, decoded (the scan has checked it): a new string, or NULL. */
static char *decode_key(const unsigned char *q, const unsigned char *end)
{
	char *out = malloc((size_t)(end - q) + 1), *o = out;
	const unsigned char *p = q + 1;
	unsigned cp = 0, lo = 0;

	if (!out)
		return NULL;
	while (*p != '"') {
		if (*p != '\\') {
			*o++ = (char)*p++;
			continue;
		}
		switch (p[1]) {
		case 'b':
			*o++ = '\b';
			break;
		case 'f':
			*o++ = '\f';
			break;
		case 'n':
			*o++ = '\n';
			break;
		case 'r':
			*o++ = '\r';
			break;
		case 't':
			*o++ = '\t';
			break;
		case 'u':
			break;
		default:
			*o++ = (char)p[1];
			break;
		}
		if (p[1] != 'u') {
			p += 2;
			continue;
		}
		hex4(p + 2, end, &cp);
		p += 6;
		if (cp >= 0xD800 && cp <= 0xDBFF) {
			hex4(p + 2, end, &lo);
			cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
			p += 6;
		}
		if (cp < 0x80) {
			*o++ = (char)cp;
		} else if (cp < 0x800) {
			*o++ = (char)(0xC0 | cp >> 6);
			*o++ = (char)(0x80 | (cp & 0x3F));
		} else if (cp < 0x10000) {
			*o++ = (char)(0xE0 | cp >> 12);
			*o++ = (char)(0x80 | (cp >> 6 & 0x3F));
			*o++ = (char)(0x80 | (cp & 0x3F));
		} else {
			*o++ = (char)(0xF0 | cp >> 18);
			*o++ = (char)(0x80 | (cp >> 12 & 0x3F));
			*o++ = (char)(0x80 | (cp >> 6 & 0x3F));
			*o++ = (char)(0x80 | (cp & 0x3F));
		}
	}
	*o = '\0';
	return out;
}

#define SKIP_WS(p, end)                                                                            \
	while ((p) < (end) && (*(p) == ' ' || *(p) == '\n' || *(p) == '\r' || *(p) == '\t'))       \
	(p)++

#define LEVEL(d) ((uint64_t)1 << ((d)-1))

/* The whole text, linearly: a goto machine over value, key and what follows a value, with
 * one bit per level saying object or array (HIVE_JSON_DEPTH_MAX is 64, one uint64_t). */
static int scan(struct scan *sc)
{
	const unsigned char *p = sc->s, *end = sc->end, *q;
	uint64_t in_object = 0;
	int depth = 0, rc;
	char b[16];

	_Static_assert(HIVE_JSON_DEPTH_MAX <= 64, "one bit per level in a uint64_t");
	if (end - p >= 3 && p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF)
		return fail(sc, p, "a byte order mark (U+FEFF) before the JSON value");
value:
	SKIP_WS(p, end);
	if (p == end)
		return depth ? fail(sc, p, "the text ends inside an %s",
				    in_object & LEVEL(depth) ? "object" : "array")
			     : fail(sc, p, "no JSON value (the text is empty)");
	switch (*p) {
	case '{':
		if (++depth > HIVE_JSON_DEPTH_MAX)
			return fail(sc, p, "nesting deeper than %d", HIVE_JSON_DEPTH_MAX);
		in_object |= LEVEL(depth);
		if (++sc->objects == sc->want_object)
			sc->want_depth = depth;
		p++;
		SKIP_WS(p, end);
		if (p < end && *p == '}') {
			p++;
			depth--;
			goto after;
		}
		goto key;
	case '[':
		if (++depth > HIVE_JSON_DEPTH_MAX)
			return fail(sc, p, "nesting deeper than %d", HIVE_JSON_DEPTH_MAX);
		in_object &= ~LEVEL(depth);
		p++;
		SKIP_WS(p, end);
		if (p < end && *p == ']') {
			p++;
			depth--;
			goto after;
		}
		goto value;
	case '"':
		if ((rc = scan_string(sc, &p)))
			return rc;
		goto after;
	case '-':
	case '0':
	case '1':
	case '2':
	case '3':
	case '4':
	case '5':
	case '6':
	case '7':
	case '8':
	case '9':
		if ((rc = scan_number(sc, &p)))
			return rc;
		goto after;
	case 't':
	case 'f':
	case 'n': {
		const char *word = *p == 't' ? "true" : *p == 'f' ? "false" : "null";
		size_t n = strlen(word);
		if ((size_t)(end - p) < n || memcmp(p, word, n))
			return fail(sc, p,
				    "not a JSON value (the words JSON has are true, false "
				    "and null)");
		p += n;
		goto after;
	}
	case 'N':
	case 'I':
		if ((end - p >= 3 && !memcmp(p, "NaN", 3)) ||
		    (end - p >= 8 && !memcmp(p, "Infinity", 8)))
			return fail(sc, p, "NaN and Infinity are not JSON numbers");
		return fail(sc, p, "unexpected %s", shown(p, b));
	case '.':
	case '+':
		return fail(sc, p, "a number starts with a digit or '-', not '%c'", *p);
	default:
		return fail(sc, p, "unexpected %s", shown(p, b));
	}
key:
	SKIP_WS(p, end);
	if (p == end)
		return fail(sc, p, "the text ends inside an object");
	if (*p != '"')
		return fail(sc, p, "expected a string key, found %s", shown(p, b));
	q = p;
	if ((rc = scan_string(sc, &p)))
		return rc;
	if (sc->want_depth == depth && sc->found == SIZE_MAX) {
		char *k = decode_key(q, p);
		if (k && !strcmp(k, sc->want_key) && ++sc->seen == 2)
			sc->found = (size_t)(q - sc->s);
		free(k);
	}
	SKIP_WS(p, end);
	if (p == end || *p != ':')
		return fail(sc, p, "expected ':' after a key");
	p++;
	goto value;
after:
	SKIP_WS(p, end);
	if (!depth) {
		if (p != end)
			return fail(sc, p, "%s after the JSON value",
				    p[0] == 0xEF && end - p >= 3 && p[1] == 0xBB && p[2] == 0xBF
					    ? "a byte order mark (U+FEFF)"
					    : "more text");
		return HIVE_OK;
	}
	if (p == end)
		return fail(sc, p, "the text ends inside an %s",
			    in_object & LEVEL(depth) ? "object" : "array");
	if (in_object & LEVEL(depth)) {
		if (*p == ',') {
			p++;
			goto key;
		}
		if (*p == '}') {
			if (sc->want_depth == depth)
				sc->want_depth = 0;
			p++;
			depth--;
			goto after;
		}
		return fail(sc, p, "expected ',' or '}' in an object, found %s", shown(p, b));
	}
	if (*p == ',') {
		p++;
		goto value;
	}
	if (*p == ']') {
		p++;
		depth--;
		goto after;
	}
	return fail(sc, p, "expected ',' or ']' in an array, found %s", shown(p, b));
}

int hive_json_check(const char *buf, size_t len, struct hive_err *err)
{
	struct scan sc = {(const unsigned char *)buf,
			  (const unsigned char *)buf + len,
			  err,
			  0,
			  0,
			  NULL,
			  -1,
			  0,
			  SIZE_MAX};

	return scan(&sc);
}

/* --- duplicate keys ------------------------------------------------------------------------ */

static int cmp_key(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Small objects are compared pairwise; bigger ones sorted (hive-check runs this on every
 * object of every line). */
const char *hive_json_duplicate_key(const cJSON *obj, int *oom)
{
	const cJSON *a, *b;
	const char **keys, *dup = NULL;
	size_t n = 0, i;

	*oom = 0;
	if (!cJSON_IsObject(obj))
		return NULL;
	cJSON_ArrayForEach(a, obj) n++;
	if (n < 2)
		return NULL;
	if (n <= 16) {
		for (a = obj->child; a && !dup; a = a->next)
			for (b = a->next; b && !dup; b = b->next)
				if (a->string && b->string && a->string[0] == b->string[0] &&
				    !strcmp(a->string, b->string))
					dup = b->string;
		return dup;
	}
	if (!(keys = malloc(n * sizeof(*keys)))) {
		*oom = 1;
		return NULL;
	}
	n = 0;
	cJSON_ArrayForEach(a, obj) keys[n++] = a->string ? a->string : "";
	qsort(keys, n, sizeof(*keys), cmp_key);
	for (i = 1; i < n && !dup; i++)
		if (!strcmp(keys[i - 1], keys[i]))
			dup = keys[i];
	free(keys);
	return dup;
}

/* The first object in pre-order that names a key twice: the key, with *object_no its number
 * in that order (counting from 1); NULL when there is none or (*oom) memory ran out. */
static const char *tree_duplicate(const cJSON *item, size_t *object_no, int *oom)
{
	const cJSON *c;
	const char *dup;

	if (cJSON_IsObject(item)) {
		++*object_no;
		if ((dup = hive_json_duplicate_key(item, oom)) || *oom)
			return dup;
	}
	for (c = item->child; c; c = c->next)
		if ((c->type & (cJSON_Object | cJSON_Array)) &&
		    ((dup = tree_duplicate(c, object_no, oom)) || *oom))
			return dup;
	return NULL;
}

int hive_json_depth(const cJSON *item, int limit)
{
	const cJSON *c;
	int deepest = 0, d;

	if (!cJSON_IsObject(item) && !cJSON_IsArray(item))
		return 0;
	if (limit <= 0)
		return 1; /* past the limit: no need to look further */
	for (c = item->child; c; c = c->next) {
		if ((d = hive_json_depth(c, limit - 1)) > deepest)
			deepest = d;
		if (deepest >= limit)
			break;
	}
	return deepest + 1;
}

/* --- the reader -------------------------------------------------------------------------- */

cJSON *hive_json_parse_why(const char *buf, size_t len, struct hive_err *err)
{
	struct scan sc = {(const unsigned char *)buf,
			  (const unsigned char *)buf + len,
			  err,
			  0,
			  0,
			  NULL,
			  -1,
			  0,
			  SIZE_MAX};
	const char *end = NULL, *dup;
	size_t object_no = 0;
	cJSON *item;
	int oom = 0;
	char q[160];

	if (scan(&sc))
		return NULL;
	/* the text is JSON: cJSON fails now only when memory runs out */
	if (!(item = cJSON_ParseWithLengthOpts(buf, len, &end, 0))) {
		hive_err_set(err, HIVE_EENV, "out of memory");
		return NULL;
	}
	if (!(dup = tree_duplicate(item, &object_no, &oom)) && !oom)
		return item;
	if (oom) {
		hive_err_set(err, HIVE_EENV, "out of memory");
	} else if (err) {
		struct scan at = {sc.s, sc.end, NULL, 0, object_no, dup, -1, 0, SIZE_MAX};
		scan(&at);
		hive_err_set(err, HIVE_EUSAGE, "byte %zu: duplicate key %s",
			     at.found == SIZE_MAX ? 1 : at.found + 1,
			     hive_quote(q, sizeof(q), dup));
	}
	cJSON_Delete(item);
	return NULL;
}

cJSON *hive_json_parse(const char *line, size_t len)
{
	return hive_json_parse_why(line, len, NULL);
}

/* cJSON skips a NUL byte as if it were a space and ends a string at a NUL byte or a \u0000
 * escape, so `"create\0destroy"` would be read as "create": the scan refuses both, and this
 * finds one for a message that names its column. */
size_t hive_json_find_nul(const char *s, size_t len)
{
	const char *nul = memchr(s, '\0', len), *b;
	size_t stop = nul ? (size_t)(nul - s) : len, i = 0;

	/* in JSON a backslash only starts an escape inside a string, so every backslash
	 * found from just after the previous escape starts one: no string tracking needed */
	while (i < stop && (b = memchr(s + i, '\\', stop - i))) {
		i = (size_t)(b - s);
		if (i + 5 < stop && b[1] == 'u' && !memcmp(b + 2, "0000", 4))
			return i;
		i += 2; /* the backslash and the character it escapes */
	}
	return stop;
}

const char *hive_json_str(const cJSON *obj, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* --- an arena for parsed lines ---------------------------------------------------------- */

#define ARENA_CHUNK (64 * 1024)
#define ARENA_ALIGN 16

struct hive_arena_chunk {
	struct hive_arena_chunk *next;
	size_t cap, used;
	_Alignas(ARENA_ALIGN) unsigned char data[];
};

/* cJSON's hooks take no context: the arena hive_json_parse_in is parsing into. */
static struct hive_arena *arena_now;

static void *arena_alloc(size_t n)
{
	struct hive_arena *a = arena_now;
	struct hive_arena_chunk *c = a->chunks;
	size_t cap;

	n = (n + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
	if (!c || c->cap - c->used < n) {
		cap = n > ARENA_CHUNK ? n : ARENA_CHUNK;
		if (!(c = malloc(sizeof(*c) + cap)))
			return NULL; /* cJSON gives up and the parse returns NULL */
		c->cap = cap;
		c->used = 0;
		c->next = a->chunks;
		a->chunks = c;
	}
	c->used += n;
	return c->data + c->used - n;
}

/* cJSON frees a half-built tree when a parse fails: the arena takes it back on reset. */
static void arena_free(void *p)
{
	(void)p;
}

cJSON *hive_json_parse_in_why(struct hive_arena *a, const char *buf, size_t len,
			      struct hive_err *err)
{
	cJSON_Hooks hooks = {arena_alloc, arena_free};
	cJSON *item;

	arena_now = a;
	cJSON_InitHooks(&hooks);
	item = hive_json_parse_why(buf, len, err);
	cJSON_InitHooks(NULL); /* back to malloc, free and realloc */
	arena_now = NULL;
	return item;
}

cJSON *hive_json_parse_in(struct hive_arena *a, const char *line, size_t len)
{
	return hive_json_parse_in_why(a, line, len, NULL);
}

/* Keeps one chunk of the usual size, so that a long log's lines cost no malloc at all;
 * a larger chunk (a string longer than 64 KiB) goes back at once. */
void hive_arena_reset(struct hive_arena *a)
{
	struct hive_arena_chunk *c = a->chunks, *next, *keep = NULL;

	for (; c; c = next) {
		next = c->next;
		if (!keep && c->cap == ARENA_CHUNK) {
			keep = c;
			keep->used = 0;
			keep->next = NULL;
		} else {
			free(c);
		}
	}
	a->chunks = keep;
}

void hive_arena_release(struct hive_arena *a)
{
	hive_arena_reset(a);
	free(a->chunks);
	a->chunks = NULL;
}
