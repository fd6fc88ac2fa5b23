# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# xdnat — one Makefile for BPF objects, skeletons, userspace, tests, fuzzing and benches.
#
#   make            build everything
#   make demo       run the gateway and two hosts in a namespace rig
#   make test       install missing Debian packages, build, run every suite
#   make deps       apt-get install what the build and tests need
#   make fuzz       run the libFuzzer targets for FUZZ_SECONDS each
#   make bench      print benchmark figures (not tests)
#   make bench-report  plots and tables for docs/benchmarks.md from the last bench
#   make install    DESTDIR=... PREFIX=... (binaries, units, man pages, examples)
#   make deb        a Debian package (debhelper) in build/deb/
#   make package-test  that package unpacked into a fresh root and started, and
#                   installed in a container booted with systemd and run as units
#   make vmlinux    regenerate vmlinux/vmlinux.h from the running kernel's BTF
#
# Variables: V=1 prints every command; WERROR=0 builds without -Werror (make
# test keeps it); CPPFLAGS, CFLAGS and LDFLAGS from the environment (e.g.
# dpkg-buildflags' hardening) are added to ours.

.DELETE_ON_ERROR:
.SUFFIXES:

PREFIX		?= /usr/local
DESTDIR		?=
SBINDIR		?= $(PREFIX)/sbin
MANDIR		?= $(PREFIX)/share/man
DOCDIR		?= $(PREFIX)/share/doc/xdnat
SYSCONFDIR	?= /etc
# systemd's unit path: /lib/systemd/system for a package (Debian 12 is not
# merged-/usr for dh_installsystemd), $(PREFIX)/lib/systemd/system otherwise.
UNITDIR		?= $(if $(filter /usr,$(PREFIX)),/lib,$(PREFIX)/lib)/systemd/system
BUILD		:= build
FUZZ_SECONDS	?= 60
WERROR		?= 1

CC		:= gcc
CLANG		?= clang
BPFTOOL		?= bpftool

ifeq ($(V),1)
Q		:=
say		:=
else
Q		:= @
say		= @printf '  %-8s %s\n' $(1) $(2);
endif

# The BPF programs' target architecture follows the build machine.
BPF_ARCH	:= $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/' \
		     -e 's/ppc64le/powerpc/' -e 's/s390x/s390/' -e 's/riscv64/riscv/')

WARN		:= -Wall -Wextra $(if $(filter 1,$(WERROR)),-Werror)
XCPPFLAGS	:= -D_GNU_SOURCE -Icommon -Ictl -I$(BUILD)/skel
CFLAGS		?= -O2 -g
XCFLAGS		:= -std=c11 $(WARN) -fno-strict-aliasing -MMD -MP
LDLIBS		:= -lbpf -lelf -lz -lcrypto -ljson-c -lmnl -lsystemd -lmicrohttpd -lcurl
SAN_FLAGS	:= -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all \
		   -fno-omit-frame-pointer
BPF_CFLAGS	:= -O2 -g -target bpf -mcpu=v3 -D__TARGET_ARCH_$(BPF_ARCH) $(WARN) \
		   -Wno-unused-function -Ivmlinux -Icommon -Ibpf -MMD -MP

COMPILE		= $(CC) $(XCPPFLAGS) $(CPPFLAGS) $(XCFLAGS) $(CFLAGS)
COMPILE_ASAN	= $(CC) $(XCPPFLAGS) $(CPPFLAGS) $(XCFLAGS) $(SAN_FLAGS)

# Debian packages the build, the tests and the demo need.
DEB_PKGS	:= gcc make clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev \
		   libssl-dev openssl libcmocka-dev libclang-rt-14-dev pkg-config \
		   libjson-c-dev libcurl4-openssl-dev etcd-server etcd-client libmnl-dev libsystemd-dev libmicrohttpd-dev scdoc iproute2 ethtool python3-scapy \
		   python3-prometheus-client \
		   tcpdump iputils-ping
# What make deb needs besides (debian/control's Build-Depends are DEB_PKGS'
# build half).
DEB_BUILD_PKGS	:= debhelper dpkg-dev fakeroot
# What make package-test needs on top: systemd-nspawn, to boot the package
# under a real systemd (tests/packaging/test_systemd.sh).
PACKAGE_TEST_PKGS := systemd-container

# The release: VERSION, and in a git checkout the commit after a "+g"
# (a tag vX.Y.Z on it: that tag's git describe). Only version.c sees it.
XDNAT_VERSION	:= $(shell v=$$(cat VERSION); \
		     d=$$(git describe --tags --match 'v[0-9]*' --dirty 2>/dev/null) && \
		     { echo "$${d#v}"; exit; }; \
		     r=$$(git describe --always --dirty 2>/dev/null) && \
		     { echo "$$v+g$$r"; exit; }; echo "$$v")
# What make test-kernels needs on top: QEMU, the guests' initramfs (busybox)
# kmod (depmod on the extracted kernels, modprobe in the guests) and curl
# (the Ubuntu kernels).
KERNEL_TEST_PKGS := qemu-system-x86 busybox-static kmod curl

# ---- sources -----------------------------------------------------------------
# ctl/ is one folder per layer: lib <- pap <- {gateway, host}. Each folder is
# its own archive and a program links only the archives of its layers, so a
# gateway symbol in the host agent is a link error (tests/check_layers.sh
# checks the includes too).
LAYERS		:= lib pap gateway host
CTL_MAINS	:= ctl/gateway/xdnatd.c ctl/gateway/xdnatctl.c ctl/host/xdnat-host.c
layer_srcs	= $(filter-out $(CTL_MAINS),$(wildcard ctl/$(1)/*.c))
CTL_LIB_SRCS	:= $(foreach l,$(LAYERS),$(call layer_srcs,$(l)))
layer_a		= $(BUILD)/ctl/libxdnat-$(1).a
layer_asan_a	= $(BUILD)/asan/ctl/libxdnat-$(1).a
# The archives a program of each layer links, in link order.
GATEWAY_LIBS	:= $(call layer_a,gateway) $(call layer_a,pap) $(call layer_a,lib)
HOST_LIBS	:= $(call layer_a,host) $(call layer_a,pap) $(call layer_a,lib)
ALL_LIBS	:= $(foreach l,host gateway pap lib,$(call layer_a,$(l)))
ALL_ASAN_LIBS	:= $(foreach l,host gateway pap lib,$(call layer_asan_a,$(l)))

# BPF programs: the data plane in bpf/, the benches' reference programs in
# bench/. One set of rules builds both (vpath finds the source), so a name
# must be unique across the two directories.
BPF_DIRS	:= bpf bench
vpath %.bpf.c $(BPF_DIRS)
BPF_SRCS	:= $(wildcard bpf/*.bpf.c)
BENCH_BPF_SRCS	:= $(wildcard bench/*.bpf.c)
bpf_objs	= $(patsubst %.bpf.c,$(BUILD)/bpf/%.bpf.o,$(notdir $(1)))
bpf_skels	= $(patsubst %.bpf.c,$(BUILD)/skel/%.skel.h,$(notdir $(1)))
BPF_OBJS	:= $(call bpf_objs,$(BPF_SRCS))
SKELS		:= $(call bpf_skels,$(BPF_SRCS))
BENCH_SKELS	:= $(call bpf_skels,$(BENCH_BPF_SRCS))

# Shared test fixtures (tests/lib/): linked into every unit test and bench.
TLIB_SRCS	:= $(wildcard tests/lib/*.c)
UNIT_SRCS	:= $(wildcard tests/unit/test_*.c)
UNIT_BINS	:= $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRCS))
UNIT_ASAN_BINS	:= $(patsubst tests/unit/%.c,$(BUILD)/asan/tests/%,$(UNIT_SRCS))
FUZZ_SRCS	:= $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS	:= $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(FUZZ_SRCS))
BENCH_SRCS	:= $(wildcard bench/*_bench.c)
BENCH_BINS	:= $(patsubst bench/%.c,$(BUILD)/bench/%,$(BENCH_SRCS))
INTEG_TESTS	:= $(sort $(wildcard tests/integration/test_*.sh))
# Real strongSwan peers (make interop alone; part of make test). The suite
# installs strongSwan itself and fails, saying why, when it cannot.
INTEROP_TESTS	:= $(sort $(wildcard tests/interop/test_*.sh))
INTEG_TOOLS	:= $(patsubst tests/integration/%.c,$(BUILD)/itest/%,$(wildcard tests/integration/*.c))

BINS		:= $(BUILD)/xdnatd $(BUILD)/xdnatctl $(BUILD)/xdnat-host
# Man pages: docs/man/*.scd through scdoc (tests/integration/test_service.sh
# checks each page's options against the program's --help).
MAN_SRCS	:= $(wildcard docs/man/*.scd)
MANS		:= $(patsubst docs/man/%.scd,$(BUILD)/man/%,$(MAN_SRCS))
# Units: dist/systemd/*.in with the installed paths filled in.
UNIT_SRCS	:= $(wildcard dist/systemd/*.in)
UNITS		:= $(patsubst dist/systemd/%.in,$(BUILD)/systemd/%,$(UNIT_SRCS))

.PHONY: demo interop all test unit unit-asan fuzz-replay integration deps ensure-deps fuzz \
	bench bench-report install clean vmlinux check-layers deb package-test test-kernels
all: $(BINS) $(BPF_OBJS) $(UNIT_BINS) $(INTEG_TOOLS) $(MANS) $(UNITS)

# ---- BPF: clang -> bpftool gen object -> bpftool gen skeleton ------------------
$(BUILD)/bpf/%.tmp.o: %.bpf.c | $(BUILD)/bpf
	$(call say,BPF,$@)$(CLANG) $(BPF_CFLAGS) -MF $(@:.o=.d) -MT $@ -c $< -o $@
$(BUILD)/bpf/%.bpf.o: $(BUILD)/bpf/%.tmp.o
	$(call say,GEN-OBJ,$@)$(BPFTOOL) gen object $@ $<
$(BUILD)/skel/%.skel.h: $(BUILD)/bpf/%.bpf.o | $(BUILD)/skel
	$(call say,GEN-SKEL,$@)$(BPFTOOL) gen skeleton $< name $(subst -,_,$*) > $@

# A skeleton is a generated header: the first build cannot learn from -MMD
# who includes it, so each file that does depends on it by name.
skel_users	= $(shell grep -l '"$(1).skel.h"' $(CTL_LIB_SRCS) $(CTL_MAINS) tests/unit/*.c \
		    tests/lib/*.c tests/integration/*.c bench/*.c 2>/dev/null)
# Who needs skeleton $(1): the objects of the files that include it.
skel_targets	= $(patsubst ctl/%.c,$(BUILD)/obj/%.o,$(filter ctl/%,$(1))) \
		  $(patsubst ctl/%.c,$(BUILD)/asan/obj/%.o,$(filter ctl/%,$(1))) \
		  $(patsubst %.c,$(BUILD)/tobj/%.o,$(filter-out ctl/%,$(1))) \
		  $(patsubst %.c,$(BUILD)/asan/tobj/%.o,$(filter-out ctl/%,$(1)))
$(foreach s,$(basename $(basename $(notdir $(BPF_SRCS) $(BENCH_BPF_SRCS)))),\
	$(eval $(call skel_targets,$(call skel_users,$(s))): $(BUILD)/skel/$(s).skel.h))

# ---- userspace ----------------------------------------------------------------
$(BUILD)/obj/%.o: ctl/%.c
	@mkdir -p $(@D)
	$(call say,CC,$@)$(COMPILE) -c $< -o $@
$(BUILD)/asan/obj/%.o: ctl/%.c
	@mkdir -p $(@D)
	$(call say,CC-ASAN,$@)$(COMPILE_ASAN) -c $< -o $@

# $(BUILD)/NAME.stamp holds the value of what NAME_STAMP names and changes
# only with it: what depends on it is rebuilt when the value changes.
version_STAMP	= $(XDNAT_VERSION)
paths_STAMP	= $(SBINDIR) $(SYSCONFDIR)
$(BUILD)/%.stamp: FORCE
	@mkdir -p $(@D)
	@echo '$($*_STAMP)' | cmp -s - $@ || echo '$($*_STAMP)' > $@
# The version reaches version.o alone.
$(BUILD)/obj/lib/version.o $(BUILD)/asan/obj/lib/version.o: $(BUILD)/version.stamp
$(BUILD)/obj/lib/version.o $(BUILD)/asan/obj/lib/version.o: \
	XCPPFLAGS += -DXDNAT_VERSION='"$(XDNAT_VERSION)"'
.PHONY: FORCE

$(BUILD)/man/%: docs/man/%.scd
	@mkdir -p $(@D)
	$(call say,SCDOC,$@)scdoc < $< > $@
$(BUILD)/systemd/%: dist/systemd/%.in $(BUILD)/paths.stamp
	@mkdir -p $(@D)
	$(call say,GEN,$@)sed -e 's|@SBINDIR@|$(SBINDIR)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' \
		$< > $@

define layer_rules
$(call layer_a,$(1)): $(patsubst ctl/%.c,$(BUILD)/obj/%.o,$(call layer_srcs,$(1)))
	@mkdir -p $$(@D)
	$$(call say,AR,$$@)rm -f $$@; ar rcs $$@ $$^
$(call layer_asan_a,$(1)): $(patsubst ctl/%.c,$(BUILD)/asan/obj/%.o,$(call layer_srcs,$(1)))
	@mkdir -p $$(@D)
	$$(call say,AR,$$@)rm -f $$@; ar rcs $$@ $$^
endef
$(foreach l,$(LAYERS),$(eval $(call layer_rules,$(l))))

LINK		= $(CC) $(CFLAGS) $(LDFLAGS)
$(BUILD)/xdnatd: $(BUILD)/obj/gateway/xdnatd.o $(GATEWAY_LIBS)
	$(call say,LD,$@)$(LINK) $^ $(LDLIBS) -o $@
$(BUILD)/xdnatctl: $(BUILD)/obj/gateway/xdnatctl.o $(GATEWAY_LIBS)
	$(call say,LD,$@)$(LINK) $^ $(LDLIBS) -o $@
$(BUILD)/xdnat-host: $(BUILD)/obj/host/xdnat-host.o $(HOST_LIBS)
	$(call say,LD,$@)$(LINK) $^ $(LDLIBS) -o $@

# ---- tests --------------------------------------------------------------------
# Tests, tools and benches: objects with -MMD like ctl/'s (tobj/), linked
# with the fixtures of tests/lib/ and the archives.
TEST_CPPFLAGS	:= -Itests/lib
tobj		= $(patsubst %.c,$(BUILD)/tobj/%.o,$(1))
asan_tobj	= $(patsubst %.c,$(BUILD)/asan/tobj/%.o,$(1))
TLIB_OBJS	:= $(call tobj,$(TLIB_SRCS))
TLIB_ASAN_OBJS	:= $(call asan_tobj,$(TLIB_SRCS))
# Order-only on the skeletons: a fixture header of tests/lib/ may include one,
# which the grep above does not see; -MMD records it after the first build.
$(BUILD)/tobj/%.o: %.c | $(SKELS) $(BENCH_SKELS)
	@mkdir -p $(@D)
	$(call say,CC,$@)$(COMPILE) $(TEST_CPPFLAGS) -c $< -o $@
$(BUILD)/asan/tobj/%.o: %.c | $(SKELS) $(BENCH_SKELS)
	@mkdir -p $(@D)
	$(call say,CC-ASAN,$@)$(COMPILE_ASAN) $(TEST_CPPFLAGS) -c $< -o $@

$(BUILD)/tests/%: $(BUILD)/tobj/tests/unit/%.o $(TLIB_OBJS) $(ALL_LIBS) | $(BUILD)/tests
	$(call say,LD,$@)$(LINK) $^ $(LDLIBS) -lcmocka -o $@
$(BUILD)/asan/tests/%: $(BUILD)/asan/tobj/tests/unit/%.o $(TLIB_ASAN_OBJS) $(ALL_ASAN_LIBS) \
		| $(BUILD)/asan/tests
	$(call say,LD,$@)$(CC) $(SAN_FLAGS) $(LDFLAGS) $^ $(LDLIBS) -lcmocka -o $@
$(BUILD)/itest/%: $(BUILD)/tobj/tests/integration/%.o $(ALL_LIBS) | $(BUILD)/itest
	$(call say,LD,$@)$(LINK) $^ $(LDLIBS) -o $@
$(BUILD)/bench/%: $(BUILD)/tobj/bench/%.o $(TLIB_OBJS) $(ALL_LIBS) | $(BUILD)/bench
	$(call say,LD,$@)$(LINK) $^ $(LDLIBS) -o $@

ALL_HDRS	:= $(wildcard common/*.h ctl/*/*.h tests/lib/*.h bench/*.h)
# libFuzzer targets, built with clang against the library sources they fuzz.
$(BUILD)/fuzz/%: tests/fuzz/%.c $(CTL_LIB_SRCS) $(ALL_HDRS) | $(BUILD)/fuzz
	$(call say,FUZZ,$@)$(CLANG) $(XCPPFLAGS) $(CPPFLAGS) -std=c11 $(WARN) -g -O1 \
		-fsanitize=fuzzer,address,undefined $< $(CTL_LIB_SRCS) $(LDLIBS) -o $@

demo: ensure-deps
	$(MAKE) --no-print-directory all
	bash tests/integration/demo.sh

# $(call apt_ensure,PKGS): a recipe line that apt-get installs those of the
# Debian packages PKGS that dpkg does not list as installed, and says which.
apt_ensure = @missing=$$(for p in $(1); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'ok installed' || echo $$p; \
	done); \
	if [ -n "$$missing" ]; then echo "make: installing missing packages:" $$missing; \
		apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
			--no-install-recommends $$missing; fi

ensure-deps:
	$(call apt_ensure,$(DEB_PKGS))

deps:
	apt-get update -q
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $(DEB_PKGS)

# make test always builds with -Werror, whatever WERROR says.
test: ensure-deps
	$(MAKE) --no-print-directory WERROR=1 all $(UNIT_ASAN_BINS) $(FUZZ_BINS)
	$(MAKE) --no-print-directory WERROR=1 -k check-layers unit unit-asan fuzz-replay \
		integration interop package-test test-kernels

# The layer rule of ctl/ (lib <- pap <- {gateway, host}) on every include.
check-layers:
	@bash tests/check_layers.sh

unit: $(UNIT_BINS)
	@set -e; for t in $^; do echo "== $$t"; $$t; done

unit-asan: $(UNIT_ASAN_BINS)
	@set -e; for t in $^; do echo "== $$t (ASan+UBSan)"; \
		ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 $$t; done

# Replays the checked-in corpus (and every crash ever found) once.
fuzz-replay: $(FUZZ_BINS)
	@set -e; for f in $^; do n=$${f##*/fuzz_}; echo "== $$f corpus tests/fuzz/corpus/$$n"; \
		$$f -runs=0 tests/fuzz/corpus/$$n 2>&1 | tail -n 2; done

integration: all
	@set -e; for t in $(INTEG_TESTS); do echo "== $$t"; bash $$t; done

interop: all
	@set -e; for t in $(INTEROP_TESTS); do echo "== $$t"; bash $$t; done

# Ubuntu 22.04's and Debian 12's stock kernels booted under QEMU, the BPF
# suites run in each (tests/kernels/run.sh, docs/kernels.md); make test's last.
test-kernels: ensure-deps
	$(call apt_ensure,$(KERNEL_TEST_PKGS))
	$(MAKE) --no-print-directory all
	bash tests/kernels/run.sh

fuzz: $(FUZZ_BINS)
	@set -e; for f in $^; do n=$${f##*/fuzz_}; mkdir -p $(BUILD)/fuzz-corpus/$$n; \
		echo "== $$f for $(FUZZ_SECONDS)s"; \
		$$f -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
			$(BUILD)/fuzz-corpus/$$n tests/fuzz/corpus/$$n; done

# make bench, make bench-report and the bench tools: bench/bench.mk
include bench/bench.mk

# The example xdnatd.conf goes to SYSCONFDIR/xdnat unless one is there
# already (a package makes it a conffile); the host's stays an example, as
# a host-IF.conf starts xdnat-host@IF.service.
install: $(BINS) $(MANS) $(UNITS)
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(DOCDIR)/examples $(DESTDIR)$(MANDIR)/man8 \
		$(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSCONFDIR)/xdnat
	install -m 0755 $(BINS) $(DESTDIR)$(SBINDIR)/
	install -m 0644 $(MANS) $(DESTDIR)$(MANDIR)/man8/
	install -m 0644 $(UNITS) $(DESTDIR)$(UNITDIR)/
	install -m 0644 README.md LICENSE docs/*.md $(DESTDIR)$(DOCDIR)/
	install -m 0644 dist/xdnatd.conf dist/host-eth0.conf $(DESTDIR)$(DOCDIR)/examples/
	[ -e $(DESTDIR)$(SYSCONFDIR)/xdnat/xdnatd.conf ] || \
		install -m 0644 dist/xdnatd.conf $(DESTDIR)$(SYSCONFDIR)/xdnat/

# A Debian package from this tree: dpkg-buildpackage leaves it in the parent
# directory, copied to build/deb/.
deb:
	$(call apt_ensure,$(DEB_PKGS) $(DEB_BUILD_PKGS))
	dpkg-buildpackage -b -us -uc
	@mkdir -p $(BUILD)/deb
	v=$$(dpkg-parsechangelog -S Version); a=$$(dpkg --print-architecture); \
		mv ../xdnat_$${v}_$$a.deb ../xdnat_$${v}_$$a.buildinfo ../xdnat_$${v}_$$a.changes \
		   $(BUILD)/deb/; \
		mv ../xdnat-dbgsym_$${v}_$$a.deb $(BUILD)/deb/ 2>/dev/null; true
	@ls $(BUILD)/deb/*.deb

package-test: deb
	$(call apt_ensure,$(PACKAGE_TEST_PKGS))
	bash tests/packaging/test_package.sh
	bash tests/packaging/test_systemd.sh

vmlinux:
	$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > vmlinux/vmlinux.h

clean:
	rm -rf $(BUILD)

$(BUILD)/bpf $(BUILD)/skel $(BUILD)/tests $(BUILD)/asan/tests $(BUILD)/fuzz $(BUILD)/bench \
$(BUILD)/itest:
	mkdir -p $@

.PRECIOUS: $(BUILD)/bpf/%.tmp.o $(BUILD)/bpf/%.bpf.o $(BUILD)/skel/%.skel.h $(BUILD)/obj/%.o \
	$(BUILD)/asan/obj/%.o $(BUILD)/tobj/%.o $(BUILD)/asan/tobj/%.o $(BUILD)/%.stamp

# Per-file dependencies written by -MMD.
-include $(shell find $(BUILD) -path $(BUILD)/kernels -prune -o -name '*.d' -type f -print 2>/dev/null)
