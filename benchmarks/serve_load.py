"""Requests/s and latency of ``lit_digits serve`` under load, with batching off and on.

    python benchmarks/serve_load.py RUN_DIR_OR_CHECKPOINT [--requests 2000] [--clients 16] \
        [--batch_sizes 1 16] [--batch_timeout 0.005] [--rounds 3] [--time_limit 120]

Starts ``python -m lit_digits serve RUN`` on a free 127.0.0.1 port for each ``--max_batch_size`` in
``--batch_sizes``, then, ``--rounds`` times, each server in turn gets ``--clients`` warm-up requests and
``--requests`` requests from ``--clients`` concurrent clients (one ``httpx.AsyncClient``; each client
posts its next image as soon as the last is answered), each a PNG of random pixels in the run's image
shape as the multipart field ``image``. Prints requests/s, the median and 99th-percentile latency and the
clients' CPU time of each measurement, and the median requests/s of each setting. The servers run
together (an idle one polls its queue) and share the machine's cores with the clients;
``OMP_NUM_THREADS`` reaches them. Every request goes to 127.0.0.1; a measurement stops after
``--time_limit`` seconds at the most.
"""

import argparse
import asyncio
import io
import os
import resource
import shlex
import statistics
import sys
import time
from pathlib import Path

import httpx
import litserve
import numpy as np
import torch
from environment import describe
from local_server import start_server, stop_server
from PIL import Image

from lit_digits.data import ImageDataModule
from lit_digits.runs.checkpoint_files import run_checkpoint


def png_images(shape: tuple[int, int, int], count: int) -> list[bytes]:
    """``count`` PNG files of random pixels, of ``shape`` (C, H, W)."""
    rng = np.random.default_rng(0)
    images = []
    for _ in range(count):
        pixels = rng.integers(0, 256, (shape[1], shape[2], shape[0]), dtype=np.uint8)
        buffer = io.BytesIO()
        Image.fromarray(pixels.squeeze(-1) if shape[0] == 1 else pixels).save(buffer, "PNG")
        images.append(buffer.getvalue())
    return images


async def load(url: str, images: list[bytes], requests: int, clients: int) -> tuple[float, list[float], int]:
    """Seconds for ``requests`` requests from ``clients`` concurrent clients, each request's latency, errors."""
    latencies: list[float] = []
    errors = 0
    sent = 0
    async with httpx.AsyncClient(timeout=30, limits=httpx.Limits(max_connections=clients)) as client:

        async def one_client() -> None:
            nonlocal sent, errors
            while sent < requests:
                image = images[sent % len(images)]
                sent += 1
                start = time.perf_counter()
                try:
                    response = await client.post(f"{url}/predict", files={"image": ("digit.png", image)})
                    errors += response.status_code != 200
                except httpx.HTTPError:
                    errors += 1
                latencies.append(time.perf_counter() - start)

        start = time.perf_counter()
        await asyncio.gather(*(one_client() for _ in range(clients)))
        return time.perf_counter() - start, latencies, errors


def measure(url: str, images: list[bytes], args: argparse.Namespace) -> tuple[float, list[float], int, float]:
    """Seconds, latencies and errors of ``args.requests`` requests after a warm-up, and the clients' CPU seconds."""
    asyncio.run(load(url, images, args.clients, args.clients))  # warm-up: connections, first batches
    client_start = cpu_seconds()
    seconds, latencies, errors = asyncio.run(
        asyncio.wait_for(load(url, images, args.requests, args.clients), args.time_limit)
    )
    return seconds, latencies, errors, cpu_seconds() - client_start


def row(max_batch_size: int, round: int, seconds: float, latencies: list[float], errors: int, client: float) -> str:
    cuts = statistics.quantiles(latencies, n=100, method="inclusive")
    return (f"| {max_batch_size} | {round} | {len(latencies)} | {errors} | {seconds:.1f} | "
            f"{len(latencies) / seconds:.0f} | {cuts[49] * 1000:.1f} | {cuts[98] * 1000:.1f} | {client:.1f} |")  # fmt: skip


def cpu_seconds() -> float:
    """The CPU time this process (the clients) has used."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("run", type=Path, help="a run folder or a checkpoint file")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--batch_sizes", type=int, nargs="+", default=[1, 16], help="max_batch_size of each setting")
    parser.add_argument("--batch_timeout", type=float, default=0.005)
    parser.add_argument("--rounds", type=int, default=3, help="measurements of each setting, in turn")
    parser.add_argument("--time_limit", type=float, default=120, help="seconds a measurement may take at the most")
    args = parser.parse_args()
    checkpoint, _ = run_checkpoint(args.run)
    shape = ImageDataModule.load_from_checkpoint(checkpoint).image_shape
    images = png_images(shape, 64)
    servers = {
        size: start_server(
            "serve", str(args.run), "--max_batch_size", str(size), "--batch_timeout", str(args.batch_timeout)
        )
        for size in args.batch_sizes
    }
    rows, rates = [], {size: [] for size in args.batch_sizes}
    try:
        for round in range(1, args.rounds + 1):
            for size, (_, url) in servers.items():
                seconds, latencies, errors, client = measure(url, images, args)
                rows.append(row(size, round, seconds, latencies, errors, client))
                rates[size].append(len(latencies) / seconds)
    finally:
        for server, _ in servers.values():
            stop_server(server)
    print(f"python benchmarks/serve_load.py {shlex.join(sys.argv[1:])}")
    print(f"{describe()}; CPU capability {torch.backends.cpu.get_cpu_capability()}; litserve {litserve.__version__}")
    threads = os.environ.get("OMP_NUM_THREADS") or "unset"
    print(f"{args.clients} clients, PNG {shape[1]}x{shape[2]}x{shape[0]}, batch_timeout {args.batch_timeout} s, "
          f"OMP_NUM_THREADS {threads}\n")  # fmt: skip
    print("| max_batch_size | round | requests | errors | seconds | requests/s | p50 ms | p99 ms | clients' CPU s |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    print("\n".join(rows))
    print("\nmedian requests/s: " + ", ".join(f"max_batch_size {size}: {statistics.median(rates[size]):.0f}"
                                              for size in args.batch_sizes))  # fmt: skip


if __name__ == "__main__":
    main()
