"""The fixtures every part's tests share: tiny MNIST and CIFAR-10 copies in the real on-disk formats, in
temp dirs; a finished run of them; the command line run in this process; a CPU with or without native bf16."""

import os
from pathlib import Path

import pytest
from helpers.cli import InProcess, fitted_mnist_run
from helpers.tiny_data import write_cifar, write_mnist


def pytest_configure(config: pytest.Config) -> None:
    """Under pytest-xdist, each worker and the commands it starts share the cores with the other
    workers: torch's own threads in each (one per core by default) would only contend."""
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    if workers > 1:
        # A value already set wins; the commands the tests start read it from the environment.
        threads = os.environ.setdefault("OMP_NUM_THREADS", str(max(1, (os.cpu_count() or 1) // workers)))
        import torch

        torch.set_num_threads(int(threads))


@pytest.fixture
def mnist_dir(tmp_path: Path) -> Path:
    return write_mnist(tmp_path)


@pytest.fixture
def cifar_dir(tmp_path: Path) -> Path:
    return write_cifar(tmp_path)


@pytest.fixture
def bf16_cpu(monkeypatch):
    """``bf16_cpu(True)``: this CPU counts as running bf16 natively (AVX-512 BF16, AMX); False: as not."""

    def patch(native: bool) -> None:
        monkeypatch.setattr("lit_digits.precision.native_bf16", lambda device: native)

    return patch


@pytest.fixture(scope="module")
def fitted_run(request, tmp_path_factory) -> Path:
    """A finished one-epoch run of configs/mnist.yaml on tiny data, fit in this process (faster than
    a subprocess): ``WORK/runs/mnist/version_0``, with the data in ``WORK/data``, shared by the tests of
    a module. A test that needs another run names the fit's further arguments (``fitted_mnist_run``):
    ``@pytest.mark.parametrize("fitted_run", [(ARG, ...)], indirect=True)``; tests naming the same share it."""
    return fitted_mnist_run(tmp_path_factory.mktemp("work"), *getattr(request, "param", ()))


@pytest.fixture
def in_process(capsys) -> InProcess:
    """``in_process.run_cli(...)`` and ``in_process.fit(...)``: ``helpers.cli.run_cli`` and ``fit`` run in
    this process (``helpers.cli.InProcess``), for tests that check the command, not a process."""
    return InProcess(capsys)
