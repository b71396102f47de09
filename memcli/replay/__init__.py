"""Scripted sessions: the file format, the headless runner, importers."""
