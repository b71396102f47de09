"""The compare view and the plots in the workbench (issue #14): pilot tests and SVG snapshots.

The strategies are named explicitly (memorybank live, mem0 backfilled): the default strategy may change."""

from __future__ import annotations

import shutil
from datetime import datetime, timezone
from pathlib import Path

from rich.console import Console
from textual.widgets import OptionList, Select, Static, TabbedContent

from doubles import SlowScriptedModel
from test_tui import settle
from memcli.clock import SimulatedClock
from memcli.engine import Engine
from memcli.chat import Chat
from memcli.settings import load_settings
from memcli.strategy.registry import StrategyRegistry
from memcli.tui.app import MemcliApp
from memcli.tui.compare import CompareScreen
from memcli.tui.panels import OpenMemory
from memcli.tui.plots import PlotScreen, RetentionPlot, StatusPlot
from memcli.tui.screens import MemoryScreen

# memorybank over two weeks: the peanuts are recalled, the stamps are never asked about and fade
STEPS = [("I am allergic to peanuts.", "Noted.", "1d"), ("I collect stamps and my favourite colour is teal.", "Nice.", "1d"),
         ("Can you remind me what I am allergic to?", "Peanuts.", "3d"),
         ("Any snack ideas, given what I am allergic to?", "Try fruit.", "4d"),
         ("Good morning!", "Good morning!", "0s")]


def make_app(data_dir: Path, embedder, strategy: str = "memorybank", other: str | None = "mem0") -> MemcliApp:
    settings = load_settings(data_dir=data_dir, max_tokens=48, n_ctx=2048)
    clock = SimulatedClock(datetime(2026, 3, 2, 9, tzinfo=timezone.utc))
    engine = Engine(settings, clock=clock, embedder=embedder)
    chat = Chat(engine, StrategyRegistry(data_dir / "no-plugins"), model=SlowScriptedModel(pieces=4, delay=0),
                          strategy=strategy, llm_memory="off")
    for text, reply, wait in STEPS:
        chat.send(text, reply=reply)
        chat.drain()
        clock.advance(wait)
    if other is not None:
        chat.backfill(other)
    return MemcliApp(chat, settings, warm_up=False)


def close(app: MemcliApp) -> None:
    app.chat.close()
    app.chat.engine.close()


def plain(renderable, width: int = 200) -> str:
    console = Console(width=width, record=True, color_system=None)
    console.print(renderable)
    return console.export_text()


async def test_compare_view_memories_by_turn_and_retrievals(tmp_path, embedder) -> None:
    app = make_app(tmp_path / "d", embedder)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            assert app.chat.namespace == "memorybank"
            await pilot.press("ctrl+o")
            await settle(pilot)
            screen = app.screen
            assert isinstance(screen, CompareScreen) and (screen.a, screen.b) == ("memorybank", "mem0")
            table = plain(screen.query_one("#cmp-mem-body", Static).content)
            # the stamps faded from memorybank (archived) and mem0 still keeps them
            stamps = [line for line in table.splitlines() if "stamps" in line]
            assert stamps and "archived" in table and "only mem0" in table, table
            assert "only mem0 1" in str(screen.query_one("#cmp-summary").render())
            await pilot.press("r")
            await settle(pilot)
            assert screen.query_one(TabbedContent).active == "cmp-retrievals"
            questions = screen.query_one("#cmp-questions", OptionList)
            assert questions.option_count == len(STEPS)
            questions.highlighted = 2  # "Can you remind me what I am allergic to?"
            await settle(pilot)
            left = plain(screen.query_one("#cmp-ret-a", Static).content)
            right = plain(screen.query_one("#cmp-ret-b", Static).content)
            assert "peanuts" in left and "peanuts" in right
            header = lambda t: next(line for line in t.splitlines() if " memory " in line)  # noqa: E731
            assert "vector" in header(left)  # memorybank's cutoff is on the cosine: that column is shown
            assert "score" in header(right) and "vector" not in header(right)
            assert "0.6279" in left and "cut 0.3" in left  # the cosine of the hit, above its cutoff
            await pilot.press("escape")
            await settle(pilot)
            assert not isinstance(app.screen, CompareScreen)
    finally:
        close(app)


async def test_compare_needs_a_second_strategy(tmp_path, embedder) -> None:
    app = make_app(tmp_path / "d", embedder, other=None)
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            await pilot.press("ctrl+o")
            await settle(pilot)
            assert not isinstance(app.screen, CompareScreen)
            assert any("Only memorybank has memories" in str(n.message) for n in app._notifications)
    finally:
        close(app)


async def test_compare_switches_the_other_strategy_at_80x24(tmp_path, embedder) -> None:
    app = make_app(tmp_path / "d", embedder)
    app.chat.backfill("rag-turns")
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            app.action_compare()
            await settle(pilot)
            screen = app.screen
            assert isinstance(screen, CompareScreen)
            screen.query_one(Select).value = "rag-turns"
            await settle(pilot)
            assert screen.b == "rag-turns"
            assert "rag-turns" in plain(screen.query_one("#cmp-mem-body", Static).content, 78)
            assert screen.query_one("#cmp-mem-scroll").region.height > 5  # the table has room at 80×24
    finally:
        close(app)


async def test_plots_screen_and_memory_screen_retention(tmp_path, embedder) -> None:
    app = make_app(tmp_path / "d", embedder, other=None)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            await pilot.press("ctrl+g")
            await settle(pilot)
            screen = app.screen
            assert isinstance(screen, PlotScreen)
            plot = screen.query_one(RetentionPlot)
            ids = [c.memory_id for c in plot.curves]
            assert ids[0] == "m1" and plot.threshold == 0.2  # the recalled peanuts are the strongest
            assert any(c.ended == "archived" for c in plot.curves)
            assert "retention" in str(plot.render())
            await pilot.press("s")
            await settle(pilot)
            rows = screen.query_one(StatusPlot).rows
            assert [r["turn"] for r in rows] == [1, 2, 3, 4, 5] and rows[-1]["archived"] >= 1
            await pilot.press("escape")
            app.post_message(OpenMemory("m2"))
            await settle(pilot)
            assert isinstance(app.screen, MemoryScreen)
            curves = app.screen.query_one(RetentionPlot).curves
            assert curves[0].memory_id == "m2" and len(curves) > 1
    finally:
        close(app)


async def test_plots_of_a_strategy_without_retention(tmp_path, embedder) -> None:
    app = make_app(tmp_path / "d", embedder, strategy="mem0", other=None)
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            await pilot.press("ctrl+g")
            await settle(pilot)
            screen = app.screen
            assert isinstance(screen, PlotScreen) and screen.curves is None
            assert screen.query_one(TabbedContent).active == "plot-status"
            assert "only memorybank" in screen.why_not
            app.post_message(OpenMemory("m1"))
            await settle(pilot)
            assert isinstance(app.screen, MemoryScreen) and not app.screen.query(RetentionPlot)
    finally:
        close(app)


# -- snapshots -------------------------------------------------------------------------------------

SNAP_DIR = Path("/tmp/memcli-snapshot-compare")


def snapshot_app(embedder) -> MemcliApp:
    shutil.rmtree(SNAP_DIR, ignore_errors=True)
    return make_app(SNAP_DIR, embedder)


def snapshot(snap_compare, embedder, keys: list[str], size: tuple[int, int]) -> bool:
    """The snapshot app after pressing `keys` (each followed by a settle), compared at `size`."""
    app = snapshot_app(embedder)

    async def run_before(pilot) -> None:
        await settle(pilot)
        for key in keys:
            await pilot.press(key)
            await settle(pilot)

    try:
        return snap_compare(app, terminal_size=size, run_before=run_before)
    finally:
        close(app)


def test_snapshot_compare_view(snap_compare, embedder) -> None:
    assert snapshot(snap_compare, embedder, ["ctrl+o"], (120, 40))


def test_snapshot_compare_retrievals_narrow(snap_compare, embedder) -> None:
    assert snapshot(snap_compare, embedder, ["ctrl+o", "r"], (80, 24))


def test_snapshot_retention_plot(snap_compare, embedder) -> None:
    assert snapshot(snap_compare, embedder, ["ctrl+g"], (120, 40))


def test_feed_details_are_cut_at_a_word() -> None:
    from memcli.core.events import Event, Kind
    from memcli.tui.glyphs import clip, describe

    query = "Could you please remind me which of the foods that I mentioned earlier I am allergic to"
    event = Event(seq=3, ts=datetime(2026, 3, 2, tzinfo=timezone.utc), kind=Kind.MEMORY_RETRIEVED, actor="t",
                  namespace="mem0", memory_id=None, session_id="s", payload={"query": query, "hits": []}, batch=1)
    detail = describe(event).split(" · ", 1)[1]
    assert detail.endswith("…") and query.startswith(detail[:-1]) and query[len(detail) - 1] == " "
    assert clip("short", 40) == "short" and clip("a" * 50, 10) == "a" * 9 + "…"


async def test_f4_under_memorybank_shows_the_score_its_cutoff_applies_to(tmp_path, embedder) -> None:
    app = make_app(tmp_path / "d", embedder, other=None)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            await pilot.click("#prompt")
            await pilot.press(*"Which food am I allergic to?", "enter")
            await settle(pilot)
            await pilot.press("f4")
            await settle(pilot)
            shown = plain(app.query_one("#retrieval-body", Static).content)
            header = next(line for line in shown.splitlines() if " memory " in line)
            assert "vector" in header and "score" not in header  # the cutoff is a cosine: that column, not RRF
            event = app.chat.engine.store.events(kinds=["memory.retrieved"], namespace="memorybank")[-1]
            hit = event.payload["hits"][0]
            assert event.payload["cutoff_on"] == "vector"
            assert f"{hit['parts']['vector']:.4f}" in shown and f"score {hit['score']:.3f}" in shown
            assert hit["parts"]["vector"] >= event.payload["cutoff"]
    finally:
        close(app)


async def test_feed_cuts_details_at_a_word_at_120x40(tmp_path, embedder) -> None:
    from memcli.tui.glyphs import describe
    from memcli.tui.panels import Feed

    app = make_app(tmp_path / "d", embedder, other=None)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            await pilot.press("f2")
            await settle(pilot)
            feed = app.query_one(Feed)
            events = {str(e.seq): e for e in app.chat.engine.store.events()}
            cut = 0
            for y in range(1, feed.size.height):  # below the header
                line = feed.render_line(y).text.strip()
                seq = line.split(" ", 1)[0]
                if seq not in events:
                    continue
                full = describe(events[seq])
                shown = line[line.index(full[:8]):] if full[:8] in line else ""
                assert shown, (line, full)
                if shown != full:
                    cut += 1
                    assert shown.endswith("…") and full.startswith(shown[:-1].rstrip()), (shown, full)
                    assert full[len(shown[:-1].rstrip())] in " ,.;:·", (shown, full)  # at a word boundary
            assert cut, "in the side pane some details must be cut"
    finally:
        close(app)
