/* test_json.c - unit tests for lib/json.c: the strict reader's every rule, accepted and refused,
 * with its reasons */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../lib/json.h"

/* Strict JSON: parsed by both entry points (malloc and arena) and by the check alone. */
static void ok_len(const char *text, size_t len)
{
	struct hive_arena a = HIVE_ARENA_INIT;
	struct hive_err err = {0};
	cJSON *j = hive_json_parse_why(text, len, &err);

	if (!j)
		fail_msg("refused %s: %s", text, err.msg);
	cJSON_Delete(j);
	if (!hive_json_parse_in_why(&a, text, len, &err))
		fail_msg("arena refused %s: %s", text, err.msg);
	hive_arena_release(&a);
	assert_int_equal(hive_json_check(text, len, &err), HIVE_OK);
}

static void ok(const char *text)
{
	ok_len(text, strlen(text));
}

/* Refused with exactly `want`, by both entry points; by the check too unless `tree_only`
 * (duplicate keys are found in the tree). */
static void bad_len(const char *text, size_t len, const char *want, int tree_only)
{
	struct hive_arena a = HIVE_ARENA_INIT;
	struct hive_err err = {0}, err2 = {0}, err3 = {0};
	cJSON *j = hive_json_parse_why(text, len, &err);

	if (j)
		fail_msg("accepted %s", text);
	assert_int_equal(err.status, HIVE_EUSAGE);
	if (strcmp(err.msg, want))
		fail_msg("%s\n  got:  %s\n  want: %s", text, err.msg, want);
	assert_null(hive_json_parse_in_why(&a, text, len, &err2));
	assert_string_equal(err2.msg, want);
	hive_arena_release(&a);
	assert_null(hive_json_parse(text, len));
	assert_null(hive_json_parse_why(text, len, NULL)); /* no err: no message, same answer */
	if (tree_only) {
		assert_int_equal(hive_json_check(text, len, &err3), HIVE_OK);
	} else {
		assert_int_equal(hive_json_check(text, len, &err3), HIVE_EUSAGE);
		assert_string_equal(err3.msg, want);
	}
}

static void bad(const char *text, const char *want)
{
	bad_len(text, strlen(text), want, 0);
}

static void dup(const char *text, const char *want)
{
	bad_len(text, strlen(text), want, 1);
}

/* "[[[...0...]]]" nested n deep, or with objects {"a":...} when obj. */
static char *nested(int n, int obj)
{
	char *s = malloc((size_t)n * 6 + 2), *p = s;
	int i;

	for (i = 0; i < n; i++)
		p += obj ? sprintf(p, "{\"a\":") : sprintf(p, "[");
	*p++ = '0';
	for (i = 0; i < n; i++)
		*p++ = obj ? '}' : ']';
	*p = '\0';
	return s;
}

static void test_accepts_rfc8259(void **state)
{
	(void)state;
	ok("{}");
	ok("[]");
	ok("0");
	ok("-0");
	ok("\"\"");
	ok("true");
	ok("false");
	ok("null");
	ok(" \t\r\n{ \"a\" : [ 1 , 2 ] }\r\n ");
	ok("[0,-1,12,1.5,-0.25,1e5,1E+5,1e-5,-12.5e10,0e0,123456789012345678901234567890]");
	ok("1e999"); /* the grammar allows it; hive_event_validate refuses it in an event */
	ok("[\"\\\" \\\\ \\/ \\b \\f \\n \\r \\t \\u0041 \\u00e9 \\uFFFF \\ud83d\\ude00\"]");
	ok("[\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xef\xbb\xbf\"]"); /* U+FEFF inside a
									       string */
	ok("{\"a\":{\"b\":{\"c\":[{\"d\":null}]}}}");
	ok("[{\"a\":1},{\"a\":2}]"); /* the same key in two objects */
	ok("{\"a\":1,\"A\":2,\"a \":3}");
	ok("[\"0123456789abcdef0123456789abcdef\"]"); /* the 8-byte stride, no special byte */
}

static void test_numbers(void **state)
{
	(void)state;
	bad("{\"a\":06}", "byte 6: leading zero in a number");
	bad("[-01]", "byte 2: leading zero in a number");
	bad("[00]", "byte 2: leading zero in a number");
	bad("[2.]", "byte 2: a number needs a digit after its decimal point");
	bad("[2.e5]", "byte 2: a number needs a digit after its decimal point");
	bad("[.5]", "byte 2: a number starts with a digit or '-', not '.'");
	bad("[+1]", "byte 2: a number starts with a digit or '-', not '+'");
	bad("[1e]", "byte 2: a number needs a digit in its exponent");
	bad("[1e+]", "byte 2: a number needs a digit in its exponent");
	bad("[-]", "byte 2: a number needs a digit after '-'");
	bad("[- 1]", "byte 2: a number needs a digit after '-'");
	bad("[NaN]", "byte 2: NaN and Infinity are not JSON numbers");
	bad("[Infinity]", "byte 2: NaN and Infinity are not JSON numbers");
	bad("[-Infinity]", "byte 2: NaN and Infinity are not JSON numbers");
	bad("[0x10]", "byte 3: expected ',' or ']' in an array, found character 'x'");
	bad("[1.5.3]", "byte 5: expected ',' or ']' in an array, found character '.'");
	bad("06", "byte 1: leading zero in a number");
}

static void test_literals(void **state)
{
	(void)state;
	bad("[tru]", "byte 2: not a JSON value (the words JSON has are true, false and null)");
	bad("[True]", "byte 2: unexpected character 'T'");
	bad("[nul", "byte 2: not a JSON value (the words JSON has are true, false and null)");
	bad("[undefined]", "byte 2: unexpected character 'u'");
	bad("[truex]", "byte 6: expected ',' or ']' in an array, found character 'x'");
	bad("{'a':1}", "byte 2: expected a string key, found character '''");
}

static void test_strings(void **state)
{
	static const char ctl[] = "[\"a\x01\"]";
	static const char tab[] = "[\"a\tb\"]";
	static const char del[] = "[\"a\x7f\"]";

	(void)state;
	bad(ctl, "byte 4: raw control character U+0001 in a string");
	bad(tab, "byte 4: raw control character U+0009 in a string");
	bad("[\"0123456789\x1f\"]", "byte 13: raw control character U+001F in a string");
	ok(del); /* DEL is not a control character to JSON */
	bad("[\"\\x\"]", "byte 3: invalid escape in a string: a backslash before character 'x'");
	bad("[\"\\'\"]", "byte 3: invalid escape in a string: a backslash before character '''");
	bad("[\"\\\x01\"]", "byte 3: invalid escape in a string: a backslash before byte 0x01");
	bad("[\"\\u12\"]", "byte 3: \\u needs 4 hex digits");
	bad("[\"\\u12G4\"]", "byte 3: \\u needs 4 hex digits");
	bad("[\"\\U0041\"]",
	    "byte 3: invalid escape in a string: a backslash before character 'U'");
	bad("[\"\\ud800\"]", "byte 3: lone surrogate \\uD800 in a string");
	bad("[\"\\udc00\"]", "byte 3: lone surrogate \\uDC00 in a string");
	bad("[\"\\ud800\\u0041\"]", "byte 3: lone surrogate \\uD800 in a string");
	bad("[\"x\\ud800x\"]", "byte 4: lone surrogate \\uD800 in a string");
	bad("[\"\\u0000\"]", "byte 3: \\u0000 (a NUL character) in a string");
	bad("{\"\\u0000\":1}", "byte 3: \\u0000 (a NUL character) in a string");
	bad("[\"abc", "byte 2: a string that is never closed");
	bad("[\"abc\\", "byte 2: a string that is never closed");
	bad("\"abc\\\"", "byte 1: a string that is never closed");
}

/* The string scan reads eight bytes at a time and jumps to the first special byte of a word:
 * each kind of special byte, at every place in and across words, is found where it is. */
static void test_string_scan_positions(void **state)
{
	char text[64], want[128];
	int i;

	(void)state;
	for (i = 0; i < 20; i++) {
		/* ["xxx…" then the special byte, then more plain text */
		snprintf(text, sizeof(text),
			 "[\"%.*s\x01"
			 "abcdefghijklmnop\"]",
			 i, "xxxxxxxxxxxxxxxxxxxx");
		snprintf(want, sizeof(want), "byte %d: raw control character U+0001 in a string",
			 i + 3);
		bad(text, want);
		snprintf(text, sizeof(text), "[\"%.*s\xff\"]", i, "xxxxxxxxxxxxxxxxxxxx");
		snprintf(want, sizeof(want), "byte %d: invalid UTF-8 in a string", i + 3);
		bad(text, want);
		snprintf(text, sizeof(text), "[\"%.*s\\qabcdefghijkl\"]", i,
			 "xxxxxxxxxxxxxxxxxxxx");
		snprintf(want, sizeof(want),
			 "byte %d: invalid escape in a string: a backslash before character 'q'",
			 i + 3);
		bad(text, want);
		/* the closing quote, then a control byte outside the string */
		snprintf(text, sizeof(text),
			 "[\"%.*s\"\x01"
			 "abcdefghijkl]",
			 i, "xxxxxxxxxxxxxxxxxxxx");
		snprintf(want, sizeof(want),
			 "byte %d: expected ',' or ']' in an array, found byte 0x01", i + 4);
		bad(text, want);
		/* valid: UTF-8 and escapes at every place, the 0x1F/0x20 and 0x7F/0x80 edges */
		snprintf(text, sizeof(text), "[\"%.*s\xc3\xa9\\n \x7f~\"]", i,
			 "xxxxxxxxxxxxxxxxxxxx");
		ok(text);
	}
}

static void test_utf8(void **state)
{
	(void)state;
	bad("[\"\xff\"]", "byte 3: invalid UTF-8 in a string");
	bad("[\"ab\x80\"]", "byte 5: invalid UTF-8 in a string");	    /* stray continuation */
	bad("[\"\xc0\x80\"]", "byte 3: invalid UTF-8 in a string");	    /* overlong NUL */
	bad("[\"\xe0\x80\xaf\"]", "byte 3: invalid UTF-8 in a string");	    /* overlong '/' */
	bad("[\"\xed\xa0\x80\"]", "byte 3: invalid UTF-8 in a string");	    /* a surrogate */
	bad("[\"\xf4\x90\x80\x80\"]", "byte 3: invalid UTF-8 in a string"); /* past U+10FFFF */
	bad("[\"\xe2\x82\"]", "byte 3: invalid UTF-8 in a string");	    /* cut short */
	bad("[\"\xe2\x82", "byte 3: invalid UTF-8 in a string");
	bad("[\"12345678\xc3\"]", "byte 11: invalid UTF-8 in a string");
	assert_true(hive_utf8_valid("", 0));
	assert_true(hive_utf8_valid("caf\xc3\xa9 \xf0\x9f\x98\x80", 10));
	assert_true(hive_utf8_valid("a\0b", 3));
	assert_false(hive_utf8_valid("\xc3", 1));
	assert_false(hive_utf8_valid("\xc3\xa9\xed\xbf\xbf", 5));
	assert_false(hive_utf8_valid("\xf8\x88\x80\x80\x80", 5));
}

static void test_bom(void **state)
{
	(void)state;
	bad("\xef\xbb\xbf{}", "byte 1: a byte order mark (U+FEFF) before the JSON value");
	bad("\xef\xbb\xbf", "byte 1: a byte order mark (U+FEFF) before the JSON value");
	bad("{}\xef\xbb\xbf", "byte 3: a byte order mark (U+FEFF) after the JSON value");
	bad(" \xef\xbb\xbf{}", "byte 2: unexpected byte 0xEF");
	bad("[1,\xef\xbb\xbf 2]", "byte 4: unexpected byte 0xEF");
}

static void test_structure(void **state)
{
	(void)state;
	bad("", "byte 1: no JSON value (the text is empty)");
	bad(" \n", "byte 3: no JSON value (the text is empty)");
	bad("{} x", "byte 4: more text after the JSON value");
	bad("{}{}", "byte 3: more text after the JSON value");
	bad("1 2", "byte 3: more text after the JSON value");
	bad("{\"a\":1,}", "byte 8: expected a string key, found character '}'");
	bad("[1,]", "byte 4: unexpected character ']'");
	bad("[,1]", "byte 2: unexpected character ','");
	bad("{\"a\" 1}", "byte 6: expected ':' after a key");
	bad("{\"a\"", "byte 5: expected ':' after a key");
	bad("{\"a\":1 \"b\":2}", "byte 8: expected ',' or '}' in an object, found character '\"'");
	bad("[1 2]", "byte 4: expected ',' or ']' in an array, found character '2'");
	bad("[1}", "byte 3: expected ',' or ']' in an array, found character '}'");
	bad("{\"a\":1]", "byte 7: expected ',' or '}' in an object, found character ']'");
	bad("{\"a\":1", "byte 7: the text ends inside an object");
	bad("{\"a\":", "byte 6: the text ends inside an object");
	bad("{", "byte 2: the text ends inside an object");
	bad("[1,", "byte 4: the text ends inside an array");
	bad("[", "byte 2: the text ends inside an array");
	bad("{1:2}", "byte 2: expected a string key, found character '1'");
	bad("}", "byte 1: unexpected character '}'");
	/* only space, tab, LF and CR are whitespace */
	bad("{\v}", "byte 2: expected a string key, found byte 0x0B");
	bad("[1,\f2]", "byte 4: unexpected byte 0x0C");
	bad("\xc2\xa0[]", "byte 1: unexpected byte 0xC2");
	bad("[]\x1a", "byte 3: more text after the JSON value");
	/* a NUL byte, in a string or outside one */
	bad_len("{\"a\":\"create\0destroy\"}", 22,
		"byte 13: raw control character U+0000 in a string", 0);
	bad_len("{\"a\":1}\0", 8, "byte 8: more text after the JSON value", 0);
	bad_len("\0{}", 3, "byte 1: unexpected byte 0x00", 0);
}

static void test_duplicate_keys(void **state)
{
	char big[1024], *p = big;
	int i;

	(void)state;
	dup("{\"a\":1,\"a\":2}", "byte 8: duplicate key \"a\"");
	dup("{\"prev\":null,\"seq\":1,\"prev\":\"x\"}", "byte 22: duplicate key \"prev\"");
	/* named by an escape: the same key once decoded */
	dup("{\"prev\":null,\"pr\\u0065v\":\"x\"}", "byte 14: duplicate key \"prev\"");
	dup("{\"\\u00e9\":1,\"\xc3\xa9\":2}", "byte 13: duplicate key \"\xc3\xa9\"");
	/* at depth 3, after an object holding the same key, and inside arrays */
	dup("{\"k\":{\"k\":1},\"x\":{\"y\":{\"k\":1,\"z\":[],\"k\":2}}}",
	    "byte 37: duplicate key \"k\"");
	dup("[{\"a\":1},{\"a\":1,\"b\":{\"a\":0},\"a\":3}]", "byte 29: duplicate key \"a\"");
	dup("{\"git\":{\"dirty\":false,\"dirty\":true}}", "byte 23: duplicate key \"dirty\"");
	/* an object of more than 16 keys is sorted to look */
	p += sprintf(p, "{");
	for (i = 0; i < 30; i++)
		p += sprintf(p, "\"k%02d\":%d,", i, i);
	sprintf(p, "\"k17\":0}");
	dup(big, "byte 262: duplicate key \"k17\""); /* the last key, not the 18th */
	/* the same key in sibling objects is no duplicate */
	ok("{\"a\":{\"x\":1},\"b\":{\"x\":1},\"c\":[{\"x\":1},{\"x\":2}]}");
	/* a key with a quote in it is quoted as the diagnostics quote */
	dup("{\"a\\\"b\":1,\"a\\\"b\":2}", "byte 11: duplicate key \"a\\\"b\"");
}

static void test_duplicate_key_of_tree(void **state)
{
	cJSON *obj = cJSON_CreateObject();
	int oom = 1;

	(void)state;
	assert_null(hive_json_duplicate_key(obj, &oom));
	assert_int_equal(oom, 0);
	cJSON_AddNumberToObject(obj, "a", 1);
	cJSON_AddNumberToObject(obj, "b", 1);
	assert_null(hive_json_duplicate_key(obj, &oom));
	cJSON_AddNumberToObject(obj, "a", 2); /* cJSON lets a built tree hold one */
	assert_string_equal(hive_json_duplicate_key(obj, &oom), "a");
	assert_null(
		hive_json_duplicate_key(cJSON_GetObjectItem(obj, "b"), &oom)); /* not an object */
	cJSON_Delete(obj);
}

static void test_depth(void **state)
{
	struct hive_err err = {0};
	char *s;
	cJSON *j;

	(void)state;
	/* the limit itself is accepted, one more refused, arrays or objects alike */
	s = nested(HIVE_JSON_DEPTH_MAX, 0);
	ok(s);
	j = hive_json_parse(s, strlen(s));
	assert_int_equal(hive_json_depth(j, 1000), HIVE_JSON_DEPTH_MAX);
	assert_int_equal(hive_json_depth(j, 10), 11); /* stops past the limit */
	cJSON_Delete(j);
	free(s);
	s = nested(HIVE_JSON_DEPTH_MAX + 1, 0);
	bad(s, "byte 65: nesting deeper than 64");
	free(s);
	s = nested(HIVE_JSON_DEPTH_MAX, 1);
	ok(s);
	free(s);
	s = nested(HIVE_JSON_DEPTH_MAX + 1, 1);
	bad(s, "byte 321: nesting deeper than 64");
	free(s);
	/* what hive-emit --json was given: 998 deep, which cJSON alone takes */
	s = nested(998, 1);
	assert_null(hive_json_parse_why(s, strlen(s), &err));
	assert_string_equal(err.msg, "byte 321: nesting deeper than 64");
	free(s);
	/* depth is nesting, not count: many siblings at level 2 */
	ok("[[],[],[],[[]],{}]");
	assert_int_equal(hive_json_depth(NULL, 5), 0);
	j = hive_json_parse("[[],[[1]],{}]", 13);
	assert_int_equal(hive_json_depth(j, 64), 3);
	cJSON_Delete(j);
	j = hive_json_parse("7", 1);
	assert_int_equal(hive_json_depth(j, 64), 0);
	cJSON_Delete(j);
}

/* --- the tree the pass builds --------------------------------------------------------------- */

/* a and b are the same tree, node by node: types, keys, values (valuedouble to the bit),
 * and the links as cJSON makes them (a head's prev is the tail, the tail's next NULL). */
static void same_nodes(const cJSON *a, const cJSON *b)
{
	const cJSON *x, *y;

	assert_int_equal(a->type, b->type);
	if (a->string || b->string) {
		assert_non_null(a->string);
		assert_non_null(b->string);
		assert_string_equal(a->string, b->string);
	}
	if (a->valuestring || b->valuestring) {
		assert_non_null(a->valuestring);
		assert_non_null(b->valuestring);
		assert_string_equal(a->valuestring, b->valuestring);
	}
	assert_int_equal(a->valueint, b->valueint);
	assert_memory_equal(&a->valuedouble, &b->valuedouble, sizeof(double));
	assert_true(!a->child == !b->child);
	for (x = a->child, y = b->child; x && y; x = x->next, y = y->next) {
		same_nodes(x, y);
		assert_true(x == a->child
				    ? x->prev == cJSON_GetArrayItem(a, cJSON_GetArraySize(a) - 1)
				    : x->prev->next == x);
		assert_true(y == b->child
				    ? y->prev == cJSON_GetArrayItem(b, cJSON_GetArraySize(b) - 1)
				    : y->prev->next == y);
	}
	assert_true(!x && !y);
}

/* text, which must be strict JSON, read by the reader (both ways) and by cJSON alone. */
static void same_as_cjson(const char *text, size_t len)
{
	struct hive_arena a = HIVE_ARENA_INIT;
	cJSON *mine = hive_json_parse(text, len), *theirs = cJSON_ParseWithLength(text, len),
	      *in_arena = hive_json_parse_in(&a, text, len);

	if (!mine || !theirs || !in_arena)
		fail_msg("not read by all three: %s", text);
	same_nodes(mine, theirs);
	same_nodes(in_arena, theirs);
	cJSON_Delete(mine);
	cJSON_Delete(theirs);
	hive_arena_release(&a);
}

static void test_tree_as_cjson_builds_it(void **state)
{
	static const char *texts[] = {
		"{}",
		"[]",
		"0",
		"-0",
		"1",
		"-1",
		"\"\"",
		"true",
		"false",
		"null",
		" \t\r\n{ \"a\" : [ 1 , 2 ] }\r\n ",
		"[0,-1,12,1.5,-0.25,1e5,1E+5,1e-5,-12.5e10,0e0,-0.0,0.1,1e-400,1e999,-1e999]",
		/* around 2^31 (valueint saturates), 2^53 and 2^64, and 19 and 20 digits */
		"[2147483646,2147483647,2147483648,-2147483647,-2147483648,-2147483649,"
		"9007199254740992,9007199254740993,-9007199254740993,18446744073709551615,"
		"18446744073709551616,9999999999999999999,-9999999999999999999,"
		"99999999999999999999,123456789012345678901234567890,2.5e9,-2.5e9]",
		"[1.7976931348623157e308,4.9e-324,2.2250738585072014e-308,0.30000000000000004]",
		"[\"\\\" \\\\ \\/ \\b \\f \\n \\r \\t \\u0041 \\u00e9 \\uFFFF \\ud83d\\ude00\"]",
		"[\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xef\xbb\xbf\"]",
		"{\"a\":{\"b\":{\"c\":[{\"d\":null}]}}}",
		"{\"a\\u0062\":1,\"\\n\":[true,false,null,{}],\"\":\"\"}",
		"[[],[[]],{},{\"x\":[]}]",
		"{\"seq\":2,\"timestamp\":\"2025-01-01T00:00:00.250Z\",\"event_type\":\"x\","
		"\"details\":{\"configuration\":{\"value\":7,\"unit\":\"%\"}},\"prev\":null}",
	};
	char *s;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
		same_as_cjson(texts[i], strlen(texts[i]));
	s = nested(HIVE_JSON_DEPTH_MAX, 1);
	same_as_cjson(s, strlen(s));
	free(s);
	s = nested(HIVE_JSON_DEPTH_MAX, 0);
	same_as_cjson(s, strlen(s));
	free(s);
}

/* Keys past the 16 compared one by one go to a hash table: a big object, a duplicate at
 * either side of the switch, objects inside one another that fill the shared stack, and
 * the same keys in sibling objects (no duplicate). */
static void test_duplicate_keys_many(void **state)
{
	size_t n = 100000, i, cap = n * 16 + 64;
	char *s = malloc(cap), *p, want[64];
	int d;

	(void)state;
	assert_non_null(s);
	/* 100,000 keys, then the same with key 99,999 named again last (linear would be
	 * 5 billion comparisons) */
	p = s + sprintf(s, "{");
	for (i = 0; i < n; i++)
		p += sprintf(p, "%s\"k%zu\":%zu", i ? "," : "", i, i);
	sprintf(p, "}");
	same_as_cjson(s, strlen(s));
	sprintf(p, ",\"k99999\":0}");
	snprintf(want, sizeof(want), "byte %zu: duplicate key \"k99999\"", (size_t)(p - s) + 2);
	dup(s, want);
	/* 16 keys then the first again (the 17th key, just past the stack), and 17 then the
	 * 17th again (both in the table) */
	for (d = 16; d <= 17; d++) {
		p = s + sprintf(s, "{");
		for (i = 0; i < (size_t)d; i++)
			p += sprintf(p, "\"%c\":0,", (int)('a' + i));
		sprintf(p, "\"%c\":1}", d == 16 ? 'a' : 'a' + d - 1);
		snprintf(want, sizeof(want), "byte %zu: duplicate key \"%c\"", (size_t)(p - s) + 1,
			 d == 16 ? 'a' : 'a' + d - 1);
		dup(s, want);
	}
	/* 20 objects inside one another, 15 keys each before the next (300 keys open, past
	 * the stack of 256), then a key named again at depth 18 and at depth 1 */
	for (d = 0; d < 3; d++) {
		int lvl;
		p = s;
		for (lvl = 1; lvl <= 20; lvl++) {
			p += sprintf(p, "{");
			for (i = 0; i < 15; i++)
				p += sprintf(p, "\"k%zu\":%d,", i, lvl);
			p += sprintf(p, "\"in\":");
		}
		p += sprintf(p, "0");
		for (lvl = 20; lvl >= 1; lvl--) {
			if ((d == 1 && lvl == 18) || (d == 2 && lvl == 1)) {
				snprintf(want, sizeof(want), "byte %zu: duplicate key \"k3\"",
					 (size_t)(p - s) + 2);
				p += sprintf(p, ",\"k3\":0");
			}
			p += sprintf(p, "}");
		}
		if (d == 0)
			same_as_cjson(s, strlen(s));
		else
			dup(s, want);
	}
	/* siblings: 200 objects of 40 keys each, the same keys in each */
	p = s + sprintf(s, "[");
	for (d = 0; d < 200; d++) {
		p += sprintf(p, "%s{", d ? "," : "");
		for (i = 0; i < 40; i++)
			p += sprintf(p, "%s\"key%zu\":%d", i ? "," : "", i, d);
		p += sprintf(p, "}");
	}
	sprintf(p, "]");
	same_as_cjson(s, strlen(s));
	free(s);
}

/* Several keys named twice: the first named again in the text is the one reported; and
 * what is not JSON is said before any duplicate, as hive_json_check says it. */
static void test_duplicate_keys_first_in_text(void **state)
{
	(void)state;
	dup("{\"a\":1,\"b\":1,\"b\":2,\"a\":2}", "byte 14: duplicate key \"b\"");
	dup("{\"a\":{\"x\":1,\"x\":2},\"a\":3}", "byte 13: duplicate key \"x\"");
	dup("{\"a\":1,\"b\":{\"x\":1},\"a\":2,\"b\":{\"x\":1,\"x\":2}}",
	    "byte 20: duplicate key \"a\"");
	bad("{\"a\":1,\"a\":2,}", "byte 14: expected a string key, found character '}'");
	bad("{\"a\":1,\"a\":2", "byte 13: the text ends inside an object");
}

/* --- moved from test_util.c with the reader ---------------------------------------- */

/* --- hive_json_parse -------------------------------------------------------------- */

static void test_json_parse(void **state)
{
	const char buf[] = "{\"a\":1}  \n{\"b\":2}";
	cJSON *j;

	(void)state;
	/* a prefix of a larger buffer: not NUL-terminated at len */
	j = hive_json_parse(buf, 7);
	assert_non_null(j);
	assert_int_equal(cJSON_GetObjectItem(j, "a")->valueint, 1);
	cJSON_Delete(j);
	/* trailing whitespace is fine */
	j = hive_json_parse(buf, 10);
	assert_non_null(j);
	cJSON_Delete(j);
	/* trailing garbage (a second value) is not */
	assert_null(hive_json_parse(buf, sizeof(buf) - 1));
	assert_null(hive_json_parse("{\"a\":1}x", 8));
	assert_null(hive_json_parse("{\"a\":", 5));
	assert_null(hive_json_parse("", 0));
	assert_null(hive_json_parse("   ", 3));
	/* a scalar is JSON too */
	j = hive_json_parse("42", 2);
	assert_non_null(j);
	assert_true(cJSON_IsNumber(j));
	cJSON_Delete(j);
	/* cut in the middle of a value: the part before len is not valid on its own */
	assert_null(hive_json_parse("{\"a\":12}", 6));
}

/* Regression (faults.bats, then fuzzing): cJSON skips a NUL byte as if it were a space and
 * ends a string at a NUL byte or a \u0000 escape, so "create\0destroy" was read as
 * "create" and hive-emit accepted lines with NUL bytes. Such text is now refused. */
static void test_json_parse_nul(void **state)
{
	static const char nul_before[] = "\0{\"a\":1}";
	static const char nul_after[] = "{\"a\":1}\0";
	static const char nul_between[] = "{\"a\":\0 1}";
	static const char nul_in_string[] = "{\"a\":\"create\0destroy\"}";
	cJSON *j;

	(void)state;
	assert_null(hive_json_parse(nul_before, sizeof(nul_before) - 1));
	assert_null(hive_json_parse(nul_after, sizeof(nul_after) - 1));
	assert_null(hive_json_parse(nul_between, sizeof(nul_between) - 1));
	assert_null(hive_json_parse(nul_in_string, sizeof(nul_in_string) - 1));
	assert_null(hive_json_parse("{\"a\":\"x\\u0000y\"}", 17));
	assert_null(hive_json_parse("{\"\\u0000\":1}", 13));
	assert_int_equal(hive_json_find_nul(nul_in_string, sizeof(nul_in_string) - 1), 12);
	assert_int_equal(hive_json_find_nul("{\"a\":\"x\\u0000y\"}", 17), 7);
	/* an escaped backslash before u0000, and other \u escapes, are ordinary text */
	j = hive_json_parse("{\"a\":\"\\\\u0000\"}", 15);
	assert_non_null(j);
	assert_string_equal(cJSON_GetObjectItem(j, "a")->valuestring, "\\u0000");
	cJSON_Delete(j);
	j = hive_json_parse("[\"\\u0041\\u00e9\"]", 16);
	assert_non_null(j);
	assert_string_equal(cJSON_GetArrayItem(j, 0)->valuestring, "A\xc3\xa9");
	cJSON_Delete(j);
	assert_int_equal(hive_json_find_nul("{}", 2), 2);
}

/* --- hive_json_parse_in ------------------------------------------------------------- */

/* Trees parsed into an arena: the same answers as hive_json_parse, trees that live until
 * the reset, strings longer than a chunk, failures, and cJSON back on malloc afterwards
 * (under make sanitize and make valgrind, a tree wrongly left in the arena after release
 * would be a use after free, and one wrongly on malloc a leak). */
static void test_json_parse_in_arena(void **state)
{
	struct hive_arena a = HIVE_ARENA_INIT;
	char *big, line[128];
	cJSON *j, *k, *own;
	size_t n = 200000, i;

	(void)state;
	for (i = 0; i < 5000; i++) {
		int len = snprintf(line, sizeof(line), "{\"seq\":%zu,\"s\":\"v%zu\",\"a\":[1,2]}",
				   i, i);

		j = hive_json_parse_in(&a, line, (size_t)len);
		assert_non_null(j);
		k = hive_json_parse_in(&a, "[\"second\"]", 10);
		assert_non_null(k);
		/* the first tree is intact after the second parse */
		assert_int_equal(cJSON_GetObjectItem(j, "seq")->valueint, (int)i);
		snprintf(line, sizeof(line), "v%zu", i);
		assert_string_equal(cJSON_GetObjectItem(j, "s")->valuestring, line);
		assert_string_equal(cJSON_GetArrayItem(k, 0)->valuestring, "second");
		hive_arena_reset(&a);
	}
	/* what hive_json_parse refuses, so does this */
	assert_null(hive_json_parse_in(&a, "{\"a\":1}x", 8));
	assert_null(hive_json_parse_in(&a, "{\"a\":\"x\\u0000y\"}", 16));
	assert_null(hive_json_parse_in(&a, "{\"a\":[1,2,{\"b\":", 15));
	/* a string longer than a chunk gets a chunk of its own */
	big = malloc(n + 8);
	assert_non_null(big);
	big[0] = '"';
	memset(big + 1, 'x', n);
	big[n + 1] = '"';
	j = hive_json_parse_in(&a, big, n + 2);
	assert_non_null(j);
	assert_int_equal(strlen(j->valuestring), n);
	assert_int_equal(j->valuestring[n - 1], 'x');
	hive_arena_reset(&a);
	free(big);
	/* outside the call cJSON allocates with malloc again: this tree outlives the arena */
	j = hive_json_parse_in(&a, "{}", 2);
	assert_non_null(j);
	own = cJSON_CreateObject();
	assert_non_null(cJSON_AddStringToObject(own, "k", "still here"));
	hive_arena_release(&a);
	assert_string_equal(cJSON_GetObjectItem(own, "k")->valuestring, "still here");
	cJSON_Delete(own);
	/* a released arena is usable again */
	j = hive_json_parse_in(&a, "[true]", 6);
	assert_true(cJSON_IsTrue(cJSON_GetArrayItem(j, 0)));
	hive_arena_release(&a);
	hive_arena_release(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accepts_rfc8259),
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_literals),
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_string_scan_positions),
		cmocka_unit_test(test_utf8),
		cmocka_unit_test(test_bom),
		cmocka_unit_test(test_structure),
		cmocka_unit_test(test_duplicate_keys),
		cmocka_unit_test(test_duplicate_key_of_tree),
		cmocka_unit_test(test_tree_as_cjson_builds_it),
		cmocka_unit_test(test_duplicate_keys_many),
		cmocka_unit_test(test_duplicate_keys_first_in_text),
		cmocka_unit_test(test_depth),
		cmocka_unit_test(test_json_parse),
		cmocka_unit_test(test_json_parse_nul),
		cmocka_unit_test(test_json_parse_in_arena),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
