"""The pictures of a run, as PNG files: curves, learning rate, mistakes, confusion matrix.

Uses matplotlib's object API with the Agg canvas, so it needs no display.
"""

from collections.abc import Sequence
from pathlib import Path

import torch
from matplotlib.figure import Figure


def _save(figure: Figure, out: Path) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(out, dpi=110, bbox_inches="tight")
    return out


def plot_curves(metrics: dict[str, dict[float, float]], out: Path) -> Path:
    """Loss and accuracy per epoch, training and validation."""
    figure = Figure(figsize=(10, 4))
    for axes, (kind, columns) in zip(
        figure.subplots(1, 2),
        [("loss", ["train_loss", "val_loss"]), ("accuracy", ["train_acc", "val_acc"])],
    ):
        for column in columns:
            if metrics.get(column):
                epochs = sorted(metrics[column])
                axes.plot([e + 1 for e in epochs], [metrics[column][e] for e in epochs], marker="o", label=column)
        axes.set(xlabel="epoch", title=kind)
        axes.grid(alpha=0.3)
        if axes.get_legend_handles_labels()[0]:  # a damaged metrics.csv may have lost every such column
            axes.legend()
    return _save(figure, out)


def plot_learning_rate(steps: Sequence[float], rates: Sequence[float] | dict[str, Sequence[float]], out: Path,
                       title: str) -> Path:  # fmt: skip
    """The learning rate over the optimizer steps: one curve, or one per named parameter group,
    each on its own axes (a recipe's rates can differ by orders of magnitude)."""
    curves = rates if isinstance(rates, dict) else {"": rates}
    figure = Figure(figsize=(7, 2.2 + 1.3 * len(curves)))
    for axes, (name, values) in zip(figure.subplots(len(curves), 1, squeeze=False)[:, 0], curves.items()):
        axes.plot(steps, values)
        axes.set(ylabel=name or "learning rate")
        axes.grid(alpha=0.3)
    axes.set(xlabel="optimizer step")
    figure.suptitle(title)
    return _save(figure, out)


def plot_mistakes(
    images: torch.Tensor, labels: torch.Tensor, probs: torch.Tensor, classes: Sequence[str], out: Path, count: int = 48
) -> Path:
    """A grid of test images titled true -> predicted; mistakes first, most confident first, in red."""
    confidence, predicted = probs.max(dim=-1)
    wrong = predicted != labels
    # Mistakes by falling confidence, then correct images by rising confidence.
    order = torch.argsort(torch.where(wrong, 2 + confidence, 1 - confidence), descending=True)[:count]
    columns = 8
    rows = max(1, -(-len(order) // columns))
    figure = Figure(figsize=(columns * 1.4, rows * 1.6))
    grid = figure.subplots(rows, columns, squeeze=False)
    for axes in grid.flat:
        axes.axis("off")
    for axes, index in zip(grid.flat, order.tolist()):
        image = images[index].permute(1, 2, 0).numpy()
        axes.imshow(image.squeeze(-1) if image.shape[-1] == 1 else image, cmap="gray")
        color = "red" if wrong[index] else "black"
        title = f"{classes[labels[index]]}->{classes[predicted[index]]}\n{confidence[index]:.2f}"
        axes.set_title(title, color=color, fontsize=8)
    figure.suptitle(f"{int(wrong.sum())} mistakes in {len(labels)} test images (true->predicted, probability)")
    return _save(figure, out)


def plot_confusion(confusion: torch.Tensor, classes: Sequence[str], out: Path) -> Path:
    """The confusion matrix (rows true, columns predicted) and the accuracy of each class."""
    figure = Figure(figsize=(12, 5))
    matrix_axes, accuracy_axes = figure.subplots(1, 2, width_ratios=[1.2, 1])
    ticks = range(len(classes))
    matrix_axes.imshow(confusion.numpy(), cmap="Blues")
    matrix_axes.set(xticks=ticks, yticks=ticks, xlabel="predicted", ylabel="true", title="confusion matrix")
    matrix_axes.set_xticklabels(classes, rotation=45, ha="right")
    matrix_axes.set_yticklabels(classes)
    threshold = confusion.max().item() / 2
    for (row, column), value in zip(torch.cartesian_prod(*(torch.arange(len(classes)),) * 2).tolist(),
                                    confusion.flatten().tolist()):  # fmt: skip
        color = "white" if value > threshold else "black"
        matrix_axes.text(column, row, str(value), ha="center", va="center", fontsize=7, color=color)
    per_class = confusion.diagonal() / confusion.sum(dim=1).clamp(min=1)
    accuracy_axes.barh(list(classes), (per_class * 100).tolist())
    accuracy_axes.invert_yaxis()
    accuracy_axes.set(
        xlabel="accuracy (%)", title="per-class accuracy", xlim=(max(0, float(per_class.min()) * 100 - 5), 100)
    )
    for row, value in enumerate(per_class.tolist()):
        accuracy_axes.text(value * 100, row, f" {value:.1%}", va="center", fontsize=8)
    return _save(figure, out)
