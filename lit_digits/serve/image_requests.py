"""What a request to ``POST /predict`` may be: one image file, as the multipart form field ``image`` or
as JSON ``{"image": "<base64 of the file>"}``; anything else is a ``Refusal`` with a 4xx status."""

import base64
import binascii
import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from starlette.datastructures import FormData, Headers, UploadFile
from starlette.responses import JSONResponse

MAX_IMAGE_BYTES = 10 * 2**20
"""The largest image file a request may carry (10 MiB); Pillow's decompression-bomb guard bounds its pixels."""
MAX_BODY_BYTES = MAX_IMAGE_BYTES * 4 // 3 + 2**20
"""The largest request body: the base64 of the largest image, and room for the form's or JSON's own bytes."""
HOW_TO_SEND = ('send one image file as the multipart form field "image" (curl -F image=@digit.png URL) '
               'or as JSON {"image": "<base64 of the file>"}')  # fmt: skip

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


class Refusal(Exception):
    """A request the service will not answer with a prediction: its HTTP ``status`` and one-line ``reason``."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(status, reason)
        self.status = status
        self.reason = reason

    def response(self) -> JSONResponse:
        return JSONResponse({"error": self.reason}, status_code=self.status)


def image_bytes(request: Any) -> bytes:
    """The image file that a decoded request body (LitServe's: a ``FormData`` or the parsed JSON) carries."""
    if isinstance(request, FormData) and isinstance(request.get("image"), UploadFile):
        data = request["image"].file.read(MAX_IMAGE_BYTES + 1)
    elif isinstance(request, dict) and isinstance(request.get("image"), str):
        try:
            data = base64.b64decode("".join(request["image"].split()), validate=True)
        except binascii.Error as err:
            raise Refusal(400, f'the JSON field "image" is not base64 ({err})') from err
    else:
        raise Refusal(400, f"no image in the request: {HOW_TO_SEND}")
    if len(data) > MAX_IMAGE_BYTES:
        raise Refusal(413, f"the image file is larger than {MAX_IMAGE_BYTES // 2**20} MiB")
    return data


class RequestGuard:
    """ASGI middleware for ``POST path``: a body that is neither a multipart form nor JSON, JSON that does
    not parse (both would be LitServe's 500) or a body over ``max_bytes`` is refused here, with a 4xx and
    ``{"error": ...}``; any other request goes on with its body, read once."""

    def __init__(self, app: Callable[[Scope, Receive, Send], Awaitable[None]], path: str, max_bytes: int) -> None:
        self.app = app
        self.path = path
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] != self.path:
            await self.app(scope, receive, send)
            return
        body = await read_body(receive, self.max_bytes)
        try:
            check_body(Headers(scope=scope).get("content-type", ""), body, self.max_bytes)
        except Refusal as refusal:
            await refusal.response()(scope, receive, send)
            return
        await self.app(scope, replay(body, receive), send)


def check_body(content_type: str, body: bytes | None, max_bytes: int) -> None:
    """Raise a ``Refusal`` unless ``body`` (None: over ``max_bytes``) is a multipart form or parses as JSON."""
    if body is None:
        raise Refusal(413, f"the request body is larger than {max_bytes} bytes")
    if content_type.startswith("multipart/form-data"):
        return
    if content_type.split(";")[0].strip() != "application/json":
        raise Refusal(415, f"Content-Type {content_type or '(none)'} is not multipart/form-data or JSON: {HOW_TO_SEND}")
    try:
        json.loads(body)
    except ValueError as err:
        raise Refusal(400, f"the body is not JSON ({err})") from err


async def read_body(receive: Receive, max_bytes: int) -> bytes | None:
    """The whole request body, or None if it is over ``max_bytes`` (then read to its end and dropped, so
    that the client, still sending, gets the answer)."""
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] != "http.request":  # the client went away
            break
        size += len(message.get("body", b""))
        if size <= max_bytes:
            chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks) if size <= max_bytes else None


def replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that gives ``body`` whole first, then what ``receive`` gives (a disconnect)."""
    sent = False

    async def receive_again() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive_again
