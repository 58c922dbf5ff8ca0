#!/usr/bin/env python3
"""promcompare.py - compare vigil-agent's node metrics with node_exporter's.

Usage: promcompare.py NE_BEFORE VIGIL NE_AFTER

The three files are Prometheus text expositions scraped in that order from
node_exporter, vigil-agent and node_exporter again, both running the same
collectors on the same machine. For every node_* family both emit:

  - the TYPE must be the same;
  - the label names and the set of series (label sets) must be the same;
  - values: static gauges (sizes, limits, *_info ...) must be equal;
    counters (and untyped counters: netstat, vmstat) must lie between the
    two node_exporter scrapes, with a small slack; fast-changing gauges
    (free memory, load, procs running, time ...) are checked for presence.

Every family node_exporter emits that vigil lacks is a failure unless it is
in MISSING_ALLOWED below, with the reason. Families only vigil has are
listed for information. Exit 0 when all checks pass, 1 otherwise, with a
readable diff on stdout.
"""
import math
import re
import sys

# Families node_exporter 1.5 emits that vigil deliberately does not, with why.
MISSING_ALLOWED = {
    # node_exporter's own identity, not a collector family.
    "node_exporter_build_info": "node_exporter's build info; vigil reports vigil_build_info",
}

# Labels vigil adds to a node_exporter family, with why; they are dropped
# from vigil's series before comparing (only when node_exporter lacks them).
EXTRA_LABELS_ALLOWED = {
    "node_disk_info": {
        "rotational": "node_exporter 1.7+ reports it; 1.5 on this machine does not yet",
    },
}

# Families that are not compared at all (scrape bookkeeping).
IGNORED = re.compile(r"^(node_scrape_collector_duration_seconds|node_exporter_build_info)$")

# Gauges whose value does not change while the machine runs: must be equal.
STATIC_GAUGES = re.compile(
    r"^(node_memory_(MemTotal|SwapTotal|Hugepagesize|HugePages_Total|VmallocTotal|CmaTotal)_?(bytes)?"
    r"|node_filefd_maximum"
    r"|node_entropy_pool_size_bits"
    r"|node_boot_time_seconds"
    r"|node_os_version"
    r"|node_time_zone_offset_seconds"
    r"|node_cpu_isolated"
    r"|node_network_(mtu_bytes|speed_bytes|address_assign_type|device_id|dormant|flags|iface_id"
    r"|iface_link|iface_link_mode|name_assign_type|net_dev_group|protocol_type|transmit_queue_length)"
    r"|node_filesystem_(size_bytes|files|readonly|device_error)"
    r"|node_hwmon_chip_names"
    r"|node_cooling_device_max_state"
    r"|node_netstat_Ip_Forwarding"
    r"|.*_info)$"
)

# Untyped families that are gauges, not counters: presence only.
UNTYPED_GAUGES = re.compile(r"^(node_netstat_Tcp_CurrEstab)$")

# Counter slack: absolute, per family prefix (default 1e-6), plus 1e-9 relative.
# /proc/stat CPU times are ticks of 10 ms and a CPU's idle/iowait time may
# step back slightly in the kernel (node_exporter hides that with state that
# vigil's first scrape does not have yet).
COUNTER_SLACK = [
    (re.compile(r"^node_cpu_(guest_)?seconds_total$"), 0.5),
]


def unescape(v):
    out, i = [], 0
    while i < len(v):
        c = v[i]
        if c == "\\" and i + 1 < len(v):
            n = v[i + 1]
            out.append({"n": "\n", "\\": "\\", '"': '"'}.get(n, "\\" + n))
            i += 2
        else:
            out.append(c)
            i += 1
    return "".join(out)


LABEL_RE = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*,?')


def parse(path):
    """Return {family: {"type": str, "series": {frozenset(labels): value}}}."""
    fams = {}
    types = {}
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line:
                continue
            if line.startswith("#"):
                parts = line.split(None, 3)
                if len(parts) >= 4 and parts[1] == "TYPE":
                    types[parts[2]] = parts[3].strip()
                continue
            m = re.match(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})?\s+(\S+)(\s+\S+)?$", line)
            if not m:
                raise SystemExit(f"{path}: cannot parse line: {line!r}")
            name, lbls, val = m.group(1), m.group(2), m.group(3)
            labels = {}
            if lbls:
                body = lbls[1:-1]
                pos = 0
                while pos < len(body):
                    lm = LABEL_RE.match(body, pos)
                    if not lm:
                        raise SystemExit(f"{path}: bad labels: {line!r}")
                    labels[lm.group(1)] = unescape(lm.group(2))
                    pos = lm.end()
            fam = name
            if fam not in types:
                for suf in ("_bucket", "_sum", "_count"):
                    if name.endswith(suf) and name[: -len(suf)] in types:
                        fam = name[: -len(suf)]
            v = float(val.replace("+Inf", "inf").replace("-Inf", "-inf"))
            e = fams.setdefault(fam, {"type": types.get(fam, "untyped"), "series": {}})
            e["series"][frozenset(labels.items())] = v
    return fams


def fmt_labels(ls):
    return "{" + ",".join(f'{k}="{v}"' for k, v in sorted(ls)) + "}"


def slack_for(name):
    for rx, s in COUNTER_SLACK:
        if rx.match(name):
            return s
    return 1e-6


def main():
    if len(sys.argv) != 4:
        raise SystemExit(__doc__)
    ne1, vg, ne2 = (parse(p) for p in sys.argv[1:])
    errors = []
    compared = 0
    node = lambda d: {k for k in d if k.startswith("node_") and not IGNORED.match(k)}

    # scrape success: a collector node_exporter runs successfully must succeed in vigil too
    succ = "node_scrape_collector_success"
    if succ in ne1 and succ in vg:
        vs = {dict(k).get("collector"): v for k, v in vg[succ]["series"].items()}
        for k, v in ne1[succ]["series"].items():
            c = dict(k).get("collector")
            if v == 1 and c in vs and vs[c] != 1:
                errors.append(f"collector {c}: node_exporter succeeds, vigil reports success {vs[c]}")

    for fam in sorted(node(ne1) | node(ne2)):
        if fam == succ:
            continue
        if fam not in vg:
            if fam in MISSING_ALLOWED:
                print(f"  allowed missing: {fam} ({MISSING_ALLOWED[fam]})")
            else:
                errors.append(f"{fam}: emitted by node_exporter, missing in vigil")
            continue
        a = ne1.get(fam) or ne2[fam]
        b = ne2.get(fam) or a
        v = vg[fam]
        compared += 1
        if a["type"] != v["type"]:
            errors.append(f"{fam}: TYPE node_exporter={a['type']} vigil={v['type']}")
            continue
        lnames_ne = {k for s in a["series"] for k, _ in s}
        drop = {l for l in EXTRA_LABELS_ALLOWED.get(fam, {}) if l not in lnames_ne}
        if drop:
            v = {"type": v["type"], "series": {
                frozenset((k, x) for k, x in s if k not in drop): y for s, y in v["series"].items()}}
            print(f"  allowed extra labels on {fam}: {sorted(drop)}")
        lnames_vg = {k for s in v["series"] for k, _ in s}
        if lnames_ne != lnames_vg:
            errors.append(f"{fam}: label names node_exporter={sorted(lnames_ne)} vigil={sorted(lnames_vg)}")
            continue
        # Series present in both node_exporter scrapes must be in vigil, and
        # vigil may only add series one of the node_exporter scrapes also had.
        stable = set(a["series"]) & set(b["series"])
        either = set(a["series"]) | set(b["series"])
        for s in sorted(stable - set(v["series"]), key=fmt_labels):
            errors.append(f"{fam}{fmt_labels(s)}: missing in vigil")
        for s in sorted(set(v["series"]) - either, key=fmt_labels):
            errors.append(f"{fam}{fmt_labels(s)}: only in vigil")
        kind = a["type"]
        for s in sorted(stable & set(v["series"]), key=fmt_labels):
            x1, x2, y = a["series"][s], b["series"][s], v["series"][s]
            where = f"{fam}{fmt_labels(s)}"
            if kind == "gauge" or (kind == "untyped" and UNTYPED_GAUGES.match(fam)):
                if STATIC_GAUGES.match(fam):
                    same = (x1 == y) or (math.isnan(x1) and math.isnan(y))
                    if not same:
                        errors.append(f"{where}: static value node_exporter={x1!r} vigil={y!r}")
                continue  # fast-changing gauge: presence is enough
            if kind in ("counter", "untyped"):
                lo, hi = min(x1, x2), max(x1, x2)
                sl = slack_for(fam) + 1e-9 * max(abs(lo), abs(hi))
                if not (lo - sl <= y <= hi + sl):
                    errors.append(f"{where}: counter {y!r} outside node_exporter's [{x1!r}, {x2!r}]")

    extra = sorted(node(vg) - node(ne1) - node(ne2) - {succ})
    if extra:
        print("  vigil-only families (information): " + ", ".join(extra))
    print(f"  compared {compared} families")
    if errors:
        print(f"{len(errors)} difference(s):")
        for e in errors:
            print("  - " + e)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
