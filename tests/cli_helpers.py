"""Running ``python -m lit_digits`` as a user would, in a temp working directory."""

import json
import os
import subprocess
import sys
from pathlib import Path

CONFIGS = Path(__file__).resolve().parents[1] / "configs"
SMALL_DAVIDNET = ["--model.net.init_args.width", "8", "--model.lr_schedule.init_args.peak_epoch", "0.5"]
"""DavidNet at width 8 with a half-epoch warm-up, so that runs of a few epochs have a valid schedule."""
SMALL_FAST = ["--model.net.init_args.width", "8"]
"""configs/cifar_fast.yaml's DavidNet at width 8 (ghost BatchNorm needs batches of a multiple of 16)."""
CALM_AIR_GROUPS = json.dumps([
    {"params": ["net.group*.conv*.weight"], "optimizer": {"class_path": "lit_digits.optim.Muon", "init_args": {
        "momentum": 0.6, "ns_steps": 3, "normalize_weights": True}}, "lr_schedule": {
        "class_path": "lit_digits.schedules.LinearDecay", "init_args": {"lr": 0.24}}},
    {"params": ["net.head.weight"], "lr_schedule": {"class_path": "lit_digits.schedules.LinearDecay",
                                                     "init_args": {"lr": 13.4}}, "weight_decay": 3e-6},
    {"params": ["net.whiten.bias"], "lr_schedule": {"class_path": "lit_digits.schedules.LinearDecay",
                                                     "init_args": {"lr": 1.06, "end_epoch": 3}}},
])  # fmt: skip
SMALL_AIR = ["--model.net.init_args.widths", "[8, 16, 256]", "--data.batch_size", "20",
             "--model.lr_schedule.init_args.lr", "1.06", "--model.param_groups", CALM_AIR_GROUPS]  # fmt: skip
"""configs/cifar_air.yaml's network at widths 8/16/256 (its last width scales its logits), 5 steps an epoch
on the tiny CIFAR-10, with its groups' SGD rates / 100: at the recipe's, batches of 16-20 noise images
can diverge, depending on the order of float sums."""
QUICK = ["--trainer.max_epochs", "1", "--trainer.limit_train_batches", "2", "--trainer.enable_progress_bar", "false"]


def child_env(env: dict[str, str] | None = None) -> dict[str, str]:
    """This process's environment with ``env`` added; a PYTHONPATH in ``env`` goes before the one set
    here, so that the child imports the same lit_digits as the tests."""
    extra = dict(env or {})
    if "PYTHONPATH" in extra and os.environ.get("PYTHONPATH"):
        extra["PYTHONPATH"] = os.pathsep.join([extra["PYTHONPATH"], os.environ["PYTHONPATH"]])
    return {**os.environ, **extra}


def run_cli(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run the CLI with ``args``; returns the finished process (stdout and stderr as text)."""
    return subprocess.run(
        [sys.executable, "-m", "lit_digits", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=child_env(env),
        timeout=600,
        check=False,
    )


def fit(config: str, data_dir: Path, *extra: str, cwd: Path, env: dict[str, str] | None = None):
    """A short ``fit`` of ``configs/<config>.yaml`` on the tiny data in ``data_dir``."""
    recipe = ["--config", str(CONFIGS / f"{config}.yaml"), "--data.data_dir", str(data_dir)]
    return run_cli("fit", *recipe, "--data.batch_size", "16", *QUICK, *extra, cwd=cwd, env=env)
