"""``demo``: a web page to try a checkpoint's model (draw a digit, or give image files, and see its class
probabilities), served with the model by ``serve``'s LitServe server: the page asks its ``POST /predict``."""

import base64
import io
import json
import os
import socket
import sys
import webbrowser
from collections.abc import Sequence
from importlib.resources import files
from pathlib import Path

from PIL import Image
from starlette.responses import HTMLResponse
from starlette.types import ASGIApp

from lit_digits.data import ImageDataModule
from lit_digits.errors import LitDigitsError
from lit_digits.serve.image_requests import MAX_IMAGE_BYTES, Receive, Scope, Send
from lit_digits.serve.server import address, classifier_server, run_until_stopped

EXAMPLES = 24
"""Test images the page offers to pick, where the data set is at hand: the first of the test split."""


def demo(
    run: Path,
    host: str = "127.0.0.1",
    port: int | None = None,
    data_dir: str | None = None,
    trusted_modules: Sequence[str] = (),
    open_browser: bool = True,
) -> None:
    """Serve the demo page of ``run``'s model (a run folder or a checkpoint file) at ``http://host:port/``
    (``port`` None: a free one) until Ctrl-C or SIGTERM, and open it in a browser where there is a display.
    ``data_dir`` is where the data set is, if not where the checkpoint says: its test images become
    examples on the page."""
    port = port or free_port(host)
    server, data = classifier_server(run, host, port, trusted_modules, data_dir=data_dir)
    server.app.add_middleware(DemoPage, html=page(f"{run}", data))
    url = f"{address(host, port)}/"
    show = (lambda: webbrowser.open(url)) if open_browser and has_display() else None
    run_until_stopped(server, host, port, f"Demo at {url} (Ctrl-C stops)", show)


class DemoPage:
    """ASGI middleware answering ``GET /`` with the page (LitServe answers ``/`` itself otherwise)."""

    def __init__(self, app: ASGIApp, html: str) -> None:
        self.app = app
        self.html = html

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET" and scope["path"] == "/":
            await HTMLResponse(self.html)(scope, receive, send)
        else:
            await self.app(scope, receive, send)


def page(title: str, data: ImageDataModule) -> str:
    """The page for a model of ``data``'s classes: a drawing pad for MNIST-style digits, the data set's
    test images to pick where at hand, and image files always."""
    settings = {
        "title": title,
        "classes": list(data.classes),
        "drawing": data.mnist_digits,
        "maxImageBytes": MAX_IMAGE_BYTES,
        "examples": example_images(data),
    }
    template = files("lit_digits.serve").joinpath("demo_page.html").read_text(encoding="utf-8")
    # JSON inside <script>: "<" escaped, so no text in it can end the element
    return template.replace("__SETTINGS__", json.dumps(settings).replace("<", "\\u003c"))


def example_images(data: ImageDataModule) -> list[dict[str, str]]:
    """The first ``EXAMPLES`` test images of ``data`` as PNG data URLs with their class names, or none (with a
    line saying why) where the data set is not at hand."""
    if not data.readable_offline():
        print(f"No example images: the data set is not in {data.data_dir} (--data_dir says where it is)")
        return []
    try:
        images, labels = data.read_split(train=False)
    except LitDigitsError as err:
        print(f"No example images: {err}")
        return []
    return [
        {"name": data.classes[int(label)], "image": png_data_url(image.permute(1, 2, 0).squeeze(-1).numpy())}
        for image, label in zip(images[:EXAMPLES], labels[:EXAMPLES])
    ]


def png_data_url(pixels) -> str:
    """A ``data:`` URL of the PNG of uint8 H x W (grey) or H x W x 3 (RGB) ``pixels``."""
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def free_port(host: str) -> int:
    """A port on ``host`` that nothing listens on now, picked by the system."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def has_display() -> bool:
    """Whether a browser can show a window here: macOS, Windows, or a Linux desktop session."""
    return sys.platform in ("darwin", "win32") or bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
