"""Incremental Server-Sent Events parsing: lines in, `data` payloads out.

Only the parts ChatKit uses are handled: `data:` lines (joined with newlines when an event spans
several) terminated by a blank line; comment lines (`:` keep-alives) and other fields are ignored.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator


class SseParser:
    def __init__(self) -> None:
        self._data: list[str] = []

    def feed(self, line: str) -> str | None:
        """Consume one line (without its newline); return an event's data when it completes."""
        line = line.rstrip("\r")
        if line == "":
            if not self._data:
                return None
            data = "\n".join(self._data)
            self._data = []
            return data
        if line.startswith(":"):
            return None
        field, _, value = line.partition(":")
        if field == "data":
            # The spec strips exactly one space after the colon.
            self._data.append(value[1:] if value.startswith(" ") else value)
        return None

    def flush(self) -> str | None:
        """Data of a final event the server did not terminate with a blank line, if any."""
        return self.feed("")


def iter_sse_data(lines: Iterable[str]) -> Iterator[str]:
    """The data payload of each event in a stream of lines."""
    parser = SseParser()
    for line in lines:
        data = parser.feed(line)
        if data is not None:
            yield data
    tail = parser.flush()
    if tail is not None:
        yield tail
