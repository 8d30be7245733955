"""The few lines at the end of a fit: where the run is, how well it did, what to run next."""

import shlex

from lightning.pytorch import Trainer

from lit_digits.callbacks.run_checkpoints import RunCheckpoints


def fit_summary(trainer: Trainer, run_dir: str, recipe_args: list[str], data_dir: str | None) -> str:
    """The run folder ``run_dir``, the best and the final ``val_acc``, and the ``test``, ``report`` and
    ``demo`` commands for this run: ``recipe_args`` name its recipe as the fit did (``--config`` files,
    ``--data.data_dir``); ``data_dir`` is where its data is, if not in the data module's default place.
    Reads nothing that other processes must take part in, so rank 0 can call it alone."""
    checkpoints = next((c for c in trainer.callbacks if isinstance(c, RunCheckpoints)), None)
    best = checkpoints.best_model_score if checkpoints is not None else None
    final = trainer.callback_metrics.get("val_acc")
    if best is None or final is None:
        accuracy = "val_acc: no validation ran"
    else:
        accuracy = f"val_acc: best {100 * float(best):.2f}%, final {100 * float(final):.2f}%"
    test = shlex.join(["lit_digits", "test", *recipe_args, "--ckpt_path", "best" if best is not None else "last"])
    data = ["--data_dir", data_dir] if data_dir else []
    report = shlex.join(["lit_digits", "report", run_dir, *data])
    demo = shlex.join(["lit_digits", "demo", run_dir, *data])
    return "\n".join([f"Run: {run_dir}", accuracy, "Next:", f"  {test}", f"  {report}", f"  {demo}"])
