# tests/fakenvml: stand-in libnvidia-ml.so.1 builds for the GPU collector's
# unit test, tests/integration/060_gpu_fake_nvml.sh and bench/gpu_bench.sh:
#   $(BUILD)/fakenvml/libnvidia-ml.so.1      a current driver
#   $(BUILD)/fakenvml/old/libnvidia-ml.so.1  an old driver (unversioned symbols only)
#   $(BUILD)/fakenvml/cc/libnvidia-ml.so.1   an early 12.x driver (32-byte _v3 process entries)
# Built as part of `all` so `make test` finds them.
FAKENVML_SRC   := tests/fakenvml/fake_nvml.c
FAKENVML_LIBS  := $(BUILD)/fakenvml/libnvidia-ml.so.1 $(BUILD)/fakenvml/old/libnvidia-ml.so.1 \
                  $(BUILD)/fakenvml/cc/libnvidia-ml.so.1
# Exported entry points have no header of their own: no prototype warnings.
FAKENVML_CFLAGS := $(CFLAGS_BASE) -Wno-missing-prototypes -fPIC -shared -fvisibility=default \
                   -Wl,-soname,libnvidia-ml.so.1

.PHONY: fakenvml
fakenvml: $(FAKENVML_LIBS)
all: fakenvml

$(BUILD)/fakenvml/libnvidia-ml.so.1: $(FAKENVML_SRC) agent/collectors/nvml.h
	@mkdir -p $(dir $@)
	$(E) "  CCLD    $@"
	$(Q)$(CC) $(FAKENVML_CFLAGS) -o $@ $< -lpthread

$(BUILD)/fakenvml/old/libnvidia-ml.so.1: $(FAKENVML_SRC) agent/collectors/nvml.h
	@mkdir -p $(dir $@)
	$(E) "  CCLD    $@"
	$(Q)$(CC) $(FAKENVML_CFLAGS) -DFAKE_NVML_OLD -o $@ $< -lpthread

$(BUILD)/fakenvml/cc/libnvidia-ml.so.1: $(FAKENVML_SRC) agent/collectors/nvml.h
	@mkdir -p $(dir $@)
	$(E) "  CCLD    $@"
	$(Q)$(CC) $(FAKENVML_CFLAGS) -DFAKE_NVML_CC -o $@ $< -lpthread

# The GPU unit test dlopens the fake libraries by path.
$(BUILD)/tests/unit/agent/collectors/test_gpu: | fakenvml
