/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Does this kernel do ESP? An XFRM_MSG_NEWSA in a throwaway namespace. */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/xfrm.h>
#include <sys/wait.h>
#include "host/esp_probe.h"
#include "lib/nl.h"

#define KEY_ENC		16	/* AES-128 */
#define KEY_AUTH	32	/* HMAC-SHA256 */

/* The child's exit status: what the kernel said. */
enum { PROBE_ESP = 0, PROBE_NO_ESP = 1, PROBE_NO_NS = 2, PROBE_FAILED = 3 };

/* In the child, in its own network namespace: 0 if the kernel took the
 * state, else its -errno (or ours). */
static int try_newsa(void)
{
	/* xfrm_algo and xfrm_algo_auth end in the key (a flexible array) */
	union {
		struct xfrm_algo a;
		char b[sizeof(struct xfrm_algo) + KEY_ENC];
	} enc;
	union {
		struct xfrm_algo_auth a;
		char b[sizeof(struct xfrm_algo_auth) + KEY_AUTH];
	} auth;
	struct nl_msgbuf m;
	struct nlmsghdr *h = nl_msg(&m, XFRM_MSG_NEWSA, 0);
	struct xfrm_usersa_info *sa = mnl_nlmsg_put_extra_header(h, sizeof(*sa));
	struct nl *nl;
	int err;

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
	memset(&enc, 0, sizeof(enc));
	strcpy(enc.a.alg_name, "cbc(aes)");
	enc.a.alg_key_len = KEY_ENC * 8;
	memset(&auth, 0, sizeof(auth));
	strcpy(auth.a.alg_name, "hmac(sha256)");
	auth.a.alg_key_len = KEY_AUTH * 8;
	auth.a.alg_trunc_len = 128;
	mnl_attr_put(h, XFRMA_ALG_CRYPT, sizeof(enc), &enc);
	mnl_attr_put(h, XFRMA_ALG_AUTH_TRUNC, sizeof(auth), &auth);

	err = nl_open(NETLINK_XFRM, 0, &nl);
	if (err)
		return err;
	err = nl_request(nl, h);
	nl_close(nl);
	return err;
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
		_exit(!rc ? PROBE_ESP : rc == -EPROTONOSUPPORT || rc == -ENOENT ?
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
