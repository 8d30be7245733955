"""A whole split held in memory as uint8 tensors, served one index batch at a time."""

import torch
from torch.utils.data import Dataset


class InMemoryImages(Dataset):
    """Images (N x C x H x W uint8) and labels (N int64) indexed a batch at a time.

    ``__getitems__`` lets a ``DataLoader`` with an ordinary (or Lightning's distributed)
    sampler fetch a whole batch with one tensor index instead of N Python calls; pair it
    with ``collate_fn=keep_batch``.
    """

    def __init__(self, images: torch.Tensor, labels: torch.Tensor) -> None:
        if len(images) != len(labels):
            raise ValueError(f"{len(images)} images but {len(labels)} labels")
        self.images = images
        self.labels = labels

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        return self.images[index], self.labels[index]

    def __getitems__(self, indices: list[int]) -> tuple[torch.Tensor, torch.Tensor]:
        index = torch.as_tensor(indices)
        return self.images[index], self.labels[index]


def keep_batch(batch: tuple[torch.Tensor, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    """Collate function for ``InMemoryImages``: the batch is already stacked."""
    return batch
