"""Options shared by every command, and the helpers that turn them into objects."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from memcli.settings import Settings, load_settings

DataDir = Annotated[
    Path | None,
    typer.Option("--data-dir", "-d", envvar="MEMCLI_DATA_DIR", help="Data folder (default: the platform data dir).",
                 show_default=False),
]
Json = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON instead of tables.")]


def settings_for(data_dir: Path | None, **overrides: Any) -> Settings:
    return load_settings(data_dir=data_dir, **overrides)


def print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, indent=2, default=str, ensure_ascii=False) + "\n")
