"""A scripted agent that uses memcli as its memory over MCP: run it, and watch the memory fill up
in the workbench beside it.

    memcli mcp --http --port 8765 -d ~/agent-memory &       # the server owns the data dir
    memcli chat -d ~/agent-memory                            # the workbench attaches (another terminal)
    python examples/mcp_agent.py --url http://127.0.0.1:8765/mcp

Without --url the script starts `memcli mcp` itself over stdio (then open the workbench on the
same --data-dir while it runs). Each step is printed; --pause sets the seconds between steps.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
from typing import Any

from mcp import Client, StdioServerParameters
from mcp.types import Implementation

# (tool, arguments, what the agent is doing). "$last" is the id of the last memory a step added.
SCRIPT: list[tuple[str, dict[str, Any], str]] = [
    ("remember", {"text": "My name is Ada and I maintain the billing service."}, "the user introduces herself"),
    ("remember", {"text": "I prefer short answers with code first."}, "a preference worth keeping"),
    ("remember", {"text": "Our production database is PostgreSQL 16 on a Hetzner box."}, "project facts"),
    ("remember", {"text": "Deploys happen on Tuesdays after the 10:00 stand-up."}, "a team habit"),
    ("recall", {"query": "Which database do we run in production?", "k": 3}, "before answering a question"),
    ("remember", {"text": "We moved production to PostgreSQL 17 last week."}, "a fact changes"),
    ("recall", {"query": "What version of PostgreSQL is production on?", "k": 3}, "the agent checks again"),
    ("list_memories", {}, "reviewing what is kept"),
    ("remember", {"text": "My cat is called Miso."}, "a personal detail"),
    ("forget", {"id": "$last"}, "the user asks to forget it"),
    ("recall", {"query": "How does the user like answers?", "k": 2}, "style check before replying"),
]


def show(tool: str, result: Any) -> dict[str, Any]:
    if result.is_error:
        print(f"   ! {' '.join(getattr(c, 'text', '') for c in result.content)}")
        return {}
    data = result.structured_content or {}
    if tool == "remember":
        for op in data.get("operations", []):
            print(f"   {op['op']:<10} {op['id']:<5} {op.get('text', '')}")
        if data.get("note"):
            print(f"   {data['note']}")
    elif tool == "recall":
        for hit in data.get("hits", []):
            parts = " ".join(f"{k} {v:.3f}" for k, v in hit["parts"].items())
            print(f"   {hit['id']:<5} {hit['score']:.4f} ({parts}) {hit['text']}")
    elif tool == "list_memories":
        for m in data.get("memories", []):
            print(f"   {m['id']:<5} {m['text']}")
    else:
        print("   " + json.dumps(data)[:200])
    return data


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="a running `memcli mcp --http` (default: start one over stdio)")
    parser.add_argument("--data-dir", default="./agent-memory", help="data dir for the stdio server")
    parser.add_argument("--strategy", default="mem0", help="strategy for the stdio server")
    parser.add_argument("--pause", type=float, default=1.5, help="seconds between steps")
    args = parser.parse_args()
    server: Any = args.url or StdioServerParameters(
        command=shutil.which("memcli") or "memcli",
        args=["mcp", "--data-dir", args.data_dir, "--strategy", args.strategy])
    last = ""
    async with Client(server, client_info=Implementation(name="example-agent", version="1.0")) as client:
        for i, (tool, arguments, why) in enumerate(SCRIPT, 1):
            arguments = {k: (last if v == "$last" else v) for k, v in arguments.items()}
            print(f"{i:>2}. {why}: {tool}({json.dumps(arguments)})")
            data = show(tool, await client.call_tool(tool, arguments))
            added = [op["id"] for op in data.get("operations", []) if op["op"] == "added"]
            last = added[-1] if added else last
            await asyncio.sleep(args.pause)


if __name__ == "__main__":
    asyncio.run(main())
