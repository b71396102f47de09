"""memcli: a terminal memory workbench for LLM chat."""

__version__ = "0.1.0"
