"""What "bad input loses nothing" means, as two reusable checks.

- `dir_state(path)`: every file under a data dir with its bytes, so a test can assert the dir is
  byte-for-byte unchanged after a refused command. `writer.lock` is left out: it is the lock's
  holder record (pid, command, time), rewritten by every writer that starts, not data.
- `assert_one_line_error(result)`: exit 1, exactly one line on stderr starting `memcli: error:`,
  no traceback anywhere.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from typer.testing import CliRunner

NOT_DATA = {"writer.lock"}


def dir_state(path: Path) -> dict[str, bytes]:
    """Relative path → bytes of every file under `path` (empty when it does not exist)."""
    if not path.exists():
        return {}
    return {str(p.relative_to(path)): p.read_bytes() for p in sorted(path.rglob("*"))
            if p.is_file() and p.name not in NOT_DATA}


def assert_one_line_error(result: Any, *, contains: str = "") -> str:
    """A CliRunner result or a CompletedProcess: exit 1, one line on stderr, no traceback. Returns the line."""
    code = getattr(result, "exit_code", getattr(result, "returncode", None))
    stderr = result.stderr
    stdout = result.stdout
    assert "Traceback" not in stderr + stdout, stderr + stdout
    exception = getattr(result, "exception", None)
    assert exception is None or isinstance(exception, SystemExit), repr(exception)
    assert code == 1, f"exit {code}: {stderr}{stdout}"
    lines = stderr.strip("\n").splitlines()
    assert len(lines) == 1, f"{len(lines)} lines on stderr: {stderr!r}"
    assert lines[0].startswith("memcli: error: "), lines[0]
    assert contains.lower() in lines[0].lower(), lines[0]
    return lines[0]


def refused(runner: CliRunner, app: Any, args: list[str], data: Path, *, contains: str = "",
            input: str | None = None) -> str:
    """Run a command that must be refused: one-line error, and `data` byte-for-byte unchanged."""
    before = dir_state(data)
    result = runner.invoke(app, args, input=input)
    line = assert_one_line_error(result, contains=contains)
    assert dir_state(data) == before, f"{args}: the data dir changed"
    return line


def value_paths(value: Any, here: tuple = ()) -> list[tuple]:
    """Every path (keys and indexes) inside a JSON value, the value itself included: where to put garbage."""
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in value_paths(v, here + (k,))] + [here]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in value_paths(v, here + (i,))] + [here]
    return [here]


def replaced(value: Any, path: tuple, new: Any) -> Any:
    """A copy of a JSON value with the part at `path` replaced by `new`."""
    if not path:
        return new
    copy = dict(value) if isinstance(value, dict) else list(value)
    copy[path[0]] = replaced(value[path[0]], path[1:], new)
    return copy
