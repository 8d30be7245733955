"""The MNIST tutorials' training recipe, shared by their networks."""

from torch import optim

from lit_digits.models.classifier import ImageClassifier
from lit_digits.models.schedules import exponential_decay


class ExponentialDecayAdam(ImageClassifier):
    """Adam with the per-step learning rate ``min_lr + lr * exp(-step / decay_steps)``."""

    def __init__(self, in_channels: int, lr: float, min_lr: float, decay_steps: float, label_smoothing: float) -> None:
        super().__init__(in_channels=in_channels, label_smoothing=label_smoothing)
        self.lr, self.min_lr, self.decay_steps = lr, min_lr, decay_steps

    def make_optimizer(self) -> optim.Optimizer:
        return optim.Adam([p for p in self.parameters() if p.requires_grad], lr=self.lr)

    def learning_rate(self, step: int, steps_per_epoch: int, epochs: int) -> float:
        return exponential_decay(step, self.lr, self.min_lr, self.decay_steps)
