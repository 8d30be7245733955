"""A whole split held in memory as uint8 tensors, served one index batch at a time."""

import torch
from torch.utils.data import Dataset


class InMemoryImages(Dataset):
    """Images (N x C x H x W uint8) and labels (N int64), and any further per-image tensors
    (``per_image``: the alternating flip's drawn side of each image), indexed a batch at a time.

    ``__getitems__`` lets a ``DataLoader`` with an ordinary (or Lightning's distributed)
    sampler fetch a whole batch with one tensor index instead of N Python calls; pair it
    with ``collate_fn=keep_batch``.
    """

    def __init__(self, images: torch.Tensor, labels: torch.Tensor, *per_image: torch.Tensor) -> None:
        if any(len(tensor) != len(labels) for tensor in (images, *per_image)):
            raise ValueError(f"{len(images)} images but {len(labels)} labels, or per-image values of another length")
        self.images = images
        self.labels = labels
        self.tensors = (images, labels, *per_image)

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, ...]:
        return tuple(tensor[index] for tensor in self.tensors)

    def __getitems__(self, indices: list[int]) -> tuple[torch.Tensor, ...]:
        index = torch.as_tensor(indices)
        return tuple(tensor[index] for tensor in self.tensors)


def keep_batch(batch: tuple[torch.Tensor, ...]) -> tuple[torch.Tensor, ...]:
    """Collate function for ``InMemoryImages``: the batch is already stacked."""
    return batch
