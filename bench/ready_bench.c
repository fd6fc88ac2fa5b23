/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * ready_bench — host-ready latency against a live xdnatd: from the instant
 * HOSTS hosts start at once to the moment each one holds everything
 * xdnat-host's `up` obtains over PAP, in the agent's order (host_agent.c:
 * enroll, then get_cert):
 *
 *   REGISTER, PORT (64), SPI (256), NATT (port 1 of the block),
 *   a fresh ECDSA P-256 key and its CSR, CERT, the reply checked and the
 *   key, certificate and chain written (host_cert.c), CRL checked and written.
 *
 *   ready_bench [-p GW_PID] [-o TSV] [-i MS] GW PORT HOSTS ROUNDS FIRST_ADDR DIR
 *
 * One thread per host, each with its own UDP socket bound to its own
 * internal address (FIRST_ADDR + i, which must be on an interface) and its
 * own blocking pap_client (ctl/pap_client.c), as separate agents would be.
 * A round: every thread waits at a barrier, the clock starts, the barrier
 * opens, each thread comes up and stops its own clock. With -i, rounds
 * start MS apart (or back to back when a round takes longer), so that the
 * run spans the gateway's periodic work in proportion. Every round
 * registers new hosts: a new X25519 key pair, so a new client id, and a new
 * host key in a new directory under DIR; nothing is deregistered (a
 * deregistration would revoke the certificate, and the CRL would grow with
 * every round). Prints p50/p99/mean/max of the HOSTS × ROUNDS latencies,
 * the mean of each step, the client's CPU time per host and, with -p, the
 * gateway's; with -o, appends "hosts p50 p99 mean max samples" (ms) to TSV.
 * A figure, not a test.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <openssl/crypto.h>
#include "host/host_cert.h"
#include "pap/pap_client.h"

#define HOST_PORTS	64	/* xdnat-host's defaults (docs/xdnat-host.md) */
#define HOST_SPIS	256
#define NATT_INDEX	1

enum step {
	S_REGISTER, S_PORT, S_SPI, S_NATT, S_CSR, S_CERT, S_STORE, S_CRL, S_N
};

static const char *const step_name[S_N] = {
	[S_REGISTER]	= "REGISTER",
	[S_PORT]	= "PORT",
	[S_SPI]		= "SPI",
	[S_NATT]	= "NATT",
	[S_CSR]		= "key + CSR (client)",
	[S_CERT]	= "CERT",
	[S_STORE]	= "check + store cert (client)",
	[S_CRL]		= "CRL, check + store",
};

struct bench {
	struct sockaddr_in gw;
	const char *dir;
	int hosts, rounds;
	pthread_barrier_t start, go, done;
	double t_start;			/* the common start of the round */
	double *lat;			/* [round * hosts + host], seconds */
	double steps[S_N];		/* sums over every host, seconds */
	double cpu;			/* client thread CPU, summed */
	pthread_mutex_t lock;
	atomic_int failed;		/* a host failed: the others stop */
};

struct sim_host {
	struct bench *b;
	int idx;
	uint32_t addr;			/* network order */
	struct pap_client c;
	pthread_t tid;
};

static double now_s(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int host_fail(struct sim_host *h, const char *what, int rc)
{
	fprintf(stderr, "ready_bench: host %d (%s): %s: %s%s%s\n", h->idx,
		inet_ntoa((struct in_addr){ .s_addr = h->addr }), what, strerror(-rc),
		h->c.err_text[0] ? ": " : "", h->c.err_text);
	atomic_store(&h->b->failed, 1);
	return rc;
}

/*
 * pap_client_open() connects at once, and the client library has no way to
 * choose the source address: open it, then replace its socket by one bound
 * to this host's address and connected to the gateway.
 */
static int host_open(struct sim_host *h)
{
	struct sockaddr_in self = { .sin_family = AF_INET, .sin_addr.s_addr = h->addr };
	char gw[INET_ADDRSTRLEN];
	int fd, rc;

	inet_ntop(AF_INET, &h->b->gw.sin_addr, gw, sizeof(gw));
	rc = pap_client_open(&h->c, gw, ntohs(h->b->gw.sin_port));
	if (rc)
		return rc;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&self, sizeof(self)) ||
	    connect(fd, (struct sockaddr *)&h->b->gw, sizeof(h->b->gw))) {
		rc = -errno;
		close(fd);
		return rc;
	}
	close(h->c.fd);
	h->c.fd = fd;
	return 0;
}

static void rm_cert_dir(const char *dir)
{
	static const char *const files[] = {
		HOST_CERT_KEY, HOST_CERT_CRT, HOST_CERT_CHAIN, HOST_CERT_CRL,
	};
	char path[PATH_MAX];

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, files[i]) < sizeof(path))
			unlink(path);
	rmdir(dir);
}

/* Everything `xdnat-host up` asks of the gateway; t[] gets each step's end. */
static int come_up(struct sim_host *h, const char *dir, double t[S_N])
{
	static const struct host_key_spec ks = { HOST_KEY_EC, 0 };
	struct pap_client *c = &h->c;
	struct pap_port_range ports;
	struct pap_spi_range spis;
	struct host_cert cert = { 0 };
	char err[512];
	uint8_t *csr = NULL;
	size_t len;
	int rc;

	/* a new host: no session, no client id (the socket stays) */
	OPENSSL_cleanse(&c->s, sizeof(c->s));
	rc = pap_client_register(c, NULL, 0, 0);
	if (rc)
		return host_fail(h, "REGISTER", rc);
	t[S_REGISTER] = now_s(CLOCK_MONOTONIC);
	rc = pap_client_ports(c, HOST_PORTS, NULL, &ports);
	if (rc)
		return host_fail(h, "PORT", rc);
	t[S_PORT] = now_s(CLOCK_MONOTONIC);
	rc = pap_client_spis(c, HOST_SPIS, NULL, &spis);
	if (rc)
		return host_fail(h, "SPI", rc);
	t[S_SPI] = now_s(CLOCK_MONOTONIC);
	rc = pap_client_natt(c, (uint16_t)(ports.first + NATT_INDEX));
	if (rc)
		return host_fail(h, "NATT", rc);
	t[S_NATT] = now_s(CLOCK_MONOTONIC);

	rc = host_cert_request(&cert, dir, &ks, &csr, &len, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "ready_bench: host %d: %s\n", h->idx, err);
		goto out;
	}
	t[S_CSR] = now_s(CLOCK_MONOTONIC);
	rc = pap_client_cert(c, csr, len);
	OPENSSL_free(csr);
	if (rc) {
		host_fail(h, "CERT", rc);
		goto out;
	}
	t[S_CERT] = now_s(CLOCK_MONOTONIC);
	rc = host_cert_store(&cert, c->reply.certs, c->reply.cert_lens, c->reply.n_certs,
			     &ports, 1, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "ready_bench: host %d: %s\n", h->idx, err);
		goto out;
	}
	t[S_STORE] = now_s(CLOCK_MONOTONIC);
	rc = pap_client_crl(c);
	if (rc) {
		host_fail(h, "CRL", rc);
		goto out;
	}
	rc = host_cert_store_crl(&cert, c->crl, c->crl_len, err, sizeof(err));
	if (rc)
		fprintf(stderr, "ready_bench: host %d: %s\n", h->idx, err);
	t[S_CRL] = now_s(CLOCK_MONOTONIC);
out:
	host_cert_close(&cert);
	if (rc)
		atomic_store(&h->b->failed, 1);
	return rc;
}

static void *host_thread(void *arg)
{
	struct sim_host *h = arg;
	struct bench *b = h->b;
	char dir[PATH_MAX];
	double t[S_N], steps[S_N] = { 0 }, cpu = 0, c0;

	for (int r = 0; r < b->rounds; r++) {
		snprintf(dir, sizeof(dir), "%s/r%d-h%d", b->dir, r, h->idx);
		pthread_barrier_wait(&b->start);
		pthread_barrier_wait(&b->go);
		c0 = now_s(CLOCK_THREAD_CPUTIME_ID);
		if (!atomic_load(&b->failed) && !come_up(h, dir, t)) {
			cpu += now_s(CLOCK_THREAD_CPUTIME_ID) - c0;
			b->lat[r * b->hosts + h->idx] = t[S_N - 1] - b->t_start;
			for (int s = 0; s < S_N; s++)
				steps[s] += t[s] - (s ? t[s - 1] : b->t_start);
		}
		rm_cert_dir(dir);
		pthread_barrier_wait(&b->done);
	}
	pthread_mutex_lock(&b->lock);
	for (int s = 0; s < S_N; s++)
		b->steps[s] += steps[s];
	b->cpu += cpu;
	pthread_mutex_unlock(&b->lock);
	return NULL;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Nearest rank: the smallest sample with at least p of them at or below it. */
static double pct(const double *sorted, int n, double p)
{
	int k = (int)ceil(p * n);

	return sorted[k < 1 ? 0 : k - 1];
}

/* CPU time of every thread of a process, seconds (schedstat: ns); < 0 when
 * unreadable. */
static double proc_cpu(int pid)
{
	char path[300];
	unsigned long long ns, sum = 0;
	struct dirent *d;
	DIR *dir;
	int n = 0;

	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	dir = opendir(path);
	if (!dir)
		return -1;
	while ((d = readdir(dir))) {
		FILE *f;

		if (d->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%s/schedstat", pid, d->d_name);
		f = fopen(path, "r");
		if (f && fscanf(f, "%llu", &ns) == 1) {
			sum += ns;
			n++;
		}
		if (f)
			fclose(f);
	}
	closedir(dir);
	return n ? (double)sum / 1e9 : -1;
}

static void usage(void)
{
	fprintf(stderr, "usage: ready_bench [-p GW_PID] [-o TSV] [-i MS] GW PORT HOSTS ROUNDS "
		"FIRST_ADDR DIR\n");
	exit(2);
}

int main(int argc, char **argv)
{
	struct bench b = { .lock = PTHREAD_MUTEX_INITIALIZER };
	const char *tsv = NULL;
	struct sim_host *hosts;
	struct in_addr first;
	double gw_cpu0 = -1, gw_cpu1, t0, wall, sum = 0, interval = 0;
	int gw_pid = 0, slowest = 0, n, opt;

	while ((opt = getopt(argc, argv, "p:o:i:")) != -1) {
		if (opt == 'p')
			gw_pid = atoi(optarg);
		else if (opt == 'o')
			tsv = optarg;
		else if (opt == 'i')
			interval = atof(optarg) / 1e3;
		else
			usage();
	}
	if (argc - optind != 6)
		usage();
	argv += optind;
	b.gw.sin_family = AF_INET;
	b.gw.sin_port = htons((uint16_t)atoi(argv[1]));
	b.hosts = atoi(argv[2]);
	b.rounds = atoi(argv[3]);
	b.dir = argv[5];
	if (inet_pton(AF_INET, argv[0], &b.gw.sin_addr) != 1 ||
	    inet_pton(AF_INET, argv[4], &first) != 1 || b.hosts < 1 || b.hosts > 1000 ||
	    b.rounds < 1)
		usage();
	n = b.hosts * b.rounds;
	hosts = calloc((size_t)b.hosts, sizeof(*hosts));
	b.lat = calloc((size_t)n, sizeof(*b.lat));
	if (!hosts || !b.lat)
		return 1;
	pthread_barrier_init(&b.start, NULL, (unsigned int)b.hosts + 1);
	pthread_barrier_init(&b.go, NULL, (unsigned int)b.hosts + 1);
	pthread_barrier_init(&b.done, NULL, (unsigned int)b.hosts + 1);

	for (int i = 0; i < b.hosts; i++) {
		struct sim_host *h = &hosts[i];
		int rc;

		h->b = &b;
		h->idx = i;
		h->addr = htonl(ntohl(first.s_addr) + (uint32_t)i);
		rc = host_open(h);
		if (rc) {
			fprintf(stderr, "ready_bench: socket from %s: %s (is the address on an "
				"interface?)\n", inet_ntoa((struct in_addr){ .s_addr = h->addr }),
				strerror(-rc));
			return 1;
		}
	}
	for (int i = 0; i < b.hosts; i++)
		if (pthread_create(&hosts[i].tid, NULL, host_thread, &hosts[i])) {
			fprintf(stderr, "ready_bench: pthread_create failed\n");
			return 1;
		}

	if (gw_pid)
		gw_cpu0 = proc_cpu(gw_pid);
	t0 = now_s(CLOCK_MONOTONIC);
	for (int r = 0; r < b.rounds; r++) {
		double wait = t0 + r * interval - now_s(CLOCK_MONOTONIC);

		if (wait > 0)
			nanosleep(&(struct timespec){ (time_t)wait,
						      (long)((wait - (time_t)wait) * 1e9) }, NULL);
		pthread_barrier_wait(&b.start);	/* every host is waiting */
		b.t_start = now_s(CLOCK_MONOTONIC);
		pthread_barrier_wait(&b.go);
		pthread_barrier_wait(&b.done);
	}
	wall = now_s(CLOCK_MONOTONIC) - t0;
	gw_cpu1 = gw_pid ? proc_cpu(gw_pid) : -1;
	for (int i = 0; i < b.hosts; i++)
		pthread_join(hosts[i].tid, NULL);
	for (int i = 0; i < b.hosts; i++)
		pap_client_close(&hosts[i].c);
	if (atomic_load(&b.failed)) {
		fprintf(stderr, "ready_bench: a host failed to come up; no figures\n");
		return 1;
	}

	for (int i = 1; i < n; i++)
		if (b.lat[i] > b.lat[slowest])
			slowest = i;
	qsort(b.lat, (size_t)n, sizeof(*b.lat), cmp_double);
	for (int i = 0; i < n; i++)
		sum += b.lat[i];
	printf("ready_bench: %d concurrent host(s) x %d round(s) = %d samples in %.2f s\n",
	       b.hosts, b.rounds, n, wall);
	printf("  host-ready ms: p50 %.2f  p99 %.2f  mean %.2f  max %.2f (round %d)  min %.2f\n",
	       pct(b.lat, n, 0.50) * 1e3, pct(b.lat, n, 0.99) * 1e3, sum / n * 1e3,
	       b.lat[n - 1] * 1e3, slowest / b.hosts + 1, b.lat[0] * 1e3);
	printf("  mean ms per step (from the end of the one before; REGISTER from the start):\n");
	for (int s = 0; s < S_N; s++)
		printf("    %-28s %8.3f\n", step_name[s], b.steps[s] / n * 1e3);
	printf("  CPU ms per host: client %.3f (its thread: X25519, HMAC, P-256 key, CSR,\n"
	       "    checking the certificate and the CRL, files)", b.cpu / n * 1e3);
	if (gw_cpu0 >= 0 && gw_cpu1 >= 0)
		printf(", gateway %.3f (xdnatd, whole run / samples)",
		       (gw_cpu1 - gw_cpu0) / n * 1e3);
	printf("\n");
	if (tsv) {
		FILE *f = fopen(tsv, "a");

		if (!f) {
			fprintf(stderr, "ready_bench: %s: %s\n", tsv, strerror(errno));
			return 1;
		}
		fprintf(f, "%d\t%.3f\t%.3f\t%.3f\t%.3f\t%d\n", b.hosts,
			pct(b.lat, n, 0.50) * 1e3, pct(b.lat, n, 0.99) * 1e3, sum / n * 1e3,
			b.lat[n - 1] * 1e3, n);
		fclose(f);
	}
	free(hosts);
	free(b.lat);
	return 0;
}
