/*
 * sys_class_hwmon.c - the `hwmon` collector.
 *
 * node_exporter walks a map per chip; here a chip's files go into one
 * reusable array, sorted so each sensor's properties are adjacent and the
 * output order is stable.
 */
#include "sys_class_hwmon.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <dirent.h>

#include "label_utf8.h"
#include "sysfs_attr.h"

const char *const hwmon_sensor_types[HWMON_NTYPES] = {
    "vrm",  "beep_enable", "update_interval", "in",     "cpu",      "fan",      "pwm",
    "temp", "curr",        "power",           "energy", "humidity", "intrusion",
};

enum { T_VRM = 0, T_BEEP_ENABLE, T_UPDATE_INTERVAL, T_IN, T_CPU, T_FAN, T_PWM, T_TEMP, T_CURR,
       T_POWER, T_ENERGY, T_HUMIDITY, T_INTRUSION };

static bool is_digit(char c) { return c >= '0' && c <= '9'; }

bool sys_class_hwmon_explode(const char *s, size_t len, hwmon_fname *out)
{
    /* Backtracking in the order Go's leftmost-first matcher tries. */
    size_t first_digit = 0;
    while (first_digit < len && !is_digit(s[first_digit]))
        first_digit++;
    for (size_t te = first_digit; te >= 1; te--) {
        size_t de = te;
        while (de < len && is_digit(s[de]))
            de++;
        for (size_t ie = de;; ie--) {
            const char *rest = s + ie;
            size_t rn = len - ie;
            bool ok = rn == 0 || (rn >= 2 && rest[0] == '_' && !memchr(rest + 1, '\n', rn - 1));
            if (ok) {
                uint64_t num = 0;
                for (size_t i = te; i < ie; i++) {
                    uint64_t d = (uint64_t)(s[i] - '0');
                    if (num > ((uint64_t)INT64_MAX - d) / 10)
                        return false; /* strconv.Atoi fails: no match */
                    num = num * 10 + d;
                }
                hwmon_fname f = {-1, num, rn ? rest + 1 : "", rn ? rn - 1 : 0};
                for (int t = 0; t < HWMON_NTYPES; t++) {
                    if (strlen(hwmon_sensor_types[t]) == te &&
                        memcmp(hwmon_sensor_types[t], s, te) == 0) {
                        f.type = t;
                        break;
                    }
                }
                *out = f;
                return true;
            }
            if (ie == te)
                break;
        }
        if (te == 1)
            break;
    }
    return false;
}

void sys_class_hwmon_clean(const char *in, size_t n, char *out, size_t outlen)
{
    size_t w = 0;
    const unsigned char *p = (const unsigned char *)in;
    for (size_t i = 0; i < n && w + 1 < outlen;) {
        unsigned char c = p[i];
        size_t l = label_utf8_seq_len(p + i, n - i);
        if (l == 1) {
            if (c >= 'A' && c <= 'Z')
                c = (unsigned char)(c - 'A' + 'a');
            bool keep = (c >= 'a' && c <= 'z') || is_digit((char)c) || c == ':' || c == '_';
            out[w++] = keep ? (char)c : '_';
            i++;
        } else {
            out[w++] = '_'; /* one rune (or one invalid byte) -> one "_" */
            i += l ? l : 1;
        }
    }
    /* strings.Trim(s, "_") */
    size_t a = 0;
    while (a < w && out[a] == '_')
        a++;
    while (w > a && out[w - 1] == '_')
        w--;
    if (a)
        memmove(out, out + a, w - a);
    if (outlen)
        out[w - a] = '\0';
}

void sys_class_hwmon_chip_from_device(const char *devpath, char *out, size_t outlen)
{
    /* filepath.Split twice: the last component and its parent's name */
    size_t n = strlen(devpath);
    while (n > 1 && devpath[n - 1] == '/')
        n--;
    size_t b = n;
    while (b > 0 && devpath[b - 1] != '/')
        b--;
    size_t pe = b;
    while (pe > 0 && devpath[pe - 1] == '/')
        pe--;
    size_t pb = pe;
    while (pb > 0 && devpath[pb - 1] != '/')
        pb--;
    char name[256], type[256];
    sys_class_hwmon_clean(devpath + b, n - b, name, sizeof name);
    sys_class_hwmon_clean(devpath + pb, pe - pb, type, sizeof type);
    if (name[0] && type[0])
        snprintf(out, outlen, "%s_%s", type, name);
    else
        snprintf(out, outlen, "%s", name);
}

void hwmon_chip_init(hwmon_chip *c)
{
    memset(c, 0, sizeof *c);
}

void hwmon_chip_release(hwmon_chip *c)
{
    free(c->e);
    memset(c, 0, sizeof *c);
}

void hwmon_chip_reset(hwmon_chip *c)
{
    c->n = 0;
    c->seq = 0;
    c->chip[0] = '\0';
    c->chip_name[0] = '\0';
}

int hwmon_chip_add(hwmon_chip *c, const char *name, const char *buf, size_t len)
{
    hwmon_fname f;
    if (!sys_class_hwmon_explode(name, strlen(name), &f) || f.type < 0)
        return -ENOENT;
    vg_slice v = sysfs_attr_trim_nl((vg_slice){buf, len});
    if (f.prop_len >= sizeof c->e[0].prop || v.n >= sizeof c->e[0].value ||
        memchr(v.p, '\0', v.n))
        return -EFBIG;
    if (c->n == c->cap) {
        size_t ncap = c->cap ? c->cap * 2 : 32;
        hwmon_entry *ne = realloc(c->e, ncap * sizeof *ne);
        if (!ne)
            return -ENOMEM;
        c->e = ne;
        c->cap = ncap;
    }
    hwmon_entry *e = &c->e[c->n++];
    e->type = (uint8_t)f.type;
    e->num = f.num;
    e->seq = c->seq++;
    memcpy(e->prop, f.prop, f.prop_len);
    e->prop[f.prop_len] = '\0';
    memcpy(e->value, v.p, v.n);
    e->value[v.n] = '\0';
    return 0;
}

static int entry_cmp(const void *a, const void *b)
{
    const hwmon_entry *x = a, *y = b;
    int r = strcmp(hwmon_sensor_types[x->type], hwmon_sensor_types[y->type]);
    if (r)
        return r;
    if (x->num != y->num)
        return x->num < y->num ? -1 : 1;
    r = strcmp(x->prop, y->prop);
    if (r)
        return r;
    return x->seq < y->seq ? -1 : (x->seq > y->seq);
}

static void add_gauge(vg_scrape *s, const char *name, vg_mtype t, const char *help, double v,
                      const char *chip, const char *sensor)
{
    static const char *const hl[2] = {"chip", "sensor"};
    vg_family *f = vg_scrape_family(s, name, t, help, 2, hl);
    vg_family_add(f, v, chip, sensor);
}

/* The metric for one element of one sensor (node_exporter's rules, in order). */
static void emit_element(vg_scrape *s, const char *chip, const char *sensor, int type,
                         const char *el, const char *value, bool has_plain)
{
    const char *tn = hwmon_sensor_types[type];
    char name[200], help[300];
    int n = snprintf(name, sizeof name, "node_hwmon_%s", tn);
    if (strcmp(el, "input") == 0) {
        if (has_plain)
            n += snprintf(name + n, sizeof name - (size_t)n, "_input");
    } else if (el[0]) {
        char clean[80];
        sys_class_hwmon_clean(el, strlen(el), clean, sizeof clean);
        n += snprintf(name + n, sizeof name - (size_t)n, "_%s", clean);
    }
    double v;
    if (vg_parse_double((vg_slice){value, strlen(value)}, &v))
        return;
    size_t room = sizeof name - (size_t)n;
    char *sfx = name + n;
    if (strcmp(el, "fault") == 0 || strcmp(el, "alarm") == 0) {
        snprintf(help, sizeof help, "Hardware sensor %s status (%s)", el, tn);
        add_gauge(s, name, VG_MT_GAUGE, help, v, chip, sensor);
    } else if (strcmp(el, "beep") == 0) {
        snprintf(sfx, room, "_enabled");
        add_gauge(s, name, VG_MT_GAUGE, "Hardware monitor sensor has beeping enabled", v, chip,
                  sensor);
    } else if (type == T_IN || type == T_CPU) {
        snprintf(sfx, room, "_volts");
        snprintf(help, sizeof help, "Hardware monitor for voltage (%s)", el);
        add_gauge(s, name, VG_MT_GAUGE, help, v * 0.001, chip, sensor);
    } else if (type == T_TEMP && strcmp(el, "type") != 0) {
        snprintf(sfx, room, "_celsius");
        snprintf(help, sizeof help, "Hardware monitor for temperature (%s)", el[0] ? el : "input");
        add_gauge(s, name, VG_MT_GAUGE, help, v * 0.001, chip, sensor);
    } else if (type == T_CURR) {
        snprintf(sfx, room, "_amps");
        snprintf(help, sizeof help, "Hardware monitor for current (%s)", el);
        add_gauge(s, name, VG_MT_GAUGE, help, v * 0.001, chip, sensor);
    } else if (type == T_ENERGY) {
        snprintf(sfx, room, "_joule_total");
        snprintf(help, sizeof help, "Hardware monitor for joules used so far (%s)", el);
        add_gauge(s, name, VG_MT_COUNTER, help, v / 1000000.0, chip, sensor);
    } else if (type == T_POWER && strcmp(el, "accuracy") == 0) {
        add_gauge(s, name, VG_MT_GAUGE, "Hardware monitor power meter accuracy, as a ratio",
                  v / 1000000.0, chip, sensor);
    } else if (type == T_POWER &&
               (strcmp(el, "average_interval") == 0 || strcmp(el, "average_interval_min") == 0 ||
                strcmp(el, "average_interval_max") == 0)) {
        snprintf(sfx, room, "_seconds");
        snprintf(help, sizeof help, "Hardware monitor power usage update interval (%s)", el);
        add_gauge(s, name, VG_MT_GAUGE, help, v * 0.001, chip, sensor);
    } else if (type == T_POWER) {
        snprintf(sfx, room, "_watt");
        snprintf(help, sizeof help, "Hardware monitor for power usage in watts (%s)", el);
        add_gauge(s, name, VG_MT_GAUGE, help, v / 1000000.0, chip, sensor);
    } else if (type == T_HUMIDITY) {
        snprintf(help, sizeof help,
                 "Hardware monitor for humidity, as a ratio (multiply with 100.0 to get the "
                 "humidity as a percentage) (%s)",
                 el);
        add_gauge(s, name, VG_MT_GAUGE, help, v / 1000000.0, chip, sensor);
    } else if (type == T_FAN && (strcmp(el, "input") == 0 || strcmp(el, "min") == 0 ||
                                 strcmp(el, "max") == 0 || strcmp(el, "target") == 0)) {
        snprintf(sfx, room, "_rpm");
        snprintf(help, sizeof help, "Hardware monitor for fan revolutions per minute (%s)", el);
        add_gauge(s, name, VG_MT_GAUGE, help, v, chip, sensor);
    } else {
        snprintf(help, sizeof help, "Hardware monitor %s element %s", tn, el);
        add_gauge(s, name, VG_MT_GAUGE, help, v, chip, sensor);
    }
}

/* Emit one sensor: entries [a, b) share type and number, sorted by prop. */
static void emit_sensor(vg_scrape *s, const hwmon_chip *c, size_t a, size_t b)
{
    const hwmon_entry *e0 = &c->e[a];
    int type = e0->type;
    char sensor[48];
    snprintf(sensor, sizeof sensor, "%s%llu", hwmon_sensor_types[type],
             (unsigned long long)e0->num);
    const char *plain = NULL;
    const char *label = NULL;
    for (size_t i = a; i < b; i++) {
        /* duplicates are adjacent: the last (highest seq) wins */
        if (i + 1 < b && strcmp(c->e[i].prop, c->e[i + 1].prop) == 0)
            continue;
        if (c->e[i].prop[0] == '\0')
            plain = c->e[i].value;
        else if (strcmp(c->e[i].prop, "label") == 0)
            label = c->e[i].value;
    }
    if (label) {
        static const char *const ll[3] = {"chip", "label", "sensor"};
        char clean[sizeof e0->value * 3];
        label_utf8_copy(label, strlen(label), clean, sizeof clean);
        vg_family *f = vg_scrape_family(s, "node_hwmon_sensor_label", VG_MT_GAUGE,
                                        "Label for given chip and sensor", 3, ll);
        vg_family_add(f, 1, c->chip, clean, sensor);
    }
    if (type == T_BEEP_ENABLE) {
        add_gauge(s, "node_hwmon_beep_enabled", VG_MT_GAUGE, "Hardware beep enabled",
                  plain && strcmp(plain, "1") == 0 ? 1 : 0, c->chip, sensor);
        return;
    }
    if (type == T_VRM || type == T_UPDATE_INTERVAL) {
        double v;
        if (!plain || vg_parse_double((vg_slice){plain, strlen(plain)}, &v))
            return;
        if (type == T_VRM)
            add_gauge(s, "node_hwmon_voltage_regulator_version", VG_MT_GAUGE,
                      "Hardware voltage regulator", v, c->chip, sensor);
        else
            add_gauge(s, "node_hwmon_update_interval_seconds", VG_MT_GAUGE,
                      "Hardware monitor update interval", v * 0.001, c->chip, sensor);
        return;
    }
    for (size_t i = a; i < b; i++) {
        if (i + 1 < b && strcmp(c->e[i].prop, c->e[i + 1].prop) == 0)
            continue;
        if (strcmp(c->e[i].prop, "label") == 0)
            continue;
        emit_element(s, c->chip, sensor, type, c->e[i].prop, c->e[i].value, plain != NULL);
    }
}

void sys_class_hwmon_emit(hwmon_chip *c, vg_scrape *s)
{
    if (c->chip_name[0]) {
        static const char *const cl[2] = {"chip", "chip_name"};
        vg_family *f = vg_scrape_family(s, "node_hwmon_chip_names", VG_MT_GAUGE,
                                        "Annotation metric for human-readable chip names", 2, cl);
        vg_family_add(f, 1, c->chip, c->chip_name);
    }
    if (c->n > 1)
        qsort(c->e, c->n, sizeof *c->e, entry_cmp);
    size_t a = 0;
    while (a < c->n) {
        size_t b = a + 1;
        while (b < c->n && c->e[b].type == c->e[a].type && c->e[b].num == c->e[a].num)
            b++;
        emit_sensor(s, c, a, b);
        a = b;
    }
}

/* ---------- collector ---------- */

/* Collection thread only. */
typedef struct hw_state {
    sysfs_dirlist chips;
    sysfs_dirlist files;
    sysfs_fdcache open_files;   /* sensor files kept open between scrapes */
    hwmon_chip chip;
} hw_state;

static void hw_release(void *state)
{
    hw_state *st = state;
    if (!st)
        return;
    sysfs_dirlist_release(&st->chips);
    sysfs_dirlist_release(&st->files);
    sysfs_fdcache_release(&st->open_files);
    hwmon_chip_release(&st->chip);
    free(st);
}

static int hw_init(agent_ctx *ctx, void **state)
{
    (void)ctx;
    hw_state *st = calloc(1, sizeof *st);
    if (!st)
        return -ENOMEM;
    sysfs_dirlist_init(&st->chips);
    sysfs_dirlist_init(&st->files);
    sysfs_fdcache_init(&st->open_files, 1024);
    hwmon_chip_init(&st->chip);
    *state = st;
    return 0;
}

/* Add every sensor file of directory dir to the chip. */
static void hw_read_dir(agent_ctx *ctx, hw_state *st, const char *dir)
{
    if (sysfs_dirlist_read(&st->files, AT_FDCWD, dir, NULL))
        return;
    char buf[160], path[PATH_MAX];
    for (size_t i = 0; i < st->files.n; i++) {
        const char *name = sysfs_dirlist_name(&st->files, i);
        hwmon_fname f;
        if (!sys_class_hwmon_explode(name, strlen(name), &f) || f.type < 0)
            continue;
        if (st->files.ents[i].type == DT_DIR) /* power/ and the like */
            continue;
        int k = snprintf(path, sizeof path, "%s/%s", dir, name);
        if (k < 0 || (size_t)k >= sizeof path)
            continue;
        vg_slice v;
        int rc = sysfs_fdcache_read(&st->open_files, path, buf, sizeof buf, &v);
        if (rc) {
            /* unreadable files are skipped, as node_exporter does; a
             * directory named like a sensor (power/) is no fault */
            if (!sysfs_attr_absent_err(rc) && rc != -EIO)
                agent_ctx_parse_error(ctx, "hwmon", name);
            continue;
        }
        rc = hwmon_chip_add(&st->chip, name, v.p, v.n);
        if (rc == -EFBIG)
            agent_ctx_parse_error(ctx, "hwmon", name);
    }
}

static void hw_chip_label(const char *dirpath, char *out, size_t outlen,
                          const char *cleaned_name)
{
    char devpath[PATH_MAX], real[PATH_MAX];
    /* 1: where the device symlink points */
    int n = snprintf(devpath, sizeof devpath, "%s/device", dirpath);
    if (n > 0 && (size_t)n < sizeof devpath && realpath(devpath, real)) {
        sys_class_hwmon_chip_from_device(real, out, outlen);
        if (out[0])
            return;
    }
    /* 2: the name file */
    if (cleaned_name[0]) {
        snprintf(out, outlen, "%s", cleaned_name);
        return;
    }
    /* 3: hwmonN */
    out[0] = '\0';
    if (realpath(dirpath, real)) {
        const char *b = strrchr(real, '/');
        b = b ? b + 1 : real;
        sys_class_hwmon_clean(b, strlen(b), out, outlen);
    }
}

static int hw_collect(agent_ctx *ctx, void *state, vg_scrape *s)
{
    hw_state *st = state;
    char base[PATH_MAX];
    int rc = agent_path(ctx, AGENT_ROOT_SYS, "/class/hwmon", base, sizeof base);
    if (rc)
        return rc;
    rc = sysfs_dirlist_read(&st->chips, AT_FDCWD, base, NULL);
    if (rc)
        return rc; /* no hwmon class: nothing to report (success 0) */
    for (size_t i = 0; i < st->chips.n; i++) {
        const char *ent = sysfs_dirlist_name(&st->chips, i);
        char dir[PATH_MAX];
        int n = snprintf(dir, sizeof dir, "%s/%s", base, ent);
        if (n < 0 || (size_t)n >= sizeof dir)
            continue;
        struct stat sb;
        if (stat(dir, &sb) || !S_ISDIR(sb.st_mode))
            continue; /* not a directory */
        hwmon_chip *c = &st->chip;
        hwmon_chip_reset(c);
        char buf[160], sub[PATH_MAX + 16];
        vg_slice v;
        snprintf(sub, sizeof sub, "%s/name", dir);
        if (sysfs_fdcache_read(&st->open_files, sub, buf, sizeof buf, &v) == 0 && v.n)
            sys_class_hwmon_clean(v.p, v.n, c->chip_name, sizeof c->chip_name);
        hw_chip_label(dir, c->chip, sizeof c->chip, c->chip_name);
        if (!c->chip[0]) {
            agent_ctx_parse_error(ctx, "hwmon", "chip without a usable name");
            continue;
        }
        hw_read_dir(ctx, st, dir);
        snprintf(sub, sizeof sub, "%s/device", dir);
        if (stat(sub, &sb) == 0 && S_ISDIR(sb.st_mode))
            hw_read_dir(ctx, st, sub);
        sys_class_hwmon_emit(c, s);
    }
    sysfs_fdcache_sweep(&st->open_files);
    return 0;
}

const agent_collector agent_collector_hwmon = {
    .name = "hwmon",
    .default_enabled = true,
    .help = "Hardware sensors from /sys/class/hwmon (node_hwmon_*)",
    .opts = NULL,
    .nopts = 0,
    .init = hw_init,
    .collect = hw_collect,
    .release = hw_release,
    .loop_safe = true,
};
