#!/usr/bin/python3
"""The forwarding-cost test's switch and meter, run inside the router's
network namespace while one long iperf3 run goes through the router to an
address faith does not capture:

  fwdcost.py LOADER PROG IFACE DEV SEGMENTS SEG SETTLE FIRST

SEGMENTS segments of SEG seconds each, alternately with faith detached from
and attached to IFACE (`LOADER detach IFACE` / `LOADER attach IFACE`; the
prefixes and keepfaith stay loaded), starting with FIRST (attached or
detached).  After each switch the meter waits SETTLE seconds, then counts
the bytes DEV transmitted (the router's side towards the receiver, from
/proc/net/dev of this namespace) and the machine's CPU time (/proc/stat)
until the segment ends: the window holds no switch, only one state.

In attached segments it also checks that faith is really there and
classifying (`LOADER status -j`: IFACE attached, prefixes loaded, keepfaith
1; packets classified grow, none captured), and reads the run time the
kernel accounted to faith's TC program PROG (a pinned program: bpftool prog
show, with run-time statistics turned on by BPF_ENABLE_STATS for as long as
this process runs; they go off when it exits).

One line per segment on stdout:
  seg K STATE WINDOW_S BYTES GBIT_S BUSY_S IDLE_S STEAL_S CLASSIFIED CAPTURED PROG_NS PROG_RUNS SPAN_BYTES SPAN_S
BUSY, IDLE, STEAL: the whole machine's CPU seconds in the window
(user+nice+system+irq+softirq, idle+iowait, steal).  The last six are for
attached segments only (-1 when detached): growth of faith's classified and
captured counters, of PROG's run time and run count, the bytes DEV sent and
the seconds elapsed, all from just after the attach to just before the next
detach (the span).  A failed
switch or check ends the test with a line "error ...".
"""
import ctypes
import json
import os
import subprocess
import sys
import time

BPF_ENABLE_STATS = 32
BPF_STATS_RUN_TIME = 0
SYS_BPF = {"x86_64": 321, "aarch64": 280}.get(os.uname().machine)


def enable_stats():
    """An fd that keeps the kernel's BPF run-time statistics on, or None."""
    if SYS_BPF is None:
        return None
    libc = ctypes.CDLL(None, use_errno=True)
    attr = (ctypes.c_uint32 * 16)(BPF_STATS_RUN_TIME)
    fd = libc.syscall(SYS_BPF, BPF_ENABLE_STATS, ctypes.byref(attr), ctypes.sizeof(attr))
    return fd if fd >= 0 else None


def tx_bytes(dev):
    with open("/proc/net/dev") as f:
        for line in f:
            name, _, rest = line.partition(":")
            if name.strip() == dev:
                return int(rest.split()[8])
    raise SystemExit(f"error no device {dev} in /proc/net/dev")


def cpu():
    """Machine-wide CPU seconds: busy, idle, steal."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:9]]
    hz = float(os.sysconf("SC_CLK_TCK"))
    return (v[0] + v[1] + v[2] + v[5] + v[6]) / hz, (v[3] + v[4]) / hz, v[7] / hz


def status(loader):
    p = subprocess.run([loader, "status", "-j"], capture_output=True, text=True)
    return json.loads(p.stdout)


def prog(path):
    p = subprocess.run(["bpftool", "-j", "prog", "show", "pinned", path], capture_output=True, text=True)
    try:
        d = json.loads(p.stdout)
        return d.get("run_time_ns", 0), d.get("run_cnt", 0)
    except ValueError:
        return 0, 0


def main():
    loader, progpath, iface, dev, nseg, seg, settle, first = sys.argv[1:9]
    nseg, seg, settle = int(nseg), float(seg), float(settle)
    stats_fd = enable_stats()
    if stats_fd is None:
        print("note BPF_ENABLE_STATS failed: no run time for faith's program", flush=True)
    state = first
    t_next = time.monotonic()
    for k in range(1, nseg + 1):
        verb = "attach" if state == "attached" else "detach"
        p = None
        if k == 1:  # already in the first state (left so by the last test)?
            on = [i["ifname"] for i in status(loader).get("interfaces", [])]
            if (iface in on) == (state == "attached"):
                p = subprocess.CompletedProcess([], 0, "", "")
        if p is None:
            p = subprocess.run([loader, verb, iface], capture_output=True, text=True)
        if p.returncode:
            print("error", verb, (p.stdout + p.stderr).replace("\n", " ")[:150], flush=True)
            return 1
        t_end = t_next + seg
        if state == "attached":
            s0 = status(loader)
            on = [i["ifname"] for i in s0.get("interfaces", [])]
            if iface not in on or not s0.get("prefixes") or s0.get("keepfaith") != 1:
                print(f"error attached, but status says interfaces {on}, prefixes {s0.get('prefixes')}, "
                      f"keepfaith {s0.get('keepfaith')}", flush=True)
                return 1
            p0, sb0, ts0 = prog(progpath), tx_bytes(dev), time.monotonic()
        time.sleep(max(0.0, t_next + settle - time.monotonic()))
        t0, b0, u0 = time.monotonic(), tx_bytes(dev), cpu()
        time.sleep(max(0.0, t_end - time.monotonic()))
        t1, b1, u1 = time.monotonic(), tx_bytes(dev), cpu()
        extra = "-1 -1 -1 -1 -1 -1"
        if state == "attached":
            p1, sb1, ts1 = prog(progpath), tx_bytes(dev), time.monotonic()
            s1 = status(loader)
            cls = s1["stats"]["packets"] - s0["stats"]["packets"]
            cap = s1["stats"]["tcp_captured"] - s0["stats"]["tcp_captured"]
            extra = f"{cls} {cap} {p1[0] - p0[0]} {p1[1] - p0[1]} {sb1 - sb0} {ts1 - ts0:.4f}"
        w = t1 - t0
        print(f"seg {k} {state} {w:.4f} {b1 - b0} {(b1 - b0) * 8 / w / 1e9:.4f} "
              f"{u1[0] - u0[0]:.2f} {u1[1] - u0[1]:.2f} {u1[2] - u0[2]:.2f} {extra}", flush=True)
        state = "detached" if state == "attached" else "attached"
        t_next = t_end
    return 0


if __name__ == "__main__":
    sys.exit(main())
