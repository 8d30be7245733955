"""Tiny MNIST and CIFAR-10 copies written in the real on-disk formats, in temp dirs; a finished
run of them; the command line run in this process."""

import copy
import logging
import os
import warnings
from pathlib import Path

import pytest
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
def fitted_run(tmp_path_factory) -> Path:
    """A finished one-epoch run of configs/mnist.yaml on tiny data, fit in this process (faster than
    a subprocess): ``WORK/runs/mnist/version_0``, with the data in ``WORK/data``."""
    from helpers.cli import CONFIGS, QUICK

    from lit_digits.cli import LitDigitsCLI

    work = tmp_path_factory.mktemp("work")
    data = write_mnist(work / "data")
    warnings.filterwarnings("ignore", message="LightningCLI's args parameter")  # pytest's own sys.argv
    LitDigitsCLI(args=["fit", "--config", str(CONFIGS / "mnist.yaml"), "--data.data_dir", str(data),
                       "--data.batch_size", "16", *QUICK, "--trainer.default_root_dir", str(work / "runs")])  # fmt: skip
    return work / "runs" / "mnist" / "version_0"


@pytest.fixture
def lit_digits_main(monkeypatch):
    """``lit_digits.cli.main`` in this process, returning its exit status (0 when it returns);
    the logging it sets up for the package is undone after the test. Its stderr is capsys's."""
    from lit_digits.cli import main

    package = logging.getLogger("lit_digits")
    for name in ("handlers", "propagate", "level"):
        monkeypatch.setattr(package, name, copy.copy(getattr(package, name)))

    def run(*args: str) -> int:
        try:
            main(list(args))
        except SystemExit as exit:
            return exit.code
        return 0

    return run


@pytest.fixture
def in_process(lit_digits_main, capsys):
    """``in_process.run_cli(...)`` and ``in_process.fit(...)``: ``helpers.cli.run_cli`` and ``fit`` run in
    this process (``helpers.cli.InProcess``), for tests that check the command, not a process."""
    from helpers.cli import InProcess

    return InProcess(lit_digits_main, capsys)
