"""opsim - drive kubesim for the operator tests (tests/integration/2xx).

  opsim.py KUBECONFIG mutate N [SEED]      N random pod/deployment/statefulset
                                           writes over keep-alive connections
  opsim.py KUBECONFIG converged OP_PORT    exit 0 when /debug/informers equals
                                           kubesim's store (keys and RVs)
  opsim.py KUBECONFIG wait OP_PORT SECS    poll converged until SECS pass
  opsim.py KUBECONFIG call METHOD PATH [JSON]
  opsim.py KUBECONFIG metric OP_PORT NAME{LABELS}   print a sample's value (0 if absent)
  opsim.py KUBECONFIG fault OP_PORT CHECK RULE N SEED
        one fault phase in one process: arm RULE (JSON; "" = none), wait until
        it has fired (count rules) or 2.5 s (unlimited ones: a pods watch starts
        under it), mutate N, converge, clear faults, then CHECK the pods watch
        restarts: "reason>" must have grown, "reason=" must not have
  opsim.py KUBECONFIG compact OP_PORT SEED    compaction while pods watches fail
  opsim.py KUBECONFIG simrestart OP_PORT SEED /_sim/restart cuts the watches

Credentials come from what kubesim writes beside the kubeconfig (FILE.ca.crt)
and the token (inline or tokenFile, re-read on every connection so a rotation
is followed). Standard library only.
"""
import http.client, json, random, re, ssl, sys, threading, time, urllib.request

KC = sys.argv[1]
TEXT = open(KC).read()
SERVER = re.search(r"server: https://([^\s]+)", TEXT).group(1)
HOST, PORT = SERVER.rsplit(":", 1)
NAMESPACES = ["ns0", "ns1", "ns2"]
# what the operator caches, and where kubesim lists it
RESOURCES = {"pods": "/api/v1/pods", "deployments": "/apis/apps/v1/deployments",
             "statefulsets": "/apis/apps/v1/statefulsets", "nodes": "/api/v1/nodes"}


def token():
    m = re.search(r"^\s+tokenFile: (\S+)", TEXT, re.M)
    if m:
        return open(m.group(1)).read().strip()
    m = re.search(r"^\s+token: (\S+)", TEXT, re.M)
    return m.group(1) if m else ""


CTX = ssl.create_default_context(cafile=KC + ".ca.crt")


class Conn:
    def __init__(self):
        self.c = None

    def call(self, method, path, body=None, ctype="application/json"):
        for attempt in range(5):
            if self.c is None:
                self.c = http.client.HTTPSConnection(HOST, int(PORT), context=CTX, timeout=30)
            h = {"Authorization": "Bearer " + token(), "Accept": "application/json"}
            data = None
            if body is not None:
                data = body if isinstance(body, bytes) else json.dumps(body).encode()
                h["Content-Type"] = ctype
            try:
                self.c.request(method, path, body=data, headers=h)
                r = self.c.getresponse()
                out = r.read()
                if r.getheader("Connection", "").lower() == "close":
                    self.c.close()
                    self.c = None
                if r.status in (429, 500, 503) and attempt < 4:
                    time.sleep(0.05)
                    continue
                return r.status, out
            except (OSError, http.client.HTTPException):
                self.c.close()
                self.c = None
                time.sleep(0.05)
        return 0, b""


def pod(name, ns, app):
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": ns, "labels": {"app": app}},
            "spec": {"containers": [{"name": "c", "image": "x",
                                     "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}}}]}}


def workload(kind, name, ns, replicas):
    tmpl = {"metadata": {"labels": {"w": name}}, "spec": {"containers": [{"name": "c", "image": "x"}]}}
    spec = {"replicas": replicas, "selector": {"matchLabels": {"w": name}}, "template": tmpl}
    if kind == "StatefulSet":
        spec["serviceName"] = name
    return {"apiVersion": "apps/v1", "kind": kind, "metadata": {"name": name, "namespace": ns}, "spec": spec}


def one(c, rnd):
    ns = rnd.choice(NAMESPACES)
    x = rnd.random()
    if x < 0.02:  # workloads: their controllers make pods and status churn too
        kind, plural = rnd.choice([("Deployment", "deployments"), ("StatefulSet", "statefulsets")])
        name = "w%d" % rnd.randrange(4)
        y = rnd.random()
        if y < 0.4:
            c.call("POST", "/apis/apps/v1/namespaces/%s/%s" % (ns, plural), workload(kind, name, ns, rnd.randrange(3)))
        elif y < 0.8:
            c.call("PATCH", "/apis/apps/v1/namespaces/%s/%s/%s" % (ns, plural, name),
                   {"spec": {"replicas": rnd.randrange(3)}}, "application/merge-patch+json")
        else:
            c.call("DELETE", "/apis/apps/v1/namespaces/%s/%s/%s" % (ns, plural, name))
        return
    name = "p%d" % rnd.randrange(120)
    base = "/api/v1/namespaces/%s/pods" % ns
    if x < 0.45:
        c.call("POST", base, pod(name, ns, "a%d" % rnd.randrange(5)))
    elif x < 0.8:
        c.call("PATCH", base + "/" + name, {"metadata": {"labels": {"r": str(rnd.randrange(1 << 30))}}},
               "application/merge-patch+json")
    else:
        c.call("DELETE", base + "/" + name + "?gracePeriodSeconds=0")


def mutate(n, seed, conns=4, quiet=False):
    c0 = Conn()
    for ns in NAMESPACES:
        c0.call("POST", "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})

    def worker(k):
        c, rnd = Conn(), random.Random(seed * 31 + k)
        for _ in range(n // conns + (1 if k < n % conns else 0)):
            one(c, rnd)

    t0 = time.time()
    ts = [threading.Thread(target=worker, args=(k,)) for k in range(conns)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    dt = time.time() - t0
    if not quiet:
        print("%d mutations in %.1f s (%.0f/s)" % (n, dt, n / dt if dt else 0))


def truth(c):
    want = {}
    for res, path in RESOURCES.items():
        st, body = c.call("GET", path)
        if st != 200:
            return None
        d = {}
        for i in json.loads(body)["items"]:
            m = i["metadata"]
            d[(m["namespace"] + "/" if m.get("namespace") else "") + m["name"]] = m["resourceVersion"]
        want[res] = d
    return want


def cache(op_port):
    with urllib.request.urlopen("http://127.0.0.1:%s/debug/informers" % op_port, timeout=10) as r:
        doc = json.load(r)
    return {i["resource"]: (i["synced"], {o["key"]: o["rv"] for o in i["objects"]}) for i in doc["informers"]}


def converged(op_port, c=None):
    c = c or Conn()
    want = truth(c)
    if want is None:
        return False, "kubesim did not answer"
    try:
        got = cache(op_port)
    except OSError as e:
        return False, "operator did not answer: %s" % e
    for res, w in want.items():
        synced, g = got.get(res, (False, {}))
        if not synced or g != w:
            missing = sorted(set(w) - set(g))[:3]
            extra = sorted(set(g) - set(w))[:3]
            stale = sorted(k for k in set(w) & set(g) if w[k] != g[k])[:3]
            return False, "%s: synced=%s %d vs %d missing=%s extra=%s stale=%s" % (
                res, synced, len(w), len(g), missing, extra, stale)
    return True, "converged: " + ", ".join("%d %s" % (len(w), r) for r, w in want.items())


def metric(op_port, sel):
    with urllib.request.urlopen("http://127.0.0.1:%s/metrics" % op_port, timeout=10) as r:
        for line in r.read().decode().splitlines():
            if line.startswith(sel + " "):
                return float(line.split()[-1])
    return 0.0


def restarts(op_port, reason):
    return metric(op_port, 'vigil_operator_watch_restarts_total{resource="pods",reason="%s"}' % reason)


def faults(c):
    st, body = c.call("GET", "/_sim/faults")
    return json.loads(body) if st == 200 else []


def wait_until(what, cond, secs=10):
    deadline = time.time() + secs
    while not cond():
        if time.time() > deadline:
            sys.exit("FAIL: %s did not happen within %d s" % (what, secs))
        time.sleep(0.05)


def converge_or_die(op_port, c, secs=30):
    deadline = time.time() + secs
    while True:
        ok, why = converged(op_port, c)
        if ok:
            return why
        if time.time() > deadline:
            sys.exit("FAIL: not converged: " + why)
        time.sleep(0.1)


def check(op_port, spec, before):
    reason, op = spec[:-1], spec[-1]
    after = restarts(op_port, reason)
    if (op == ">" and after <= before) or (op == "=" and after != before):
        sys.exit("FAIL: restarts{reason=%s} went %d -> %d, want %s" % (reason, before, after,
                                                                     "more" if op == ">" else "the same"))
    return "restarts{reason=%s} %d -> %d" % (reason, before, after)


def fault_phase(op_port, spec, rule, n, seed):
    c = Conn()
    before = restarts(op_port, spec[:-1])
    if rule:
        st, body = c.call("POST", "/_sim/faults", json.loads(rule))
        if st != 200 and st != 201:
            sys.exit("FAIL: fault refused: %s" % body)
        if json.loads(rule).get("count", -1) > 0:
            wait_until("the fault firing", lambda: all(r["count"] == 0 for r in faults(c)))
        else:
            time.sleep(2.5)
    mutate(n, seed, quiet=True)
    why = converge_or_die(op_port, c)
    c.call("DELETE", "/_sim/faults")
    print(why + "; " + check(op_port, spec, before))


def compact_phase(op_port, seed):
    c = Conn()
    before = restarts(op_port, "expired")
    c.call("POST", "/_sim/faults", {"type": "status", "code": 500, "resource": "pods", "verb": "watch", "count": 4})
    wait_until("the pods watch failing", lambda: any(r["fired"] > 0 for r in faults(c)))
    mutate(100, seed, quiet=True)   # the operator misses these...
    c.call("POST", "/_sim/compact")  # ...and the server forgets them
    wait_until("the faults firing", lambda: all(r["count"] == 0 for r in faults(c)))
    mutate(200, seed + 1, quiet=True)
    why = converge_or_die(op_port, c)
    c.call("DELETE", "/_sim/faults")
    print(why + "; " + check(op_port, "expired>", before))


def simrestart_phase(op_port, seed):
    c = Conn()
    before = restarts(op_port, "network")
    # a watch may be between two requests at that instant: again, bounded
    for _ in range(10):
        c.call("POST", "/_sim/restart")
        t = time.time() + 0.5
        while time.time() < t and restarts(op_port, "network") <= before:
            time.sleep(0.05)
        if restarts(op_port, "network") > before:
            break
    mutate(200, seed, quiet=True)
    why = converge_or_die(op_port, c)
    print(why + "; " + check(op_port, "network>", before))


def main():
    cmd = sys.argv[2]
    if cmd == "mutate":
        mutate(int(sys.argv[3]), int(sys.argv[4]) if len(sys.argv) > 4 else 1)
    elif cmd == "converged":
        ok, why = converged(sys.argv[3])
        print(why)
        sys.exit(0 if ok else 1)
    elif cmd == "wait":
        deadline = time.time() + float(sys.argv[4])
        c = Conn()
        t0 = time.time()
        while True:
            ok, why = converged(sys.argv[3], c)
            if ok:
                print("%s (after %.1f s)" % (why, time.time() - t0))
                return
            if time.time() > deadline:
                print("not converged: " + why)
                sys.exit(1)
            time.sleep(0.2)
    elif cmd == "call":
        # PATCH bodies are merge patches (RFC 7386)
        ctype = "application/merge-patch+json" if sys.argv[3] == "PATCH" else "application/json"
        st, body = Conn().call(sys.argv[3], sys.argv[4], json.loads(sys.argv[5]) if len(sys.argv) > 5 else None,
                               ctype)
        sys.stdout.write(body.decode(errors="replace"))
        sys.exit(0 if 200 <= st < 300 else 1)
    elif cmd == "fault":
        fault_phase(sys.argv[3], sys.argv[4], sys.argv[5], int(sys.argv[6]), int(sys.argv[7]))
    elif cmd == "compact":
        compact_phase(sys.argv[3], int(sys.argv[4]))
    elif cmd == "simrestart":
        simrestart_phase(sys.argv[3], int(sys.argv[4]))
    elif cmd == "metric":
        v = metric(sys.argv[3], sys.argv[4])
        print(int(v) if v == int(v) else v)
    else:
        sys.exit("unknown command " + cmd)


if __name__ == "__main__":
    main()
