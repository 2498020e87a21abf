#!/usr/bin/python3
"""What a relay costs, read from /proc: its processes, their CPU time and
memory, and the machine's CPU time and slab.

  procstat.py cpu PID...   relay CPU seconds: utime+stime of PID and of every
                           live descendant, plus cutime+cstime of PID (the
                           children it reaped, e.g. socat's per-connection
                           forks), in seconds
  procstat.py mem PID...   "RSS_KIB PSS_KIB NPROC" summed over PID and its
                           descendants (PSS counts shared pages once)
  procstat.py kids PID     the descendants' PIDs, one a line
  procstat.py machine      "BUSY_S SOFTIRQ_S SLAB_KIB": all CPUs' busy time
                           (user+nice+system+irq+softirq) and softirq time
                           from /proc/stat, and the kernel's slab objects in
                           use (sum of active_objs * objsize over
                           /proc/slabinfo; /proc/meminfo's Slab if that is
                           unreadable), in KiB.  Objects, not pages: slab
                           pages that a previous test freed objects in and
                           that are reused would hide the growth of Slab.
"""
import os
import sys

HZ = os.sysconf("SC_CLK_TCK")


def stat(pid):
    with open(f"/proc/{pid}/stat") as f:
        s = f.read()
    # comm may hold spaces and parentheses: split after the last ')'.
    return s[s.rindex(")") + 2:].split()


def children(pid):
    """Direct children: /proc/PID/task/*/children (every thread's)."""
    out = []
    try:
        for t in os.listdir(f"/proc/{pid}/task"):
            try:
                with open(f"/proc/{pid}/task/{t}/children") as f:
                    out += [int(x) for x in f.read().split()]
            except OSError:
                pass
    except OSError:
        pass
    return out


def tree(pid):
    todo, seen = [pid], []
    while todo:
        p = todo.pop()
        seen.append(p)
        todo += children(p)
    return seen


def cpu(pid):
    total = 0
    for i, p in enumerate(tree(pid)):
        try:
            f = stat(p)
        except OSError:
            continue
        # fields after comm: state=0 ... utime=11 stime=12 cutime=13 cstime=14
        total += int(f[11]) + int(f[12])
        if i == 0:
            total += int(f[13]) + int(f[14])
    return total / HZ


def mem(pid):
    rss = pss = n = 0
    for p in tree(pid):
        try:
            with open(f"/proc/{p}/smaps_rollup") as f:
                for line in f:
                    k, v = line.split(":", 1)
                    if k == "Rss":
                        rss += int(v.split()[0])
                    elif k == "Pss":
                        pss += int(v.split()[0])
            n += 1
        except (OSError, ValueError):
            pass
    return rss, pss, n


def machine():
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    busy = v[0] + v[1] + v[2] + v[5] + v[6]
    slab = 0
    try:
        with open("/proc/slabinfo") as f:
            for line in f:
                if line.startswith(("slabinfo", "#")):
                    continue
                x = line.split()
                slab += int(x[1]) * int(x[3])
        slab //= 1024
    except OSError:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("Slab:"):
                    slab = int(line.split()[1])
    return busy / HZ, v[6] / HZ, slab


def main():
    what = sys.argv[1]
    if what == "cpu":
        print(f"{sum(cpu(int(p)) for p in sys.argv[2:]):.2f}")
    elif what == "mem":
        print(*[sum(x) for x in zip((0, 0, 0), *(mem(int(p)) for p in sys.argv[2:]))])
    elif what == "kids":
        print("\n".join(str(p) for p in tree(int(sys.argv[2]))[1:]))
    elif what == "machine":
        b, s, slab = machine()
        print(f"{b:.2f} {s:.2f} {slab}")
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
