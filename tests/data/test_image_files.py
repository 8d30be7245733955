"""Reading the user's image files for predict: conversions noted, bad files skipped."""

import logging
import signal
from pathlib import Path

import numpy as np
import pytest
import torch
from helpers.cli import CONFIGS
from PIL import Image

from lit_digits import LitDigitsError
from lit_digits.data.image_files import ImageFiles, ImageReader, read_image


def test_16_bit_and_rgba_images_are_converted_with_a_note(tmp_path, caplog):
    Image.fromarray(np.full((28, 28), 65535, dtype=np.uint16)).save(tmp_path / "sixteen.png")
    Image.fromarray(np.full((40, 30, 4), 200, dtype=np.uint8), "RGBA").save(tmp_path / "rgba.png")
    with caplog.at_level(logging.INFO, logger="lit_digits"):
        files = ImageFiles.load(str(tmp_path), ImageReader((1, 28, 28)))
    assert [p.name for p in files.paths] == ["rgba.png", "sixteen.png"]
    assert files.images.shape == (2, 1, 28, 28) and files.images.dtype == torch.uint8
    assert files.images[1].min() == 255
    assert "I;16 -> L" in caplog.text and "RGBA -> L, transparency dropped" in caplog.text
    assert "resized 30x40 -> 28x28" in caplog.text


COLOUR_MODES = [
    ("L", ".png"), ("LA", ".png"), ("P", ".png"), ("1", ".png"), ("RGB", ".png"), ("RGBA", ".png"),
    ("L", ".jpg"), ("RGB", ".jpg"), ("CMYK", ".jpg"), ("P", ".gif"), ("RGB", ".bmp"), ("P", ".bmp"),
    ("RGBA", ".webp"), ("CMYK", ".tiff"),
]  # fmt: skip


@pytest.mark.parametrize(("mode", "suffix"), COLOUR_MODES)
@pytest.mark.parametrize("channels", [1, 3])
def test_every_colour_mode_converts_as_pillow_does(mode, suffix, channels, tmp_path):
    colours = Image.fromarray(np.random.default_rng(0).integers(0, 256, (16, 16, 3), dtype=np.uint8))
    path = tmp_path / f"image{suffix}"
    colours.convert(mode).save(path, **({"lossless": True} if suffix == ".webp" else {}))
    with Image.open(path) as image:
        expected = np.asarray(image.convert("RGBA" if image.mode in ("P", "PA") else image.mode)
                              .convert("L" if channels == 1 else "RGB"))  # fmt: skip
    got = ImageFiles.load(str(path), ImageReader((channels, 16, 16))).images[0]
    assert torch.equal(got, torch.from_numpy(expected.copy()).reshape(16, 16, channels).permute(2, 0, 1))


def test_an_image_reads_the_same_from_its_file_its_bytes_and_a_file_object(tmp_path, caplog):
    path = tmp_path / "rgba.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (40, 30, 4), dtype=np.uint8), "RGBA").save(path)
    with caplog.at_level(logging.INFO, logger="lit_digits"):
        from_bytes = read_image(path.read_bytes(), (1, 28, 28))
        with path.open("rb") as file:
            from_file_object = read_image(file, (1, 28, 28))
    assert torch.equal(from_bytes, ImageFiles.load(str(path), ImageReader((1, 28, 28))).images[0])
    assert torch.equal(from_file_object, from_bytes)
    assert "image: RGBA -> L, transparency dropped, resized 30x40 -> 28x28" in caplog.text
    assert f"{path}: RGBA -> L" in caplog.text


def test_grayscale_image_becomes_rgb_for_a_colour_model(tmp_path):
    Image.fromarray(np.arange(32 * 32, dtype=np.uint8).reshape(32, 32)).save(tmp_path / "gray.png")
    files = ImageFiles.load(str(tmp_path / "gray.png"), ImageReader((3, 32, 32)))
    assert torch.equal(files.images[0, 0], files.images[0, 2])


def test_glob_selects_matching_files_and_unreadable_ones_are_skipped(tmp_path, caplog):
    Image.fromarray(np.zeros((28, 28), dtype=np.uint8)).save(tmp_path / "a.png")
    (tmp_path / "b.png").write_text("not an image")
    Image.fromarray(np.zeros((28, 28), dtype=np.uint8)).save(tmp_path / "c.jpg")
    with caplog.at_level(logging.WARNING, logger="lit_digits"):
        files = ImageFiles.load(str(tmp_path / "*.png"), ImageReader((1, 28, 28)))
    assert [p.name for p in files.paths] == ["a.png"]
    assert "skipped" in caplog.text and "b.png" in caplog.text


@pytest.mark.parametrize("content", [None, "text"])
def test_no_readable_image_is_an_error(tmp_path, content):
    if content:
        (tmp_path / "notes.png").write_text(content)
    with pytest.raises(LitDigitsError, match="no readable image"):
        ImageFiles.load(str(tmp_path), ImageReader((1, 28, 28)))


def test_recursive_glob_does_not_follow_a_symlink_loop(tmp_path):
    (tmp_path / "sub").mkdir()
    for path in (tmp_path / "a.png", tmp_path / "sub" / "b.png"):
        Image.fromarray(np.zeros((28, 28), dtype=np.uint8)).save(path)
    (tmp_path / "sub" / "up").symlink_to("..")
    (tmp_path / "here").symlink_to(".")
    signal.alarm(20)  # following the links would take for ever
    try:
        files = ImageFiles.load(str(tmp_path / "**" / "*.png"), ImageReader((1, 28, 28)))
    finally:
        signal.alarm(0)
    assert [p.relative_to(tmp_path).as_posix() for p in files.paths] == ["a.png", "sub/b.png"]


def test_animated_gif_gives_its_first_frame_with_a_note(tmp_path, caplog):
    frames = [Image.fromarray(np.full((28, 28), value, dtype=np.uint8)) for value in (10, 200, 90)]
    frames[0].save(tmp_path / "anim.gif", save_all=True, append_images=frames[1:])
    Image.fromarray(np.zeros((28, 28), dtype=np.uint8)).save(tmp_path / "still.gif")
    with caplog.at_level(logging.INFO, logger="lit_digits"):
        files = ImageFiles.load(str(tmp_path), ImageReader((1, 28, 28)))
    assert [p.name for p in files.paths] == ["anim.gif", "still.gif"]
    assert abs(files.images[0].float().mean() - 10) < 2  # frame 1 (10), not 200 or 90; palette rounding aside
    assert "first of 3 frames" in caplog.text


def test_truncated_and_corrupted_files_of_every_format_are_skipped(tmp_path, caplog):
    rng = np.random.default_rng(0)
    colours = Image.fromarray(rng.integers(0, 256, (16, 16, 3), dtype=np.uint8))
    for suffix in (".png", ".jpg", ".gif", ".webp", ".bmp", ".tiff"):
        colours.save(tmp_path / f"good{suffix}")
        original = (tmp_path / f"good{suffix}").read_bytes()
        for i in range(20):
            damaged = bytearray(original[: rng.integers(1, len(original))] if i % 2 else original)
            for position in rng.integers(0, len(damaged), 4):
                damaged[position] = rng.integers(0, 256)
            (tmp_path / f"damaged{i}{suffix}").write_bytes(bytes(damaged))
    with caplog.at_level(logging.WARNING, logger="lit_digits"):
        files = ImageFiles.load(str(tmp_path), ImageReader((3, 16, 16)))
    assert {f"good{suffix}" for suffix in (".png", ".jpg", ".gif", ".webp", ".bmp", ".tiff")} <= {
        p.name for p in files.paths
    }
    assert "skipped" in caplog.text


def test_predict_converts_16_bit_and_rgba_images(fitted_run, tmp_path, in_process):
    work = fitted_run.parents[2]  # the run's working directory
    Image.fromarray(np.full((28, 28), 40000, dtype=np.uint16)).save(tmp_path / "deep.png")
    Image.fromarray(np.zeros((28, 28, 4), dtype=np.uint8), "RGBA").save(tmp_path / "alpha.png")
    result = in_process.run_cli("predict", "--config", str(CONFIGS / "mnist.yaml"), "--ckpt_path", "best", "--data.predict_path",
                                str(tmp_path), cwd=work)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert sorted(Path(line.split("\t")[0]).name for line in result.stdout.splitlines() if "\t" in line) == [
        "alpha.png",
        "deep.png",
    ]
    assert "I;16 -> L" in result.stderr and "RGBA -> L, transparency dropped" in result.stderr
