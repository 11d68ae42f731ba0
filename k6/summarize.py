"""Prints the key figures of a k6 --summary-export file and, when given, the gateway's own
per-route latency (its GET /__stats) beside k6's, and the CPU share of each process.
Usage: summarize.py SUMMARY.json [GATEWAY.json [CPU.json]]"""
import json
import sys

summary = json.load(open(sys.argv[1]))
m = summary["metrics"]


def metric(name):
    return m.get(name, {})


reqs = metric("http_reqs")
dur = metric("http_req_duration{kind:api}") or metric("http_req_duration")
failed = metric("http_req_failed")
print(f"requests      {reqs.get('count', 0):>10,.0f}   {reqs.get('rate', 0):,.1f} req/s")
print(f"failed        {failed.get('passes', 0):>10,.0f}   ({failed.get('value', 0) * 100:.2f}%)")
for stat in ("avg", "med", "p(90)", "p(95)", "p(99)", "max"):
    if stat in dur:
        print(f"latency {stat:<6}{dur[stat]:>10.2f} ms")
for name in ("purchases_completed", "seats_gave_up", "seats_oversold", "dropped_iterations"):
    if name in m:
        print(f"{name:<22}{m[name].get('count', 0):>6,.0f}")
if "seats_left_unsold" in m:
    print(f"seats left unsold     {m['seats_left_unsold']['value']:>6,.0f}")
if "time_to_sell_out_ms" in m:
    print(f"sold out      {m['time_to_sell_out_ms']['value'] / 1000:.1f} s after the opening")
for name, label in (("wait_prequeue", "wait, pre-queue"), ("wait_late", "wait, later fans")):
    if name in m and m[name].get("max", 0) > 0:
        print(f"{label:<18} med {m[name]['med'] / 1000:.1f} s   p95 {m[name]['p(95)'] / 1000:.1f} s   (to ACTIVE)")
for name in ("seats_bought", "fans_bought", "admitted_bought_nothing", "fans_told_sold_out", "fans_abandoned_holds", "fans_vanished"):
    if name in m:
        print(f"{name:<24}{m[name].get('count', 0):>6,.0f}")
for horizon in ("10s", "60s", "300s"):
    e = m.get(f"eta_error_{horizon}")
    if e and e.get("count"):
        print(f"ETA error {horizon:<5} median {e['med']:.0f} %   p90 {e['p(90)']:.0f} %   ({e['count']:.0f} fans)")
if "fans_without_ticket" in m:
    losers = m["fans_without_ticket"]["count"]
    warned = m.get("fans_without_ticket_told_unlikely_30s_before", {}).get("count", 0)
    print(f"without a ticket: {losers:,.0f}, told UNLIKELY 30 s before the sell-out: {warned:,.0f} ({100 * warned / max(1, losers):.0f} %)")
if "fans_bought" in m:
    bought = m["fans_bought"]["count"]
    warned = m.get("buyers_ever_told_unlikely", {}).get("count", 0)
    print(f"bought: {bought:,.0f}, ever told UNLIKELY: {warned:,.0f} ({100 * warned / max(1, bought):.1f} %)")
if "last_sale_at_ms" in m and "told_sold_out_at_ms" in m:
    delay = m["told_sold_out_at_ms"]["max"] - m["last_sale_at_ms"]["max"]
    print(f"sold-out notice: the last waiting fan was told {delay / 1000:.1f} s after the last sale")
if "queue_wait" in m:
    q = m["queue_wait"]
    print(f"queue wait    med {q['med'] / 1000:.2f} s   p95 {q['p(95)'] / 1000:.2f} s")
names = sorted((k.split("name:")[1].rstrip("}"), v) for k, v in m.items() if k.startswith("http_req_duration{name:"))
gateway = {}
if len(sys.argv) > 2:
    try:
        gateway = json.load(open(sys.argv[2]))
    except (OSError, ValueError):
        gateway = {}
# k6's endpoint tags and the gateway's function names differ for two endpoints.
FUNCTION = {"charge": "charge-balance", "balance": "get-balance"}
if names:
    print("endpoint          k6: p95 ms   p99 ms | gateway: p50 ms   p95 ms   p99 ms   max ms  (service time)")
    for name, v in names:
        g = gateway.get(FUNCTION.get(name, name), {}).get("service")
        side = f"{g['p50']:>8.2f} {g['p95']:>8.2f} {g['p99']:>8.2f} {g['max']:>8.2f}" if g else "       –"
        print(f"{name:<18}{v.get('p(95)', 0):>10.2f} {v.get('p(99)', 0):>8.2f} | {side}")
if len(sys.argv) > 3:
    try:
        cpu = json.load(open(sys.argv[3]))
        shares = ", ".join(f"{k} {v * 100:.0f}%" for k, v in sorted(cpu["share"].items(), key=lambda kv: -kv[1]))
        print(f"CPU over {cpu['wallSeconds']:.0f} s on {cpu['cpus']} cores: {shares}")
        if "waitedForCoreMsPerSecond" in cpu:
            waits = ", ".join(
                f"{k} {v:.0f} ms/s (worst second {cpu['worstSecondWaitedForCoreMs'].get(k, 0):.0f} ms)"
                for k, v in sorted(cpu["waitedForCoreMsPerSecond"].items(), key=lambda kv: -kv[1])
            )
            print(f"waited for a core: {waits}")
        if "cpuPressureSome" in cpu:
            p = cpu["cpuPressureSome"]
            print(f"CPU pressure: some task waited {p['share'] * 100:.0f}% of the time (worst second {p['worstSecondMs']:.0f} ms)")
    except (OSError, ValueError, KeyError):
        pass
steps = sorted(
    (int(k.split("step:")[1].rstrip("}")), v) for k, v in m.items() if k.startswith("http_req_duration{kind:api,step:")
)
if steps:
    print("arrival rate (journeys/s)   p95 ms   p99 ms")
    for rate, v in steps:
        print(f"{rate:>25}   {v.get('p(95)', 0):>6.2f}   {v.get('p(99)', 0):>6.2f}")
