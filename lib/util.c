/* util.c - SHA-256 through libcrypto, RFC 3339 times, string vectors, file reads */
#include "util.h"

/* SHA256_Init/Update/Final are deprecated in OpenSSL 3 in favour of EVP, but EVP's first
 * fetch builds the provider name map: ~5 million instructions, two thirds of a whole
 * hive-emit run. The low-level calls use the same libcrypto implementation without it. */
#define OPENSSL_SUPPRESS_DEPRECATED

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <libgen.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

void hive_sha256_bin(const void *buf, size_t len, unsigned char md[32])
{
	SHA256_CTX ctx;

	SHA256_Init(&ctx);
	SHA256_Update(&ctx, buf, len);
	SHA256_Final(md, &ctx);
}

void hive_sha256(const void *buf, size_t len, char out[HIVE_HASH_SIZE])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[SHA256_DIGEST_LENGTH];
	size_t i;

	hive_sha256_bin(buf, len, md);
	memcpy(out, "sha256:", 7);
	for (i = 0; i < sizeof(md); i++) {
		out[7 + 2 * i] = hex[md[i] >> 4];
		out[8 + 2 * i] = hex[md[i] & 15];
	}
	out[7 + 2 * sizeof(md)] = '\0';
}

/* The proleptic Gregorian date of day z counted from 1970-01-01 (Howard Hinnant's
 * civil_from_days). Our own, like days_from_civil below: glibc's gmtime_r reads
 * /etc/localtime on its first call, six system calls in every hive process. */
static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
	*m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

void hive_time_format(int64_t ms, char out[32])
{
	/* floor division, so times before 1970 keep a fraction in 0..999 */
	int64_t frac = ((ms % 1000) + 1000) % 1000;
	int64_t secs = (ms - frac) / 1000;
	int64_t days = (secs >= 0 ? secs : secs - 86399) / 86400, y;
	unsigned sod = (unsigned)(secs - days * 86400), m, d;

	civil_from_days(days, &y, &m, &d);
	snprintf(out, 32, "%04u-%02u-%02uT%02u:%02u:%02u.%03uZ", (unsigned)(y % 10000), m % 100u,
		 d % 100u, sod / 3600 % 100u, sod / 60 % 60, sod % 60, (unsigned)frac % 1000u);
}

void hive_now_rfc3339(char out[32])
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	hive_time_format((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000, out);
}

static int digits(const char *s, int n, int *v)
{
	int i;

	*v = 0;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		*v = *v * 10 + (s[i] - '0');
	}
	return 0;
}

/* Days from 1970-01-01 to the proleptic Gregorian date y-m-d (Howard Hinnant's
 * days_from_civil): what timegm computes, without the time zone machinery timegm runs
 * on every call (it showed in hive-check's profile of a long log). */
static int64_t days_from_civil(int y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

int hive_time_parse(const char *s, int64_t *ms_out)
{
	int y, mo, d, h, mi, sec, ms = 0, scale = 100;
	const char *p;

	if (!s || strlen(s) < 20 || digits(s, 4, &y) || s[4] != '-' || digits(s + 5, 2, &mo) ||
	    s[7] != '-' || digits(s + 8, 2, &d) || (s[10] != 'T' && s[10] != 't') ||
	    digits(s + 11, 2, &h) || s[13] != ':' || digits(s + 14, 2, &mi) || s[16] != ':' ||
	    digits(s + 17, 2, &sec))
		return -1;
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
		return -1;
	/* a day the month does not have (2025-02-30) is not a time: the arithmetic below would
	 * roll it over */
	if (d > 30 + ((mo + (mo > 7)) & 1) ||
	    (mo == 2 && d > 28 + ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)))
		return -1;
	p = s + 19;
	if (*p == '.') {
		p++;
		if (*p < '0' || *p > '9')
			return -1;
		for (; *p >= '0' && *p <= '9'; p++) {
			ms += (*p - '0') * scale;
			scale /= 10;
		}
	}
	if (strcmp(p, "Z") && strcmp(p, "z") && strcmp(p, "+00:00"))
		return -1;
	*ms_out =
		((days_from_civil(y, mo, d) * 24 + h) * 60 + mi) * 60000 + (int64_t)sec * 1000 + ms;
	return 0;
}

int hive_strv_push(struct hive_strv *sv, const char *s)
{
	char *copy;

	if (sv->n + 1 >= sv->cap) {
		size_t cap = sv->cap ? sv->cap * 2 : 8;
		char **v = realloc(sv->v, cap * sizeof(*v));
		if (!v)
			return -1;
		sv->v = v;
		sv->cap = cap;
	}
	if (!(copy = strdup(s)))
		return -1;
	sv->v[sv->n++] = copy;
	sv->v[sv->n] = NULL;
	return 0;
}

int hive_strv_has(const struct hive_strv *sv, const char *s)
{
	size_t i;

	for (i = 0; i < sv->n; i++)
		if (!strcmp(sv->v[i], s))
			return 1;
	return 0;
}

static int strv_order(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void hive_strv_sort(struct hive_strv *sv)
{
	if (sv->n > 1)
		qsort(sv->v, sv->n, sizeof(*sv->v), strv_order);
}

const char *hive_path_under(const char *top, const char *path)
{
	size_t n = top ? strlen(top) : 0;

	if (!top || strncmp(path, top, n) || path[n] != '/' || !path[n + 1])
		return NULL;
	return path + n + 1;
}

/* path (absolute) with "." and ".." resolved and "//" folded, by text alone. NULL when out of
 * memory. */
static char *path_lexical(const char *path)
{
	char *out = malloc(strlen(path) + 2);
	size_t n = 0;
	const char *p = path;

	if (!out)
		return NULL;
	while (*p) {
		const char *c = p;
		size_t len;
		while (*p && *p != '/')
			p++;
		len = (size_t)(p - c);
		if (*p)
			p++;
		if (len == 0 || (len == 1 && c[0] == '.'))
			continue;
		if (len == 2 && c[0] == '.' && c[1] == '.') {
			while (n > 0 && out[n - 1] != '/')
				n--;
			if (n > 0)
				n--; /* the '/' before the dropped component */
			continue;
		}
		out[n++] = '/';
		memcpy(out + n, c, len);
		n += len;
	}
	if (n == 0)
		out[n++] = '/';
	out[n] = '\0';
	return out;
}

/* path (absolute, lexical) with the symbolic links of its longest existing part resolved;
 * the rest is kept as written. NULL when out of memory. */
static char *path_physical(const char *path)
{
	char *head = strdup(path), *real = NULL, *out = NULL;
	size_t cut = strlen(path);

	if (!head)
		return NULL;
	for (;;) {
		head[cut] = '\0';
		if ((real = realpath(cut ? head : "/", NULL)))
			break;
		if (errno == ENOMEM || cut == 0)
			goto done;
		while (cut > 0 && head[cut - 1] != '/')
			cut--;
		if (cut > 0)
			cut--;
	}
	if (asprintf(&out, "%s%s", strcmp(real, "/") ? real : "", path + cut) < 0)
		out = NULL;
done:
	free(real);
	free(head);
	return out;
}

int hive_root_inside(const char *top, const char *root, const char *what, char **out,
		     struct hive_err *err)
{
	char *lex = path_lexical(root), *real = lex ? path_physical(lex) : NULL;
	char *rtop = realpath(top, NULL);
	const char *under = real ? hive_path_under(rtop ? rtop : top, real) : NULL;
	int rc = HIVE_OK;

	*out = NULL;
	if (!lex || !real)
		rc = hive_err_set(err, HIVE_EENV, "out of memory");
	else if (!under)
		rc = hive_err_set(err, HIVE_EUSAGE,
				  "%s %s is outside the work tree %s: sessions there are in no "
				  "commit, so no gate could see them",
				  what, root, top);
	else if (!strcmp(under, ".git") || !strncmp(under, ".git/", 5))
		rc = hive_err_set(err, HIVE_EUSAGE,
				  "%s %s is inside .git: sessions there are in no commit", what,
				  root);
	else if (asprintf(out, "%s/%s", top, under) < 0)
		rc = hive_err_set(err, HIVE_EENV, "out of memory"), *out = NULL;
	free(lex);
	free(real);
	free(rtop);
	return rc;
}

void hive_strv_clear(struct hive_strv *sv)
{
	size_t i;

	for (i = 0; i < sv->n; i++)
		free(sv->v[i]);
	free(sv->v);
	sv->v = NULL;
	sv->n = sv->cap = 0;
}

int hive_read_file(int dirfd, const char *path, int nofollow, size_t max, char **out,
		   size_t *len_out, struct hive_err *err)
{
	int fd, rc = HIVE_EENV;
	struct stat st;
	char *buf = NULL;
	size_t len = 0;
	ssize_t n;

	*out = NULL;
	fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | (nofollow ? O_NOFOLLOW : 0));
	if (fd < 0) {
		if (errno == ELOOP)
			return hive_err_set(err, HIVE_EENV, "%s: is a symbolic link", path);
		return hive_err_sys(err, errno == ENOENT ? HIVE_EUSAGE : HIVE_EENV, errno, "%s",
				    path);
	}
	if (fstat(fd, &st) < 0) {
		hive_err_sys(err, HIVE_EENV, errno, "%s", path);
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = hive_err_set(err, HIVE_EUSAGE, "%s: not a regular file", path);
		goto out;
	}
	if ((size_t)st.st_size > max) {
		rc = hive_err_set(err, HIVE_EUSAGE, "%s: larger than %zu bytes", path, max);
		goto out;
	}
	if (!(buf = malloc((size_t)st.st_size + 1))) {
		hive_err_set(err, HIVE_EENV, "out of memory");
		goto out;
	}
	while (len < (size_t)st.st_size) {
		n = read(fd, buf + len, (size_t)st.st_size - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			hive_err_sys(err, HIVE_EENV, errno, "%s", path);
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	*out = buf;
	buf = NULL;
	if (len_out)
		*len_out = len;
	rc = HIVE_OK;
out:
	free(buf);
	close(fd);
	return rc;
}

int hive_write_all_or_truncate(int fd, const void *buf, size_t len, off_t old_size)
{
	ssize_t n;
	int saved;

	do
		n = write(fd, buf, len);
	while (n < 0 && errno == EINTR);
	if (n == (ssize_t)len)
		return 0;
	saved = n < 0 ? errno : ENOSPC;
	if (ftruncate(fd, old_size) < 0) {
		/* nothing better to do: report the original failure */
	}
	errno = saved;
	return -1;
}

int hive_random(void *buf, size_t n)
{
	size_t got = 0;
	ssize_t r;

	while (got < n) {
		r = getrandom((char *)buf + got, n - got, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		got += (size_t)r;
	}
	return 0;
}

void hive_buf_add(struct hive_buf *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 1024;
		char *np;
		while (cap < b->len + n + 1)
			cap *= 2;
		if (!(np = realloc(b->p, cap))) {
			b->oom = 1;
			return;
		}
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

void hive_buf_puts(struct hive_buf *b, const char *s)
{
	hive_buf_add(b, s, strlen(s));
}

void hive_buf_printf(struct hive_buf *b, const char *fmt, ...)
{
	char small[512], *big = NULL;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n < sizeof(small)) {
		hive_buf_add(b, small, (size_t)n);
		return;
	}
	if (!(big = malloc((size_t)n + 1))) {
		b->oom = 1;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(big, (size_t)n + 1, fmt, ap);
	va_end(ap);
	hive_buf_add(b, big, (size_t)n);
	free(big);
}

void hive_buf_free(struct hive_buf *b)
{
	if (!b)
		return;
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
	b->oom = 0;
}

static int write_atomic(int dirfd, const char *name, const char *buf, size_t len, int mode,
			int locked, const char *shown, struct hive_err *err);

int hive_write_atomic(int dirfd, const char *name, const char *buf, size_t len, const char *shown,
		      struct hive_err *err)
{
	return write_atomic(dirfd, name, buf, len, -1, 0, shown, err);
}

int hive_write_atomic_mode(int dirfd, const char *name, const char *buf, size_t len, int mode,
			   const char *shown, struct hive_err *err)
{
	return write_atomic(dirfd, name, buf, len, mode, 0, shown, err);
}

int hive_write_atomic_locked(int dirfd, const char *name, const char *buf, size_t len,
			     const char *shown, struct hive_err *err)
{
	return write_atomic(dirfd, name, buf, len, -1, 1, shown, err);
}

/* locked: the caller's lock serialises every writer of name, so the temporary file can
 * have a fixed name, and one left behind by a writer killed with SIGKILL is truncated and
 * reused by the next instead of piling up as .NAME.<pid>.tmp (a kill -9 storm left one
 * per killed writer in the session folder, where git add would pick them up). */
static int write_atomic(int dirfd, const char *name, const char *buf, size_t len, int mode,
			int locked, const char *shown, struct hive_err *err)
{
	char tmp[300];
	int fd;

	if (locked)
		snprintf(tmp, sizeof(tmp), ".%.200s.tmp", name);
	else
		snprintf(tmp, sizeof(tmp), ".%.200s.%ld.tmp", name, (long)getpid());
	fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		return hive_err_sys(err, HIVE_EENV, errno, "%s", shown);
	if ((mode >= 0 && fchmod(fd, (mode_t)mode) < 0) ||
	    hive_write_all_or_truncate(fd, buf, len, 0) < 0 || fsync(fd) < 0) {
		hive_err_sys(err, HIVE_EENV, errno, "%s", shown);
		close(fd);
		unlinkat(dirfd, tmp, 0);
		return HIVE_EENV;
	}
	close(fd);
	if (renameat(dirfd, tmp, dirfd, name) < 0) {
		hive_err_sys(err, HIVE_EENV, errno, "%s", shown);
		unlinkat(dirfd, tmp, 0);
		return HIVE_EENV;
	}
	return HIVE_OK;
}

int hive_write_atomic_path(const char *path, const char *shown, const char *buf, size_t len,
			   struct hive_err *err)
{
	char *a = strdup(path), *b = strdup(path);
	int dirfd, rc;

	if (!a || !b) {
		free(a);
		free(b);
		return hive_err_set(err, HIVE_EENV, "out of memory");
	}
	dirfd = open(dirname(a), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		rc = hive_err_sys(err, HIVE_EENV, errno, "%s", shown);
	else
		rc = hive_write_atomic(dirfd, basename(b), buf, len, shown, err);
	if (dirfd >= 0)
		close(dirfd);
	free(a);
	free(b);
	return rc;
}

int hive_path_dir_writable(const char *path, const char *shown, struct hive_err *err)
{
	char *a = strdup(path);
	int rc = HIVE_OK;

	if (!a)
		return hive_err_set(err, HIVE_EENV, "out of memory");
	if (access(dirname(a), W_OK | X_OK) < 0)
		rc = hive_err_sys(err, HIVE_EENV, errno, "%s", shown);
	free(a);
	return rc;
}

int hive_mkdir_parents(const char *path, int *made, struct hive_err *err)
{
	char buf[4096], *p;
	size_t n = strlen(path);

	*made = 0;
	if (n == 0 || n >= sizeof(buf))
		return hive_err_set(err, HIVE_EUSAGE, "root path is empty or too long");
	memcpy(buf, path, n + 1);
	while (n > 1 && buf[n - 1] == '/')
		buf[--n] = '\0';
	for (p = buf + 1;; p++) {
		if (*p == '/' || *p == '\0') {
			char c = *p;
			*p = '\0';
			if (mkdir(buf, 0755) == 0)
				(*made)++;
			else if (errno != EEXIST)
				return hive_err_sys(err, HIVE_EENV, errno, "%s", buf);
			else
				*made = 0; /* only a trailing run of new folders is ours */
			*p = c;
			if (!c)
				break;
		}
	}
	return HIVE_OK;
}

void hive_rmdir_parents(const char *path, int made)
{
	char buf[4096], *slash;

	snprintf(buf, sizeof(buf), "%s", path);
	while (made-- > 0) {
		if (rmdir(buf) < 0)
			return;
		if (!(slash = strrchr(buf, '/')) || slash == buf)
			return;
		*slash = '\0';
	}
}
