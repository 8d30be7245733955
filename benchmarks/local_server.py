"""A ``lit_digits`` command that listens (``serve``, ``demo``), started on a free 127.0.0.1 port for a benchmark."""

import os
import shlex
import signal
import socket
import subprocess
import sys
import time

import httpx

START_TIMEOUT = 180
"""Seconds a server gets to load the model and listen."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(*args: str) -> tuple[subprocess.Popen, str]:
    """``python -m lit_digits *args --port N`` on a free port N, once its ``/health`` answers ok; and its address."""
    port = free_port()
    command = [sys.executable, "-m", "lit_digits", *args, "--port", str(port)]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline and server.poll() is None:
        try:
            if httpx.get(f"{url}/health", timeout=5).text == "ok":
                return server, url
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    stop_server(server)
    raise SystemExit(f"the server ({shlex.join(command)}) did not start in {START_TIMEOUT} s")


def stop_server(server: subprocess.Popen) -> None:
    """SIGTERM; its process group is killed if it outstays 60 s."""
    server.send_signal(signal.SIGTERM)
    try:
        server.wait(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)  # it and its workers: the group it leads
