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
from lit_digits.models.compatibility import flag_techniques
from lit_digits.models.hyper_parameters import record_hyper_parameters
from lit_digits.models.non_finite import NonFiniteGuard
from lit_digits.models.precision import Float32BatchNorm
from lit_digits.models.random_state import restore_random_state, save_random_state
from lit_digits.models.schedule_span import schedule_span
from lit_digits.models.training_figures import TrainingFigures, write_step_figures
from lit_digits.models.whitening_fit import FitWhitening
from lit_digits.optim.groups import ParamGroup, as_param_group, check_groups, make_optimizer
from lit_digits.optim.summed_loss import SummedLoss, as_summed_loss
from lit_digits.schedules import Constant, LRSchedule
from lit_digits.spec import build, factory, spec
from lit_digits.technique import Technique, check_one_of_each, evaluate_with

Batch = tuple[torch.Tensor, torch.Tensor]
ADAM = spec(torch.optim.Adam)
CONSTANT_LR = spec(Constant)


class ImageClassifier(LightningModule):
    """A recipe: a network, its optimizer and learning-rate schedule, for images in [0, 1], and the
    techniques it runs (``lit_digits.technique``).

    Args:
        net: maps normalized images (N x C x H x W) to ``num_classes`` logits.
        optimizer: called with the trainable parameters; ``lr_schedule`` sets its rate every step.
        lr_schedule: the learning rate of every optimizer step (``lit_digits.schedules``).
        mean, std: per-channel input normalization, buffers in the checkpoint: a checkpoint alone
            classifies raw images.
        label_smoothing: of the cross-entropy loss.
        techniques: a weight average, test-time views, compile (``lit_digits.models``). Every recipe
            also fits its patch whitening, keeps BatchNorm in float32 and stops on a non-finite loss.
        bias_lr_factor: the parameters named ``*bias`` train at this times the rate and 1/this of the
            weight decay (Page's bag of tricks).
        param_groups: parameters, by name, with an optimizer, a schedule or a weight decay of their
            own (:class:`~lit_digits.optim.ParamGroup`); ``optimizer`` trains the rest.
        summed_loss: ``optimizer``'s rates and weight decay in the terms of a reference that sums its
            loss over the batch (:class:`~lit_digits.optim.summed_loss.SummedLoss`).
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
        if not 0 <= label_smoothing <= 1 or bias_lr_factor <= 0:
            raise LitDigitsError(f"label_smoothing must be in [0, 1] and bias_lr_factor > 0, got {label_smoothing} "
                                 f"and {bias_lr_factor}")  # fmt: skip
        if len(mean) != len(std) or not all(s > 0 for s in std):
            raise LitDigitsError(f"mean and std need one value per channel and std > 0, got {mean} and {std}")
        record_hyper_parameters(self, inspect.currentframe())
        self.net = build(net)
        self.make_optimizer, self.lr_schedule = factory(optimizer), build(lr_schedule)
        self.param_groups = [as_param_group(group) for group in param_groups]
        check_groups(self._trainable_parameters(), self.param_groups)
        self.bias_lr_factor, self.summed_loss = bias_lr_factor, as_summed_loss(summed_loss)
        self.label_smoothing = label_smoothing
        flags = flag_techniques(compile, compile_mode, ema_decay, ema_every_n_steps, tta_flip, tta_translate)
        self.techniques = [FitWhitening(), Float32BatchNorm(), NonFiniteGuard(), *flags, *map(build, techniques)]
        check_one_of_each(self.techniques)
        self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32).view(1, -1, 1, 1))
        self.register_buffer("std", torch.tensor(std, dtype=torch.float32).view(1, -1, 1, 1))
        for technique in self.techniques:
            technique.attach(self)
        self.val_acc = MulticlassAccuracy(num_classes, average="micro")
        self.test_acc = MulticlassAccuracy(num_classes, average="micro")
        self.figures = TrainingFigures()

    @classmethod
    def load_from_checkpoint(
        cls, checkpoint_path: Path | str | IO[bytes], map_location: Any = None, strict: bool | None = None,
        trusted_modules: Iterable[str] = (), **kwargs: Any,
    ) -> "ImageClassifier":  # fmt: skip
        """The model a checkpoint holds, of the class it names (a subclass of this one), built only
        once every class it names passes ``lit_digits.checkpoints``' rules: lit_digits', torch's and
        torchvision's, and those of ``trusted_modules`` (your own package's); any other raises
        ``LitDigitsError``. ``kwargs`` override the saved arguments, as in Lightning's."""
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
        net = self.net
        for technique in self.techniques:
            net = technique.evaluation_net(self, net)
        return net

    def _each(self, hook: str, *args: Any) -> None:
        for technique in self.techniques:
            getattr(technique, hook)(self, *args)

    def setup(self, stage: str) -> None:
        datamodule = getattr(self._attached_trainer(), "datamodule", None)
        if isinstance(datamodule, ImageDataModule):
            datamodule.check_channels(getattr(self.net, "in_channels", self.mean.shape[1]), type(self).__name__)
        self._each("setup", stage, datamodule)

    def _attached_trainer(self) -> Any:
        """The Trainer running this module, or None (``load_from_checkpoint``, a module used alone)."""
        try:
            return self.trainer
        except RuntimeError:  # Lightning's answer for a module no Trainer runs
            return None

    def configure_model(self) -> None:
        if (trainer := self._attached_trainer()) is not None:  # load_from_checkpoint calls it without one
            self._each("configure_model", trainer)

    def learning_rate(self, step: int, steps_per_epoch: int, epochs: int) -> float:
        """The rate of ``lr_schedule`` (the parameters no group takes) at optimizer step ``step``."""
        return self.lr_schedule(step, steps_per_epoch, epochs)

    def optimizer_and_scheduler(
        self, steps_per_epoch: int, epochs: int, examples_per_step: int | None = None
    ) -> tuple[torch.optim.Optimizer, LambdaLR]:
        """The optimizer over the trainable parameters, and a per-step scheduler giving each parameter
        group its schedule's rate; ``examples_per_step`` for ``summed_loss`` (``None``: its batch)."""
        return make_optimizer(self._trainable_parameters(), self.param_groups, self.make_optimizer, self.lr_schedule,
                              steps_per_epoch, epochs, self.bias_lr_factor, self.summed_loss,
                              examples_per_step)  # fmt: skip

    def _trainable_parameters(self) -> list[tuple[str, nn.Parameter]]:
        return [(name, p) for name, p in self.named_parameters() if p.requires_grad]

    def configure_optimizers(self) -> OptimizerLRSchedulerConfig:
        """The optimizer, with a scheduler stepped every optimizer step over the data module's steps."""
        optimizer, scheduler = self.optimizer_and_scheduler(*schedule_span(self.trainer, self.summed_loss))
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

    def logging_step(self) -> bool:
        """Whether the step just taken is one whose figures are written (``log_every_n_steps``)."""
        every = self.trainer.log_every_n_steps
        return every > 0 and self.global_step % every == 0

    def on_train_batch_end(self, outputs: dict[str, torch.Tensor], batch: Batch, batch_idx: int) -> None:
        if self.logging_step():
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
        """Record the model class and the random state, so a resumed run continues exactly."""
        checkpoint["lit_digits_model"] = type(self).__name__
        save_random_state(checkpoint)

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        saved = checkpoint.get("lit_digits_model")
        if saved is not None and saved != type(self).__name__:
            raise LitDigitsError(f"the checkpoint holds a {saved}, not a {type(self).__name__}; "
                                 "use the config (or --model) it was trained with")  # fmt: skip
        restore_random_state(checkpoint)
