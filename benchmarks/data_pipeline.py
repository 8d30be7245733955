"""The CIFAR-10 training data path alone: lit_digits against a per-sample tutorial pipeline.

    python benchmarks/data_pipeline.py --data_dir DIR [--epochs 2]

lit_digits: in-memory uint8 tensors, one index per batch, augmentation batched on the
device (here the CPU). Tutorial: torchvision's ``CIFAR10`` dataset (PIL images) with
``transforms.v2`` RandomCrop(reflect) / RandomHorizontalFlip / RandomErasing per sample,
batched by a ``DataLoader`` with worker processes. Both make float32 batches of 512 with
crop, flip and an 8x8 cutout, and each is timed over whole training epochs.
"""

import argparse
import os
import sys
import time

import torch
import torchvision
from environment import describe
from torchvision.transforms import v2

from lit_digits import CIFAR10DataModule
from lit_digits.data import DEFAULT_DATA_DIR

BATCH = 512


class CIFAR10AsIs(torchvision.datasets.CIFAR10):
    """torchvision's CIFAR10 without its download checksums (the shared copy is re-pickled)."""

    def _check_integrity(self) -> bool:
        return True

    def _load_meta(self) -> None:
        self.classes = list(CIFAR10DataModule.classes)
        self.class_to_idx = {name: index for index, name in enumerate(self.classes)}


def tutorial_loader(data_dir: str, workers: int) -> torch.utils.data.DataLoader:
    transform = v2.Compose([
        v2.RandomCrop(32, padding=4, padding_mode="reflect"),
        v2.RandomHorizontalFlip(),
        v2.ToImage(),
        v2.ToDtype(torch.float32, scale=True),
        v2.RandomErasing(p=1.0, scale=(64 / 1024, 64 / 1024), ratio=(1.0, 1.0)),
    ])  # fmt: skip
    dataset = CIFAR10AsIs(data_dir, train=True, transform=transform)
    return torch.utils.data.DataLoader(dataset, BATCH, shuffle=True, drop_last=True, num_workers=workers,
                                       persistent_workers=workers > 0)  # fmt: skip


def time_epochs(batches, epochs: int) -> tuple[float, int]:
    """Seconds and batch count over ``epochs`` passes of the iterable factory ``batches``."""
    count, start = 0, time.perf_counter()
    for _ in range(epochs):
        for x in batches():
            count += 1
    return time.perf_counter() - start, count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data_dir", default=DEFAULT_DATA_DIR, help="the data sets, in torchvision's layout")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--workers", type=int, default=os.cpu_count())
    args = parser.parse_args()
    print(f"$ {' '.join(sys.argv)}\n{describe()}")

    datamodule = CIFAR10DataModule(args.data_dir, batch_size=BATCH)
    datamodule.setup("fit")

    def ours():
        for images, labels in datamodule.train_dataloader():
            yield datamodule.augment(images.float() / 255), labels

    loader = tutorial_loader(args.data_dir, args.workers)
    time_epochs(lambda: loader, 1)  # start the workers and warm the caches
    rows = []
    for name, batches in [
        ("lit_digits (batched, in memory)", ours),
        (f"tutorial (per sample, {args.workers} workers)", lambda: loader),
    ]:
        seconds, count = time_epochs(batches, args.epochs)
        rows.append((name, count / seconds, seconds / count))
    print("| pipeline | batches/s | ms per batch of 512 |\n| --- | --- | --- |")
    for name, rate, per_batch in rows:
        print(f"| {name} | {rate:.1f} | {1000 * per_batch:.1f} |")
    print(f"\nlit_digits is {rows[0][1] / rows[1][1]:.1f}x faster; its data takes {1000 * rows[0][2]:.1f} ms a batch.")


if __name__ == "__main__":
    main()
