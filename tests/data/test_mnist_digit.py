"""A digit image is made the way MNIST's were before an MNIST model reads it: the same digit as an
MNIST-style image and as a photo of dark ink on paper reaches the model alike, through predict too."""

from pathlib import Path

import numpy as np
import pytest
import torch
from helpers.cli import CONFIGS
from PIL import Image, ImageDraw

from lit_digits.data import CIFAR10DataModule, MNISTDataModule
from lit_digits.data.image_files import ImageReader
from lit_digits.data.mnist_digit import INK, as_mnist_digit


def drawn_seven(size: int, ink: int, ground: int, offset: tuple[int, int] = (0, 0)) -> np.ndarray:
    """A "7" drawn with strokes 1/10 of ``size`` wide, ``ink`` on ``ground``, on a square of side ``size``."""
    image = Image.new("L", (size, size), ground)
    pen = ImageDraw.Draw(image)
    x, y = offset
    points = [(x + 0.25 * size, y + 0.2 * size), (x + 0.7 * size, y + 0.2 * size), (x + 0.4 * size, y + 0.85 * size)]
    pen.line(points, fill=ink, width=max(1, size // 10), joint="curve")
    pen.line([(x + 0.35 * size, y + 0.5 * size), (x + 0.65 * size, y + 0.5 * size)], fill=ink, width=max(1, size // 10))
    return np.array(image)


@pytest.fixture
def mnist_style() -> torch.Tensor:
    """A "7" as MNIST holds its digits: white on black, fitted into 20 x 20, centred by mass in 28 x 28."""
    return as_mnist_digit(torch.from_numpy(drawn_seven(280, ink=255, ground=0))[None])


@pytest.fixture
def photo() -> torch.Tensor:
    """The same "7" as a photo: dark grey ink on light grey paper with noise, larger, off centre."""
    rng = np.random.default_rng(0)
    paper = drawn_seven(300, ink=70, ground=205, offset=(-40, 30)).astype(np.int16)
    noisy = paper + rng.integers(-12, 13, paper.shape)
    return torch.from_numpy(noisy.clip(0, 255).astype(np.uint8))[None]


def test_a_digit_fills_20_pixels_and_its_centre_of_mass_is_the_middle_of_28(mnist_style):
    assert mnist_style.shape == (1, 28, 28) and mnist_style.dtype == torch.uint8
    x = mnist_style[0].float()
    rows, cols = x.any(dim=1).nonzero()[:, 0], x.any(dim=0).nonzero()[:, 0]
    assert max(rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1) == 20
    centre = [float((x.sum(dim=1 - axis) * torch.arange(28)).sum() / x.sum()) for axis in (0, 1)]
    assert all(abs(c - 14) <= 0.5 for c in centre), centre
    assert x.max() == 255 and x[0].sum() == x[-1].sum() == 0  # full contrast, black border


def test_an_mnist_style_digit_comes_back_as_it_was_but_its_faintest_edge(mnist_style):
    difference = (as_mnist_digit(mnist_style).int() - mnist_style.int()).abs()
    assert difference[mnist_style >= 255 * INK].max() <= 1  # ink as it was
    assert difference[mnist_style < 255 * INK].max() < 255 * INK  # pixels fainter than INK become background
    assert difference.float().mean() / 255 < 0.005


def test_a_photo_of_dark_ink_on_paper_comes_out_as_the_mnist_style_digit(photo, mnist_style):
    made = as_mnist_digit(photo)
    assert (made.float() - mnist_style.float()).abs().mean() / 255 < 0.03
    assert made[0, 0].sum() == 0  # the paper, inverted, is black


@pytest.mark.parametrize("ground", [0, 255, 128])
def test_an_image_without_a_digit_comes_out_black(ground):
    rng = np.random.default_rng(0)
    faint = (ground + rng.integers(-10, 11, (40, 40))).clip(0, 255).astype(np.uint8)
    assert as_mnist_digit(torch.from_numpy(faint)[None]).sum() == 0


def test_mnist_reads_files_as_digits_and_cifar_resizes_them_whole(tmp_path):
    Image.fromarray(drawn_seven(100, ink=0, ground=255)).save(tmp_path / "seven.png")
    assert MNISTDataModule().image_reader == ImageReader((1, 28, 28), mnist_digits=True)
    assert CIFAR10DataModule().image_reader == ImageReader((3, 32, 32))
    read = MNISTDataModule().image_reader(tmp_path / "seven.png")
    assert read.shape == (1, 28, 28) and read[0, 0].sum() == 0 and read.max() == 255


def test_predict_reads_the_photo_as_it_reads_the_mnist_style_digit(
    fitted_run, tmp_path, mnist_style, photo, in_process
):
    for name, image in (("mnist_style.png", mnist_style), ("photo.jpg", photo)):
        Image.fromarray(image[0].numpy()).save(tmp_path / name)
    result = in_process.run_cli("predict", "--config", str(CONFIGS / "mnist.yaml"), "--ckpt_path", "best",
                                "--data.predict_path", str(tmp_path), cwd=fitted_run.parents[2])  # fmt: skip
    assert result.returncode == 0, result.stderr
    answers = {
        Path(path).name: (label, float(p))
        for path, label, p in (line.split("\t") for line in result.stdout.splitlines())
    }
    assert answers["photo.jpg"][0] == answers["mnist_style.png"][0]
    assert answers["photo.jpg"][1] == pytest.approx(answers["mnist_style.png"][1], abs=0.02)
