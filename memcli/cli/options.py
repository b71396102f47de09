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
SetOpt = Annotated[list[str] | None, typer.Option("--set", help="Strategy parameter name=value (repeatable).")]


def settings_for(data_dir: Path | None, **overrides: Any) -> Settings:
    return load_settings(data_dir=data_dir, **overrides)


def print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, indent=2, default=str, ensure_ascii=False) + "\n")


def known_namespace(store: Any, name: str) -> str:
    """`name` if it is a strategy or a namespace with memories; else a one-line error (never an empty list)."""
    from memcli.errors import MemcliError
    from memcli.strategy.registry import StrategyRegistry

    known = set(store.namespaces()) | set(StrategyRegistry().names())
    if name not in known:
        raise MemcliError(f"no strategy or memory namespace {name!r} (known: {', '.join(sorted(known))})")
    return name


def require_data(data_dir: Path) -> None:
    """A command that changes existing memories needs a data dir that has some (never create one to fail in)."""
    from memcli.core.store.files import DB_FILE
    from memcli.errors import MemcliError

    if not (data_dir / DB_FILE).is_file():
        raise MemcliError(f"no memcli data in {data_dir} yet (nothing has been written there)")


def require_empty(data_dir: Path) -> None:
    """An import goes into a data dir without events; checked before the dir is opened for writing."""
    from memcli.core.store.files import DB_FILE
    from memcli.errors import MemcliError

    if (data_dir / DB_FILE).is_file():
        raise MemcliError(f"{data_dir} already has memcli data: import into an empty data dir")
