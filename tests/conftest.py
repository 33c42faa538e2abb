"""The one fixture that holds the twins together.

``wire`` is parametrised over the two implementations, ids ``c`` and
``python``; every wire-layer test takes it and so runs on both.  The C
parameter carries the ``c_extension`` mark: a pure-Python install deselects
it explicitly with ``-m 'not c_extension'``.  It is never skipped silently:
if the C twin is not built, its tests fail with the ImportError.
"""

from __future__ import annotations


import pytest

from wirespeed.wire import Wire

from wirespeed import wire

IMPLEMENTATIONS = [
    pytest.param("c", marks=pytest.mark.c_extension, id="c"),
    pytest.param("python", id="python"),
]


@pytest.fixture(scope="session", params=IMPLEMENTATIONS)
def wire_impl(request: pytest.FixtureRequest) -> Wire:
    """One twin of the wire layer: ``.StreamWriter``, ``.ResponseParser``, ``.IMPLEMENTATION``..."""
    return wire.load(request.param)
