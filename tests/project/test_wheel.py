"""The wheel: built offline, it ships MNIST and the demo page, and a fresh installation of it reads MNIST."""

import hashlib
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from helpers.cli import REPOSITORY, child_env

from lit_digits.data import shipped_mnist

READ_IN_A_FRESH_INSTALLATION = """
import sys
from pathlib import Path
import lit_digits
from lit_digits import MNISTDataModule
from lit_digits.data.shipped_mnist import SUMS, read_shipped
assert Path(lit_digits.__file__).is_relative_to(sys.prefix), lit_digits.__file__
for name in SUMS:
    read_shipped(name)
datamodule = MNISTDataModule(sys.argv[1])
datamodule.prepare_data()
datamodule.setup("test")
print(len(datamodule.test_dataloader().dataset))
"""
"""Run by the installed package: every shipped file passes its sums, and MNIST's test split is read from them."""


@pytest.mark.slow
def test_the_wheel_ships_mnist_and_the_demo_page_and_an_installation_of_it_reads_mnist(tmp_path):
    source = tmp_path / "source"  # a copy, so that the build writes nothing into the repository
    source.mkdir()
    for name in ("setup.cfg", "pyproject.toml", "README.md"):
        shutil.copy(REPOSITORY / name, source / name)
    shutil.copytree(REPOSITORY / "lit_digits", source / "lit_digits", ignore=shutil.ignore_patterns("__pycache__"))
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input"]
    subprocess.run([*pip, "wheel", "--no-deps", "--no-build-isolation", str(source), "-w", str(tmp_path / "dist")],
                   check=True, capture_output=True, timeout=300)  # fmt: skip
    (wheel,) = (tmp_path / "dist").glob("lit_digits-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        shipped = {
            Path(name).name.removesuffix(".gz"): hashlib.sha256(archive.read(name)).hexdigest()
            for name in archive.namelist()
            if name.startswith("lit_digits/data/mnist_gz/")
        }
        page = archive.read("lit_digits/serve/demo_page.html")  # lit_digits demo's page
    assert shipped == {name: sums.gz_sha256 for name, sums in shipped_mnist.SUMS.items()}
    assert page == (REPOSITORY / "lit_digits" / "serve" / "demo_page.html").read_bytes()

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True, timeout=300)
    python = str(venv / "bin" / "python")
    subprocess.run([python, "-m", "pip", "--disable-pip-version-check", "install", "--no-deps", "--no-index",
                    "--ignore-installed", str(wheel)], check=True, capture_output=True, timeout=300)  # fmt: skip
    env = {key: value for key, value in child_env().items() if key != "PYTHONPATH"}
    read = subprocess.run([python, "-c", READ_IN_A_FRESH_INSTALLATION, str(tmp_path / "no_mnist")], cwd=tmp_path,
                          env=env, capture_output=True, text=True, timeout=300, check=False)  # fmt: skip
    assert read.returncode == 0, read.stderr
    assert read.stdout.split() == ["10000"]
