"""The production configs through torch-xla on its CPU backend: one graph, no recompiles."""

import re

import pytest
from cli_helpers import SMALL_DAVIDNET, fit

pytest.importorskip("torch_xla")


@pytest.mark.parametrize(
    ("config", "data", "extra"),
    [
        ("mnist", "mnist_dir", []),
        ("cifar", "cifar_dir", SMALL_DAVIDNET),
        ("cifar", "cifar_dir", [*SMALL_DAVIDNET, "--trainer.precision", "bf16-true"]),
    ],
)
def test_training_and_evaluation_stop_compiling_after_the_first_epochs(config, data, extra, request, tmp_path):
    # 96 (MNIST) or 100 (CIFAR) training images: 6 full batches; 40 or 20 test images end in a partial batch.
    run = fit(
        config, request.getfixturevalue(data), *extra,
        "--trainer.accelerator", "xla_cpu", "--trainer.max_epochs", "5", "--trainer.limit_train_batches", "1.0",
        cwd=tmp_path, env={"PJRT_DEVICE": "CPU"},
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    counts = [int(n) for n in re.findall(r"XLA compilations after epoch \d+: (\d+)", run.stderr + run.stdout)]
    assert len(counts) == 5
    assert counts[2] == counts[3] == counts[4], counts
    assert "new graphs" not in run.stderr
