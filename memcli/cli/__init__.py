"""The Typer command-line interface (headless: never imports Textual at module level)."""
