/* libFuzzer target: the YAML config loader with an option of every type. */
#include <stddef.h>
#include <stdint.h>

#include "vg_config.h"

static const vg_opt_def opts[] = {
    {"web.listen-address", VG_OPT_STRING, ":1", "", 0},
    {"web.max-connections", VG_OPT_INT, "1", "", 0},
    {"web.timeout", VG_OPT_DURATION, "1s", "", 0},
    {"a.b.c.d", VG_OPT_FLOAT, "1", "", 0},
    {"enabled", VG_OPT_BOOL, "true", "", 0},
    {"items", VG_OPT_LIST, "x", "", 0},
    {"once", VG_OPT_BOOL, "false", "", VG_OPT_F_CLI_ONLY},
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const vg_opt_def *const tables[] = {opts};
    const size_t n[] = {sizeof opts / sizeof opts[0]};
    vg_config *c = NULL;
    vg_config_err err;
    if (vg_config_load_yaml_mem(tables, n, 1, "fuzz", (const char *)data, size, &c, &err) == 0) {
        (void)vg_config_str(c, "web.listen-address");
        (void)vg_config_list_len(c, "items");
        vg_config_free(c);
    }
    return 0;
}
