"""Damaged copies of a file a command reads: truncations and byte flips, seeded, each read or refused in one line."""

import random
from pathlib import Path

from lit_digits import LitDigitsError

CASES = range(8)


def damaged(data: bytes, case: int) -> bytes:
    """Damaged copy ``case`` of ``data`` (seeded): cases 0-3 cut it short (to nothing, one byte,
    a random length, all but its last byte); 4-7 replace one byte, near the start (headers), near
    the end (a pickle's labels, a CSV's last rows) or anywhere."""
    rng = random.Random(case)
    if case < 4:
        return data[: [0, 1, rng.randrange(len(data)), len(data) - 1][case]]
    regions = [range(min(64, len(data))), range(max(0, len(data) - 256), len(data)), range(len(data))]
    at = rng.choice(regions[min(case - 4, 2)])
    value = rng.choice([byte for byte in range(256) if byte != data[at]])
    return data[:at] + bytes([value]) + data[at + 1 :]


def damage(path: Path, case: int) -> None:
    path.write_bytes(damaged(path.read_bytes(), case))


def read_or_refused_in_one_line(read) -> None:
    try:
        read()
    except LitDigitsError as refused:
        assert "\n" not in str(refused)
