/* util.h - small shared helpers: SHA-256, timestamps, string vectors, whole-file reads */
#ifndef HIVE_UTIL_H
#define HIVE_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "err.h"
#include "json.h" /* the JSON reader lived here: its callers include util.h */

/* "sha256:" + 64 lowercase hex + NUL */
#define HIVE_HASH_SIZE 72

/* The one hash function: out = "sha256:<hex of SHA-256(buf[0..len))>". */
void hive_sha256(const void *buf, size_t len, char out[HIVE_HASH_SIZE]);
/* The same digest as 32 bytes (never SHA256(), whose EVP fetch costs an append its time). */
void hive_sha256_bin(const void *buf, size_t len, unsigned char md[32]);

/* The current UTC time as RFC 3339 with milliseconds: 2025-01-15T10:30:00.123Z. */
void hive_now_rfc3339(char out[32]);

/* Format a time (seconds + milliseconds) the same way. */
void hive_time_format(int64_t ms_since_epoch, char out[32]);

/* Parse an RFC 3339 UTC timestamp ("…Z" or "…+00:00", fraction optional) into
 * milliseconds since the epoch. Returns 0, or -1 when s is not such a timestamp. */
int hive_time_parse(const char *s, int64_t *ms_out);

/* A growable NULL-terminated vector of owned strings. */
struct hive_strv {
	char **v; /* v[n] == NULL */
	size_t n;
	size_t cap;
};

/* Append a copy of s. Returns 0, or -1 when out of memory. */
int hive_strv_push(struct hive_strv *sv, const char *s);
/* 1 when s is in sv (exact match), else 0. */
int hive_strv_has(const struct hive_strv *sv, const char *s);
void hive_strv_clear(struct hive_strv *sv);
/* Sort sv's strings bytewise (strcmp order). */
void hive_strv_sort(struct hive_strv *sv);

/* path's part below top ("top/a/b" gives "a/b", borrowed from path) when path is strictly
 * inside top, else NULL: a root outside the work tree is in no commit. */
const char *hive_path_under(const char *top, const char *path);

/*
 * The hive root `root` (absolute) as it really is, checked to be inside the work tree top
 * (SPEC 9): "." and ".." are resolved, then the symbolic links of the part that exists, so
 * `../x`, `Docs/../../x` and a `Docs` linked to /tmp all count as outside. *out (the caller
 * frees it) is the resolved root as top + "/" + its part below the top. HIVE_EUSAGE naming `what`
 * (where the root came from, put before it: "--root", "the default root"…) when the root is the top
 * itself, outside it, or inside its .git folder; HIVE_EENV when out of memory.
 */
int hive_root_inside(const char *top, const char *root, const char *what, char **out,
		     struct hive_err *err);

/* Read a whole regular file (not through a symlink when nofollow) into a NUL-terminated
 * buffer the caller frees. A missing file, one that is not a regular file or one over max
 * bytes is HIVE_EUSAGE (a missing one with err->sys ENOENT); a symbolic link under nofollow
 * and a read error are HIVE_EENV. */
int hive_read_file(int dirfd, const char *path, int nofollow, size_t max, char **out,
		   size_t *len_out, struct hive_err *err);

/* Write all of buf with one write(2) and, if it fails or is short, truncate fd back to
 * `old_size` (the caller's file length before the write). Returns 0 or -1 with errno. */
int hive_write_all_or_truncate(int fd, const void *buf, size_t len, off_t old_size);

/* Fill buf with n random bytes from getrandom(2). Returns 0 or -1. */
int hive_random(void *buf, size_t n);

/* A growable text buffer; p is always NUL-terminated once anything was added. */
struct hive_buf {
	char *p;
	size_t len, cap;
	int oom; /* set when an allocation failed: the text is incomplete */
};

void hive_buf_add(struct hive_buf *b, const char *s, size_t n);
void hive_buf_puts(struct hive_buf *b, const char *s);
void hive_buf_printf(struct hive_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void hive_buf_free(struct hive_buf *b);

/* Replace dirfd/name atomically with buf: a temporary file, fsync, rename; never through
 * a symbolic link. HIVE_EENV naming `shown` on failure (nothing is left behind). */
int hive_write_atomic(int dirfd, const char *name, const char *buf, size_t len, const char *shown,
		      struct hive_err *err);

/* hive_write_atomic for a caller holding a lock that every writer of dirfd/name takes
 * (STATE.json under the session lock): the temporary file is always .NAME.tmp, so one left
 * by a writer killed mid-write is replaced by the next writer rather than left behind. */
int hive_write_atomic_locked(int dirfd, const char *name, const char *buf, size_t len,
			     const char *shown, struct hive_err *err);

/* hive_write_atomic giving the file exactly `mode` (umask not applied; an executable
 * hook needs its x bits), or 0644 less the umask when mode is -1. */
int hive_write_atomic_mode(int dirfd, const char *name, const char *buf, size_t len, int mode,
			   const char *shown, struct hive_err *err);
/* Replace the file at path atomically with buf (a temporary file in its folder, fsync,
 * rename). HIVE_EENV naming `shown` (the path as the user gave it, say "-o out.md") on
 * failure; nothing is left behind. */
int hive_write_atomic_path(const char *path, const char *shown, const char *buf, size_t len,
			   struct hive_err *err);

/* Can a file be made in path's folder (it exists, writable and searchable)? Checked before
 * a command changes anything else, so that a failure leaves every file as it was. HIVE_OK,
 * or HIVE_EENV naming `shown`. */
int hive_path_dir_writable(const char *path, const char *shown, struct hive_err *err);

/* mkdir -p path (0755): *made is how many folders at the end of path this call made (0 when
 * the last one existed). HIVE_EUSAGE for an empty or too long path, HIVE_EENV naming the folder
 * that could not be made. */
int hive_mkdir_parents(const char *path, int *made, struct hive_err *err);
/* Take back the `made` last folders of path that hive_mkdir_parents made (each only if empty). */
void hive_rmdir_parents(const char *path, int made);

#endif
