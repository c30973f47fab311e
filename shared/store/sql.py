"""SQL text used by `PostgresStore`, kept apart so the store module reads as behaviour.

Page queries differ only in sort direction; they are built from the fixed `_DIRECTIONS` table,
never from caller text, and parameters are always bound. Parameters of `INSERT ... SELECT` are
cast explicitly because Postgres cannot infer their types from the target columns there.
"""

from __future__ import annotations

from typing import Final

# order -> (ORDER BY direction, keyset comparison that continues after the cursor)
_DIRECTIONS: Final = {"asc": ("ASC", ">"), "desc": ("DESC", "<")}

SAVE_THREAD: Final = """
INSERT INTO threads (id, user_id, created_at, title, data)
VALUES ($1, $2, $3, $4, $5::jsonb)
ON CONFLICT (id) DO UPDATE
    SET title = excluded.title, data = excluded.data, updated_at = now()
    WHERE threads.user_id = excluded.user_id
RETURNING id
"""

FIND_THREAD_AND_CURSOR: Final = """
SELECT t.id,
       (SELECT i.seq FROM thread_items i WHERE i.id = $3::text AND i.thread_id = t.id) AS after_seq
FROM threads t
WHERE t.id = $1 AND t.user_id = $2
"""

# The thread's owner is copied from `threads`, so an item can only join a thread of the caller;
# on an id conflict the row is updated in place (seq and created_at untouched) unless it belongs
# to another thread or user, in which case nothing is returned.
UPSERT_ITEM: Final = """
INSERT INTO thread_items (id, thread_id, user_id, type, created_at, data)
SELECT $1::text, t.id, t.user_id, $4::text, $5::timestamptz, $6::jsonb
FROM threads t
WHERE t.id = $2 AND t.user_id = $3
ON CONFLICT (id) DO UPDATE
    SET type = excluded.type, data = excluded.data
    WHERE thread_items.thread_id = excluded.thread_id
      AND thread_items.user_id = excluded.user_id
RETURNING seq
"""

# LEFT JOIN so an empty thread still yields one row (data NULL) and a missing one yields none.
RECENT_ITEMS: Final = """
SELECT r.data
FROM threads t
LEFT JOIN LATERAL (
    SELECT i.seq, i.data FROM thread_items i
    WHERE i.thread_id = t.id
    ORDER BY i.seq DESC
    LIMIT $3
) r ON true
WHERE t.id = $1 AND t.user_id = $2
ORDER BY r.seq ASC
"""

# The thread's row (part 0) then its newest $3 items, oldest first (part 1): one statement for what
# a turn's first read needs (`thread_reads.py`). No part-0 row: not the user's thread.
THREAD_AND_NEWEST_ITEMS: Final = """
SELECT 0 AS part, NULL::bigint AS seq, data FROM threads WHERE id = $1 AND user_id = $2
UNION ALL
SELECT 1, seq, data FROM (
    SELECT seq, data FROM thread_items WHERE thread_id = $1 AND user_id = $2
    ORDER BY seq DESC LIMIT $3
) newest
ORDER BY part, seq
"""

SAVE_ATTACHMENT: Final = """
INSERT INTO attachments (id, user_id, thread_id, mime_type, name, data)
SELECT $1::text, $2::text, $3::text, $4::text, $5::text, $6::jsonb
WHERE $3::text IS NULL
   OR EXISTS (SELECT 1 FROM threads WHERE id = $3::text AND user_id = $2::text)
ON CONFLICT (id) DO UPDATE
    SET thread_id = excluded.thread_id, mime_type = excluded.mime_type,
        name = excluded.name, data = excluded.data
    WHERE attachments.user_id = excluded.user_id
RETURNING id
"""

# NULL when the thread is not the user's; otherwise how many of the ids are items of the thread.
OWNED_ITEMS: Final = """
SELECT (SELECT count(*) FROM thread_items i WHERE i.thread_id = t.id AND i.id = ANY($3::text[]))
FROM threads t
WHERE t.id = $1 AND t.user_id = $2
"""

ADD_FEEDBACK: Final = """
INSERT INTO feedback (thread_id, item_id, user_id, kind)
SELECT $1::text, item_id, $2::text, $4::text FROM unnest($3::text[]) AS item_id
ON CONFLICT (thread_id, item_id, user_id) DO UPDATE
    SET kind = excluded.kind, created_at = now()
"""

# One row per feedback entry, or a single row with NULL item_id when there is none; no row at all
# when the thread is not the user's.
LOAD_FEEDBACK: Final = """
SELECT f.item_id, f.kind
FROM threads t
LEFT JOIN feedback f ON f.thread_id = t.id AND f.user_id = t.user_id
WHERE t.id = $1 AND t.user_id = $2
"""


def threads_page_query(order: str, *, keyset: bool) -> str:
    """Threads of user $1, at most $2 rows; with `keyset`, after ($3 created_at, $4 id)."""
    direction, after = _DIRECTIONS[order]
    cursor = f"AND (created_at, id) {after} ($3, $4)" if keyset else ""
    return (
        f"SELECT data FROM threads WHERE user_id = $1 {cursor}"
        f" ORDER BY created_at {direction}, id {direction} LIMIT $2"
    )


def items_page_query(order: str, *, keyset: bool) -> str:
    """Items of thread $1 and user $2, at most $3 rows; with `keyset`, after seq $4."""
    direction, after = _DIRECTIONS[order]
    cursor = f"AND seq {after} $4" if keyset else ""
    return (
        f"SELECT data FROM thread_items WHERE thread_id = $1 AND user_id = $2 {cursor}"
        f" ORDER BY seq {direction} LIMIT $3"
    )
