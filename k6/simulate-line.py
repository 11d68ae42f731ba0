#!/usr/bin/env python3
"""k6/simulate-line.py [FANS] [ADMITTED_PER_SECOND]: a million fans (default) in one line, before and
after the public room state, simulated from the rules the code applies.

Every fan joins in the minute before the opening and is admitted in line order, ADMITTED_PER_SECOND (default 1,000) per
one-second tick. Two clients:
  before: the fan asks for its own status (`GET /queue/tokens/current`: a function invocation and a
          Redis script) every `Retry-After` = ETA / 2 (rounded up), 1 to 30 s (domain/queue.rs).
  after:  the fan page's client (functions/fan-page/src/page.html): while its derived ETA is above
          NEAR_SECONDS it reads the room's public state (`GET /concerts/{id}/room`, the same for
          everyone, so a CDN answers it and the service sees about one read a second per CDN edge)
          every PUBLIC_EVERY seconds and asks for its own status only every `heartbeatSeconds`
          (WAIT_ABANDON_SECONDS / 3, 600 s); from NEAR_SECONDS on, exactly as before.
Then the same line with the operator pausing it for PAUSE_FOR seconds, PAUSE_AT seconds after the
opening: the page's client before 2026-11-27 asked for its own status every 10 s (`Retry-After`
while paused) whatever its place; now it keeps following the public state unless its turn could
come within NEAR_SECONDS once the line moves (its position over `admissionPacePerSecond`).
Last, a pre-queue of PREQUEUE_FOR seconds that fans join evenly: the page used to ask for its own
status every `Retry-After` (the time to the opening, 1 to 30 s) until the opening; now it follows
the public state (which carries `opensAt`) until NEAR_SECONDS before, with the heartbeat.
Each of SAMPLE fans spread evenly over the line is simulated exactly; totals are scaled to FANS.
Prints per-fan requests per minute at the back of the line (while more than NEAR_SECONDS from its
turn), the service's requests and Redis
scripts per second, when fans learn they are admitted, and the longest a fan went unseen before
its turn (the tick drops a fan not seen within WAIT_IDLE_SECONDS when its turn comes: a longer gap
would admit someone later than before).
"""

import math
import sys

FANS = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
RATE = float(sys.argv[2]) if len(sys.argv) > 2 else 1_000.0
SAMPLE = 2_000
NEAR_SECONDS = 60
PUBLIC_EVERY = 5
WAIT_IDLE = 120
HEARTBEAT = 1800 // 3
PAUSE_AT, PAUSE_FOR = 120, 600
PAUSED_RETRY = 10  # Retry-After of a paused line (http.rs)
PREQUEUE_FOR = 3600
PAUSE = None  # (start, end) in seconds from the opening while simulating the paused line


def paused(t):
    return PAUSE is not None and PAUSE[0] <= t < PAUSE[1]


def admitted(t):
    """Fans admitted by `t` (seconds from the opening): RATE a second, none while paused."""
    t = max(0.0, t)
    if PAUSE is None:
        return RATE * t
    return RATE * (min(t, PAUSE[0]) + max(0.0, t - PAUSE[1]))


def admitted_at(place):
    """The tick (whole seconds from the start) that admits the fan at `place` (1 = first)."""
    if PAUSE is None or place <= RATE * PAUSE[0]:
        return math.ceil(place / RATE)
    return PAUSE[1] + math.ceil((place - RATE * PAUSE[0]) / RATE)


def position(place, t):
    return place - math.floor(admitted(t))


def retry_after(pos):
    eta = math.ceil(pos / RATE)
    return min(max((eta + 1) // 2, 1), 30)


def simulate(place, mode):
    """The fan's own-status polls and public-state reads, in seconds from the start (joining, at
    0, answers the first status and is not counted)."""
    own, public = [], []
    # Fans arrive over the minute before the opening (at 0), spread evenly; the line's order is
    # their place.
    t = -60 + 60 * ((place * 0.6180339887) % 1)
    last_own = t
    admit = admitted_at(place)
    while t < admit:
        pos = position(place, t)
        # The soonest its turn could come: the measured rate and the room's pace are both RATE.
        eta = math.ceil(pos / RATE)
        # The page before the pause change asked for its own status while the line was paused.
        own_status = mode == "before" or eta <= NEAR_SECONDS or (mode == "paused-before" and paused(t))
        if own_status:
            t += PAUSED_RETRY if paused(t) else retry_after(pos)
            own.append(t)
            last_own = t
            continue
        t += PUBLIC_EVERY
        public.append(t)
        derived_eta = math.ceil(max(1, position(place, t)) / RATE)
        paused_before = mode == "paused-before" and paused(t)
        if paused_before or derived_eta <= NEAR_SECONDS or t - last_own >= HEARTBEAT or t >= admit:
            own.append(t)
            last_own = t
    return own, public, admit


def run(mode):
    places = [max(1, round(FANS * (k + 1) / SAMPLE)) for k in range(SAMPLE)]
    weight = FANS / SAMPLE
    per_second = {}
    learned, unseen = [], 0.0
    back = None
    for place in places:
        own, public, admit = simulate(place, mode)
        for t in own:
            per_second[int(t)] = per_second.get(int(t), 0) + weight
        seen_before = [-60.0] + [t for t in own if t <= admit]
        unseen = max(unseen, admit - max(seen_before))
        learned.append(min(t for t in own if t >= admit) - admit)
        if place == places[-1]:
            # While far from the front (more than NEAR_SECONDS to go), per minute.
            far_until = admit - NEAR_SECONDS
            minutes = (far_until + 60) / 60
            back = (sum(t <= far_until for t in own) / minutes, sum(t <= far_until for t in public) / minutes, admit)
    load = [per_second.get(s, 0) for s in range(min(per_second), max(per_second) + 1)]
    during_pause = [per_second.get(s, 0) for s in range(PAUSE[0], PAUSE[1])] if PAUSE else [0]
    learned.sort()
    return {
        "paused_rps": sum(during_pause) / len(during_pause),
        "own_per_min_back": back[0],
        "public_per_min_back": back[1],
        "wait_back_s": back[2],
        "peak_rps": max(load),
        "mean_rps": sum(load) / len(load),
        "first_minute_rps": sum(load[60:120]) / 60,
        "learned_median": learned[len(learned) // 2],
        "learned_max": learned[-1],
        "longest_unseen": unseen,
    }


def table(before, after, rows):
    """Rows of (label, key, digits): before, after and how many times fewer."""
    print(f"{'':58} {'before':>12} {'after':>12} {'ratio':>7}")
    for label, key, digits in rows:
        b, a = before[key], after[key]
        ratio = f"{b / a:6.1f}x" if a else "      -"
        print(f"{label:58} {b:12,.{digits}f} {a:12,.{digits}f} {ratio}")


before, after = run("before"), run("after")
print(f"{FANS:,} fans in one line, {RATE:,.0f} admitted per second; {SAMPLE:,} fans simulated exactly, scaled")
rows = [
    ("back of the line: own-status requests per minute", "own_per_min_back", 2),
    ("back of the line: public-state reads per minute (CDN)", "public_per_min_back", 1),
    ("service: own-status requests (= Redis scripts) per s, peak", "peak_rps", 0),
    ("service: the same, the first minute of the sale", "first_minute_rps", 0),
    ("service: the same, mean over the sale", "mean_rps", 0),
    ("s from admission to the fan knowing it, median", "learned_median", 1),
    ("s from admission to the fan knowing it, max", "learned_max", 1),
    ("longest a fan went unseen before its turn, s", "longest_unseen", 0),
]
table(before, after, rows)
print(f"the back of the line waits {before['wait_back_s'] / 60:.0f} min; public state reads cost the service about one per second per CDN edge")
ok = after["longest_unseen"] <= WAIT_IDLE and after["learned_max"] <= before["learned_max"]
print("nobody admitted later than before (every fan seen within WAIT_IDLE_SECONDS when its turn came):", "yes" if ok else "NO")

PAUSE = (PAUSE_AT, PAUSE_AT + PAUSE_FOR)
before, after = run("paused-before"), run("after")
print(f"\nthe same line, paused by the operator from {PAUSE_AT} s to {PAUSE[1]} s after the opening")
table(before, after, [
    ("service: own-status requests per s, mean while paused", "paused_rps", 0),
    ("service: the same, peak over the sale", "peak_rps", 0),
    ("s from admission to the fan knowing it, max", "learned_max", 1),
    ("longest a fan went unseen before its turn, s", "longest_unseen", 0),
])
paused_ok = after["longest_unseen"] <= WAIT_IDLE and after["learned_max"] <= before["learned_max"]
print("nobody admitted later than before after the resume:", "yes" if paused_ok else "NO")


def prequeue(arrive, mode):
    """A pre-queue fan's own-status polls before the opening (at 0), and when it was last seen."""
    own, t, last = [], arrive, arrive
    following = mode == "after" and -t > NEAR_SECONDS
    while True:
        if following:
            t += PUBLIC_EVERY
            if t >= 0:
                break
            if -t <= NEAR_SECONDS or t - last >= HEARTBEAT:
                own.append(t)
                last = t
                following = -t > NEAR_SECONDS
            continue
        # Retry-After in the pre-queue: the seconds to the opening, 1 to 30 (http.rs).
        t += min(max(int(-t), 1), 30)
        if t >= 0:
            break
        own.append(t)
        last = t
    return own, last


def run_prequeue(mode):
    weight = FANS / SAMPLE
    per_second, unseen = {}, 0.0
    for k in range(SAMPLE):
        own, last = prequeue(-PREQUEUE_FOR * (k + 0.5) / SAMPLE, mode)
        for t in own:
            per_second[math.floor(t)] = per_second.get(math.floor(t), 0) + weight
        unseen = max(unseen, -last)
    load = [per_second.get(s, 0) for s in range(-PREQUEUE_FOR, 0)]
    return {"mean_rps": sum(load) / len(load), "last_minute_rps": sum(load[-60:]) / 60, "hour_before": sum(load[:-60]) / (len(load) - 60), "longest_unseen": unseen}


before, after = run_prequeue("before"), run_prequeue("after")
print(f"\na pre-queue of {PREQUEUE_FOR} s that the {FANS:,} fans join evenly, until the opening")
table(before, after, [
    ("service: own-status requests per s, mean", "mean_rps", 0),
    ("the same, before the last minute", "hour_before", 0),
    ("the same, the last minute", "last_minute_rps", 0),
    ("longest a fan went unseen before the opening, s", "longest_unseen", 0),
])
prequeue_ok = after["longest_unseen"] <= WAIT_IDLE
print("every fan seen within WAIT_IDLE_SECONDS at the opening (so admitted as before):", "yes" if prequeue_ok else "NO")
sys.exit(0 if ok and paused_ok and prequeue_ok else 1)
