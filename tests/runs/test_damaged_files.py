"""Truncations and byte flips of every file of a run that a command reads: each damaged copy is read,
or refused in one line, never a traceback (the data sets' files: tests/data/test_damaged_data.py).

The files: a checkpoint (test and report here; fit, validate and predict load it the same way), a run's
metrics.csv (report draws it, fit --ckpt_path last appends to it) and a run's config.yaml, given
back with --config (report --config here: it builds what fit would, without training). A run's
hparams.yaml is written by fit and read by no command. Everything runs in this process.
"""

import shutil

import pytest
from helpers.cli import CONFIGS, assert_one_line_error
from helpers.damage import CASES, damage, damaged, read_or_refused_in_one_line

from lit_digits.report.runs import metrics_pictures
from lit_digits.runs.metrics_csv import header_for_appending


def one_line_if_refused(result) -> None:
    """``lit_digits`` ended well (0), or refused in one line (1), by its parser too (2)."""
    assert result.returncode in (0, 1, 2), result.stderr
    if result.returncode:
        assert_one_line_error(result, code=result.returncode)
    else:
        assert "Traceback" not in result.stderr, result.stderr  # nothing went wrong on the way either


@pytest.mark.parametrize("case", CASES)
def test_damaged_metrics_csv_is_drawn_as_far_as_sound_and_a_resume_refuses_it_in_one_line(case, fitted_run, tmp_path):
    metrics = tmp_path / "metrics.csv"
    metrics.write_bytes(damaged((fitted_run / "metrics.csv").read_bytes(), case))
    metrics_pictures(metrics, tmp_path / "report")  # report skips what is damaged: it never refuses
    read_or_refused_in_one_line(lambda: header_for_appending(metrics))


@pytest.mark.parametrize("case", CASES)
def test_damaged_config_yaml_of_a_run_is_read_or_refused_in_one_line(case, fitted_run, tmp_path, in_process):
    config = tmp_path / "config.yaml"
    config.write_bytes(damaged((fitted_run / "config.yaml").read_bytes(), case))
    one_line_if_refused(in_process.run_cli("report", "--config", str(config), "--out", str(tmp_path), cwd=tmp_path))


@pytest.mark.parametrize("case", CASES)
def test_damaged_checkpoint_is_read_or_refused_in_one_line(case, fitted_run, tmp_path, in_process):
    checkpoint = tmp_path / "last.ckpt"
    shutil.copy(fitted_run / "checkpoints" / "last.ckpt", checkpoint)
    damage(checkpoint, case)
    data = fitted_run.parents[2] / "data"
    tested = in_process.run_cli("test", "--config", str(CONFIGS / "mnist.yaml"), "--data.data_dir", str(data),
                                "--trainer.enable_progress_bar", "false", "--ckpt_path", str(checkpoint), cwd=tmp_path)  # fmt: skip
    one_line_if_refused(tested)
    one_line_if_refused(in_process.run_cli("report", str(checkpoint), "--out", str(tmp_path / "report"), cwd=tmp_path))
