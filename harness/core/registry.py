"""Registries of named plug-ins: measurement kinds, units, model builders.

A ``Registry`` maps names to objects and fills itself on first use, from two places:

- its built-in modules, named by module path (``"harness.measure.kinds.architecture"``), which call
  ``register`` when imported;
- the entry points of its group (``claims_harness.kinds``, ``claims_harness.units``, ``claims_harness.builders``)
  of every installed distribution. An entry point names a module (importing it registers) or a callable taking
  no arguments (calling it registers).

A ``conftest.py`` may also call ``register`` directly. Lookups of an unknown name raise ``UnknownName`` with
close matches ("did you mean"). Nothing heavy is imported here.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, Mapping
from importlib import metadata
from types import ModuleType
from typing import Generic, TypeVar

from harness.core.errors import HarnessError, did_you_mean

T = TypeVar("T")


class UnknownName(HarnessError, KeyError):
    """A name that is in no registry; the message lists close names and where names come from."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


class PluginError(HarnessError):
    """A plug-in (entry point or built-in module) failed to load or registered a name twice."""


class Registry(Mapping[str, T], Generic[T]):
    """Named plug-ins of one sort, filled lazily from built-in modules and entry points."""

    def __init__(self, what: str, group: str, builtin_modules: tuple[str, ...] = ()) -> None:
        self.what = what
        self.group = group
        self.builtin_modules = builtin_modules
        self._items: dict[str, T] = {}
        self._origins: dict[str, str] = {}
        self._loaded = False

    # ------------------------------------------------------------------ registration
    def add(self, name: str, item: T, origin: str = "") -> T:
        """Register ``item`` under ``name``; a second registration of the same name is an error, except the
        same origin registering again (its module imported a second time, e.g. by an in-process pytest run)."""
        if name in self._items and origin and origin == self._origins[name]:
            self._items[name] = item
            return item
        if name in self._items:
            raise PluginError(
                f"{self.what} {name!r} is registered twice (first by {self._origins[name] or 'unknown'}, "
                f"again by {origin or 'unknown'}); rename one of them"
            )
        self._items[name] = item
        self._origins[name] = origin
        return item

    def remove(self, name: str) -> None:
        """Forget ``name`` (for tests that register a temporary plug-in)."""
        self._items.pop(name, None)
        self._origins.pop(name, None)

    def origin(self, name: str) -> str:
        """Which module or entry point registered ``name``."""
        self.load()
        return self._origins.get(name, "")

    # ------------------------------------------------------------------ loading
    def load(self) -> None:
        """Import the built-in modules and the group's entry points, once."""
        if self._loaded:
            return
        self._loaded = True  # set first: the modules imported below call add()
        for module in self.builtin_modules:
            importlib.import_module(module)
        for entry in metadata.entry_points(group=self.group):
            try:
                loaded: object = entry.load()
            except Exception as exc:  # a broken third-party plug-in must not look like ours
                raise PluginError(
                    f"the {self.group} entry point {entry.name!r} = {entry.value!r} failed to load: "
                    f"{type(exc).__name__}: {exc}. Fix or uninstall the package that declares it"
                ) from exc
            if not isinstance(loaded, ModuleType) and callable(loaded):
                _call_setup(loaded, entry.value)

    # ------------------------------------------------------------------ Mapping
    def __getitem__(self, name: str) -> T:
        self.load()
        try:
            return self._items[name]
        except KeyError:
            raise UnknownName(self.unknown_message(name)) from None

    def __iter__(self) -> Iterator[str]:
        self.load()
        return iter(sorted(self._items))

    def __len__(self) -> int:
        self.load()
        return len(self._items)

    def __contains__(self, name: object) -> bool:
        self.load()
        return name in self._items

    def unknown_message(self, name: str) -> str:
        """What to say about a name that is not registered."""
        return (
            f"unknown {self.what} {name!r}.{did_you_mean(name, self._items)} Known: {', '.join(sorted(self._items))}. "
            f"More come from packages that declare a {self.group!r} entry point, or from a conftest.py that "
            f"registers one (see docs/extending.md)"
        )


def _call_setup(setup: Callable[[], object], where: str) -> None:
    try:
        setup()
    except HarnessError:
        raise
    except Exception as exc:
        raise PluginError(f"the plug-in set-up {where!r} failed: {type(exc).__name__}: {exc}") from exc
