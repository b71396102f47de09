"""One writer per data dir.

An advisory `flock` on `<data dir>/writer.lock`, held for the writer's whole
life. The kernel drops it when the process dies (even by SIGKILL), so a crash
never leaves a stale lock behind. The file also says who holds it, so a second
writer can be told exactly which process to close.
"""

from __future__ import annotations

import fcntl
import json
import os
import sys
from datetime import datetime, timezone
from pathlib import Path

from memcli.errors import MemcliError


class WriterLockError(MemcliError):
    """Another process is writing to this data dir."""


class WriterLock:
    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / "writer.lock"
        self._fd: int | None = None

    def acquire(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except (FileExistsError, NotADirectoryError, FileNotFoundError) as exc:  # a file on the way, or /proc
            raise MemcliError(f"cannot use {self.path.parent} as a data dir: {exc.strerror.lower()}: "
                              f"{exc.filename}; give a folder with --data-dir") from None
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise WriterLockError(f"{self.path.parent} is in use by {self.holder()}; close it first or use another --data-dir") from None
        info = {
            "pid": os.getpid(),
            "command": " ".join(["memcli", *sys.argv[1:]]) if sys.argv else "memcli",
            "since": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        }
        os.ftruncate(fd, 0)
        os.write(fd, json.dumps(info).encode())
        os.fsync(fd)
        self._fd = fd

    def holder(self) -> str:
        """Who holds the lock, as a short phrase (best effort)."""
        try:
            info = json.loads(self.path.read_text() or "{}")
            return f"pid {info['pid']} (`{info['command']}`, since {info['since']})"
        except (OSError, ValueError, KeyError):
            return "another process"

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    @property
    def held(self) -> bool:
        return self._fd is not None
