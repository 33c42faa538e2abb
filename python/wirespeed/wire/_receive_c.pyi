"""Stub for the C ReceiveBuffer twin; the Python twin (``_receive_py``) has the same surface."""

from typing import final

__all__ = ["ReceiveBuffer", "SPARES"]

SPARES: int

@final
class ReceiveBuffer:
    view: memoryview
    def __init__(self, size: int) -> None: ...
    @property
    def size(self) -> int: ...
    def take(self, n: int) -> bytes: ...
