"""`memcli mcp`: serve a data dir to MCP clients; `memcli mcp install`: connect a client to it."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path
from typing import Annotated

import typer

from memcli.cli.options import DataDir, Json, SetOpt, print_json, settings_for
from memcli.errors import MemcliError

app = typer.Typer(help="Serve a data dir and a strategy to other agents over the Model Context Protocol "
                  "(stdio by default; --http for several agents). The workbench on the same data dir (`memcli chat -d "
                  "DIR`) attaches to the running server and shows the agent's memory live. `memcli mcp install "
                  "CLIENT` prints a client's config entry.", invoke_without_command=True)

Strategy = Annotated[str | None, typer.Option("--strategy", "-S", help="Memory strategy (default from settings).")]


@app.callback()
def mcp(
    ctx: typer.Context,
    strategy: Strategy = None,
    set_: SetOpt = None,
    http: Annotated[bool, typer.Option("--http", help="Streamable HTTP on 127.0.0.1 (several agents) "
                                       "instead of stdio (one agent that starts the server).")] = False,
    port: Annotated[int, typer.Option("--port", min=0, max=65535, help="HTTP port (0: a free one).")] = 8765,
    token: Annotated[str | None, typer.Option("--token", show_default=False,
                                              help="HTTP only: require `Authorization: Bearer TOKEN` "
                                              "(default: $MEMCLI_MCP_TOKEN when --http).")] = None,
    data_dir: DataDir = None,
) -> None:
    """Serve a data dir and a strategy over MCP (see docs/mcp.md)."""
    if ctx.invoked_subcommand is not None:
        return
    from memcli.mcp.server import listening_socket, serve
    from memcli.strategy.registry import StrategyRegistry, parse_params
    from memcli.chat import open_chat

    if token is not None and not http:
        raise MemcliError("--token applies to --http (stdio has no network side to protect)")
    if http and token is None:
        token = os.environ.get("MEMCLI_MCP_TOKEN")
    if token is not None and not token.strip():
        raise MemcliError("--token must not be empty")
    settings = settings_for(data_dir)
    params = parse_params(set_ or [])
    StrategyRegistry().create(strategy or settings.strategy, params)  # a bad name or value: before the data dir
    sock = listening_socket("127.0.0.1", port) if http else None  # a port in use: likewise
    try:
        with open_chat(settings, strategy=strategy, params=params, background=False) as chat:
            serve(chat, sock, token)
    finally:
        if sock is not None:
            sock.close()


@app.command("install")
def install(
    client: Annotated[str, typer.Argument(help="claude-desktop, cursor, vscode, claude-code or codex.")],
    strategy: Strategy = None,
    write: Annotated[bool, typer.Option("--write", help="Merge the entry into the client's JSON config file "
                                        "(other servers are kept) instead of printing it.")] = False,
    name: Annotated[str, typer.Option("--name", help="The server's name in the client's config.")] = "memcli",
    data_dir: DataDir = None,
    json_out: Json = False,
) -> None:
    """Print (or --write) the config that makes CLIENT start `memcli mcp` on this data dir."""
    from memcli.mcp.install import CLIENTS, server_entry, snippet, write_config

    if client not in CLIENTS:
        raise MemcliError(f"unknown client {client!r} (known: {', '.join(CLIENTS)})")
    settings = settings_for(data_dir)
    command = shutil.which("memcli") or str(Path(sys.argv[0]).resolve())
    entry = server_entry(os.path.abspath(command), settings.data_dir.resolve(), strategy)
    if write:
        path = write_config(client, entry, name)
        if json_out:
            print_json({"client": client, "written": str(path), "entry": entry})
        else:
            typer.echo(f"added {name!r} to {path}; restart {client} to connect")
        return
    if json_out:
        print_json({"client": client, "entry": entry, "snippet": snippet(client, entry, name)})
    else:
        typer.echo(snippet(client, entry, name))
