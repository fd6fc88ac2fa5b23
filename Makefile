# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# xdnat — one Makefile for BPF objects, skeletons, userspace, tests, fuzzing and benches.
#
#   make            build everything (-Werror)
#   make demo       run the gateway and two hosts in a namespace rig
#   make test       install missing Debian packages, build, run every suite
#   make deps       apt-get install what the build and tests need
#   make fuzz       run the libFuzzer targets for FUZZ_SECONDS each
#   make bench      print benchmark figures (not tests)
#   make bench-report  plots and tables for docs/benchmarks.md from the last bench
#   make install    DESTDIR=... PREFIX=...
#   make vmlinux    regenerate vmlinux/vmlinux.h from the running kernel's BTF

.DELETE_ON_ERROR:
.SUFFIXES:

PREFIX		?= /usr/local
DESTDIR		?=
BUILD		:= build
FUZZ_SECONDS	?= 60

CC		:= gcc
CLANG		?= clang
BPFTOOL		?= bpftool

WARN		:= -Wall -Wextra -Werror
CPPFLAGS	:= -D_GNU_SOURCE -Icommon -Ictl -I$(BUILD)/skel
CFLAGS		?= -O2 -g
CFLAGS		+= -std=c11 $(WARN) -fno-strict-aliasing
LDLIBS		:= -lbpf -lelf -lz -lcrypto
SAN_FLAGS	:= -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all \
		   -fno-omit-frame-pointer
BPF_CFLAGS	:= -O2 -g -target bpf -mcpu=v3 -D__TARGET_ARCH_x86 $(WARN) \
		   -Wno-unused-function -Ivmlinux -Icommon -Ibpf

# Debian packages the build, the tests and the demo need.
DEB_PKGS	:= gcc make clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev \
		   libssl-dev openssl libcmocka-dev libclang-rt-14-dev pkg-config \
		   iproute2 ethtool python3-scapy tcpdump iputils-ping

# ---- sources -----------------------------------------------------------------
CTL_MAINS	:= $(wildcard ctl/xdnatd.c ctl/xdnatctl.c ctl/xdnat-host.c)
CTL_LIB_SRCS	:= $(filter-out $(CTL_MAINS),$(wildcard ctl/*.c))
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
UNIT_SRCS	:= $(wildcard tests/unit/test_*.c)
# Helpers the unit tests (and the data-plane bench) share, linked into each.
UNIT_LIB_SRCS	:= $(filter-out $(UNIT_SRCS),$(wildcard tests/unit/*.c))
UNIT_DEPS	:= $(UNIT_LIB_SRCS) $(wildcard tests/unit/*.h)
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

LIB		:= $(BUILD)/libxdnat.a
LIB_ASAN	:= $(BUILD)/asan/libxdnat.a
BINS		:= $(patsubst ctl/%.c,$(BUILD)/%,$(CTL_MAINS))

.PHONY: demo interop all test unit unit-asan fuzz-replay integration deps ensure-deps fuzz \
	bench bench-report install clean vmlinux
all: $(BINS) $(BPF_OBJS) $(UNIT_BINS) $(INTEG_TOOLS)

# ---- BPF: clang -> bpftool gen object -> bpftool gen skeleton ------------------
$(BUILD)/bpf/%.tmp.o: %.bpf.c $(wildcard $(addsuffix /*.h,$(BPF_DIRS))) $(wildcard common/*.h) \
		| $(BUILD)/bpf
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@
$(BUILD)/bpf/%.bpf.o: $(BUILD)/bpf/%.tmp.o
	$(BPFTOOL) gen object $@ $<
$(BUILD)/skel/%.skel.h: $(BUILD)/bpf/%.bpf.o | $(BUILD)/skel
	$(BPFTOOL) gen skeleton $< name $(subst -,_,$*) > $@

# ---- userspace ----------------------------------------------------------------
HDRS		:= $(wildcard common/*.h ctl/*.h)

$(BUILD)/obj/%.o: ctl/%.c $(HDRS) $(SKELS) | $(BUILD)/obj
	$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@
$(BUILD)/asan/obj/%.o: ctl/%.c $(HDRS) $(SKELS) | $(BUILD)/asan/obj
	$(CC) $(CPPFLAGS) -std=c11 $(WARN) $(SAN_FLAGS) -c $< -o $@

LIB_OBJS	:= $(patsubst ctl/%.c,$(BUILD)/obj/%.o,$(CTL_LIB_SRCS))
LIB_ASAN_OBJS	:= $(patsubst ctl/%.c,$(BUILD)/asan/obj/%.o,$(CTL_LIB_SRCS))

$(LIB): $(LIB_OBJS)
	rm -f $@; ar rcs $@ $^
$(LIB_ASAN): $(LIB_ASAN_OBJS)
	rm -f $@; ar rcs $@ $^

$(BUILD)/%: $(BUILD)/obj/%.o $(LIB)
	$(CC) $(CFLAGS) $< $(LIB) $(LDLIBS) -o $@

# ---- tests --------------------------------------------------------------------
$(BUILD)/tests/%: tests/unit/%.c $(LIB) $(HDRS) $(UNIT_DEPS) | $(BUILD)/tests
	$(CC) $(CPPFLAGS) -Itests/unit $(CFLAGS) $< $(UNIT_LIB_SRCS) $(LIB) $(LDLIBS) -lcmocka -o $@
$(BUILD)/asan/tests/%: tests/unit/%.c $(LIB_ASAN) $(HDRS) $(UNIT_DEPS) | $(BUILD)/asan/tests
	$(CC) $(CPPFLAGS) -Itests/unit -std=c11 $(WARN) $(SAN_FLAGS) $< $(UNIT_LIB_SRCS) $(LIB_ASAN) \
		$(LDLIBS) -lcmocka -o $@

$(BUILD)/itest/%: tests/integration/%.c $(LIB) $(HDRS) | $(BUILD)/itest
	$(CC) $(CPPFLAGS) $(CFLAGS) $< $(LIB) $(LDLIBS) -o $@

# libFuzzer targets, built with clang against the library sources they fuzz.
$(BUILD)/fuzz/%: tests/fuzz/%.c $(CTL_LIB_SRCS) $(HDRS) | $(BUILD)/fuzz
	$(CLANG) $(CPPFLAGS) -std=c11 $(WARN) -g -O1 -fsanitize=fuzzer,address,undefined \
		$< $(CTL_LIB_SRCS) $(LDLIBS) -o $@

$(BUILD)/bench/%: bench/%.c $(LIB) $(HDRS) $(SKELS) $(BENCH_SKELS) $(UNIT_DEPS) $(wildcard bench/*.h) \
		| $(BUILD)/bench
	$(CC) $(CPPFLAGS) -Itests/unit $(CFLAGS) $< $(UNIT_LIB_SRCS) $(LIB) $(LDLIBS) -o $@

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

test: ensure-deps
	$(MAKE) --no-print-directory all $(UNIT_ASAN_BINS) $(FUZZ_BINS)
	$(MAKE) --no-print-directory -k unit unit-asan fuzz-replay integration interop

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

fuzz: $(FUZZ_BINS)
	@set -e; for f in $^; do n=$${f##*/fuzz_}; mkdir -p $(BUILD)/fuzz-corpus/$$n; \
		echo "== $$f for $(FUZZ_SECONDS)s"; \
		$$f -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
			$(BUILD)/fuzz-corpus/$$n tests/fuzz/corpus/$$n; done

# make bench, make bench-report and the bench tools: bench/bench.mk
include bench/bench.mk

install: $(BINS)
	install -d $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(PREFIX)/share/doc/xdnat
	install -m 0755 $(BINS) $(DESTDIR)$(PREFIX)/sbin/
	install -m 0644 README.md docs/*.md $(DESTDIR)$(PREFIX)/share/doc/xdnat/

vmlinux:
	$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > vmlinux/vmlinux.h

clean:
	rm -rf $(BUILD)

$(BUILD)/bpf $(BUILD)/skel $(BUILD)/obj $(BUILD)/asan/obj $(BUILD)/tests \
$(BUILD)/asan/tests $(BUILD)/fuzz $(BUILD)/bench $(BUILD)/itest:
	mkdir -p $@

.PRECIOUS: $(BUILD)/bpf/%.tmp.o $(BUILD)/bpf/%.bpf.o $(BUILD)/skel/%.skel.h $(BUILD)/obj/%.o \
	$(BUILD)/asan/obj/%.o
