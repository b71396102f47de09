"""The `memcli` command."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import click
import typer
from typer.core import TyperGroup

from memcli import __version__
from memcli.errors import user_error_message


# Typer ≥ 0.16 carries its own copy of click; older versions raise click's own exceptions.
_USAGE_ERRORS = (click.ClickException, getattr(typer, "TyperException", click.ClickException))


class MemcliGroup(TyperGroup):
    """The one place where expected errors become one line on stderr and exit code 1.

    Expected: a MemcliError anywhere below, a usage error (unknown option, bad value), and
    the machine's own failures (full disk, read-only or forbidden folder; see
    `memcli.errors.user_error_message`). Anything else is a bug and keeps its traceback.
    """

    def main(self, args: Any = None, prog_name: str | None = None, complete_var: str | None = None,
             standalone_mode: bool = True, **extra: Any) -> Any:
        try:
            code = super().main(args=args, prog_name=prog_name, complete_var=complete_var, standalone_mode=False,
                                **extra)
        except (KeyboardInterrupt, typer.Abort):
            click.echo("memcli: interrupted", err=True)
            code = 130
        except _USAGE_ERRORS as exc:  # unknown option, bad value, missing argument
            ctx = getattr(exc, "ctx", None)
            if type(exc).__name__ == "NoArgsIsHelpError" and ctx is not None:  # `memcli memories`: its help
                click.echo(ctx.get_help())
                code = 2
            else:
                hint = f" (see `{ctx.command_path} --help`)" if ctx is not None else ""
                _fail(exc.format_message() + hint)  # type: ignore[attr-defined]
                code = 1
        except Exception as exc:
            message = user_error_message(exc)
            if message is None:
                raise
            _fail(message)
            code = 1
        code = code if isinstance(code, int) else 0
        if standalone_mode:
            sys.exit(code)
        return code


def _fail(message: str) -> None:
    one_line = " ".join(part.strip() for part in message.splitlines() if part.strip())
    click.echo(f"memcli: error: {one_line}", err=True)


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
    data_dir: Annotated[Path | None, typer.Option("--data-dir", "-d", show_default=False,
                                                  help="Without a command: the chat's data folder.")] = None,
    model: Annotated[str | None, typer.Option("--model", show_default=False,
                                              help="Without a command: the chat model (GGUF, name or URL).")] = None,
    strategy: Annotated[str | None, typer.Option("--strategy", "-S", show_default=False,
                                                 help="Without a command: the memory strategy.")] = None,
) -> None:
    """memcli: chat with a local model and watch, inspect and edit what it remembers.

    Without a command, opens the chat workbench (`memcli chat`); `memcli -d DIR` is `memcli chat -d DIR`.
    """
    if ctx.invoked_subcommand is None:
        from memcli.cli.chat import chat

        chat(strategy=strategy, set_=None, model=model, cassette=None, record=False, playback=False, watch=None,
             plain=False, data_dir=data_dir)
    elif data_dir is not None or model is not None or strategy is not None:
        raise click.UsageError(f"-d, --model and -S before a command are for the chat that opens without one; "
                               f"put them after `{ctx.invoked_subcommand}`", ctx=ctx)


def _register() -> None:
    from memcli.cli import (
        ask, chat, config_cmd, convert_cmd, doctor, eval_cmd, log_cmd, maintenance, mcp_cmd, memories_cmd,
        models_cmd, replay_cmd, strategies_cmd,
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
    app.add_typer(mcp_cmd.app, name="mcp")


_register()


def main() -> None:
    app(prog_name="memcli")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
