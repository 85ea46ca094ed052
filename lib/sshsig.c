/* sshsig.c - SSH signatures (OpenSSH's SSHSIG): allowed_signers, armored blocks, the wire
 * format, signing through ssh-keygen (verification with libcrypto is sshverify.c's) */
#include "sshsig.h"

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

extern char **environ;

#define SIG_BEGIN   "-----BEGIN SSH SIGNATURE-----"
#define SIG_END	    "-----END SSH SIGNATURE-----"
#define SIGNERS_MAX (16 * 1024 * 1024)

/* --- base64 (RFC 4648, padded; whitespace is the caller's business) --------------------- */

static int b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* Decode len characters of base64 (skipping '\n' and '\r') into a new buffer. Returns the
 * buffer (the caller's) or NULL when the text is not base64 or out of memory. */
static unsigned char *b64_decode(const char *s, size_t len, size_t *out_len)
{
	unsigned char *out = malloc(len / 4 * 3 + 3);
	uint32_t acc = 0;
	size_t i, n = 0, k = 0, pad = 0;
	int v;

	if (!out)
		return NULL;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '\n' || c == '\r')
			continue;
		if (c == '=') {
			pad++;
			acc <<= 6;
			k++;
		} else if (pad || (v = b64_value(c)) < 0) {
			goto bad;
		} else {
			acc = acc << 6 | (uint32_t)v;
			k++;
		}
		if (k == 4) {
			out[n++] = (unsigned char)(acc >> 16);
			if (pad < 2)
				out[n++] = (unsigned char)(acc >> 8);
			if (pad < 1)
				out[n++] = (unsigned char)acc;
			acc = 0;
			k = 0;
		}
	}
	if (k || pad > 2 || n == 0)
		goto bad;
	*out_len = n;
	return out;
bad:
	free(out);
	return NULL;
}

static void b64_encode(const unsigned char *in, size_t len, char *out)
{
	static const char tab[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i, o = 0;

	for (i = 0; i + 2 < len; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
		out[o++] = tab[v >> 18];
		out[o++] = tab[v >> 12 & 63];
		out[o++] = tab[v >> 6 & 63];
		out[o++] = tab[v & 63];
	}
	if (i < len) {
		uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < len ? (uint32_t)in[i + 1] << 8 : 0);
		out[o++] = tab[v >> 18];
		out[o++] = tab[v >> 12 & 63];
		if (i + 1 < len)
			out[o++] = tab[v >> 6 & 63];
	}
	out[o] = '\0'; /* unpadded, as ssh-keygen -l prints fingerprints */
}

/* --- SSH wire format (RFC 4251 5) ------------------------------------------------------- */

uint32_t hive_wire_u32(struct hive_wire *w)
{
	uint32_t v;

	if (w->left < 4) {
		w->bad = 1;
		return 0;
	}
	v = (uint32_t)w->p[0] << 24 | (uint32_t)w->p[1] << 16 | (uint32_t)w->p[2] << 8 | w->p[3];
	w->p += 4;
	w->left -= 4;
	return v;
}

/* A string: *s points into the buffer, *n its length. */
int hive_wire_string(struct hive_wire *w, const unsigned char **s, size_t *n)
{
	uint32_t len = hive_wire_u32(w);

	if (w->bad || len > w->left) {
		w->bad = 1;
		*s = NULL;
		*n = 0;
		return -1;
	}
	*s = w->p;
	*n = len;
	w->p += len;
	w->left -= len;
	return 0;
}

/* Is the string s/n exactly the text t? */
int hive_wire_is(const unsigned char *s, size_t n, const char *t)
{
	return s && n == strlen(t) && !memcmp(s, t, n);
}

/* A non-negative mpint, without its sign byte. */
int hive_wire_mpint(struct hive_wire *w, const unsigned char **s, size_t *n)
{
	if (hive_wire_string(w, s, n) < 0 || (*n && (**s & 0x80)))
		return -1;
	while (*n && **s == 0) {
		(*s)++;
		(*n)--;
	}
	return 0;
}

void hive_wire_put_string(unsigned char *out, size_t *o, const void *s, size_t n)
{
	out[(*o)++] = (unsigned char)(n >> 24);
	out[(*o)++] = (unsigned char)(n >> 16);
	out[(*o)++] = (unsigned char)(n >> 8);
	out[(*o)++] = (unsigned char)n;
	memcpy(out + *o, s, n);
	*o += n;
}

/* --- armored blocks --------------------------------------------------------------------- */

void hive_sshsig_free_all(struct hive_sshsig *v, size_t n)
{
	size_t i;

	for (i = 0; v && i < n; i++) {
		free(v[i].key);
		free(v[i].ns);
		free(v[i].sig);
	}
	free(v);
}

/* Decode one block's base64 body into s. */
static int parse_blob(const unsigned char *b, size_t n, struct hive_sshsig *s, const char **why)
{
	struct hive_wire w = {b, n, 0};
	const unsigned char *key, *ns, *reserved, *alg, *sig;
	size_t keyn, nsn, resn, algn, sign;

	if (n < 6 || memcmp(b, "SSHSIG", 6)) {
		*why = "not an SSHSIG signature (no magic)";
		return -1;
	}
	w.p += 6;
	w.left -= 6;
	if (hive_wire_u32(&w) != 1 || w.bad) {
		*why = "SSHSIG version is not 1";
		return -1;
	}
	hive_wire_string(&w, &key, &keyn);
	hive_wire_string(&w, &ns, &nsn);
	hive_wire_string(&w, &reserved, &resn);
	hive_wire_string(&w, &alg, &algn);
	hive_wire_string(&w, &sig, &sign);
	if (w.bad || w.left) {
		*why = "the signature blob is cut short or has trailing bytes";
		return -1;
	}
	if (!hive_wire_is(alg, algn, "sha512") && !hive_wire_is(alg, algn, "sha256")) {
		*why = "hash algorithm is neither sha512 nor sha256";
		return -1;
	}
	if (memchr(ns, '\0', nsn)) {
		*why = "the namespace holds a NUL byte";
		return -1;
	}
	memcpy(s->hash_alg, alg, algn);
	s->hash_alg[algn] = '\0';
	s->key = malloc(keyn ? keyn : 1);
	s->ns = malloc(nsn + 1);
	s->sig = malloc(sign ? sign : 1);
	if (!s->key || !s->ns || !s->sig) {
		*why = "out of memory";
		return -2;
	}
	memcpy(s->key, key, keyn);
	s->key_len = keyn;
	memcpy(s->ns, ns, nsn);
	s->ns[nsn] = '\0';
	memcpy(s->sig, sig, sign);
	s->sig_len = sign;
	return 0;
}

int hive_sshsig_parse(const char *buf, size_t len, struct hive_sshsig **out, size_t *n,
		      struct hive_err *err)
{
	struct hive_sshsig *v = NULL, *grown;
	const char *p = buf, *end = buf + len, *nl, *body = NULL, *why = NULL;
	size_t count = 0, line = 0, begin_line = 0;
	int rc = HIVE_OK;

	*out = NULL;
	*n = 0;
	while (p < end) {
		size_t ll;
		nl = memchr(p, '\n', (size_t)(end - p));
		ll = nl ? (size_t)(nl - p) : (size_t)(end - p);
		line++;
		if (ll && p[ll - 1] == '\r')
			ll--;
		if (!body && ll == strlen(SIG_BEGIN) && !memcmp(p, SIG_BEGIN, ll)) {
			body = nl ? nl + 1 : end;
			begin_line = line;
		} else if (body && ll == strlen(SIG_END) && !memcmp(p, SIG_END, ll)) {
			unsigned char *blob;
			size_t bn;
			int pr;
			if (!(grown = realloc(v, (count + 1) * sizeof(*v)))) {
				rc = hive_err_set(err, HIVE_EENV, "out of memory");
				goto out;
			}
			v = grown;
			memset(&v[count], 0, sizeof(*v));
			v[count].line = begin_line;
			if (!(blob = b64_decode(body, (size_t)(p - body), &bn))) {
				count++;
				rc = hive_err_set(err, HIVE_EUSAGE,
						  "%zu: the signature is not base64", begin_line);
				goto out;
			}
			pr = parse_blob(blob, bn, &v[count], &why);
			free(blob);
			count++;
			if (pr) {
				rc = hive_err_set(err, pr == -2 ? HIVE_EENV : HIVE_EUSAGE,
						  "%zu: %s", begin_line, why);
				goto out;
			}
			body = NULL;
		} else if (!body && ll) {
			rc = hive_err_set(err, HIVE_EUSAGE,
					  "%zu: text outside a -----BEGIN SSH SIGNATURE----- block",
					  line);
			goto out;
		}
		p = nl ? nl + 1 : end;
	}
	if (body)
		rc = hive_err_set(err, HIVE_EUSAGE, "%zu: the signature block has no END line",
				  begin_line);
out:
	if (rc) {
		hive_sshsig_free_all(v, count);
		return rc;
	}
	*out = v;
	*n = count;
	return HIVE_OK;
}

/* --- fingerprints ---------------------------------------------------------------------- */

void hive_sshsig_describe(const unsigned char *key, size_t len, char *out, size_t size)
{
	struct hive_wire w = {key, len, 0};
	const unsigned char *type;
	unsigned char md[32];
	char fp[64];
	size_t tn;

	hive_sha256_bin(key, len, md);
	b64_encode(md, sizeof(md), fp);
	if (hive_wire_string(&w, &type, &tn) < 0 || tn > 64)
		snprintf(out, size, "SHA256:%s", fp);
	else
		snprintf(out, size, "%.*s SHA256:%s", (int)tn, (const char *)type, fp);
}

/* --- allowed_signers -------------------------------------------------------------------- */

struct signer {
	char *principals;
	char *namespaces; /* the namespaces="…" value, or NULL: any namespace */
	unsigned char *key;
	size_t key_len;
	int64_t after, before; /* valid-after / valid-before in seconds, 0 when unset */
};

struct hive_signers {
	struct signer *v;
	size_t n;
};

void hive_signers_free(struct hive_signers *a)
{
	size_t i;

	if (!a)
		return;
	for (i = 0; i < a->n; i++) {
		free(a->v[i].principals);
		free(a->v[i].namespaces);
		free(a->v[i].key);
	}
	free(a->v);
	free(a);
}

/* The next whitespace-separated token of *p (a quoted part may hold spaces), or NULL. */
static char *token(char **p)
{
	char *s = *p, *start;
	int quoted = 0;

	while (*s == ' ' || *s == '\t')
		s++;
	if (!*s)
		return NULL;
	start = s;
	for (; *s && (quoted || (*s != ' ' && *s != '\t')); s++)
		if (*s == '"')
			quoted = !quoted;
	if (*s)
		*s++ = '\0';
	*p = s;
	return start;
}

/* ssh-keygen's time spec: YYYYMMDD[HHMM[SS]], 'Z' for UTC, else local time. */
static int parse_time(const char *s, int64_t *out)
{
	struct tm tm = {0};
	size_t n = strlen(s), i;
	int utc = n && s[n - 1] == 'Z';
	char d[16];
	time_t t;

	n -= (size_t)utc;
	if ((n != 8 && n != 12 && n != 14) || n >= sizeof(d))
		return -1;
	for (i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return -1;
	memcpy(d, s, n);
	d[n] = '\0';
	if (sscanf(d, "%4d%2d%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday) != 3)
		return -1;
	if (n >= 12 && sscanf(d + 8, "%2d%2d", &tm.tm_hour, &tm.tm_min) != 2)
		return -1;
	if (n == 14 && sscanf(d + 12, "%2d", &tm.tm_sec) != 1)
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	tm.tm_isdst = -1;
	t = utc ? timegm(&tm) : mktime(&tm);
	if (t == (time_t)-1)
		return -1;
	*out = (int64_t)t;
	return 0;
}

/* The options field "a,b=\"x,y\",c": each option handed to one signer. */
static const char *parse_options(char *opts, struct signer *sg)
{
	char *p = opts;

	while (*p) {
		char *name = p, *value = NULL, *v;
		int quoted = 0;
		for (; *p && (quoted || *p != ','); p++)
			if (*p == '"')
				quoted = !quoted;
		if (*p)
			*p++ = '\0';
		if ((v = strchr(name, '='))) {
			*v++ = '\0';
			value = v;
			if (*value == '"') {
				size_t n = strlen(value);
				if (n < 2 || value[n - 1] != '"')
					return "an option's quoted value is not closed";
				value[n - 1] = '\0';
				value++;
			}
		}
		if (!strcasecmp(name, "cert-authority"))
			return "cert-authority"; /* the caller skips the line */
		if (!strcasecmp(name, "namespaces") && value) {
			free(sg->namespaces);
			if (!(sg->namespaces = strdup(value)))
				return "out of memory";
		} else if (!strcasecmp(name, "valid-after") && value) {
			if (parse_time(value, &sg->after) < 0)
				return "valid-after is not YYYYMMDD[HHMM[SS]][Z]";
		} else if (!strcasecmp(name, "valid-before") && value) {
			if (parse_time(value, &sg->before) < 0)
				return "valid-before is not YYYYMMDD[HHMM[SS]][Z]";
		} else {
			return "an unknown option (known: namespaces, valid-after, valid-before, "
			       "cert-authority)";
		}
	}
	return NULL;
}

/* One line of allowed_signers into sg; "" when the line is to be skipped, NULL when read,
 * else why it cannot be. */
static const char *parse_signer(char *line, struct signer *sg)
{
	char *p = line, *principals, *next, *type, *key;
	const unsigned char *kt;
	const char *why;
	size_t ktn;
	struct hive_wire w;

	principals = token(&p);
	if (!principals || *principals == '#')
		return "";
	if (!(next = token(&p)))
		return "no key type and key";
	type = next;
	if (strncmp(next, "ssh-", 4) && strncmp(next, "ecdsa-", 6) && strncmp(next, "sk-", 3)) {
		if ((why = parse_options(next, sg)))
			return strcmp(why, "cert-authority") ? why : "";
		if (!(type = token(&p)))
			return "no key type";
	}
	if (!(key = token(&p)))
		return "no key";
	if (!(sg->key = b64_decode(key, strlen(key), &sg->key_len)))
		return "the key is not base64";
	w.p = sg->key;
	w.left = sg->key_len;
	w.bad = 0;
	if (hive_wire_string(&w, &kt, &ktn) < 0 || !hive_wire_is(kt, ktn, type))
		return "the key does not match its key type";
	if (!(sg->principals = strdup(principals)))
		return "out of memory";
	return NULL;
}

int hive_signers_parse(const char *name, const char *buf, size_t len, struct hive_signers **out,
		       struct hive_err *err)
{
	struct hive_signers *a = calloc(1, sizeof(*a));
	const char *p = buf, *end = buf + len, *nl;
	size_t lineno = 0;
	int rc = HIVE_OK;

	*out = NULL;
	if (!a)
		return hive_err_set(err, HIVE_EENV, "out of memory");
	while (p < end) {
		struct signer sg = {0}, *grown;
		const char *why;
		char *line;
		size_t ll;
		nl = memchr(p, '\n', (size_t)(end - p));
		ll = nl ? (size_t)(nl - p) : (size_t)(end - p);
		lineno++;
		if (memchr(p, '\0', ll)) {
			rc = hive_err_set(err, HIVE_EUSAGE, "%s:%zu: a NUL byte", name, lineno);
			break;
		}
		if (!(line = strndup(p, ll))) {
			rc = hive_err_set(err, HIVE_EENV, "out of memory");
			break;
		}
		if (ll && line[ll - 1] == '\r')
			line[ll - 1] = '\0';
		why = parse_signer(line, &sg);
		free(line);
		if (why && *why) {
			free(sg.principals);
			free(sg.namespaces);
			free(sg.key);
			rc = hive_err_set(err, HIVE_EUSAGE, "%s:%zu: %s", name, lineno, why);
			break;
		}
		if (!why && !(grown = realloc(a->v, (a->n + 1) * sizeof(*a->v))))
			why = "out of memory";
		if (why) { /* skipped, or no memory */
			free(sg.principals);
			free(sg.namespaces);
			free(sg.key);
			if (*why) {
				rc = hive_err_set(err, HIVE_EENV, "out of memory");
				break;
			}
		} else {
			a->v = grown;
			a->v[a->n++] = sg;
		}
		p = nl ? nl + 1 : end;
	}
	if (rc) {
		hive_signers_free(a);
		return rc;
	}
	*out = a;
	return HIVE_OK;
}

int hive_signers_load(const char *path, const char *shown, struct hive_signers **out,
		      struct hive_err *err)
{
	char *buf = NULL;
	size_t len = 0;
	int rc;

	*out = NULL;
	if ((rc = hive_read_file(AT_FDCWD, path, 0, SIGNERS_MAX, &buf, &len, err))) {
		hive_err_prefix(err, "trust.allowed_signers %s", shown);
		return HIVE_EUSAGE;
	}
	rc = hive_signers_parse(shown, buf, len, out, err);
	free(buf);
	return rc;
}

/* Is ns one of the comma-separated patterns in list? */
static int ns_matches(const char *list, const char *ns)
{
	char *copy = strdup(list), *save = NULL, *pat;
	int hit = 0;

	for (pat = copy ? strtok_r(copy, ",", &save) : NULL; pat && !hit;
	     pat = strtok_r(NULL, ",", &save))
		hit = fnmatch(pat, ns, 0) == 0;
	free(copy);
	return hit;
}

const char *hive_signers_find(const struct hive_signers *a, const unsigned char *key, size_t len,
			      const char *ns)
{
	int64_t now = (int64_t)time(NULL);
	size_t i;

	for (i = 0; a && i < a->n; i++) {
		const struct signer *sg = &a->v[i];
		if (sg->key_len != len || memcmp(sg->key, key, len))
			continue;
		if (sg->namespaces && !ns_matches(sg->namespaces, ns))
			continue;
		if ((sg->after && now < sg->after) || (sg->before && now > sg->before))
			continue;
		return sg->principals;
	}
	return NULL;
}

/* --- signing ---------------------------------------------------------------------------- */

/* A memory file holding len bytes of buf, positioned at its start; -1 with errno. */
static int memfile(const char *name, const void *buf, size_t len)
{
	int fd = memfd_create(name, MFD_CLOEXEC);

	if (fd < 0)
		return -1;
	if ((len && hive_write_all_or_truncate(fd, buf, len, 0) < 0) ||
	    lseek(fd, 0, SEEK_SET) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

/* The whole of a memory file, NUL-terminated (the caller's), or NULL. */
static char *memfile_read(int fd, size_t *len)
{
	struct stat st;
	ssize_t got;
	char *buf;

	if (fstat(fd, &st) < 0 || st.st_size > SIGNERS_MAX ||
	    !(buf = malloc((size_t)st.st_size + 1)))
		return NULL;
	if ((got = pread(fd, buf, (size_t)st.st_size, 0)) != st.st_size) {
		free(buf);
		return NULL;
	}
	buf[got] = '\0';
	*len = (size_t)got;
	return buf;
}

int hive_sshsig_sign(const char *keypath, const char *ns, const void *msg, size_t len, char **out,
		     size_t *outlen, struct hive_err *err)
{
	posix_spawn_file_actions_t fa;
	char *argv[] = {"ssh-keygen",	 "-q", "-Y", "sign", "-n", (char *)ns, "-f",
			(char *)keypath, NULL};
	int in = -1, so = -1, se = -1, status, rc = HIVE_OK, fa_ok = 0;
	char *errtext = NULL, *nl;
	size_t errlen = 0;
	pid_t pid;

	*out = NULL;
	*outlen = 0;
	if ((in = memfile("hive-sign-in", msg, len)) < 0 ||
	    (so = memfile("hive-sign-out", "", 0)) < 0 ||
	    (se = memfile("hive-sign-err", "", 0)) < 0) {
		rc = hive_err_sys(err, HIVE_EENV, errno, "cannot sign");
		goto out;
	}
	if ((errno = posix_spawn_file_actions_init(&fa))) {
		rc = hive_err_sys(err, HIVE_EENV, errno, "cannot sign");
		goto out;
	}
	fa_ok = 1;
	posix_spawn_file_actions_adddup2(&fa, in, 0);
	posix_spawn_file_actions_adddup2(&fa, so, 1);
	posix_spawn_file_actions_adddup2(&fa, se, 2);
	if ((errno = posix_spawnp(&pid, "ssh-keygen", &fa, NULL, argv, environ))) {
		rc = hive_err_sys(err, HIVE_EENV, errno, "cannot run ssh-keygen to sign");
		goto out;
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR) {
			rc = hive_err_sys(err, HIVE_EENV, errno, "ssh-keygen");
			goto out;
		}
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		errtext = memfile_read(se, &errlen);
		/* ssh-keygen's last line says why */
		while (errtext && errlen &&
		       (errtext[errlen - 1] == '\n' || errtext[errlen - 1] == '\r'))
			errtext[--errlen] = '\0';
		nl = errtext ? strrchr(errtext, '\n') : NULL;
		rc = hive_err_set(err, HIVE_EENV, "ssh-keygen -Y sign -f %s failed%s%s%s", keypath,
				  WIFEXITED(status) && WEXITSTATUS(status) == 127
					  ? " (is ssh-keygen installed?)"
					  : "",
				  errtext && *errtext ? ": " : "",
				  errtext ? (nl ? nl + 1 : errtext) : "");
		goto out;
	}
	if (!(*out = memfile_read(so, outlen)) || strncmp(*out, SIG_BEGIN, strlen(SIG_BEGIN))) {
		free(*out);
		*out = NULL;
		*outlen = 0;
		rc = hive_err_set(err, HIVE_EENV, "ssh-keygen -Y sign wrote no signature");
	}
out:
	if (fa_ok)
		posix_spawn_file_actions_destroy(&fa);
	free(errtext);
	if (in >= 0)
		close(in);
	if (so >= 0)
		close(so);
	if (se >= 0)
		close(se);
	return rc;
}
