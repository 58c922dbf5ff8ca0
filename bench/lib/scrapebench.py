#!/usr/bin/env python3
"""scrapebench.py - scrape two exporters side by side and compare them.

Starts each command (the string "{port}" in it is replaced by a free
loopback port), waits for /metrics to answer, warms both up, then
interleaves N scrapes of each (alternating which goes first) over
keep-alive HTTP/1.1 connections, the way Prometheus scrapes, without
compression. Measured per exporter:

  - wall time per scrape (request sent -> body read), median and p99;
  - CPU seconds per 100 scrapes: the process-wide CPU clock
    (clock_getcpuclockid, all threads, nanoseconds) over the measured
    window divided by the scrapes in it - /proc tick counts are too coarse
    for a process that spends well under a millisecond per scrape;
  - peak RSS (VmHWM) after the run;
  - bytes per scrape and series per scrape (sample lines).

Prints a markdown table with the ratios vigil/other and, when targets are
given, whether they are met. Only the standard library is used.

  scrapebench.py --label-a vigil --cmd-a '...' --label-b node_exporter
                 --cmd-b '...' [-n 200] [--warmup 10] [--target-cpu 0.1]
                 [--target-wall 0.2] [--target-rss-mib 4]
"""
import argparse
import http.client
import os
import shlex
import signal
import socket
import statistics
import subprocess
import sys
import time


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def cpu_clock_id(pid):
    # Linux: the process-wide CPU clock of pid (CPUCLOCK_SCHED), as
    # clock_getcpuclockid(3) builds it.
    return ((~pid) << 3) | 2


def proc_status(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


class Target:
    def __init__(self, label, cmd):
        self.label = label
        self.port = free_port()
        self.argv = [a.replace("{port}", str(self.port)) for a in shlex.split(cmd)]
        self.proc = None
        self.conn = None
        self.walls = []
        self.sizes = []
        self.series = 0
        self.cpu0 = self.cpu1 = 0.0
        self.hwm_kib = 0
        self.rss_kib = 0

    def start(self, log):
        self.proc = subprocess.Popen(self.argv, stdout=log, stderr=log,
                                     stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"{self.label} exited at start ({self.argv[0]})")
            try:
                self.scrape()
                return
            except OSError:
                time.sleep(0.05)
        raise SystemExit(f"{self.label} did not answer on port {self.port}")

    def _connect(self):
        self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)

    def scrape(self):
        """One scrape; returns (seconds, body)."""
        for attempt in (0, 1):
            if self.conn is None:
                self._connect()
            try:
                t0 = time.perf_counter()
                self.conn.request("GET", "/metrics", headers={
                    "Accept": "text/plain;version=0.0.4",
                    "Accept-Encoding": "identity",
                    "X-Prometheus-Scrape-Timeout-Seconds": "10",
                })
                resp = self.conn.getresponse()
                body = resp.read()
                dt = time.perf_counter() - t0
                if resp.status != 200:
                    raise OSError(f"{self.label}: HTTP {resp.status}")
                if resp.getheader("Connection", "").lower() == "close":
                    self.conn.close()
                    self.conn = None
                return dt, body
            except (http.client.HTTPException, ConnectionError):
                # a server that closed the idle connection: reconnect once
                self.conn.close()
                self.conn = None
                if attempt:
                    raise
        raise OSError("unreachable")

    def cpu(self):
        return time.clock_gettime(cpu_clock_id(self.proc.pid))

    def stop(self):
        if self.conn:
            self.conn.close()
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def pct(values, q):
    v = sorted(values)
    if not v:
        return float("nan")
    k = min(len(v) - 1, max(0, int(round(q * (len(v) - 1)))))
    return v[k]


def series_count(body):
    n = 0
    for line in body.split(b"\n"):
        if line and not line.startswith(b"#"):
            n += 1
    return n


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--label-a", default="vigil")
    ap.add_argument("--cmd-a", required=True)
    ap.add_argument("--label-b", default="node_exporter")
    ap.add_argument("--cmd-b", required=True)
    ap.add_argument("-n", type=int, default=200)
    ap.add_argument("--warmup", type=int, default=10)
    ap.add_argument("--target-cpu", type=float)
    ap.add_argument("--target-wall", type=float)
    ap.add_argument("--target-rss-mib", type=float)
    ap.add_argument("--log", default=os.devnull)
    args = ap.parse_args()

    a = Target(args.label_a, args.cmd_a)
    b = Target(args.label_b, args.cmd_b)
    log = open(args.log, "ab")
    try:
        a.start(log)
        b.start(log)
        for _ in range(args.warmup):
            a.scrape()
            b.scrape()
        a.cpu0, b.cpu0 = a.cpu(), b.cpu()
        for i in range(args.n):
            order = (a, b) if i % 2 == 0 else (b, a)
            for t in order:
                dt, body = t.scrape()
                t.walls.append(dt)
                t.sizes.append(len(body))
                t.series = series_count(body)
        a.cpu1, b.cpu1 = a.cpu(), b.cpu()
        for t in (a, b):
            t.hwm_kib = proc_status(t.proc.pid, "VmHWM")
            t.rss_kib = proc_status(t.proc.pid, "VmRSS")
    finally:
        a.stop()
        b.stop()
        log.close()

    def row(t):
        return {
            "median": statistics.median(t.walls) * 1000,
            "p99": pct(t.walls, 0.99) * 1000,
            "cpu100": (t.cpu1 - t.cpu0) / args.n * 100,
            "hwm": t.hwm_kib / 1024,
            "rss": t.rss_kib / 1024,
            "bytes": statistics.mean(t.sizes),
            "series": t.series,
        }

    ra, rb = row(a), row(b)

    def ratio(k):
        return ra[k] / rb[k] if rb[k] else float("nan")

    print(f"{args.n} interleaved scrapes of each after {args.warmup} warm-up scrapes, "
          f"keep-alive HTTP/1.1, uncompressed, {os.cpu_count()} CPUs, kernel {os.uname().release}.")
    print()
    print(f"| | {a.label} | {b.label} | {a.label}/{b.label} |")
    print("|---|---:|---:|---:|")
    print(f"| scrape wall time, median | {ra['median']:.3f} ms | {rb['median']:.3f} ms | {ratio('median'):.3f} |")
    print(f"| scrape wall time, p99 | {ra['p99']:.3f} ms | {rb['p99']:.3f} ms | {ratio('p99'):.3f} |")
    print(f"| CPU per 100 scrapes | {ra['cpu100']:.4f} s | {rb['cpu100']:.4f} s | {ratio('cpu100'):.3f} |")
    print(f"| peak RSS (VmHWM) | {ra['hwm']:.2f} MiB | {rb['hwm']:.2f} MiB | {ratio('hwm'):.3f} |")
    print(f"| RSS after the run | {ra['rss']:.2f} MiB | {rb['rss']:.2f} MiB | {ratio('rss'):.3f} |")
    print(f"| bytes per scrape | {ra['bytes']:.0f} | {rb['bytes']:.0f} | {ratio('bytes'):.3f} |")
    print(f"| series per scrape | {ra['series']} | {rb['series']} | {ratio('series'):.3f} |")
    checks = []
    if args.target_cpu is not None:
        checks.append((f"CPU per scrape <= {args.target_cpu}x", ratio("cpu100") <= args.target_cpu))
    if args.target_wall is not None:
        checks.append((f"median wall <= {args.target_wall}x", ratio("median") <= args.target_wall))
    if args.target_rss_mib is not None:
        checks.append((f"{a.label} peak RSS <= {args.target_rss_mib} MiB",
                       ra["hwm"] <= args.target_rss_mib))
    if checks:
        print()
        print("Targets: " + "; ".join(f"{name}: {'met' if ok else 'MISSED'}" for name, ok in checks))
    return 0


if __name__ == "__main__":
    sys.exit(main())
