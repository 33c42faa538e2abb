"""HTTPS against a local server whose certificate a throwaway trustme CA signed.

The CA is in no trust store, so the default (verify with the system store)
must fail with a ConnectError caused by the certificate check; ``ssl=`` with
a context that trusts the CA passes; ``ssl=False`` skips verification.  The
server records the name each handshake asked for (``/sni``).
"""

from __future__ import annotations

import ssl
from typing import Any

import pytest

import wirespeed
from support.client_apps import SMALL, stream_body
from support.client_kit import TLSApp, assert_settled
from wirespeed import ClientSession
from wirespeed.wire import Wire

MiB = 1024 * 1024


def test_default_verification_rejects_an_unknown_ca(wire_impl: Wire, run: Any, tls_app: TLSApp) -> None:
    async def main() -> None:
        for kwargs in ({}, {"ssl": True}):
            async with ClientSession(wire=wire_impl, **kwargs) as s:
                with pytest.raises(wirespeed.ConnectError) as info:
                    await s.get(tls_app.url("/small"))
                assert isinstance(info.value.__cause__, ssl.SSLCertVerificationError), repr(info.value.__cause__)
                assert_settled(s.stats, idle=0)
                assert s.stats.opened == 0

    run(main())


@pytest.mark.parametrize("where", ["session", "request"])
def test_a_context_trusting_the_ca_verifies(wire_impl: Wire, run: Any, tls_app: TLSApp, where: str) -> None:
    async def main() -> None:
        ctx = tls_app.trusting_context()
        session_kwargs = {"ssl": ctx} if where == "session" else {}
        request_kwargs = {"ssl": ctx} if where == "request" else {}
        async with ClientSession(wire=wire_impl, **session_kwargs) as s:
            async with s.get(tls_app.url("/small"), **request_kwargs) as r:
                assert r.status == 200 and await r.read() == SMALL
                assert r.url.scheme == "https"

    run(main())


def test_ssl_false_skips_verification(wire_impl: Wire, run: Any, tls_app: TLSApp) -> None:
    async def main() -> None:
        async with ClientSession(wire=wire_impl, ssl=False) as s:
            async with s.get(tls_app.url("/small")) as r:
                assert await r.read() == SMALL

    run(main())


def test_a_context_for_another_name_fails_hostname_checks(wire_impl: Wire, run: Any, tls_app: TLSApp) -> None:
    async def main() -> None:
        ctx = tls_app.trusting_context()
        async with ClientSession(wire=wire_impl, ssl=ctx) as s:
            # The certificate names localhost and 127.0.0.1, not 127.0.0.2 (also loopback).
            with pytest.raises(wirespeed.ConnectError) as info:
                await s.get(f"https://127.0.0.2:{tls_app.port}/small")
            assert isinstance(info.value.__cause__, (ssl.SSLError, OSError))

    run(main())


def test_sni_is_the_hostname_and_absent_for_an_ip(wire_impl: Wire, run: Any, tls_app: TLSApp) -> None:
    async def main() -> None:
        async with ClientSession(wire=wire_impl, ssl=tls_app.trusting_context()) as s:
            async with s.get(tls_app.url("/sni")) as r:
                assert await r.json() == {"server_name": "localhost"}
            async with s.get(f"https://127.0.0.1:{tls_app.port}/sni") as r:
                assert await r.json() == {"server_name": None}  # RFC 6066 §3: no IP literals in SNI

    run(main())


def test_tls_connection_is_reused_and_carries_large_bodies(wire_impl: Wire, run: Any, tls_app: TLSApp) -> None:
    async def main() -> None:
        async with ClientSession(wire=wire_impl, ssl=tls_app.trusting_context()) as s:
            seen = []
            for _ in range(3):
                async with s.get(tls_app.url("/count")) as r:
                    seen.append(await r.json())
            async with s.get(tls_app.url(f"/stream?size={3 * MiB}")) as r:
                assert await r.read() == stream_body(3 * MiB)
            async with s.post(tls_app.url("/echo"), data=stream_body(MiB)) as r:
                assert (await r.json())["length"] == MiB
            assert len({d["connection"] for d in seen}) == 1
            assert s.stats.opened == 1
            assert_settled(s.stats, idle=1)

    run(main())


def test_http_and_https_of_one_host_are_separate_pools(wire_impl: Wire, run: Any, tls_app: TLSApp) -> None:
    async def main() -> None:
        async with ClientSession(wire=wire_impl, ssl=tls_app.trusting_context()) as s:
            async with s.get(tls_app.url("/small")) as r:
                await r.read()
            # Plain HTTP to the TLS port: the server cannot answer in HTTP; the TLS connection is untouched.
            with pytest.raises(wirespeed.ClientError):
                timeout = wirespeed.ClientTimeout(total=3)
                async with s.get(f"http://localhost:{tls_app.port}/small", timeout=timeout) as r:
                    await r.read()
            async with s.get(tls_app.url("/small")) as r:
                assert await r.read() == SMALL
            assert s.stats.idle == 1

    run(main())
