"""The `memcli` command."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import click
import typer
from typer.core import TyperGroup

from memcli import __version__
from memcli.errors import MemcliError


class MemcliGroup(TyperGroup):
    """Turns a MemcliError anywhere below into one line on stderr and exit code 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except MemcliError as exc:
            click.echo(f"memcli: error: {exc}", err=True)
            raise typer.Exit(1) from None
        except KeyboardInterrupt:
            click.echo("memcli: interrupted", err=True)
            raise typer.Exit(130) from None


app = typer.Typer(
    cls=MemcliGroup,
    name="memcli",
    help="A terminal memory workbench for LLM chat: see and steer what an assistant remembers.",
    no_args_is_help=False,
    invoke_without_command=True,
    add_completion=False,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"memcli {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    ctx: typer.Context,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """memcli: chat with a local model and watch, inspect and edit what it remembers.

    Without a command, opens the chat workbench (`memcli chat`).
    """
    if ctx.invoked_subcommand is None:
        from memcli.cli.chat import chat

        chat(strategy=None, set_=None, model=None, cassette=None, record=False, replay_calls=False, replay=None,
             plain=False, data_dir=None)


def _register() -> None:
    from memcli.cli import (
        ask, chat, config_cmd, convert_cmd, doctor, eval_cmd, log_cmd, maintenance, memories_cmd, models_cmd,
        replay_cmd, strategies_cmd,
    )

    app.command("chat")(chat.chat)
    app.command("ask")(ask.ask)
    app.add_typer(config_cmd.app, name="config")
    app.add_typer(strategies_cmd.app, name="strategies")
    app.command("doctor")(doctor.doctor)
    app.command("replay")(replay_cmd.replay)
    app.add_typer(memories_cmd.app, name="memories")
    app.add_typer(eval_cmd.app, name="eval")
    app.command("log")(log_cmd.log)
    app.command("convert")(convert_cmd.convert)
    app.command("ingest")(convert_cmd.ingest)
    app.command("export")(maintenance.export)
    app.command("import")(maintenance.import_)
    app.command("rebuild")(maintenance.rebuild)
    app.command("models")(models_cmd.models)
    app.command("backup")(maintenance.backup)


_register()


def main() -> None:
    app(prog_name="memcli")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
