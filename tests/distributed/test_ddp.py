"""Two CPU processes with Lightning's DDP: each rank gets its own half, metrics are global, and
rank 0 alone holds the run folder."""

import csv
import json

import pytest
from helpers.cli import PROBES, fit, whole_epochs
from helpers.tiny_data import INDEXED_TEST as TEST
from helpers.tiny_data import INDEXED_TRAIN as TRAIN
from helpers.tiny_data import indexed_mnist

pytestmark = pytest.mark.slow  # every test here starts another process


def test_ddp_ranks_see_disjoint_halves_log_global_accuracy_and_write_under_rank_0s_hold(tmp_path):
    data_dir = indexed_mnist(tmp_path / "data")
    run = fit(
        "mnist", data_dir,
        "--trainer.accelerator", "cpu", "--trainer.strategy", "ddp", "--trainer.devices", "2",
        *whole_epochs(1), "--data.batch_size", "8",
        "--trainer.callbacks+=ddp_probe.RecordSamples", "--trainer.callbacks.out_dir", str(tmp_path),
        cwd=tmp_path, env={"PYTHONPATH": PROBES},
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    ranks = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in (0, 1)]
    first, second = (set(rank["indices"]) for rank in ranks)
    assert len(ranks[0]["indices"]) == len(ranks[1]["indices"]) == TRAIN // 2
    assert not first & second and first | second == set(range(TRAIN))

    rows = list(csv.DictReader((tmp_path / "runs" / "mnist" / "version_0" / "metrics.csv").open()))
    logged = float(next(row["val_acc"] for row in rows if row["val_acc"]))
    assert ranks[0]["seen"] + ranks[1]["seen"] == TEST
    assert logged == pytest.approx((ranks[0]["correct"] + ranks[1]["correct"]) / TEST)

    # The epoch's training figures too: each rank sums its own steps, and the log holds both ranks'.
    for rank in ranks:
        assert rank["training"]["loss_sum"] == pytest.approx(sum(rank["step_losses"]))
    row = next(row for row in rows if row["train_acc"])
    both = {key: ranks[0]["training"][key] + ranks[1]["training"][key] for key in ranks[0]["training"]}
    assert both["images"] == TRAIN
    assert float(row["train_acc"]) == pytest.approx(both["correct"] / both["images"])
    assert float(row["train_loss"]) == pytest.approx(both["loss_sum"] / both["batches"])

    # Rank 0 holds the run folder for the whole run: a hold tried by any rank meanwhile is refused, naming it.
    for rank in ranks:
        assert f"being written by another fit (process {ranks[0]['pid']} on " in rank["second_hold"]
