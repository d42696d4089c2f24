"""torngas's asyncio RESP client (torngas.cache.backends.resp) against real redis-servers.

Parsers are tested on bytes (both: hiredis when installed, and the pure-Python
one), the client on the shared private server (pipelining, cancellation, AUTH,
SELECT, sockets) and on per-test private servers for faults (SIGSTOP, restart,
a cut connection). Only PIDs started here are signalled.
"""

from __future__ import annotations

import asyncio
import random
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from redis.exceptions import (
    AuthenticationError,
    DataError,
    NoScriptError,
    ResponseError,
)
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from tests.services import free_port
from tests.services.proxy import FaultProxy
from tests.services.redis import RedisServer
from torngas.cache.backends import resp
from torngas.cache.backends.resp import (
    PythonReader,
    RespClient,
    make_reader,
    pack_command,
    parse_url,
)

PARSERS = [
    pytest.param(True, id="python"),
    pytest.param(
        False,
        id="hiredis",
        marks=pytest.mark.skipif(not resp.HIREDIS_AVAILABLE, reason="hiredis not installed"),
    ),
]


def _reader(pure: bool) -> Any:
    reader = make_reader(pure)
    assert isinstance(reader, PythonReader) is pure
    return reader


def _all(reader: Any) -> list[Any]:
    out = []
    while (reply := reader.gets()) is not False:
        out.append(reply)
    return out


# A stream of replies of every RESP2 type and what each parses to.
STREAM: list[tuple[bytes, Any]] = [
    (b"+OK\r\n", b"OK"),
    (b":0\r\n", 0),
    (b":-42\r\n", -42),
    (b":9223372036854775807\r\n", 2**63 - 1),
    (b"$5\r\nhello\r\n", b"hello"),
    (b"$0\r\n\r\n", b""),
    (b"$-1\r\n", None),
    (b"$8\r\na\r\nb\x00\xff\r\n\r\n", b"a\r\nb\x00\xff\r\n"),  # CRLF inside a bulk string
    (b"*0\r\n", []),
    (b"*-1\r\n", None),
    (b"*3\r\n$1\r\na\r\n$-1\r\n:7\r\n", [b"a", None, 7]),
    (b"*2\r\n*2\r\n+x\r\n:1\r\n*1\r\n*0\r\n", [[b"x", 1], [[]]]),
    (b"*2\r\n$1\r\n0\r\n*2\r\n$2\r\nk1\r\n$2\r\nk2\r\n", [b"0", [b"k1", b"k2"]]),  # SCAN
]


@pytest.mark.parametrize("pure", PARSERS)
def test_parser_reply_types(pure: bool) -> None:
    reader = _reader(pure)
    for data, expected in STREAM:
        reader.feed(data)
        got = reader.gets()
        assert got == expected and type(got) is type(expected), (data, got)
        assert reader.gets() is False


@pytest.mark.parametrize("pure", PARSERS)
def test_parser_errors_are_redis_py_exceptions(pure: bool) -> None:
    reader = _reader(pure)
    reader.feed(
        b"-ERR value is not an integer or out of range\r\n"
        b"-WRONGPASS invalid username-password pair or user is disabled.\r\n"
        b"-NOAUTH Authentication required.\r\n"
        b"-NOSCRIPT No matching script.\r\n"
        b"*2\r\n-ERR inside\r\n:1\r\n"
        b"+after\r\n"
    )
    err, wrongpass, noauth, noscript, array, after = _all(reader)
    assert type(err) is ResponseError
    assert str(err) == "ERR value is not an integer or out of range"
    assert isinstance(wrongpass, AuthenticationError) and "invalid username" in str(wrongpass)
    assert isinstance(noauth, AuthenticationError)
    assert isinstance(wrongpass, RedisConnectionError)  # so the cache maps it as a connection error
    assert isinstance(noscript, NoScriptError)
    assert isinstance(array[0], ResponseError) and array[1] == 1
    assert after == b"after"


@pytest.mark.parametrize("pure", PARSERS)
def test_parser_every_split_point(pure: bool) -> None:
    stream = b"".join(data for data, _ in STREAM)
    expected = [value for _, value in STREAM]
    for cut in range(1, len(stream)):
        reader = _reader(pure)
        reader.feed(stream[:cut])
        got = _all(reader)
        reader.feed(stream[cut:])
        got += _all(reader)
        assert got == expected, cut


@pytest.mark.parametrize("pure", PARSERS)
def test_parser_random_chunks_and_byte_by_byte(pure: bool) -> None:
    rng = random.Random(7)
    stream = b"".join(data for data, _ in STREAM) * 20
    expected = [value for _, value in STREAM] * 20
    for chunking in ("bytes", "random"):
        reader = _reader(pure)
        got: list[Any] = []
        pos = 0
        while pos < len(stream):
            step = 1 if chunking == "bytes" else rng.randint(1, 40)
            reader.feed(stream[pos : pos + step])
            pos += step
            got += _all(reader)
        assert got == expected


@pytest.mark.parametrize("pure", PARSERS)
def test_parser_large_value_in_many_chunks(pure: bool) -> None:
    value = bytes(range(256)) * 8000  # ~2 MB
    data = b"$%d\r\n%b\r\n:1\r\n" % (len(value), value)
    reader = _reader(pure)
    for i in range(0, len(data), 65536):
        reader.feed(data[i : i + 65536])
        if i + 65536 < len(data) - 4:
            assert reader.gets() is False
    assert reader.gets() == value
    assert reader.gets() == 1


@pytest.mark.parametrize("pure", PARSERS)
def test_parser_protocol_error_raises(pure: bool) -> None:
    reader = _reader(pure)
    reader.feed(b"?what\r\n")
    with pytest.raises(RedisConnectionError, match="rotocol"):
        reader.gets()


def test_pack_command() -> None:
    assert pack_command(("SET", "k", b"v\r\n", 5, 1.5)) == (
        b"*5\r\n$3\r\nSET\r\n$1\r\nk\r\n$3\r\nv\r\n\r\n$1\r\n5\r\n$3\r\n1.5\r\n"
    )
    assert pack_command(("GET", "é")) == b"*2\r\n$3\r\nGET\r\n$2\r\n\xc3\xa9\r\n"
    big = b"x" * 10000
    assert pack_command((b"SET", big)) == b"*2\r\n$3\r\nSET\r\n$10000\r\n" + big + b"\r\n"
    for bad in (None, True, object()):
        with pytest.raises(DataError):
            pack_command(("SET", "k", bad))


def test_parse_url() -> None:
    assert parse_url("redis://127.0.0.1:6380/2") == {"host": "127.0.0.1", "port": 6380, "db": 2}
    assert parse_url("redis://u:p%40ss@h") == {
        "username": "u",
        "password": "p@ss",
        "host": "h",
        "port": 6379,
    }
    assert parse_url("rediss://:pw@h:1/0?ssl_cert_reqs=none")["ssl"] is True
    assert parse_url("unix:///run/redis.sock?db=3") == {"path": "/run/redis.sock", "db": 3}
    with pytest.raises(ValueError):
        parse_url("http://h")


# --------------------------------------------------------------------- the client
def run(coro_fn: Any) -> Any:
    return asyncio.run(asyncio.wait_for(coro_fn(), 20))


@pytest.fixture(params=PARSERS)
def pure(request: pytest.FixtureRequest) -> bool:
    return bool(request.param)


def _connections(port: int, name: str, **kw: Any) -> int:
    r = redis.Redis(port=port, **kw)
    try:
        return sum(1 for c in r.client_list() if c.get("name") == name)
    finally:
        r.close()


@pytest.mark.needs_redis
def test_pipelining_many_concurrent_commands_in_order(
    redis_server: RedisServer, pure: bool
) -> None:
    async def go() -> None:
        c = RespClient(port=redis_server.port, client_name="pipe-test", pure_python_parser=pure)
        try:
            n = 3000
            replies = await asyncio.gather(
                *(c.execute("ECHO", f"v{i}" * (i % 7 + 1)) for i in range(n))
            )
            assert replies == [(f"v{i}" * (i % 7 + 1)).encode() for i in range(n)]
            # mixed commands and reply types from many coroutines
            await c.execute("DEL", "resp:ctr")

            async def worker(w: int) -> None:
                for i in range(30):
                    key = f"resp:{w}"
                    assert await c.execute("SET", key, f"{w}-{i}") == b"OK"
                    assert await c.execute("GET", key) == f"{w}-{i}".encode()
                    assert isinstance(await c.execute("INCR", "resp:ctr"), int)
                    assert await c.execute("MGET", key, "resp:none") == [f"{w}-{i}".encode(), None]
                    with pytest.raises(ResponseError):
                        await c.execute("INCR", key)  # not an integer: an error reply in the flow

            await asyncio.gather(*(worker(w) for w in range(64)))
            assert await c.execute("GET", "resp:ctr") == b"1920"
            # all of it went over one connection
            assert _connections(redis_server.port, "pipe-test") == 1
            results = await c.execute_many(
                [("SET", "resp:a", 1), ("INCR", "resp:a"), ("GET", "resp:a")]
            )
            assert results == [b"OK", 2, b"2"]
            await c.execute("DEL", "resp:ctr", "resp:a", *(f"resp:{w}" for w in range(64)))
        finally:
            await c.aclose()
        assert _connections(redis_server.port, "pipe-test") == 0

    run(go)


@pytest.mark.needs_redis
def test_concurrent_first_calls_share_one_connect(redis_server: RedisServer) -> None:
    async def go() -> None:
        c = RespClient(port=redis_server.port, client_name="lazy-test")
        try:
            assert not c.connected
            await asyncio.gather(*(c.execute("PING") for _ in range(50)))
            assert _connections(redis_server.port, "lazy-test") == 1
        finally:
            await c.aclose()

    run(go)


@pytest.mark.needs_redis
def test_cancelled_caller_does_not_desync_the_stream(redis_server: RedisServer, pure: bool) -> None:
    async def go() -> None:
        c = RespClient(port=redis_server.port, pure_python_parser=pure)
        try:
            await c.execute("SET", "resp:x", "x-value")
            await c.execute("SET", "resp:y", "y-value")
            # cancelled while the server is still working on it (BLPOP blocks 0.3 s)
            slow = asyncio.ensure_future(c.execute("BLPOP", "resp:empty-list", "0.3"))
            await asyncio.sleep(0.05)
            slow.cancel()
            after = asyncio.ensure_future(c.execute("GET", "resp:x"))
            with pytest.raises(asyncio.CancelledError):
                await slow
            assert await after == b"x-value"  # not BLPOP's nil
            # cancelled before its reply arrived, replies already in flight
            for _ in range(20):
                tasks = [asyncio.ensure_future(c.execute("GET", "resp:x")) for _ in range(5)]
                await asyncio.sleep(0)
                tasks[2].cancel()
                assert await c.execute("GET", "resp:y") == b"y-value"
                for i, t in enumerate(tasks):
                    if i == 2:
                        assert t.cancelled() or t.result() == b"x-value"
                    else:
                        assert await t == b"x-value"
            # cancelled inside a pipeline
            many = asyncio.ensure_future(
                c.execute_many([("BLPOP", "resp:empty-list", "0.2"), ("GET", "resp:x")])
            )
            await asyncio.sleep(0.05)
            many.cancel()
            assert await c.execute("GET", "resp:y") == b"y-value"
            await c.execute("DEL", "resp:x", "resp:y")
        finally:
            await c.aclose()

    run(go)


@pytest.mark.needs_redis
def test_select_db_and_unix_socket(tmp_path: Path) -> None:
    sock = tmp_path / "redis.sock"
    with RedisServer(tmp_path, None, "--unixsocket", str(sock), "--unixsocketperm", "700") as s:

        async def go() -> None:
            for c in (
                RespClient.from_url(f"redis://127.0.0.1:{s.port}/3"),
                RespClient(path=str(sock), db=3),
                RespClient.from_url(f"unix://{sock}?db=3"),
            ):
                try:
                    assert await c.execute("SET", "where", c.address) == b"OK"
                    assert await c.execute("GET", "where") == c.address.encode()
                finally:
                    await c.aclose()

        run(go)
        r3 = redis.Redis(port=s.port, db=3)
        assert r3.get("where") == str(sock).encode()
        assert redis.Redis(port=s.port, db=0).get("where") is None
        r3.close()


@pytest.mark.needs_redis
def test_auth(tmp_path: Path) -> None:
    with RedisServer(tmp_path, None, "--requirepass", "s3cret-pw") as s:

        async def go() -> None:
            good = [
                RespClient.from_url(f"redis://:s3cret-pw@127.0.0.1:{s.port}/1"),
                RespClient(port=s.port, password="s3cret-pw"),
                RespClient(port=s.port, username="default", password="s3cret-pw"),
            ]
            for c in good:
                assert await c.execute("PING") == b"PONG"
                await c.aclose()
            wrong = RespClient(port=s.port, password="wrong-pw")
            with pytest.raises(AuthenticationError) as info:
                await wrong.execute("GET", "k")
            msg = str(info.value)
            assert "AUTH failed" in msg and f"127.0.0.1:{s.port}" in msg
            assert "wrong-pw" not in msg and "s3cret" not in msg
            assert not wrong.connected  # the refused connection was closed
            missing = RespClient(port=s.port)
            with pytest.raises(AuthenticationError, match="Authentication required"):
                await missing.execute("GET", "k")
            await missing.aclose()

        run(go)


@pytest.mark.needs_redis
def test_connect_refused_is_a_connection_error(tmp_path: Path) -> None:
    with RedisServer(tmp_path) as s:
        port = s.port

    async def go() -> None:
        c = RespClient(port=port, socket_connect_timeout=0.5)
        start = time.monotonic()
        with pytest.raises(RedisConnectionError, match=f"127.0.0.1:{port}"):
            await c.execute("PING")
        assert time.monotonic() - start < 0.5

    run(go)


# --------------------------------------------------------------------- faults
@pytest.fixture
def server(tmp_path: Path) -> Iterator[RedisServer]:
    with RedisServer(tmp_path) as s:
        yield s


def _received(port: int) -> int:
    r = redis.Redis(port=port)
    try:
        return int(r.info("stats")["total_connections_received"])
    finally:
        r.close()


@pytest.mark.needs_redis
@pytest.mark.fault
@pytest.mark.timeout(30)
def test_hung_server_times_out_within_socket_timeout_then_recovers(
    server: RedisServer, pure: bool
) -> None:
    async def go() -> None:
        c = RespClient(port=server.port, socket_timeout=0.5, pure_python_parser=pure)
        try:
            assert await c.execute("SET", "k", "before") == b"OK"
            server.pause()
            try:
                start = time.monotonic()

                async def late(delay: float) -> Any:
                    await asyncio.sleep(delay)
                    return await c.execute("GET", "k")

                results = await asyncio.gather(
                    c.execute("GET", "k"), late(0.1), late(0.2), return_exceptions=True
                )
                took = time.monotonic() - start
                # one watchdog: every pending command fails when the oldest expires
                assert all(isinstance(r, RedisTimeoutError) for r in results), results
                assert f"127.0.0.1:{server.port}" in str(results[0])
                assert 0.45 < took < 1.0, took
                # a timeout is never retried: the next command reconnects and waits once
                start = time.monotonic()
                with pytest.raises(RedisTimeoutError):
                    await c.execute("GET", "k")
                assert 0.45 < time.monotonic() - start < 1.0
            finally:
                server.resume()
            assert await c.execute("GET", "k") == b"before"
            assert await c.execute("SET", "k", "after") == b"OK"
            assert await c.execute("GET", "k") == b"after"
        finally:
            await c.aclose()

    run(go)


@pytest.mark.needs_redis
@pytest.mark.fault
@pytest.mark.timeout(60)
def test_server_restart_mid_traffic_clean_errors_then_recovery(server: RedisServer) -> None:
    async def go() -> None:
        c = RespClient(port=server.port, socket_timeout=1.0, socket_connect_timeout=0.5)
        errors: list[BaseException] = []
        ok_after = 0
        stop = False
        restarted = asyncio.Event()

        async def worker(w: int) -> None:
            nonlocal ok_after
            i = 0
            while not stop:
                i += 1
                value = f"{w}:{i}"
                try:
                    # ECHO of a unique value: a desynced stream gives someone else's reply
                    assert await c.execute("ECHO", value) == value.encode()
                    if restarted.is_set():
                        ok_after += 1
                except (RedisConnectionError, RedisTimeoutError) as exc:
                    errors.append(exc)
                    await asyncio.sleep(0.01)

        tasks = [asyncio.ensure_future(worker(w)) for w in range(16)]
        await asyncio.sleep(0.2)
        await asyncio.to_thread(server.restart)
        restarted.set()
        await asyncio.sleep(0.5)
        stop = True
        await asyncio.gather(*tasks)  # an AssertionError (desync) would surface here
        assert ok_after > 50
        assert all(isinstance(e, RedisConnectionError) for e in errors), errors[:3]
        await c.aclose()

    run(go)


@pytest.mark.needs_redis
@pytest.mark.fault
@pytest.mark.timeout(30)
def test_stale_connection_is_retried_once_on_a_new_connection(server: RedisServer) -> None:
    with FaultProxy(server.port) as proxy:

        async def go() -> None:
            c = RespClient(port=proxy.port)
            try:
                assert await c.execute("SET", "k", "v") == b"OK"
                accepted = proxy.accepted
                proxy.cut()
                # the loop has not seen the reset yet: the command goes out on the dead
                # connection, fails with nothing received, and is sent again
                time.sleep(0.1)
                assert await c.execute("GET", "k") == b"v"
                assert proxy.accepted == accepted + 1
                # with retries=0 the same failure is an error
                c0 = RespClient(port=proxy.port, retries=0)
                await c0.execute("PING")
                proxy.cut()
                time.sleep(0.1)
                with pytest.raises(RedisConnectionError):
                    await c0.execute("GET", "k")
                assert await c0.execute("GET", "k") == b"v"  # and the next call reconnects
                await c0.aclose()
                # a closed connection noticed while idle is replaced without any error
                proxy.cut()
                await asyncio.sleep(0.1)
                assert await c.execute("GET", "k") == b"v"
            finally:
                await c.aclose()

        run(go)


@pytest.mark.needs_redis
@pytest.mark.fault
@pytest.mark.timeout(30)
def test_blackhole_timeout_is_not_retried(server: RedisServer) -> None:
    with FaultProxy(server.port) as proxy:

        async def go() -> None:
            c = RespClient(port=proxy.port, socket_timeout=0.3)
            try:
                await c.execute("PING")
                accepted = proxy.accepted
                proxy.mode = "blackhole"
                start = time.monotonic()
                with pytest.raises(RedisTimeoutError):
                    await c.execute("GET", "k")
                assert time.monotonic() - start < 0.6
                assert proxy.accepted == accepted  # no retry on another connection
                proxy.mode = "pass"
                assert await c.execute("PING") == b"PONG"
            finally:
                await c.aclose()

        run(go)


# --------------------------------------------------------------------- TLS
def _make_cert(d: Path) -> tuple[Path, Path]:
    openssl = shutil.which("openssl")
    if not openssl:
        pytest.skip("openssl is not installed")
    key, cert = d / "key.pem", d / "cert.pem"
    subprocess.run(  # noqa: S603
        [
            openssl,
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=IP:127.0.0.1,DNS:localhost",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
        stdin=subprocess.DEVNULL,
        timeout=30,
    )
    return key, cert


@pytest.mark.needs_redis
def test_tls_rediss(tmp_path: Path) -> None:
    key, cert = _make_cert(tmp_path)
    port = free_port()
    with RedisServer(
        tmp_path,
        None,
        "--tls-port",
        str(port),
        "--tls-cert-file",
        str(cert),
        "--tls-key-file",
        str(key),
        "--tls-ca-cert-file",
        str(cert),
        "--tls-auth-clients",
        "no",
    ):

        async def go() -> None:
            c = RespClient.from_url(f"rediss://127.0.0.1:{port}/0", ssl_ca_certs=str(cert))
            assert await c.execute("SET", "tls", "yes") == b"OK"
            assert await c.execute("GET", "tls") == b"yes"
            await c.aclose()
            unverified = RespClient.from_url(f"rediss://127.0.0.1:{port}?ssl_cert_reqs=none")
            assert await unverified.execute("GET", "tls") == b"yes"
            await unverified.aclose()
            strict = RespClient.from_url(f"rediss://127.0.0.1:{port}")  # unknown CA
            with pytest.raises(RedisConnectionError):
                await strict.execute("GET", "tls")

        run(go)


@pytest.mark.needs_redis
def test_watchdog_does_not_fire_on_a_busy_healthy_connection(redis_server: RedisServer) -> None:
    async def go() -> None:
        c = RespClient(port=redis_server.port, socket_timeout=0.25)
        try:
            deadline = time.monotonic() + 1.2
            count = 0
            while time.monotonic() < deadline:
                # a slow command (0.15 s, under the timeout) among fast ones
                slow = asyncio.ensure_future(c.execute("BLPOP", "resp:never", "0.15"))
                fast = await asyncio.gather(*(c.execute("PING") for _ in range(20)))
                assert fast == [b"PONG"] * 20 and await slow is None
                count += 1
            assert count >= 5
        finally:
            await c.aclose()

    run(go)


@pytest.mark.needs_redis
@pytest.mark.fault
@pytest.mark.timeout(30)
def test_close_while_connecting_fails_waiters_cleanly(server: RedisServer) -> None:
    with FaultProxy(server.port) as proxy:
        proxy.mode = "blackhole"  # the AUTH of the handshake never gets an answer

        async def go() -> None:
            c = RespClient(port=proxy.port, password="pw", socket_connect_timeout=5)
            waiters = [asyncio.ensure_future(c.execute("PING")) for _ in range(3)]
            await asyncio.sleep(0.2)
            start = time.monotonic()
            c.close()
            results = await asyncio.gather(*waiters, return_exceptions=True)
            assert time.monotonic() - start < 1.0
            assert all(isinstance(r, RedisConnectionError) for r in results), results

        run(go)
