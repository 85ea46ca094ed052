/* sshsig.c - SSH signatures (OpenSSH's SSHSIG): allowed_signers, armored blocks, verification
 * in-process with libcrypto, signing through ssh-keygen */
#include "sshsig.h"

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/sha.h>
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

struct wire {
	const unsigned char *p;
	size_t left;
	int bad; /* a read ran past the end */
};

static uint32_t wire_u32(struct wire *w)
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
static int wire_string(struct wire *w, const unsigned char **s, size_t *n)
{
	uint32_t len = wire_u32(w);

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
static int wire_is(const unsigned char *s, size_t n, const char *t)
{
	return s && n == strlen(t) && !memcmp(s, t, n);
}

/* A non-negative mpint, without its sign byte. */
static int wire_mpint(struct wire *w, const unsigned char **s, size_t *n)
{
	if (wire_string(w, s, n) < 0 || (*n && (**s & 0x80)))
		return -1;
	while (*n && **s == 0) {
		(*s)++;
		(*n)--;
	}
	return 0;
}

static void put_string(unsigned char *out, size_t *o, const void *s, size_t n)
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
	struct wire w = {b, n, 0};
	const unsigned char *key, *ns, *reserved, *alg, *sig;
	size_t keyn, nsn, resn, algn, sign;

	if (n < 6 || memcmp(b, "SSHSIG", 6)) {
		*why = "not an SSHSIG signature (no magic)";
		return -1;
	}
	w.p += 6;
	w.left -= 6;
	if (wire_u32(&w) != 1 || w.bad) {
		*why = "SSHSIG version is not 1";
		return -1;
	}
	wire_string(&w, &key, &keyn);
	wire_string(&w, &ns, &nsn);
	wire_string(&w, &reserved, &resn);
	wire_string(&w, &alg, &algn);
	wire_string(&w, &sig, &sign);
	if (w.bad || w.left) {
		*why = "the signature blob is cut short or has trailing bytes";
		return -1;
	}
	if (!wire_is(alg, algn, "sha512") && !wire_is(alg, algn, "sha256")) {
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

/* --- verification ----------------------------------------------------------------------- */

void hive_sshsig_describe(const unsigned char *key, size_t len, char *out, size_t size)
{
	struct wire w = {key, len, 0};
	const unsigned char *type;
	unsigned char md[SHA256_DIGEST_LENGTH];
	char fp[64];
	size_t tn;

	SHA256(key, len, md);
	b64_encode(md, sizeof(md), fp);
	if (wire_string(&w, &type, &tn) < 0 || tn > 64)
		snprintf(out, size, "SHA256:%s", fp);
	else
		snprintf(out, size, "%.*s SHA256:%s", (int)tn, (const char *)type, fp);
}

/* The signer's key as an EVP_PKEY, and the digest its signature uses with sigtype. */
static EVP_PKEY *load_key(const unsigned char *key, size_t len, const unsigned char *sigtype,
			  size_t sigtypen, const EVP_MD **md, const char **why)
{
	struct wire w = {key, len, 0};
	const unsigned char *type, *a, *b;
	size_t tn, an, bn;
	EVP_PKEY *pkey = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	BIGNUM *n = NULL, *e = NULL;

	*why = "the public key is malformed";
	if (wire_string(&w, &type, &tn) < 0)
		return NULL;
	if (wire_is(type, tn, "ssh-ed25519")) {
		if (wire_string(&w, &a, &an) < 0 || an != 32 || w.left)
			return NULL;
		if (!wire_is(sigtype, sigtypen, "ssh-ed25519")) {
			*why = "the signature type does not match the key (ssh-ed25519)";
			return NULL;
		}
		*md = NULL;
		return EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, a, an);
	}
	if (wire_is(type, tn, "ecdsa-sha2-nistp256")) {
		if (wire_string(&w, &a, &an) < 0 || !wire_is(a, an, "nistp256") ||
		    wire_string(&w, &b, &bn) < 0 || bn != 65 || b[0] != 4 || w.left)
			return NULL;
		if (!wire_is(sigtype, sigtypen, "ecdsa-sha2-nistp256")) {
			*why = "the signature type does not match the key (ecdsa-sha2-nistp256)";
			return NULL;
		}
		*md = EVP_sha256();
		if (!(bld = OSSL_PARAM_BLD_new()) ||
		    !OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1",
						     0) ||
		    !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, b, bn))
			goto out;
		if (!(params = OSSL_PARAM_BLD_to_param(bld)) ||
		    !(ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL)) ||
		    EVP_PKEY_fromdata_init(ctx) <= 0 ||
		    EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) <= 0)
			pkey = NULL; /* a point not on the curve */
		goto out;
	}
	if (wire_is(type, tn, "ssh-rsa")) {
		if (wire_mpint(&w, &a, &an) < 0 || wire_mpint(&w, &b, &bn) < 0 || w.left)
			return NULL;
		if (wire_is(sigtype, sigtypen, "rsa-sha2-512")) {
			*md = EVP_sha512();
		} else if (wire_is(sigtype, sigtypen, "rsa-sha2-256")) {
			*md = EVP_sha256();
		} else {
			*why = "an RSA signature that is not rsa-sha2-512 or rsa-sha2-256 "
			       "(ssh-rsa's "
			       "SHA-1 is refused)";
			return NULL;
		}
		if (bn * 8 < 2048) {
			*why = "an RSA key shorter than 2048 bits";
			return NULL;
		}
		if (!(e = BN_bin2bn(a, (int)an, NULL)) || !(n = BN_bin2bn(b, (int)bn, NULL)) ||
		    !(bld = OSSL_PARAM_BLD_new()) ||
		    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) ||
		    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e) ||
		    !(params = OSSL_PARAM_BLD_to_param(bld)) ||
		    !(ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL)) ||
		    EVP_PKEY_fromdata_init(ctx) <= 0 ||
		    EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) <= 0)
			pkey = NULL;
		goto out;
	}
	*why = "an unsupported key type (hive verifies ssh-ed25519, ecdsa-sha2-nistp256 and "
	       "ssh-rsa)";
	return NULL;
out:
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	EVP_PKEY_CTX_free(ctx);
	BN_free(n);
	BN_free(e);
	return pkey;
}

/* ECDSA's SSH signature (mpint r, mpint s) as DER, for libcrypto. */
static unsigned char *ecdsa_der(const unsigned char *sig, size_t len, int *der_len)
{
	struct wire w = {sig, len, 0};
	const unsigned char *r, *s;
	size_t rn, sn;
	ECDSA_SIG *es = NULL;
	BIGNUM *br = NULL, *bs = NULL;
	unsigned char *der = NULL;

	if (wire_mpint(&w, &r, &rn) < 0 || wire_mpint(&w, &s, &sn) < 0 || w.left || rn > 32 ||
	    sn > 32)
		return NULL;
	if (!(es = ECDSA_SIG_new()) || !(br = BN_bin2bn(r, (int)rn, NULL)) ||
	    !(bs = BN_bin2bn(s, (int)sn, NULL)) || !ECDSA_SIG_set0(es, br, bs)) {
		BN_free(br);
		BN_free(bs);
		ECDSA_SIG_free(es);
		return NULL;
	}
	if ((*der_len = i2d_ECDSA_SIG(es, &der)) <= 0)
		der = NULL;
	ECDSA_SIG_free(es);
	return der;
}

int hive_sshsig_verify(const struct hive_sshsig *s, const char *ns, const void *msg, size_t len,
		       struct hive_err *err)
{
	struct wire w = {s->sig, s->sig_len, 0};
	const unsigned char *sigtype, *sigdata;
	unsigned char h[SHA512_DIGEST_LENGTH], *data = NULL, *der = NULL, *padded = NULL;
	const unsigned char *vsig;
	size_t sigtypen, sigdatan, hn, o = 0, vlen;
	const EVP_MD *md = NULL;
	EVP_PKEY *pkey = NULL;
	EVP_MD_CTX *mctx = NULL;
	const char *why = NULL;
	char q[160];
	int der_len = 0, ok = 0;

	if (strcmp(s->ns, ns))
		return hive_err_set(err, HIVE_FAIL, "made in namespace %s, not %s",
				    hive_quote(q, sizeof(q), s->ns), ns);
	if (wire_string(&w, &sigtype, &sigtypen) < 0 || wire_string(&w, &sigdata, &sigdatan) < 0 ||
	    w.left)
		return hive_err_set(err, HIVE_FAIL, "the signature blob is malformed");
	if (!(pkey = load_key(s->key, s->key_len, sigtype, sigtypen, &md, &why)))
		return hive_err_set(err, HIVE_FAIL, "%s", why);
	/* the signed data: "SSHSIG" || string ns || string reserved || string alg || string H */
	if (!strcmp(s->hash_alg, "sha512")) {
		SHA512(msg, len, h);
		hn = SHA512_DIGEST_LENGTH;
	} else {
		SHA256(msg, len, h);
		hn = SHA256_DIGEST_LENGTH;
	}
	if (!(data = malloc(6 + 4 * 4 + strlen(ns) + strlen(s->hash_alg) + hn))) {
		EVP_PKEY_free(pkey);
		return hive_err_set(err, HIVE_FAIL, "out of memory");
	}
	memcpy(data, "SSHSIG", 6);
	o = 6;
	put_string(data, &o, ns, strlen(ns));
	put_string(data, &o, "", 0);
	put_string(data, &o, s->hash_alg, strlen(s->hash_alg));
	put_string(data, &o, h, hn);
	vsig = sigdata;
	vlen = sigdatan;
	if (EVP_PKEY_get_base_id(pkey) == EVP_PKEY_EC) {
		if (!(der = ecdsa_der(sigdata, sigdatan, &der_len))) {
			why = "the ECDSA signature is malformed";
			goto out;
		}
		vsig = der;
		vlen = (size_t)der_len;
	} else if (EVP_PKEY_get_base_id(pkey) == EVP_PKEY_RSA) {
		size_t mod = (size_t)EVP_PKEY_get_size(pkey);
		if (sigdatan > mod) {
			why = "the RSA signature is longer than the key";
			goto out;
		}
		if (sigdatan < mod) { /* OpenSSH accepts a signature shorter than the modulus */
			if (!(padded = calloc(1, mod)))
				goto out;
			memcpy(padded + mod - sigdatan, sigdata, sigdatan);
			vsig = padded;
			vlen = mod;
		}
	}
	if (!(mctx = EVP_MD_CTX_new()) || EVP_DigestVerifyInit(mctx, NULL, md, NULL, pkey) <= 0) {
		why = "libcrypto cannot verify with this key";
		goto out;
	}
	ok = EVP_DigestVerify(mctx, vsig, vlen, data, o) == 1;
	if (!ok)
		why = "the signature does not verify: the signed bytes differ from these";
out:
	EVP_MD_CTX_free(mctx);
	EVP_PKEY_free(pkey);
	OPENSSL_free(der);
	free(padded);
	free(data);
	return ok ? HIVE_OK : hive_err_set(err, HIVE_FAIL, "%s", why ? why : "out of memory");
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
	struct wire w;

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
	if (wire_string(&w, &kt, &ktn) < 0 || !wire_is(kt, ktn, type))
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
