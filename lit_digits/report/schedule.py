"""The picture of a recipe's learning rates at every step, before training."""

from pathlib import Path

from lit_digits.models import ImageClassifier
from lit_digits.optim.groups import learning_rate_names
from lit_digits.report.pictures import plot_learning_rate


def planned_learning_rates(
    model: ImageClassifier, steps_per_epoch: int, epochs: float, examples_per_step: int, title: str, out: Path
) -> Path:
    """``out/lr_schedule.png``: the rate of each of ``model``'s parameter groups at every step of a
    run of ``epochs`` epochs of ``steps_per_epoch`` steps of ``examples_per_step`` examples, as its
    optimizer would be given them."""
    steps = range(round(steps_per_epoch * epochs))
    optimizer, scheduler = model.optimizer_and_scheduler(steps_per_epoch, epochs, examples_per_step)
    rates = {
        name: [base * rate(step) for step in steps]
        for name, base, rate in zip(learning_rate_names(optimizer), scheduler.base_lrs, scheduler.lr_lambdas)
    }
    return plot_learning_rate(list(steps), rates, out / "lr_schedule.png", title)
