"""Play a session file headless against a fresh data dir and check its expectations."""

from __future__ import annotations

import re
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

from memcli.clock import SimulatedClock, parse_duration
from memcli.context import memory_block
from memcli.core import operations as ops
from memcli.core.projection import ACTIVE, Memory
from memcli.embed.embedder import Embedder
from memcli.core.events import Kind
from memcli.core.planning import InvalidOperation
from memcli.errors import MemcliError
from memcli.model.base import ChatModel
from memcli.model.cassette import CassetteMiss
from memcli.replay import format as f
from memcli.replay.loading import load_session
from memcli.chat import Chat, open_chat
from memcli.settings import Settings
from memcli.strategy.forgetting import retention
from memcli.strategy.registry import StrategyRegistry


@dataclass
class Check:
    step: int
    kind: str
    passed: bool
    detail: str


@dataclass
class SessionReport:
    path: str
    title: str
    strategy: str
    checks: list[Check] = field(default_factory=list)
    turns: int = 0
    memories_kept: int = 0
    retrieval_hits: int = 0
    context_tokens: int = 0
    seconds: float = 0.0
    error: str | None = None

    @property
    def passed(self) -> bool:
        return self.error is None and all(c.passed for c in self.checks)

    @property
    def met(self) -> str:
        return f"{sum(c.passed for c in self.checks)}/{len(self.checks)}"

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "passed": self.passed, "met": self.met}


def _find(chat: Chat, match: f.Match, any_status: bool = False) -> Memory | None:
    pattern = re.compile(match.match, re.I)
    memories = chat.engine.store.memories(chat.namespace, None)
    wanted = [m for m in memories if pattern.search(m.text) and (any_status or m.status == match.status)]
    return wanted[-1] if wanted else None


def _describe(chat: Chat, status: str = ACTIVE, limit: int = 6) -> str:
    mems = chat.engine.store.memories(chat.namespace, [status])
    shown = "; ".join(f"{m.id}: {m.text[:60]}" for m in mems[-limit:])
    return f"{len(mems)} {status} memories" + (f" (last: {shown})" if shown else "")


def check(chat: Chat, exp: f.Expectation, step: int) -> Check:
    kind = exp.kind
    if kind == "memory":
        m = _find(chat, exp.memory)  # type: ignore[arg-type]
        ok = m is not None
        detail = f"{m.id} ({m.status}): {m.text[:80]}" if m else \
            f"no {exp.memory.status} memory matches /{exp.memory.match}/; {_describe(chat, exp.memory.status)}"
    elif kind == "no_memory":
        m = _find(chat, exp.no_memory)  # type: ignore[arg-type]
        ok = m is None
        detail = f"none {exp.no_memory.status} matches /{exp.no_memory.match}/" if ok else \
            f"{m.id} is {m.status} and matches: {m.text[:80]}"
    elif kind == "retrieve":
        spec = exp.retrieve
        retrieval = chat.strategy.retrieve(spec.query, chat.view(), spec.top_k)  # a read: logs nothing
        hits = [h.text for h in retrieval.hits]
        found = [i for i, t in enumerate(hits) if re.search(spec.match, t, re.I)]
        ok = bool(found)
        detail = (f"rank {found[0] + 1} of {len(hits)}" if ok else f"not in top {spec.top_k}") + \
            f" for {spec.query!r}: " + " | ".join(t[:50] for t in hits)
    elif kind == "count":
        spec = exp.count
        n = len(chat.engine.store.memories(chat.namespace, [spec.status]))
        ok = (spec.min is None or n >= spec.min) and (spec.max is None or n <= spec.max)
        detail = f"{n} {spec.status} memories (want {spec.min if spec.min is not None else 0}…" \
                 f"{spec.max if spec.max is not None else '∞'})"
    else:
        spec = exp.retention
        m = _find(chat, f.Match(match=spec.match), any_status=True)
        if m is None:
            return Check(step, kind, False, f"no memory matches /{spec.match}/")
        r = retention(m, chat.engine.clock.now(), float(chat.strategy.p.get("unit_hours", 24.0)))
        ok = (spec.above is None or r > spec.above) and (spec.below is None or r < spec.below)
        detail = f"{m.id} retention {r:.3f} (S={m.strength:g})"
    return Check(step, kind, ok, detail)


def _edit(chat: Chat, step: Any) -> None:
    if isinstance(step, f.EditStep):
        target, op = step.edit, lambda m: ops.Edit(memory_id=m.id, text=step.text, reason="edited by the user")
    elif isinstance(step, f.PinStep):
        target, op = step.pin, lambda m: ops.Pin(memory_id=m.id, reason="pinned by the user")
    elif isinstance(step, f.ForgetStep):
        target, op = step.forget, lambda m: ops.Delete(memory_id=m.id, reason="forgotten by the user")
    else:
        target, op = step.restore, lambda m: ops.Restore(memory_id=m.id, reason="restored by the user")
    memory = _find(chat, target, any_status=isinstance(step, f.RestoreStep))
    if memory is None:
        raise InvalidOperation(f"no memory matches /{target.match}/ to {type(step).__name__[:-4].lower()}")
    chat.edit(op(memory))


@dataclass
class TurnOutcome:
    retrieval: Any = None


def play_step(chat: Chat, clock: SimulatedClock, step: Any, index: int,
              settings: Settings) -> Check | TurnOutcome | None:
    """Carry out one step of a session file: a turn, a clock move, a switch, an edit or a check."""
    if isinstance(step, f.UserStep):
        result = chat.send(step.user, k=settings.top_k, reply=step.reply, max_tokens=settings.max_tokens)
        return TurnOutcome(result.retrieval)
    if isinstance(step, f.IngestStep):
        chat.ingest(step.role, step.ingest, speaker=step.speaker or "", metadata=step.metadata)
        return TurnOutcome()
    if isinstance(step, (f.AdvanceStep, f.AtStep)):
        before = clock.now()
        if isinstance(step, f.AdvanceStep):
            clock.advance(parse_duration(step.advance))
        else:
            clock.set(step.at)
        # in the log, so that the feed and `memcli log` show the jump behind a decay that follows it
        chat.engine.record(Kind.CLOCK_ADVANCED, {"from": before.isoformat(), "to": clock.now().isoformat()},
                           actor="clock")
    elif isinstance(step, f.SwitchStep):
        chat.switch(step.switch, step.params)
        if step.backfill:
            chat.backfill(k=settings.top_k)
    elif isinstance(step, f.ExpectStep):
        exp = step.expect
        if exp.strategy is None or exp.strategy == chat.namespace:
            chat.drain()
            return check(chat, exp, index)
    else:
        _edit(chat, step)
    return None


def run_session(
    path: Path,
    settings: Settings,
    *,
    strategy: str | None = None,
    embedder: Embedder | None = None,
    model: Callable[[f.SessionFile], ChatModel | None] | None = None,
    registry: StrategyRegistry | None = None,
    data_dir: Path | None = None,
    on_step: Callable[[int, int], None] | None = None,
    fail_fast: bool = False,
) -> SessionReport:
    """Replay one file into a fresh data dir (a temporary one unless `data_dir` is given)."""
    spec = load_session(path)
    name = strategy or spec.strategy or settings.strategy
    report = SessionReport(str(path), spec.title, name)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="memcli-replay-") as tmp:
        target = data_dir or Path(tmp)
        clock = SimulatedClock(spec.clock.start)
        chat_model = model(spec) if model is not None else None
        params = spec.params if (strategy is None or strategy == spec.strategy) else {}
        count = chat_model.count_tokens if chat_model is not None else (lambda s: len(s.split()))
        with open_chat(settings.model_copy(update={"data_dir": target}), strategy=name, params=params,
                       model=chat_model, clock=clock, embedder=embedder, registry=registry,
                       background=False) as chat:
            _play_all(chat, spec, clock, settings, report, name, count, on_step, fail_fast)
    report.seconds = round(time.perf_counter() - started, 3)
    return report


def _play_all(chat: Chat, spec: f.SessionFile, clock: SimulatedClock, settings: Settings, report: SessionReport,
              name: str, count: Callable[[str], int], on_step: Callable[[int, int], None] | None,
              fail_fast: bool) -> None:
    """Play every step into `report`; a cassette miss or a user error ends the run as the report's error."""
    i = 0
    try:
        for i, step in enumerate(spec.parsed, 1):
            outcome = play_step(chat, clock, step, i, settings)
            if isinstance(outcome, Check):
                report.checks.append(outcome)
                if fail_fast and not outcome.passed:
                    break
            elif outcome is not None:
                report.turns += 1
                if outcome.retrieval is not None:
                    report.retrieval_hits += len(outcome.retrieval.hits)
                    report.context_tokens += count(memory_block([h.text for h in outcome.retrieval.hits]))
            if on_step is not None:
                on_step(i, len(spec.parsed))
        report.memories_kept = len(chat.engine.store.memories(chat.namespace))
    except CassetteMiss as exc:
        report.error = f"step {i}: " + (
            f"no reply recorded for {name}: the cassette holds the model calls of {spec.strategy}, and "
            f"{name} sends other prompts (record them with --record -S {name})"
            if name != spec.strategy else str(exc))
    except MemcliError as exc:
        report.error = f"step {i}: {exc}"
