#!/usr/bin/env python3
"""k6/fault_timeline.py INJECTED.txt METRICS.csv.gz: what k6/faults injected and when, then per
second of the run: requests, k6's p95 of the API requests, answers 503 and requests not answered,
so the outage's bounds and the return to normal latency can be read off."""

import csv
import gzip
import sys
from collections import defaultdict

print("injected (seconds from k6's start):")
print(open(sys.argv[1]).read().rstrip())

durations = defaultdict(list)
refused = defaultdict(int)
for row in csv.DictReader(gzip.open(sys.argv[2], "rt")):
    if row["metric_name"] != "http_req_duration" or "kind=api" not in row.get("extra_tags", ""):
        continue
    second = int(float(row["timestamp"]))
    durations[second].append(float(row["metric_value"]))
    if row["status"] in ("503", "0"):
        refused[second] += 1

if not durations:
    sys.exit("no API requests in the metrics")
start = min(durations)
print("\n second | requests | p95 ms | 503 or unanswered")
for second in sorted(durations):
    values = sorted(durations[second])
    p95 = values[min(len(values) - 1, int(len(values) * 0.95))]
    print(f" {second - start:6d} | {len(values):8d} | {p95:6.1f} | {refused[second]}")
