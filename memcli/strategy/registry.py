"""Finding strategies: the `memcli.strategies` entry points and a drop-in folder.

Built-ins (plugins/) are registered through the same entry-point group as any
third-party package. Single-file plugins can be dropped into
`<config dir>/plugins/NAME.py` (one Strategy subclass, `name` = file stem).
Listing names imports nothing; a plugin is imported when first used, and one
that fails to import or is not a Strategy is reported, never fatal.
`MEMCLI_PLUGINS=a,b` limits which plugins load (as simonw/llm's LLM_LOAD_PLUGINS does).
"""

from __future__ import annotations

import importlib.util
import os
import sys
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from typing import Any

import platformdirs

from memcli.errors import MemcliError
from memcli.strategy.api import Strategy

GROUP = "memcli.strategies"


class StrategyLoadError(MemcliError):
    """A strategy is unknown or its plugin failed to load."""


@dataclass(frozen=True)
class Source:
    name: str
    origin: str  # "entry point pkg.module:Class" or "drop-in /path/x.py"
    entry_point: EntryPoint | None = None
    path: Path | None = None


def default_dropin_dir() -> Path:
    return Path(platformdirs.user_config_dir("memcli")) / "plugins"


class StrategyRegistry:
    def __init__(self, dropin_dir: Path | None = None) -> None:
        self.dropin_dir = dropin_dir if dropin_dir is not None else default_dropin_dir()
        self._loaded: dict[str, type[Strategy]] = {}
        self.problems: dict[str, str] = {}

    def sources(self) -> dict[str, Source]:
        """Every strategy name and where it comes from, without importing anything."""
        found: dict[str, Source] = {}
        for ep in entry_points(group=GROUP):
            found[ep.name] = Source(ep.name, f"entry point {ep.value}", entry_point=ep)
        if self.dropin_dir.is_dir():
            for path in sorted(self.dropin_dir.glob("*.py")):
                if not path.name.startswith("_"):
                    found.setdefault(path.stem, Source(path.stem, f"drop-in {path}", path=path))
        allowed = os.environ.get("MEMCLI_PLUGINS")
        if allowed is not None:
            keep = {n.strip() for n in allowed.split(",") if n.strip()}
            found = {n: s for n, s in found.items() if n in keep}
        return dict(sorted(found.items()))

    def names(self) -> list[str]:
        return list(self.sources())

    def load(self, name: str) -> type[Strategy]:
        if name in self._loaded:
            return self._loaded[name]
        source = self.sources().get(name)
        if source is None:
            raise StrategyLoadError(f"no strategy {name!r} (known: {', '.join(self.names()) or 'none'})")
        try:
            cls = self._import(source)
        except Exception as exc:  # noqa: BLE001 - a plugin can fail in any way; it must not take memcli down
            problem = f"{type(exc).__name__}: {exc}"
            self.problems[name] = problem
            raise StrategyLoadError(f"strategy {name!r} ({source.origin}) failed to load: {problem}") from None
        self._loaded[name] = cls
        return cls

    def _import(self, source: Source) -> type[Strategy]:
        if source.entry_point is not None:
            obj: Any = source.entry_point.load()
        else:
            assert source.path is not None
            module_name = f"memcli_dropin_{source.name}"
            spec = importlib.util.spec_from_file_location(module_name, source.path)
            if spec is None or spec.loader is None:
                raise ImportError(f"cannot import {source.path}")
            module = importlib.util.module_from_spec(spec)
            sys.modules[module_name] = module
            try:
                spec.loader.exec_module(module)
            except BaseException:
                sys.modules.pop(module_name, None)
                raise
            candidates = [v for v in vars(module).values()
                          if isinstance(v, type) and issubclass(v, Strategy) and v is not Strategy
                          and v.__module__ == module_name]
            if len(candidates) != 1:
                raise TypeError(f"{source.path.name} must define exactly one Strategy subclass")
            obj = candidates[0]
        if not (isinstance(obj, type) and issubclass(obj, Strategy)):
            raise TypeError(f"{source.origin} is not a memcli Strategy subclass")
        if obj.name != source.name:
            raise TypeError(f"{source.origin} declares name {obj.name!r}, registered as {source.name!r}")
        return obj

    def create(self, name: str, params: dict[str, Any] | None = None, namespace: str | None = None) -> Strategy:
        strategy = self.load(name)(registry=self, **(params or {}))
        if namespace:
            strategy.namespace = namespace
        return strategy


def parse_params(pairs: list[str]) -> dict[str, str]:
    """`--set name=value` pairs → a dict (values are parsed by the strategy's Params)."""
    out = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise MemcliError(f"--set wants name=value, got {pair!r}")
        out[name.strip()] = value.strip()
    return out
