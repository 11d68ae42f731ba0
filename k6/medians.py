"""Medians and spread of repeated runs of one test, k6's side beside the gateway's.
Usage: medians.py NAME... (each NAME has k6/results/NAME-summary.json, and -gateway.json and
-cpu.json when k6/run wrote them). Prints one line per figure: median [min–max] over the runs."""
import json
import statistics
import sys

RESULTS = "k6/results"
# k6's endpoint tags and the gateway's function names differ for two endpoints.
FUNCTION = {"charge": "charge-balance", "balance": "get-balance"}


def load(name, part):
    try:
        return json.load(open(f"{RESULTS}/{name}-{part}.json"))
    except (OSError, ValueError):
        return None


def spread(values, unit="", digits=2):
    values = [v for v in values if v is not None]
    if not values:
        return "–"
    fmt = f"{{:,.{digits}f}}"
    med = fmt.format(statistics.median(values))
    return f"{med}{unit} [{fmt.format(min(values))}–{fmt.format(max(values))}]" if len(values) > 1 else f"{med}{unit}"


names = sys.argv[1:]
summaries = [load(n, "summary") for n in names]
gateways = [load(n, "gateway") or {} for n in names]
cpus = [load(n, "cpu") for n in names]
metrics = [s["metrics"] for s in summaries if s]
print(f"{len(metrics)} runs: {' '.join(names)}  (median [min–max])")


def k6(metric, stat):
    return [m.get(metric, {}).get(stat) for m in metrics]


api = "http_req_duration{kind:api}"
print(f"requests/s            {spread(k6('http_reqs', 'rate'), digits=1)}")
print(f"failed requests       {spread(k6('http_req_failed', 'passes'), digits=0)}")
print(f"k6 api p95 / p99 ms   {spread(k6(api, 'p(95)'))} / {spread(k6(api, 'p(99)'))}")
for counter in ("purchases_completed", "seats_oversold"):
    if any(counter in m for m in metrics):
        print(f"{counter:<22}{spread(k6(counter, 'count'), digits=0)}")
routes = sorted({k.split("name:")[1].rstrip("}") for m in metrics for k in m if k.startswith("http_req_duration{name:")})
if routes:
    print(f"{'endpoint':<16}{'k6 p95 ms':>26}{'k6 p99 ms':>26} | {'gateway p95 ms':>26}{'gateway p99 ms':>26}")
    for route in routes:
        key = f"http_req_duration{{name:{route}}}"
        service = [g.get(FUNCTION.get(route, route), {}).get("service") for g in gateways]
        g95 = [s["p95"] if s else None for s in service]
        g99 = [s["p99"] if s else None for s in service]
        print(f"{route:<16}{spread(k6(key, 'p(95)')):>26}{spread(k6(key, 'p(99)')):>26} | {spread(g95):>26}{spread(g99):>26}")
shares = [c["share"] for c in cpus if c]
if shares:
    procs = sorted({p for s in shares for p in s})
    print("CPU share of the 2 cores: " + ", ".join(f"{p} {spread([s.get(p, 0) * 100 for s in shares], '%', 0)}" for p in procs))
waits = [c.get("waitedForCoreMsPerSecond") for c in cpus if c and "waitedForCoreMsPerSecond" in c]
if waits:
    worst = [c["worstSecondWaitedForCoreMs"] for c in cpus if c and "worstSecondWaitedForCoreMs" in c]
    procs = sorted({p for w in waits for p in w})
    print("waited for a core, ms per second (worst second): " + ", ".join(
        f"{p} {spread([w.get(p, 0) for w in waits], digits=0)} ({spread([w.get(p, 0) for w in worst], digits=0)})" for p in procs))
pressure = [c["cpuPressureSome"] for c in cpus if c and "cpuPressureSome" in c]
if pressure:
    print(f"CPU pressure (some): {spread([p['share'] * 100 for p in pressure], '%', 0)} of the time, worst second {spread([p['worstSecondMs'] for p in pressure], ' ms', 0)}")
steps = sorted({int(k.split("step:")[1].rstrip("}")) for m in metrics for k in m if k.startswith("http_req_duration{kind:api,step:")})
if steps:
    print(f"{'journeys/s':>10}{'k6 p95 ms':>26}{'k6 p99 ms':>26}")
    for rate in steps:
        key = f"http_req_duration{{kind:api,step:{rate}}}"
        print(f"{rate:>10}{spread(k6(key, 'p(95)')):>26}{spread(k6(key, 'p(99)')):>26}")
