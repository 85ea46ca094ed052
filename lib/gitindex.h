/* gitindex.h - a read-only view of git's index file: entries, stat data, the cache-tree */
#ifndef HIVE_GITINDEX_H
#define HIVE_GITINDEX_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "err.h"

/* One index entry, as git's index format stores it (gitformat-index(5)). */
struct hive_index_entry {
	const char *path; /* NUL-terminated; borrowed from the index view */
	uint32_t ctime_s, ctime_ns, mtime_s, mtime_ns;
	uint32_t dev, ino, mode, uid, gid, size;
	unsigned char oid[20];
	uint16_t flags;	 /* assume-valid, extended, stage, name length */
	uint16_t xflags; /* skip-worktree, intent-to-add (version 3 and later) */
};

#define HIVE_INDEX_STAGE(e)	 (((e)->flags >> 12) & 3)
#define HIVE_INDEX_ASSUME_VALID	 0x8000
#define HIVE_INDEX_SKIP_WORKTREE 0x4000
#define HIVE_INDEX_INTENT_TO_ADD 0x2000

/* One directory of the index's cache-tree (the TREE extension), in the order git wrote them
 * (a directory, then its subdirectories). entries < 0: invalid, git does not know the tree
 * for this directory any more (a `git add` below it); then oid is unset. */
#define HIVE_CT_NONE ((size_t)-1)
struct hive_cache_tree {
	const char *name; /* one path component, not NUL-terminated; "" for the root */
	size_t name_len;
	long entries;			  /* index entries below this directory, or -1 */
	size_t first_child, next_sibling; /* indexes into hive_index.ct, or HIVE_CT_NONE */
	unsigned char oid[20];
};

struct hive_index {
	void *map; /* the file, mapped */
	size_t map_size;
	uint32_t version; /* 2, 3 or 4 */
	size_t n;	  /* entries */
	struct hive_index_entry *e;
	char *paths;		     /* version 4: the expanded paths */
	int tree_root_valid;	     /* the TREE extension's root entry is valid */
	unsigned char tree_root[20]; /* ... and names this tree */
	struct hive_cache_tree *ct;  /* the whole cache-tree, ct[0] the root; NULL when the */
	size_t ct_n;		     /* index has none or it could not be read */
	int split;		     /* a split index ("link" extension) */
	struct timespec mtime;	     /* of the index file, for racy-clean entries */
};

/*
 * Map and parse the index file at path. The trailing checksum is not verified (git does
 * not either, and index.skipHash leaves it zero). A missing file is an empty index. A
 * file that is not an index of version 2-4 with SHA-1 ids is HIVE_EENV.
 */
int hive_index_read(const char *path, struct hive_index **out, struct hive_err *err);

/* The same for an index already in memory, buf[0..size), which must outlive *out (its
 * entries point into it); name is used in messages. A fuzzing and testing entry point:
 * mtime is left zero. */
int hive_index_parse(const void *buf, size_t size, const char *name, struct hive_index **out,
		     struct hive_err *err);

void hive_index_free(struct hive_index *idx);

#endif
