"""Samples the CPU time of the load test's processes from /proc every second until stopped
(SIGTERM/SIGINT), then writes their CPU seconds and share of the machine to a JSON file and prints
them. Usage: python3 k6/cpu.py OUT.json  (k6/run starts and stops it around the k6 run).

Besides CPU time it records how long each process's threads were ready to run but waited for a
core (the run-queue delay of /proc/PID/task/*/schedstat), in total and in the worst second, and the
machine's CPU pressure (/proc/pressure/cpu, "some": time at least one task waited). A request
whose handler took 30 ms while the gateway's threads waited 30 ms for a core in that second was
slowed by the machine (k6 and Redis on the same two cores), not by the service's code."""
import json
import os
import signal
import sys
import time

NAMES = {"k6": "k6", "gateway": "gateway", "redis-server": "redis", "tansu": "broker"}
TICK = os.sysconf("SC_CLK_TCK")
CPUS = os.cpu_count() or 1


def run_delay_ms(pid):
    """Milliseconds the process's threads have spent runnable but waiting for a core."""
    total = 0
    for task in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{task}/schedstat") as f:
            total += int(f.read().split()[1])
    return total / 1e6


def pressure_ms():
    try:
        with open("/proc/pressure/cpu") as f:
            return int(f.readline().rsplit("total=", 1)[1]) / 1000
    except (OSError, IndexError, ValueError):
        return None


def processes():
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/comm") as f:
                comm = f.read().strip()
            if comm in NAMES:
                with open(f"/proc/{pid}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                yield pid, NAMES[comm], (int(fields[11]) + int(fields[12])) / TICK, run_delay_ms(pid)
        except (FileNotFoundError, ProcessLookupError, IndexError, ValueError):
            continue


first, last = {}, {}
worst_wait = {}  # process name -> the most it waited for a core in one sample (ms)
worst_pressure = 0.0
stop = False


def done(*_):
    global stop
    stop = True


signal.signal(signal.SIGTERM, done)
signal.signal(signal.SIGINT, done)
started = time.time()
pressure_start = previous_pressure = pressure_ms()
while not stop:
    waited = {}
    for pid, name, cpu, delay in processes():
        first.setdefault(pid, (name, cpu, delay))
        if pid in last:
            waited[name] = waited.get(name, 0.0) + delay - last[pid][2]
        last[pid] = (name, cpu, delay)
    for name, ms in waited.items():
        worst_wait[name] = max(worst_wait.get(name, 0.0), ms)
    pressure = pressure_ms()
    if pressure is not None and previous_pressure is not None:
        worst_pressure = max(worst_pressure, pressure - previous_pressure)
    previous_pressure = pressure
    time.sleep(1)
wall = time.time() - started
seconds, waits = {}, {}
for pid, (name, cpu, delay) in last.items():
    seconds[name] = seconds.get(name, 0.0) + cpu - first[pid][1]
    waits[name] = waits.get(name, 0.0) + delay - first[pid][2]
result = {"wallSeconds": round(wall, 1), "cpus": CPUS, "cpuSeconds": {k: round(v, 2) for k, v in seconds.items()}}
result["share"] = {k: round(v / (wall * CPUS), 3) for k, v in seconds.items()}
# Waiting for a core: per second of the run on average, and in the worst second.
result["waitedForCoreMsPerSecond"] = {k: round(v / wall, 1) for k, v in waits.items()}
result["worstSecondWaitedForCoreMs"] = {k: round(v, 1) for k, v in worst_wait.items()}
if pressure_start is not None and previous_pressure is not None:
    result["cpuPressureSome"] = {"share": round((previous_pressure - pressure_start) / (wall * 1000), 3), "worstSecondMs": round(worst_pressure, 1)}
with open(sys.argv[1], "w") as f:
    json.dump(result, f, indent=2)
