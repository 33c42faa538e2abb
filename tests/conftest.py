"""The one fixture that holds the twins together, and the hypothesis profiles.

``wire`` is parametrised over the two implementations, ids ``c`` and
``python``; every wire-layer test takes it and so runs on both.  The C
parameter carries the ``c_extension`` mark: a pure-Python install deselects
it explicitly with ``-m 'not c_extension'``.  It is never skipped silently:
if the C twin is not built, its tests fail with the ImportError.

A test marked ``leak`` runs on the C twin only: it measures memory the C code
manages by hand, and on the Python twin the same workload measures the
interpreter's allocator at several times the cost.

Hypothesis runs under a profile chosen by ``HYPOTHESIS_PROFILE``: ``quick``
(the default: ``make test``) or ``deep`` (``.ci/run`` runs the property tests
under it once more, with several times the examples).  Property tests take
their example counts from the profile, as multiples where one test needs more
than the others.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import settings

from wirespeed import wire
from wirespeed.wire import Wire

IMPLEMENTATIONS = [
    pytest.param("c", marks=pytest.mark.c_extension, id="c"),
    pytest.param("python", id="python"),
]

#: Examples per property test.  ``quick`` keeps each property at a few seconds per
#: twin; ``deep`` is three times that, the count a local run used before the profiles.
settings.register_profile("quick", max_examples=100)
settings.register_profile("deep", max_examples=300, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "quick"))


@pytest.hookimpl(tryfirst=True)  # the mark must be there before parametrize marks are read
def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """A ``leak`` test takes ``wire_impl`` with the C parameter only.

    A ``parametrize`` mark on the test takes precedence over the fixture's own
    params (pytest's rule), so the C parameter keeps its id and its mark.
    """
    if "wire_impl" in metafunc.fixturenames and metafunc.definition.get_closest_marker("leak"):
        metafunc.definition.add_marker(pytest.mark.parametrize("wire_impl", IMPLEMENTATIONS[:1], indirect=True))


@pytest.fixture(scope="session", params=IMPLEMENTATIONS)
def wire_impl(request: pytest.FixtureRequest) -> Wire:
    """One twin of the wire layer: ``.StreamWriter``, ``.ResponseParser``, ``.IMPLEMENTATION``..."""
    return wire.load(request.param)
