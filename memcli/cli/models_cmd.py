"""`memcli models`: the GGUF chat models already on this machine, usable with `--model NAME`."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from memcli.cli.options import DataDir, Json, print_json, settings_for


def models(json_out: Json = False, data_dir: DataDir = None) -> None:
    """List GGUF chat models found in Ollama's store, LM Studio, the Hugging Face cache, llama.cpp's cache
    and the `models_dir` setting (size, architecture and quantisation from each file's header)."""
    from memcli.model.discovery import find_models

    settings = settings_for(data_dir)
    found = find_models(settings.models_dir)
    if json_out:
        print_json([m.as_dict() for m in found])
        return
    table = Table(box=None, pad_edge=False)
    for column in ("name", "source", "size", "arch", "quant", "path"):
        table.add_column(column, overflow="fold", justify="right" if column == "size" else "left")
    for m in found:
        table.add_row(m.name, m.source, f"{m.size / 2**20:,.0f} MB", m.architecture, m.quantisation, str(m.path))
    console = Console()
    console.print(table)
    console.print("[dim]use one: memcli chat --model NAME · or an endpoint: --model http://127.0.0.1:8080/v1[/]")
