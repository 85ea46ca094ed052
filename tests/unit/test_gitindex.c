/* test_gitindex.c - unit tests for lib/gitindex.c: the cache-tree (TREE extension) reader */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../lib/gitindex.h"

/* --- helpers ------------------------------------------------------------------------ */

/* An index of version 2 with no entries, then the given extension bytes (each
 * "SIG" + 32-bit size + data, already laid out by the caller), then a zero checksum. */
static char *write_index(const void *ext, size_t ext_len)
{
	static char path[64];
	unsigned char head[12] = {'D', 'I', 'R', 'C', 0, 0, 0, 2, 0, 0, 0, 0};
	unsigned char sum[20] = {0};
	FILE *f;

	snprintf(path, sizeof(path), "/tmp/hive-unit-index-%ld", (long)getpid());
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(head, 1, sizeof(head), f), sizeof(head));
	if (ext_len)
		assert_int_equal(fwrite(ext, 1, ext_len, f), ext_len);
	assert_int_equal(fwrite(sum, 1, sizeof(sum), f), sizeof(sum));
	assert_int_equal(fclose(f), 0);
	return path;
}

/* One TREE extension around body[0..len): "TREE", the size, the body. */
static size_t tree_ext(unsigned char *out, const void *body, size_t len)
{
	memcpy(out, "TREE", 4);
	out[4] = (unsigned char)(len >> 24);
	out[5] = (unsigned char)(len >> 16);
	out[6] = (unsigned char)(len >> 8);
	out[7] = (unsigned char)len;
	memcpy(out + 8, body, len);
	return 8 + len;
}

/* A body from records "name\0header\n" with a 20-byte id of byte `id` after each record
 * whose header does not start with '-'. */
static size_t body_of(unsigned char *out, const char *const *recs, size_t n, unsigned char id)
{
	size_t len = 0, i, k;

	for (i = 0; i < n; i += 2) {
		k = strlen(recs[i]);
		memcpy(out + len, recs[i], k + 1); /* the name and its NUL */
		len += k + 1;
		k = strlen(recs[i + 1]);
		memcpy(out + len, recs[i + 1], k);
		len += k;
		out[len++] = '\n';
		if (recs[i + 1][0] != '-') {
			memset(out + len, id++, 20);
			len += 20;
		}
	}
	return len;
}

/* Read an index whose only extension is one TREE of these records. */
static struct hive_index *read_tree_records(const char *const *recs, size_t n)
{
	unsigned char body[1024], ext[1100];
	struct hive_err err = {0};
	struct hive_index *idx = NULL;
	size_t len = body_of(body, recs, n, 0xa0);

	assert_int_equal(hive_index_read(write_index(ext, tree_ext(ext, body, len)), &idx, &err),
			 HIVE_OK);
	assert_non_null(idx);
	return idx;
}

static void assert_no_cache_tree(const char *const *recs, size_t n)
{
	struct hive_index *idx = read_tree_records(recs, n);

	assert_null(idx->ct);
	assert_int_equal(idx->ct_n, 0);
	assert_false(idx->tree_root_valid);
	hive_index_free(idx);
}

static void assert_name(const struct hive_cache_tree *c, const char *name)
{
	assert_int_equal(c->name_len, strlen(name));
	assert_memory_equal(c->name, name, c->name_len);
}

/* --- tests -------------------------------------------------------------------------- */

/* root(a(b), z) in pre-order, a invalid: links, counts, ids, root validity. */
static void test_cache_tree_nested(void **state)
{
	static const char *const recs[] = {"", "0 2", "a", "-1 1", "b", "2 0", "z", "1 0"};
	struct hive_index *idx;
	const struct hive_cache_tree *ct;

	(void)state;
	idx = read_tree_records(recs, 8);
	assert_int_equal(idx->ct_n, 4);
	ct = idx->ct;
	assert_name(&ct[0], "");
	assert_int_equal(ct[0].entries, 0);
	assert_int_equal(ct[0].first_child, 1);
	assert_int_equal(ct[0].next_sibling, HIVE_CT_NONE);
	assert_name(&ct[1], "a");
	assert_int_equal(ct[1].entries, -1);
	assert_int_equal(ct[1].first_child, 2);
	assert_int_equal(ct[1].next_sibling, 3);
	assert_name(&ct[2], "b");
	assert_int_equal(ct[2].entries, 2);
	assert_int_equal(ct[2].first_child, HIVE_CT_NONE);
	assert_int_equal(ct[2].next_sibling, HIVE_CT_NONE);
	assert_int_equal(ct[2].oid[0], 0xa1); /* ids: root 0xa0, b 0xa1, z 0xa2 (a has none) */
	assert_name(&ct[3], "z");
	assert_int_equal(ct[3].oid[19], 0xa2);
	assert_int_equal(ct[3].next_sibling, HIVE_CT_NONE);
	/* the index has 0 entries and the root says 0: valid, and its id is kept */
	assert_true(idx->tree_root_valid);
	assert_int_equal(idx->tree_root[0], 0xa0);
	hive_index_free(idx);
}

/* A root that counts other entries than the index has is not "the index's tree". */
static void test_cache_tree_root_count_differs(void **state)
{
	static const char *const recs[] = {"", "5 0"};
	struct hive_index *idx;

	(void)state;
	idx = read_tree_records(recs, 2);
	assert_int_equal(idx->ct_n, 1);
	assert_false(idx->tree_root_valid);
	hive_index_free(idx);
}

/* Whatever is malformed leaves no cache-tree, and the index still reads. */
static void test_cache_tree_malformed(void **state)
{
	static const char *const missing_child[] = {"", "0 2", "a", "1 0"};
	static const char *const second_root[] = {"", "0 0", "", "0 0"};
	static const char *const named_root[] = {"top", "0 0"};
	static const char *const not_number[] = {"", "x 0"};
	static const char *const negative_subtrees[] = {"", "0 -1"};
	static const char *const huge[] = {"", "0 99999999999999999999"};
	static const char *const no_space[] = {"", "00"};
	static const char *const empty_number[] = {"", " 0"};

	(void)state;
	assert_no_cache_tree(missing_child, 4);
	assert_no_cache_tree(second_root, 4);
	assert_no_cache_tree(named_root, 2);
	assert_no_cache_tree(not_number, 2);
	assert_no_cache_tree(negative_subtrees, 2);
	assert_no_cache_tree(huge, 2);
	assert_no_cache_tree(no_space, 2);
	assert_no_cache_tree(empty_number, 2);
}

/* Cut anywhere inside a record, the extension gives no cache-tree. */
static void test_cache_tree_truncated(void **state)
{
	static const char *const recs[] = {"", "0 1", "a", "3 0"};
	unsigned char body[256], ext[300];
	struct hive_err err = {0};
	struct hive_index *idx;
	size_t len, cut;

	(void)state;
	len = body_of(body, recs, 4, 0x11);
	for (cut = 1; cut < len; cut++) {
		idx = NULL;
		assert_int_equal(
			hive_index_read(write_index(ext, tree_ext(ext, body, cut)), &idx, &err),
			HIVE_OK);
		assert_null(idx->ct);
		assert_false(idx->tree_root_valid);
		hive_index_free(idx);
	}
}

/* Two TREE extensions: neither is trusted (git writes one). */
static void test_cache_tree_twice(void **state)
{
	static const char *const recs[] = {"", "0 0"};
	unsigned char body[64], ext[200];
	struct hive_err err = {0};
	struct hive_index *idx = NULL;
	size_t len = body_of(body, recs, 2, 0x22), n;

	(void)state;
	n = tree_ext(ext, body, len);
	n += tree_ext(ext + n, body, len);
	assert_int_equal(hive_index_read(write_index(ext, n), &idx, &err), HIVE_OK);
	assert_null(idx->ct);
	assert_false(idx->tree_root_valid);
	hive_index_free(idx);
}

/* Deep nesting is read without recursion: 10,000 directories, each in the one before. */
static void test_cache_tree_deep(void **state)
{
	size_t depth = 10000, len = 0, i, n;
	unsigned char *body = malloc(depth * 8 + 64), *ext = malloc(depth * 8 + 128);
	struct hive_err err = {0};
	struct hive_index *idx = NULL;

	(void)state;
	assert_non_null(body);
	assert_non_null(ext);
	for (i = 0; i < depth; i++) {
		len += (size_t)sprintf((char *)body + len, "%s", i ? "d" : "") + 1; /* with NUL */
		len += (size_t)sprintf((char *)body + len, "-1 %d\n", i + 1 < depth ? 1 : 0);
	}
	n = tree_ext(ext, body, len);
	assert_int_equal(hive_index_read(write_index(ext, n), &idx, &err), HIVE_OK);
	assert_int_equal(idx->ct_n, depth);
	assert_int_equal(idx->ct[depth - 2].first_child, depth - 1);
	hive_index_free(idx);
	free(body);
	free(ext);
}

static int remove_index(void **state)
{
	char path[64];

	(void)state;
	snprintf(path, sizeof(path), "/tmp/hive-unit-index-%ld", (long)getpid());
	unlink(path);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cache_tree_nested),
		cmocka_unit_test(test_cache_tree_root_count_differs),
		cmocka_unit_test(test_cache_tree_malformed),
		cmocka_unit_test(test_cache_tree_truncated),
		cmocka_unit_test(test_cache_tree_twice),
		cmocka_unit_test(test_cache_tree_deep),
	};

	return cmocka_run_group_tests_name("gitindex", tests, NULL, remove_index);
}
