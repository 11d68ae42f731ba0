"""Schemathesis hooks for `local/fuzz-api`: a check that a request answered 4xx changed nothing.

Before each call the hook reads the state a request could change (every key of the fuzzing stack's
Redis database except those the schedules and the Kafka source change by themselves); after a 4xx
answer the check reads it again and fails on any difference, naming the keys. The run uses one
worker, so no other request of the fuzzer lands in between.
"""

import os
import re

import redis
import schemathesis

DB = redis.Redis.from_url(os.environ["FUZZ_REDIS_URL"], decode_responses=False)
PREFIX = os.environ["KEY_PREFIX"].encode()

# Keys that change without any request, or that count refused requests on purpose:
#   room admission state (ticks move tickets from waiting to active and drop idle ones), the rate
#   limits (every attempt counts), the booking path's health per second (every answer counts, for
#   the autopilot), a room's refusal counts (every refused fan's answer counts, for the report)
#   and the autopilot's decision log (written by the tick), the schedules' and
#   relay's work lists, the outbox and ledger (fed by the relay and the Kafka source), the
#   sweeper's lists of live and finished holds; the room settings' fields the tick sets
#   (TICK_SETTINGS) and the schedule meta's count of lapsed seats the sweeper keeps
#   (SWEEPER_META).
BACKGROUND = re.compile(
    rb"\{r:[0-9a-f]+\}:(waiting|active|seen|joined|stats|decisions|errors|health:[0-9]+)$"
    rb"|\{rooms\}:live$|\{rl:[^}]*\}:|\{work\}:"
    rb"|\{s:[0-9a-f]+\}:(outbox|ledger|ledger-events|holds|finished)$"
)


# Fields of a room's settings that admission's tick writes: the sale opened, the show sold out.
TICK_SETTINGS = {b"opened", b"soldOut", b"soldOutAt"}
# Fields of a schedule's meta that the sweeper writes: the seats whose holds lapsed.
SWEEPER_META = {b"lapsed"}


def _value(key):
    kind = DB.type(key)
    if kind == b"string":
        return DB.get(key)
    if kind == b"hash":
        fields = DB.hgetall(key).items()
        if key.endswith(b":settings"):
            fields = [(f, v) for f, v in fields if f not in TICK_SETTINGS]
        if key.endswith(b":meta"):
            fields = [(f, v) for f, v in fields if f not in SWEEPER_META]
        return sorted(fields)
    if kind == b"zset":
        return DB.zrange(key, 0, -1, withscores=True)
    if kind == b"set":
        return sorted(DB.smembers(key))
    if kind == b"list":
        return DB.lrange(key, 0, -1)
    if kind == b"stream":
        return DB.xrange(key)
    return kind


def state():
    keys = [k for k in DB.scan_iter(match=PREFIX + b":*", count=1000) if not BACKGROUND.search(k)]
    return {k: _value(k) for k in keys}


_before = {}


@schemathesis.hook
def before_call(ctx, case, **kwargs):
    _before["state"] = state()


@schemathesis.check
def refused_requests_change_nothing(ctx, response, case):
    if not 400 <= response.status_code < 500 or "state" not in _before:
        return
    before, after = _before.pop("state"), state()
    changed = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
    if changed:
        shown = ", ".join(k.decode(errors="replace") for k in changed[:5])
        raise AssertionError(f"answered {response.status_code} but changed {len(changed)} key(s): {shown}")
