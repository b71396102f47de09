"""`memcli mcp install`: the config snippet that connects a common MCP client to memcli, and
optionally merged into that client's config file."""

from __future__ import annotations

import json
import os
import shlex
import sys
from pathlib import Path
from typing import Any

from memcli.errors import MemcliError

# client → (config file, the key that holds the servers); None: the client is configured by a command
CLIENTS: dict[str, tuple[str | None, str]] = {
    "claude-desktop": ("~/Library/Application Support/Claude/claude_desktop_config.json" if sys.platform == "darwin"
                       else "~/.config/Claude/claude_desktop_config.json", "mcpServers"),
    "cursor": ("~/.cursor/mcp.json", "mcpServers"),
    "vscode": (".vscode/mcp.json", "servers"),
    "claude-code": (None, ""),
    "codex": ("~/.codex/config.toml", "mcp_servers"),
}


def server_entry(command: str, data_dir: Path, strategy: str | None) -> dict[str, Any]:
    args = ["mcp", "--data-dir", str(data_dir)] + (["--strategy", strategy] if strategy else [])
    return {"command": command, "args": args}


def snippet(client: str, entry: dict[str, Any], name: str = "memcli") -> str:
    if client not in CLIENTS:
        raise MemcliError(f"unknown client {client!r} (known: {', '.join(CLIENTS)})")
    path, key = CLIENTS[client]
    if client == "claude-code":
        return f"claude mcp add {name} -- " + shlex.join([entry["command"], *entry["args"]])
    if client == "codex":
        return (f"[{key}.{name}]\ncommand = {json.dumps(entry['command'])}\n"
                f"args = [{', '.join(json.dumps(a) for a in entry['args'])}]\n")
    body = {"type": "stdio", **entry} if client == "vscode" else entry
    return json.dumps({key: {name: body}}, indent=2)


def config_path(client: str) -> Path:
    path = CLIENTS[client][0]
    if path is None or client == "codex":
        raise MemcliError(f"{client} is configured with the printed snippet (no JSON file to merge into)")
    return Path(os.path.expanduser(path))


def write_config(client: str, entry: dict[str, Any], name: str = "memcli") -> Path:
    """Merge the entry into the client's JSON config (other servers and settings are kept)."""
    path = config_path(client)
    key = CLIENTS[client][1]
    config: dict[str, Any] = {}
    if path.exists():
        try:
            config = json.loads(path.read_text(encoding="utf-8") or "{}")
        except ValueError as exc:
            raise MemcliError(f"{path} is not valid JSON ({exc}); fix it or add the snippet by hand") from None
        if not isinstance(config, dict):
            raise MemcliError(f"{path} does not hold a JSON object; add the snippet by hand")
    servers = config.setdefault(key, {})
    servers[name] = {"type": "stdio", **entry} if client == "vscode" else entry
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    tmp.replace(path)
    return path
