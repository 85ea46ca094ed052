/* sshverify.c - an SSHSIG signature verified in-process with libcrypto: the one part of the
 * signature code that links libcrypto's public-key algorithms, kept apart so that only the
 * tools that verify (the gate, through hive_checker.verify) carry them */
#include "sshsig.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/* The signer's key as an EVP_PKEY, and the digest its signature uses with sigtype. */
static EVP_PKEY *load_key(const unsigned char *key, size_t len, const unsigned char *sigtype,
			  size_t sigtypen, const EVP_MD **md, const char **why)
{
	struct hive_wire w = {key, len, 0};
	const unsigned char *type, *a, *b;
	size_t tn, an, bn;
	EVP_PKEY *pkey = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	BIGNUM *n = NULL, *e = NULL;

	*why = "the public key is malformed";
	if (hive_wire_string(&w, &type, &tn) < 0)
		return NULL;
	if (hive_wire_is(type, tn, "ssh-ed25519")) {
		if (hive_wire_string(&w, &a, &an) < 0 || an != 32 || w.left)
			return NULL;
		if (!hive_wire_is(sigtype, sigtypen, "ssh-ed25519")) {
			*why = "the signature type does not match the key (ssh-ed25519)";
			return NULL;
		}
		*md = NULL;
		return EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, a, an);
	}
	if (hive_wire_is(type, tn, "ecdsa-sha2-nistp256")) {
		if (hive_wire_string(&w, &a, &an) < 0 || !hive_wire_is(a, an, "nistp256") ||
		    hive_wire_string(&w, &b, &bn) < 0 || bn != 65 || b[0] != 4 || w.left)
			return NULL;
		if (!hive_wire_is(sigtype, sigtypen, "ecdsa-sha2-nistp256")) {
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
	if (hive_wire_is(type, tn, "ssh-rsa")) {
		if (hive_wire_mpint(&w, &a, &an) < 0 || hive_wire_mpint(&w, &b, &bn) < 0 || w.left)
			return NULL;
		if (hive_wire_is(sigtype, sigtypen, "rsa-sha2-512")) {
			*md = EVP_sha512();
		} else if (hive_wire_is(sigtype, sigtypen, "rsa-sha2-256")) {
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
	struct hive_wire w = {sig, len, 0};
	const unsigned char *r, *s;
	size_t rn, sn;
	ECDSA_SIG *es = NULL;
	BIGNUM *br = NULL, *bs = NULL;
	unsigned char *der = NULL;

	if (hive_wire_mpint(&w, &r, &rn) < 0 || hive_wire_mpint(&w, &s, &sn) < 0 || w.left ||
	    rn > 32 || sn > 32)
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
	struct hive_wire w = {s->sig, s->sig_len, 0};
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
	if (hive_wire_string(&w, &sigtype, &sigtypen) < 0 ||
	    hive_wire_string(&w, &sigdata, &sigdatan) < 0 || w.left)
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
	hive_wire_put_string(data, &o, ns, strlen(ns));
	hive_wire_put_string(data, &o, "", 0);
	hive_wire_put_string(data, &o, s->hash_alg, strlen(s->hash_alg));
	hive_wire_put_string(data, &o, h, hn);
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
