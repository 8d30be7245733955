"""``serve``: a checkpoint's model behind LitServe's HTTP server, until Ctrl-C or SIGTERM."""

import os
import signal
import socket
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import FrameType

import torch
from litserve import LitServer
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse

from lit_digits.data import ImageDataModule
from lit_digits.errors import LitDigitsError
from lit_digits.models import ImageClassifier
from lit_digits.runs.checkpoint_files import run_checkpoint
from lit_digits.serve import BATCH_TIMEOUT, MAX_BATCH_SIZE
from lit_digits.serve.api import ClassifierAPI
from lit_digits.serve.image_requests import MAX_BODY_BYTES, RequestGuard


def serve(
    run: Path,
    host: str = "127.0.0.1",
    port: int = 8000,
    trusted_modules: Sequence[str] = (),
    max_batch_size: int = MAX_BATCH_SIZE,
    batch_timeout: float = BATCH_TIMEOUT,
) -> None:
    """Serve the checkpoint of ``run`` (a run folder: its best, else last, checkpoint; or a checkpoint
    file) at ``http://host:port/predict``, printing that address once requests are answered."""
    server, _ = classifier_server(run, host, port, trusted_modules, max_batch_size, batch_timeout)
    run_until_stopped(server, host, port, f"Serving at {address(host, port)}/predict (Ctrl-C stops)")


def classifier_server(
    run: Path,
    host: str,
    port: int,
    trusted_modules: Sequence[str] = (),
    max_batch_size: int = MAX_BATCH_SIZE,
    batch_timeout: float = BATCH_TIMEOUT,
    data_dir: str | None = None,
) -> tuple[LitServer, ImageDataModule]:
    """LitServe's server of ``run``'s model at ``POST /predict``, and the checkpoint's data module (with
    ``data_dir``, if given).

    The checkpoint is loaded here first, so that a missing or refused one, like a port in use, is a
    ``LitDigitsError`` before the server starts; LitServe's inference worker loads it again, on the
    device that LitServe picks (``accelerator="auto"``).
    """
    checkpoint, _ = run_checkpoint(run)
    ImageClassifier.load_from_checkpoint(checkpoint, map_location="cpu", trusted_modules=trusted_modules)
    data = ImageDataModule.load_from_checkpoint(
        checkpoint, trusted_modules=trusted_modules, **({"data_dir": data_dir} if data_dir else {})
    )
    check_port(host, port)
    api = ClassifierAPI(checkpoint, data.classes, data.image_reader, trusted_modules, max_batch_size, batch_timeout,
                        serving_threads())  # fmt: skip
    guard = (RequestGuard, {"path": "/predict", "max_bytes": MAX_BODY_BYTES})
    server = LitServer(api, accelerator="auto", middlewares=[guard])
    server.app.add_exception_handler(HTTPException, error_as_json)
    return server, data


def run_until_stopped(
    server: LitServer, host: str, port: int, line: str, then: Callable[[], None] | None = None
) -> None:
    """Run ``server`` on ``host:port`` until Ctrl-C or SIGTERM, printing ``line`` and calling ``then`` (if given) once
    requests are answered. LitServe's own log shows only warnings."""
    print_when_listening(host, port, line, then)
    for stop in (signal.SIGINT, signal.SIGTERM):
        signal.signal(stop, interrupt_this_process(os.getpid()))
    server.run(host=host, port=port, log_level="warning", generate_client_file=False)


def address(host: str, port: int) -> str:
    """The web address of ``host:port`` (an IPv6 host in brackets)."""
    return f"http://{f'[{host}]' if ':' in host else host}:{port}"


def serving_threads() -> int:
    """Torch's threads for the model on the CPU: ``OMP_NUM_THREADS`` if set, else all cores but two, left to
    LitServe's API server and queue manager (at least one). With torch's default, a thread per core, the
    model's threads took the cores from those processes between requests (docs/deploy.md)."""
    if os.environ.get("OMP_NUM_THREADS"):
        return torch.get_num_threads()
    return max(1, torch.get_num_threads() - 2)


def check_port(host: str, port: int) -> None:
    """Raise ``LitDigitsError`` if ``host:port`` cannot be listened on (in use, not permitted)."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            sock.bind((host, port))
        except OSError as err:
            raise LitDigitsError(
                f"cannot listen on {host} port {port} ({err.strerror}); stop what uses it or pick another --port"
            ) from err


async def error_as_json(request: Request, err: HTTPException) -> JSONResponse:
    """An HTTP error (LitServe's, FastAPI's) as ``{"error": reason}``, as the service's own refusals are."""
    return JSONResponse({"error": err.detail}, status_code=err.status_code, headers=err.headers)


def print_when_listening(host: str, port: int, line: str, then: Callable[[], None] | None = None) -> None:
    """Print ``line``, then call ``then`` (if given), once ``host:port`` accepts connections: LitServe's API server
    listens only after the inference workers have loaded the model."""
    probe = {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(host, host)

    def wait() -> None:
        while True:
            try:
                socket.create_connection((probe, port), timeout=1).close()
            except OSError:
                time.sleep(0.1)
                continue
            print(line, flush=True)
            if then is not None:
                then()
            return

    threading.Thread(target=wait, name="print-when-listening", daemon=True).start()


def interrupt_this_process(pid: int) -> Callable[[int, FrameType | None], None]:
    """A handler of SIGINT and SIGTERM that stops LitServer in process ``pid`` (by ``KeyboardInterrupt``,
    on which LitServer stops its workers) and ends the processes it forks (its API server and queue
    manager, which inherit the handler) as the signal would: Python's own SIGINT handler would print a
    traceback from each."""

    def stop(signum: int, frame: FrameType | None) -> None:
        if os.getpid() == pid:
            raise KeyboardInterrupt
        signal.signal(signum, signal.SIG_DFL)
        signal.raise_signal(signum)

    return stop
