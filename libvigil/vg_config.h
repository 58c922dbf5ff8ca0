/*
 * vg_config.h - options from flags, environment, a YAML file and defaults.
 *
 * A binary describes its options in a table of vg_opt_def. Values come from
 * (highest first) command-line flags, VIGIL_* environment variables, the
 * YAML file named by --config.file (or VIGIL_CONFIG_FILE), then defaults.
 *
 *   flag        --web.listen-address=:9100   (or "--web.listen-address :9100")
 *   bool flag   --collector.cpu / --no-collector.cpu / --collector.cpu=false
 *   env         VIGIL_WEB_LISTEN_ADDRESS=:9100   ('.' and '-' become '_')
 *   YAML        web: { listen-address: ":9100" }   or   web.listen-address: ":9100"
 *
 * Nested YAML maps are flattened with '.'. Unknown keys, wrong types and
 * malformed YAML are errors naming file:line:column. Lists (VG_OPT_LIST)
 * accept a YAML sequence or a comma-separated string; a flag given twice
 * for a list appends.
 *
 * Details (docs/internals/config.md has the full rules):
 *  - bool: true/false (also True/TRUE/False/FALSE); yes/no/on/off/1/0 are
 *    errors. A bool flag never takes the next argument as its value.
 *  - duration: Go units ns us ms s m h plus d, combined ("1h2m3.5s"); a
 *    plain number is seconds; negative or over 100 years is an error.
 *  - "--name VALUE" takes the next argument unless it starts with "--".
 *    A repeated non-list flag: the last wins. A list from a higher source
 *    replaces the lower one's; "--list=" empties it.
 *  - Unknown VIGIL_* variables are ignored (the environment is shared);
 *    so are variables for VG_OPT_F_CLI_ONLY options, except
 *    VIGIL_CONFIG_FILE. The file is used only when a table declares
 *    "config.file"; it is never a YAML key.
 *  - YAML: null (~, null, empty) means "not set here"; duplicate keys (also
 *    "a.b" vs "a: {b}"), anchors, aliases, tags and multiple documents are
 *    errors; at most 1 MiB and 16 nested maps.
 *  - A loaded vg_config is immutable: getters may be called from any
 *    thread. It owns copies of every string (tables, argv, envp and the
 *    YAML buffer need not outlive it).
 */
#ifndef VG_CONFIG_H
#define VG_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
    VG_OPT_STRING = 0,
    VG_OPT_INT,       /* int64 */
    VG_OPT_BOOL,      /* true/false (YAML), flag form --x / --no-x */
    VG_OPT_DURATION,  /* "5s", "250ms", "1m30s", "2h"; stored as seconds */
    VG_OPT_FLOAT,
    VG_OPT_LIST,      /* list of strings */
} vg_opt_type;

/* Option flags */
#define VG_OPT_F_RELOADABLE 0x1u  /* takes effect on SIGHUP reload */
#define VG_OPT_F_CLI_ONLY 0x2u    /* not accepted from file or env */

typedef struct vg_opt_def {
    const char *name;     /* "web.listen-address" */
    vg_opt_type type;
    const char *def;      /* default, in flag syntax; NULL = empty/unset */
    const char *help;
    unsigned flags;
} vg_opt_def;

typedef struct vg_config vg_config;

typedef struct vg_config_err {
    char msg[512];        /* "FILE:LINE:COL: unknown key \"x\"" etc. */
} vg_config_err;

/*
 * Build a config from the tables (several tables may be given, e.g. the
 * shared options and the binary's own; ntables entries of defs[i] with
 * ndefs[i] options), argv (argv[0] skipped) and envp (NULL = environ).
 * --help and --version are recognised and reported via vg_config_wants_*;
 * with either, the environment and the file are not read (flags still are).
 * On error returns -EINVAL (-ENOMEM when out of memory) and fills err;
 * *out untouched, nothing leaked. A bad table (duplicate or invalid names,
 * a default that does not parse) is -EINVAL too.
 */
int vg_config_load(const vg_opt_def *const *defs, const size_t *ndefs,
                   size_t ntables, int argc, char *const *argv,
                   char *const *envp, vg_config **out, vg_config_err *err);
void vg_config_free(vg_config *c);

bool vg_config_wants_help(const vg_config *c);
bool vg_config_wants_version(const vg_config *c);

/*
 * Typed getters. Unknown names, or a getter of the wrong type, abort unless
 * NDEBUG is defined (then they return 0, false, "" or NULL).
 * vg_config_list_at returns NULL when i >= vg_config_list_len.
 */
const char *vg_config_str(const vg_config *c, const char *name); /* never NULL */
int64_t vg_config_int(const vg_config *c, const char *name);
bool vg_config_bool(const vg_config *c, const char *name);
double vg_config_duration(const vg_config *c, const char *name); /* seconds */
double vg_config_float(const vg_config *c, const char *name);
size_t vg_config_list_len(const vg_config *c, const char *name);
const char *vg_config_list_at(const vg_config *c, const char *name, size_t i);

/* Where a value came from: "flag", "env", "file" or "default". */
const char *vg_config_source(const vg_config *c, const char *name);
/* The --config.file path in effect, or NULL. */
const char *vg_config_file(const vg_config *c);

/* Print "--name=DEFAULT  help" for every option, grouped by table. */
void vg_config_help(const vg_opt_def *const *defs, const size_t *ndefs,
                    size_t ntables, const char *prog, void *fp /* FILE* */);

/* Parse a duration string; 0 or -EINVAL. Exposed for tests. */
int vg_duration_parse(const char *s, double *seconds);

/*
 * Load only a YAML document from memory against the tables (used by the
 * fuzzer and tests). name appears in error messages.
 */
int vg_config_load_yaml_mem(const vg_opt_def *const *defs, const size_t *ndefs,
                            size_t ntables, const char *name, const char *yaml,
                            size_t len, vg_config **out, vg_config_err *err);

#endif
