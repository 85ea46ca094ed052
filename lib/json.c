/* json.c - the one strict JSON reader: one RFC 8259 pass that builds cJSON trees */
#include "json.h"

#include <cjson/cJSON.h>
#include <limits.h>
#include <locale.h>
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

/* One pass over the text: the grammar alone (hive_json_check), or building the tree as it
 * goes (b, below). */
struct build;
struct scan {
	const unsigned char *s, *end;
	struct hive_err *err; /* may be NULL */
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

/* The string opening at *pp: *pp is moved past its closing quote; *escaped is set when it
 * holds a backslash (its bytes are then not its value). */
static inline int scan_string(struct scan *sc, const unsigned char **pp, int *escaped)
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
			*escaped = 1;
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

/* The number starting at *pp (a '-' or a digit): *pp is moved past it; *is_int says it has
 * neither a fraction nor an exponent. */
static inline int scan_number(struct scan *sc, const unsigned char **pp, int *is_int)
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
	*is_int = 1;
	if (p < end && *p == '.') {
		*is_int = 0;
		p++;
		if (p == end || !IS_DIGIT(*p))
			return fail(sc, start, "a number needs a digit after its decimal point");
		while (p < end && IS_DIGIT(*p))
			p++;
	}
	if (p < end && (*p | 0x20) == 'e') {
		*is_int = 0;
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

/* --- building the tree --------------------------------------------------------------------- */

/* The text's bytes are checked before they are copied, so this is only the copying: a
 * string's value from between its quotes q and end (past the closing quote) into out, with
 * its escapes decoded. Returns the length written (out is NUL-terminated). */
static size_t decode_string(const unsigned char *q, const unsigned char *end, char *out)
{
	const unsigned char *p = q + 1;
	unsigned cp = 0, lo = 0;
	char *o = out;

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
	return (size_t)(o - out);
}

#define ARENA_CHUNK (64 * 1024)
#define ARENA_ALIGN 8 /* a cJSON node's pointers and double */

struct hive_arena_chunk {
	struct hive_arena_chunk *next;
	size_t cap, used;
	_Alignas(16) unsigned char data[];
};

/* A new chunk in front, for an allocation that does not fit the current one. */
static void *arena_grow(struct hive_arena *a, size_t n)
{
	size_t cap = n > ARENA_CHUNK ? n : ARENA_CHUNK;
	struct hive_arena_chunk *c = malloc(sizeof(*c) + cap);

	if (!c)
		return NULL;
	c->cap = cap;
	c->used = n;
	c->next = a->chunks;
	a->chunks = c;
	return c->data;
}

static inline void *arena_alloc(struct hive_arena *a, size_t n)
{
	struct hive_arena_chunk *c = a->chunks;

	n = (n + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
	if (!c || c->cap - c->used < n)
		return arena_grow(a, n);
	c->used += n;
	return c->data + c->used - n;
}

/* Keys of one object up to this many are compared one by one, in a stack shared by the
 * open objects; an object with more, or one that finds the stack full, goes to a hash table
 * (a line that is one object of 100,000 keys must not cost 5 billion comparisons). */
#define KEYS_LINEAR 16
#define KEYS_STACK  256

struct key {
	const char *s; /* decoded, borrowed from its node */
	size_t len;
};

struct open_object {
	size_t serial;	/* objects numbered as they open: tells them apart in the table */
	unsigned first; /* its first key in the stack */
	unsigned n;	/* its keys in the stack */
	int hashed;	/* its keys go to the table */
};

struct hashed_key {
	size_t serial; /* 0: an empty slot */
	uint64_t hash;
	const char *s;
	size_t len;
};

/* What the pass keeps when it builds: nodes are linked as cJSON links them (a head's prev
 * is the tail) the moment they are made, so that cJSON_Delete frees a half-built tree. */
struct build {
	struct hive_arena *arena; /* NULL: malloc, the tree freed by cJSON_Delete */
	cJSON *root;
	cJSON *parent[HIVE_JSON_DEPTH_MAX + 1]; /* the array or object open at each depth */
	struct open_object obj[HIVE_JSON_DEPTH_MAX + 1];
	struct key keys[KEYS_STACK];
	unsigned nkeys;
	size_t objects;
	struct hashed_key *table; /* malloc'd, for every hashed object of the text */
	size_t table_cap, table_n;
	const char *dup;	     /* the first key named twice, in text order */
	const unsigned char *dup_at; /* where it is named the second time */
};

static inline void *build_alloc(struct build *b, size_t n)
{
	return b->arena ? arena_alloc(b->arena, n) : malloc(n);
}

/* A new empty node, appended to parent's children (the root when parent is NULL). */
static inline cJSON *add_node(struct build *b, cJSON *parent)
{
	cJSON *n = build_alloc(b, sizeof(*n));

	if (!n)
		return NULL;
	memset(n, 0, sizeof(*n));
	if (!parent) {
		b->root = n;
	} else if (!parent->child) {
		parent->child = n;
		n->prev = n;
	} else {
		n->prev = parent->child->prev;
		n->prev->next = n;
		parent->child->prev = n;
	}
	return n;
}

/* The string between q and end (past its closing quote), copied: NULL when out of memory. */
static inline char *copy_string(struct build *b, const unsigned char *q, const unsigned char *end,
				int escaped, size_t *len)
{
	size_t n = (size_t)(end - q) - 2;
	char *out = build_alloc(b, n + 1);

	if (!out)
		return NULL;
	if (escaped) {
		n = decode_string(q, end, out);
	} else {
		memcpy(out, q + 1, n);
		out[n] = '\0';
	}
	*len = n;
	return out;
}

/* A number's value as cJSON gives it (valuedouble from strtod, valueint saturated): whole
 * numbers of up to 19 digits are exact in a uint64_t and rounded once to a double, which is
 * what strtod does with them too. -1 when out of memory. */
static int set_number(cJSON *item, const unsigned char *p, const unsigned char *end, int is_int)
{
	size_t n = (size_t)(end - p), i;
	double d;

	if (is_int && n - (*p == '-') <= 19) {
		uint64_t v = 0;
		for (i = *p == '-'; i < n; i++)
			v = v * 10 + (uint64_t)(p[i] - '0');
		d = (double)v;
		if (*p == '-')
			d = -d;
	} else {
		char small[64], *t = n < sizeof(small) ? small : malloc(n + 1);
		if (!t)
			return -1;
		memcpy(t, p, n);
		t[n] = '\0';
		if (!is_int) /* strtod reads the locale's decimal point, as cJSON has it */
			for (i = 0; i < n; i++)
				if (t[i] == '.')
					t[i] = localeconv()->decimal_point[0];
		d = strtod(t, NULL);
		if (t != small)
			free(t);
	}
	item->valuedouble = d;
	if (d >= INT_MAX)
		item->valueint = INT_MAX;
	else if (d <= (double)INT_MIN)
		item->valueint = INT_MIN;
	else
		item->valueint = (int)d;
	item->type = cJSON_Number;
	return 0;
}

static uint64_t key_hash(size_t serial, const char *s, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ull ^ (serial * 0x9E3779B97F4A7C15ull);
	size_t i;

	for (i = 0; i < len; i++)
		h = (h ^ (unsigned char)s[i]) * 0x100000001b3ull;
	return h;
}

/* Put key k of object serial in the table: 1 when it is there already, 0 when added, -1
 * when out of memory. Grows the table to keep it at most half full. */
static int table_add(struct build *b, size_t serial, const struct key *k)
{
	uint64_t h = key_hash(serial, k->s, k->len);
	struct hashed_key *e;
	size_t i;

	if (2 * (b->table_n + 1) > b->table_cap) {
		size_t cap = b->table_cap ? 2 * b->table_cap : 256, j;
		struct hashed_key *t = calloc(cap, sizeof(*t));
		if (!t)
			return -1;
		for (j = 0; j < b->table_cap; j++) {
			if (!b->table[j].serial)
				continue;
			for (i = b->table[j].hash & (cap - 1); t[i].serial; i = (i + 1) & (cap - 1))
				;
			t[i] = b->table[j];
		}
		free(b->table);
		b->table = t;
		b->table_cap = cap;
	}
	for (i = h & (b->table_cap - 1); (e = &b->table[i])->serial;
	     i = (i + 1) & (b->table_cap - 1))
		if (e->serial == serial && e->hash == h && e->len == k->len &&
		    !memcmp(e->s, k->s, k->len))
			return 1;
	*e = (struct hashed_key){serial, h, k->s, k->len};
	b->table_n++;
	return 0;
}

/* Key k (at q in the text) of the object open at depth: remembers the first key named
 * twice, which is reported once the whole text is known to be JSON. -1 when out of memory. */
static int add_key(struct build *b, int depth, struct key k, const unsigned char *q)
{
	struct open_object *o = &b->obj[depth];
	unsigned i;
	int rc;

	if (!o->hashed) {
		for (i = o->first; i < o->first + o->n; i++)
			if (b->keys[i].len == k.len && b->keys[i].s[0] == k.s[0] &&
			    !memcmp(b->keys[i].s, k.s, k.len))
				goto twice;
		if (o->n < KEYS_LINEAR && b->nkeys < KEYS_STACK) {
			b->keys[b->nkeys++] = k;
			o->n++;
			return 0;
		}
		for (i = o->first; i < o->first + o->n; i++)
			if (table_add(b, o->serial, &b->keys[i]) < 0)
				return -1;
		o->hashed = 1;
	}
	if ((rc = table_add(b, o->serial, &k)) <= 0)
		return rc;
twice:
	if (!b->dup) {
		b->dup = k.s;
		b->dup_at = q;
	}
	return 0;
}

/* --- the pass ------------------------------------------------------------------------------ */

#define SKIP_WS(p, end)                                                                            \
	while ((p) < (end) && (*(p) == ' ' || *(p) == '\n' || *(p) == '\r' || *(p) == '\t'))       \
	(p)++

#define LEVEL(d) ((uint64_t)1 << ((d)-1))

#define BUILT(expr)                                                                                \
	do {                                                                                       \
		if (b && !(expr))                                                                  \
			return hive_err_set(sc->err, HIVE_EENV, "out of memory");                  \
	} while (0)

/* The whole text, linearly: a goto machine over value, key and what follows a value, with
 * one bit per level saying object or array (HIVE_JSON_DEPTH_MAX is 64, one uint64_t). With
 * b it builds the tree as it reads: cur is the node the next value goes into. A key named
 * twice is reported after the rest of the text is read, so that what is not JSON at all is
 * always said first, and hive_json_check's reason is the reader's. Inlined into its two
 * callers, so that checking alone pays nothing for building. */
static inline __attribute__((always_inline)) int scan_text(struct scan *sc, struct build *b)
{
	const unsigned char *p = sc->s, *end = sc->end, *q;
	uint64_t in_object = 0;
	int depth = 0, rc, escaped, is_int;
	cJSON *cur = NULL;
	size_t len;
	char bb[16];

	_Static_assert(HIVE_JSON_DEPTH_MAX <= 64, "one bit per level in a uint64_t");
	if (end - p >= 3 && p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF)
		return fail(sc, p, "a byte order mark (U+FEFF) before the JSON value");
	BUILT(cur = add_node(b, NULL));
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
		if (b) {
			cur->type = cJSON_Object;
			b->parent[depth] = cur;
			b->obj[depth] = (struct open_object){++b->objects, b->nkeys, 0, 0};
		}
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
		if (b) {
			cur->type = cJSON_Array;
			b->parent[depth] = cur;
		}
		p++;
		SKIP_WS(p, end);
		if (p < end && *p == ']') {
			p++;
			depth--;
			goto after;
		}
		BUILT(cur = add_node(b, b->parent[depth]));
		goto value;
	case '"':
		q = p;
		escaped = 0;
		if ((rc = scan_string(sc, &p, &escaped)))
			return rc;
		if (b)
			cur->type = cJSON_String;
		BUILT(cur->valuestring = copy_string(b, q, p, escaped, &len));
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
		q = p;
		if ((rc = scan_number(sc, &p, &is_int)))
			return rc;
		BUILT(!set_number(cur, q, p, is_int));
		goto after;
	case 't':
	case 'f':
	case 'n': {
		const char *word = *p == 't' ? "true" : *p == 'f' ? "false" : "null";
		size_t n = *p == 'f' ? 5 : 4;
		if ((size_t)(end - p) < n || memcmp(p, word, n))
			return fail(sc, p,
				    "not a JSON value (the words JSON has are true, false "
				    "and null)");
		if (b) {
			cur->type = *p == 't' ? cJSON_True : *p == 'f' ? cJSON_False : cJSON_NULL;
			cur->valueint = *p == 't';
		}
		p += n;
		goto after;
	}
	case 'N':
	case 'I':
		if ((end - p >= 3 && !memcmp(p, "NaN", 3)) ||
		    (end - p >= 8 && !memcmp(p, "Infinity", 8)))
			return fail(sc, p, "NaN and Infinity are not JSON numbers");
		return fail(sc, p, "unexpected %s", shown(p, bb));
	case '.':
	case '+':
		return fail(sc, p, "a number starts with a digit or '-', not '%c'", *p);
	default:
		return fail(sc, p, "unexpected %s", shown(p, bb));
	}
key:
	SKIP_WS(p, end);
	if (p == end)
		return fail(sc, p, "the text ends inside an object");
	if (*p != '"')
		return fail(sc, p, "expected a string key, found %s", shown(p, bb));
	q = p;
	escaped = 0;
	if ((rc = scan_string(sc, &p, &escaped)))
		return rc;
	if (b) {
		BUILT(cur = add_node(b, b->parent[depth]));
		BUILT(cur->string = copy_string(b, q, p, escaped, &len));
		BUILT(!add_key(b, depth, (struct key){cur->string, len}, q));
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
		if (b && b->dup) {
			char quoted[160];
			return fail(sc, b->dup_at, "duplicate key %s",
				    hive_quote(quoted, sizeof(quoted), b->dup));
		}
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
			if (b)
				b->nkeys = b->obj[depth].first;
			p++;
			depth--;
			goto after;
		}
		return fail(sc, p, "expected ',' or '}' in an object, found %s", shown(p, bb));
	}
	if (*p == ',') {
		p++;
		BUILT(cur = add_node(b, b->parent[depth]));
		goto value;
	}
	if (*p == ']') {
		p++;
		depth--;
		goto after;
	}
	return fail(sc, p, "expected ',' or ']' in an array, found %s", shown(p, bb));
}

int hive_json_check(const char *buf, size_t len, struct hive_err *err)
{
	struct scan sc = {(const unsigned char *)buf, (const unsigned char *)buf + len, err};

	return scan_text(&sc, NULL);
}

/* The reader: the pass with a tree built into arena a, or on malloc when a is NULL. */
static cJSON *parse(struct hive_arena *a, const char *buf, size_t len, struct hive_err *err)
{
	struct scan sc = {(const unsigned char *)buf, (const unsigned char *)buf + len, err};
	struct build b;
	int rc;

	b.arena = a;
	b.root = NULL;
	b.nkeys = 0;
	b.objects = 0;
	b.table = NULL;
	b.table_cap = b.table_n = 0;
	b.dup = NULL;
	rc = scan_text(&sc, &b);
	free(b.table);
	if (rc == HIVE_OK)
		return b.root;
	if (!a)
		cJSON_Delete(b.root);
	return NULL;
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
	return parse(NULL, buf, len, err);
}

cJSON *hive_json_parse(const char *line, size_t len)
{
	return parse(NULL, line, len, NULL);
}

cJSON *hive_json_parse_in_why(struct hive_arena *a, const char *buf, size_t len,
			      struct hive_err *err)
{
	return parse(a, buf, len, err);
}

cJSON *hive_json_parse_in(struct hive_arena *a, const char *line, size_t len)
{
	return parse(a, line, len, NULL);
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

/* --- the arena ---------------------------------------------------------------------------- */

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
