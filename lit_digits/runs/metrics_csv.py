"""A run's ``metrics.csv`` (Lightning's CSVLogger file), read line by line: a damaged line is
skipped with a note, never fatal, so that a half-copied or bit-flipped file still shows the rest."""

import csv
from pathlib import Path

from lit_digits.errors import LitDigitsError

KEYS = ("epoch", "step")
"""The columns every row is keyed by."""

Series = dict[str, dict[float, float]]


def read_metrics(metrics_csv: Path) -> tuple[Series, list[str]]:
    """The file as ``{column: {epoch or step: value}}`` (blank cells left out), and a note for
    each line or value skipped as damaged: not UTF-8, a field count other than the header's,
    an epoch, step or value that is not a number.

    Columns whose name starts with ``lr-`` are keyed by step, the others by epoch. A later row
    supersedes an earlier one of the same key: a resumed run appends again the steps that its
    killed predecessor wrote after its last checkpoint.
    """
    lines = metrics_csv.read_bytes().splitlines()
    header = _fields(lines[0]) if lines else None
    if header is None or not set(KEYS) <= set(header):
        return {}, [f"line 1: no header with {' and '.join(KEYS)} columns, so no row can be placed"]
    series: Series = {}
    skipped = []
    for number, line in enumerate(lines[1:], start=2):
        fields = _fields(line)
        if fields is None:
            skipped.append(f"line {number}: not UTF-8 text")
        elif len(fields) != len(header):
            skipped.append(f"line {number}: {len(fields)} fields, the header has {len(header)}")
        else:
            row = dict(zip(header, fields))
            keys = {key: _number(row[key]) for key in KEYS}
            if None in keys.values():
                skipped.append(f"line {number}: epoch {row['epoch']!r} or step {row['step']!r} is not a number")
                continue
            for column, value in row.items():
                if not value or column in KEYS:
                    continue
                number_value = _number(value)
                if number_value is None:
                    skipped.append(f"line {number}: {column} {value!r} is not a number")
                else:
                    key = keys["step"] if column.startswith("lr-") else keys["epoch"]
                    series.setdefault(column, {})[key] = number_value
    return series, skipped


def header_for_appending(metrics_csv: Path) -> list[str]:
    """The columns a resumed run appends its rows under, once the whole file reads as sound.

    Raises:
        LitDigitsError: a line of it is damaged (``read_metrics``' notes): rows appended to it,
            or rewritten by Lightning under a widened header, would be mixed with the damage.
    """
    _, skipped = read_metrics(metrics_csv)
    if skipped:
        raise LitDigitsError(
            f"{metrics_csv} is damaged ({skipped[0]}{f', and {len(skipped) - 1} more' if len(skipped) > 1 else ''}), "
            "and resuming would append to it: move it aside (report still draws what is sound in it) "
            "or repair it, then resume"
        )
    return _fields(metrics_csv.read_bytes().splitlines()[0]) or []


def _fields(line: bytes) -> list[str] | None:
    """The line's CSV fields, or None if it is not UTF-8 text."""
    try:
        return next(csv.reader([line.decode()]), [])
    except (UnicodeDecodeError, csv.Error):
        return None


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None
