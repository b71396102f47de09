"""A workbench attached to a running `memcli mcp`: the Chat-shaped client of its control API.

`RemoteChat` offers what the workbench uses of a `Chat` (the store's reads, `edit`, the
engine subscription) over loopback HTTP; the live feed follows `/stream` (server-sent events) on a
daemon thread. Chatting and switching strategy are refused: the agent owns the conversation and
the server owns the strategy.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any, Callable, Iterable

import httpx

from memcli.clock import SystemClock
from memcli.core import operations as ops
from memcli.core.events import Event, Kind
from memcli.core.projection import Memory, MemoryVersion
from memcli.errors import MemcliError
from memcli.mcp.control import ServerInfo
from memcli.mcp.wire import event_from_dict, memory_from_dict, version_from_dict
from memcli.strategy.registry import StrategyRegistry

TIMEOUT_S = 30
RECONNECT_S = 1.0


class AttachedError(MemcliError):
    """The served data dir's server refused or failed a request."""


class RemoteStore:
    """The reads of `EventStore` the workbench uses, answered by the serving process."""

    def __init__(self, client: httpx.Client) -> None:
        self._client = client

    def _get(self, path: str, **params: Any) -> Any:
        clean = {k: (",".join(str(x) for x in v) if isinstance(v, (list, tuple)) else v)
                 for k, v in params.items() if v is not None}
        try:
            response = self._client.get(path, params=clean)
        except httpx.HTTPError as exc:
            raise AttachedError(f"the memcli mcp server stopped answering ({exc})") from None
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise AttachedError(response.json().get("error", f"HTTP {response.status_code}"))
        return response.json()

    @property
    def last_seq(self) -> int:
        return int(self._get("/info")["last_seq"])

    def events(self, *, since: int = 0, until: int | None = None, kinds: Iterable[str] | None = None,
               namespace: str | None = None, memory_id: str | None = None, newest: int | None = None,
               seqs: Iterable[int] | None = None) -> list[Event]:
        seqs = sorted(set(seqs)) if seqs is not None else None
        if seqs == []:
            return []
        rows = self._get("/events", since=since, until=until, kinds=[str(k) for k in kinds] if kinds else None,
                         namespace=namespace, memory_id=memory_id, newest=newest, seqs=seqs)
        return [event_from_dict(r) for r in rows]

    def memory_history(self, namespace: str, memory_id: str) -> list[Event]:
        return [event_from_dict(r) for r in self._get("/history", namespace=namespace, id=memory_id)]

    def source_turns(self, seqs: Iterable[int]) -> list[Event]:
        return self.events(seqs=seqs, kinds=[Kind.MESSAGE_USER.value, Kind.MESSAGE_ASSISTANT.value])

    def memories(self, namespace: str, statuses: Iterable[str] | None = None) -> list[Memory]:
        rows = self._get("/memories", namespace=namespace, status=list(statuses) if statuses is not None else None)
        return [memory_from_dict(r) for r in rows]

    def memory(self, namespace: str, memory_id: str) -> Memory | None:
        found = self._get("/memory", namespace=namespace, id=memory_id)
        return memory_from_dict(found["memory"]) if found else None

    def versions(self, namespace: str, memory_id: str) -> list[MemoryVersion]:
        found = self._get("/memory", namespace=namespace, id=memory_id)
        return [version_from_dict(v) for v in found["versions"]] if found else []

    def count_added(self, namespace: str) -> int:
        return int(self._get("/count_added", namespace=namespace)["count"])


class RemoteEngine:
    def __init__(self, store: RemoteStore, data_dir: Path) -> None:
        self.store = store
        self.data_dir = data_dir
        self.clock = SystemClock()
        self._subscribers: list[Callable[[list[Event]], None]] = []

    def subscribe(self, callback: Callable[[list[Event]], None]) -> Callable[[], None]:
        """As `Engine.subscribe`: `callback(events)` for every event the server commits, once `RemoteChat.follow`
        runs (in its thread); returns the function that unsubscribes it."""
        self._subscribers.append(callback)
        return lambda: self._subscribers.remove(callback) if callback in self._subscribers else None

    def publish(self, events: list[Event]) -> None:
        for callback in list(self._subscribers):
            callback(events)

    def close(self) -> None:
        """Nothing to let go of: the serving process owns the data dir."""


def _edit_body(operation: ops.Operation) -> dict[str, Any]:
    match operation:
        case ops.Edit():
            return {"action": "edit", "memory_id": operation.memory_id, "text": operation.text}
        case ops.Pin():
            return {"action": "pin" if operation.pinned else "unpin", "memory_id": operation.memory_id}
        case ops.Delete(hard=False):
            return {"action": "forget", "memory_id": operation.memory_id}
        case ops.Restore():
            return {"action": "restore", "memory_id": operation.memory_id}
    raise AttachedError(f"{type(operation).__name__} cannot be sent to a served data dir")


class RemoteChat:
    """The workbench's chat when the data dir is served by `memcli mcp`."""

    model = None
    attached = True

    def __init__(self, info: ServerInfo, data_dir: Path) -> None:
        self.info = info
        self._client = httpx.Client(base_url=info.url, headers=info.headers, timeout=TIMEOUT_S)
        self.engine = RemoteEngine(RemoteStore(self._client), data_dir)
        self.namespace = info.namespace
        self.registry = StrategyRegistry()  # which strategy a namespace runs (the memory screen's curves)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._response: httpx.Response | None = None

    def edit(self, operation: ops.Operation, namespace: str | None = None) -> list[Event]:
        body = {**_edit_body(operation), "namespace": namespace or self.namespace}
        try:
            response = self._client.post("/edit", json=body)
        except httpx.HTTPError as exc:
            raise AttachedError(f"the memcli mcp server stopped answering ({exc})") from None
        if response.status_code != 200:
            raise AttachedError(response.json().get("error", f"HTTP {response.status_code}"))
        return [event_from_dict(r) for r in response.json()]  # the live feed shows them as they commit

    def send(self, *args: Any, **kwargs: Any) -> Any:
        raise MemcliError(f"this data dir is served to an agent by memcli mcp (pid {self.info.pid}): "
                          "the agent holds the conversation; watch and edit its memories here")

    def follow(self, since: int) -> None:
        """Deliver every event after `since` to the engine's subscribers, live, until `close` (reconnecting)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._follow, args=(since,), name="memcli-attach", daemon=True)
            self._thread.start()

    def _follow(self, since: int) -> None:
        last = since
        while not self._stop.is_set():
            try:
                with httpx.Client(base_url=self.info.url, headers=self.info.headers,
                                  timeout=httpx.Timeout(TIMEOUT_S, read=60)) as client:
                    with client.stream("GET", "/stream", params={"since": last}) as response:
                        self._response = response
                        for line in response.iter_lines():
                            if self._stop.is_set():
                                return
                            if line.startswith("data: "):
                                event = event_from_dict(json.loads(line[6:]))
                                last = event.seq
                                self.engine.publish([event])
            except (httpx.HTTPError, ValueError):
                pass
            self._stop.wait(RECONNECT_S)

    def drain(self) -> None:
        """The server does the memory work; nothing is queued here."""

    def close(self) -> None:
        self._stop.set()
        if self._response is not None:
            try:
                self._response.close()
            except Exception:  # noqa: BLE001 - closing a stream the other thread is reading
                pass
        self._client.close()
