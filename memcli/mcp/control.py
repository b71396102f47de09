"""The serving process's local control API: what an attached workbench reads and edits.

Loopback HTTP only, every request with the token of `<data dir>/mcp-server.json` (a file only the
data dir's owner can read). `/stream` is the event log's live tail as server-sent events, fed by
the engine's one notification path (`Engine.subscribe`); the rest are plain JSON reads of the
store and the workbench's edits, run on the server's engine thread like every MCP tool call.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import os
import secrets
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Awaitable, Callable

from memcli.core import operations as ops
from memcli.core.events import Event
from memcli.errors import MemcliError
from memcli.mcp.wire import event_to_dict, record_to_dict

SERVER_FILE = "mcp-server.json"
QUEUE_EVENTS = 10_000  # a workbench this far behind is dropped; it reconnects from its last seq


@dataclass
class ServerInfo:
    """What `mcp-server.json` says about a running server."""

    pid: int
    url: str
    token: str
    namespace: str
    transport: str
    started: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def write_server_file(data_dir: Path, info: ServerInfo) -> Path:
    path = data_dir / SERVER_FILE
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(info.__dict__, f)
    tmp.replace(path)
    return path


def remove_server_file(data_dir: Path, pid: int) -> None:
    """Remove the file if it is still ours (a newer server may have replaced it)."""
    info = read_server_file(data_dir)
    if info is not None and info.pid == pid:
        (data_dir / SERVER_FILE).unlink(missing_ok=True)


def read_server_file(data_dir: Path) -> ServerInfo | None:
    try:
        raw = json.loads((data_dir / SERVER_FILE).read_text())
        return ServerInfo(**{k: raw[k] for k in ServerInfo.__dataclass_fields__})
    except (OSError, ValueError, KeyError, TypeError):
        return None


def running_server(data_dir: Path) -> ServerInfo | None:
    """The live `memcli mcp` serving this data dir, or None (no file, a dead pid, a port that does not answer)."""
    info = read_server_file(data_dir)
    if info is None:
        return None
    try:
        os.kill(info.pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass
    import httpx

    try:
        httpx.get(f"{info.url}/info", headers=info.headers, timeout=3).raise_for_status()
    except httpx.HTTPError:
        return None
    return info


def new_token() -> str:
    return secrets.token_urlsafe(24)


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class EventHub:
    """Fans committed events out to the connected workbenches (one bounded queue each).

    `publish` is the engine subscriber: it runs in the engine thread and hands the events to the
    event loop; a queue that is full is closed (its client reconnects from its last seq)."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.queues: set[asyncio.Queue[Event | None]] = set()

    def publish(self, events: list[Event]) -> None:
        self.loop.call_soon_threadsafe(self._deliver, events)

    def _deliver(self, events: list[Event]) -> None:
        for q in list(self.queues):
            if q.qsize() + len(events) > QUEUE_EVENTS:
                self.queues.discard(q)
                q.put_nowait(None)
                continue
            for e in events:
                q.put_nowait(e)

    def open(self) -> asyncio.Queue[Event | None]:
        q: asyncio.Queue[Event | None] = asyncio.Queue()
        self.queues.add(q)
        return q

    def close(self, q: asyncio.Queue[Event | None]) -> None:
        self.queues.discard(q)


_EDITS: dict[str, Callable[[dict[str, Any]], ops.Operation]] = {
    "edit": lambda b: ops.Edit(memory_id=b["memory_id"], text=str(b.get("text") or ""), reason="edited by hand"),
    "pin": lambda b: ops.Pin(memory_id=b["memory_id"], reason="pinned by hand"),
    "unpin": lambda b: ops.Pin(memory_id=b["memory_id"], pinned=False, reason="unpinned by hand"),
    "forget": lambda b: ops.Delete(memory_id=b["memory_id"], reason="forgotten by hand"),
    "restore": lambda b: ops.Restore(memory_id=b["memory_id"], reason="restored by hand"),
}
EDITS = tuple(_EDITS)


def control_app(chat: Any, run: Callable[..., Awaitable[Any]], hub: EventHub, token: str) -> Any:
    """The Starlette app. `run(fn, *args)` runs `fn` on the engine thread."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response, StreamingResponse
    from starlette.routing import Route

    store = chat.engine.store

    def authorized(request: Request) -> bool:
        given = request.headers.get("authorization", "")
        return hmac.compare_digest(given.encode(), f"Bearer {token}".encode())

    def guarded(handler: Callable[[Request], Awaitable[Response]]) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            if not authorized(request):
                return JSONResponse({"error": "missing or wrong token"}, status_code=401)
            try:
                return await handler(request)
            except (MemcliError, KeyError, ValueError) as exc:
                return JSONResponse({"error": str(exc)}, status_code=400)
        return endpoint

    def _ints(request: Request, name: str) -> int | None:
        value = request.query_params.get(name)
        return int(value) if value not in (None, "") else None

    def _list(request: Request, name: str) -> list[str] | None:
        value = request.query_params.get(name)
        return value.split(",") if value else None

    async def info(request: Request) -> Response:
        return JSONResponse({"namespace": chat.namespace, "pid": os.getpid(), "last_seq": store.last_seq,
                             "data_dir": str(chat.engine.data_dir)})

    async def events(request: Request) -> Response:
        q = request.query_params
        found = await run(store.events, since=_ints(request, "since") or 0, until=_ints(request, "until"),
                          kinds=_list(request, "kinds"),
                          namespace=q.get("namespace"), memory_id=q.get("memory_id"), newest=_ints(request, "newest"),
                          seqs=[int(x) for x in _list(request, "seqs") or []] if "seqs" in q else None)
        return JSONResponse([event_to_dict(e) for e in found])

    async def history(request: Request) -> Response:
        found = await run(store.memory_history, request.query_params["namespace"], request.query_params["id"])
        return JSONResponse([event_to_dict(e) for e in found])

    async def stream(request: Request) -> Response:
        since = _ints(request, "since") or 0
        queue = hub.open()  # before the backlog is read: nothing committed in between is missed

        async def body() -> Any:
            try:
                last = since
                for e in await run(store.events, since=since):
                    last = e.seq
                    yield f"id: {e.seq}\ndata: {json.dumps(event_to_dict(e))}\n\n"
                yield ": live\n\n"
                while True:
                    try:
                        e = await asyncio.wait_for(queue.get(), timeout=15)
                    except asyncio.TimeoutError:
                        yield ": keep-alive\n\n"
                        continue
                    if e is None:  # this client fell too far behind: it reconnects from `last`
                        return
                    if e.seq > last:
                        last = e.seq
                        yield f"id: {e.seq}\ndata: {json.dumps(event_to_dict(e))}\n\n"
            finally:
                hub.close(queue)

        return StreamingResponse(body(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"})

    async def memories(request: Request) -> Response:
        found = await run(store.memories, request.query_params["namespace"], _list(request, "status"))
        return JSONResponse([record_to_dict(m) for m in found])

    async def memory(request: Request) -> Response:
        ns, memory_id = request.query_params["namespace"], request.query_params["id"]
        found = await run(store.memory, ns, memory_id)
        if found is None:
            return JSONResponse({"error": f"no memory {memory_id} in {ns}"}, status_code=404)
        versions = await run(store.versions, ns, memory_id)
        return JSONResponse({"memory": record_to_dict(found), "versions": [record_to_dict(v) for v in versions]})

    async def count_added(request: Request) -> Response:
        return JSONResponse({"count": await run(store.count_added, request.query_params["namespace"])})

    async def edit(request: Request) -> Response:
        body = await request.json()
        action = body.get("action")
        if action not in _EDITS:
            raise ValueError(f"action must be one of {', '.join(EDITS)}")
        op = _EDITS[action](body)
        done = await run(chat.engine.apply, body.get("namespace") or chat.namespace, [op], actor="editor")
        return JSONResponse([event_to_dict(e) for e in done])

    routes = [Route("/info", guarded(info)), Route("/events", guarded(events)), Route("/history", guarded(history)),
              Route("/stream", guarded(stream)),
              Route("/memories", guarded(memories)), Route("/memory", guarded(memory)),
              Route("/count_added", guarded(count_added)), Route("/edit", guarded(edit), methods=["POST"])]
    return Starlette(routes=routes)
