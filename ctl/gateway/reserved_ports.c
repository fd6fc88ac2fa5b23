/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* reserved_ports.h: the sysctl and STATE_DIR/reserved_ports, both in the
 * range-list text format (lib/range_list.h). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "gateway/reserved_ports.h"
#include "lib/atomic_file.h"
#include "lib/log.h"

#define SYSCTL_RESERVED	"/proc/sys/net/ipv4/ip_local_reserved_ports"
#define SYSCTL_EPHEMERAL "/proc/sys/net/ipv4/ip_local_port_range"
#define TEXT_MAX	4096

int reserved_ports_plan(const struct range_list *now, const struct range_list *added_prev,
			uint32_t lo, uint32_t hi, struct range_list *want,
			struct range_list *added)
{
	struct range_list operator = *now;
	int err = range_list_subtract(&operator, added_prev);

	if (err)
		return err;
	*added = (struct range_list){ 0 };
	err = range_list_add(added, lo, hi);
	if (!err)
		err = range_list_subtract(added, &operator);
	*want = operator;
	if (!err)
		err = range_list_add(want, lo, hi);
	return err;
}

static int read_text(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), err = 0;
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	if (n < 0)
		err = -errno;
	else if ((size_t)n == len - 1)
		err = -E2BIG;
	else
		buf[n] = 0;
	close(fd);
	return err;
}

static int read_list(const char *path, struct range_list *l)
{
	char buf[TEXT_MAX];
	int err = read_text(path, buf, sizeof(buf));

	return err ? err : range_list_parse(buf, UINT16_MAX, l);
}

/* Our part from an earlier run; none when the file is missing. */
static int read_added(const char *state_dir, struct range_list *l)
{
	char path[PATH_MAX];
	int err;

	snprintf(path, sizeof(path), "%s/%s", state_dir, RESERVED_PORTS_FILE);
	err = read_list(path, l);
	if (err == -ENOENT) {
		*l = (struct range_list){ 0 };
		return 0;
	}
	if (err)
		log_err("%s: %s", path, err == -EINVAL ? "not a port list" : strerror(-err));
	return err;
}

static int save_added(const char *state_dir, const struct range_list *l)
{
	char buf[TEXT_MAX];
	size_t len;
	int err = range_list_format(l, buf, sizeof(buf) - 1);

	if (err)
		return err;
	len = strlen(buf);
	buf[len++] = '\n';
	err = atomic_write_file(state_dir, RESERVED_PORTS_FILE, buf, len, 0644);
	if (err)
		log_err("%s/%s: %s", state_dir, RESERVED_PORTS_FILE, strerror(-err));
	return err;
}

static int write_sysctl(const struct range_list *l)
{
	char buf[TEXT_MAX];
	int fd, err = range_list_format(l, buf, sizeof(buf) - 1);
	size_t len;

	if (err)
		return err;
	len = strlen(buf);
	buf[len++] = '\n';
	fd = open(SYSCTL_RESERVED, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, buf, len) != (ssize_t)len)
		err = errno ? -errno : -EIO;
	close(fd);
	return err;
}

/* The sysctl is not ours to write: then the ephemeral ports the kernel may
 * pick must not include a host's (unless reserved already). */
static int refuse_overlap(const struct range_list *now, uint32_t lo, uint32_t hi, int why)
{
	char buf[64];
	unsigned int elo, ehi;
	struct range_list ours = { 0 };
	struct range_list eph = { 0 };

	if (read_text(SYSCTL_EPHEMERAL, buf, sizeof(buf)) ||
	    sscanf(buf, "%u %u", &elo, &ehi) != 2) {
		log_err("--ports %u-%u: cannot write " SYSCTL_RESERVED " (%s) nor read "
			SYSCTL_EPHEMERAL, lo, hi, strerror(-why));
		return why;
	}
	range_list_add(&ours, lo, hi);
	range_list_subtract(&ours, now);
	range_list_add(&eph, elo, ehi);
	for (size_t i = 0; i < ours.n; i++) {
		if (!range_list_overlaps(&eph, ours.r[i].lo, ours.r[i].hi))
			continue;
		log_err("--ports %u-%u overlaps the ephemeral ports %u-%u "
			"(net.ipv4.ip_local_port_range) and " SYSCTL_RESERVED " cannot be "
			"written (%s): reserve them there, or choose --ports outside %u-%u",
			lo, hi, elo, ehi, strerror(-why), elo, ehi);
		return -EADDRINUSE;
	}
	log_info("--ports %u-%u: " SYSCTL_RESERVED " is read-only (%s); no overlap with "
		 "the ephemeral ports %u-%u", lo, hi, strerror(-why), elo, ehi);
	return 0;
}

int reserved_ports_apply(const char *state_dir, uint32_t lo, uint32_t hi, bool quiet)
{
	struct range_list now, prev, want, added;
	char text[TEXT_MAX];
	int err;

	err = read_list(SYSCTL_RESERVED, &now);
	if (err) {
		log_err(SYSCTL_RESERVED ": %s", err == -EINVAL ? "not a port list" :
			strerror(-err));
		return err;
	}
	err = read_added(state_dir, &prev);
	if (err)
		return err;
	err = reserved_ports_plan(&now, &prev, lo, hi, &want, &added);
	if (err) {
		log_err(SYSCTL_RESERVED ": more than %d ranges", RANGE_LIST_MAX);
		return err;
	}
	if (range_list_equal(&want, &now) && range_list_equal(&added, &prev)) {
		if (!quiet)
			log_info("ports %u-%u reserved in " SYSCTL_RESERVED " (already)",
				 lo, hi);
		return 0;
	}
	/* our part is remembered first: a crash before the write leaves a
	 * part that is not in the sysctl, and taking it back is harmless */
	err = save_added(state_dir, &added);
	if (err)
		return err;
	err = range_list_equal(&want, &now) ? 0 : write_sysctl(&want);
	if (err) {
		save_added(state_dir, &prev);
		if (err == -EACCES || err == -EPERM || err == -EROFS)
			return refuse_overlap(&now, lo, hi, err);
		log_err("writing " SYSCTL_RESERVED ": %s", strerror(-err));
		return err;
	}
	range_list_format(&want, text, sizeof(text));
	log_info("ports %u-%u reserved for the hosts in " SYSCTL_RESERVED ": now %s",
		 lo, hi, text);
	return 0;
}

int reserved_ports_release(const char *state_dir)
{
	struct range_list now, added;
	char path[PATH_MAX], text[TEXT_MAX];
	int err = read_added(state_dir, &added);

	if (err || !added.n)
		return err;
	err = read_list(SYSCTL_RESERVED, &now);
	if (!err)
		err = range_list_subtract(&now, &added);
	if (!err)
		err = write_sysctl(&now);
	if (err) {
		log_err("giving back our ports in " SYSCTL_RESERVED ": %s", strerror(-err));
		return err;
	}
	snprintf(path, sizeof(path), "%s/%s", state_dir, RESERVED_PORTS_FILE);
	if (unlink(path) && errno != ENOENT)
		log_warn("%s: %s", path, strerror(errno));
	range_list_format(&now, text, sizeof(text));
	log_info(SYSCTL_RESERVED ": our ports given back, now '%s'", text);
	return 0;
}
