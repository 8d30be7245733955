"""The progress bar: redrawn at most every ``interval`` seconds, and always at an epoch's last step."""

import lightning as L
import torch

from lit_digits import ImageClassifier, MNISTDataModule
from lit_digits.callbacks.progress import TimedProgressBar
from lit_digits.nets import MLP


class CountDraws(TimedProgressBar):
    def __init__(self, interval: float) -> None:
        super().__init__(interval)
        self.drawn: list[tuple[int, int]] = []

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        before = self.train_progress_bar.n
        super().on_train_batch_end(trainer, pl_module, outputs, batch, batch_idx)
        if self.train_progress_bar.n != before:
            self.drawn.append((trainer.current_epoch, batch_idx + 1))


def fit_with(bar: CountDraws, mnist_dir) -> None:
    torch.manual_seed(0)
    trainer = L.Trainer(max_epochs=2, limit_val_batches=0, logger=False, enable_checkpointing=False,
                        callbacks=[bar])  # fmt: skip
    trainer.fit(ImageClassifier(net=MLP(hidden=[8])), MNISTDataModule(mnist_dir, batch_size=16))


def test_a_long_interval_still_draws_each_epochs_last_step(mnist_dir):
    bar = CountDraws(interval=3600)
    fit_with(bar, mnist_dir)
    assert bar.drawn == [(0, 1), (0, 6), (1, 6)]  # the first draw, then each epoch's end (6 batches)


def test_draws_when_interval_has_passed_on_the_bars_clock(mnist_dir):
    bar = CountDraws(interval=0.6)
    ticks = iter(range(1, 100))
    bar.clock = lambda: next(ticks) / 4  # a quarter of a second per step, from 0
    fit_with(bar, mnist_dir)
    assert bar.drawn == [(0, 1), (0, 4), (0, 6), (1, 3), (1, 6)]


def test_a_zero_interval_draws_every_step(mnist_dir):
    bar = CountDraws(interval=0)
    fit_with(bar, mnist_dir)
    assert bar.drawn == [(epoch, n) for epoch in (0, 1) for n in range(1, 7)]
