# tests/helpers/hangfs: a FUSE filesystem whose statfs hangs on demand, for
# tests/integration/040_fs_hung_mount.sh. Needs libfuse3 (pkg-config fuse3);
# without it hangfs is built as a program that reports that and exits 77.
HANGFS_CFLAGS := $(shell pkg-config --cflags fuse3 2>/dev/null)
HANGFS_LIBS   := $(shell pkg-config --libs fuse3 2>/dev/null)
ifneq ($(HANGFS_LIBS),)
HANGFS_CFLAGS += -DHAVE_FUSE3
endif

$(BUILD)/obj/tests/helpers/hangfs.o: CFLAGS += $(HANGFS_CFLAGS)

# Overrides the generic helper rule: no project libraries, libfuse3 instead.
$(BUILD)/tests/helpers/hangfs: $(BUILD)/obj/tests/helpers/hangfs.o
	@mkdir -p $(dir $@)
	$(E) "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $< $(HANGFS_LIBS)
