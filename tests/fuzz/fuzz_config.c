/*
 * fuzz_config.c - libFuzzer target for the config loader (vg_config.h).
 *
 * Mostly the YAML path (vg_config_load_yaml_mem) against a small table with
 * every option type, a name that is both an option and a group, a deep
 * option and a flag-only one. Inputs starting with 0x01 are split on NUL
 * into argv and a VIGIL_* environment instead, to reach the flag and env
 * parsers. The table has no config.file, so no file is ever read.
 * Invariants: success gives readable values (strings never NULL, every
 * list item a string); failure gives a message and leaves *out untouched.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vg_config.h"

static const vg_opt_def opts[] = {
    {"web.listen-address", VG_OPT_STRING, ":1", "", 0},
    {"web.max-connections", VG_OPT_INT, "1", "", 0},
    {"web.timeout", VG_OPT_DURATION, "1s", "", 0},
    {"ratio", VG_OPT_FLOAT, "1", "", 0},
    {"collector.cpu", VG_OPT_BOOL, "true", "", 0},
    {"collector.cpu.fields", VG_OPT_LIST, "a,b", "", 0},
    {"a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q.r", VG_OPT_INT, "0", "", 0},
    {"items", VG_OPT_LIST, NULL, "", 0},
    {"once", VG_OPT_BOOL, "false", "", VG_OPT_F_CLI_ONLY},
};
static const vg_opt_def *const tables[] = {opts};
static const size_t ntables[] = {sizeof opts / sizeof opts[0]};

static void check(vg_config *c)
{
    if (!vg_config_str(c, "web.listen-address"))
        abort();
    (void)vg_config_int(c, "web.max-connections");
    double d = vg_config_duration(c, "web.timeout");
    if (!(d >= 0))
        abort();
    (void)vg_config_float(c, "ratio");
    (void)vg_config_bool(c, "collector.cpu");
    (void)vg_config_bool(c, "once");
    static const char *const lists[] = {"collector.cpu.fields", "items"};
    for (size_t l = 0; l < 2; l++) {
        size_t n = vg_config_list_len(c, lists[l]);
        for (size_t i = 0; i < n; i++)
            if (!vg_config_list_at(c, lists[l], i))
                abort();
        if (vg_config_list_at(c, lists[l], n))
            abort();
    }
    if (!vg_config_source(c, "ratio"))
        abort();
}

static int load_cli(const uint8_t *data, size_t size, vg_config **out, vg_config_err *err)
{
    /* "arg\0arg\0...": args with "VIGIL_" go to the environment */
    char *buf = malloc(size + 1);
    char **argv = calloc(size + 2, sizeof *argv);
    char **envp = calloc(size + 2, sizeof *envp);
    int rc = -1;
    if (buf && argv && envp) {
        memcpy(buf, data, size);
        buf[size] = '\0';
        int argc = 0;
        size_t nenv = 0;
        argv[argc++] = "fuzz";
        for (char *p = buf; p <= buf + size; p += strlen(p) + 1) {
            if (strncmp(p, "VIGIL_", 6) == 0)
                envp[nenv++] = p;
            else
                argv[argc++] = p;
        }
        rc = vg_config_load(tables, ntables, 1, argc, argv, envp, out, err);
    }
    free(buf);
    free(argv);
    free(envp);
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    vg_config *const sentinel = (vg_config *)(uintptr_t)0x1;
    vg_config *c = sentinel;
    vg_config_err err;
    err.msg[0] = '\0';
    int rc;
    if (size > 0 && data[0] == 0x01)
        rc = load_cli(data + 1, size - 1, &c, &err);
    else
        rc = vg_config_load_yaml_mem(tables, ntables, 1, "fuzz.yaml", (const char *)data, size, &c,
                                     &err);
    if (rc == 0) {
        if (c == sentinel || !c)
            abort();
        check(c);
        vg_config_free(c);
    } else if (rc != -1) {
        if (c != sentinel || err.msg[0] == '\0' || !memchr(err.msg, '\0', sizeof err.msg))
            abort();
    }
    return 0;
}
