"""One writer per run folder: a lock on ``writer.lock`` in it, which names its holder."""

import fcntl
import logging
import os
import socket
import time
from pathlib import Path

from lit_digits.errors import LitDigitsError

log = logging.getLogger(__name__)

LOCK_FILE = "writer.lock"


class RunHold:
    """Holds ``folder`` for this process until ``release()``; a second holder is refused.

    The hold is an exclusive ``fcntl.flock`` on ``folder/writer.lock``, taken without waiting.
    The file holds the holder's host name, process id and start time, so that a refusal can name
    it; ``release()`` empties it. The kernel drops the lock when its process ends, however it
    ends, so a holder that was killed (SIGKILL, power loss) leaves the file named but unlocked:
    the next hold takes it over, saying whose it was. Whether a holder lives is decided by the
    lock alone, never by its pid (a pid on another host cannot be checked, and pids are reused).

    On a shared network file system this relies on the kernel's locks reaching the server: on
    Linux, NFS clients turn ``flock`` into POSIX byte-range locks (since 2.6.12), which the server
    arbitrates between hosts (NFSv4 itself, NFSv3 through lockd) and drops when a dead host's
    lease expires (NFSv4: 90 s by default) or it reboots (NFSv3). A mount with ``nolock`` or
    ``local_lock=all`` (or Lustre without ``-o flock``) keeps locks on each host, so two hosts
    could then both hold one folder. POSIX locks end when their process closes any descriptor
    of the file, so the holder opens it once and only ``release()`` closes it.

    Raises:
        LitDigitsError: another live process holds ``folder``.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.path = folder / LOCK_FILE
        self.fd: int | None = None
        while self.fd is None:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = _read(fd)
                os.close(fd)
                raise LitDigitsError(
                    f"{folder} is being written by another fit ({holder or 'a process that has not named itself yet'}); "
                    "a run has one writer at a time: wait for that fit to end, or stop it, then run this again"
                ) from None
            if _same_file(fd, self.path):
                self.fd = fd
            else:  # the file was removed (with its failed run's folder) between open and lock
                os.close(fd)
        stale = _read(self.fd)
        if stale:
            log.warning(f"{folder} was held by {stale}, which ended without releasing it; this fit takes it over")
        os.ftruncate(self.fd, 0)
        started = time.strftime("%Y-%m-%d %H:%M:%S")
        os.pwrite(self.fd, f"process {os.getpid()} on {socket.gethostname()}, since {started}\n".encode(), 0)

    def release(self) -> None:
        """Empty the lock file and unlock it (a second call does nothing)."""
        if self.fd is None:
            return
        os.ftruncate(self.fd, 0)
        os.close(self.fd)  # which unlocks
        self.fd = None


def _read(fd: int) -> str:
    return os.pread(fd, 4096, 0).decode(errors="replace").strip()


def _same_file(fd: int, path: Path) -> bool:
    try:
        on_disk, held = os.stat(path), os.fstat(fd)
    except FileNotFoundError:
        return False
    return (on_disk.st_dev, on_disk.st_ino) == (held.st_dev, held.st_ino)
