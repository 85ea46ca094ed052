/* test_sshsig.c - unit tests for lib/sshsig.c: armored blocks, allowed_signers, and
 * verification of signatures made at test time by ssh-keygen (keys generated in a temporary
 * folder: no key material is committed) */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../lib/sshsig.h"
#include "../../lib/util.h"

static char dir[64];

static const char *const kinds[] = {"ed25519", "ecdsa", "rsa"};

static int make_keys(void **state)
{
	char cmd[512];
	size_t i;

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/hive-sshsig-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	for (i = 0; i < 3; i++) {
		snprintf(cmd, sizeof(cmd), "ssh-keygen -q -t %s %s -N '' -C %s -f %s/%s", kinds[i],
			 i == 1	  ? "-b 256"
			 : i == 2 ? "-b 2048"
				  : "",
			 kinds[i], dir, kinds[i]);
		if (system(cmd) != 0)
			return -1;
	}
	return 0;
}

static int remove_keys(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* The public key file of kind i, whole ("type base64 comment\n"), into *out (the caller's). */
static void pubkey(size_t i, char **out)
{
	struct hive_err err = {0};
	char path[128];
	size_t len;

	snprintf(path, sizeof(path), "%s/%s.pub", dir, kinds[i]);
	assert_int_equal(hive_read_file(AT_FDCWD, path, 0, 65536, out, &len, &err), HIVE_OK);
}

static void sign(size_t i, const char *ns, const char *msg, struct hive_sshsig **v, size_t *n)
{
	struct hive_err err = {0};
	char key[128], *sig = NULL;
	size_t len;

	snprintf(key, sizeof(key), "%s/%s", dir, kinds[i]);
	assert_int_equal(hive_sshsig_sign(key, ns, msg, strlen(msg), &sig, &len, &err), HIVE_OK);
	assert_int_equal(hive_sshsig_parse(sig, len, v, n, &err), HIVE_OK);
	assert_int_equal(*n, 1);
	free(sig);
}

static void test_sign_and_verify_each_kind(void **state)
{
	static const char *types[] = {
		"ssh-ed25519 SHA256:", "ecdsa-sha2-nistp256 SHA256:", "ssh-rsa SHA256:"};
	struct hive_err err = {0};
	struct hive_sshsig *v = NULL;
	char who[128];
	size_t i, n;

	(void)state;
	for (i = 0; i < 3; i++) {
		sign(i, HIVE_SSHSIG_NAMESPACE, "hive-checkpoint/v1\nsession s\n", &v, &n);
		assert_string_equal(v[0].ns, HIVE_SSHSIG_NAMESPACE);
		assert_string_equal(v[0].hash_alg, "sha512");
		assert_int_equal(v[0].line, 1);
		hive_sshsig_describe(v[0].key, v[0].key_len, who, sizeof(who));
		assert_int_equal(strncmp(who, types[i], strlen(types[i])), 0);
		assert_int_equal(hive_sshsig_verify(&v[0], HIVE_SSHSIG_NAMESPACE,
						    "hive-checkpoint/v1\nsession s\n", 29, &err),
				 HIVE_OK);
		/* one byte of the message changed */
		assert_int_equal(hive_sshsig_verify(&v[0], HIVE_SSHSIG_NAMESPACE,
						    "hive-checkpoint/v1\nsession t\n", 29, &err),
				 HIVE_FAIL);
		assert_string_equal(err.msg, "the signature does not verify: the signed bytes "
					     "differ from these");
		/* one bit of the signature changed */
		v[0].sig[v[0].sig_len - 5] ^= 1;
		assert_int_equal(hive_sshsig_verify(&v[0], HIVE_SSHSIG_NAMESPACE,
						    "hive-checkpoint/v1\nsession s\n", 29, &err),
				 HIVE_FAIL);
		/* asked for another namespace */
		assert_int_equal(hive_sshsig_verify(&v[0], "git", "x", 1, &err), HIVE_FAIL);
		assert_string_equal(err.msg, "made in namespace \"hive-checkpoint\", not git");
		hive_sshsig_free_all(v, n);
	}
}

static void test_parse_refuses(void **state)
{
	struct hive_err err = {0};
	struct hive_sshsig *v = (void *)1;
	size_t n = 7;

	(void)state;
	assert_int_equal(hive_sshsig_parse("", 0, &v, &n, &err), HIVE_OK);
	assert_int_equal(n, 0);
	assert_int_equal(hive_sshsig_parse("hello\n", 6, &v, &n, &err), HIVE_EUSAGE);
	assert_string_equal(err.msg, "1: text outside a -----BEGIN SSH SIGNATURE----- block");
	assert_null(v);
	assert_int_equal(
		hive_sshsig_parse("-----BEGIN SSH SIGNATURE-----\nAAAA\n", 35, &v, &n, &err),
		HIVE_EUSAGE);
	assert_string_equal(err.msg, "1: the signature block has no END line");
	assert_int_equal(hive_sshsig_parse("\n-----BEGIN SSH SIGNATURE-----\n!!!!\n-----END SSH "
					   "SIGNATURE-----\n",
					   64, &v, &n, &err),
			 HIVE_EUSAGE);
	assert_string_equal(err.msg, "2: the signature is not base64");
	/* "NOTSIG" + version 1 */
	assert_int_equal(hive_sshsig_parse("-----BEGIN SSH SIGNATURE-----\nTk9UU0lHAAAAAQ==\n-----"
					   "END SSH SIGNATURE-----\n",
					   76, &v, &n, &err),
			 HIVE_EUSAGE);
	assert_string_equal(err.msg, "1: not an SSHSIG signature (no magic)");
	/* "SSHSIG" + version 2 */
	assert_int_equal(hive_sshsig_parse("-----BEGIN SSH SIGNATURE-----\nU1NIU0lHAAAAAg==\n-----"
					   "END SSH SIGNATURE-----\n",
					   76, &v, &n, &err),
			 HIVE_EUSAGE);
	assert_string_equal(err.msg, "1: SSHSIG version is not 1");
	/* "SSHSIG" + version 1, then nothing */
	assert_int_equal(hive_sshsig_parse("-----BEGIN SSH SIGNATURE-----\nU1NIU0lHAAAAAQ==\n-----"
					   "END SSH SIGNATURE-----\n",
					   76, &v, &n, &err),
			 HIVE_EUSAGE);
	assert_string_equal(err.msg, "1: the signature blob is cut short or has trailing bytes");
}

static void test_signers(void **state)
{
	struct hive_err err = {0};
	struct hive_signers *a = NULL;
	struct hive_sshsig *v[3] = {NULL};
	char *pub[3], *text = NULL, *f[3];
	size_t n[3], i;

	(void)state;
	for (i = 0; i < 3; i++) {
		char *sp;
		pubkey(i, &pub[i]);
		sp = strrchr(pub[i], ' ');
		assert_non_null(sp);
		sp[0] = '\0'; /* drop the comment */
		f[i] = pub[i];
		sign(i, HIVE_SSHSIG_NAMESPACE, "m", &v[i], &n[i]);
	}
	/* ed25519 for hive-checkpoint only; ecdsa for git only; rsa expired; a comment, a
	 * blank line and a cert-authority line are skipped */
	assert_true(
		asprintf(&text,
			 "# who may sign\n\n"
			 "alice@x,ops@x namespaces=\"hive-checkpoint,other\" %s alice's laptop\n"
			 "bob@x namespaces=\"git\" %s\n"
			 "carol@x valid-before=\"20200101Z\" %s\n"
			 "*@ca.example cert-authority %s\n",
			 f[0], f[1], f[2], f[0]) > 0);
	assert_int_equal(hive_signers_parse("signers", text, strlen(text), &a, &err), HIVE_OK);
	assert_string_equal(hive_signers_find(a, v[0]->key, v[0]->key_len, HIVE_SSHSIG_NAMESPACE),
			    "alice@x,ops@x");
	assert_null(hive_signers_find(a, v[0]->key, v[0]->key_len, "git"));
	assert_null(hive_signers_find(a, v[1]->key, v[1]->key_len, HIVE_SSHSIG_NAMESPACE));
	assert_string_equal(hive_signers_find(a, v[1]->key, v[1]->key_len, "git"), "bob@x");
	assert_null(hive_signers_find(a, v[2]->key, v[2]->key_len, HIVE_SSHSIG_NAMESPACE));
	hive_signers_free(a);
	free(text);

	/* valid-after in the past, namespaces with a pattern */
	assert_true(asprintf(&text, "carol@x valid-after=\"20200101\",namespaces=\"hive-*\" %s\n",
			     f[2]) > 0);
	assert_int_equal(hive_signers_parse("signers", text, strlen(text), &a, &err), HIVE_OK);
	assert_string_equal(hive_signers_find(a, v[2]->key, v[2]->key_len, HIVE_SSHSIG_NAMESPACE),
			    "carol@x");
	hive_signers_free(a);
	free(text);

	/* lines it cannot read, by number */
	assert_int_equal(hive_signers_parse("s", "\nalice\n", 7, &a, &err), HIVE_EUSAGE);
	assert_string_equal(err.msg, "s:2: no key type and key");
	assert_null(a);
	/* found by fuzz_sshsig: a NUL byte inside a line ending in \r read past the copy */
	assert_int_equal(hive_signers_parse("s", "#\n\0\r\n", 5, &a, &err), HIVE_EUSAGE);
	assert_string_equal(err.msg, "s:2: a NUL byte");
	assert_int_equal(hive_signers_parse("s", "a ssh-ed25519 !!!\n", 18, &a, &err), HIVE_EUSAGE);
	assert_string_equal(err.msg, "s:1: the key is not base64");
	assert_true(asprintf(&text, "a ecdsa-sha2-nistp256 %s\n", strchr(f[0], ' ') + 1) > 0);
	assert_int_equal(hive_signers_parse("s", text, strlen(text), &a, &err), HIVE_EUSAGE);
	assert_string_equal(err.msg, "s:1: the key does not match its key type");
	free(text);
	assert_true(asprintf(&text, "a verify-required %s\n", f[0]) > 0);
	assert_int_equal(hive_signers_parse("s", text, strlen(text), &a, &err), HIVE_EUSAGE);
	assert_string_equal(err.msg, "s:1: an unknown option (known: namespaces, valid-after, "
				     "valid-before, cert-authority)");
	free(text);
	assert_true(asprintf(&text, "a valid-before=\"tomorrow\" %s\n", f[0]) > 0);
	assert_int_equal(hive_signers_parse("s", text, strlen(text), &a, &err), HIVE_EUSAGE);
	assert_string_equal(err.msg, "s:1: valid-before is not YYYYMMDD[HHMM[SS]][Z]");
	free(text);
	for (i = 0; i < 3; i++) {
		hive_sshsig_free_all(v[i], n[i]);
		free(pub[i]);
	}
}

static void test_sign_failure(void **state)
{
	struct hive_err err = {0};
	char key[128], *sig = (char *)1;
	size_t len = 9;

	(void)state;
	snprintf(key, sizeof(key), "%s/no-such-key", dir);
	assert_int_equal(hive_sshsig_sign(key, HIVE_SSHSIG_NAMESPACE, "m", 1, &sig, &len, &err),
			 HIVE_EENV);
	assert_null(sig);
	assert_int_equal(len, 0);
	assert_non_null(strstr(err.msg, "ssh-keygen -Y sign -f "));
	assert_non_null(strstr(err.msg, "no-such-key failed"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sign_and_verify_each_kind),
		cmocka_unit_test(test_parse_refuses),
		cmocka_unit_test(test_signers),
		cmocka_unit_test(test_sign_failure),
	};
	return cmocka_run_group_tests_name("sshsig", tests, make_keys, remove_keys);
}
