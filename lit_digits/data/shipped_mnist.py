"""MNIST's four IDX files, shipped inside lit_digits (``mnist_gz/``), so that MNIST needs no download.

MNIST is by Yann LeCun, Corinna Cortes and Christopher J.C. Burges, under CC BY-SA 3.0.

The files are the uncompressed IDX files recompressed with ``gzip -9n`` (no name or time in the
header, so the same input gives the same bytes). They are read in place, decompressed in memory,
never unpacked into ``data_dir``: nothing is written (a read-only ``data_dir`` or installation
works, two processes cannot race to unpack), and the 55 MB of IDX files are not kept a second time
on disk, for about a quarter of a second of decompression per run.

Each file is checked when it is read, against two sums recorded here:

- the SHA-256 of the ``.gz`` file: the installed bytes are the shipped ones;
- the MD5 of the decompressed IDX file: the sums that other MNIST readers check the original
  uncompressed files against, so the content is MNIST's, byte for byte.

torchvision's ``MNIST.resources`` MD5s are of the original ``.gz`` files as its mirrors serve them
(it checks them before unpacking). The files here are compressed by another gzip, without the
original header, so they are other bytes and those MD5s cannot be checked against them; what they
vouch for, the content, is checked by the second sum.
"""

import gzip
import hashlib
from pathlib import Path
from typing import NamedTuple

from lit_digits.errors import LitDigitsError

SHIPPED_MNIST = Path(__file__).with_name("mnist_gz")
"""The folder of the shipped files: ``<IDX file name>.gz``."""


class Sums(NamedTuple):
    gz_sha256: str
    idx_md5: str


SUMS = {
    "train-images-idx3-ubyte": Sums(
        "0b367032e93c5d0cea0925647cfdb18614af8ee15f83e6f2fc2ad904a6835971", "6bbc9ace898e44ae57da46a324031adb"
    ),
    "train-labels-idx1-ubyte": Sums(
        "1787548bbe0bff1ec2ecdc0ef292b02df999e2d1a6002d27500982c652b17203", "a25bea736e30d166cdddb491f175f624"
    ),
    "t10k-images-idx3-ubyte": Sums(
        "1a1a05eab793c14bb050b398624a11b0ffd1a2953baed553b1b9bd079e2a20be", "2646ac647ad5339dbf082846283269ea"
    ),
    "t10k-labels-idx1-ubyte": Sums(
        "b91679a0acfe4ba0e50a2437a903084cba1f5f92592b016a25a7dfd00455798b", "27ae3e4e09519cfbb04c329615203637"
    ),
}
"""Per IDX file: the SHA-256 of its shipped ``.gz`` and the MD5 of its content."""


def read_shipped(name: str) -> bytes:
    """The content of the shipped IDX file ``name`` (``train-images-idx3-ubyte``, ...), once both its sums match.

    Raises:
        LitDigitsError: the file is missing or fails a sum (a damaged installation).
    """
    path = SHIPPED_MNIST / f"{name}.gz"
    fix = "reinstall lit_digits, or put MNIST in --data.data_dir"
    try:
        packed = path.read_bytes()
    except FileNotFoundError as err:
        raise LitDigitsError(f"this installation of lit_digits lacks its copy of MNIST ({path}); {fix}") from err
    if hashlib.sha256(packed).hexdigest() != SUMS[name].gz_sha256:
        raise LitDigitsError(f"lit_digits' copy of MNIST is damaged: {path} fails its SHA-256 check; {fix}")
    content = gzip.decompress(packed)
    if hashlib.md5(content, usedforsecurity=False).hexdigest() != SUMS[name].idx_md5:
        raise LitDigitsError(f"lit_digits' copy of MNIST is damaged: {path} fails its MD5 check; {fix}")
    return content
