"""Watch and steer: the workbench attached to a data dir served by `memcli mcp` (a real subprocess,
a real MCP client) shows the agent's operations live, and the person's edits reach the agent."""

from __future__ import annotations

import time
from pathlib import Path

import anyio
import pytest
from textual.widgets import DataTable

from test_mcp import WAIT_S, http_client, http_server, payload
from memcli.core.lock import WriterLockError
from memcli.engine import Engine
from memcli.mcp.attach import RemoteChat
from memcli.mcp.control import running_server
from memcli.settings import load_settings
from memcli.tui.app import MemcliApp
from memcli.tui.chat import PromptInput
from memcli.tui.panels import Feed, MemoriesView
from memcli.tui.screens import MemoryAction, MemoryScreen


def feed_rows(app: MemcliApp) -> list[tuple[str, str, str]]:
    """(op, memory id, detail) of every feed row."""
    feed = app.query_one(Feed)
    rows = [feed.get_row_at(i) for i in range(feed.row_count)]
    return [(str(r[2]), str(r[4]), str(r[5])) for r in rows]


async def wait_for(pilot, condition, what: str) -> None:
    deadline = time.monotonic() + WAIT_S
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await pilot.pause(0.1)


async def test_workbench_attached_to_a_served_data_dir(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    settings = load_settings(data_dir=data_dir)
    with anyio.fail_after(3 * WAIT_S):
        async with http_server(data_dir) as url:
            async with http_client(url, "coder") as agent:
                first = payload(await agent.call_tool("remember", {"text": "I prefer tabs over spaces."}))
                assert first["operations"]
                with pytest.raises(WriterLockError):  # the server is the writer: a second one is refused…
                    Engine(settings)
                info = running_server(data_dir)  # …so the workbench finds the server and attaches instead
                assert info is not None and info.namespace == "mem0"

                remote = RemoteChat(info, data_dir)
                app = MemcliApp(remote, settings, warm_up=False, attached=True)  # type: ignore[arg-type]
                try:
                    async with app.run_test(size=(160, 48)) as pilot:
                        assert app.query_one(PromptInput).disabled
                        # what happened before the workbench opened is there…
                        await wait_for(pilot, lambda: any(op == "added" for op, _, _ in feed_rows(app)),
                                       "the earlier memory in the feed")
                        before = len(feed_rows(app))
                        # …and the agent's next operations arrive live
                        done = payload(await agent.call_tool("remember", {"text": "My laptop is a ThinkPad X1."}))
                        new_id = next(o["id"] for o in done["operations"] if o["op"] == "added")
                        await wait_for(pilot, lambda: ("added", new_id, "User: My laptop is a ThinkPad X1")
                                       in feed_rows(app), "the agent's new memory in the live feed")
                        await wait_for(pilot, lambda: any(op == "call" and "mcp:coder remember" in detail
                                                          for op, _, detail in feed_rows(app)[before:]),
                                       "the agent's tool call in the feed")
                        table = app.query_one(MemoriesView).query_one(DataTable)
                        await wait_for(pilot, lambda: table.row_count >= 2, "the memories view to refresh")
                        feed = app.query_one(Feed)
                        seqs = [int(str(feed.get_row_at(i)[0])) for i in range(feed.row_count)]
                        assert seqs == sorted(set(seqs))  # history then live tail: no gap-filling repeat, in order

                        # the person steers: pin and edit in the workbench; the agent sees it on its next call
                        app._apply_memory_action(MemoryAction("pin", new_id))
                        app._apply_memory_action(MemoryAction("edit", new_id, text="My laptop is a Framework 13."))
                        await wait_for(pilot, lambda: ("edited", new_id, "My laptop is a Framework 13.")
                                       in feed_rows(app), "the person's edit in the feed")
                        seen = payload(await agent.call_tool("get_memory", {"id": new_id}))
                        assert seen["pinned"] and seen["text"] == "My laptop is a Framework 13."
                        assert [h["actor"] for h in seen["history"] if h["kind"] in ("memory.pinned", "memory.edited")
                                ] == ["editor", "editor"]
                        found = payload(await agent.call_tool("recall", {"query": "Which laptop do I use?"}))
                        assert found["hits"][0]["text"] == "My laptop is a Framework 13."
                        # opening the memory shows its whole history, the agent's recall included
                        app._load_memory(new_id, "mem0")
                        await wait_for(pilot, lambda: isinstance(app.screen, MemoryScreen), "the memory screen")
                        kinds = [e.kind.value for e in app.screen.events]
                        assert kinds[0] == "memory.added" and "memory.retrieved" in kinds and "memory.edited" in kinds
                finally:
                    remote.close()
