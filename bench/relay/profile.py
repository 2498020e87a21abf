#!/usr/bin/env python3
"""Turn the bench's perf profiles (profile.sh) into profile.md: for each
profiled case and test, where the machine's CPU time went, by command
(user space and kernel apart) and by function.

    profile.py --data WORKDIR --out OUTDIR
"""
import argparse
import collections
import glob
import os
import re
import subprocess

TESTS = {"conn": "wrk, one request per connection",
         "up1": "iperf3, 1 stream, client to server"}
CASES = {"direct": "direct (routed IPv6, no relay)",
         "faith": "faith (faithd, default: translate from the SYN)",
         "haproxy": "haproxy 2.6 (TCP, splice)"}
RELAY = {"faith": "faithd", "haproxy": "haproxy"}
# The kernel's idle loop: swapper's samples in these are the CPU idle;
# swapper's others are interrupt and softirq work (packets) done there.
IDLE = re.compile(r"idle|halt|mwait|cpu_startup_entry|poll_idle")
LINE = re.compile(r"^\s*([\d.]+)%\s+(\S+)\s+(\S.*?)\s*$")


def report(data, sort, limit="0"):
    """perf report's lines: (percent, comm, rest) sorted by sort."""
    out = subprocess.run(
        ["perf", "report", "-i", data, "--stdio", "-q", "--no-children",
         "--sort", sort, "--percent-limit", limit],
        capture_output=True, text=True, check=False).stdout
    rows = []
    for line in out.splitlines():
        m = LINE.match(line)
        if m:
            rows.append((float(m.group(1)), m.group(2), m.group(3)))
    return rows


def command_of(comm):
    """Fold per-thread names: kworker/1:2 -> kworker, ksoftirqd/0 -> ksoftirqd."""
    return re.sub(r"[/:].*$", "", comm)


def profile(data):
    """{command: [user %, kernel %]}, idle %, top functions."""
    by = collections.defaultdict(lambda: [0.0, 0.0])
    idle = 0.0
    funcs = []
    # Totals from (command, object): a few lines, none left out.
    for pct, comm, dso in report(data, "comm,dso"):
        by[command_of(comm)][1 if dso.startswith("[kernel") else 0] += pct
    for pct, comm, rest in report(data, "comm,sym", "0.1"):
        kernel = rest.startswith("[k]")
        sym = rest[3:].strip() if rest[:3] in ("[k]", "[.]") else rest
        name = command_of(comm)
        if name == "swapper" and IDLE.search(sym):
            idle += pct
            continue
        funcs.append((pct, name, "kernel" if kernel else "user", sym))
    # swapper's other samples: interrupts and softirqs (packets) in idle.
    by["swapper"][1] -= idle
    by["swapper (softirq)"] = by.pop("swapper")
    return by, idle, funcs


def summary_row(case, test, by, idle):
    """A line of results.md's table: the relay's user and kernel shares."""
    busy = 100.0 - idle
    u, k = by.get(RELAY.get(case, ""), (0.0, 0.0))
    if busy <= 0:
        return None
    return (f"| {CASES.get(case, case)} | {TESTS.get(test, test)} | {busy:.0f}% | "
            f"{100 * u / busy:.1f}% | {100 * k / busy:.1f}% | "
            f"{100 * (busy - u - k) / busy:.1f}% |")


def section(case, test, data, rows):
    by, idle, funcs = profile(data)
    rows.append(summary_row(case, test, by, idle))
    busy = 100.0 - idle
    lines = [f"### {CASES.get(case, case)}: {TESTS.get(test, test)}", ""]
    if busy <= 0:
        return lines + ["(no samples)", ""]
    lines += [f"CPU busy {busy:.0f}% of the samples (both CPUs), idle {idle:.0f}%. "
              "Shares of the busy time:", "",
              "| command | user space | kernel | total |", "|---|---:|---:|---:|"]
    ranked = sorted(by.items(), key=lambda kv: -sum(kv[1]))
    shown = ranked[:7]
    for name, (u, k) in shown:
        lines.append(f"| {name} | {100 * u / busy:.1f}% | {100 * k / busy:.1f}% | "
                     f"{100 * (u + k) / busy:.1f}% |")
    rest = sum(sum(v) for _, v in ranked[7:])
    if rest:
        lines.append(f"| (others) | | | {100 * rest / busy:.1f}% |")
    lines += ["", "Top functions (share of the busy time):", "",
              "| share | command | where | function |", "|---:|---|---|---|"]
    for pct, name, where, sym in sorted(funcs, reverse=True)[:12]:
        lines.append(f"| {100 * pct / busy:.1f}% | {name} | {where} | `{sym}` |")
    return lines + [""]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    found = sorted(glob.glob(os.path.join(a.data, "perf-*-*.data")))
    if not found:
        return
    out = ["# faith relay benchmark: CPU profiles", "",
           "Written by `make bench` (bench/relay/profile.sh, profile.py) after the "
           "measured rounds: each case's connection-rate test and one iperf3 stream "
           "run again under `perf record -e cpu-clock -a` (software clock: no "
           "hardware counters in this VM), with every process on both CPUs "
           "(client, relay, server and the kernel's packet work). Those runs' own "
           "numbers are not in the results. Shares are of the busy (not idle) "
           "samples; the kernel's work for a process's packets is partly counted "
           "to whatever ran when the softirq did (often swapper or ksoftirqd). "
           "With a software clock no sample lands where interrupts are off: that "
           "time shows up at the function that turns them back on "
           "(`_raw_spin_unlock_irqrestore` and the like).", ""]
    order = {c: i for i, c in enumerate(CASES)}
    parsed = []
    for path in found:
        m = re.match(r"perf-(.+)-(conn|up1)\.data$", os.path.basename(path))
        if m:
            parsed.append((order.get(m.group(1), 99), m.group(2), m.group(1), path))
    rows = []
    for test in TESTS:
        out += [f"## {TESTS[test]}", ""]
        for _, t, case, path in sorted(parsed):
            if t == test:
                out += section(case, test, path, rows)
    with open(os.path.join(a.out, "profile.md"), "w") as f:
        f.write("\n".join(out))
    append_summary(os.path.join(a.out, "results.md"), [r for r in rows if r])


def append_summary(results, rows):
    """results.md's section: the relay's own share of the busy CPU."""
    if not rows or not os.path.exists(results):
        return
    lines = ["", "## Where the CPU goes (perf)", "",
             "The relay process's share of the machine's busy CPU time, user space "
             "and kernel apart, while the test ran again under a system-wide "
             "profile after the rounds; the rest is the client, the server and "
             "the kernel's packet work elsewhere. Every profile, with the top "
             "functions: [profile.md](profile.md).", "",
             "| case | test | CPU busy | relay, user space | relay, kernel | the rest |",
             "|---|---|---:|---:|---:|---:|"] + rows + [""]
    with open(results, "a") as f:
        f.write("\n".join(lines))


if __name__ == "__main__":
    main()
