#!/usr/bin/env python3
"""make bench: ferredis side by side with real Redis, on the same machine.

Starts target/release/ferredis and Debian's redis-server with the same
settings (no persistence) on free loopback ports, then runs redis-benchmark
against each in turn, alternating A B A B over several rounds so machine
noise hits both alike. For every test and mode it prints the median
requests per second of each, the ratio ours/Redis and p50/p99 latency, and
writes the same table (plus a scaling chart as SVG) under bench/results/.

Memory: RSS growth per element for 1M small strings, 100k hashes of 10
fields, one list of 1M elements and one sorted set of 1M members, and RSS
per idle connection for 10,000 connections.

Usage: bench/bench.py [--quick] [--rounds N] [--skip-memory] [--skip-scaling] [--skip-aof]
                      [--memory-only [DATASET]] [--tests set,get,...]
BENCH_QUICK=1 in the environment is the same as --quick (a smoke run).
"""

import argparse
import os
import platform
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OURS = os.path.join(ROOT, "target", "release", "ferredis")
TESTS = "set,get,incr,lpush,rpush,lpop,rpop,sadd,hset,spop,zadd,zpopmin,lrange_100,lrange_600,mset"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_ping(port, timeout=10.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                s.sendall(b"PING\r\n")
                if s.recv(16).startswith(b"+PONG"):
                    return True
        except OSError:
            time.sleep(0.05)
    return False


class Server:
    """A server process on a free port with a private data directory."""

    def __init__(self, name, argv_fn, extra=()):
        self.name = name
        self.dir = tempfile.mkdtemp(prefix="bench-%s-" % name)
        self.port = free_port()
        argv = argv_fn(self.port, self.dir) + list(extra)
        self.proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if not wait_ping(self.port):
            self.stop()
            raise RuntimeError("%s did not start" % name)

    def rss_kb(self):
        with open("/proc/%d/status" % self.proc.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    def cmd(self, *args):
        with socket.create_connection(("127.0.0.1", self.port)) as s:
            s.sendall(encode(args))
            return s.recv(65536)

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


def ours(port, d):
    return [OURS, "--port", str(port), "--bind", "127.0.0.1", "--dir", d, "--save", "", "--appendonly", "no",
            "--maxclients", "20000", "--loglevel", "warning"]


def redis(port, d):
    return ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--dir", d, "--save", "",
            "--appendonly", "no", "--maxclients", "20000", "--loglevel", "warning"]


def encode(args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


def run_benchmark(port, tests, clients, requests, pipeline=1):
    """Runs redis-benchmark; returns {TEST: (rps, p50_ms, p99_ms)}."""
    argv = ["redis-benchmark", "-p", str(port), "-c", str(clients), "-n", str(requests), "-r", "100000",
            "-d", "16", "-P", str(pipeline), "--csv", "-t", tests]
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=600).stdout
    except subprocess.TimeoutExpired:
        return {}
    result = {}
    for line in out.splitlines()[1:]:
        cols = [c.strip('"') for c in line.split('","')]
        if len(cols) >= 7:
            try:
                result[cols[0]] = (float(cols[1]), float(cols[4]), float(cols[6]))
            except ValueError:
                pass
    return result


def compare(servers, tests, clients, requests, pipeline, rounds):
    """Alternates the servers for `rounds`; returns {test: {name: (rps, p50, p99)}} medians."""
    samples = {}
    # One redis-benchmark run per test: a command one server lacks then
    # costs only its own row (redis-benchmark stops at the first error).
    for one in tests.split(","):
        for _ in range(rounds):
            for srv in servers:
                for test, vals in run_benchmark(srv.port, one, clients, requests, pipeline).items():
                    samples.setdefault(test, {}).setdefault(srv.name, []).append(vals)
    medians = {}
    for test, by_server in samples.items():
        medians[test] = {
            name: tuple(statistics.median(v[i] for v in vals) for i in range(3))
            for name, vals in by_server.items()
        }
    return medians


def table(title, medians):
    lines = ["### " + title, "",
             "| test | ferredis rps | redis rps | ratio | ferredis p50/p99 ms | redis p50/p99 ms |",
             "|---|---:|---:|---:|---:|---:|"]
    for test, by in medians.items():
        o = by.get("ferredis", (0, 0, 0))
        r = by.get("redis", (0, 0, 0))
        ratio = o[0] / r[0] if r[0] else 0
        lines.append("| %s | %.0f | %.0f | %.2f | %.3f / %.3f | %.3f / %.3f |" % (
            test, o[0], r[0], ratio, o[1], o[2], r[1], r[2]))
    return "\n".join(lines) + "\n"


def load(srv, commands, batch=1000):
    """Sends commands pipelined in batches and drains the replies."""
    with socket.create_connection(("127.0.0.1", srv.port)) as s:
        s.settimeout(120)
        for i in range(0, len(commands), batch):
            chunk = commands[i:i + batch]
            s.sendall(b"".join(encode(c) for c in chunk))
            need = len(chunk)
            buf = b""
            while buf.count(b"\r\n") < need:
                data = s.recv(1 << 20)
                if not data:
                    return
                buf += data


def memory_sets(scale):
    """The memory data sets: (title, element count, command generator)."""
    return [
        ("1M small strings", 1_000_000 // scale,
         lambda n: [("SET", "key:%d" % i, "v" * 16) for i in range(n)]),
        ("100k hashes x 10 fields", 100_000 // scale,
         lambda n: [("HSET", "h:%d" % i) + tuple(x for f in range(10) for x in ("f%d" % f, "v%d" % f)) for i in range(n)]),
        ("list of 1M elements", 1_000_000 // scale,
         lambda n: [("RPUSH", "biglist") + tuple("e%d" % j for j in range(i, min(i + 100, n))) for i in range(0, n, 100)]),
        ("zset of 1M members", 1_000_000 // scale,
         lambda n: [("ZADD", "bigzset") + tuple(x for j in range(i, min(i + 100, n)) for x in (j, "m%d" % j)) for i in range(0, n, 100)]),
    ]


def memory(scale, only=None):
    """RSS growth per element, each data set loaded into a fresh server.

    A fresh process per data set (ours and Redis's alike): an allocator
    keeps the heap a FLUSHALL frees, so a reused server would show no
    growth for the second data set. RSS is VmRSS from /proc/PID/status,
    read before loading and after, once the server is idle.
    """
    lines = ["### Memory (RSS growth per element, fresh server per data set)", "",
             "| data set | elements | ferredis bytes/elem | redis bytes/elem | ratio |", "|---|---:|---:|---:|---:|"]
    for title, n, make in memory_sets(scale):
        if only and only.lower() not in title.lower():
            continue
        per = {}
        cmds = make(n)
        for name, argv in (("ferredis", ours), ("redis", redis)):
            srv = Server(name, argv)
            try:
                time.sleep(0.3)
                before = srv.rss_kb()
                load(srv, cmds)
                time.sleep(0.5)
                per[name] = (srv.rss_kb() - before) * 1024 / n
            finally:
                srv.stop()
        o, r = per.get("ferredis", 0), per.get("redis", 0)
        lines.append("| %s | %d | %.1f | %.1f | %.2f |" % (title, n, o, r, o / r if r else 0))
    if only:
        return "\n".join(lines) + "\n"
    # Idle connections, also on fresh servers.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(hard, 30000)
    resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    count = min(10_000, want // 2 - 100) // (1 if scale == 1 else 10)
    lines += ["", "| idle connections | server | bytes/conn |", "|---:|---|---:|"]
    for name, argv in (("ferredis", ours), ("redis", redis)):
        srv = Server(name, argv)
        try:
            time.sleep(0.3)
            before = srv.rss_kb()
            socks = []
            for _ in range(count):
                try:
                    socks.append(socket.create_connection(("127.0.0.1", srv.port)))
                except OSError:
                    break
            time.sleep(1.0)
            per = (srv.rss_kb() - before) * 1024 / max(1, len(socks))
            lines.append("| %d | %s | %.0f |" % (len(socks), name, per))
            for s in socks:
                s.close()
        finally:
            srv.stop()
    return "\n".join(lines) + "\n"


def svg_chart(panels, path):
    """Writes the scaling curves as an SVG line chart, one panel per axis
    (clients, pipeline depth), one line per test, y = ours/Redis."""
    pw, h, pad = 360, 320, 40
    colors = {"SET": "#d33", "GET": "#36c"}
    w = pw * len(panels)
    parts = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="11">' % (w, h),
             '<rect width="100%" height="100%" fill="white"/>']
    ymax = max([1.5] + [v for _, curves in panels for _, pts in curves for _, v in pts])
    y = lambda v: h - pad - (h - 2 * pad) * v / ymax
    for pi, (axis, curves) in enumerate(panels):
        x0 = pi * pw
        parts.append('<text x="%d" y="15" font-weight="bold">ours/Redis by %s</text>' % (x0 + pad, axis))
        parts.append('<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#999"/>' % (x0 + pad, y(0), x0 + pw - 10, y(0)))
        parts.append('<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#999" stroke-dasharray="4"/>' % (x0 + pad, y(1), x0 + pw - 10, y(1)))
        for tick in (0.5, 1.0, 1.5, 2.0, 2.5, 3.0):
            if tick <= ymax:
                parts.append('<text x="%d" y="%.1f" text-anchor="end">%.1f</text>' % (x0 + pad - 4, y(tick) + 4, tick))
        for ci, (name, pts) in enumerate(curves):
            if not pts:
                continue
            step = (pw - pad - 20) / max(1, len(pts) - 1)
            coords = ["%.1f,%.1f" % (x0 + pad + i * step, y(v)) for i, (_, v) in enumerate(pts)]
            color = colors.get(name, "#393")
            parts.append('<polyline fill="none" stroke="%s" stroke-width="2" points="%s"/>' % (color, " ".join(coords)))
            for i, (label, v) in enumerate(pts):
                parts.append('<circle cx="%.1f" cy="%.1f" r="3" fill="%s"/>' % (x0 + pad + i * step, y(v), color))
                if ci == 0:
                    parts.append('<text x="%.1f" y="%d" text-anchor="middle">%s</text>' % (x0 + pad + i * step, h - pad + 14, label))
            parts.append('<text x="%d" y="%d" fill="%s">%s</text>' % (x0 + pw - 60, 30 + 14 * ci, color, name))
        parts.append('<text x="%d" y="%d" text-anchor="middle">%s</text>' % (x0 + pad + (pw - pad) / 2, h - 8, axis))
    parts.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(parts))


def aof_tables(n, rounds):
    """SET with the AOF on, appendfsync always then everysec, both servers alike."""
    out = []
    for fsync in ("always", "everysec"):
        extra = ["--appendonly", "yes", "--appendfsync", fsync]
        servers = [Server("ferredis", ours, extra), Server("redis", redis, extra)]
        try:
            out.append(table("AOF appendfsync %s, 50 clients" % fsync, compare(servers, "set", 50, n, 1, rounds)))
        finally:
            for srv in servers:
                srv.stop()
    return "\n".join(out)


# A subscriber that drains its socket until the server closes it. Each runs
# as its own process: drained by threads of one Python interpreter, 50
# subscribers took turns on its global lock, and the row measured that.
DRAIN_SUBSCRIBER = r"""
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"*2\r\n$9\r\nSUBSCRIBE\r\n$13\r\nbench-channel\r\n")
while s.recv(1 << 16):
    pass
"""


def publish_table(servers, n, rounds):
    """PUBLISH throughput with 1 and 50 subscribers draining the channel."""
    lines = ["### PUBLISH", "", "| subscribers | ferredis rps | redis rps | ratio |", "|---|---:|---:|---:|"]
    for subs in (1, 50):
        rps = {}
        for _ in range(rounds):
            for srv in servers:
                drains = [subprocess.Popen([sys.executable, "-c", DRAIN_SUBSCRIBER, str(srv.port)])
                          for _ in range(subs)]
                try:
                    time.sleep(0.5)
                    argv = ["redis-benchmark", "-p", str(srv.port), "-c", "50", "-n", str(n), "--csv",
                            "PUBLISH", "bench-channel", "0123456789abcdef"]
                    out = subprocess.run(argv, capture_output=True, text=True, timeout=600).stdout
                finally:
                    for d in drains:
                        d.kill()
                    for d in drains:
                        d.wait()
                for line in out.splitlines()[1:]:
                    cols = [c.strip('"') for c in line.split('","')]
                    if len(cols) >= 2:
                        try:
                            rps.setdefault(srv.name, []).append(float(cols[1]))
                        except ValueError:
                            pass
        o = statistics.median(rps.get("ferredis", [0]))
        r = statistics.median(rps.get("redis", [0]))
        lines.append("| %d | %.0f | %.0f | %.2f |" % (subs, o, r, o / r if r else 0))
    return "\n".join(lines) + "\n"


def load_average():
    try:
        with open("/proc/loadavg") as f:
            return " ".join(f.read().split()[:3])
    except OSError:
        return "?"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true",
                    help="fewer requests, one round, a tenth of the memory data (also BENCH_QUICK=1)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--skip-memory", action="store_true")
    ap.add_argument("--skip-scaling", action="store_true")
    ap.add_argument("--skip-aof", action="store_true", help="skip SET with appendonly yes")
    ap.add_argument("--memory-only", nargs="?", const="", metavar="DATASET",
                    help="only the memory rows (optionally only data sets whose title contains DATASET)")
    ap.add_argument("--tests", default=TESTS, help="comma-separated redis-benchmark tests")
    ap.add_argument("--out", default=os.path.join(ROOT, "bench", "results"))
    args = ap.parse_args()
    quick = args.quick or os.environ.get("BENCH_QUICK", "") not in ("", "0")
    if not shutil.which("redis-server") or not shutil.which("redis-benchmark"):
        sys.exit("bench: redis-server and redis-benchmark are needed (apt-get install redis-server redis-tools)")
    n = 20000 if quick else 100000
    rounds = 1 if quick else args.rounds
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 30000), hard))
    if args.memory_only is not None:
        print(memory(10 if quick else 1, args.memory_only or None))
        return
    report = ["# ferredis vs Redis %s" % subprocess.run(["redis-server", "--version"], capture_output=True, text=True).stdout.split()[2],
              "", "Machine: %s, %d cores, %s. Date: %s. Medians of %d round(s), alternating servers%s. "
              "Load average at start: %s." % (
                  platform.machine(), os.cpu_count(), platform.platform(), time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                  rounds, " (quick mode)" if quick else "", load_average()), ""]
    servers = [Server("ferredis", ours), Server("redis", redis)]
    panels = []
    try:
        report.append(table("50 clients", compare(servers, args.tests, 50, n, 1, rounds)))
        report.append(table("50 clients, pipeline 16", compare(servers, args.tests, 50, n * 2, 16, rounds)))
        report.append(table("1 client", compare(servers, args.tests, 1, n // 5, 1, rounds)))
        report.append(publish_table(servers, n // 2, rounds))
        if not args.skip_scaling:
            by_clients = {}
            for c in [1, 10, 50, 200, 1000, 5000]:
                by_clients[c] = compare(servers, "set,get", c, max(n, c * 20), 1, rounds)
            by_pipe = {}
            for p in [1, 4, 16, 64]:
                by_pipe[p] = compare(servers, "set,get", 50, n * max(1, p // 2), p, rounds)

            def ratio(med, t):
                o = med.get(t, {}).get("ferredis", (0,))[0]
                r = med.get(t, {}).get("redis", (0,))[0]
                return o / r if r else 0

            lines = ["### Scaling (ours/Redis throughput ratio)", "", "| point | SET | GET |", "|---|---:|---:|"]
            for label, data in [("clients", by_clients), ("pipeline", by_pipe)]:
                for k, med in data.items():
                    lines.append("| %s=%s | %.2f | %.2f |" % (label, k, ratio(med, "SET"), ratio(med, "GET")))
                panels.append((label, [(t, [(str(k), ratio(m, t)) for k, m in data.items()]) for t in ("SET", "GET")]))
            report.append("\n".join(lines) + "\n")
    finally:
        for s in servers:
            s.stop()
    if not args.skip_memory:
        report.append(memory(10 if quick else 1))
    if not args.skip_aof:
        report.append(aof_tables(n, rounds))
    report.append("Load average at end: %s.\n" % load_average())
    text = "\n".join(report)
    print(text)
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "latest.md"), "w") as f:
        f.write(text)
    if panels:
        svg_chart(panels, os.path.join(args.out, "scaling.svg"))


if __name__ == "__main__":
    main()
