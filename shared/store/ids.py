"""Identifiers for threads, items and attachments.

Each id is chatkit's type prefix plus 32 hex digits: a 48-bit millisecond timestamp followed by
80 random bits. Many processes generate ids with no coordination, so uniqueness comes from the
randomness; the timestamp first makes ids roughly sortable by creation time (handy in logs and
for index locality).
"""

from __future__ import annotations

import secrets
import time

from chatkit.store import StoreItemType

# The same prefixes as `chatkit.store.default_generate_id` (its table is private).
ID_PREFIXES: dict[StoreItemType, str] = {
    "thread": "thr",
    "message": "msg",
    "tool_call": "tc",
    "workflow": "wf",
    "task": "tsk",
    "attachment": "atc",
    "sdk_hidden_context": "shcx",
}

_TIMESTAMP_MASK = (1 << 48) - 1


def new_id(item_type: StoreItemType) -> str:
    """A new unique id for an object of `item_type`, e.g. `msg_0193a1b2c3d4...`."""
    prefix = ID_PREFIXES.get(item_type, item_type)
    millis = time.time_ns() // 1_000_000 & _TIMESTAMP_MASK
    return f"{prefix}_{millis:012x}{secrets.token_hex(10)}"
