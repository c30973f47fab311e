"""JSON (de)serialisation of chatkit models for the `jsonb` columns.

pydantic writes and parses the JSON text directly (no intermediate dicts); the pool registers no
jsonb codec, so asyncpg passes that text through unchanged.
"""

from __future__ import annotations

from chatkit.types import Attachment, ThreadItem, ThreadMetadata
from pydantic import TypeAdapter

_ITEM: TypeAdapter[ThreadItem] = TypeAdapter(ThreadItem)
_ATTACHMENT: TypeAdapter[Attachment] = TypeAdapter(Attachment)

# `save_thread` may receive a `Thread` (metadata plus a page of items); only metadata is stored.
_THREAD_FIELDS = set(ThreadMetadata.model_fields)


def dump_thread(thread: ThreadMetadata) -> str:
    """The thread's metadata as JSON, without any items a `Thread` subclass carries."""
    return thread.model_dump_json(include=_THREAD_FIELDS)


def load_thread(data: str) -> ThreadMetadata:
    """Parse JSON written by `dump_thread`."""
    return ThreadMetadata.model_validate_json(data)


def dump_item(item: ThreadItem) -> str:
    """A thread item as JSON (its `type` field selects the model when loading)."""
    return _ITEM.dump_json(item).decode()


def load_item(data: str) -> ThreadItem:
    """Parse JSON written by `dump_item`."""
    return _ITEM.validate_json(data)


def dump_attachment(attachment: Attachment) -> str:
    """An attachment as JSON."""
    return _ATTACHMENT.dump_json(attachment).decode()


def load_attachment(data: str) -> Attachment:
    """Parse JSON written by `dump_attachment`."""
    return _ATTACHMENT.validate_json(data)
