"""One row per k6 run, side by side: purchases per second and in all, k6's p95/p99, the service's
own p95/p99 on the booking routes (the gateway's GET /__stats), failed requests, oversold seats
and the queue wait; then, from the rooms sampled each second (NAME-rooms.jsonl, k6/rooms.py),
the share of seconds the booking path's p95 (the autopilot's own 5 s measure, the slowest room)
was over its target and, for a run with a capacity cut (NAME-cut.json), how long after the cut
began the p95 was back under the target for good (10 s in a row) and how long after it ended the
autopilot's limit was back to its level before. Usage: compare.py NAME... (reads
k6/results/NAME-*)."""
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


def seconds(name):
    """Per-second figures from the rooms' samples: [(t, worst p95, target, total limit)]."""
    out = []
    try:
        with open(f"k6/results/{name}-rooms.jsonl") as f:
            for line in f:
                sample = json.loads(line)
                rooms = [r for r in sample["rooms"].values() if r["answers"] >= 20 and r["p95"] is not None]
                limits = [r["limit"] or 0 for r in sample["rooms"].values()]
                if rooms:
                    worst = max(rooms, key=lambda r: r["p95"] / r["target"])
                    out.append((sample["t"], worst["p95"], worst["target"], sum(limits)))
    except OSError:
        pass
    return out


def timeline(name):
    samples = seconds(name)
    if not samples:
        return None
    over = sum(1 for _, p95, target, _ in samples if p95 > target) / len(samples)
    text = f"{name}: booking p95 over its target in {over:.0%} of {len(samples)} sampled seconds"
    cut = load(f"k6/results/{name}-cut.json")
    if cut:
        start, end = cut["start"], cut["end"]
        during = [x for x in samples if start <= x[0] <= end]
        back = None
        for i, (t, p95, target, _) in enumerate(during):
            window = during[i : i + 10]
            if len(window) == 10 and all(p <= tg for _, p, tg, _ in window):
                back = t - start
                break
        before = [lim for t, _, _, lim in samples if start - 20 <= t < start]
        level = sum(before) / len(before) if before else None
        regained = next((t - end for t, _, _, lim in samples if t > end and level and lim >= level), None)
        worst = max((p for _, p, _, _ in during), default=0)
        text += f"; cut of {end - start:.0f} s: p95 back under the target for good {back:.0f} s after it began" if back is not None else f"; cut of {end - start:.0f} s: p95 not back under the target during it"
        text += f" (worst {worst:.0f} ms)"
        text += f", limit back to its level before the cut ({level:.0f} a tick) {regained:.0f} s after it ended" if regained is not None else ", limit not back to its level before the cut"
    return text


header = ["run", "purchases/s", "purchases", "k6 p95/p99 ms", *[f"{r} p95/p99 ms" for r in ROUTES], "failed", "oversold", "queue wait p50/p95 s"]
rows = [header] + [row(n) for n in sys.argv[1:] if os.path.exists(f"k6/results/{n}-summary.json")]
print("| " + " | ".join(header) + " |")
print("|" + "---|" * len(header))
for r in rows[1:]:
    print("| " + " | ".join(r) + " |")
for n in sys.argv[1:]:
    line = timeline(n)
    if line:
        print(line)
