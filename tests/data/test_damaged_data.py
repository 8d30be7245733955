"""Truncations and byte flips of MNIST's IDX files and CIFAR-10's batch pickles: each damaged copy is read,
or refused in one line, never a traceback (the run's own files: tests/runs/test_damaged_files.py)."""

import pytest
from helpers.damage import CASES, damage, read_or_refused_in_one_line

from lit_digits import CIFAR10DataModule, MNISTDataModule


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("name", ["t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"])
def test_damaged_mnist_file_is_read_or_refused_in_one_line(name, case, mnist_dir):
    damage(mnist_dir / "MNIST" / "raw" / name, case)
    read_or_refused_in_one_line(lambda: MNISTDataModule(mnist_dir).setup("test"))


@pytest.mark.parametrize("case", CASES)
def test_damaged_cifar_batch_is_read_or_refused_in_one_line(case, cifar_dir):
    damage(cifar_dir / "cifar-10-batches-py" / "test_batch", case)
    read_or_refused_in_one_line(lambda: CIFAR10DataModule(cifar_dir).setup("test"))
