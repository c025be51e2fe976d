"""THE registry: each name of the language mapped to its layer class and preset arguments,
derived from the classes (each declares its `op`, its language name `entry` and its presets)."""


from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Iterator, Literal, get_args, get_origin

# The modules of the kinds: importing them defines the classes the registry is derived from.
from . import activations, conv, core, merge, norm, pool, reshape  # noqa: F401
from .base import Layer


@dataclass(frozen=True)
class Entry:
    """One name of the language: the class it builds and the arguments the name presets."""

    name: str
    cls: type[Layer]
    presets: dict[str, Any] = field(default_factory=dict)

    @cached_property
    def positional(self) -> tuple[str, ...]:
        return tuple(p for p in self.cls.positional if p not in self.presets)

    @cached_property
    def argument_names(self) -> tuple[str, ...]:
        return tuple(n for n in self.cls.argument_names() if n not in self.presets)

    @cached_property
    def required(self) -> tuple[str, ...]:
        return tuple(n for n in self.cls.required_arguments() if n not in self.presets)

    def field_accepting(self, value: str) -> str | None:
        """The argument whose fixed set of words includes `value` (`same` -> `padding`)."""
        for name in self.argument_names:
            annotation = self.cls.model_fields[name].annotation
            options = get_args(annotation)
            words = [a for option in (options or (annotation,)) for a in get_args(option) if get_origin(option) is Literal]
            if get_origin(annotation) is Literal:
                words += list(get_args(annotation))
            if value in words:
                return name
        return None

    def build(self, arguments: dict[str, Any]) -> Layer:
        return self.cls(**self.presets, **arguments)


def _kinds(base: type[Layer]) -> Iterator[type[Layer]]:
    """Every layer kind below `base`, in the order the classes were defined: a class that sets
    its own `op` is a kind (the bases set none)."""
    for cls in base.__subclasses__():
        if "op" in cls.__dict__:
            yield cls
        yield from _kinds(cls)


def _entries() -> dict[str, Entry]:
    entries: dict[str, Entry] = {}
    for cls in _kinds(Layer):
        for entry in (Entry(cls.entry or cls.op, cls), *(Entry(name, cls, presets) for name, presets in cls.presets.items())):
            if entry.name in entries:
                raise AssertionError(f"two layer kinds claim the name `{entry.name}`")
            entries[entry.name] = entry
    return entries


REGISTRY: dict[str, Entry] = _entries()
