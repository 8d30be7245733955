"""The recipe module: a network, its optimization, its steps and metrics."""

import copy
import dataclasses
import logging
import math
import warnings
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

import torch
import torch.nn.functional as F
from lightning.pytorch import LightningModule
from lightning.pytorch.cli import OptimizerCallable
from lightning.pytorch.utilities.types import OptimizerLRSchedulerConfig
from torch import nn
from torch.optim.lr_scheduler import LambdaLR
from torchmetrics import MeanMetric
from torchmetrics.classification import MulticlassAccuracy

from lit_digits.checkpoints import CheckedCheckpoint, load_checked
from lit_digits.data import ImageDataModule
from lit_digits.errors import LitDigitsError
from lit_digits.models.averaging import blend_every
from lit_digits.models.compatibility import LATER_ARGUMENTS
from lit_digits.models.compiling import COMPILE_MODES, compile_networks
from lit_digits.models.precision import batch_norm_to_float32
from lit_digits.models.random_state import restore_random_state, save_random_state
from lit_digits.models.test_time import averaged_views
from lit_digits.models.whitening_fit import fit_whitening
from lit_digits.optim.groups import ParamGroup, as_param_group, check_groups, learning_rates, make_optimizer
from lit_digits.optim.summed_loss import SummedLoss, as_summed_loss
from lit_digits.schedules import Constant, LRSchedule
from lit_digits.spec import build, factory, spec

Batch = tuple[torch.Tensor, torch.Tensor]
log = logging.getLogger(__name__)
ADAM = spec(torch.optim.Adam)
CONSTANT_LR = spec(Constant)


class ImageClassifier(LightningModule):
    """A recipe: a network, an optimizer and a learning-rate schedule, for images in [0, 1].

    Args:
        net: maps normalized images (N x C x H x W) to ``num_classes`` logits.
        optimizer: called with the trainable parameters (``requires_grad``); its own
            learning rate is replaced by ``lr_schedule``'s before every step.
        lr_schedule: the learning rate of every optimizer step (``lit_digits.schedules``).
        mean, std: per-channel input normalization, buffers saved in the checkpoint, so a
            checkpoint alone classifies raw images.
        label_smoothing: of the cross-entropy loss.
        compile: compile the network with ``torch.compile`` (``nn.Module.compile``, in place,
            so checkpoints keep their keys and load into compiled and uncompiled models
            alike) when training starts; ignored on XLA, which compiles the whole step anyway.
        compile_mode: ``torch.compile``'s mode: ``default``, ``reduce-overhead`` (CUDA graphs)
            or ``max-autotune``.
        ema_decay: keep an exponential moving average of the network's weights and BatchNorm
            statistics, with this decay per step, and validate, test and predict with it
            (and save it in checkpoints); 0 turns it off. Page's bag of tricks: 0.99.
        ema_every_n_steps: update the average every this many steps, by
            ``ema_decay ** ema_every_n_steps`` (Page's: 5).
        tta_flip: in validation, test and predict, average the logits of each image and its
            mirror image (flip test-time augmentation, as Page's reference does).
        tta_translate: in validation, test and predict, also average in the views shifted by one
            pixel up-left and down-right (reflect-padded), airbench's weights: the unshifted
            view(s) 1/2, each shifted one 1/4. With ``tta_flip``, airbench's six views.
        bias_lr_factor: train the bias parameters (in ResNet-9, BatchNorm's shifts) with this
            times the learning rate and 1/this of the weight decay (Page's bag of tricks: 64,
            with BatchNorm's scale fixed at 1).
        param_groups: parameters, chosen by name, with an optimizer, a learning-rate schedule or
            a weight decay of their own (:class:`~lit_digits.optim.ParamGroup`); the parameters
            no group takes are trained by ``optimizer`` with ``lr_schedule``.
        summed_loss: ``optimizer``'s rates and weight decay are a reference's that sums its loss
            over the batch, converted for the examples of each step
            (:class:`~lit_digits.optim.summed_loss.SummedLoss`: airbench's terms).

    Each of ``net``, ``optimizer`` and ``lr_schedule`` may also be a class-path spec
    (``{"class_path": ..., "init_args": {...}}``), as the recipes' defaults are.

    Logged: ``train_loss_step`` and the learning rates (every ``log_every_n_steps`` steps,
    named as Lightning's ``LearningRateMonitor`` names them: ``lr-Adam``, or ``lr-SGD/pg1``,
    ``lr-SGD/pg2`` for several parameter groups), ``train_loss``,
    ``train_acc``, ``val_loss``, ``val_acc``, ``test_loss``, ``test_acc`` (per epoch). The
    training figures accumulate on the device, in the step's own graph, as two running sums
    (the loss, the correct predictions), and reach ``self.log`` only at the epoch's end, so
    nothing in a step waits for the host and a step pays for no logging bookkeeping. (Two
    torchmetrics updates in every step cost it more host time than anything else the
    configs add; docs/speed.md has the measurements.)
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
        compile: bool = False,
        compile_mode: str = "default",
        ema_decay: float = 0.0,
        ema_every_n_steps: int = 1,
        tta_flip: bool = False,
        tta_translate: bool = False,
        bias_lr_factor: float = 1.0,
        param_groups: Sequence[ParamGroup] = (),
        summed_loss: SummedLoss | None = None,
    ) -> None:
        super().__init__()
        if compile_mode not in COMPILE_MODES:
            raise LitDigitsError(f"compile_mode must be one of {', '.join(COMPILE_MODES)}, got {compile_mode!r}")
        if not 0 <= label_smoothing <= 1:
            raise LitDigitsError(f"label_smoothing must be in [0, 1], got {label_smoothing}")
        if len(mean) != len(std) or not all(s > 0 for s in std):
            raise LitDigitsError(f"mean and std need one value per channel and std > 0, got {mean} and {std}")
        if not 0 <= ema_decay < 1:
            raise LitDigitsError(f"ema_decay must be in [0, 1) (0 turns the average off), got {ema_decay}")
        if ema_every_n_steps < 1:
            raise LitDigitsError(f"ema_every_n_steps must be at least 1, got {ema_every_n_steps}")
        if bias_lr_factor <= 0:
            raise LitDigitsError(f"bias_lr_factor must be positive, got {bias_lr_factor}")
        with warnings.catch_warnings():  # a net passed from Python is dropped from the hparams just below
            warnings.filterwarnings("ignore", message="Attribute 'net' is an instance of `nn.Module`")
            self.save_hyperparameters()
        # Objects passed from Python cannot be stored as data (a checkpoint must load with
        # weights_only): the checkpoint keeps the rest, and load_from_checkpoint takes them again.
        # The command line and the recipes' defaults pass class-path specs, which are kept.
        self.remove_ignored_hparams(
            [k for k in ("net", "optimizer", "lr_schedule") if not isinstance(self.hparams[k], Mapping)]
            + (["param_groups"] if not all(isinstance(g, Mapping) for g in self.hparams["param_groups"]) else [])
            + [name for name, default in LATER_ARGUMENTS.items() if self.hparams[name] == default]
        )
        if isinstance(summed_loss, SummedLoss):
            self.hparams["summed_loss"] = dataclasses.asdict(summed_loss)
        self.net = build(net)
        self.make_optimizer = factory(optimizer)
        self.lr_schedule: LRSchedule = build(lr_schedule)
        self.param_groups = [as_param_group(group) for group in param_groups]
        self.summed_loss = as_summed_loss(summed_loss)
        check_groups(self._trainable_parameters(), self.param_groups)
        self.ema_net = copy.deepcopy(self.net).requires_grad_(False) if ema_decay else None
        if self.ema_net is not None:  # counted on the device, so that every step runs the same graph
            self.register_buffer("ema_steps", torch.zeros((), dtype=torch.int64))
        self.ema_decay, self.ema_every_n_steps = ema_decay, ema_every_n_steps
        self.tta_flip, self.tta_translate = tta_flip, tta_translate
        self.bias_lr_factor = bias_lr_factor
        self.label_smoothing = label_smoothing
        self.compile_net, self.compile_mode, self.net_compiled = compile, compile_mode, False
        self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32).view(1, -1, 1, 1))
        self.register_buffer("std", torch.tensor(std, dtype=torch.float32).view(1, -1, 1, 1))
        self.val_acc = MulticlassAccuracy(num_classes, average="micro")
        self.test_acc = MulticlassAccuracy(num_classes, average="micro")
        # The epoch's training figures: sums on the device, counts on the host (batch sizes
        # are known there). A non-finite loss makes the loss sum non-finite too, which is
        # what the non-finite guard reads (on_train_batch_end). Not buffers: DDP would
        # overwrite every rank's with rank 0's before each step. Made on the device in
        # on_fit_start, zeroed when training starts and after each epoch (_restart_sums).
        self.train_loss_sum = torch.zeros(())
        self.train_correct = torch.zeros((), dtype=torch.int64)
        # Batches and images: in a dict, as int attributes would cost each step nn.Module.__setattr__.
        self.train_counts: Counter[str] = Counter()
        self.train_loss, self.train_acc = MeanMetric(), MeanMetric()  # the epoch's figures, from those
        self.checked_steps = 0

    @classmethod
    def load_from_checkpoint(
        cls,
        checkpoint_path: Path | str | IO[bytes],
        map_location: Any = None,
        strict: bool | None = None,
        trusted_modules: Iterable[str] = (),
        **kwargs: Any,
    ) -> "ImageClassifier":
        """The model a checkpoint holds, of the class it names (a subclass of this one), built only
        once every class it names passes ``lit_digits.checkpoints``' rules: lit_digits', torch's and
        torchvision's, and those of ``trusted_modules`` (your own package's); any other raises
        ``LitDigitsError``. ``kwargs`` override the saved arguments, as in Lightning's."""
        checked = CheckedCheckpoint.read(checkpoint_path, trusted_modules)
        model_class = checked.model_class(cls)
        load = super(ImageClassifier, model_class).load_from_checkpoint
        return load_checked(load, checked, map_location=map_location, strict=strict, **kwargs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits for a batch of images in [0, 1]; in evaluation mode, those of the weight
        average (``ema_decay``), averaged over the test-time views (``tta_flip``, ``tta_translate``)."""
        x = (x.to(self.mean.dtype) - self.mean) / self.std
        if self.training:
            return self.net(x)
        return averaged_views(self.evaluation_net, x, self.tta_flip, self.tta_translate)

    @property
    def evaluation_net(self) -> nn.Module:
        """The network that validates, tests and predicts: the weight average, where kept, else ``net``."""
        return self.ema_net if self.ema_net is not None else self.net

    def setup(self, stage: str) -> None:
        trainer = self._attached_trainer()
        datamodule = trainer.datamodule if trainer is not None else None
        shape = datamodule.image_shape if isinstance(datamodule, ImageDataModule) else None
        in_channels = getattr(self.net, "in_channels", self.mean.shape[1])
        if shape is not None and shape[0] != in_channels:
            raise LitDigitsError(
                f"{type(self).__name__} takes {in_channels}-channel images but {type(datamodule).__name__} "
                f"gives {shape[0]}-channel {shape[1]}x{shape[2]} ones; "
                "pick a model (or a checkpoint) made for this data set"
            )
        if stage == "fit":
            fit_whitening(self, datamodule, self.mean, self.std)  # the average's copy too

    def _attached_trainer(self) -> Any:
        """The Trainer running this module, or None (``load_from_checkpoint``, a module used alone)."""
        try:
            return self.trainer
        except RuntimeError:  # Lightning's answer for a module no Trainer runs
            return None

    def configure_model(self) -> None:
        """Compile the network once, where ``compile`` asks for it and a Trainer runs it on a
        device other than XLA (``load_from_checkpoint`` calls this hook without a Trainer)."""
        trainer = self._attached_trainer()
        if not self.compile_net or self.net_compiled or trainer is None:
            return
        if trainer.strategy.root_device.type == "xla":
            log.info("model.compile is ignored on XLA: torch-xla already compiles each step into one graph")
            return
        compile_networks((self.net, self.ema_net), self.compile_mode)
        self.net_compiled = True

    def learning_rate(self, step: int, steps_per_epoch: int, epochs: int) -> float:
        """The rate of ``lr_schedule`` (the parameters no group takes) at optimizer step ``step``
        of a run of ``epochs`` epochs."""
        return self.lr_schedule(step, steps_per_epoch, epochs)

    def optimizer_and_scheduler(
        self, steps_per_epoch: int, epochs: int, examples_per_step: int | None = None
    ) -> tuple[torch.optim.Optimizer, LambdaLR]:
        """The recipe's optimizer over the trainable parameters, and a per-step scheduler that
        gives each parameter group its schedule's rate (also what the benchmarks' hand-written
        loops use); ``examples_per_step`` for ``summed_loss`` (``None``: the reference's batch)."""
        return make_optimizer(self._trainable_parameters(), self.param_groups, self.make_optimizer, self.lr_schedule,
                              steps_per_epoch, epochs, self.bias_lr_factor, self.summed_loss,
                              examples_per_step)  # fmt: skip

    def _trainable_parameters(self) -> list[tuple[str, nn.Parameter]]:
        return [(name, p) for name, p in self.named_parameters() if p.requires_grad]

    def configure_optimizers(self) -> OptimizerLRSchedulerConfig:
        epochs = self.trainer.max_epochs
        if not epochs or epochs < 0:
            raise LitDigitsError("the learning-rate schedule needs --trainer.max_epochs (a number of epochs) to be set")
        datamodule = self.trainer.datamodule
        if not isinstance(datamodule, ImageDataModule):
            raise LitDigitsError(
                "the learning-rate schedule counts its steps from a lit_digits data module "
                "(lit_digits.MNISTDataModule, CIFAR10DataModule or a subclass of ImageDataModule); fit with one"
            )
        steps_per_epoch, examples = datamodule.steps_per_epoch(self.trainer), datamodule.examples_per_step(self.trainer)
        if self.summed_loss is not None and examples != self.summed_loss.batch_size:
            log.info(f"model.summed_loss: the reference's rates hold per example, so each SGD step sums {examples} "
                     f"examples' gradients, not its {self.summed_loss.batch_size} (docs/airbench.md)")  # fmt: skip
        optimizer, scheduler = self.optimizer_and_scheduler(steps_per_epoch, epochs, examples)
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "step"}}

    def _keep_statistics_in_float32(self) -> None:
        """BatchNorm (``batch_norm_to_float32``) and the epoch's training figures in float32, after
        Lightning has cast the model for the precision of each stage."""
        batch_norm_to_float32(self)
        for metric in (self.train_loss, self.train_acc):
            metric.set_dtype(torch.float32)

    def on_fit_start(self) -> None:
        self._keep_statistics_in_float32()
        self.train_loss_sum = torch.zeros((), device=self.device)
        self.train_correct = torch.zeros((), dtype=torch.int64, device=self.device)

    def on_validation_start(self) -> None:
        self._keep_statistics_in_float32()

    def on_test_start(self) -> None:
        self._keep_statistics_in_float32()

    def on_predict_start(self) -> None:
        self._keep_statistics_in_float32()

    def _loss(self, logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return F.cross_entropy(logits.float(), y, label_smoothing=self.label_smoothing)

    def training_step(self, batch: Batch, batch_idx: int) -> torch.Tensor:
        if self.ema_net is not None:  # at the start of a step, it joins that step's graph (XLA)
            blend_every(self.ema_net, self.net, self.ema_steps, self.ema_decay, self.ema_every_n_steps)
        x, y = batch
        logits = self(x)
        loss = self._loss(logits, y)
        # Accumulated on the device in the step's own graph; read only where they are shown or
        # written: the epoch figures at the epoch's end, the step loss at logging steps.
        self.train_loss_sum.add_(loss.detach())  # in place: `+=` would also go through __setattr__
        self.train_correct.add_((logits.argmax(dim=-1) == y).sum())
        self.train_counts["batches"] += 1
        self.train_counts["images"] += y.shape[0]
        return loss

    def on_train_epoch_end(self) -> None:
        """Log the epoch's mean batch loss and its accuracy, through torchmetrics metrics,
        which average them over devices (and which Lightning logs without leaving work
        pending into the next step's XLA graph, as a logged tensor would)."""
        batches, images = self.train_counts["batches"], self.train_counts["images"]
        if batches:
            self.train_loss.update(self.train_loss_sum / batches, weight=batches)
            self.train_acc.update(self.train_correct / images, weight=images)
            self.log("train_loss", self.train_loss, prog_bar=True)
            self.log("train_acc", self.train_acc, prog_bar=True)
        self._restart_sums()

    def _restart_sums(self) -> None:
        """Zero the training sums in place, by arithmetic: on XLA, zeros written as a constant
        are not a buffer the next step may overwrite, as a step's own outputs are, so the
        first step of every epoch would compile a graph of its own (docs/xla.md). (The sums
        are finite here: the non-finite guard reads them at an epoch's last step.)"""
        self.train_loss_sum.mul_(0)
        self.train_correct.mul_(0)
        self.train_counts.clear()

    def on_train_start(self) -> None:
        """Start from the state every later epoch starts from (sums zeroed by ``_restart_sums``,
        the epoch metrics reset, as Lightning resets them after each epoch), so that on XLA
        the first epoch compiles the graphs the later ones use."""
        self.checked_steps = self.global_step
        self._restart_sums()
        self.train_loss.reset()
        self.train_acc.reset()

    def on_train_batch_end(self, outputs: dict[str, torch.Tensor], batch: Batch, batch_idx: int) -> None:
        """Every ``log_every_n_steps`` steps: write the step's loss and the learning rates of the
        next step; then, and at the end of each epoch (before validation and checkpoints),
        stop on a non-finite training loss.

        Both read values the step has already computed, so no step graph changes and no other
        step waits for the host. (``self.log`` inside the step would put its bookkeeping into
        every step, or, on logging steps only, compile extra XLA graphs; Lightning's
        ``LearningRateMonitor`` would add a callback's cost to every step.)
        """
        every = self.trainer.log_every_n_steps
        logging_step = every > 0 and self.global_step % every == 0
        if logging_step:
            metrics = {
                "train_loss_step": float(outputs["loss"]),
                **learning_rates(self.optimizers(use_pl_optimizer=False)),
                "epoch": self.current_epoch,
            }
            for logger in self.loggers:
                logger.log_metrics(metrics, self.global_step)
        if not (logging_step or batch_idx + 1 == self.trainer.num_training_batches):
            return
        if not math.isfinite(self.train_loss_sum.item()):  # a read of the sum, not a new graph to run (XLA)
            first = self.checked_steps + 1
            raise LitDigitsError(
                f"the training loss became inf or nan between steps {first} and {self.global_step} "
                f"(epoch {self.current_epoch}); the learning rate is likely too high (lower "
                "--model.lr_schedule's lr) or the precision too low (try --trainer.precision 32-true)"
            )
        self.checked_steps = self.global_step

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
        """Record the model class and the random state, so a resumed run continues exactly:
        same shuffling, augmentation draws and dropout as if it had never stopped."""
        checkpoint["lit_digits_model"] = type(self).__name__
        save_random_state(checkpoint)

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        saved = checkpoint.get("lit_digits_model")
        if saved is not None and saved != type(self).__name__:
            raise LitDigitsError(
                f"the checkpoint holds a {saved}, not a {type(self).__name__}; "
                "use the config (or --model) it was trained with"
            )
        restore_random_state(checkpoint)
