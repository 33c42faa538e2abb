"""The constructor's keyword arguments are checked before the writer exists, the same way on both twins.

``coalesce_limit`` and ``drain_limit`` are ints (an int subclass is taken as
its value, ``bool`` is refused) from 0 to ``sys.maxsize``: ``TypeError`` for
another type, ``ValueError`` out of range, with the texts of
``wirespeed.wire._messages`` (``W_ARG_*``).  Before this check the Python twin
took ``None`` and failed only at ``write_eof()``, after the message had moved
to its end with nothing sent.  ``direct_writes`` is ``True`` or ``False``,
nothing else (``TypeError``).
"""

from __future__ import annotations

import enum
import sys
from typing import Any

import pytest

from wirespeed.testing import RecordingTransport
from wirespeed.wire import Wire
from wirespeed.wire._writer_shared import MAX_LIMIT

LIMITS = ["coalesce_limit", "drain_limit"]

BAD = [
    pytest.param(None, TypeError, "{} must be an int, not NoneType", id="none"),
    pytest.param(4096.5, TypeError, "{} must be an int, not float", id="float"),
    pytest.param(4096.0, TypeError, "{} must be an int, not float", id="integral-float"),
    pytest.param("4096", TypeError, "{} must be an int, not str", id="str"),
    pytest.param(True, TypeError, "{} must be an int, not bool", id="true"),
    pytest.param(False, TypeError, "{} must be an int, not bool", id="false"),
    pytest.param(-1, ValueError, "{} must be 0 or more, not -1", id="negative"),
    pytest.param(
        2**70, ValueError, f"{{}} must be at most sys.maxsize ({sys.maxsize}), not {2**70}", id="2**70"
    ),
    pytest.param(
        sys.maxsize + 1,
        ValueError,
        f"{{}} must be at most sys.maxsize ({sys.maxsize}), not {sys.maxsize + 1}",
        id="maxsize+1",
    ),
]


@pytest.mark.parametrize("name", LIMITS)
@pytest.mark.parametrize(("value", "error", "message"), BAD)
def test_a_bad_limit_is_refused_at_construction(
    wire_impl: Wire, name: str, value: Any, error: type[Exception], message: str
) -> None:
    with pytest.raises(error) as info:
        wire_impl.StreamWriter(RecordingTransport(), **{name: value})
    assert type(info.value) is error
    assert str(info.value) == message.format(name)


class Size(enum.IntEnum):
    SMALL = 10


@pytest.mark.parametrize("name", LIMITS)
@pytest.mark.parametrize("value", [0, 1, 4096, Size.SMALL, MAX_LIMIT], ids=["0", "1", "4096", "intenum", "max"])
def test_a_good_limit_makes_a_working_writer(wire_impl: Wire, name: str, value: int) -> None:
    transport = RecordingTransport()
    writer = wire_impl.StreamWriter(transport, **{name: value})
    writer.write_headers("POST / HTTP/1.1", {"Content-Length": "2"})
    writer.write_eof(b"ok")
    assert transport.data == b"POST / HTTP/1.1\r\nContent-Length: 2\r\n\r\nok"


def test_the_documented_maximum_is_sys_maxsize() -> None:
    assert MAX_LIMIT == sys.maxsize


def test_coalesce_limit_none_no_longer_ends_a_message_with_nothing_sent(wire_impl: Wire) -> None:
    # The Python twin used to take None here and raise only at write_eof(),
    # with the message already marked as ended and no byte written.
    with pytest.raises(TypeError):
        wire_impl.StreamWriter(RecordingTransport(), coalesce_limit=None)


def test_the_limits_are_keyword_only(wire_impl: Wire) -> None:
    with pytest.raises(TypeError):
        wire_impl.StreamWriter(RecordingTransport(), None, 4096)


# -- direct_writes: the C twin's writev around the transport, switched off by the connection's owner


@pytest.mark.parametrize("value", [1, 0, None, "yes"], ids=["1", "0", "none", "str"])
def test_direct_writes_must_be_a_bool(wire_impl: Wire, value: Any) -> None:
    with pytest.raises(TypeError) as info:
        wire_impl.StreamWriter(RecordingTransport(), direct_writes=value)
    assert type(info.value) is TypeError
    assert str(info.value) == f"direct_writes must be True or False, not {value!r}"


@pytest.mark.parametrize("value", [True, False])
def test_direct_writes_is_accepted_by_both_twins(wire_impl: Wire, value: bool) -> None:
    # On a transport without a socket both settings write the same calls;
    # tests/wire/test_writer_socket.py shows the difference on a real socket.
    transport = RecordingTransport()
    writer = wire_impl.StreamWriter(transport, direct_writes=value)
    writer.write_headers("POST / HTTP/1.1", {"Content-Length": "2"})
    writer.write_eof(b"ok")
    assert transport.as_bytes() == [("write", b"POST / HTTP/1.1\r\nContent-Length: 2\r\n\r\nok")]
