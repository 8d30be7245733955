"""Batched augmentations: same pixels as torchvision's per-sample transforms, training only; airbench's
alternating flip."""

from pathlib import Path

import pytest
import torch
from torchvision.transforms.v2 import functional as TF

from lit_digits import CIFAR10DataModule, LitDigitsError, MNISTDataModule
from lit_digits.data.augment import (
    colour_jitter,
    crop,
    cutout,
    flip,
    random_colour_jitter,
    random_crop,
    random_cutout,
    random_flip,
)
from lit_digits.data.cifar import CIFAR10_MEAN, CIFAR10_STD


@pytest.fixture
def batch() -> torch.Tensor:
    return torch.rand(6, 3, 32, 32, generator=torch.Generator().manual_seed(0))


@pytest.mark.parametrize("mode", ["reflect", "constant", "replicate"])
def test_crop_equals_torchvision_pad_then_crop_for_same_offsets(batch, mode):
    top, left = torch.tensor([0, 8, 3, 5, 8, 1]), torch.tensor([8, 0, 4, 2, 8, 7])
    ours = crop(batch, 4, top, left, mode)
    for image, t, l, mine in zip(batch, top, left, ours):
        padded = TF.pad(image, [4], padding_mode="edge" if mode == "replicate" else mode)
        assert torch.equal(mine, TF.crop(padded, int(t), int(l), 32, 32))


def test_random_crop_offsets_stay_in_range():
    x = torch.arange(10 * 10, dtype=torch.float32).view(1, 1, 10, 10).repeat(200, 1, 1, 1)
    out = random_crop(x, 2, mode="constant")
    # With constant zero padding, the crop's top-left pixel tells the offsets; all 25 occur.
    corners = {(int(o[0, 2, 2]) // 10, int(o[0, 2, 2]) % 10) for o in out}
    assert corners <= {(r, c) for r in range(5) for c in range(5)} and len(corners) > 20


def test_flip_mirrors_only_the_masked_images(batch):
    mask = torch.tensor([True, False, True, False, False, True])
    out = flip(batch, mask)
    for image, flipped, m in zip(batch, out, mask):
        assert torch.equal(flipped, TF.horizontal_flip(image) if m else image)


def test_random_flip_mirrors_about_half_the_images():
    x = torch.rand(400, 1, 4, 4)
    flipped = sum(torch.equal(o, i.flip(-1)) for o, i in zip(random_flip(x), x))
    assert 140 < flipped < 260


def test_cutout_fills_exactly_one_square_per_image_with_fill(batch):
    fill = torch.tensor([0.25, 0.5, 0.75])
    out = cutout(batch, 8, torch.tensor([0, 24, 3, 10, 0, 24]), torch.tensor([0, 24, 17, 5, 24, 0]), fill)
    for image, cut, t, l in zip(batch, out, [0, 24, 3, 10, 0, 24], [0, 24, 17, 5, 24, 0]):
        expected = TF.erase(image, t, l, 8, 8, fill[:, None, None])
        assert torch.equal(cut, expected)


def test_random_cutout_square_lies_wholly_inside_the_image():
    x = torch.ones(500, 1, 32, 32)
    out = random_cutout(x, 8, torch.tensor([0.0]))
    assert ((out == 0).sum(dim=(1, 2, 3)) == 64).all()


def test_augmentations_are_seeded(batch):
    def augmented() -> torch.Tensor:
        torch.manual_seed(7)
        return CIFAR10DataModule().augment(batch)

    assert torch.equal(augmented(), augmented())
    assert not torch.equal(augmented(), batch)


class _Trainer:
    def __init__(self, training: bool) -> None:
        self.training = training
        self.current_epoch = 0


@pytest.mark.parametrize("training", [True, False])
def test_batch_becomes_float_in_unit_range_and_only_training_is_augmented(training):
    dm = CIFAR10DataModule()
    dm.trainer = _Trainer(training)
    images = torch.randint(0, 256, (16, 3, 32, 32), dtype=torch.uint8)
    x, _ = dm.on_after_batch_transfer((images, torch.zeros(16, dtype=torch.long)), 0)
    assert x.dtype == torch.float32 and 0 <= x.min() and x.max() <= 1
    assert torch.equal(x, images.float() / 255) != training


def test_mnist_defaults_do_not_augment():
    dm = MNISTDataModule()
    x = torch.rand(4, 1, 28, 28)
    assert torch.equal(dm.augment(x), x)


def test_colour_jitter_shifts_and_scales_each_normalized_image_as_hiverge_does(batch):
    mean, std = torch.tensor(CIFAR10_MEAN), torch.tensor(CIFAR10_STD)
    shift, scale = torch.linspace(-0.14, 0.14, 6), torch.linspace(0.87, 1.13, 6)
    normalized = (batch - mean.view(1, 3, 1, 1)) / std.view(1, 3, 1, 1)
    expected = (normalized + shift.view(6, 1, 1, 1)) * scale.view(6, 1, 1, 1)  # the reference, on normalized images
    got = (colour_jitter(batch, shift, scale, mean, std) - mean.view(1, 3, 1, 1)) / std.view(1, 3, 1, 1)
    torch.testing.assert_close(got, expected)


def test_random_colour_jitter_draws_one_shift_and_scale_per_image_within_its_ranges():
    mean, std = torch.zeros(1), torch.ones(1)
    x = torch.zeros(1000, 1, 4, 4)  # a black image: the jitter leaves scale * shift, the same in every pixel
    out = random_colour_jitter(x, brightness=0.2, contrast=0.1, mean=mean, std=std)
    per_image = out.flatten(1)
    assert torch.equal(per_image.amin(dim=1), per_image.amax(dim=1))
    assert per_image.abs().max() <= 0.2 * 1.1 and per_image.std() > 0.05
    ones = random_colour_jitter(torch.ones(1000, 1, 2, 2), brightness=0.0, contrast=0.1, mean=mean, std=std)
    assert 0.9 <= ones.min() < 0.92 and 1.08 < ones.max() <= 1.1  # the scale alone, uniform in 1 +- 0.1


def test_the_data_module_jitters_training_batches_only_when_asked(batch):
    dm = CIFAR10DataModule(crop_padding=0, flip=False, cutout_size=0, brightness=0.14, contrast=0.13)
    assert not torch.equal(dm.augment(batch), batch)
    assert torch.equal(CIFAR10DataModule(crop_padding=0, flip=False, cutout_size=0).augment(batch), batch)


@pytest.mark.parametrize(("brightness", "contrast"), [(-0.1, 0.0), (0.0, -0.1), (0.0, 1.0)])
def test_a_jitter_out_of_range_is_refused(brightness, contrast):
    with pytest.raises(LitDigitsError, match=r"contrast must be in \[0, 1\)"):
        CIFAR10DataModule(brightness=brightness, contrast=contrast)


def alternating(cifar_dir: Path, epoch: int, seed: int = 0) -> torch.Tensor:
    torch.manual_seed(seed)
    datamodule = CIFAR10DataModule(cifar_dir, batch_size=100, crop_padding=0, flip="alternating", cutout_size=0)
    datamodule.setup("fit")
    images, _, mirrored = datamodule.train_dataloader().dataset.tensors  # in the data set's order
    return datamodule.augment(images.float() / 255, epoch, mirrored)


def test_alternating_flip_mirrors_a_fixed_half_then_every_image_in_odd_epochs(cifar_dir):
    datamodule = CIFAR10DataModule(cifar_dir, batch_size=100, crop_padding=0, flip=False)
    datamodule.setup("fit")
    original = datamodule.training_images(100)
    even, odd = alternating(cifar_dir, 0), alternating(cifar_dir, 1)
    assert torch.equal(alternating(cifar_dir, 2), even) and torch.equal(odd, even.flip(-1))
    mirrored = [not torch.equal(e, o) for e, o in zip(even, original)]
    assert 30 < sum(mirrored) < 70
    for e, o, m in zip(even, original, mirrored):
        assert torch.equal(e, o.flip(-1) if m else o)
    assert not torch.equal(alternating(cifar_dir, 0, seed=1), even)  # the run's seed draws the half


def test_alternating_flip_fits_whitening_to_the_images_as_they_are(cifar_dir):
    torch.manual_seed(0)
    datamodule = CIFAR10DataModule(cifar_dir, batch_size=100, flip="alternating")
    datamodule.setup("fit")
    plain = CIFAR10DataModule(cifar_dir, batch_size=100, flip=False)
    plain.setup("fit")
    assert torch.equal(datamodule.training_images(60), plain.training_images(60))
