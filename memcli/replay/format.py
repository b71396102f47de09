"""The session file format (YAML), validated with pydantic; errors name the file and line.

    title: Moving house
    demonstrates: mem0 updates a fact and keeps the old version
    strategy: mem0                 # optional; --strategy overrides
    params: {top_s: 5}             # optional strategy parameters
    clock: {start: 2026-03-02T09:00:00Z}
    steps:
      - user: I live in Lisbon.
        reply: Noted.              # optional fixed reply: model variance cannot change the outcome
      - advance: 3d
      - expect: {memory: {match: Porto, status: active}}

`memcli replay --schema` prints the JSON schema (docs/session.schema.json).
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Annotated, Any, Literal, Union

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from memcli.clock import parse_duration
from memcli.errors import MemcliError


class SessionFileError(MemcliError):
    """A session file is malformed; the message names the file, the line and the problem."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Match(_Strict):
    match: str = Field(description="Regular expression searched (case-insensitively) in the memory text.")
    status: Literal["active", "archived", "deleted", "quarantined"] = "active"

    @field_validator("match")
    @classmethod
    def _regex(cls, v: str) -> str:
        try:
            re.compile(v)
        except re.error as exc:
            raise ValueError(f"not a valid regular expression: {exc}") from None
        return v


class UserStep(_Strict):
    user: str = Field(description="What the user says.")
    reply: str | None = Field(None, description="A fixed assistant reply (no model call).")
    speaker: str | None = None


class IngestStep(_Strict):
    ingest: str = Field(description="A message logged without retrieval or model call (imported history).")
    role: Literal["user", "assistant"] = "user"
    speaker: str | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)


class AdvanceStep(_Strict):
    advance: str = Field(description="Move the simulated clock: '3d', '12h', '1w 2d'.")

    @field_validator("advance")
    @classmethod
    def _duration(cls, v: str) -> str:
        parse_duration(v)
        return v


class AtStep(_Strict):
    at: datetime = Field(description="Set the simulated clock to this time (never backwards).")


class SwitchStep(_Strict):
    switch: str = Field(description="Switch to this strategy.")
    params: dict[str, Any] = Field(default_factory=dict)
    backfill: bool = Field(False, description="Backfill: run the conversation so far through the new strategy.")


class EditStep(_Strict):
    edit: Match
    text: str


class PinStep(_Strict):
    pin: Match


class ForgetStep(_Strict):
    forget: Match


class RestoreStep(_Strict):
    restore: Match


class RetrieveExpect(_Strict):
    query: str
    match: str
    top_k: int = Field(3, ge=1, le=100)


class CountExpect(_Strict):
    min: int | None = Field(None, ge=0)
    max: int | None = Field(None, ge=0)
    status: Literal["active", "archived", "deleted", "quarantined"] = "active"


class RetentionExpect(_Strict):
    match: str
    above: float | None = None
    below: float | None = None


class Expectation(_Strict):
    memory: Match | None = Field(None, description="A memory matching this exists with this status.")
    no_memory: Match | None = Field(None, description="No memory matching this has this status.")
    retrieve: RetrieveExpect | None = Field(None, description="The query retrieves a matching memory in top_k.")
    count: CountExpect | None = Field(None, description="Number of memories with a status.")
    retention: RetentionExpect | None = Field(None, description="MemoryBank retention of a matching memory.")
    strategy: str | None = Field(None, description="Only check this expectation under this strategy.")

    @model_validator(mode="after")
    def _one(self) -> "Expectation":
        kinds = [k for k in ("memory", "no_memory", "retrieve", "count", "retention") if getattr(self, k)]
        if len(kinds) != 1:
            raise ValueError("an expectation needs exactly one of memory, no_memory, retrieve, count, retention")
        return self

    @property
    def kind(self) -> str:
        return next(k for k in ("memory", "no_memory", "retrieve", "count", "retention") if getattr(self, k))


class ExpectStep(_Strict):
    expect: Expectation


Step = Annotated[
    Union[UserStep, IngestStep, AdvanceStep, AtStep, SwitchStep, EditStep, PinStep, ForgetStep, RestoreStep,
          ExpectStep],
    Field(union_mode="left_to_right"),
]
ACTIONS = {"user": UserStep, "ingest": IngestStep, "advance": AdvanceStep, "at": AtStep, "switch": SwitchStep,
           "edit": EditStep, "pin": PinStep, "forget": ForgetStep, "restore": RestoreStep, "expect": ExpectStep}


class ClockSpec(_Strict):
    start: datetime = datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc)


class SessionFile(_Strict):
    title: str
    demonstrates: str = Field(description="What this session shows.")
    strategy: str | None = None
    params: dict[str, Any] = Field(default_factory=dict)
    cassette: str | None = Field(None, description="Recorded model calls (JSONL, relative to this file).")
    clock: ClockSpec = Field(default_factory=ClockSpec)
    steps: list[dict[str, Any]] = Field(min_length=1)

    @model_validator(mode="after")
    def _steps(self) -> "SessionFile":
        parsed = []
        for i, raw in enumerate(self.steps):
            action = next((k for k in raw if k in ACTIONS), None)
            if action is None:
                raise _StepError(i, f"unknown step {sorted(raw)} (each step starts with one of {', '.join(ACTIONS)})")
            try:
                parsed.append(ACTIONS[action].model_validate(raw))
            except ValidationError as exc:
                err = exc.errors()[0]
                raise _StepError(i, f"{'.'.join(map(str, err['loc'])) or action}: {err['msg']}",
                                 tuple(err["loc"])) from None
        self.parsed = parsed
        return self

    parsed: list[Any] = Field(default_factory=list, exclude=True)


class _StepError(ValueError):
    def __init__(self, index: int, message: str, loc: tuple = ()) -> None:
        super().__init__(f"step {index + 1}: {message}")
        self.index, self.loc = index, loc


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
        if isinstance(ctx_err, _StepError):
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


def session_schema() -> dict[str, Any]:
    """The JSON schema of a session file (steps spelled out as the union of step kinds)."""

    class Session(SessionFile):
        steps: list[Step] = Field(min_length=1)  # type: ignore[assignment]

        @model_validator(mode="after")
        def _steps(self) -> "Session":
            return self

    schema = Session.model_json_schema()
    schema["properties"].pop("parsed", None)
    schema["title"] = "memcli session file"
    return schema


def session_files(target: Path) -> list[Path]:
    if target.is_dir():
        return sorted(p for p in target.glob("*.y*ml") if p.suffix in (".yaml", ".yml"))
    if not target.exists():
        raise SessionFileError(f"{target}: no such file or folder")
    return [target]
