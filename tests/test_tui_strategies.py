"""sirllm, rmm and memgas in the workbench: each one chatted with through the pilot, its operations in the
live feed, and rmm's reranker weights in the retrieval view changing as replies are used (issue #17)."""

from __future__ import annotations

from textual.widgets import OptionList, Static

from doubles import EchoModel
from test_tui import settle
from test_tui_workbench import choose, close, make_app, quick_model
from memcli.clock import SimulatedClock
from memcli.tui.panels import Feed


def feed_rows(app, namespace: str) -> list[tuple[str, str]]:
    """(op, detail) of every feed row of `namespace`, oldest first."""
    table = app.query_one(Feed)
    rows = [table.get_row_at(i) for i in range(table.row_count)]
    return [(str(r[2]), str(r[5])) for r in rows if str(r[3]) == namespace]


async def say(pilot, text: str) -> None:
    await pilot.click("#prompt")
    await pilot.press(*text, "enter")
    await settle(pilot)


def state_text(app) -> str:
    body = app.query_one("#retrieval-state", Static)
    return str(body.render()) if body.display else ""


async def test_sirllm_feed_shows_phrases_gaining_and_losing_weight(tmp_path, embedder) -> None:
    """The real model scores the tokens (the scorer is the embedded GGUF whatever the chat model is)."""
    app = make_app(tmp_path / "d", embedder, model=quick_model(words=3), strategy="sirllm")
    try:
        async with app.run_test(size=(160, 40)) as pilot:
            await settle(pilot)
            await say(pilot, "My friend Zorblax Quintavalle lives in Reykjavik.")
            await say(pilot, "Zorblax Quintavalle is coming to visit me.")
            rows = feed_rows(app, "sirllm")
            added = [d for op, d in rows if op == "added"]
            assert any("Zorblax" in d for d in added), rows
            decayed = [d for op, d in rows if op == "decayed"]
            assert decayed and all("× 0.9" in d for d in decayed)
            first = next(d for d in decayed)  # "S 12.3 → 11.07 × 0.9": the weight went down
            before, after = (float(x) for x in first.split()[1:4:2])
            assert after < before
            gained = [d for op, d in rows if op == "reinforced"]
            assert any("said again" in d for d in gained), rows
            before, after = (float(x) for x in gained[0].split()[1:4:2])
            assert after > before
    finally:
        close(app)


async def test_rmm_feed_shows_topic_merges_and_the_weights_change_after_a_turn(tmp_path, embedder) -> None:
    clock = SimulatedClock()
    app = make_app(tmp_path / "d", embedder, model=EchoModel(), strategy="rmm", clock=clock)
    chat = ["I live in Lisbon and I love the old yellow tram.", "My sister Rita lives in Lisbon too."]
    try:
        async with app.run_test(size=(160, 40)) as pilot:
            await settle(pilot)
            assert state_text(app) == ""  # no retrieval yet: no reranker
            for text in chat:
                await say(pilot, text)
            shown = state_text(app)
            assert "after 1 update(s)" in shown and "last change" in shown and "Δ vector" in shown, shown
            await say(pilot, "Where does Rita live?")
            again = state_text(app)
            assert "after 2 update(s)" in again
            weights = lambda text: text.split("update(s): ")[1].split("\n")[0]  # noqa: E731
            assert weights(again) != weights(shown), "the weights shown changed after the turn"
            learned = [d for op, d in feed_rows(app, "rmm") if op == "updated" and "Δ vector" in d]
            assert len(learned) == 2 and all("retrospective reflection: the reply used" in d for d in learned)
            assert any(d == "retrieval offered to the reply" for _, d in feed_rows(app, "rmm"))
            clock.advance("5h")  # a new session: the first is reflected into topics
            for text in chat:
                await say(pilot, text)
            clock.advance("5h")  # and again: the second session's topics merge into the first's
            await say(pilot, "Tell me about the tram.")
            rows = feed_rows(app, "rmm")
            assert any(op == "added" and d.startswith("Topic (") for op, d in rows), rows
            assert any(op == "archived" for op, _ in rows)
            merges = [d for op, d in rows if op == "updated" and d.startswith("prospective reflection: merged")]
            assert merges, rows
            await pilot.press("f4")  # the retrieval view shows the weights under the last retrieval
            await settle(pilot)
            assert app.query_one("#retrieval-state", Static).region.height > 0
            assert "after 5 update(s)" in state_text(app)  # every turn after the first
    finally:
        close(app)


async def test_memgas_switched_to_with_ctrl_s_feed_shows_its_granularity_units(tmp_path, embedder) -> None:
    clock = SimulatedClock()
    app = make_app(tmp_path / "d", embedder, model=quick_model(words=3), strategy="mem0", clock=clock)
    try:
        async with app.run_test(size=(160, 40)) as pilot:
            await settle(pilot)
            await pilot.press("ctrl+s")
            await settle(pilot)
            app.screen.query_one(OptionList).focus()
            await choose(pilot, "memgas")
            await pilot.press("enter")
            await settle(pilot)
            assert app.chat.namespace == "memgas"
            await say(pilot, "I adopted a grey cat named Miso last spring.")
            await say(pilot, "Miso sleeps on the piano all afternoon.")
            clock.advance("5h")
            await say(pilot, "I am flying to Tokyo in May.")  # a new session: the first becomes session + summary
            units = [d for op, d in feed_rows(app, "memgas") if op == "added"]
            for granularity in ("turn", "keyphrase", "session", "summary"):
                assert any(d.startswith(f"{granularity} unit, linked to ") for d in units), (granularity, units)
            assert any("Miso" in d and d.startswith("session unit") for d in units)
    finally:
        close(app)
