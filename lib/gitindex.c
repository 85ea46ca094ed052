/* gitindex.c - parse git's index file (versions 2-4) for the dirty scan and the requirements */
#include "gitindex.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define OID_LEN	  20
#define FIXED_LEN (40 + OID_LEN + 2) /* stat data, object id, flags */

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint16_t be16(const unsigned char *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* git's offset varint (version 4 path prefix lengths). Returns bytes used or 0. */
static size_t varint(const unsigned char *p, const unsigned char *end, size_t *out)
{
	const unsigned char *start = p;
	size_t val;
	unsigned char c;

	if (p >= end)
		return 0;
	c = *p++;
	val = c & 127;
	while (c & 128) {
		if (p >= end || val > (SIZE_MAX >> 8))
			return 0;
		val += 1;
		c = *p++;
		val = (val << 7) + (c & 127);
	}
	*out = val;
	return (size_t)(p - start);
}

static int corrupt(struct hive_err *err, const char *path, const char *why)
{
	return hive_err_set(err, HIVE_EENV, "git: %s: not a readable index (%s)", path, why);
}

/* A decimal number, optionally negative, filling exactly [p, stop). 0 or -1. */
static int decimal(const unsigned char *p, const unsigned char *stop, long *out)
{
	int neg = p < stop && *p == '-';
	long v = 0;

	p += neg;
	if (p == stop)
		return -1;
	for (; p < stop; p++) {
		if (*p < '0' || *p > '9' || v > 100000000L)
			return -1;
		v = v * 10 + (*p - '0');
	}
	*out = neg ? -v : v;
	return 0;
}

/* The TREE extension (gitformat-index(5)): for each directory, in pre-order,
 * "name\0entry_count SP subtree_count\n" and then, when entry_count >= 0, its tree's id.
 * Read into idx->ct with an explicit stack (no recursion on a file's say-so). Anything
 * malformed leaves no cache-tree at all: it is an optimisation, never a source of truth. */
static void read_cache_tree(struct hive_index *idx, const unsigned char *p, size_t len)
{
	const unsigned char *end = p + len, *nul, *sp, *nl;
	struct frame {
		size_t node, last_child;
		long left;
	} *stack = NULL, *f;
	size_t depth = 0, cap = 0, ct_cap = 0;
	struct hive_cache_tree *ct = NULL, *node;
	long entries, subtrees;

	if (idx->ct) { /* a second TREE extension: trust neither */
		free(idx->ct);
		idx->ct = NULL;
		idx->ct_n = 0;
		idx->tree_root_valid = 0;
		return;
	}
	while (p < end) {
		if ((depth == 0 && idx->ct_n > 0) || /* a second root */
		    !(nul = memchr(p, '\0', (size_t)(end - p))) ||
		    !(nl = memchr(nul + 1, '\n', (size_t)(end - nul - 1))) ||
		    !(sp = memchr(nul + 1, ' ', (size_t)(nl - nul - 1))) ||
		    decimal(nul + 1, sp, &entries) || decimal(sp + 1, nl, &subtrees) ||
		    subtrees < 0 || (entries >= 0 && (size_t)(end - nl - 1) < OID_LEN))
			goto bad;
		if (idx->ct_n == ct_cap) {
			ct_cap = ct_cap ? ct_cap * 2 : 64;
			if (!(node = realloc(ct, ct_cap * sizeof(*ct))))
				goto bad;
			ct = node;
		}
		node = &ct[idx->ct_n];
		node->name = (const char *)p;
		node->name_len = (size_t)(nul - p);
		node->entries = entries < 0 ? -1 : entries;
		node->first_child = node->next_sibling = HIVE_CT_NONE;
		if (entries >= 0)
			memcpy(node->oid, nl + 1, OID_LEN);
		p = nl + 1 + (entries >= 0 ? OID_LEN : 0);
		if (depth > 0) { /* a child of the directory on top of the stack */
			f = &stack[depth - 1];
			if (f->last_child == HIVE_CT_NONE)
				ct[f->node].first_child = idx->ct_n;
			else
				ct[f->last_child].next_sibling = idx->ct_n;
			f->last_child = idx->ct_n;
			f->left--;
		} else if (node->name_len != 0) {
			goto bad; /* the root has an empty name */
		}
		if (subtrees > 0) {
			if (depth == cap) {
				cap = cap ? cap * 2 : 16;
				if (!(f = realloc(stack, cap * sizeof(*stack))))
					goto bad;
				stack = f;
			}
			stack[depth].node = idx->ct_n;
			stack[depth].last_child = HIVE_CT_NONE;
			stack[depth].left = subtrees;
			depth++;
		}
		idx->ct_n++;
		while (depth > 0 && stack[depth - 1].left == 0)
			depth--;
	}
	if (depth > 0 || idx->ct_n == 0)
		goto bad;
	free(stack);
	idx->ct = ct;
	idx->tree_root_valid = ct[0].entries >= 0 && (size_t)ct[0].entries == idx->n;
	if (idx->tree_root_valid)
		memcpy(idx->tree_root, ct[0].oid, OID_LEN);
	return;
bad:
	free(stack);
	free(ct);
	idx->ct = NULL;
	idx->ct_n = 0;
}

/* Parse the index in base[0..size) (at least 12 + OID_LEN bytes) into idx, whose entries
 * then point into base. HIVE_OK, or HIVE_EENV with err set (what idx holds by then is freed
 * by hive_index_free). path names the file in messages. */
static int parse_index(struct hive_index *idx, const unsigned char *base, size_t size,
		       const char *path, struct hive_err *err)
{
	const unsigned char *p, *end;
	size_t i, prev_len = 0, prev_off = 0, cap = 0, used = 0;

	end = base + size - OID_LEN; /* the trailing checksum */
	if (memcmp(base, "DIRC", 4)) {
		return corrupt(err, path, "no DIRC signature");
	}
	idx->version = be32(base + 4);
	if (idx->version < 2 || idx->version > 4) {
		return corrupt(err, path, "unsupported version");
	}
	idx->n = be32(base + 8);
	if (idx->n > size / FIXED_LEN) {
		return corrupt(err, path, "entry count larger than the file");
	}
	if (idx->n && !(idx->e = calloc(idx->n, sizeof(*idx->e)))) {
		return hive_err_set(err, HIVE_EENV, "out of memory");
	}
	if (idx->version == 4) {
		cap = size + 4096;
		if (!(idx->paths = malloc(cap))) {
			return hive_err_set(err, HIVE_EENV, "out of memory");
		}
	}
	p = base + 12;
	for (i = 0; i < idx->n; i++) {
		struct hive_index_entry *e = &idx->e[i];
		size_t hdr = FIXED_LEN, namelen;
		const unsigned char *name, *nul;

		if ((size_t)(end - p) < FIXED_LEN) {
			return corrupt(err, path, "truncated entry");
		}
		e->ctime_s = be32(p);
		e->ctime_ns = be32(p + 4);
		e->mtime_s = be32(p + 8);
		e->mtime_ns = be32(p + 12);
		e->dev = be32(p + 16);
		e->ino = be32(p + 20);
		e->mode = be32(p + 24);
		e->uid = be32(p + 28);
		e->gid = be32(p + 32);
		e->size = be32(p + 36);
		memcpy(e->oid, p + 40, OID_LEN);
		e->flags = be16(p + 40 + OID_LEN);
		if ((e->flags & 0x4000) && idx->version >= 3) {
			if ((size_t)(end - p) < FIXED_LEN + 2) {
				return corrupt(err, path, "truncated entry");
			}
			e->xflags = be16(p + FIXED_LEN);
			hdr += 2;
		}
		name = p + hdr;
		if (idx->version == 4) {
			size_t strip, n = varint(name, end, &strip), suffix;
			if (!n || strip > prev_len) {
				return corrupt(err, path, "bad path prefix");
			}
			name += n;
			if (!(nul = memchr(name, '\0', (size_t)(end - name)))) {
				return corrupt(err, path, "unterminated path");
			}
			suffix = (size_t)(nul - name);
			namelen = prev_len - strip + suffix;
			if (used + namelen + 1 > cap) {
				char *np;
				while (used + namelen + 1 > cap)
					cap *= 2;
				if (!(np = realloc(idx->paths, cap))) {
					return hive_err_set(err, HIVE_EENV, "out of memory");
				}
				idx->paths = np;
			}
			/* the previous path is kept as an offset: realloc may move the buffer */
			memmove(idx->paths + used, idx->paths + prev_off, prev_len - strip);
			memcpy(idx->paths + used + prev_len - strip, name, suffix);
			idx->paths[used + namelen] = '\0';
			prev_off = used;
			prev_len = namelen;
			e->path = (const char *)(uintptr_t)used; /* fixed up below */
			used += namelen + 1;
			p = nul + 1;
		} else {
			if (!(nul = memchr(name, '\0', (size_t)(end - name)))) {
				return corrupt(err, path, "unterminated path");
			}
			e->path = (const char *)name;
			/* entries are padded with 1-8 NULs to a multiple of 8 bytes */
			p += (hdr + (size_t)(nul - name) + 8) & ~(size_t)7;
			if (p > end) {
				return corrupt(err, path, "truncated entry");
			}
		}
	}
	for (i = 0; idx->version == 4 && i < idx->n; i++)
		idx->e[i].path = idx->paths + (uintptr_t)idx->e[i].path;
	/* extensions: 4-byte signature, 32-bit size, data */
	while ((size_t)(end - p) >= 8) {
		uint32_t len = be32(p + 4);
		if (len > (size_t)(end - p) - 8)
			break;
		if (!memcmp(p, "TREE", 4))
			read_cache_tree(idx, p + 8, len);
		else if (!memcmp(p, "link", 4))
			idx->split = 1;
		p += 8 + len;
	}
	return HIVE_OK;
}

int hive_index_read(const char *path, struct hive_index **out, struct hive_err *err)
{
	struct hive_index *idx;
	struct stat st;
	int fd, rc = HIVE_EENV;

	*out = NULL;
	if (!(idx = calloc(1, sizeof(*idx))))
		return hive_err_set(err, HIVE_EENV, "out of memory");
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT) {
		*out = idx; /* a new repository: no index yet */
		return HIVE_OK;
	}
	if (fd < 0 || fstat(fd, &st) < 0) {
		hive_err_sys(err, HIVE_EENV, errno, "git: %s", path);
		goto fail;
	}
	idx->mtime = st.st_mtim;
	if (st.st_size < 12 + OID_LEN) {
		corrupt(err, path, "too short");
		goto fail;
	}
	idx->map_size = (size_t)st.st_size;
	idx->map = mmap(NULL, idx->map_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (idx->map == MAP_FAILED) {
		idx->map = NULL;
		hive_err_sys(err, HIVE_EENV, errno, "git: %s", path);
		goto fail;
	}
	if ((rc = parse_index(idx, idx->map, idx->map_size, path, err)))
		goto fail;
	close(fd);
	*out = idx;
	return HIVE_OK;
fail:
	if (fd >= 0)
		close(fd);
	hive_index_free(idx);
	return rc;
}

int hive_index_parse(const void *buf, size_t size, const char *name, struct hive_index **out,
		     struct hive_err *err)
{
	struct hive_index *idx;
	int rc;

	*out = NULL;
	if (!(idx = calloc(1, sizeof(*idx))))
		return hive_err_set(err, HIVE_EENV, "out of memory");
	if (size < 12 + OID_LEN)
		rc = corrupt(err, name, "too short");
	else
		rc = parse_index(idx, buf, size, name, err);
	if (rc) {
		hive_index_free(idx);
		return rc;
	}
	*out = idx;
	return HIVE_OK;
}

void hive_index_free(struct hive_index *idx)
{
	if (!idx)
		return;
	if (idx->map)
		munmap(idx->map, idx->map_size);
	free(idx->e);
	free(idx->paths);
	free(idx->ct);
	free(idx);
}
