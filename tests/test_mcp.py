"""`memcli mcp` started for real as a subprocess, spoken to with the official SDK's own client
over stdio and over Streamable HTTP on 127.0.0.1. Every wait is bounded."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, AsyncIterator

import anyio
import httpx
import httpx2
import pytest
from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from mcp.types import Implementation

from memcli.core.events import Kind
from memcli.core.store.log import EventStore
from memcli.engine import Engine
from memcli.mcp.control import SERVER_FILE
from memcli.settings import load_settings

MEMCLI = str(Path(sys.executable).with_name("memcli"))
STRATEGY = "mem0"
WAIT_S = 180  # the first call loads the embedder; a loaded machine is slow, never stuck


def server_env() -> dict[str, str]:
    """The SDK starts stdio servers with a minimal environment: hand the test's MEMCLI_* settings on."""
    return {k: v for k, v in os.environ.items() if k.startswith("MEMCLI_") or k in ("PATH", "HOME")}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def payload(result: Any) -> dict[str, Any]:
    assert not result.is_error, result.content
    return result.structured_content


def error_text(result: Any) -> str:
    assert result.is_error, result
    return " ".join(getattr(c, "text", "") for c in result.content)


def log_events(data_dir: Path) -> list:
    store = EventStore(data_dir, read_only=True)
    try:
        return store.events()
    finally:
        store.close()


def stdio_client(data_dir: Path, name: str) -> Client:
    params = StdioServerParameters(command=MEMCLI, args=["mcp", "--data-dir", str(data_dir), "--strategy", STRATEGY],
                                   env=server_env())
    return Client(params, client_info=Implementation(name=name, version="1.0"), read_timeout_seconds=WAIT_S)


@asynccontextmanager
async def http_server(data_dir: Path, token: str | None = None) -> AsyncIterator[str]:
    """`memcli mcp --http` on a free port; yields its URL once it answers, always stops it."""
    port = free_port()
    args = [MEMCLI, "mcp", "--http", "--port", str(port), "--data-dir", str(data_dir), "--strategy", STRATEGY]
    if token:
        args += ["--token", token]
    log = (data_dir.parent / f"server-{port}.log").open("w")
    proc = subprocess.Popen(args, env={**os.environ}, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/mcp"
    try:
        deadline = time.monotonic() + WAIT_S
        while True:
            assert proc.poll() is None, (data_dir.parent / f"server-{port}.log").read_text()
            try:
                httpx.get(url, timeout=2)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "the HTTP server did not come up"
                await anyio.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        log.close()


def http_client(url: str, name: str, token: str | None = None) -> Client:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    transport = streamable_http_client(url, http_client=httpx2.AsyncClient(headers=headers, timeout=WAIT_S))
    return Client(transport, client_info=Implementation(name=name, version="1.0"), read_timeout_seconds=WAIT_S)


# -- stdio ---------------------------------------------------------------------------------------


async def test_stdio_remember_recall_update_forget(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    with anyio.fail_after(2 * WAIT_S):
        async with stdio_client(data_dir, "test-agent") as client:
            tools = {t.name: t for t in (await client.list_tools()).tools}
            assert set(tools) == {"remember", "recall", "list_memories", "get_memory", "update_memory", "forget"}
            for tool in tools.values():  # descriptions tell a model when to call the tool
                assert len(tool.description or "") > 80
            assert "before answering" in tools["recall"].description

            done = payload(await client.call_tool("remember", {"text": "I live in Lisbon with my cat Miso."}))
            added = [o for o in done["operations"] if o["op"] == "added"]
            assert added and any("Lisbon" in o["text"] for o in added)
            lisbon = next(o["id"] for o in added if "Lisbon" in o["text"])

            found = payload(await client.call_tool("recall", {"query": "Where does the user live?", "k": 3}))
            assert found["hits"][0]["id"] == lisbon
            top = found["hits"][0]
            assert set(top["parts"]) and top["provenance"]["source_turns"][0]["actor"] == "mcp:test-agent"

            payload(await client.call_tool("update_memory", {"id": lisbon, "text": "The user lives in Porto now."}))
            memory = payload(await client.call_tool("get_memory", {"id": lisbon}))
            texts = [v["text"] for v in memory["versions"]]
            assert len(texts) == 2 and "Lisbon" in texts[0] and texts[1] == "The user lives in Porto now."
            assert memory["versions"][0]["valid_to"] is not None and memory["versions"][1]["valid_to"] is None
            assert any(h["kind"] == "memory.updated" and h["actor"] == "mcp:test-agent" for h in memory["history"])

            listed = payload(await client.call_tool("list_memories", {}))
            assert lisbon in [m["id"] for m in listed["memories"]]
            resource = await client.read_resource(f"memory://{STRATEGY}")
            assert "Porto" in resource.contents[0].text

            gone = payload(await client.call_tool("forget", {"id": lisbon}))
            assert gone["forgotten"] and not gone["hard"]
            after = payload(await client.call_tool("recall", {"query": "Where does the user live?", "k": 5}))
            assert lisbon not in [h["id"] for h in after["hits"]]
            deleted = payload(await client.call_tool("list_memories", {"status": "deleted"}))
            assert lisbon in [m["id"] for m in deleted["memories"]]

            # bad arguments: tool errors that say what is wrong, and the server goes on
            assert "no memory 'm999'" in error_text(await client.call_tool("get_memory", {"id": "m999"}))
            assert "k must be a whole number from 1 to 50" in error_text(
                await client.call_tool("recall", {"query": "x", "k": 0}))
            assert "text must be non-empty" in error_text(await client.call_tool("remember", {"text": "   "}))
            assert "status must be one of" in error_text(
                await client.call_tool("list_memories", {"status": "lost"}))
            assert "query" in error_text(await client.call_tool("recall", {"query": 5}))
            assert "no memory" in error_text(await client.call_tool("update_memory", {"id": lisbon, "text": "x"}))
            assert "Unknown tool" in error_text(await client.call_tool("recollect", {}))
            assert payload(await client.call_tool("list_memories", {}))["strategy"] == STRATEGY

    events = log_events(data_dir)
    calls = [e for e in events if e.kind is Kind.MCP_CALL]
    assert calls and {e.actor for e in calls} == {"mcp:test-agent"}
    assert [e.payload["tool"] for e in calls if e.payload["ok"]][:3] == ["remember", "recall", "update_memory"]
    failed = [e for e in calls if not e.payload["ok"]]
    assert failed and all("Lisbon" not in json.dumps(e.payload) for e in calls)  # no user text in mcp.call
    assert any(e.kind is Kind.MESSAGE_USER and e.actor == "mcp:test-agent" for e in events)
    assert not (data_dir / SERVER_FILE).exists()  # the server cleaned up when the client closed stdin


async def test_stdio_hard_forget_erases_the_text(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    with anyio.fail_after(2 * WAIT_S):
        async with stdio_client(data_dir, "eraser") as client:
            done = payload(await client.call_tool("remember", {"text": "My bank PIN hint is the zebra song."}))
            target = done["operations"][0]["id"]
            payload(await client.call_tool("forget", {"id": target, "hard": True}))
            found = payload(await client.call_tool("recall", {"query": "What is my bank PIN hint?", "k": 5}))
            assert target not in [h["id"] for h in found["hits"]]
    assert "zebra" not in json.dumps([e.payload for e in log_events(data_dir)])


# -- Streamable HTTP -------------------------------------------------------------------------------


async def test_http_two_clients_share_memories(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    with anyio.fail_after(3 * WAIT_S):
        async with http_server(data_dir) as url:
            async with http_client(url, "agent-a") as a:
                done = payload(await a.call_tool("remember", {"text": "Our deploy target is the Hetzner box."}))
                assert done["operations"]
            async with http_client(url, "agent-b") as b:
                found = payload(await b.call_tool("recall", {"query": "Where do we deploy?", "k": 3}))
                assert found["hits"] and "Hetzner" in found["hits"][0]["text"]
                assert found["hits"][0]["provenance"]["source_turns"][0]["actor"] == "mcp:agent-a"
            # two agents at once: the engine thread takes their calls one by one, none is lost
            results: list[Any] = []

            async def told(client: Client, text: str) -> None:
                results.append(await client.call_tool("remember", {"text": text}))

            async with http_client(url, "agent-a") as a, http_client(url, "agent-b") as b:
                async with anyio.create_task_group() as tg:
                    for i in range(4):
                        tg.start_soon(told, a, f"Service a{i} listens on port 80{i}0.")
                        tg.start_soon(told, b, f"Queue b{i} holds {i + 2} workers.")
            assert len(results) == 8 and not any(r.is_error for r in results)
    said = [e for e in log_events(data_dir) if e.kind is Kind.MESSAGE_USER]
    assert sorted(e.payload["text"] for e in said if e.actor == "mcp:agent-b") == [
        f"Queue b{i} holds {i + 2} workers." for i in range(4)]
    assert len([e for e in said if e.actor == "mcp:agent-a"]) == 5
    actors = {e.actor for e in log_events(data_dir) if e.kind is Kind.MCP_CALL}
    assert actors == {"mcp:agent-a", "mcp:agent-b"}
    assert not (data_dir / SERVER_FILE).exists()  # SIGTERM: a clean stop removes the server file


async def test_http_bearer_token(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    with anyio.fail_after(3 * WAIT_S):
        async with http_server(data_dir, token="s3cret-token") as url:
            init = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {}}
            for headers in ({}, {"Authorization": "Bearer wrong"}):
                refused = httpx.post(url, json=init, headers=headers, timeout=30)
                assert refused.status_code == 401
            with pytest.raises(Exception):  # noqa: B017 - the SDK's own error for a refused connection
                async with http_client(url, "intruder", token="wrong") as bad:
                    await bad.list_tools()
            async with http_client(url, "owner", token="s3cret-token") as good:
                assert len((await good.list_tools()).tools) == 6
    assert {e.actor for e in log_events(data_dir) if e.kind is Kind.MCP_CALL} <= {"mcp:owner"}


# -- the engine's notification path and the command line -------------------------------------------


def test_engine_subscribe_gets_each_committed_batch(tmp_path: Path, embedder: Any) -> None:
    from memcli.core import operations as ops

    settings = load_settings(data_dir=tmp_path / "data")
    seen: list[list[int]] = []
    with Engine(settings, embedder=embedder) as engine:
        unsubscribe = engine.subscribe(lambda events: seen.append([e.seq for e in events]))
        engine.subscribe(lambda events: 1 / 0)  # a broken watcher neither undoes nor blocks a write
        engine.record(Kind.MESSAGE_USER, {"text": "hi"})
        engine.apply("mem0", [ops.Add(text="a fact"), ops.Add(text="another")])
        with pytest.raises(Exception):  # noqa: B017 - a rejected batch commits nothing: no notification
            engine.apply("mem0", [ops.Edit(memory_id="m99", text="x")])
        unsubscribe()
        engine.record(Kind.MESSAGE_USER, {"text": "unseen"})
        assert seen == [[1], [2, 3]]
        assert engine.store.last_seq == 4


def test_a_dead_servers_file_is_ignored(tmp_path: Path) -> None:
    """A server killed with SIGKILL leaves its file: the workbench must not try to attach to it."""
    from memcli.mcp.control import ServerInfo, running_server, write_server_file

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    info = ServerInfo(pid=int(dead.stdout), url=f"http://127.0.0.1:{free_port()}", token="t", namespace="mem0",
                      transport="stdio", started="2026-01-01T00:00:00+00:00")
    write_server_file(tmp_path, info)
    assert (tmp_path / SERVER_FILE).stat().st_mode & 0o077 == 0  # the token is for the owner only
    assert running_server(tmp_path) is None
    write_server_file(tmp_path, ServerInfo(**{**info.__dict__, "pid": os.getpid()}))  # alive, but nothing listens
    assert running_server(tmp_path) is None


@pytest.mark.parametrize("args, message", [
    (["--token", "x"], "--token applies to --http"),
    (["--strategy", "nosuch"], "nosuch"),
    (["--set", "top_s=99", "--strategy", "mem0"], "top_s"),
    (["--http", "--port", "BUSY"], "cannot listen on 127.0.0.1"),
    (["--http", "--port", "70000"], "--port"),
])
def test_bad_input_is_one_line_and_leaves_no_data_dir(tmp_path: Path, args: list[str], message: str) -> None:
    data_dir = tmp_path / "data"
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        args = [str(busy.getsockname()[1]) if a == "BUSY" else a for a in args]
        run = subprocess.run([MEMCLI, "mcp", *args, "--data-dir", str(data_dir)], capture_output=True, text=True,
                             timeout=WAIT_S, stdin=subprocess.DEVNULL)
    assert run.returncode == 1, run.stderr
    assert run.stderr.startswith("memcli: error:") and run.stderr.strip().count("\n") == 0
    assert message in run.stderr and "Traceback" not in run.stderr
    assert not data_dir.exists()


def test_install_prints_and_merges_client_config(tmp_path: Path) -> None:
    env = {**os.environ, "HOME": str(tmp_path)}
    data_dir = tmp_path / "data"
    printed = subprocess.run([MEMCLI, "mcp", "install", "claude-desktop", "--data-dir", str(data_dir)],
                             capture_output=True, text=True, timeout=WAIT_S, env=env)
    assert printed.returncode == 0, printed.stderr
    entry = json.loads(printed.stdout)["mcpServers"]["memcli"]
    assert entry["args"] == ["mcp", "--data-dir", str(data_dir)] and Path(entry["command"]).name == "memcli"

    config = tmp_path / ".cursor" / "mcp.json"
    config.parent.mkdir()
    config.write_text(json.dumps({"mcpServers": {"other": {"command": "x"}}}))
    wrote = subprocess.run([MEMCLI, "mcp", "install", "cursor", "--write", "--data-dir", str(data_dir)],
                           capture_output=True, text=True, timeout=WAIT_S, env=env)
    assert wrote.returncode == 0, wrote.stderr
    merged = json.loads(config.read_text())["mcpServers"]
    assert set(merged) == {"other", "memcli"} and merged["memcli"]["args"][0] == "mcp"

    bad = subprocess.run([MEMCLI, "mcp", "install", "notepad"], capture_output=True, text=True, timeout=WAIT_S,
                         env=env)
    assert bad.returncode == 1 and "unknown client 'notepad'" in bad.stderr


def test_recall_pages_and_token_bound(tmp_path: Path, embedder: Any) -> None:
    """The service under the tools, in process: pages do not repeat, `max_tokens` cuts the answer."""
    from memcli.mcp.service import MemoryService
    from memcli.chat import Chat
    from memcli.strategy.registry import StrategyRegistry

    settings = load_settings(data_dir=tmp_path / "data")
    engine = Engine(settings, embedder=embedder)
    chat = Chat(engine, StrategyRegistry(), model=None, strategy="rag-turns", background=False)
    service = MemoryService(chat)
    try:
        for fact in ["I play the cello on Sundays.", "My sister Rita lives in Porto.", "I drink green tea.",
                     "I work as a nurse at night.", "My cat Miso is nine.", "I am learning Rust.",
                     "I run 10 km every Tuesday."]:
            assert service.remember(fact, None, actor="mcp:unit")["operations"]
        first = service.recall("what do I do each week?", k=3)
        second = service.recall("what do I do each week?", k=3, page=2)
        assert len(first["hits"]) == 3 and first["next_page"] == 2
        assert not {h["id"] for h in first["hits"]} & {h["id"] for h in second["hits"]}
        small = service.recall("what do I do each week?", k=5, max_tokens=50)
        assert len(small["hits"]) == 1 and small["cut_to_tokens"] and small["tokens_estimated"] <= 50
        listed = service.list_memories("active", 1)
        assert listed["total"] == 7 and listed["next_page"] is None
    finally:
        chat.close()
        engine.close()
