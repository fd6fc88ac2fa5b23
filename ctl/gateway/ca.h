/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The gateway's local certificate authority (US 7,032,242 claims 28, 34, 36; docs/design.md): it
 * certifies a host's public key together with the global address G and the
 * ports of G the host holds, so an external IKE peer can check that the
 * host speaking from G:port really owns that port. OpenSSL 3 does all the
 * cryptography and ASN.1. No sockets, no PAP framing: xdnatd feeds it the
 * CSR from a CERT request and puts the result in the CERT reply.
 *
 * Files in state_dir (docs/ca.md): ca.key (0600) and ca.crt when the CA is
 * our own, crl.list (revoked serials and the CRL number) and crl.pem.
 * The profile the host reads back (portBlocks, serials, PEM, key files) is
 * pap/cert_profile.h. The code: ca.c opens the CA, ca_issue.c issues,
 * ca_crl.c keeps the revocation list.
 *
 * Not thread-safe: the caller serialises every call on one struct ca.
 */
#ifndef XDNAT_CA_H
#define XDNAT_CA_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include "pap/cert_profile.h"
#include "pap/pap.h"

struct ca;

/*
 * Open the CA. Without cert_file/key_file (both NULL): load state_dir/ca.key
 * and state_dir/ca.crt, creating them on the first start (ECDSA P-256, CN
 * "xdnat local CA <G dotted>", or the hostname when global_be is 0). With
 * both: the site's CA (cert_file may hold a chain, the signing CA first);
 * state_dir still holds the CRL. Refuses a key readable by group or others,
 * a key that does not match the certificate, a certificate that is not a
 * CA or has expired, an out-of-order chain, unreadable or garbage files:
 * returns -errno and a one-line reason naming the file in err.
 */
int ca_open(const char *state_dir, const char *cert_file, const char *key_file,
	    uint32_t global_be, struct ca **out, char *err, size_t errlen);
void ca_close(struct ca *ca);
/* What every host certificate issued from now on names: the CRL
 * distribution point crl_url (RFC 5280 4.2.1.13; NULL: none) and the
 * portBlocks extension's OID (NULL: CERT_OID_PORT_BLOCKS). 0 or -ENOMEM. */
int ca_set_profile(struct ca *ca, const char *crl_url, const char *port_blocks_oid);

/*
 * Issue a certificate for the host's key in csr_der (profile in docs/ca.md):
 * subject O=xdnat, CN=<client_id>@<G>; SAN IP:G and
 * URI:xdnat://<G>/ports/<first>-<last>[,...]; the portBlocks extension.
 * Only the blocks of ports[0..n_ports-1] on G = global_be count (ascending
 * in the certificate); names and extensions asked for in the CSR are
 * ignored. Validity: now - 60 s .. min(not_after_unix, notAfter of every CA
 * cert). Returns 0 with a DER certificate in *cert_der (free with
 * OPENSSL_free) and its serial, or -errno with *pap_err set to the code for
 * the ERROR reply:
 *   -EBADMSG  PAP_E_BAD_CSR    garbage DER, trailing bytes, bad signature
 *   -EPROTONOSUPPORT PAP_E_BAD_KEY  not ECDSA P-256/P-384 or RSA >= 2048
 *   -ENOENT   PAP_E_NO_PORTS   no block of G (or global_be is 0)
 *   -EINVAL / -ENOMEM / -EIO  PAP_E_INTERNAL
 */
int ca_issue(struct ca *ca, const uint8_t *csr_der, size_t csr_len, uint32_t client_id,
	     uint32_t global_be, const struct pap_port_range *ports, unsigned int n_ports,
	     uint64_t not_after_unix, uint8_t **cert_der, size_t *cert_len,
	     struct cert_serial *serial_out, int *pap_err);

/*
 * Put serial on the CRL (revoked at when; 0 = now), persist crl.list and
 * republish crl.pem. Revoking a serial twice keeps the first date. 0, or
 * -errno with the reason in err: when crl.list could not be written the
 * serial is not revoked; when only crl.pem failed it is (the list is the
 * record, ca_crl_der() serves the new CRL, the next publish rewrites it).
 */
int ca_revoke(struct ca *ca, const struct cert_serial *serial, time_t when,
	      char *err, size_t errlen);
/* The same for a certificate whose notAfter is at most expires: its entry
 * leaves the CRL once a CRL issued after expires has listed it (RFC 5280,
 * 3.3), so a CRL holds only certificates that could still be used. ca_revoke()
 * is expires 0: listed for ever. */
int ca_revoke_until(struct ca *ca, const struct cert_serial *serial, time_t when,
		    time_t expires, char *err, size_t errlen);
/* Serials on the current revocation list. */
size_t ca_revoked_count(const struct ca *ca);
/* Sign a fresh CRL (next crlNumber, nextUpdate = now + 1 day) and write
 * crl.list and crl.pem. ca_open() and ca_revoke() call it; the daemon calls
 * it at least twice a day. 0 or -errno. */
int ca_crl_publish(struct ca *ca, char *err, size_t errlen);
/* The current CRL in DER (malloc'd); republished first when over half its
 * life. 0 or -errno. */
int ca_crl_der(struct ca *ca, uint8_t **der, size_t *len);

/* The CA chain (signing CA first, then its issuers as given) in PEM, one
 * malloc'd NUL-terminated string: what `xdnatctl ca` prints. 0 or -errno. */
int ca_chain_pem(struct ca *ca, char **pem, size_t *len);
/* The CA chain in DER for a CERT reply (after the leaf): der[i] points into
 * ca, valid until ca_close(). Returns the count, or -ENOSPC when over max. */
int ca_chain_der(const struct ca *ca, const uint8_t **der, size_t *lens,
		 unsigned int max);

#endif
