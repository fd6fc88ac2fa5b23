/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The gateway's Ed25519 key files (gw_key.h), all through OpenSSL's PEM. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include "lib/atomic_file.h"
#include "pap/gw_key.h"

/* The PEM of k (private or public) in memory, written as dir/name. */
static int write_pem(const char *dir, const char *name, EVP_PKEY *k, bool priv, mode_t mode)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *data;
	long len;
	int err = -EIO;

	if (b && (priv ? PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL) :
			 PEM_write_bio_PUBKEY(b, k))) {
		len = BIO_get_mem_data(b, &data);
		err = len > 0 ? atomic_write_file(dir, name, data, (size_t)len, mode) : -EIO;
	}
	BIO_free_all(b);
	return err;
}

static EVP_PKEY *read_pem(const char *path, bool priv, int *err)
{
	FILE *f = fopen(path, "re");
	EVP_PKEY *k;

	if (!f) {
		*err = -errno;
		return NULL;
	}
	k = priv ? PEM_read_PrivateKey(f, NULL, NULL, NULL) : PEM_read_PUBKEY(f, NULL, NULL, NULL);
	fclose(f);
	*err = k ? 0 : -EINVAL;
	if (k && EVP_PKEY_get_id(k) != EVP_PKEY_ED25519) {
		EVP_PKEY_free(k);
		k = NULL;
		*err = -EINVAL;
	}
	return k;
}

int pap_gw_pub_write(const char *dir, const char *name, const uint8_t pub[PAP_SIG_KEY_LEN])
{
	EVP_PKEY *k = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub, PAP_SIG_KEY_LEN);
	int err = k ? write_pem(dir, name, k, false, 0644) : -EIO;

	EVP_PKEY_free(k);
	return err;
}

int pap_gw_pub_read(const char *path, uint8_t pub[PAP_SIG_KEY_LEN], char *err,
		    size_t errlen)
{
	size_t len = PAP_SIG_KEY_LEN;
	int rc;
	EVP_PKEY *k = read_pem(path, false, &rc);

	if (k && (!EVP_PKEY_get_raw_public_key(k, pub, &len) || len != PAP_SIG_KEY_LEN))
		rc = -EINVAL;
	EVP_PKEY_free(k);
	if (rc == -EINVAL)
		snprintf(err, errlen, "%s: not an Ed25519 public key in PEM "
			 "(the gateway's %s)", path, PAP_GW_PUB_FILE);
	else if (rc)
		snprintf(err, errlen, "%s: %s", path, strerror(-rc));
	return rc;
}

int pap_gw_key_open(const char *dir, uint8_t seed[PAP_SIG_KEY_LEN],
		    uint8_t pub[PAP_SIG_KEY_LEN], char *err, size_t errlen)
{
	char path[4096];
	size_t slen = PAP_SIG_KEY_LEN, plen = PAP_SIG_KEY_LEN;
	EVP_PKEY *k;
	int rc;

	snprintf(path, sizeof(path), "%s/%s", dir, PAP_GW_KEY_FILE);
	k = read_pem(path, true, &rc);
	if (!k && rc == -ENOENT) {
		k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
		rc = k ? write_pem(dir, PAP_GW_KEY_FILE, k, true, 0600) : -EIO;
	}
	if (!rc && (!EVP_PKEY_get_raw_private_key(k, seed, &slen) ||
		    !EVP_PKEY_get_raw_public_key(k, pub, &plen) ||
		    slen != PAP_SIG_KEY_LEN || plen != PAP_SIG_KEY_LEN))
		rc = -EINVAL;
	/* Always (re)written: the file operators copy to the hosts. */
	if (!rc)
		rc = pap_gw_pub_write(dir, PAP_GW_PUB_FILE, pub);
	EVP_PKEY_free(k);
	if (rc == -EINVAL)
		snprintf(err, errlen, "%s: not an Ed25519 private key in PEM", path);
	else if (rc)
		snprintf(err, errlen, "%s: %s", path, strerror(-rc));
	return rc;
}

void pap_gw_fingerprint(const uint8_t pub[PAP_SIG_KEY_LEN], char out[PAP_GW_FPR_LEN])
{
	uint8_t md[32];
	unsigned int n = 0;

	if (!EVP_Digest(pub, PAP_SIG_KEY_LEN, md, &n, EVP_sha256(), NULL) || n < 16)
		memset(md, 0, sizeof(md));
	for (int i = 0; i < 16; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}
