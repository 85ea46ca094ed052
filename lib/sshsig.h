/* sshsig.h - SSH signatures (OpenSSH's SSHSIG): allowed_signers, armored blocks, verification
 * in-process with libcrypto (sshverify.c), signing through ssh-keygen */
#ifndef HIVE_SSHSIG_H
#define HIVE_SSHSIG_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* The namespace every checkpoint signature is made in (ssh-keygen -Y sign -n). */
#define HIVE_SSHSIG_NAMESPACE "hive-checkpoint"

/*
 * One armored block of a signature file ("-----BEGIN SSH SIGNATURE-----" … "-----END SSH
 * SIGNATURE-----"), decoded: the signer's public key (SSH wire blob), the namespace it was
 * made in, the hash algorithm (sha512 or sha256) and the signature blob. Owned by the
 * array hive_sshsig_parse returns.
 */
struct hive_sshsig {
	unsigned char *key; /* SSH public key blob: string type, then the type's fields */
	size_t key_len;
	char *ns;	    /* namespace, NUL-terminated */
	char hash_alg[16];  /* "sha512" or "sha256" */
	unsigned char *sig; /* string sigtype, string sigdata */
	size_t sig_len;
	size_t line; /* the BEGIN line's number in the file */
};

/*
 * Every armored block of buf, in order, into *out (the caller's; hive_sshsig_free_all) and
 * *n. Text outside blocks is refused: a signature file holds blocks only. HIVE_EUSAGE
 * "LINE: why" for a block that is not SSHSIG version 1 (nothing returned), HIVE_EENV out of
 * memory. An empty buffer is zero blocks.
 */
int hive_sshsig_parse(const char *buf, size_t len, struct hive_sshsig **out, size_t *n,
		      struct hive_err *err);
void hive_sshsig_free_all(struct hive_sshsig *v, size_t n);

/*
 * Does s verify over msg in namespace ns (sshverify.c: the only call that links libcrypto's
 * public-key code; the checker reaches it through hive_checker.verify)? HIVE_OK when it does;
 * HIVE_FAIL with why in err (wrong namespace, unsupported key or signature type, bad signature);
 * never anything else. Keys: ssh-ed25519, ecdsa-sha2-nistp256, ssh-rsa (signatures rsa-sha2-512 or
 * -256).
 */
int hive_sshsig_verify(const struct hive_sshsig *s, const char *ns, const void *msg, size_t len,
		       struct hive_err *err);

/* "ssh-ed25519 SHA256:<base64>" for a public key blob, as ssh-keygen -l shows keys. */
void hive_sshsig_describe(const unsigned char *key, size_t len, char *out, size_t size);

/* typedef'd for hive_checker.verify, which holds hive_sshsig_verify in every gate */
typedef int (*hive_sshsig_verify_fn)(const struct hive_sshsig *s, const char *ns, const void *msg,
				     size_t len, struct hive_err *err);

/* --- the SSH wire format (RFC 4251 5), shared by sshsig.c and sshverify.c ------------------ */

/* A reader over a buffer: every read past the end sets bad and yields nothing. */
struct hive_wire {
	const unsigned char *p;
	size_t left;
	int bad; /* a read ran past the end */
};

uint32_t hive_wire_u32(struct hive_wire *w);
/* A string: *s points into the buffer, *n its length; -1 (bad set) past the end. */
int hive_wire_string(struct hive_wire *w, const unsigned char **s, size_t *n);
/* Is the string s/n exactly the text t? */
int hive_wire_is(const unsigned char *s, size_t n, const char *t);
/* A non-negative mpint, without its sign byte (-1: negative, or past the end). */
int hive_wire_mpint(struct hive_wire *w, const unsigned char **s, size_t *n);
/* Append string s/n at out + *o (the caller sized out), advancing *o. */
void hive_wire_put_string(unsigned char *out, size_t *o, const void *s, size_t n);

/* --- allowed_signers (ssh-keygen(1) ALLOWED SIGNERS, git's gpg.ssh.allowedSignersFile) --- */

struct hive_signers;

/*
 * Parse an allowed_signers file: one "principals [options] keytype base64-key [comment]"
 * a line; '#' lines and blank lines skipped. Options understood: namespaces="…" (patterns
 * as ssh-keygen matches them), valid-after, valid-before (YYYYMMDD[HHMM[SS]][Z]); a
 * cert-authority line is skipped (hive verifies plain keys). *out is the caller's
 * (hive_signers_free). HIVE_EUSAGE "NAME:LINE: why" for a line it cannot read.
 */
int hive_signers_parse(const char *name, const char *buf, size_t len, struct hive_signers **out,
		       struct hive_err *err);

/* The same from a file: a missing or unreadable file is HIVE_EUSAGE naming shown. */
int hive_signers_load(const char *path, const char *shown, struct hive_signers **out,
		      struct hive_err *err);

/* The principals of the first line that holds key for namespace ns and is valid now, or
 * NULL (borrowed: lives as long as a). */
const char *hive_signers_find(const struct hive_signers *a, const unsigned char *key, size_t len,
			      const char *ns);

void hive_signers_free(struct hive_signers *a);

/* --- signing ---------------------------------------------------------------------------- */

/*
 * Sign msg in namespace ns with the key at keypath by running `ssh-keygen -Y sign -n NS -f
 * KEYPATH` (posix_spawnp, no shell; msg on its standard input, the signature read from its
 * standard output; an agent holding the key works as it does for ssh-keygen). *out (the
 * caller's, NUL-terminated) is the armored block. HIVE_EENV with ssh-keygen's own message
 * when it cannot be run or fails; nothing is written to disk.
 */
int hive_sshsig_sign(const char *keypath, const char *ns, const void *msg, size_t len, char **out,
		     size_t *outlen, struct hive_err *err);

#endif
