"""Samples the CPU time of the load test's processes from /proc every second until stopped
(SIGTERM/SIGINT), then writes their CPU seconds and share of the machine to a JSON file and prints
them. Usage: python3 k6/cpu.py OUT.json  (k6/run starts and stops it around the k6 run)."""
import json
import os
import signal
import sys
import time

NAMES = {"k6": "k6", "gateway": "gateway", "redis-server": "redis", "tansu": "broker"}
TICK = os.sysconf("SC_CLK_TCK")
CPUS = os.cpu_count() or 1


def processes():
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/comm") as f:
                comm = f.read().strip()
            if comm in NAMES:
                with open(f"/proc/{pid}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                yield pid, NAMES[comm], (int(fields[11]) + int(fields[12])) / TICK
        except (FileNotFoundError, ProcessLookupError, IndexError, ValueError):
            continue


first, last = {}, {}
stop = False


def done(*_):
    global stop
    stop = True


signal.signal(signal.SIGTERM, done)
signal.signal(signal.SIGINT, done)
started = time.time()
while not stop:
    for pid, name, cpu in processes():
        first.setdefault(pid, (name, cpu))
        last[pid] = (name, cpu)
    time.sleep(1)
wall = time.time() - started
seconds = {}
for pid, (name, cpu) in last.items():
    seconds[name] = seconds.get(name, 0.0) + cpu - first[pid][1]
result = {"wallSeconds": round(wall, 1), "cpus": CPUS, "cpuSeconds": {k: round(v, 2) for k, v in seconds.items()}}
result["share"] = {k: round(v / (wall * CPUS), 3) for k, v in seconds.items()}
with open(sys.argv[1], "w") as f:
    json.dump(result, f, indent=2)
