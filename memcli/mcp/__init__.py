"""memcli as the memory of other agents: a Model Context Protocol server (see docs/mcp.md)."""
