"""The base of every error that is the user's to fix (a bad path, a busy data dir, …).

The CLI prints these as one line and exits 1; anything else is a bug and keeps
its traceback.
"""


class MemcliError(Exception):
    """An error with a message a user can act on."""
