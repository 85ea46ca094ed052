/* fuzz_index.c - libFuzzer: a git index file through hive_index_parse (entries, version 4
 * path compression, the cache-tree)
 *
 * The input is a whole index file. Whatever it holds, the parse must not read outside it,
 * and when it succeeds what the dirty scan relies on must hold: every entry has a path,
 * and the cache-tree's links stay inside the node array and form a tree (each node reached
 * once from the root), with a valid root counting exactly the index's entries.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../lib/gitindex.h"

static void fail(const char *why)
{
	fprintf(stderr, "fuzz_index: %s\n", why);
	abort();
}

/* Visit the nodes under node (an explicit stack: the input decides the depth). */
static void check_tree(const struct hive_index *idx)
{
	size_t *stack, *seen, depth = 0, reached = 0, c, node;

	if (!idx->ct) {
		if (idx->ct_n || idx->tree_root_valid)
			fail("no cache-tree, yet a count or a valid root");
		return;
	}
	if (!idx->ct_n || idx->ct[0].name_len != 0)
		fail("a cache-tree without an unnamed root");
	if (idx->tree_root_valid &&
	    (idx->ct[0].entries < 0 || (size_t)idx->ct[0].entries != idx->n))
		fail("a valid root that does not count the index's entries");
	stack = malloc(idx->ct_n * sizeof(*stack));
	seen = calloc(idx->ct_n, sizeof(*seen));
	if (!stack || !seen)
		abort();
	stack[depth++] = 0;
	while (depth) {
		node = stack[--depth];
		if (node >= idx->ct_n)
			fail("a link outside the cache-tree");
		if (seen[node]++)
			fail("a cache-tree node reached twice");
		reached++;
		for (c = idx->ct[node].first_child; c != HIVE_CT_NONE;
		     c = idx->ct[c].next_sibling) {
			if (c >= idx->ct_n)
				fail("a link outside the cache-tree");
			if (depth == idx->ct_n)
				fail("more children than nodes");
			stack[depth++] = c;
		}
	}
	if (reached != idx->ct_n)
		fail("cache-tree nodes the root does not reach");
	free(stack);
	free(seen);
}

static volatile size_t sink;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hive_index *idx = NULL;
	struct hive_err err = {0};
	size_t i;

	if (hive_index_parse(data, size, "fuzz", &idx, &err) != HIVE_OK) {
		if (idx || !err.msg[0])
			fail("a refusal without a message, or with an index");
		return 0;
	}
	for (i = 0; i < idx->n; i++) {
		if (!idx->e[i].path)
			fail("an entry without a path");
		sink += strlen(idx->e[i].path); /* NUL-terminated where ASan can see it */
	}
	check_tree(idx);
	hive_index_free(idx);
	return 0;
}
