/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * PAP — the Port Allocation Protocol between xdnat hosts and the gateway.
 * Wire format (all integers big-endian), documented byte by byte in docs/pap.md:
 *
 *   header (16 bytes): version u8 | type u8 | length u16 (whole datagram)
 *                      | xid u32 | client_id u32 | seq u32
 *   then TLV parameters: type u8 | length u16 | value[length]   (no padding)
 *   AUTH (HMAC-SHA256, 32 bytes), when present, is the last parameter and covers
 *   every byte before its value (header with the final length, all parameters,
 *   and AUTH's own type and length bytes).
 *
 * This header is the codec's API; it holds no I/O and no daemon state.
 */
#ifndef XDNAT_PAP_H
#define XDNAT_PAP_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#define PAP_VERSION		1
#define PAP_DEFAULT_PORT	4555		/* IANA's rsip port; --pap-port */
#define PAP_HDR_LEN		16
#define PAP_TLV_HDR_LEN		3
#define PAP_MAX_MSG		16384		/* largest datagram we send or accept */
#define PAP_MAC_LEN		32		/* HMAC-SHA256 */
#define PAP_KEY_LEN		32		/* per-host secret and X25519 keys */
#define PAP_MAX_TEXT		255		/* ERROR message text */
#define PAP_MAX_DER		8192		/* CSR / certificate / chain / CRL */
#define PAP_MAX_RANGES		16		/* PORT_RANGE or SPI_RANGE params in one message */
#define PAP_MAX_SAS		64		/* SA params in one message (QUERY reply) */
#define PAP_COOKIE_LEN		16		/* truncated HMAC-SHA256 */
#define PAP_SIG_KEY_LEN		32		/* Ed25519 public key */
#define PAP_SIG_LEN		64		/* Ed25519 signature */
#define PAP_GW_SIG_LEN		(PAP_SIG_KEY_LEN + PAP_SIG_LEN)
#define PAP_CRL_CHUNK		PAP_MAX_DER	/* CRL bytes in one CRL reply */
#define PAP_MAX_CRL		(4u << 20)	/* a whole CRL, reassembled */
#define PAP_MIN_MTU		68		/* RFC 791: every IPv4 link carries this */

/* Message types: a request is even, its reply is request + 1. */
enum pap_type {
	PAP_ERROR		= 1,
	PAP_REGISTER		= 2,
	PAP_REGISTER_REPLY	= 3,
	PAP_PORT		= 4,
	PAP_PORT_REPLY		= 5,
	PAP_SPI			= 6,
	PAP_SPI_REPLY		= 7,
	PAP_CERT		= 8,
	PAP_CERT_REPLY		= 9,
	PAP_EXT_VALIDATE	= 10,
	PAP_EXT_VALIDATE_REPLY	= 11,
	PAP_EXT_INVALIDATE	= 12,
	PAP_EXT_INVALIDATE_REPLY = 13,
	PAP_EXTEND		= 14,
	PAP_EXTEND_REPLY	= 15,
	PAP_FREE		= 16,
	PAP_FREE_REPLY		= 17,
	PAP_DEREGISTER		= 18,
	PAP_DEREGISTER_REPLY	= 19,
	PAP_QUERY		= 20,
	PAP_QUERY_REPLY		= 21,
	PAP_NATT		= 22,
	PAP_NATT_REPLY		= 23,
	PAP_CRL			= 24,
	PAP_CRL_REPLY		= 25,
	PAP_TYPE_MAX		= 25,
};

/* Parameter (TLV) types and their value layouts. */
enum pap_param {
	PAP_P_GLOBAL_ADDR	= 1,	/* 4: IPv4 address (network order) */
	PAP_P_PORT_RANGE	= 2,	/* 8: global addr 4 | first u16 | last u16 */
	PAP_P_SPI_RANGE		= 3,	/* 12: global addr 4 | first u32 | last u32 */
	PAP_P_COUNT		= 4,	/* 4: u32 number of ports or SPIs wanted */
	PAP_P_PEER_ADDR		= 5,	/* 4: external peer IPv4 address */
	PAP_P_LEASE		= 6,	/* 4: u32 seconds */
	PAP_P_PUBKEY		= 7,	/* 32: X25519 public key */
	PAP_P_ERROR_CODE	= 8,	/* 2: u16 enum pap_err */
	PAP_P_MESSAGE		= 9,	/* 0..255: UTF-8 text, not NUL terminated */
	PAP_P_CSR		= 10,	/* 1..8192: PKCS#10 DER */
	PAP_P_CERT		= 11,	/* 1..8192: X.509 DER (repeatable: leaf, then chain) */
	PAP_P_SA		= 12,	/* 12: peer 4 | spi first u32 | spi last u32 */
	PAP_P_AUTH		= 13,	/* 32: HMAC-SHA256, always last */
	PAP_P_REQ_TYPE		= 14,	/* 1: u8 type of the request an ERROR answers */
	PAP_P_NATT_PORT		= 15,	/* 2: u16 port carrying ESP-in-UDP, 0 = none */
	PAP_P_CRL		= 16,	/* 1..8192: X.509 CRL DER, or one chunk of it */
	PAP_P_EXT_MTU		= 17,	/* 2: u16 MTU of the gateway's external link, >= 68 */
	PAP_P_OFFSET		= 18,	/* 4: u32 byte offset of a CRL chunk */
	PAP_P_TOTAL		= 19,	/* 4: u32 length of the whole CRL DER */
	PAP_P_CRL_ID		= 20,	/* 32: SHA-256 of the whole CRL DER */
	PAP_P_COOKIE		= 21,	/* 16: return-routability cookie (REGISTER, ERROR) */
	PAP_P_TOKEN_ID		= 22,	/* 4: u32 enrolment token id, >= 1 (REGISTER) */
	PAP_P_GW_SIG		= 23,	/* 96: gateway Ed25519 key 32 | signature 64 */
	PAP_P_MAX		= 23,
};

/* The type's high bit says what a receiver that does not know the type does:
 * clear (1..127, every type of v1 and since) critical, refuse the datagram
 * with UNKNOWN_PARAM; set (128..255) skip it, bounds still checked and AUTH
 * still covering it. A new type an old peer may ignore takes a number with
 * the bit set (docs/pap.md, "Unknown parameters"). */
#define PAP_P_SKIPPABLE		0x80

/* Error codes carried in PAP_P_ERROR_CODE; decode errors are also returned
 * negated by pap_decode(). Numbers are wire values: never renumber. */
enum pap_err {
	PAP_OK			= 0,
	/* 1..19: the datagram itself is malformed */
	PAP_E_TRUNCATED_HEADER	= 1,	/* shorter than the 16-byte header */
	PAP_E_LENGTH_MISMATCH	= 2,	/* header length != datagram length */
	PAP_E_BAD_VERSION	= 3,
	PAP_E_BAD_TYPE		= 4,	/* unknown message type */
	PAP_E_TRUNCATED_PARAM	= 5,	/* a TLV runs past the end */
	PAP_E_UNKNOWN_PARAM	= 6,	/* parameter type not defined */
	PAP_E_UNEXPECTED_PARAM	= 7,	/* defined, but not allowed in this message */
	PAP_E_MISSING_PARAM	= 8,
	PAP_E_DUPLICATE_PARAM	= 9,	/* a single-valued parameter given twice */
	PAP_E_BAD_PARAM_LEN	= 10,	/* wrong length for a fixed-size parameter */
	PAP_E_OVERSIZED_PARAM	= 11,	/* variable-size parameter over its maximum */
	PAP_E_TOO_MANY		= 12,	/* more repeated parameters than fit */
	PAP_E_BAD_VALUE		= 13,	/* e.g. first > last, count 0, SPI < 256 */
	PAP_E_AUTH_NOT_LAST	= 14,	/* AUTH present but not the last parameter */
	/* 20..29: authentication */
	PAP_E_AUTH_FAILED	= 20,	/* missing or wrong HMAC */
	PAP_E_REPLAY		= 21,	/* sequence number not above the last one */
	PAP_E_REGISTER_FIRST	= 22,	/* unknown client id: register (again) */
	PAP_E_SITE_KEY		= 23,	/* site key or token required and missing or wrong */
	PAP_E_COOKIE		= 24,	/* REGISTER again with the COOKIE this carries */
	/* 30..39: allocation and ownership */
	PAP_E_NO_RESOURCES	= 30,	/* nothing free at all */
	PAP_E_QUOTA		= 31,	/* per-host quota reached */
	PAP_E_NOT_OWNER		= 32,	/* names ports/SPIs the host does not hold */
	PAP_E_NOT_FOUND		= 33,	/* nothing matched (e.g. invalidate) */
	PAP_E_TOO_MANY_HOSTS	= 34,
	PAP_E_TABLE_FULL	= 35,	/* per-host range or SA table full */
	PAP_E_BUDGET		= 36,	/* the host's SA budget (--sa-budget) spent */
	PAP_E_RATE_LIMITED	= 37,	/* too many such requests: try later */
	/* 40..49: gateway side */
	PAP_E_NOT_IMPLEMENTED	= 40,
	PAP_E_INTERNAL		= 41,	/* e.g. the state could not be persisted */
	/* 50..59: certificates */
	PAP_E_BAD_CSR		= 50,	/* not PKCS#10 DER, or a bad signature */
	PAP_E_BAD_KEY		= 51,	/* key type or size refused */
	PAP_E_NO_PORTS		= 52,	/* the host holds no port of G to certify */
	PAP_E_MAX		= 52,
};

struct pap_port_range {
	uint32_t global;	/* network order */
	uint16_t first, last;	/* host order, inclusive */
};

struct pap_spi_range {
	uint32_t global;	/* network order */
	uint32_t first, last;	/* host order, inclusive */
};

struct pap_sa {
	uint32_t peer;		/* network order */
	uint32_t spi_first, spi_last;
};

#define PAP_BIT(p)	(1u << (p))

/* A decoded message. Pointers (csr, certs, crl, message) point into the
 * datagram. */
struct pap_msg {
	uint8_t version, type;
	uint16_t length;
	uint32_t xid, client_id, seq;
	uint32_t present;		/* PAP_BIT(param) for each parameter seen */

	uint32_t globals[PAP_MAX_RANGES];	/* GLOBAL_ADDR, network order */
	uint8_t n_globals;
	uint32_t count, peer, lease;
	uint8_t pubkey[PAP_KEY_LEN];
	uint16_t error_code;
	uint8_t req_type;
	uint16_t natt_port;
	uint16_t ext_mtu;		/* EXT_MTU; 0: absent (an older gateway) */
	const char *message;
	uint16_t message_len;
	const uint8_t *csr;
	uint16_t csr_len;
	const uint8_t *certs[4];
	uint16_t cert_lens[4];
	uint8_t n_certs;
	const uint8_t *crl;
	uint16_t crl_len;
	uint8_t cookie[PAP_COOKIE_LEN];
	uint32_t token_id;
	uint8_t gw_sig[PAP_GW_SIG_LEN];	/* GW_SIG: key | signature */
	uint32_t offset, total;		/* CRL chunks */
	uint8_t crl_id[PAP_MAC_LEN];

	struct pap_port_range ports[PAP_MAX_RANGES];
	uint8_t n_ports;
	struct pap_spi_range spis[PAP_MAX_RANGES];
	uint8_t n_spis;
	struct pap_sa sas[PAP_MAX_SAS];
	uint8_t n_sas;

	uint16_t auth_off;		/* offset of the AUTH value, 0 if absent */
	uint16_t n_skipped;		/* unknown skippable parameters passed over */
	uint16_t skipped_len;		/* their bytes, TLV headers included */
};

/*
 * Decode and validate one datagram against the schema of its type.
 * Never reads outside buf[0..len). Returns 0, or -enum pap_err.
 * When the header parsed (return is not -PAP_E_TRUNCATED_HEADER), m->type,
 * m->xid, m->client_id and m->seq are filled so an ERROR can echo them.
 */
int pap_decode(const uint8_t *buf, size_t len, struct pap_msg *m);

/* True when m carries an AUTH parameter whose HMAC-SHA256 under key verifies. */
bool pap_verify(const uint8_t *buf, const struct pap_msg *m,
		const uint8_t *key, size_t key_len);

/* Encoder: build into a caller buffer; errors are sticky and reported by
 * pap_finish(). */
struct pap_writer {
	uint8_t *buf;
	size_t cap, len;
	int err;		/* 0 or -ENOSPC / -EINVAL */
};

void pap_begin(struct pap_writer *w, uint8_t *buf, size_t cap, uint8_t type,
	       uint32_t xid, uint32_t client_id, uint32_t seq);
void pap_put(struct pap_writer *w, uint8_t param, const void *val, uint16_t len);
void pap_put_u8(struct pap_writer *w, uint8_t param, uint8_t v);
void pap_put_u16(struct pap_writer *w, uint8_t param, uint16_t v);
void pap_put_u32(struct pap_writer *w, uint8_t param, uint32_t v);
void pap_put_addr(struct pap_writer *w, uint8_t param, uint32_t addr_be);
void pap_put_port_range(struct pap_writer *w, const struct pap_port_range *r);
void pap_put_spi_range(struct pap_writer *w, const struct pap_spi_range *r);
void pap_put_sa(struct pap_writer *w, const struct pap_sa *sa);
/* Sets the header length and, when key is non-NULL, appends AUTH.
 * Returns the datagram length, or -ENOSPC / -EINVAL. */
int pap_finish(struct pap_writer *w, const uint8_t *key, size_t key_len);

/* Encode a whole message from a decoded-message struct: the header fields,
 * every repeated parameter n_* times, every single-valued one whose PAP_BIT is
 * in present, in parameter-type order, then AUTH when key is non-NULL (the
 * AUTH bit and auth_off of m are ignored). No schema check: pap_decode() is
 * the validator. Returns the datagram length or -ENOSPC / -EINVAL / -EIO. */
int pap_encode_msg(uint8_t *buf, size_t cap, const struct pap_msg *m,
		   const uint8_t *key, size_t key_len);

/* NULL when two decoded messages carry the same content (variable-size values
 * compared by bytes, not pointers), else the name of the first differing
 * field. For tests and the fuzzer's re-encode check. */
const char *pap_msg_diff(const struct pap_msg *a, const struct pap_msg *b);

/* Build a complete ERROR reply echoing the request's xid, client id and seq.
 * key may be NULL (unauthenticated error); req may be NULL (zeros echoed).
 * text NULL means pap_err_text(code); longer text is cut to 255 bytes. REQ_TYPE
 * is omitted when req_type is not a valid type. Returns length or -errno. */
int pap_build_error(uint8_t *buf, size_t cap, const struct pap_msg *req,
		    uint8_t req_type, enum pap_err code, const char *text,
		    const uint8_t *key, size_t key_len);

/* HMAC-SHA256 helper (OpenSSL). Returns 0, -EINVAL (NULL or empty key) or -EIO. */
int pap_hmac(const uint8_t *key, size_t key_len, const uint8_t *data,
	     size_t len, uint8_t out[PAP_MAC_LEN]);

/* REGISTER key agreement (X25519 + HKDF-SHA256, OpenSSL). */
int pap_x25519_keygen(uint8_t priv[PAP_KEY_LEN], uint8_t pub[PAP_KEY_LEN]);
/* secret = HKDF-SHA256(ikm = X25519(priv, peer_pub), salt = site key, token
 * secret or empty, info = "xdnat-pap-v2" | client_id be32 | host_addr (the
 * host's IPv4 address, network order) | host_pub | gw_pub). */
int pap_derive_secret(const uint8_t priv[PAP_KEY_LEN],
		      const uint8_t peer_pub[PAP_KEY_LEN],
		      const uint8_t host_pub[PAP_KEY_LEN],
		      const uint8_t gw_pub[PAP_KEY_LEN], uint32_t client_id,
		      uint32_t host_addr, const uint8_t *site_key,
		      size_t site_key_len, uint8_t secret[PAP_KEY_LEN]);

/*
 * The gateway's signature over a REGISTER_REPLY (GW_SIG): Ed25519 over
 * "xdnat-pap-v2 register-reply" | xid | client_id | host_addr | host_pub |
 * gw_pub (the reply's PUBKEY) | lease | each GLOBAL_ADDR, all as on the wire.
 * The host checks it against the key it pins (docs/pap.md). sign_seed: the
 * 32-byte Ed25519 private key. 0, -EINVAL or -EIO.
 */
int pap_ed25519_pub(const uint8_t seed[PAP_SIG_KEY_LEN], uint8_t pub[PAP_SIG_KEY_LEN]);
int pap_sign_register_reply(const uint8_t seed[PAP_SIG_KEY_LEN],
			    const struct pap_msg *reply, uint32_t host_addr,
			    const uint8_t host_pub[PAP_KEY_LEN],
			    uint8_t gw_sig[PAP_GW_SIG_LEN]);
/* True when reply carries GW_SIG, by the key in it, over what it says for
 * host_addr and host_pub. Whether that key is the right one is the caller's
 * (pinned) business. */
bool pap_verify_register_reply(const struct pap_msg *reply, uint32_t host_addr,
			       const uint8_t host_pub[PAP_KEY_LEN]);
/* The REGISTER cookie: HMAC-SHA256(secret, "xdnat-pap-v2 cookie" | addr |
 * port | host_pub | slot be64), first 16 bytes. */
int pap_cookie(const uint8_t secret[PAP_KEY_LEN], uint32_t addr, uint16_t port,
	       const uint8_t host_pub[PAP_KEY_LEN], uint64_t slot,
	       uint8_t cookie[PAP_COOKIE_LEN]);

/* True when an ERROR with code, answering a request of req_type, may come
 * without AUTH: anything to REGISTER (no secret yet), and to other requests
 * only register-first, auth-failed and malformed-datagram codes (1..19). The
 * gateway signs every other ERROR; a client ignores them unsigned. */
bool pap_error_may_be_unsigned(uint8_t req_type, int code);

const char *pap_type_name(uint8_t type);
const char *pap_err_name(int code);	/* "truncated-header", ... */
const char *pap_err_text(int code);	/* one-line human text */

#endif
