"""`memcli config path|show`."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

from memcli.cli.options import DataDir, Json, print_json, settings_for
from memcli.settings import config_file_path, describe_settings

app = typer.Typer(help="Where the config file is and what the settings are.", no_args_is_help=True)


@app.command("path")
def path(json_out: Json = False) -> None:
    """Print the config file path (it need not exist yet)."""
    p = config_file_path()
    if json_out:
        print_json({"config_file": str(p), "exists": p.exists()})
    else:
        typer.echo(str(p))


@app.command("show")
def show(data_dir: DataDir = None, json_out: Json = False) -> None:
    """Print every setting with its effective value and what it does."""
    settings = settings_for(data_dir)
    values = settings.model_dump(mode="json")
    if json_out:
        print_json(values)
        return
    table = Table(title=f"settings (config file: {config_file_path()})")
    table.add_column("setting", style="bold")
    table.add_column("value")
    table.add_column("env")
    table.add_column("what it does")
    for name, help_text in describe_settings():
        table.add_row(name, str(values[name]), f"MEMCLI_{name.upper()}", help_text)
    Console().print(table)
