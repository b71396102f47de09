"""The headless core: event log, memory projection, writer lock."""
