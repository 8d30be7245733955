"""Batched, device-side image augmentations with static shapes (one XLA graph).

Each function takes a float batch ``x`` of shape N x C x H x W and returns a batch of the
same shape. The random draws are explicit tensors, so a test can replay them with
torchvision's per-sample transforms; the ``random_*`` wrappers draw them on ``x.device``.
"""

import torch
import torch.nn.functional as F


def crop(x: torch.Tensor, padding: int, top: torch.Tensor, left: torch.Tensor, mode: str = "reflect") -> torch.Tensor:
    """Pad every image by ``padding`` pixels, then cut the original size out at (top, left).

    ``top`` and ``left`` are int64 tensors of N offsets in ``[0, 2 * padding]``.
    """
    n, c, h, w = x.shape
    padded = F.pad(x, (padding,) * 4, mode=mode).flatten(2)  # N x C x (H + 2p)(W + 2p)
    rows = top[:, None] + torch.arange(h, device=x.device)
    cols = left[:, None] + torch.arange(w, device=x.device)
    pixels = rows[:, :, None] * (w + 2 * padding) + cols[:, None, :]  # N x H x W indices into padded
    return padded.gather(2, pixels.view(n, 1, h * w).expand(n, c, h * w)).view(n, c, h, w)


def flip(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mirror left-right the images where the boolean ``mask`` (N) is true."""
    w = x.shape[-1]
    columns = torch.arange(w, device=x.device)
    columns = torch.where(mask[:, None], w - 1 - columns, columns)  # N x W: where each output column comes from
    return x.gather(3, columns[:, None, None, :].expand_as(x))


def cutout(x: torch.Tensor, size: int, top: torch.Tensor, left: torch.Tensor, fill: torch.Tensor) -> torch.Tensor:
    """Fill one ``size`` x ``size`` square per image, corner at (top, left), with ``fill`` (C values)."""
    h, w = x.shape[-2:]
    rows = torch.arange(h, device=x.device)
    cols = torch.arange(w, device=x.device)
    in_rows = (rows >= top[:, None]) & (rows < top[:, None] + size)
    in_cols = (cols >= left[:, None]) & (cols < left[:, None] + size)
    square = (in_rows[:, :, None] & in_cols[:, None, :])[:, None]
    return torch.where(square, fill.to(x.dtype)[None, :, None, None], x)


def colour_jitter(x: torch.Tensor, shift: torch.Tensor, scale: torch.Tensor, mean: torch.Tensor,
                  std: torch.Tensor) -> torch.Tensor:  # fmt: skip
    """Shift each image's brightness by ``shift`` and scale its contrast by ``scale`` (N each), both of
    the normalized image (x - mean) / std (C values each): that image becomes (it + shift) * scale,
    as hiverge's batch colour jitter makes it. Nothing is clipped."""
    mean, std = mean.to(x.dtype).view(1, -1, 1, 1), std.to(x.dtype).view(1, -1, 1, 1)
    return mean + scale.view(-1, 1, 1, 1) * (x - mean + shift.view(-1, 1, 1, 1) * std)


def _offsets(n: int, high: int, device: torch.device) -> torch.Tensor:
    return torch.randint(0, high + 1, (n,), device=device)


def random_crop(x: torch.Tensor, padding: int, mode: str = "reflect") -> torch.Tensor:
    """Random pad-and-crop, as torchvision's ``RandomCrop(size, padding, padding_mode=mode)``."""
    n = x.shape[0]
    return crop(x, padding, _offsets(n, 2 * padding, x.device), _offsets(n, 2 * padding, x.device), mode)


def random_flip(x: torch.Tensor) -> torch.Tensor:
    """Mirror each image left-right with probability 1/2."""
    return flip(x, torch.rand(x.shape[0], device=x.device) < 0.5)


def random_cutout(x: torch.Tensor, size: int, fill: torch.Tensor) -> torch.Tensor:
    """Cut out one square per image, wholly inside it (DavidNet's cutout)."""
    n, _, h, w = x.shape
    return cutout(x, size, _offsets(n, h - size, x.device), _offsets(n, w - size, x.device), fill)


def random_colour_jitter(x: torch.Tensor, brightness: float, contrast: float, mean: torch.Tensor,
                         std: torch.Tensor) -> torch.Tensor:  # fmt: skip
    """``colour_jitter`` with a shift uniform in [-brightness, brightness] and a scale uniform in
    [1 - contrast, 1 + contrast], drawn for each image."""
    n = x.shape[0]
    shift = (torch.rand(n, device=x.device) * 2 - 1) * brightness
    scale = (torch.rand(n, device=x.device) * 2 - 1) * contrast + 1
    return colour_jitter(x, shift, scale, mean, std)
