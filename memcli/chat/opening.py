"""The one way to open a chat: `open_chat` (engine + strategy registry + model → a `Chat`, closed
in order on exit), and `ingest_conversation`, the dated-conversation ingest loop shared by
`memcli ingest` and the LoCoMo eval.

Every caller (the workbench, `memcli chat --plain`, `memcli mcp`, `memcli ingest`, backfill,
replays, evals, benchmarks, tests) opens its chat here, so a chat is wired the same way
everywhere: the model's history window and the settings' llm_memory mode come with it.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Callable, Iterator

from memcli.chat.chat import Chat
from memcli.engine import Engine
from memcli.settings import Settings
from memcli.strategy.registry import StrategyRegistry

if TYPE_CHECKING:
    from memcli.clock import Clock, SimulatedClock
    from memcli.embed.embedder import Embedder
    from memcli.model.base import ChatModel
    from memcli.replay.importers import Conversation


@contextmanager
def open_chat(
    settings: Settings,
    *,
    strategy: str | None = None,
    params: dict[str, Any] | None = None,
    model: ChatModel | None = None,
    clock: Clock | None = None,
    embedder: Embedder | None = None,
    registry: StrategyRegistry | None = None,
    background: bool = True,
) -> Iterator[Chat]:
    """Open the data dir for writing (one writer: a busy one is a one-line error) and a chat on it.

    `model`: the chat model (None: no replies, memory work on the rule paths; build one with
    `memcli.model.factory.build_chat_model`); `clock`, `embedder`, `registry`: injected (default:
    the system clock, the configured embedder, the installed strategies). Nothing heavy is loaded
    here. On exit the memory worker is drained and stopped, then the engine closed.
    """
    from memcli.model.factory import history_messages

    engine = Engine(settings, clock=clock, embedder=embedder)
    try:
        chat = Chat(engine, registry or StrategyRegistry(), model=model, strategy=strategy or settings.strategy,
                    params=params, llm_memory=settings.llm_memory,
                    history_messages=history_messages(settings, model), background=background)
    except BaseException:
        engine.close()
        raise
    try:
        yield chat
    finally:
        try:
            chat.close()
        finally:
            engine.close()


def ingest_conversation(chat: Chat, conversation: Conversation, clock: SimulatedClock, *,
                        metadata: dict[str, Any] | None = None,
                        progress: Callable[[int], None] | None = None) -> int:
    """Log a dated conversation (LoCoMo or an OpenAI export, `memcli.replay.importers`) turn by turn
    and queue each turn for the memory work: the clock moves to each session's date (never back),
    a shared image is kept as its caption, the LoCoMo turn id goes into the metadata (with
    `metadata`). `progress(done)` after each turn. Returns the number of turns."""
    done = 0
    for session in conversation.sessions:  # a LoCoMo session: one dated sitting of the conversation
        if session.date > clock.now():
            clock.set(session.date)
        for t in session.turns:
            text = t.text + (f" [shares {t.caption}]" if t.caption else "")
            meta = {**(metadata or {}), **({"turn_id": t.turn_id} if t.turn_id else {})}
            chat.ingest(t.role, text, speaker=t.speaker, metadata=meta)
            done += 1
            if progress is not None:
                progress(done)
    return done
