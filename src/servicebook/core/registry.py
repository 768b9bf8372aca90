"""Ports: what one app offers the others, wired explicitly at start-up.

Apps are layered (core ← policy ← parties ← catalog ← agreements ← levels ← finance ← changes |
demand | improvement ← interfaces; see docs/architecture.md and the contracts in ``.importlinter``).
A lower app never imports a higher one. When it needs an answer only a higher app can give
(agreements ask finance whether a price is under cost; levels ask improvement to open an action
for an internal breach), it asks a **port** declared in :mod:`servicebook.ports`, and the
higher app plugs its implementation in from its ``AppConfig.ready()``.

Two shapes:

- :class:`Port`: exactly one provider (``port.get()`` or calling the port). Asking a port that
  nobody provides raises :class:`PortError` naming the app expected to provide it.
- :class:`Hook`: every app that offers something adds its part (URLs, API routes, demo steps,
  CLI commands, reactions to a customer's end). Parts come back in the order the apps are
  installed, which is the order of the layers.

Each port names the apps expected to provide it. :func:`verify` (run by the last installed app's
``ready()``, by ``servicebook`` commands and by a test) fails when an expected provider did not
plug in, so a renamed or removed implementation stops the start-up instead of silently dropping
a rule.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from django.core.exceptions import ImproperlyConfigured

T = TypeVar("T")


class PortError(ImproperlyConfigured):
    """A port is asked for but not provided, provided twice, or provided by an unexpected app."""


_ALL: list[_Base[Any]] = []


@dataclass(eq=False)
class _Base(Generic[T]):
    name: str
    doc: str
    #: The app labels expected to provide this port (checked by :func:`verify`).
    providers: tuple[str, ...]
    _parts: list[tuple[str, T]] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        _ALL.append(self)

    def _check_provider(self, by: str) -> None:
        if by not in self.providers:
            raise PortError(
                f"the {by} app provides {self.name}, but the port expects "
                f"{', '.join(self.providers)} (declared in servicebook.ports)"
            )
        if any(label == by for label, _ in self._parts):
            raise PortError(f"the {by} app provides {self.name} twice")

    def provided_by(self) -> set[str]:
        return {label for label, _ in self._parts}

    def missing(self, installed: set[str]) -> list[str]:
        """The expected providers that are installed but did not plug in."""
        return [label for label in self.providers if label in installed - self.provided_by()]


class Port(_Base[T]):
    """A question one app answers for the others (one provider)."""

    def provide(self, implementation: T, *, by: str) -> None:
        """Plug ``implementation`` in (called from the providing app's ``ready()``)."""
        self._check_provider(by)
        if self._parts:
            raise PortError(f"{self.name} is already provided by the {self._parts[0][0]} app")
        self._parts.append((by, implementation))

    def get(self) -> T:
        if not self._parts:
            raise PortError(
                f"nothing provides {self.name} ({self.doc}); the {' or '.join(self.providers)} "
                "app should plug it in from its AppConfig.ready()"
            )
        return self._parts[0][1]

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        implementation: Callable[..., Any] = self.get()  # type: ignore[assignment]
        return implementation(*args, **kwargs)


class Hook(_Base[T]):
    """Something every app may add to (several providers, in installation order)."""

    def provide(self, part: T, *, by: str) -> None:
        self._check_provider(by)
        self._parts.append((by, part))
        order = {label: index for index, label in enumerate(self.providers)}
        self._parts.sort(key=lambda item: order[item[0]])

    def parts(self) -> list[T]:
        return [part for _, part in self._parts]

    def labelled(self) -> list[tuple[str, T]]:
        return list(self._parts)

    def __iter__(self) -> Iterator[T]:
        return iter(self.parts())


def ports() -> list[_Base[Any]]:
    """Every declared port and hook."""
    return list(_ALL)


def problems(installed: set[str] | None = None) -> list[str]:
    """One line per expected provider that did not plug in."""
    if installed is None:
        from django.apps import apps

        installed = {config.label for config in apps.get_app_configs()}
    found = []
    for port in _ALL:
        for label in port.missing(installed):
            found.append(
                f"the {label} app does not provide {port.name} ({port.doc}): "
                f"see {label}'s AppConfig.ready()"
            )
    return found


def verify() -> None:
    """Fail at start-up when an expected provider did not plug in."""
    found = problems()
    if found:
        raise PortError("; ".join(found))
