"""The switch between the two twins of the wire layer.

The C twin (``wirespeed._fastwriter``, ``wirespeed._parser``) is preferred;
the pure-Python twin (``wirespeed._writer_py``, ``wirespeed._parser_py``) is
used when the extension is not built or when ``WIRESPEED_NO_EXTENSIONS`` is set
to anything but ``""`` or ``"0"``.  :data:`IMPLEMENTATION` says which one is
live: ``"c"`` or ``"python"``.  This is the only module that chooses.
"""

from __future__ import annotations

import importlib
import os
import types
from typing import TYPE_CHECKING

__all__ = ["IMPLEMENTATION", "NO_EXTENSIONS", "MessageEnd", "ResponseHead", "ResponseParser", "StreamWriter", "load"]

NO_EXTENSIONS = os.environ.get("WIRESPEED_NO_EXTENSIONS", "") not in ("", "0")

#: Module names of each twin, by implementation.
_TWINS = {
    "c": {"writer": "wirespeed._fastwriter", "parser": "wirespeed._parser"},
    "python": {"writer": "wirespeed._writer_py", "parser": "wirespeed._parser_py"},
}


def load(implementation: str) -> types.SimpleNamespace:
    """Import one twin explicitly and return its public names.

    Used by the switch below and by the test fixture; raises ``ImportError``
    when the C twin is asked for and not built.
    """
    names = _TWINS[implementation]
    writer = importlib.import_module(names["writer"])
    parser = importlib.import_module(names["parser"])
    return types.SimpleNamespace(
        IMPLEMENTATION=implementation,
        writer_module=writer,
        parser_module=parser,
        StreamWriter=writer.StreamWriter,
        ResponseParser=parser.ResponseParser,
        ResponseHead=parser.ResponseHead,
        MessageEnd=parser.MessageEnd,
    )


if TYPE_CHECKING or NO_EXTENSIONS:
    from ._parser_py import MessageEnd, ResponseHead, ResponseParser
    from ._writer_py import StreamWriter

    IMPLEMENTATION = "python"
else:
    try:
        from ._fastwriter import StreamWriter
        from ._parser import MessageEnd, ResponseHead, ResponseParser

        IMPLEMENTATION = "c"
    except ImportError:  # the extension is optional at install
        from ._parser_py import MessageEnd, ResponseHead, ResponseParser
        from ._writer_py import StreamWriter

        IMPLEMENTATION = "python"
