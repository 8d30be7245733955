"""The progress bar: redrawn at most every ``interval`` seconds, and always at an epoch's last step; where
stdout is not a terminal, one line per epoch instead."""

import re
import sys

import lightning as L
import torch
from helpers.cli import CONFIGS
from lightning.pytorch import Callback
from PIL import Image

from lit_digits import ImageClassifier, MNISTDataModule
from lit_digits.callbacks.epoch_lines import EpochLines
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


def fit_lines(in_process, mnist_dir, tmp_path, *extra: str) -> tuple[list[str], str]:
    """A fit whose stdout is not a terminal (pytest's capture): the lines of stdout starting ``Epoch``, and all
    that was shown."""
    result = in_process.fit("mnist", mnist_dir, "--trainer.enable_progress_bar", "true", *extra, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    return [line for line in result.stdout.splitlines() if line.startswith("Epoch")], result.stdout + result.stderr


def test_output_that_is_not_a_terminal_gets_one_line_per_epoch_and_no_bar(mnist_dir, tmp_path, in_process):
    lines, shown = fit_lines(in_process, mnist_dir, tmp_path, "--trainer.max_epochs", "3")
    assert len(lines) == 3
    figures = (
        r" - train_acc \d+\.\d\d% - train_loss [\d.e-]+ - val_acc \d+\.\d\d% - val_loss [\d.e-]+ - lr-Adam [\d.e-]+"
    )
    for epoch, line in enumerate(lines, 1):
        assert re.fullmatch(rf"Epoch {epoch}/3 - 2 steps - \d+\.\d s{figures}", line), line
    assert "%|" not in shown and "\r" not in shown


def test_an_epoch_without_validation_shows_no_validation_figures(mnist_dir, tmp_path, in_process):
    lines, _ = fit_lines(in_process, mnist_dir, tmp_path, "--trainer.max_epochs", "2",
                         "--trainer.check_val_every_n_epoch", "2")  # fmt: skip
    assert ["val_acc" in line for line in lines] == [False, True]


def test_no_lines_when_the_progress_bar_is_turned_off(mnist_dir, tmp_path, in_process):
    lines, _ = fit_lines(in_process, mnist_dir, tmp_path, "--trainer.enable_progress_bar", "false")
    assert lines == []


def test_a_terminal_keeps_the_bar(mnist_dir, tmp_path, in_process, monkeypatch):
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)  # pytest's capture, as a terminal
    result = in_process.fit("mnist", mnist_dir, "--trainer.enable_progress_bar", "true", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Epoch 0: 100%|" in result.stdout and "Epoch 1/" not in result.stdout


def test_predict_keeps_its_bar_on_a_terminal_while_its_results_go_to_a_file(fitted_run, tmp_path, in_process,
                                                                             monkeypatch):  # fmt: skip
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)  # stdout stays a file, as with predict > results.tsv
    Image.new("L", (28, 28)).save(tmp_path / "digit.png")
    result = in_process.run_cli("predict", "--config", str(CONFIGS / "mnist.yaml"), "--ckpt_path", "best",
                                "--data.predict_path", str(tmp_path / "digit.png"), cwd=fitted_run.parents[2])  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "Predicting DataLoader 0: 100%|" in result.stderr and result.stdout.count("\t") == 2


def test_the_epoch_lines_run_nothing_at_a_step():
    step_hooks = [name for name in dir(Callback) if "batch" in name]
    assert step_hooks and all(getattr(EpochLines, name) is getattr(Callback, name) for name in step_hooks)
