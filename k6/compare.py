"""One row per k6 run, side by side: purchases per second and in all, k6's p95/p99, the service's
own p95/p99 on the booking routes (the gateway's GET /__stats), failed requests, oversold seats
and the queue wait. Usage: compare.py NAME... (reads k6/results/NAME-summary.json and
NAME-gateway.json)."""
import json
import os
import sys

ROUTES = ("list-seats", "hold-seat", "pay")


def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}


def row(name):
    summary = load(f"k6/results/{name}-summary.json").get("metrics", {})
    gateway = load(f"k6/results/{name}-gateway.json")
    dur = summary.get("http_req_duration{kind:api}", {})
    reqs = summary.get("http_reqs", {})
    seconds = reqs.get("count", 0) / reqs["rate"] if reqs.get("rate") else 0
    bought = summary.get("purchases_completed", {}).get("count", 0)
    wait = summary.get("queue_wait", {})
    service = []
    for route in ROUTES:
        s = gateway.get(route, {}).get("service", {})
        service.append(f"{s.get('p95', 0):.0f}/{s.get('p99', 0):.0f}")
    return [
        name,
        f"{bought / seconds:.1f}" if seconds else "-",
        f"{bought:,.0f}",
        f"{dur.get('p(95)', 0):.0f}/{dur.get('p(99)', 0):.0f}",
        *service,
        f"{summary.get('http_req_failed', {}).get('passes', 0):,.0f}",
        f"{summary.get('seats_oversold', {}).get('count', 0):,.0f}",
        f"{wait.get('med', 0) / 1000:.1f}/{wait.get('p(95)', 0) / 1000:.1f}",
    ]


header = ["run", "purchases/s", "purchases", "k6 p95/p99 ms", *[f"{r} p95/p99 ms" for r in ROUTES], "failed", "oversold", "queue wait p50/p95 s"]
rows = [header] + [row(n) for n in sys.argv[1:] if os.path.exists(f"k6/results/{n}-summary.json")]
print("| " + " | ".join(header) + " |")
print("|" + "---|" * len(header))
for r in rows[1:]:
    print("| " + " | ".join(r) + " |")
