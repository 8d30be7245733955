"""The recipe module: a network, its optimization, its steps and metrics; the techniques it runs."""

import inspect
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import IO, Any

import torch
import torch.nn.functional as F
from lightning.pytorch import LightningModule
from lightning.pytorch.cli import OptimizerCallable
from lightning.pytorch.utilities.types import OptimizerLRSchedulerConfig
from torch import nn
from torch.optim.lr_scheduler import LambdaLR
from torchmetrics.classification import MulticlassAccuracy

from lit_digits.checkpoints import CheckedCheckpoint, load_checked
from lit_digits.data import ImageDataModule
from lit_digits.errors import LitDigitsError
from lit_digits.models.always_on import always_on
from lit_digits.models.compatibility import flag_techniques
from lit_digits.models.hyper_parameters import record_hyper_parameters
from lit_digits.models.random_state import restore_run_state, save_run_state
from lit_digits.models.schedule_span import schedule_span
from lit_digits.models.training_figures import TrainingFigures, is_logging_step, write_step_figures
from lit_digits.optim.groups import ParamGroup
from lit_digits.optim.optimization import ADAM, CONSTANT_LR, Optimization
from lit_digits.optim.summed_loss import SummedLoss
from lit_digits.schedules import LRSchedule
from lit_digits.spec import build
from lit_digits.technique import Technique, attached_trainer, check_one_of_each, evaluate_with, evaluation_net_of

Batch = tuple[torch.Tensor, torch.Tensor]


class ImageClassifier(LightningModule):
    """A recipe: a network, its optimization (``lit_digits.optim.optimization``), for images in [0, 1],
    and the techniques it runs (``lit_digits.technique``).

    Args:
        net: maps normalized images (N x C x H x W) to ``num_classes`` logits.
        optimizer, lr_schedule, bias_lr_factor, param_groups, summed_loss: the optimization
            (:class:`~lit_digits.optim.optimization.Optimization`).
        mean, std: per-channel input normalization, kept in the checkpoint.
        label_smoothing: of the cross-entropy loss.
        techniques: a weight average, test-time views, compile (``lit_digits.models``); every recipe
            also fits its patch whitening, keeps BatchNorm in float32 and stops on a non-finite loss.
        compile, compile_mode, ema_decay, ema_every_n_steps, tta_flip, tta_translate: 0.1.0's
            spelling of ``Compile``, ``WeightAverage`` and ``AveragedViews`` (``models/compatibility.py``).

    Logged: ``train_loss_step`` and the learning rates every ``log_every_n_steps`` steps;
    ``train_loss``, ``train_acc``, ``val_*`` and ``test_*`` per epoch (``TrainingFigures``).
    """

    def __init__(
        self,
        net: nn.Module,
        optimizer: OptimizerCallable = ADAM,
        lr_schedule: LRSchedule = CONSTANT_LR,
        mean: Sequence[float] = (0.0,),
        std: Sequence[float] = (1.0,),
        label_smoothing: float = 0.0,
        num_classes: int = 10,
        techniques: Sequence[Technique] = (),
        bias_lr_factor: float = 1.0,
        param_groups: Sequence[ParamGroup] = (),
        summed_loss: SummedLoss | None = None,
        compile: bool = False,
        compile_mode: str = "default",
        ema_decay: float = 0.0,
        ema_every_n_steps: int = 1,
        tta_flip: bool = False,
        tta_translate: bool = False,
    ) -> None:
        super().__init__()
        if not 0 <= label_smoothing <= 1:
            raise LitDigitsError(f"label_smoothing must be in [0, 1], got {label_smoothing}")
        if len(mean) != len(std) or not all(s > 0 for s in std):
            raise LitDigitsError(f"mean and std need one value per channel and std > 0, got {mean} and {std}")
        record_hyper_parameters(self, inspect.currentframe())
        self.net = build(net)
        self.optimization = Optimization.of(optimizer, lr_schedule, param_groups, bias_lr_factor, summed_loss,
                                            self._trainable_parameters())  # fmt: skip
        self.label_smoothing = label_smoothing
        flags = flag_techniques(compile, compile_mode, ema_decay, ema_every_n_steps, tta_flip, tta_translate)
        self.techniques = [*always_on(), *flags, *map(build, techniques)]
        check_one_of_each(self.techniques)
        self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32).view(1, -1, 1, 1))
        self.register_buffer("std", torch.tensor(std, dtype=torch.float32).view(1, -1, 1, 1))
        self._each("attach")
        self.val_acc = MulticlassAccuracy(num_classes, average="micro")
        self.test_acc = MulticlassAccuracy(num_classes, average="micro")
        self.figures = TrainingFigures()

    @classmethod
    def load_from_checkpoint(
        cls, checkpoint_path: Path | str | IO[bytes], map_location: Any = None, strict: bool | None = None,
        trusted_modules: Iterable[str] = (), **kwargs: Any,
    ) -> "ImageClassifier":  # fmt: skip
        """The model a checkpoint holds, built once every class it names passes ``lit_digits.checkpoints``'
        rules (``trusted_modules``: your own packages); ``kwargs`` override the saved arguments."""
        checked = CheckedCheckpoint.read(checkpoint_path, trusted_modules)
        load = super(ImageClassifier, checked.model_class(cls)).load_from_checkpoint
        return load_checked(load, checked, map_location=map_location, strict=strict, **kwargs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits for a batch of images in [0, 1]; in evaluation mode, as the techniques evaluate."""
        x = (x.to(self.mean.dtype) - self.mean) / self.std
        return self.net(x) if self.training else evaluate_with(self.techniques, self.evaluation_net, x)

    @property
    def evaluation_net(self) -> nn.Module:
        """The network that validates, tests and predicts: ``net``, or the techniques' choice (a weight average)."""
        return evaluation_net_of(self.techniques, self, self.net)

    def _each(self, hook: str, *args: Any) -> None:
        for technique in self.techniques:
            getattr(technique, hook)(self, *args)

    def setup(self, stage: str) -> None:
        datamodule = getattr(attached_trainer(self), "datamodule", None)
        if isinstance(datamodule, ImageDataModule):
            datamodule.check_channels(getattr(self.net, "in_channels", self.mean.shape[1]), type(self).__name__)
        self._each("setup", stage, datamodule)

    def configure_model(self) -> None:
        if (trainer := attached_trainer(self)) is not None:  # load_from_checkpoint calls it without one
            self._each("configure_model", trainer)

    def optimizer_and_scheduler(
        self, steps_per_epoch: int, epochs: int, examples_per_step: int | None = None
    ) -> tuple[torch.optim.Optimizer, LambdaLR]:
        """The optimizer over the trainable parameters and its per-step scheduler (``Optimization.build``)."""
        return self.optimization.build(self._trainable_parameters(), steps_per_epoch, epochs, examples_per_step)

    def _trainable_parameters(self) -> list[tuple[str, nn.Parameter]]:
        return [(name, p) for name, p in self.named_parameters() if p.requires_grad]

    def configure_optimizers(self) -> OptimizerLRSchedulerConfig:
        """The optimizer, with a scheduler stepped every optimizer step over the data module's steps."""
        optimizer, scheduler = self.optimizer_and_scheduler(*schedule_span(self.trainer, self.optimization.summed_loss))
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "step"}}

    def _on_stage_start(self) -> None:
        """After Lightning cast the model for a stage: the techniques', and the epoch figures in float32."""
        self._each("on_stage_start")
        self.figures.keep_float32()

    def on_fit_start(self) -> None:
        self._each("on_stage_start")
        self.figures.start(self.device)

    on_validation_start = on_test_start = on_predict_start = _on_stage_start

    def _loss(self, logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return F.cross_entropy(logits.float(), y, label_smoothing=self.label_smoothing)

    def training_step(self, batch: Batch, batch_idx: int) -> torch.Tensor:
        self._each("before_training_step")  # at the start of a step, their work joins its graph (XLA)
        x, y = batch
        logits = self(x)
        loss = self._loss(logits, y)
        self.figures.add(loss, logits, y)  # on the device, in the step's own graph
        return loss

    def on_train_epoch_end(self) -> None:
        self.figures.log_epoch(self.log)
        self.figures.restart()

    def on_train_start(self) -> None:
        self.figures.restart(metrics=True)
        self._each("on_train_start")

    def on_train_batch_end(self, outputs: dict[str, torch.Tensor], batch: Batch, batch_idx: int) -> None:
        if is_logging_step(self):
            write_step_figures(self, outputs["loss"])
        self._each("on_train_batch_end", batch_idx)

    def _evaluate(self, batch: Batch, stage: str, accuracy: MulticlassAccuracy) -> None:
        x, y = batch
        logits = self(x)
        accuracy.update(logits, y)
        self.log(f"{stage}_loss", self._loss(logits, y), prog_bar=True, sync_dist=True)
        self.log(f"{stage}_acc", accuracy, prog_bar=True)

    def validation_step(self, batch: Batch, batch_idx: int) -> None:
        self._evaluate(batch, "val", self.val_acc)

    def test_step(self, batch: Batch, batch_idx: int) -> None:
        self._evaluate(batch, "test", self.test_acc)

    def predict_step(self, batch: Batch, batch_idx: int) -> torch.Tensor:
        """Class probabilities (N x num_classes) for a batch of ``(images, any)``."""
        return self(batch[0]).float().softmax(dim=-1)

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        save_run_state(checkpoint, self)  # the class's name and the random state, for an exact resume

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        restore_run_state(checkpoint, self)
