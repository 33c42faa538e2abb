"""The wire layer: HTTP/1.1 serialisation and parsing, sans-IO but for the write.

This package owns both twins of the wire layer and is the only place that
chooses between them:

=====================  ===========================  ==========================
piece                  C twin (``src/``)            Python twin
=====================  ===========================  ==========================
StreamWriter           ``_writer_c`` (``_fastwriter.pyx``)  ``_writer_py``
ResponseParser         ``_parser_c`` (``_parser.pyx``)      ``_parser_py`` (+ units)
ReceiveBuffer          ``_receive_c`` (``_receive.pyx``)    ``_receive_py``
=====================  ===========================  ==========================

What the twins share lives once beside them: ``_constants`` (limits and
thresholds), ``_messages`` (every error text), ``_header_names`` (the known
header names and their cache), ``_writer_shared`` (the writer's checks and
``drain()``, which gain nothing from C), ``_flow`` (protocol-side flow
control and the ``writelines`` version gate), ``_types`` (the typing
Protocols both twins satisfy).  The Python parser is split like the C one:
``_parser_py`` (state machine) with ``_parser_py_block``, ``_parser_py_build``,
``_parser_py_chunk`` and ``_parser_py_tables`` beside the ``.pxi`` units of
the same names.

The C twin is preferred; the Python twin is used when the extension is not
built or when ``WIRESPEED_NO_EXTENSIONS`` is set to anything but ``""`` or
``"0"``.  :data:`IMPLEMENTATION` says which one is live: ``"c"`` or
``"python"``.

Code above this layer (the client) takes a :class:`Wire` bundle from
:func:`load` as a parameter instead of importing a twin, so every test of it
can run on both twins.  This package never imports anything above it.
"""

from __future__ import annotations

import importlib
import os
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING, Literal

from ._flow import FlowControl
from ._types import EndEvent, Event, HeadEvent, ParserProtocol, ReceiveBufferProtocol, WriterProtocol

__all__ = [
    "IMPLEMENTATION",
    "NO_EXTENSIONS",
    "EndEvent",
    "Event",
    "FlowControl",
    "HeadEvent",
    "MessageEnd",
    "ParserProtocol",
    "ReceiveBuffer",
    "ReceiveBufferProtocol",
    "ResponseHead",
    "ResponseParser",
    "StreamWriter",
    "Wire",
    "WriterProtocol",
    "default",
    "load",
]

NO_EXTENSIONS = os.environ.get("WIRESPEED_NO_EXTENSIONS", "") not in ("", "0")

Implementation = Literal["c", "python"]

#: Module names of each twin, by implementation.
_TWINS: dict[str, tuple[str, str, str]] = {
    "c": ("wirespeed.wire._writer_c", "wirespeed.wire._parser_c", "wirespeed.wire._receive_c"),
    "python": ("wirespeed.wire._writer_py", "wirespeed.wire._parser_py", "wirespeed.wire._receive_py"),
}


@dataclass(frozen=True, eq=False)
class Wire:
    """One twin of the wire layer, as a typed bundle.

    The client is built from one of these; tests build a client per twin.
    ``parser_calls`` and ``writer_calls`` are for C code above this layer (the
    client's C twins): capsules of the C parser's and the C writer's tables of
    C functions (reading a head's facts in one call, feeding a parser a
    memoryview's first bytes, writing a small request without a writer object;
    ``src/_parser_calls.pxi``, ``src/_writer_calls.pxi``); None for the Python
    twin.
    """

    IMPLEMENTATION: Implementation
    StreamWriter: type[WriterProtocol]
    ResponseParser: type[ParserProtocol]
    ResponseHead: type[HeadEvent]
    MessageEnd: type[EndEvent]
    ReceiveBuffer: type[ReceiveBufferProtocol]
    writer_module: ModuleType
    parser_module: ModuleType
    parser_calls: object = None
    writer_calls: object = None

    @property
    def implementation(self) -> Implementation:
        return self.IMPLEMENTATION

    def __repr__(self) -> str:
        return f"<Wire {self.IMPLEMENTATION}>"


_LOADED: dict[str, Wire] = {}


def load(implementation: Implementation) -> Wire:
    """Import one twin explicitly and return it as a :class:`Wire` bundle.

    Raises ``ImportError`` when the C twin is asked for and not built, and
    ``ValueError`` for a name that is not ``"c"`` or ``"python"``.  The same
    bundle object is returned for the same name.
    """
    bundle = _LOADED.get(implementation)
    if bundle is not None:
        return bundle
    if implementation not in _TWINS:
        raise ValueError(f"implementation must be 'c' or 'python', not {implementation!r}")
    writer_name, parser_name, receive_name = _TWINS[implementation]
    writer = importlib.import_module(writer_name)
    parser = importlib.import_module(parser_name)
    receive = importlib.import_module(receive_name)
    bundle = Wire(
        IMPLEMENTATION=implementation,
        StreamWriter=writer.StreamWriter,
        ResponseParser=parser.ResponseParser,
        ResponseHead=parser.ResponseHead,
        MessageEnd=parser.MessageEnd,
        ReceiveBuffer=receive.ReceiveBuffer,
        writer_module=writer,
        parser_module=parser,
        parser_calls=getattr(parser, "_PARSER_CALLS", None),
        writer_calls=getattr(writer, "_WRITER_CALLS", None),
    )
    _LOADED[implementation] = bundle
    return bundle


def default() -> Wire:
    """The live twin (:data:`IMPLEMENTATION`) as a bundle."""
    return load(IMPLEMENTATION)


if TYPE_CHECKING or NO_EXTENSIONS:
    from ._parser_py import MessageEnd, ResponseHead, ResponseParser
    from ._receive_py import ReceiveBuffer
    from ._writer_py import StreamWriter

    IMPLEMENTATION: Implementation = "python"
else:
    try:
        from ._parser_c import MessageEnd, ResponseHead, ResponseParser
        from ._receive_c import ReceiveBuffer
        from ._writer_c import StreamWriter

        IMPLEMENTATION = "c"
    except ImportError:  # the extension is optional at install
        from ._parser_py import MessageEnd, ResponseHead, ResponseParser
        from ._receive_py import ReceiveBuffer
        from ._writer_py import StreamWriter

        IMPLEMENTATION = "python"
