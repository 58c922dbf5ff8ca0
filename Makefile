# Vigil build. `make` builds bin/vigil-agent, bin/vigil-operator and bin/kubesim.
# Objects go out of tree under build/ (build-san/ with SANITIZE=1).
# Quiet unless V=1. See README.md for every target.

VERSION  ?= 0.1.0
REVISION ?= $(shell git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)

CC      ?= cc
PKGS    := libcurl yaml-0.1 json-c libwebsockets openssl zlib
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CMOCKA_LIBS := $(shell pkg-config --libs cmocka 2>/dev/null || echo -lcmocka)

WARN := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wstrict-prototypes \
        -Wmissing-prototypes -Wpointer-arith -Wvla -Wundef -Wno-unused-parameter
CFLAGS_BASE := -std=c11 -D_GNU_SOURCE -O2 -g $(WARN) -I. -Ilibvigil -Iagent -Ioperator \
        -DVG_VERSION='"$(VERSION)"' -DVG_REVISION='"$(REVISION)"' $(PKG_CFLAGS)
LDLIBS_BASE := $(PKG_LIBS) -lpthread -ldl -lm
# vigil-agent links only what its collectors use: the Kubernetes client's
# libraries come with its plugin (vigil-agent-kube.so), when enabled
AGENT_PKGS  := yaml-0.1 json-c zlib
LDLIBS_AGENT := -Wl,--as-needed $(shell pkg-config --libs $(AGENT_PKGS) 2>/dev/null) -lpthread -ldl -lm

ifeq ($(SANITIZE),1)
BUILD   := build-san
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
BIN     := build-san/bin
else
BUILD   := build
SANFLAGS :=
BIN     := bin
endif

CFLAGS  := $(CFLAGS_BASE) $(SANFLAGS) $(EXTRA_CFLAGS)
LDFLAGS := $(SANFLAGS)

ifneq ($(V),1)
Q := @
E := @echo
else
Q :=
E := @true
endif

LIB_SRCS      := $(sort $(shell find libvigil -name '*.c'))
AGENT_SRCS    := $(sort $(filter-out agent/agent_main.c,$(shell find agent -name '*.c')))
OPERATOR_SRCS := $(sort $(filter-out operator/op_main.c,$(shell find operator -name '*.c' 2>/dev/null)))
KUBESIM_SRCS  := $(sort $(filter-out tests/kubesim/kubesim_main.c,$(shell find tests/kubesim -name '*.c' 2>/dev/null)))
UNIT_SRCS     := $(sort $(shell find tests/unit -name 'test_*.c' 2>/dev/null))
HELPER_SRCS   := $(sort $(shell find tests/helpers -name '*.c' 2>/dev/null))
FUZZ_SRCS     := $(sort $(shell find tests/fuzz -name 'fuzz_*.c' 2>/dev/null))

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))
pic = $(patsubst %.c,$(BUILD)/pic/%.o,$(1))

# The files that embed VERSION/REVISION rebuild when either changes (the
# stamp is rewritten only then), so a binary never reports an old commit.
REV_STAMP := $(BUILD)/revision.stamp
$(shell mkdir -p $(BUILD) && { echo '$(VERSION) $(REVISION)' | cmp -s - $(REV_STAMP) || echo '$(VERSION) $(REVISION)' > $(REV_STAMP); })
$(call obj,libvigil/vg_procself.c libvigil/vg_app.c operator/op_main.c agent/collectors/pod_labels.c): $(REV_STAMP)
$(call pic,libvigil/vg_procself.c libvigil/vg_app.c agent/collectors/pod_labels.c): $(REV_STAMP)

LIB_OBJS      := $(call obj,$(LIB_SRCS))
AGENT_OBJS    := $(call obj,$(AGENT_SRCS))
OPERATOR_OBJS := $(call obj,$(OPERATOR_SRCS))
KUBESIM_OBJS  := $(call obj,$(KUBESIM_SRCS))

LIBVIGIL   := $(BUILD)/libvigil.a
LIBAGENT   := $(BUILD)/libagent.a
LIBOP      := $(BUILD)/liboperator.a
LIBKUBESIM := $(BUILD)/libkubesim.a

UNIT_BINS  := $(patsubst tests/unit/%.c,$(BUILD)/tests/unit/%,$(UNIT_SRCS))
HELPER_BINS := $(patsubst tests/helpers/%.c,$(BUILD)/tests/helpers/%,$(HELPER_SRCS))

# The pod labels plugin (agent/collectors/pod_labels.h): the Kubernetes
# client and its ~30 libraries, which vigil-agent opens only when
# --pod-labels-allowlist is set. Built from position-independent copies.
PLUGIN_SRCS := $(LIB_SRCS) agent/collectors/pod_labels.c agent/collectors/pod_labels_plugin.c
PLUGIN     := $(BIN)/vigil-agent-kube.so

BINS := $(BIN)/vigil-agent $(BIN)/vigil-operator $(PLUGIN)
ifneq ($(wildcard tests/kubesim/kubesim_main.c),)
BINS += $(BIN)/kubesim
endif

.SECONDARY:
.PHONY: all deps test check unit integration run bench fuzz fuzz-smoke clean help
all: $(BINS) $(HELPER_BINS)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(E) "  CC      $<"
	$(Q)$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/pic/%.o: %.c
	@mkdir -p $(dir $@)
	$(E) "  CC PIC  $<"
	$(Q)$(CC) $(CFLAGS) -fPIC -MMD -MP -c $< -o $@

$(PLUGIN): $(call pic,$(PLUGIN_SRCS))
	@mkdir -p $(dir $@)
	$(E) "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -shared -Wl,-Bsymbolic -Wl,-z,defs -o $@ $^ $(LDLIBS_BASE)

$(LIBVIGIL): $(LIB_OBJS)
	$(E) "  AR      $@"
	$(Q)rm -f $@ && ar rcs $@ $^
$(LIBAGENT): $(AGENT_OBJS)
	$(E) "  AR      $@"
	$(Q)rm -f $@ && ar rcs $@ $^
$(LIBOP): $(OPERATOR_OBJS)
	$(E) "  AR      $@"
	$(Q)rm -f $@ && ar rcs $@ $^
$(LIBKUBESIM): $(KUBESIM_OBJS)
	$(E) "  AR      $@"
	$(Q)rm -f $@ && ar rcs $@ $^

ALL_LIBS := $(LIBOP) $(LIBAGENT) $(LIBKUBESIM) $(LIBVIGIL)

$(BIN)/vigil-agent: $(call obj,agent/agent_main.c) $(LIBAGENT) $(LIBVIGIL)
	@mkdir -p $(dir $@)
	$(E) "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS_AGENT)

$(BIN)/vigil-operator: $(call obj,operator/op_main.c) $(LIBOP) $(LIBVIGIL)
	@mkdir -p $(dir $@)
	$(E) "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS_BASE)

$(BIN)/kubesim: $(call obj,tests/kubesim/kubesim_main.c) $(LIBKUBESIM) $(LIBVIGIL)
	@mkdir -p $(dir $@)
	$(E) "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS_BASE)

$(BUILD)/tests/unit/%: $(BUILD)/obj/tests/unit/%.o $(ALL_LIBS)
	@mkdir -p $(dir $@)
	$(E) "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $< -Wl,--start-group $(ALL_LIBS) -Wl,--end-group $(CMOCKA_LIBS) $(LDLIBS_BASE)

# Test helpers: small programs the integration tests drive (e.g. fake libraries' drivers).
$(BUILD)/tests/helpers/%: $(BUILD)/obj/tests/helpers/%.o $(ALL_LIBS)
	@mkdir -p $(dir $@)
	$(E) "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $< -Wl,--start-group $(ALL_LIBS) -Wl,--end-group $(LDLIBS_BASE)

-include $(wildcard tests/mk/*.mk)

# ---- tests ----
unit-bins: $(UNIT_BINS)
check: all $(UNIT_BINS)
	$(Q)BUILD=$(BUILD) BIN=$(BIN) bash scripts/run-tests.sh unit
test: all $(UNIT_BINS)
	$(Q)BUILD=$(BUILD) BIN=$(BIN) bash scripts/run-tests.sh all
integration: all
	$(Q)BUILD=$(BUILD) BIN=$(BIN) bash scripts/run-tests.sh integration

# ---- fuzzing (clang + libFuzzer) ----
FUZZ_BUILD := build-fuzz
FUZZ_CFLAGS := $(CFLAGS_BASE) -Wno-missing-prototypes -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer
FUZZ_LIB_OBJS := $(patsubst %.c,$(FUZZ_BUILD)/obj/%.o,$(LIB_SRCS) $(AGENT_SRCS) $(OPERATOR_SRCS) $(KUBESIM_SRCS))
FUZZ_BINS := $(patsubst tests/fuzz/%.c,$(FUZZ_BUILD)/%,$(FUZZ_SRCS))
$(FUZZ_BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(E) "  CLANG   $<"
	$(Q)clang $(FUZZ_CFLAGS) -MMD -MP -c $< -o $@
$(FUZZ_BUILD)/%: $(FUZZ_BUILD)/obj/tests/fuzz/%.o $(FUZZ_LIB_OBJS)
	$(E) "  FUZZLD  $@"
	$(Q)clang -fsanitize=fuzzer,address,undefined -o $@ $^ $(LDLIBS_BASE)
fuzz: $(FUZZ_BINS)
fuzz-smoke: fuzz
	$(Q)FUZZ_SECONDS=$${FUZZ_SECONDS:-30} bash scripts/fuzz-smoke.sh $(FUZZ_BINS)

# ---- operations ----
deps:
	$(Q)bash scripts/install-deps.sh
run: $(BIN)/vigil-agent
	$(BIN)/vigil-agent $(RUN_ARGS)
bench: all
	$(Q)bash bench/run.sh

clean:
	rm -rf build build-san build-fuzz bin

help:
	@echo "targets: all deps run test check integration bench fuzz fuzz-smoke clean (SANITIZE=1, V=1)"

-include $(shell find $(BUILD)/obj $(BUILD)/pic $(FUZZ_BUILD)/obj -name '*.d' 2>/dev/null)
