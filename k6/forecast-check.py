"""Scores a room's admission forecast against what happened, from the samples k6/rooms.py takes
once a second during a run (k6/run writes them to k6/results/NAME-rooms.jsonl).

For every sample and every place then waiting, the forecast's time for the place (the public
state's `admissionForecast`, as the fan's page and `eta_seconds` read it) is compared with when
the room's admitted total actually reached the place (to the second of the samples). Printed by
how far ahead the place was let in (10 s, 60 s, 5 min, each +-25 %): the median and p90 of the
absolute error in percent of the wait that was left, and the share of those places told nothing
(`null`). Places never let in (the room sold out first) count apart: the share told a time anyway.

Places shift when fans ahead leave, so a place's time is approximate by those who left ahead of
it; k6/drop.js's own `eta_error_*` follow each fan instead.

Usage: python3 k6/forecast-check.py k6/results/NAME-rooms.jsonl"""
import json
import sys
from datetime import datetime

HORIZONS = (10, 60, 300)


def ms(rfc3339):
    return datetime.fromisoformat(rfc3339.replace("Z", "+00:00")).timestamp() * 1000


def forecast_at(f, place):
    """When the forecast lets `place` in (epoch ms), or None."""
    start = f["fromPlace"]
    for run in f["runs"]:
        if place <= run["throughPlace"]:
            a, b = ms(run["startsAt"]), ms(run["endsAt"])
            span = run["throughPlace"] - start
            share = min(1.0, max(0, place - start) / span) if span > 0 else 1.0
            return a + (b - a) * share
        start = run["throughPlace"] + 1
    return None  # past it (a cap-bound forecast's rate tail is not scored here)


def quantile(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))] if values else None


def main(path):
    samples = [json.loads(line) for line in open(path)]
    # The room with a forecast: the drop's.
    rooms = {c for s in samples for c, r in s["rooms"].items() if r.get("forecast")}
    for concert in sorted(rooms):
        rows = [(s["t"] * 1000, s["rooms"][concert]) for s in samples if concert in s["rooms"] and "admittedTotal" in s["rooms"][concert]]
        admitted_at = {}  # place -> first sample time its admitted total reached it
        for t, r in rows:
            for place in range(len(admitted_at) + 1, r["admittedTotal"] + 1):
                admitted_at[place] = t
        errors = {h: [] for h in HORIZONS}
        nulls = {h: 0 for h in HORIZONS}
        told = {h: 0 for h in HORIZONS}
        never, never_told = 0, 0
        for t, r in rows:
            f = r.get("forecast")
            if not f:
                continue
            for place in range(r["admittedTotal"] + 1, r["admittedTotal"] + r["waiting"] + 1):
                said = forecast_at(f, place)
                actual = admitted_at.get(place)
                if actual is None:
                    never += 1
                    never_told += said is not None
                    continue
                left = (actual - t) / 1000
                for h in HORIZONS:
                    if abs(left - h) <= h / 4:
                        if said is None:
                            nulls[h] += 1
                        else:
                            told[h] += 1
                            errors[h].append(100 * abs((said - actual) / 1000) / left)
        print(f"room {concert}: {len(rows)} samples, {len(admitted_at)} places let in")
        for h in HORIZONS:
            e = errors[h]
            total = told[h] + nulls[h]
            if total == 0:
                print(f"  {h:>3} s ahead: no places")
                continue
            spread = f"error median {quantile(e, 0.5):.0f} %  p90 {quantile(e, 0.9):.0f} %" if e else "no error to measure"
            print(f"  {h:>3} s ahead: {spread}  ({told[h]:,} place-samples told a time, {100 * nulls[h] / total:.0f} % told nothing)")
        if never:
            print(f"  places never let in: {never:,} place-samples, {100 * never_told / never:.0f} % told a time anyway")


if __name__ == "__main__":
    main(sys.argv[1])
