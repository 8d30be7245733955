"""Reading the user's image files for predict: conversions noted, bad files skipped."""

import logging

import numpy as np
import pytest
import torch
from PIL import Image

from lit_digits import LitDigitsError
from lit_digits.data.image_files import ImageFiles


def test_16_bit_and_rgba_images_are_converted_with_a_note(tmp_path, caplog):
    Image.fromarray(np.full((28, 28), 65535, dtype=np.uint16)).save(tmp_path / "sixteen.png")
    Image.fromarray(np.full((40, 30, 4), 200, dtype=np.uint8), "RGBA").save(tmp_path / "rgba.png")
    with caplog.at_level(logging.INFO, logger="lit_digits"):
        files = ImageFiles.load(str(tmp_path), (1, 28, 28))
    assert [p.name for p in files.paths] == ["rgba.png", "sixteen.png"]
    assert files.images.shape == (2, 1, 28, 28) and files.images.dtype == torch.uint8
    assert files.images[1].min() == 255
    assert "uint16 -> uint8" in caplog.text and "alpha channel dropped" in caplog.text
    assert "resized 30x40 -> 28x28" in caplog.text


def test_grayscale_image_becomes_rgb_for_a_colour_model(tmp_path):
    Image.fromarray(np.arange(32 * 32, dtype=np.uint8).reshape(32, 32)).save(tmp_path / "gray.png")
    files = ImageFiles.load(str(tmp_path / "gray.png"), (3, 32, 32))
    assert torch.equal(files.images[0, 0], files.images[0, 2])


def test_glob_selects_matching_files_and_unreadable_ones_are_skipped(tmp_path, caplog):
    Image.fromarray(np.zeros((28, 28), dtype=np.uint8)).save(tmp_path / "a.png")
    (tmp_path / "b.png").write_text("not an image")
    Image.fromarray(np.zeros((28, 28), dtype=np.uint8)).save(tmp_path / "c.jpg")
    with caplog.at_level(logging.WARNING, logger="lit_digits"):
        files = ImageFiles.load(str(tmp_path / "*.png"), (1, 28, 28))
    assert [p.name for p in files.paths] == ["a.png"]
    assert "skipped" in caplog.text and "b.png" in caplog.text


@pytest.mark.parametrize("content", [None, "text"])
def test_no_readable_image_is_an_error(tmp_path, content):
    if content:
        (tmp_path / "notes.png").write_text(content)
    with pytest.raises(LitDigitsError, match="no readable image"):
        ImageFiles.load(str(tmp_path), (1, 28, 28))
