#!/usr/bin/python3
"""Turn the relay benchmark's raw measurements into bench/results.md and the
data files for plot.gp.

  report.py --raw RAW.tsv --out DIR --data DIR [--datapath FILE]
            [--stored-datapath FILE]

RAW.tsv lines are "ROUND<TAB>CASE<TAB>METRIC<TAB>VALUE" (cases.sh, run.sh).
"""
import argparse
import collections
import os
import re
import statistics

LABEL = {
    "direct": "direct (routed IPv6, no relay)",
    "direct_attached": "direct, faith attached (not captured)",
    "faith": "faith (faithd, splice)",
    "faith_sockmap": "faith (faithd --datapath sockmap)",
    "haproxy": "haproxy 2.6 (TCP, splice, 2 threads)",
    "tproxy": "nftables TPROXY + haproxy",
    "nginx": "nginx stream (2 workers)",
    "socat": "socat (fork per connection)",
    "6tunnel": "6tunnel (fork per connection)",
}
SHORT = {
    "direct": "direct", "direct_attached": "direct+faith", "faith": "faith",
    "faith_sockmap": "faith-sockmap", "haproxy": "haproxy",
    "tproxy": "TPROXY+haproxy", "nginx": "nginx", "socat": "socat",
    "6tunnel": "6tunnel",
}
PEERS = ["haproxy", "tproxy", "nginx", "socat", "6tunnel"]
FAITHS = ["faith", "faith_sockmap"]
TPUT = [("up1", "1 stream, client to server"),
        ("down1", "1 stream, server to client"),
        ("up4", "4 streams, client to server"),
        ("down4", "4 streams, server to client")]


def load(path):
    meta, notes, unavail = {}, collections.defaultdict(list), collections.defaultdict(list)
    val = collections.defaultdict(dict)  # (case, metric) -> {round: value}
    order = []
    for line in open(path):
        f = line.rstrip("\n").split("\t", 3)
        if len(f) < 4:
            continue
        rnd, case, metric, v = f
        if metric.startswith("meta."):
            meta[metric[5:]] = v
            continue
        if case not in order and case != "-":
            order.append(case)
        if metric == "note":
            notes[case].append(f"round {rnd}: {v}" if rnd != "0" else v)
        elif metric == "unavailable":
            unavail[case].append(v)
        else:
            val[(case, metric)][int(rnd)] = float(v)
    return meta, notes, unavail, val, order


class Results:
    def __init__(self, path):
        self.meta, self.notes, self.unavail, self.val, order = load(path)
        wanted = self.meta.get("cases", " ".join(order)).split()
        self.cases = [c for c in wanted]

    def rounds(self, case, metric):
        return self.val.get((case, metric), {})

    def series(self, case, metric):
        return list(self.rounds(case, metric).values())

    def med(self, case, metric):
        s = self.series(case, metric)
        return statistics.median(s) if s else None

    # Derived per-round values: CPU per GB over the four iperf3 runs, memory
    # per connection.
    def derive(self):
        for c in self.cases:
            for r in self.rounds(c, "bytes.up1"):
                b = sum(self.rounds(c, f"bytes.{t}").get(r, 0) for t, _ in TPUT)
                if not b:
                    continue
                gb = b / 1e9
                for src, dst in (("rcpu", "cpu.relay"), ("mcpu", "cpu.machine"), ("sirq", "cpu.softirq")):
                    s = sum(self.rounds(c, f"{src}.{t}").get(r, 0) for t, _ in TPUT)
                    self.val[(c, dst)][r] = s / gb
            for r, n in self.rounds(c, "mem.n").items():
                for src, dst in (("mem.rss", "mem.rss_per"), ("mem.pss", "mem.pss_per"),
                                 ("mem.slab", "mem.slab_per")):
                    v = self.rounds(c, src).get(r)
                    if v is not None and n:
                        self.val[(c, dst)][r] = v * 1024 / n
        d = self.med("direct", "mem.slab_per")
        for c in self.cases:
            for r, v in self.rounds(c, "mem.slab_per").items():
                if d is not None:
                    self.val[(c, "mem.slab_net")][r] = v - d
        # Forwarding cost: each round's attached run against the same round's
        # direct run (paired: drifts of the machine between rounds cancel).
        for t, _ in TPUT:
            a, d = self.rounds("direct_attached", f"tput.{t}"), self.rounds("direct", f"tput.{t}")
            for r in a:
                if r in d and d[r]:
                    self.val[("direct_attached", f"fwd.{t}")][r] = a[r] / d[r]

    def best_peer(self, metric, higher):
        meds = [(self.med(p, metric), p) for p in PEERS if p in self.cases and self.med(p, metric) is not None]
        if not meds:
            return None, None
        v, p = (max if higher else min)(meds)
        return p, v


def fmt(v, digits=2):
    if v is None:
        return "n/a"
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    if abs(v) >= 100:
        return f"{v:.0f}"
    if abs(v) >= 10:
        return f"{v:.1f}"
    return f"{v:.{digits}f}"


def ratio(a, b):
    if a is None or b is None or b == 0:
        return None
    return a / b


def fr(x):
    return "n/a" if x is None else f"{x:.2f}×"


def metric_table(res, metric, unit, higher, cases, note_fn=None):
    """Median, min, max, ratios to direct and to the best peer, per case."""
    bp, bv = res.best_peer(metric, higher)
    dv = res.med("direct", metric)
    out = [f"| case | median {unit} | min | max | rounds | vs direct | vs best peer ({SHORT.get(bp, 'none')}) |",
           "|---|---:|---:|---:|---:|---:|---:|"]
    for c in cases:
        s = res.series(c, metric)
        if not s:
            why = "; ".join(sorted(set(res.unavail.get(c, [])))) or "not measured"
            out.append(f"| {LABEL.get(c, c)} | {why} | | | | | |")
            continue
        m = statistics.median(s)
        rd = fr(ratio(m, dv)) if c != "direct" else "1.00×"
        rb = fr(ratio(m, bv)) if bv is not None else "n/a"
        extra = note_fn(c) if note_fn else ""
        out.append(f"| {LABEL.get(c, c)}{extra} | {fmt(m)} | {fmt(min(s))} | {fmt(max(s))} | {len(s)} | {rd} | {rb} |")
    return "\n".join(out)


def targets(res):
    """Rows: (faith case, target, measured, needed, pass, margin)."""
    rows = []

    def row(case, what, got, need, ok_if_ge, unit=""):
        if got is None or need is None:
            rows.append((case, what, fmt(got) + unit, fmt(need) + unit, "n/a", "not measured"))
            return
        ok = got >= need if ok_if_ge else got <= need
        if ok_if_ge:
            margin = f"{(got / need - 1) * 100:+.0f}%" if need else ""
        else:
            margin = f"{(need - got) / need * 100:+.0f}% headroom" if need else ""
            if not ok:
                margin = f"{(got / need - 1) * 100:.0f}% over" if need else "over"
        rows.append((case, what, fmt(got) + unit, fmt(need) + unit, "**pass**" if ok else "**FAIL**", margin))

    for f in FAITHS:
        if f not in res.cases:
            continue
        for t, desc in TPUT:
            m = res.med(f, f"tput.{t}")
            h = res.med("haproxy", f"tput.{t}")
            d = res.med("direct", f"tput.{t}")
            row(f, f"throughput {desc} ≥ 1.3× haproxy (splice)", m, None if h is None else 1.3 * h, True, " Gb/s")
            row(f, f"throughput {desc} ≥ 0.75× direct", m, None if d is None else 0.75 * d, True, " Gb/s")
        m = res.med(f, "conn.rate")
        bp, bv = res.best_peer("conn.rate", True)
        d = res.med("direct", "conn.rate")
        row(f, f"new connections/s ≥ 1.15× best peer ({SHORT.get(bp, 'none')})", m,
            None if bv is None else 1.15 * bv, True, "/s")
        row(f, "new connections/s ≥ 0.85× direct", m, None if d is None else 0.85 * d, True, "/s")
        bp, bv = res.best_peer("conn.p99", False)
        row(f, f"p99 latency ≤ best peer's ({SHORT.get(bp, 'none')})", res.med(f, "conn.p99"), bv, False, " ms")
        row(f, "userspace memory per idle connection ≤ 1 KiB (RSS growth)", res.med(f, "mem.rss_per"), 1024, False, " B")
        row(f, "kernel memory (slab) per idle connection ≤ haproxy's", res.med(f, "mem.slab_per"),
            res.med("haproxy", "mem.slab_per"), False, " B")
    for t, desc in TPUT:
        row("direct_attached", f"forwarded IPv6 {desc}, faith attached ≥ 0.98× detached (paired per round)",
            res.med("direct_attached", f"fwd.{t}"), 0.98, True, "×")
    return rows


def datapath_summary(path):
    """The header bullets and the summary table of a bench_datapath report."""
    if not path or not os.path.exists(path):
        return None
    t = open(path).read()
    head = [l for l in t.split("\n## ")[0].splitlines() if l.startswith("- ")]
    m = re.search(r"^## Summary[^\n]*\n\n((?:\|[^\n]*\n)+)", t, re.M)
    return head, (m.group(1) if m else "")


def write_data(res, d):
    os.makedirs(d, exist_ok=True)
    cases = [c for c in res.cases if c != "direct_attached"]
    with open(os.path.join(d, "throughput.dat"), "w") as f:
        f.write("# case up1 down1 up4 down4\n")
        for c in res.cases:
            v = [res.med(c, f"tput.{t}") for t, _ in TPUT]
            f.write(f'"{SHORT[c]}" ' + " ".join("NaN" if x is None else f"{x:.3f}" for x in v) + "\n")
    with open(os.path.join(d, "connrate.dat"), "w") as f:
        f.write("# case rate p50 p99\n")
        for c in cases:
            v = [res.med(c, m) for m in ("conn.rate", "conn.p50", "conn.p99")]
            f.write(f'"{SHORT[c]}" ' + " ".join("NaN" if x is None else f"{x:.3f}" for x in v) + "\n")
    with open(os.path.join(d, "memory.dat"), "w") as f:
        f.write("# case user_rss kernel_slab_net\n")
        for c in cases:
            if c == "direct":
                continue
            v = [res.med(c, "mem.rss_per"), res.med(c, "mem.slab_net")]
            f.write(f'"{SHORT[c]}" ' + " ".join("NaN" if x is None else f"{max(x, 1):.1f}" for x in v) + "\n")
    with open(os.path.join(d, "cpu.dat"), "w") as f:
        f.write("# case relay machine\n")
        for c in res.cases:
            v = [res.med(c, "cpu.relay"), res.med(c, "cpu.machine")]
            f.write(f'"{SHORT[c]}" ' + " ".join("NaN" if x is None else f"{x:.3f}" for x in v) + "\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--raw", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--data", required=True)
    ap.add_argument("--datapath")
    ap.add_argument("--stored-datapath")
    a = ap.parse_args()
    res = Results(a.raw)
    res.derive()
    write_data(res, a.data)
    M = res.meta
    cases = res.cases
    relays = [c for c in cases if c != "direct_attached"]
    L = []
    w = L.append
    w("# faith relay benchmark: results\n")
    w("Written by `make bench` (bench/relay/run.sh); bench/README.md says how it works. "
      "Numbers from one run on the machine below: compare them only with numbers of the same run.\n")
    w(f"- date: {M.get('date', '?')}; the run took {M.get('seconds', '?')} s (measurements only, "
      "after dependencies and build)")
    w(f"- machine: {M.get('cpu', '?')}, {M.get('mem', '?')}, {M.get('kernel', '?')}; shared and noisy "
      "(2 cores for client, relay and server together: every case competes with its own load generator)")
    w(f"- faith: {M.get('faith', '?')}; faithd extra arguments: `{M.get('faithd_args') or 'none'}`")
    w(f"- peers and tools: {M.get('versions', '?')}")
    w(f"- rounds: {M.get('rounds')}; in each round every case runs once, the order rotated from round to "
      f"round; medians over the rounds. iperf3 and wrk runs of {M.get('dur')} s; wrk with "
      f"{M.get('conns')} connections at a time, 2 threads")
    w(f"- idle connections: {M.get('idle_n')} per relay ({M.get('idle_fork_n')} for socat and 6tunnel, which "
      f"fork a process per connection)" +
      (f"; not 10,000: the hard limit on open files here is {M.get('nofile')} and a one-process relay "
       "(haproxy) needs two descriptors per connection" if M.get('idle_n') and int(M['idle_n']) < 10000 else ""))
    w("- relay CPU: " + ("a cpuacct cgroup holding the relay's processes (forked children included)"
                         if M.get("cpuacct") else "/proc utime+stime of the relay's processes "
                         "(children that exited unwaited for are missed)"))
    w("")

    w("## Targets\n")
    w("| case | target | measured | needed | result | margin |")
    w("|---|---|---:|---:|---|---|")
    for case, what, got, need, ok, margin in targets(res):
        w(f"| {SHORT.get(case, case)} | {what} | {got} | {need} | {ok} | {margin} |")
    w("")

    w("## Summary (medians)\n")
    w("| case | 1 stream up Gb/s | 1 down | 4 up | 4 down | conn/s | p50 ms | p99 ms | user B/idle conn | "
      "slab B/idle conn | relay CPU s/GB | machine CPU s/GB |")
    w("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for c in cases:
        v = [res.med(c, f"tput.{t}") for t, _ in TPUT] + [res.med(c, m) for m in (
            "conn.rate", "conn.p50", "conn.p99", "mem.rss_per", "mem.slab_per", "cpu.relay", "cpu.machine")]
        if c.startswith("direct"):  # no relay process: no relay memory or CPU
            v[7] = None
            v[9] = None
        label = LABEL[c]
        if c in res.unavail and not any(x is not None for x in v):
            label += ": **could not run** (" + "; ".join(sorted(set(res.unavail[c])))[:160] + ")"
        w(f"| {label} | " + " | ".join(fmt(x) for x in v) + " |")
    w("\n![throughput](throughput.png) ![connection rate](connrate.png)\n")
    w("![memory](memory.png) ![cpu](cpu.png)\n")

    w("## Bulk throughput (iperf3, Gbit/s)\n")
    for t, desc in TPUT:
        w(f"### {desc}\n")
        w(metric_table(res, f"tput.{t}", "Gb/s", True, cases))
        w("")

    w("## New connections (wrk, one request per connection)\n")
    w("`Connection: close` on every request: each request is a new TCP connection through the relay, so "
      "requests/s = connections/s. wrk times a request from its write to the end of the response: the "
      "relay's upstream connect is inside the latency, the client's own handshake is not.\n")
    for m, unit, hi, title in (("conn.rate", "conn/s", True, "Connections per second"),
                               ("conn.p50", "ms", False, "p50 latency"),
                               ("conn.p99", "ms", False, "p99 latency")):
        w(f"### {title}\n")
        w(metric_table(res, m, unit, hi, relays))
        w("")
    errs = [(c, sum(res.series(c, "conn.err")), sum(res.series(c, "conn.n"))) for c in relays]
    errs = [e for e in errs if e[1]]
    if errs:
        w("Socket errors or non-2xx answers reported by wrk: " +
          "; ".join(f"{SHORT[c]}: {int(e)} of {int(n)} requests" for c, e, n in errs) + ".\n")

    w("## Memory per idle connection\n")
    w("Idle connections opened through the relay to the server (nothing sent), held, measured, then reset. "
      "**user**: growth of the relay's resident set (RSS, summed over all its processes) per connection; "
      "**PSS**: the same with shared pages divided among the processes that share them (fairer to relays that "
      "fork); **slab**: growth of the kernel's slab objects in use (active objects × object size over "
      "/proc/slabinfo; whole machine: it includes the client's and the server's sockets; objects rather than "
      "/proc/meminfo's Slab pages, which a previous test's freed objects would hide); **slab − direct**: less the direct case's slab growth, i.e. what the relay adds "
      "in the kernel. Pipe buffers and socket buffers are not slab objects and are not counted (an idle connection "
      "has no socket buffers).\n")
    w("| case | connections | user B/conn | PSS B/conn | slab B/conn | slab − direct B/conn | relay RSS total MiB | processes |")
    w("|---|---:|---:|---:|---:|---:|---:|---:|")
    for c in relays:
        n = res.med(c, "mem.n")
        if n is None:
            why = "; ".join(sorted(set(res.unavail.get(c, [])))) or "not measured"
            w(f"| {LABEL[c]} | {why} | | | | | | |")
            continue
        rt = res.med(c, "mem.rsstotal")
        w(f"| {LABEL[c]} | {fmt(n)} | {fmt(res.med(c, 'mem.rss_per')) if c != 'direct' else 'n/a'} | "
          f"{fmt(res.med(c, 'mem.pss_per')) if c != 'direct' else 'n/a'} | {fmt(res.med(c, 'mem.slab_per'))} | "
          f"{fmt(res.med(c, 'mem.slab_net'))} | {fmt(rt / 1024 if rt else None)} | {fmt(res.med(c, 'mem.nproc'))} |")
    w("\nPer-round spread of the user and slab figures:\n")
    w(metric_table(res, "mem.rss_per", "user B/conn", False, [c for c in relays if c != "direct"]))
    w("")
    w(metric_table(res, "mem.slab_per", "slab B/conn", False, relays))
    w("")

    w("## CPU per GB relayed\n")
    w("Over the four iperf3 runs of each round: CPU seconds / GB that reached the receiver. **relay**: the relay's "
      "processes (user + system, which on veth includes much of the packet processing their sends trigger); "
      "**machine**: every CPU's busy time (user, system, irq, softirq from /proc/stat), client and server "
      "included, so machine − direct is the whole cost of the relay; **softirq**: the machine's softirq share.\n")
    w(metric_table(res, "cpu.relay", "relay s/GB", False, [c for c in cases if not c.startswith("direct")]))
    w("")
    w(metric_table(res, "cpu.machine", "machine s/GB", False, cases))
    w("")
    w(metric_table(res, "cpu.softirq", "softirq s/GB", False, cases))
    w("")

    w("## Cost to traffic faith does not capture\n")
    w("iperf3 client → server over routed IPv6 (to 2001:db8:2::2) through the router, with `faith-loader attach "
      "eth0` on the router's ingress, 64:ff9b::/96 loaded and keepfaith 1, against the same without faith "
      "(the direct case). Ratio: attached / detached within the same round, median over rounds.\n")
    w("| test | detached Gb/s | attached Gb/s | attached/detached (paired) | min | max |")
    w("|---|---:|---:|---:|---:|---:|")
    for t, desc in TPUT:
        s = res.series("direct_attached", f"fwd.{t}")
        w(f"| {desc} | {fmt(res.med('direct', f'tput.{t}'))} | {fmt(res.med('direct_attached', f'tput.{t}'))} | "
          f"{fr(statistics.median(s)) if s else 'n/a'} | {fr(min(s)) if s else 'n/a'} | {fr(max(s)) if s else 'n/a'} |")
    w("\nOn this shared 2-core machine run-to-run noise of a few percent is normal: a 0.98× target is within "
      "it. The datapath micro-benchmark below measures the classifier's cost per packet directly.\n")

    w("## Datapath micro-benchmark (bench_datapath)\n")
    dp = datapath_summary(a.datapath)
    src = "this run (`build/bench_datapath --scaling never --rounds 7`)"
    if not dp:
        dp = datapath_summary(a.stored_datapath)
        src = "the stored bench/datapath.md (`make bench-datapath`), not rerun by this run"
    if dp:
        head, table = dp
        w(f"ns the faith classifier adds per packet, from {src}; bench/datapath.md has the full report.\n")
        for h in head:
            w(h)
        w("")
        w(table)
    else:
        w("Not available: neither this run nor bench/datapath.md has it.\n")

    w("## Peers that could not run, and other notes\n")
    any_note = False
    for c in cases:
        for u in sorted(set(res.unavail.get(c, []))):
            w(f"- **{LABEL.get(c, c)}** could not run: {u}")
            any_note = True
        for n in res.notes.get(c, []):
            w(f"- {LABEL.get(c, c)}: {n}")
            any_note = True
    for n in res.notes.get("-", []):
        w(f"- {n}")
        any_note = True
    if not any_note:
        w("- Every case ran in every round.")
    w("- haproxy and TPROXY+haproxy connect to the one IPv4 server, on the port the client dialled: haproxy has "
      "no RFC 6052 mapping of its own; faith's relay takes the IPv4 address from each destination.")
    w("- nginx's stream proxy copies through user space (no splice); socat and 6tunnel fork a process per "
      "connection and copy through user space.")
    w("- The 100,000-connection scale test is not part of this run.")
    with open(os.path.join(a.out, "results.md"), "w") as f:
        f.write("\n".join(L) + "\n")


if __name__ == "__main__":
    main()
