"""What a turn holds in Redis from its admission to its end: its thread's turn lock (one turn at a
time per thread, across every gateway and worker) and its author's stream slot (a bounded number
of turns streaming or running per user). Both are taken, kept and given back here only.

- Taken by the gateway's admission, in one script with the checks that decide whether the turn
  may be queued at all and with the queueing itself (`take`), or, while a turn waits for its
  thread, by `take_thread`.
- Kept alive while the turn runs by its worker's heartbeat thread (`HoldRenewals`), all its
  running turns in one round trip: a thread gets the interpreter however busy the worker's event
  loop is, so a slow turn keeps its thread (a lapsed lock would let a second turn run on it). A
  turn whose client left (`ON_DISCONNECT=continue`) still holds its slot until its end.
- Given back by whoever ends the turn (`release`): the worker at the turn's end, the gateway for
  a turn that was refused or never started (with the day's message it took).

Each expires on its own when its holder dies, so a crashed process blocks a thread for seconds and
a slot for at most a lease, never for good. A lock is extended or released only by the turn it
names: one that expired and was taken by a newer turn is not touched by the old one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

import redis
from redis.asyncio import Redis

from shared.turns import keys
from shared.turns.queue import QueuedTurn, enqueue_lua

_NOW_MS: Final = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
"""

# KEYS: the user's slots, the day's message counter, live workers, the queue, the thread's lock,
# the turn's owner record. ARGV: slot limit, slot lease ms, turn id, message limit (0: the turn uses
# none), counter TTL s, oldest live heartbeat (epoch s), max queue depth, lock ms, has a thread
# (1/0), wait for it (1/0), queue it (1/0), its origin, the origin's TTL s, the encoded turn.
# Everything is checked before anything is taken: a refusal takes nothing. Slots whose lease ran
# out (their holder died) are not counted; the set expires with the last lease.
_TAKE: Final = (
    _NOW_MS
    + """
if redis.call('ZCOUNT', KEYS[1], now, '+inf') >= tonumber(ARGV[1]) then return 'streams' end
local counted = tonumber(ARGV[4]) > 0
if counted and tonumber(redis.call('GET', KEYS[2]) or '0') >= tonumber(ARGV[4]) then
  return 'daily_quota'
end
if redis.call('ZCOUNT', KEYS[3], ARGV[6], '+inf') == 0 then return 'no_worker' end
if redis.call('LLEN', KEYS[4]) >= tonumber(ARGV[7]) then return 'queue_full' end
local thread = 'none'
if ARGV[9] == '1' then
  if redis.call('SET', KEYS[5], ARGV[3], 'NX', 'PX', ARGV[8]) then
    thread = 'taken'
  elseif ARGV[10] == '1' then
    thread = 'wait'
  else
    return 'busy_thread'
  end
end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
if counted and redis.call('INCR', KEYS[2]) == 1 then redis.call('EXPIRE', KEYS[2], ARGV[5]) end
if ARGV[11] == '1' and thread ~= 'wait' then
  """
    + enqueue_lua("KEYS[6]", "KEYS[4]", "ARGV[12]", "ARGV[13]", "ARGV[14]")
    + """
end
return thread
"""
)

# KEYS: the thread's lock, the user's slots. ARGV: turn id, lock ms, slot lease ms (0: leave the
# slot as it is), has a thread. Returns 0 when the turn no longer holds its thread (it expired and
# another turn took it).
_RENEW: Final = """
local held = 1
if ARGV[4] == '1' then
  if redis.call('GET', KEYS[1]) == ARGV[1] then
    redis.call('PEXPIRE', KEYS[1], ARGV[2])
  else
    held = 0
  end
end
if ARGV[3] ~= '0' then
  local t = redis.call('TIME')
  local expiry = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) + tonumber(ARGV[3])
  if redis.call('ZADD', KEYS[2], 'XX', 'CH', expiry, ARGV[1]) == 1 then
    redis.call('PEXPIRE', KEYS[2], ARGV[3])
  end
end
return held
"""

# KEYS: the thread's lock, the user's slots, the day's message counter.
# ARGV: turn id, has a thread (1/0), give the message back (1/0).
_RELEASE: Final = """
if ARGV[2] == '1' and redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
redis.call('ZREM', KEYS[2], ARGV[1])
if ARGV[3] == '1' and tonumber(redis.call('GET', KEYS[3]) or '0') > 0 then
  redis.call('DECR', KEYS[3])
end
return 1
"""

TakeResult = Literal[
    "taken", "wait", "none", "streams", "daily_quota", "no_worker", "queue_full", "busy_thread"
]
"""`taken`: everything, the thread's lock included; `wait`: everything but the lock, which another
turn holds (the caller waits for it with `take_thread`); `none`: everything, the turn has no
thread yet. With `taken` and `none` the turn was also queued, when `take` was asked to. Anything
else names the first check that failed, and nothing was taken or queued."""


@dataclass(frozen=True, slots=True)
class TurnLimits:
    """What `take` checks, from the settings."""

    streams_per_user: int
    slot_lease_s: float
    messages_per_day: int
    max_queue_depth: int
    lock_ttl_s: float


class TurnHolds:
    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self._take = redis.register_script(_TAKE)
        self._release = redis.register_script(_RELEASE)

    async def take(
        self,
        *,
        turn_id: str,
        user_id: str,
        thread_id: str | None,
        day_counter: str,
        uses_a_message: bool,
        workers_key: str,
        live_since_s: float,
        limits: TurnLimits,
        wait_for_thread: bool,
        queue: QueuedTurn | None = None,
    ) -> TakeResult:
        """Check and take what a new turn needs, in one round trip (see `TakeResult`), and
        queue the turn (`queue`) in the same call unless it must wait for its thread."""
        result: bytes = await self._take(
            keys=[
                keys.open_streams(user_id),
                day_counter,
                workers_key,
                keys.TURN_QUEUE,
                keys.thread_turn(thread_id or ""),
                keys.turn_owner(turn_id),
            ],
            args=[
                limits.streams_per_user,
                _ms(limits.slot_lease_s),
                turn_id,
                limits.messages_per_day if uses_a_message else 0,
                keys.DAILY_QUOTA_TTL_S,
                repr(live_since_s),
                limits.max_queue_depth,
                _ms(limits.lock_ttl_s),
                1 if thread_id is not None else 0,
                1 if wait_for_thread else 0,
                1 if queue is not None else 0,
                queue.origin if queue is not None else b"",
                queue.owner_ttl_s if queue is not None else 0,
                queue.payload if queue is not None else b"",
            ],
        )
        return result.decode()  # type: ignore[return-value]

    async def take_thread(self, thread_id: str, turn_id: str, ttl_s: float) -> bool:
        """Take the thread for `turn_id`; False when another turn holds it."""
        taken = await self._redis.set(
            keys.thread_turn(thread_id), turn_id.encode(), nx=True, px=_ms(ttl_s)
        )
        return bool(taken)

    async def release(
        self,
        turn_id: str,
        user_id: str,
        thread_id: str | None,
        *,
        message_of: str | None = None,
    ) -> None:
        """Give back the turn's thread and slot, and the message counted in `message_of` (the
        day's counter) for a turn that never ran."""
        await self._release(
            keys=[
                keys.thread_turn(thread_id or ""),
                keys.open_streams(user_id),
                message_of or keys.thread_turn(""),
            ],
            args=[turn_id, 1 if thread_id else 0, 1 if message_of else 0],
        )

    async def holder(self, thread_id: str) -> str | None:
        """The turn holding the thread, if any."""
        value: bytes | None = await self._redis.get(keys.thread_turn(thread_id))
        return value.decode() if value is not None else None


@dataclass(frozen=True, slots=True)
class Renewal:
    """One running turn's holds to keep: its thread's lock, if it has a thread, for another
    `lock_ttl_s`; its slot for another `slot_lease_s` (None: not this time)."""

    turn_id: str
    user_id: str
    thread_id: str | None
    slot_lease_s: float | None


class HoldRenewals:
    """Keeps running turns' holds, from a synchronous client (the worker's heartbeat thread)."""

    def __init__(self, client: redis.Redis, *, lock_ttl_s: float) -> None:
        self._client = client
        self._renew = client.register_script(_RENEW)
        self._lock_ms = _ms(lock_ttl_s)

    def renew(self, renewals: list[Renewal]) -> list[str]:
        """Renew them all in one round trip; the ids of the turns that no longer hold their thread
        (it expired and another turn took it: theirs is left alone)."""
        wanted = [r for r in renewals if r.thread_id is not None or r.slot_lease_s is not None]
        if not wanted:
            return []
        with self._client.pipeline(transaction=False) as pipe:
            for r in wanted:
                self._renew(
                    keys=[keys.thread_turn(r.thread_id or ""), keys.open_streams(r.user_id)],
                    args=[
                        r.turn_id,
                        self._lock_ms,
                        _ms(r.slot_lease_s) if r.slot_lease_s is not None else 0,
                        1 if r.thread_id else 0,
                    ],
                    client=pipe,
                )
            held: list[int] = pipe.execute()
        return [r.turn_id for r, kept in zip(wanted, held, strict=True) if not kept]


def _ms(seconds: float) -> int:
    return max(1, int(seconds * 1000))
