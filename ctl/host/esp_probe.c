// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Does this kernel do ESP? An XFRM_MSG_NEWSA in a throwaway namespace. */
#include <errno.h>
#include <stddef.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/netlink.h>
#include <linux/xfrm.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include "host/esp_probe.h"

#define KEY_ENC		16	/* AES-128 */
#define KEY_AUTH	32	/* HMAC-SHA256 */

/* The child's exit status: what the kernel said. */
enum { PROBE_ESP = 0, PROBE_NO_ESP = 1, PROBE_NO_NS = 2, PROBE_FAILED = 3 };

/* XFRM_MSG_NEWSA: the SA, then two attributes, each a header, an xfrm_algo
 * (flexible array: the key follows) and the key. All 4-byte multiples. */
#define ENC_LEN		(NLA_HDRLEN + sizeof(struct xfrm_algo) + KEY_ENC)
#define AUTH_LEN	(NLA_HDRLEN + sizeof(struct xfrm_algo_auth) + KEY_AUTH)
#define MSG_LEN		(NLMSG_LENGTH(sizeof(struct xfrm_usersa_info)) + ENC_LEN + AUTH_LEN)
_Static_assert(ENC_LEN % 4 == 0 && AUTH_LEN % 4 == 0, "attributes stay aligned");

/* In the child, in its own network namespace: the kernel's errno for the
 * state, 0 if it took it. */
static int try_newsa(void)
{
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	union {
		char b[MSG_LEN];
		struct nlmsghdr align;
		__u64 align8;
	} m;
	struct nlmsghdr *nh = (struct nlmsghdr *)m.b;
	struct xfrm_usersa_info *sa = NLMSG_DATA(nh);
	struct nlattr *enc_hdr = (struct nlattr *)(m.b + NLMSG_LENGTH(sizeof(*sa)));
	struct xfrm_algo *enc = (struct xfrm_algo *)((char *)enc_hdr + NLA_HDRLEN);
	struct nlattr *auth_hdr = (struct nlattr *)((char *)enc_hdr + ENC_LEN);
	struct xfrm_algo_auth *auth = (struct xfrm_algo_auth *)((char *)auth_hdr + NLA_HDRLEN);
	struct {
		struct nlmsghdr nh;
		struct nlmsgerr e;
		char rest[512];
	} ack;
	ssize_t n;
	int fd;

	memset(&m, 0, sizeof(m));
	nh->nlmsg_len = MSG_LEN;
	nh->nlmsg_type = XFRM_MSG_NEWSA;
	nh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nh->nlmsg_seq = 1;
	sa->family = AF_INET;
	sa->mode = XFRM_MODE_TUNNEL;
	sa->id.proto = IPPROTO_ESP;
	sa->id.spi = htonl(0x100);
	inet_pton(AF_INET, "192.0.2.1", &sa->saddr.a4);
	inet_pton(AF_INET, "192.0.2.2", &sa->id.daddr.a4);
	sa->lft.soft_byte_limit = XFRM_INF;
	sa->lft.hard_byte_limit = XFRM_INF;
	sa->lft.soft_packet_limit = XFRM_INF;
	sa->lft.hard_packet_limit = XFRM_INF;
	/* the keys stay zero: the kernel checks the algorithm, not the key */
	enc_hdr->nla_type = XFRMA_ALG_CRYPT;
	enc_hdr->nla_len = ENC_LEN;
	strcpy(enc->alg_name, "cbc(aes)");
	enc->alg_key_len = KEY_ENC * 8;
	auth_hdr->nla_type = XFRMA_ALG_AUTH_TRUNC;
	auth_hdr->nla_len = AUTH_LEN;
	strcpy(auth->alg_name, "hmac(sha256)");
	auth->alg_key_len = KEY_AUTH * 8;
	auth->alg_trunc_len = 128;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_XFRM);
	if (fd < 0)
		return errno;
	if (sendto(fd, m.b, MSG_LEN, 0, (struct sockaddr *)&kernel, sizeof(kernel)) < 0) {
		n = errno;
		close(fd);
		return (int)n;
	}
	n = recv(fd, &ack, sizeof(ack), 0);
	close(fd);
	if (n < (ssize_t)(sizeof(ack.nh) + sizeof(ack.e)) || ack.nh.nlmsg_type != NLMSG_ERROR)
		return EIO;
	return -ack.e.error;
}

int esp_probe_kernel(char *err, size_t errlen)
{
	int status, rc;
	pid_t pid;

	pid = fork();
	if (pid < 0) {
		rc = -errno;
		snprintf(err, errlen, "fork: %s", strerror(errno));
		return rc;
	}
	if (!pid) {
		if (unshare(CLONE_NEWNET))
			_exit(PROBE_NO_NS);
		rc = try_newsa();
		/* ENOENT: no such algorithm (or no ESP at all on some kernels) */
		_exit(!rc ? PROBE_ESP : rc == EPROTONOSUPPORT || rc == ENOENT ?
		      PROBE_NO_ESP : PROBE_FAILED);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR) {
			rc = -errno;
			snprintf(err, errlen, "waitpid: %s", strerror(errno));
			return rc;
		}
	if (!WIFEXITED(status)) {
		snprintf(err, errlen, "the ESP probe died");
		return -EIO;
	}
	switch (WEXITSTATUS(status)) {
	case PROBE_ESP:
		return 1;
	case PROBE_NO_ESP:
		return 0;
	case PROBE_NO_NS:
		snprintf(err, errlen, "no network namespace for the ESP probe (needs CAP_SYS_ADMIN)");
		return -EPERM;
	default:
		snprintf(err, errlen, "the kernel refused the ESP probe's test state");
		return -EIO;
	}
}
