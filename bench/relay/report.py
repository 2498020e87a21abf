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
import random
import re
import statistics

LABEL = {
    "direct": "direct (routed IPv6, no relay)",
    "direct_attached": "direct, faith attached (not captured)",
    "faith": "faith (faithd, default: translate from the SYN, --cpu-affinity auto)",
    "faith_splice": "faith (faithd --datapath splice)",
    "faith_sockmap": "faith (faithd --datapath sockmap)",
    "faith_translate": "faith (faithd --datapath translate)",
    "faith_handoff": "faith (faithd --translate-after 1048576: the hand-off)",
    "haproxy": "haproxy 2.6 (TCP, splice, 2 threads)",
    "tproxy": "nftables TPROXY + haproxy",
    "nginx": "nginx stream (2 workers)",
    "socat": "socat (fork per connection)",
    "6tunnel": "6tunnel (fork per connection)",
}
SHORT = {
    "direct": "direct", "direct_attached": "direct+faith", "faith": "faith",
    "faith_splice": "faith-splice", "faith_sockmap": "faith-sockmap",
    "faith_translate": "faith-translate", "faith_handoff": "faith-handoff",
    "haproxy": "haproxy",
    "tproxy": "TPROXY+haproxy", "nginx": "nginx", "socat": "socat",
    "6tunnel": "6tunnel",
}
PEERS = ["haproxy", "tproxy", "nginx", "socat", "6tunnel"]
FAITHS = ["faith", "faith_splice", "faith_sockmap", "faith_translate", "faith_handoff"]
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
    def best_peer(self, metric, higher):
        meds = [(self.med(p, metric), p) for p in PEERS if p in self.cases and self.med(p, metric) is not None]
        if not meds:
            return None, None
        v, p = (max if higher else min)(meds)
        return p, v


def fwdcost(res, t):
    """The forwarding-cost test NAME t (fwdcost in cases.sh): its segments,
    the throughput ratio attached/detached with a 95% bootstrap interval,
    and faith's program's share of the machine's CPU.  None if not run."""
    att = res.rounds("direct_attached", f"fwd.{t}.att")
    if not att:
        return None
    g = res.rounds("direct_attached", f"fwd.{t}.gbps")
    ks = sorted(k for k in att if k in g)
    seq = [(bool(att[k]), g[k]) for k in ks]
    A = [v for a, v in seq if a]
    D = [v for a, v in seq if not a]
    if not A or not D or not statistics.median(D):
        return None
    r = {"n_att": len(A), "n_det": len(D), "att": statistics.median(A), "det": statistics.median(D)}
    r["ratio"] = r["att"] / r["det"]
    # Bootstrap over cycles (neighbouring segments, one in each state):
    # resampling whole cycles keeps each attached segment with the detached
    # one next to it, so the interval is not widened by the machine's drift.
    cyc = [seq[i:i + 2] for i in range(0, len(seq) - 1, 2)]
    cyc = [c for c in cyc if len(c) == 2 and c[0][0] != c[1][0]]
    rng = random.Random(1)
    boot = []
    for _ in range(4000):
        pick = [rng.choice(cyc) for _ in cyc]
        a = [v for c in pick for s, v in c if s]
        d = [v for c in pick for s, v in c if not s]
        if statistics.median(d):
            boot.append(statistics.median(a) / statistics.median(d))
    boot.sort()
    r["lo"], r["hi"] = boot[int(0.025 * len(boot))], boot[int(0.975 * len(boot)) - 1]
    # Each inner segment against the mean of its two neighbours (which are
    # in the other state): attached/detached, linear drift cancelled.
    loc = []
    for i in range(1, len(seq) - 1):
        n = (seq[i - 1][1] + seq[i + 1][1]) / 2
        if n and seq[i][1]:
            loc.append(seq[i][1] / n if seq[i][0] else n / seq[i][1])
    if len(loc) >= 2:
        q = statistics.quantiles(loc, n=4)
        r["loc"], r["loc_q1"], r["loc_q3"] = statistics.median(loc), q[0], q[2]
    # In situ: faith's program's run time (kernel-accounted) per byte sent,
    # against the machine's busy CPU per byte in the attached windows.
    ns = sum(res.rounds("direct_attached", f"fwd.{t}.progns").values())
    runs = sum(res.rounds("direct_attached", f"fwd.{t}.progruns").values())
    span = sum(res.rounds("direct_attached", f"fwd.{t}.spanbytes").values())
    spansec = sum(res.rounds("direct_attached", f"fwd.{t}.spansec").values())
    busy = sum(v for k, v in res.rounds("direct_attached", f"fwd.{t}.busy").items() if att.get(k))
    wbytes = sum(v for k, v in res.rounds("direct_attached", f"fwd.{t}.bytes").items() if att.get(k))
    cls = res.rounds("direct_attached", f"fwd.{t}.cls")
    r["classified"] = sum(cls.values())
    r["all_classified"] = bool(cls) and all(v > 0 for v in cls.values())
    r["captured"] = sum(res.rounds("direct_attached", f"fwd.{t}.cap").values())
    if ns and runs and span and spansec and busy and wbytes:
        r["ns_run"] = ns / runs
        r["bytes_run"] = span / runs
        # Of the machine's busy CPU (per byte: the span against the windows),
        # and of one CPU (the bottleneck when one core carries the path);
        # the bound takes the larger.
        r["share_busy"] = (ns / span) / (busy * 1e9 / wbytes)
        r["share_cpu"] = ns / (spansec * 1e9)
        r["share"] = max(r["share_busy"], r["share_cpu"])
    return r


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
        f = fwdcost(res, t)
        if f is None:
            continue
        if "share" in f:
            b = 1 - f["share"]
            rows.append(("direct_attached", f"forwarded IPv6 {desc}: ≥ 0.98× without faith, from the CPU faith's "
                         "classifier takes (kernel-accounted run time, in situ)",
                         f"≥ {b:.4f}×", "0.98×", "**pass**" if b >= 0.98 else "**FAIL**",
                         f"faith's program took {f['share'] * 100:.2f}% of the CPU"))
        lo, hi = f["lo"], f["hi"]
        verdict = "**pass**" if lo >= 0.98 else "**FAIL**" if hi < 0.98 else "inconclusive"
        rows.append(("direct_attached", f"forwarded IPv6 {desc}: throughput attached ≥ 0.98× detached "
                     "(faith switched every segment of one iperf3 run)",
                     f"{f['ratio']:.3f}× (95% CI {lo:.2f}–{hi:.2f})", "0.98×", verdict,
                     "the interval includes 0.98: this run cannot tell" if verdict == "inconclusive"
                     else f"{(f['ratio'] / 0.98 - 1) * 100:+.0f}%"))
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
        for c in cases:
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
        for c in cases:
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
    cases = [c for c in res.cases if c != "direct_attached"]
    relays = cases
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
    fw = {t: fwdcost(res, t) for t, _ in TPUT}
    if not any(fw.values()):
        w("Not measured in this run (the `direct_attached` case was not selected or did not run).\n")
    else:
        seg = (M.get("fwd") or "? ? ?").split()
        w("Routed IPv6 from the client to 2001:db8:2::2 (outside faith's prefixes: forwarded, never captured) "
          "through the router, with faith loaded there (64:ff9b::/96, keepfaith 1). One iperf3 run per test; "
          f"during it faith is detached from and attached to the router's eth0 in turns, every {seg[1]} s, "
          f"{seg[0]} segments; after each switch {seg[2]} s are left out, then the router's transmitted bytes "
          "and the machine's CPU time are metered until the segment ends. bench/README.md explains the method.\n")
        w("**End to end**: median Gb/s of the attached segments over the median of the detached ones; the "
          "95% interval is a bootstrap over cycles (pairs of neighbouring segments); the local ratio is each "
          "segment against the mean of its two neighbours (the other state), median and interquartile range.\n")
        w("| test | segments att./det. | detached Gb/s | attached Gb/s | attached/detached | 95% CI | "
          "local ratio (IQR) |")
        w("|---|---:|---:|---:|---:|---:|---:|")
        for t, desc in TPUT:
            f = fw[t]
            if not f:
                w(f"| {desc} | not measured | | | | | |")
                continue
            lr = f"{f['loc']:.3f} ({f['loc_q1']:.2f}–{f['loc_q3']:.2f})" if "loc" in f else "n/a"
            w(f"| {desc} | {f['n_att']}/{f['n_det']} | {fmt(f['det'])} | {fmt(f['att'])} | {f['ratio']:.3f}× | "
              f"{f['lo']:.2f}–{f['hi']:.2f} | {lr} |")
        w("\n**In situ**: the run time the kernel accounted to faith's TC program while it classified this "
          "traffic (BPF run-time statistics, on for the test only), as a share of the whole machine's busy CPU "
          "(per byte forwarded, against the busy CPU per byte of the same attached windows) and of one CPU "
          "(run time per second: the share of the bottleneck when one core carries the path). On this "
          "CPU-bound path, throughput with faith is at least (1 − the larger share) × without. Packets are "
          "GSO aggregates: one classification per tens of KB forwarded (fewer bytes per packet server to "
          "client: there faith classifies the client's ACKs). Not counted: the TC ingress hook's own work around the "
          "program, and the statistics' own clock reads (which are counted against faith).\n")
        w("| test | packets classified | captured | bytes forwarded per classified packet | classifier ns/packet | "
          "classifier, % of the busy CPU | % of one CPU | throughput bound |")
        w("|---|---:|---:|---:|---:|---:|---:|---:|")
        for t, desc in TPUT:
            f = fw[t]
            if not f:
                continue
            if "share" in f:
                w(f"| {desc} | {f['classified']:,.0f} | {f['captured']:.0f} | {f['bytes_run']:,.0f} | "
                  f"{f['ns_run']:.0f} | {f['share_busy'] * 100:.3f}% | {f['share_cpu'] * 100:.3f}% | ≥ {1 - f['share']:.4f}× |")
            else:
                w(f"| {desc} | {f['classified']:,.0f} | {f['captured']:.0f} | n/a | n/a | n/a | n/a | n/a |")
        bad = [t for t in TPUT if fw[t[0]] and (not fw[t[0]]["all_classified"] or fw[t[0]]["captured"])]
        if bad:
            w("\n**Check failed**: " + "; ".join(f"{d}: some attached segment classified nothing or faith "
                                             "captured packets" for _, d in bad) + ".")
        else:
            w("\nCheck: in every attached segment faith's counter of classified packets grew and nothing was "
              "captured; `faith-loader status` showed eth0 attached, the prefix and keepfaith 1 at every attach.")
        w("\nWhy both: per segment, throughput on this shared 2-core machine moves by about 25% (and so does "
          "CPU per byte), from one second to the next, so even with the machine's drift cancelled a minute of "
          "switching pins the end-to-end ratio down only to the interval above, wider than 2%. The in-situ "
          "figure measures faith's own share directly, on the same traffic.\n")

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
