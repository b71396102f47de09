"""`memcli mcp`: the MCP server (official SDK, `MCPServer`) and its life cycle.

One process owns the data dir: it opens the engine for writing, runs every engine call on one
thread (in arrival order), serves MCP over stdio or Streamable HTTP on 127.0.0.1, and serves the
control API for attached workbenches (control.py). See docs/mcp.md. Imported only by `memcli mcp`.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import os
import signal
import socket
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Annotated, Any, Callable

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ResourceError, ToolError
from mcp.types import ToolAnnotations
from pydantic import Field

from memcli import __version__
from memcli.core.events import Kind
from memcli.errors import MemcliError
from memcli.mcp.control import (
    EventHub, ServerInfo, control_app, new_token, now_iso, remove_server_file, write_server_file,
)
from memcli.mcp.service import MAX_K, MemoryService, ToolInputError
from memcli.chat import Chat

INSTRUCTIONS = """\
memcli is your long-term memory, kept in an event log a person can watch and correct.
Call `recall` before answering anything that may depend on what you were told earlier (the user's
preferences, facts about them or their project, past decisions). Call `remember` when the user
states something worth keeping beyond this conversation. Use `update_memory` or `forget` when a
memory is wrong or the user asks you to drop it. Memories may change between calls: a person can
edit, pin or delete them in the workbench."""

REMEMBER = """Store something worth remembering beyond this conversation: a fact about the user, a
preference, a decision, a project detail. Call it when the user states such a thing (or asks you to
remember it). Pass the statement in plain words, one fact per call works best. The memory strategy
decides what to keep: it may add a memory, update or merge an existing one, or keep nothing new;
the result lists what it did."""

RECALL = """Search long-term memory. Call it before answering a question that may depend on earlier
conversations or on what the user told you about themselves, their preferences or their work.
Returns the best memories with their score parts and where they came from, cut to `max_tokens`;
ask for `page` 2, 3… for more."""

LIST = """List stored memories by status (active, archived, deleted, quarantined), 20 a page. Use it to
review what is remembered; use `recall` to find memories about a topic."""

GET = """One memory in full: its current text, every earlier version, and every event that touched it
(who added, updated, edited or recalled it). Call it before changing a memory you are unsure about."""

UPDATE = """Replace the text of a memory that is out of date or wrong (the old text stays in its history).
Use the id from `recall` or `list_memories`."""

FORGET = """Delete a memory the user wants gone or that is wrong and cannot be fixed. By default it can
be restored by a person; `hard` erases its text (and the turns it came from) for good — only when
the user asks for that explicitly."""


STOP_GRACE_S = 5.0


def client_name(ctx: Any) -> str:
    """The name the MCP client gave at initialize ("unknown" when it gave none)."""
    try:
        params = ctx.session.client_params
        name = params.client_info.name if params is not None else None
    except Exception:  # noqa: BLE001 - stateless or unusual transports carry no client info
        name = None
    return str(name or "unknown")


class EngineThread:
    """Runs engine work on one thread, in the order it was asked for (DuckDB and LanceDB see one caller)."""

    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="memcli-engine")

    async def __call__(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self._pool, partial(fn, *args, **kwargs))

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True)


def build_server(service: MemoryService, run: EngineThread) -> Any:
    """The MCPServer with the six tools and the `memory://` resources."""
    server = MCPServer("memcli", instructions=INSTRUCTIONS, version=__version__, log_level="WARNING")

    async def call(ctx: Context, tool: str, fn: Callable[..., dict[str, Any]], *args: Any,
                   log: Callable[[dict[str, Any]], dict[str, Any]] = lambda r: {}, **kwargs: Any) -> dict[str, Any]:
        """Run a tool on the engine thread and log it as an `mcp.call` event (ids and counts, no user text)."""
        actor = f"mcp:{client_name(ctx)}"
        needs_actor = fn.__name__ in ("remember", "update_memory", "forget")

        def work() -> dict[str, Any]:
            try:
                result = fn(*args, **({"actor": actor} if needs_actor else {}), **kwargs)
            except MemcliError as exc:
                service.chat.engine.record(Kind.MCP_CALL, {"tool": tool, "ok": False, "error": str(exc)},
                                              actor=actor, namespace=service.namespace)
                raise
            service.chat.engine.record(Kind.MCP_CALL, {"tool": tool, "ok": True, **log(result)},
                                          actor=actor, namespace=service.namespace)
            return result

        try:
            return await run(work)
        except MemcliError as exc:
            raise ToolError(str(exc)) from None

    read_only = ToolAnnotations(read_only_hint=True, open_world_hint=False)

    @server.tool(description=REMEMBER, annotations=ToolAnnotations(destructive_hint=False, open_world_hint=False))
    async def remember(text: Annotated[str, Field(description="What to remember, in plain words.")],
                       ctx: Context,
                       metadata: Annotated[dict[str, Any] | None, Field(
                           description="Optional labels kept with the turn (e.g. project, topic).")] = None,
                       ) -> dict[str, Any]:
        return await call(ctx, "remember", service.remember, text, metadata,
                          log=lambda r: {"turn": r["turn"], "memories": [o["id"] for o in r["operations"]]})

    @server.tool(description=RECALL, annotations=read_only)
    async def recall(query: Annotated[str, Field(description="What to look for, in plain words.")],
                     ctx: Context,
                     k: Annotated[int, Field(description=f"Memories per page (1-{MAX_K}).")] = 5,
                     page: Annotated[int, Field(description="Page of results, from 1.")] = 1,
                     max_tokens: Annotated[int, Field(description="Upper bound of the answer's size.")] = 800,
                     ) -> dict[str, Any]:
        return await call(ctx, "recall", service.recall, query, k, page, max_tokens,
                          log=lambda r: {"k": k, "page": page, "hit_ids": [h["id"] for h in r["hits"]]})

    @server.tool(description=LIST, annotations=read_only)
    async def list_memories(ctx: Context,
                            status: Annotated[str, Field(description="active, archived, deleted or quarantined."
                                                         )] = "active",
                            page: Annotated[int, Field(description="Page, from 1.")] = 1) -> dict[str, Any]:
        return await call(ctx, "list_memories", service.list_memories, status, page,
                          log=lambda r: {"status": status, "page": page, "shown": len(r["memories"])})

    @server.tool(description=GET, annotations=read_only)
    async def get_memory(id: Annotated[str, Field(description="A memory id such as m3.")],  # noqa: A002
                         ctx: Context) -> dict[str, Any]:
        return await call(ctx, "get_memory", service.get_memory, id, log=lambda r: {"id": r["id"]})

    @server.tool(description=UPDATE, annotations=ToolAnnotations(destructive_hint=False, open_world_hint=False))
    async def update_memory(id: Annotated[str, Field(description="The memory's id.")],  # noqa: A002
                            text: Annotated[str, Field(description="Its new text.")],
                            ctx: Context) -> dict[str, Any]:
        return await call(ctx, "update_memory", service.update_memory, id, text,
                          log=lambda r: {"id": r["id"], "version": r["version"]})

    @server.tool(description=FORGET, annotations=ToolAnnotations(destructive_hint=True, open_world_hint=False))
    async def forget(id: Annotated[str, Field(description="The memory's id.")],  # noqa: A002
                     ctx: Context,
                     hard: Annotated[bool, Field(description="Erase the text for good (only on explicit request)."
                                                 )] = False) -> dict[str, Any]:
        return await call(ctx, "forget", service.forget, id, hard=hard, log=lambda r: {"id": r["id"], "hard": hard})

    @server.resource(f"memory://{service.namespace}", name=service.namespace, mime_type="text/plain",
                     description=f"The active memories of the served strategy ({service.namespace}), one a line.")
    async def served() -> str:
        return await run(service.resource_text, service.namespace)

    @server.resource("memory://{namespace}", name="namespace", mime_type="text/plain",
                     description="The active memories of a strategy's namespace, one a line.")
    async def namespace(namespace: str) -> str:
        try:
            return await run(service.resource_text, namespace)
        except ToolInputError as exc:
            raise ResourceError(str(exc)) from None

    return server


def bearer_guard(app: Any, token: str) -> Any:
    """An ASGI wrapper: every HTTP request needs `Authorization: Bearer <token>` (401 otherwise)."""
    expected = f"Bearer {token}".encode()

    async def guarded(scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            given = dict(scope.get("headers") or []).get(b"authorization", b"")
            if not hmac.compare_digest(given, expected):
                body = b'{"error": "missing or wrong bearer token"}'
                await send({"type": "http.response.start", "status": 401,
                            "headers": [(b"content-type", b"application/json"), (b"www-authenticate", b"Bearer"),
                                        (b"content-length", str(len(body)).encode())]})
                await send({"type": "http.response.body", "body": body})
                return
        await app(scope, receive, send)

    return guarded


def listening_socket(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise MemcliError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    sock.listen(128)
    sock.setblocking(False)
    return sock


def _uvicorn(app: Any) -> Any:
    import uvicorn

    class Server(uvicorn.Server):
        def capture_signals(self) -> Any:
            """The signals are ours (`_serve`): uvicorn's own handling re-raises SIGTERM after a
            graceful stop, which would kill the process before it removes its server file."""
            return contextlib.nullcontext()

    return Server(uvicorn.Config(app, log_level="warning", lifespan="on", timeout_graceful_shutdown=2))


async def _serve(chat: Chat, sock: socket.socket | None, token: str | None,
                 announce: Callable[[str], None]) -> None:
    transport = "stdio" if sock is None else "http"
    run = EngineThread()
    service = MemoryService(chat)
    hub = EventHub(asyncio.get_running_loop())
    unsubscribe = chat.engine.subscribe(hub.publish)
    data_dir = chat.engine.data_dir
    control_token = new_token()
    control_sock = listening_socket("127.0.0.1", 0)
    control = _uvicorn(control_app(chat, run, hub, control_token))
    control.config.lifespan = "off"
    mcp = build_server(service, run)
    info = ServerInfo(pid=os.getpid(), url=f"http://127.0.0.1:{control_sock.getsockname()[1]}", token=control_token,
                      namespace=service.namespace, transport=transport, started=now_iso())
    tasks = [asyncio.create_task(control.serve(sockets=[control_sock]))]
    servers = [control]
    main = asyncio.current_task()

    def stop() -> None:  # SIGTERM/SIGINT: stop serving, then clean up in `finally`
        for server in servers:
            server.should_exit = True
        if transport == "stdio" and main is not None:
            # a read of stdin blocked in a worker thread cannot be cancelled: if the client keeps the pipe
            # open, leave after a grace period (the log is committed batch by batch; the index catches up
            # from it on the next open), without leaving a server file that would invite a workbench in
            remove_server_file(data_dir, info.pid)
            main.cancel()
            timer = threading.Timer(STOP_GRACE_S, os._exit, args=(0,))
            timer.daemon = True
            timer.start()

    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop)
    try:
        await run(chat.engine.embedder.load)  # the first recall should not pay for it
        write_server_file(data_dir, info)
        if transport == "stdio":
            announce(f"memcli mcp: serving {data_dir} ({service.namespace}) over stdio; "
                     f"workbench: `memcli chat -d {data_dir}`")
            await mcp.run_stdio_async()
        else:
            app = mcp.streamable_http_app(host="127.0.0.1")
            http = _uvicorn(bearer_guard(app, token) if token else app)
            servers.append(http)
            announce(f"memcli mcp: serving http://127.0.0.1:{sock.getsockname()[1]}/mcp "
                     f"({data_dir}, {service.namespace}{', bearer token required' if token else ''})")
            await http.serve(sockets=[sock])
    finally:
        control.should_exit = True
        await asyncio.gather(*tasks, return_exceptions=True)
        remove_server_file(data_dir, info.pid)
        unsubscribe()
        run.shutdown()


def serve(chat: Chat, sock: socket.socket | None = None, token: str | None = None) -> None:
    """Serve over stdio (no `sock`) until the client closes stdin, or Streamable HTTP on `sock` (a
    listening socket from `listening_socket`) until the process is interrupted."""
    try:
        asyncio.run(_serve(chat, sock, token, lambda line: print(line, file=sys.stderr, flush=True)))
    except (KeyboardInterrupt, asyncio.CancelledError):
        pass
