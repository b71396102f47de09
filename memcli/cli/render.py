"""User text in tables: shown as written, never read as Rich markup ("[red]", "[/]", "[key]")."""

from __future__ import annotations

from typing import Any

from rich.markup import escape
from rich.table import Table
from rich.text import Text


def cells(*values: Any) -> list[Text]:
    """Table cells that show each value literally (a Text is kept as it is)."""
    return [v if isinstance(v, Text) else Text(str(v)) for v in values]


def add_row(table: Table, *values: Any) -> None:
    table.add_row(*cells(*values))


__all__ = ["add_row", "cells", "escape"]
