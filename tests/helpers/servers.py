"""``lit_digits serve`` and ``lit_digits demo`` as services: started on a free 127.0.0.1 port, stopped
by SIGTERM; and a free port for anything else that listens (torchrun's rendezvous)."""

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from helpers.cli import child_env

START_TIMEOUT = 180
"""Seconds the server gets to load the model and listen (an interpreter, then LitServe's worker, import torch)."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Server:
    process: subprocess.Popen
    url: str
    folder: Path
    """Where its stdout and stderr are written (``out``, ``err``)."""

    def output(self) -> tuple[str, str]:
        return (self.folder / "out").read_text(), (self.folder / "err").read_text()


def start_server(run: Path, port: int, folder: Path, *args: str, command: str = "serve") -> Server:
    """``python -m lit_digits COMMAND run --port port *args`` (``serve`` or ``demo``) in ``folder``, once
    ``/health`` answers ok. A process of its own, not ``run_cli``: the test talks to it while it runs."""
    with (folder / "out").open("w") as out, (folder / "err").open("w") as err:
        process = subprocess.Popen([sys.executable, "-m", "lit_digits", command, str(run), "--port", str(port), *args],
                                   cwd=folder, env=child_env(), stdout=out, stderr=err, start_new_session=True)  # fmt: skip
    server = Server(process, f"http://127.0.0.1:{port}", folder)
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if httpx.get(f"{server.url}/health", timeout=5).text == "ok":
                return server
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    stop(server)
    raise AssertionError(f"the server did not start in {START_TIMEOUT} s: {server.output()}")


def stop(server: Server) -> int:
    """SIGTERM, as a service manager stops it; its exit status. Its process group is killed if it outstays 60 s."""
    server.process.send_signal(signal.SIGTERM)
    try:
        return server.process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(server.process.pid, signal.SIGKILL)  # it and its workers: the group it leads
        raise
