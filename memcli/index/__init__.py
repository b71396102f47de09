"""The LanceDB vector + full-text index, a projection of the event log."""
