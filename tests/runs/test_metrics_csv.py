"""A run's metrics.csv as report reads it: rows a resumed run wrote again win, damaged lines are skipped, each
with a note."""

from lit_digits.runs.metrics_csv import read_metrics


def test_rows_a_resumed_run_wrote_again_supersede_the_killed_runs(tmp_path):
    metrics = tmp_path / "metrics.csv"
    metrics.write_text(
        "epoch,step,lr-SGD,train_loss,val_acc\n"
        "0,4,0.1,,\n0,4,,1.5,0.4\n"  # epoch 0, checkpointed
        "1,8,0.2,,\n1,8,,0.9,0.6\n"  # epoch 1, flushed by the killed run but not checkpointed
        "1,8,0.2,,\n1,8,,0.8,0.7\n"  # epoch 1 again, by the resumed run
        "2,12,0.1,,\n2,12,,0.5,0.9\n"
    )
    series, skipped = read_metrics(metrics)
    assert skipped == []
    assert series["val_acc"] == {0.0: 0.4, 1.0: 0.7, 2.0: 0.9}
    assert series["train_loss"] == {0.0: 1.5, 1.0: 0.8, 2.0: 0.5}
    assert series["lr-SGD"] == {4.0: 0.1, 8.0: 0.2, 12.0: 0.1}


def test_damaged_lines_of_metrics_csv_are_skipped_each_with_a_note(tmp_path):
    metrics = tmp_path / "metrics.csv"
    metrics.write_bytes(
        b"epoch,step,train_loss,val_acc\r\n0,4,1.5,0.4\r\n"
        b"1,8,\xff\xfe,0.6\r\n"  # bytes that are no text
        b"2,12,0.9\r\n3,16,0.8,0.7,9\r\n"  # a field missing, one too many
        b"4,20,abc,0.8\r\nx,24,0.5,0.9\r\n"  # not a number: a value, the epoch
        b"5,28,0.4,0.9\r\n6,3"  # cut mid-row
    )
    series, skipped = read_metrics(metrics)
    assert series == {"train_loss": {0.0: 1.5, 5.0: 0.4}, "val_acc": {0.0: 0.4, 4.0: 0.8, 5.0: 0.9}}
    assert skipped == ["line 3: not UTF-8 text", "line 4: 3 fields, the header has 4",
                       "line 5: 5 fields, the header has 4", "line 6: train_loss 'abc' is not a number",
                       "line 7: epoch 'x' or step '24' is not a number", "line 9: 2 fields, the header has 4"]  # fmt: skip
