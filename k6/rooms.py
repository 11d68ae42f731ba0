"""Samples every room's operator view once a second while a k6 run goes on, for the autopilot's
figures per second: its limit, the booking path's measured p95 and answers, the line and ACTIVE;
and its public state's admitted total and forecast, which k6/forecast-check.py scores.
Usage: rooms.py OUT.jsonl (stops on SIGTERM). Reads BASE_URL and ADMIN_KEY like the k6 scripts."""
import json
import os
import signal
import sys
import time
import urllib.request

BASE = os.environ.get("BASE_URL", "http://127.0.0.1:3000")
KEY = os.environ.get("ADMIN_KEY", "local-admin-key")
FIXTURE = "000000000000000000000000000000c1"
running = True


def stop(*_):
    global running
    running = False


def get(path, admin=False):
    req = urllib.request.Request(BASE + path, headers={"x-admin-key": KEY} if admin else {})
    with urllib.request.urlopen(req, timeout=2) as res:
        return json.load(res)


def main():
    signal.signal(signal.SIGTERM, stop)
    concerts, listed_at = [], 0.0
    with open(sys.argv[1], "w") as out:
        while running:
            started = time.time()
            # Concerts a test makes as it starts (the drop test's) join the list within 5 s.
            if started - listed_at >= 5:
                try:
                    concerts = [c["concertId"] for c in get("/concerts")["concerts"] if c["concertId"] != FIXTURE]
                    listed_at = started
                except Exception:
                    pass
            rooms = {}
            for concert in concerts:
                try:
                    r = get(f"/admin/concerts/{concert}/room", admin=True)
                except Exception:  # a slow second is a gap in the samples, not a failed run
                    continue
                a = r["autopilot"]
                rooms[concert] = {
                    "limit": a["limit"], "p95": a["measuredP95Ms"], "answers": a["answers"], "target": a["targetP95Ms"],
                    "waiting": r["waiting"], "active": r["active"], "admittedPerSecond": r["admittedPerSecond"],
                    "seats": r["seats"],
                }
                try:
                    p = get(f"/concerts/{concert}/room")
                    rooms[concert]["admittedTotal"] = p["admittedTotal"]
                    rooms[concert]["forecast"] = p.get("admissionForecast")
                except Exception:
                    pass
            out.write(json.dumps({"t": round(started, 3), "rooms": rooms}) + "\n")
            out.flush()
            time.sleep(max(0.0, 1.0 - (time.time() - started)))


if __name__ == "__main__":
    main()
