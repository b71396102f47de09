"""The base of every error that is the user's to fix (a bad path, a busy data dir, …).

The CLI prints these as one line and exits 1; anything else is a bug and keeps
its traceback. `user_error_message` also recognises the errors a person's machine
causes rather than memcli (a full disk, a read-only or forbidden folder), from
Python or from the DuckDB/LanceDB native code, which report them as text.
"""

from __future__ import annotations

import errno
import os


class MemcliError(Exception):
    """An error with a message a user can act on."""


# Failures of the machine, not of memcli: said in one line, with what to do.
_ENVIRONMENT = {
    errno.ENOSPC: "the disk is full",
    errno.EDQUOT: "the disk quota is used up",
    errno.EROFS: "the file system is read-only",
    errno.EACCES: "permission denied",
    errno.EPERM: "operation not permitted",
}


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def user_error_message(exc: BaseException) -> str | None:
    """The one-line message for an error that is the user's (or their machine's) to fix, else None."""
    if isinstance(exc, MemcliError):
        return _first_line(exc)
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:  # the cause may be chained (DuckDB, LanceDB)
        seen.add(id(current))
        if isinstance(current, OSError) and current.errno in _ENVIRONMENT:
            where = f": {current.filename}" if current.filename else ""
            return f"{_ENVIRONMENT[current.errno]}{where} (nothing was changed by this command)"
        text = str(current)
        for code, meaning in _ENVIRONMENT.items():
            if os.strerror(code) in text:
                return f"{meaning}: {_first_line(current)} (nothing was changed by this command)"
        current = current.__cause__ or current.__context__
    return None
