"""A bare ASGI application: the limit of any framework on the same server.

    uvicorn bench.apps.asgi_bare:app --loop uvloop --http httptools

No framework, no routing table: two ``if``s on the path and precomputed
headers. It serves /plaintext and /json only (it has no templates, sessions or
database); the suite uses it as the ceiling for torngas on uvicorn.
"""

from __future__ import annotations

import json
from typing import Any

from bench import common

_PLAIN = common.PLAINTEXT
_JSON = json.dumps(common.JSON_PAYLOAD).encode()
_PLAIN_START = {
    "type": "http.response.start",
    "status": 200,
    "headers": [(b"content-type", b"text/plain"), (b"content-length", str(len(_PLAIN)).encode())],
}
_JSON_START = {
    "type": "http.response.start",
    "status": 200,
    "headers": [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(_JSON)).encode()),
    ],
}
_NOT_FOUND = {"type": "http.response.start", "status": 404, "headers": [(b"content-length", b"0")]}


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        if scope["type"] == "lifespan":
            while True:
                msg = await receive()
                if msg["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif msg["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        return
    path = scope["path"]
    if path == "/plaintext":
        await send(_PLAIN_START)
        await send({"type": "http.response.body", "body": _PLAIN})
    elif path == "/json":
        await send(_JSON_START)
        await send({"type": "http.response.body", "body": _JSON})
    else:
        await send(_NOT_FOUND)
        await send({"type": "http.response.body", "body": b""})
