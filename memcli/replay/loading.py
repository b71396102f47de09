"""Reading a session file: YAML parsed safely (bounded size, no alias bombs, no cycles) and validated
against the format (format.py), with every error naming the file and line."""

from __future__ import annotations

from datetime import timezone
from pathlib import Path

import yaml
from pydantic import ValidationError

from memcli.clock import parse_duration
from memcli.replay.format import AdvanceStep, AtStep, SessionFile, SessionFileError, StepError


MAX_NODES = 200_000  # a session file of the longest sample is ~2,000 nodes
MAX_BYTES = 20_000_000


def _size(node: yaml.Node) -> int:
    """How many nodes the document has once its aliases are expanded, counted in linear time.

    A few nested aliases expand exponentially ("billion laughs"); a self-referencing alias
    never ends. Both are refused before anything walks the expanded tree.
    """
    sizes: dict[int, int] = {}
    stack: list[tuple[yaml.Node, bool]] = [(node, False)]
    open_: set[int] = set()
    while stack:  # iterative: 5,000 nested brackets must not hit Python's recursion limit
        current, done = stack.pop()
        key = id(current)
        children = [v for pair in current.value for v in pair] if isinstance(current, yaml.MappingNode) else \
            list(current.value) if isinstance(current, yaml.SequenceNode) else []
        if done:
            open_.discard(key)
            sizes[key] = min(MAX_NODES + 1, 1 + sum(sizes[id(c)] for c in children))
            continue
        if key in sizes:
            continue
        if key in open_:
            raise ValueError("an alias refers to a node that contains it (a cycle)")
        open_.add(key)
        stack.append((current, True))
        stack.extend((c, False) for c in children if id(c) not in sizes)
        for c in children:
            if id(c) in open_:
                raise ValueError("an alias refers to a node that contains it (a cycle)")
    return sizes[id(node)]


def _lines(node: yaml.Node) -> dict[tuple, int]:
    """Map each path in the YAML document to its 1-based line number.

    Each node is visited once: a node reached again through an alias keeps its first path,
    so the walk is linear in the file, not in the expanded document.
    """
    out: dict[tuple, int] = {}
    seen: set[int] = set()
    stack: list[tuple[yaml.Node, tuple]] = [(node, ())]
    while stack:
        current, path = stack.pop()
        out.setdefault(path, current.start_mark.line + 1)
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, yaml.MappingNode):
            for key, value in current.value:
                key_path = path + (key.value if isinstance(key, yaml.ScalarNode) else str(key.start_mark.line),)
                out.setdefault(key_path, key.start_mark.line + 1)
                stack.append((value, key_path))
        elif isinstance(current, yaml.SequenceNode):
            stack.extend((item, path + (i,)) for i, item in enumerate(current.value))
    return out


def _line_of(lines: dict[tuple, int], loc: tuple) -> int:
    for n in range(len(loc), -1, -1):
        if loc[:n] in lines:
            return lines[loc[:n]]
    return 1


def load_session(path: Path) -> SessionFile:
    """Read and validate a session file, or raise SessionFileError naming file, line and problem."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SessionFileError(f"{path}: cannot read: {exc}") from None
    if len(text) > MAX_BYTES:
        raise SessionFileError(f"{path}: {len(text):,} characters; a session file may have at most {MAX_BYTES:,}")
    try:
        loader = yaml.SafeLoader(text)
        try:
            node = loader.get_single_node()
            if node is not None and _size(node) > MAX_NODES:
                raise SessionFileError(f"{path}: the document expands to more than {MAX_NODES:,} values "
                                       "(nested aliases?)")
            data = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise SessionFileError(f"{path}{line}: not valid YAML: {problem}") from None
    except ValueError as exc:
        raise SessionFileError(f"{path}: {exc}") from None
    except RecursionError:
        raise SessionFileError(f"{path}: nested too deeply to be a session file") from None
    if not isinstance(data, dict):
        raise SessionFileError(f"{path}:1: a session file is a mapping with title, demonstrates and steps")
    lines = _lines(node) if node is not None else {}
    try:
        session = SessionFile.model_validate(data)
    except RecursionError:
        raise SessionFileError(f"{path}: nested too deeply to be a session file") from None
    except ValidationError as exc:
        err = exc.errors()[0]
        ctx_err = err.get("ctx", {}).get("error")
        if isinstance(ctx_err, StepError):
            loc = ("steps", ctx_err.index, *ctx_err.loc)
            raise SessionFileError(f"{path}:{_line_of(lines, loc)}: {ctx_err}") from None
        loc = tuple(err["loc"])
        where = ".".join(map(str, loc)) or "session"
        raise SessionFileError(f"{path}:{_line_of(lines, loc)}: {where}: {err['msg']}") from None
    _check_times(path, session, lines)
    return session


def _check_times(path: Path, session: SessionFile, lines: dict[tuple, int]) -> None:
    """Impossible times: a clock that would go backwards."""
    now = session.clock.start
    for i, step in enumerate(session.parsed):
        if isinstance(step, AdvanceStep):
            try:
                now = now + parse_duration(step.advance)
            except OverflowError:
                line = _line_of(lines, ("steps", i, "advance"))
                raise SessionFileError(f"{path}:{line}: step {i + 1}: advance {step.advance!r} goes past the year "
                                       "9999") from None
        elif isinstance(step, AtStep):
            at = step.at if step.at.tzinfo else step.at.replace(tzinfo=timezone.utc)
            if at < now:
                line = _line_of(lines, ("steps", i, "at"))
                raise SessionFileError(f"{path}:{line}: step {i + 1}: at {at.isoformat()} is before the clock "
                                       f"({now.isoformat()}): time cannot go backwards")
            now = at


def session_files(target: Path) -> list[Path]:
    if target.is_dir():
        return sorted(p for p in target.glob("*.y*ml") if p.suffix in (".yaml", ".yml"))
    if not target.exists():
        raise SessionFileError(f"{target}: no such file or folder")
    return [target]
