"""memcli's built-in memory strategies (installed as `memcli_plugins`).

Each module is a plugin registered through the `memcli.strategies` entry-point
group, exactly as a third-party package would register one.
"""
