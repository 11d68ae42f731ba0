#!/usr/bin/env python3
"""k6/reconcile.py SUMMARY.json: after `k6/faults`, checks the store against what the fans were told.

The fans of k6/faults.js count every acknowledged charge and payment once (they retry until
acknowledged, with the same Idempotency-Key). Here, from Redis (REDIS_URL, KEY_PREFIX) and the
gateway's sales report:
  - the k6 fans' balances add up to the acknowledged charges minus the acknowledged payments;
  - their stored payments are exactly the acknowledged ones (count and amount);
  - the seat maps' SOLD seats, the ledger's sold seats (counted from the Kafka events, each once)
    and its revenue equal the acknowledged payments.
Prints each figure and exits 1 on any difference.
"""

import json
import os
import sys
import urllib.request

import redis

summary = json.load(open(sys.argv[1]))["metrics"]
acked = {name: int(summary.get(name, {}).get("count", 0)) for name in ("acked_charged", "acked_paid", "acked_payments")}

db = redis.Redis.from_url(os.environ["REDIS_URL"], decode_responses=True)
prefix = os.environ["KEY_PREFIX"]
balances = payments = paid = fans = 0
for key in db.scan_iter(match=f"{prefix}:{{u:*}}:profile", count=1000):
    profile = db.hgetall(key)
    if not profile.get("name", "").startswith("k6f-"):
        continue
    fans += 1
    balances += int(profile.get("balance", 0))
    for raw in db.hvals(key.replace(":profile", ":payments")):
        if raw != "VOID":
            payments += 1
            paid += json.loads(raw)["amount"]

base = os.environ.get("BASE_URL", "http://127.0.0.1:3000")
request = urllib.request.Request(f"{base}/admin/sales", headers={"x-admin-key": os.environ.get("ADMIN_KEY", "local-admin-key")})
sales = json.load(urllib.request.urlopen(request))

rows = [
    ("fans' balances = charges - payments acknowledged", balances, acked["acked_charged"] - acked["acked_paid"]),
    ("payments stored = payments acknowledged", payments, acked["acked_payments"]),
    ("amount of the stored payments = amount acknowledged", paid, acked["acked_paid"]),
    ("seats SOLD in the seat maps = payments acknowledged", sales["seatMapSold"], acked["acked_payments"]),
    ("seats in the ledger (from Kafka) = payments acknowledged", sales["soldSeats"], acked["acked_payments"]),
    ("revenue in the ledger = amount acknowledged", sales["revenue"], acked["acked_paid"]),
    ("refunds due (debited payments whose seat was lost)", sales["refundsDue"], 0),
]
print(f"{fans} fans; acknowledged: {acked}")
failed = False
for what, got, want in rows:
    mark = "ok  " if got == want else "DIFF"
    failed |= got != want
    print(f"  {mark} {what}: {got} (expected {want})")
sys.exit(1 if failed else 0)
