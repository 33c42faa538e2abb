"""Test doubles for code that drives the wire layer.

Stand-ins for an asyncio transport that have no socket, so a
:class:`~wirespeed.StreamWriter` never takes its ``writev`` path on them and
every byte goes through ``write``/``writelines`` where a test can see it:

- :class:`RecordingTransport` keeps every call and the objects it was given
  (a test can check that a large body was passed through, not copied);
- :class:`CountingTransport` only counts calls and bytes: cheap enough to sit
  under a benchmark without dominating it.
"""

from __future__ import annotations

from typing import Any

__all__ = ["CountingTransport", "RecordingTransport"]


class _FakeTransport:
    """The read-only part of the transport API the writer asks about."""

    def __init__(self) -> None:
        self.closing = False

    def is_closing(self) -> bool:
        return self.closing

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return default

    def get_write_buffer_size(self) -> int:
        return 0


class RecordingTransport(_FakeTransport):
    """Keeps every call as ``("write", data)`` or ``("writelines", [pieces])``."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple[str, Any]] = []

    def write(self, data: Any) -> None:
        self.calls.append(("write", data))

    def writelines(self, pieces: Any) -> None:
        self.calls.append(("writelines", list(pieces)))

    def as_bytes(self) -> list[tuple[str, bytes]]:
        """The calls with their payload joined into bytes: comparable across writers."""
        return [
            (kind, b"".join(bytes(p) for p in arg) if kind == "writelines" else bytes(arg))
            for kind, arg in self.calls
        ]

    @property
    def data(self) -> bytes:
        """Every byte written, in order."""
        return b"".join(payload for _, payload in self.as_bytes())


class CountingTransport(_FakeTransport):
    """Counts transport calls and bytes, and keeps nothing."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0
        self.size = 0

    def write(self, data: Any) -> None:
        self.calls += 1
        self.size += len(data)

    def writelines(self, pieces: Any) -> None:
        self.calls += 1
        for piece in pieces:
            self.size += len(piece)
