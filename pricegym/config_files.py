"""Typed configs as files: :func:`save_config` writes one as JSON or YAML, :func:`load_config` reads it
back into the same typed object (validated by :mod:`pricegym.config_checks`).

A file that cannot be read or written, is not UTF-8, does not parse, or repeats an option name is a
:class:`~pricegym.errors.DataError` naming the file; a value out of range is a
:class:`~pricegym.errors.ConfigError`.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

from pricegym.config_checks import Config, config_from_dict, config_to_dict
from pricegym.errors import ConfigError, DataError

CONFIG_SUFFIXES = (".json", ".yaml", ".yml")


def _require_config_suffix(path: Path) -> None:
    if path.suffix not in CONFIG_SUFFIXES:
        raise ConfigError(f"config file {path}: expected a .json, .yaml or .yml name; got {path.suffix or 'none'}")


def save_config(config: Any, path: str | Path) -> Path:
    """Write ``config`` to a ``.json``, ``.yaml`` or ``.yml`` file (missing parent folders are created);
    an unwritable target is a :class:`DataError`."""
    path = Path(path)
    _require_config_suffix(path)
    if not dataclasses.is_dataclass(config) or not hasattr(type(config), "__pydantic_fields__"):
        raise ConfigError(f"config file {path}: expected a typed config (e.g. MarkdownConfig(...)) to save; "
                          f"got {type(config).__name__}")
    values = config_to_dict(config)
    if path.suffix == ".json":
        text = json.dumps(values, indent=1)
    else:
        import yaml

        text = yaml.safe_dump(values, sort_keys=False)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except (OSError, ValueError) as error:  # ValueError: a NUL byte in the path
        raise DataError(path, f"cannot be written ({_reason(error)}); choose a writable path") from None
    return path


def load_config(config_class: type[Config], path: str | Path) -> Config:
    """Read a ``.json``, ``.yaml`` or ``.yml`` config file into ``config_class``.

    A file that cannot be read, is not UTF-8, does not parse, or repeats an option name is a
    :class:`DataError` naming the file; a value out of range is a :class:`ConfigError`.
    """
    path = Path(path)
    _require_config_suffix(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise DataError(path, f"is not UTF-8 text ({_reason(error)}); save it as UTF-8") from None
    except (OSError, ValueError) as error:  # ValueError: a NUL byte in the path
        raise DataError(path, f"cannot be read ({_reason(error)}); check the path") from None
    try:
        values = _parse_json(text) if path.suffix == ".json" else _parse_yaml(text)
    except _DuplicateOption as error:
        raise DataError(path, f"gives the option {error.name!r} twice; keep one") from None
    except (ValueError, RecursionError) as error:  # json.JSONDecodeError; nesting too deep
        raise DataError(path, f"is not valid {path.suffix[1:].upper()} ({_reason(error)}); fix or rewrite it") from None
    except Exception as error:  # yaml.YAMLError (not a ValueError): bad syntax, unknown or unsafe tags
        raise DataError(path, f"is not valid YAML ({_reason(error)}); fix or rewrite it") from None
    return config_from_dict(config_class, values if values is not None else {})


class _DuplicateOption(Exception):
    def __init__(self, name: object) -> None:
        super().__init__(name)
        self.name = name


def _without_duplicates(pairs: list[tuple[Any, Any]]) -> dict:
    values = {}
    for name, value in pairs:
        if name in values:
            raise _DuplicateOption(name)
        values[name] = value
    return values


def _parse_json(text: str) -> Any:
    return json.loads(text, object_pairs_hook=_without_duplicates)


def _parse_yaml(text: str) -> Any:
    """``yaml.safe_load`` (no Python tags), refusing a mapping that repeats a key."""
    import yaml

    class _Loader(yaml.SafeLoader):
        def construct_mapping(self, node: Any, deep: bool = False) -> dict:
            keys = [self.construct_object(key, deep=deep) for key, _ in node.value]
            hashable = [key for key in keys if isinstance(key, str | int | float | bool | type(None))]
            repeated = [key for key in hashable if hashable.count(key) > 1]
            if repeated:
                raise _DuplicateOption(repeated[0])
            return super().construct_mapping(node, deep=deep)

    return yaml.load(text, Loader=_Loader)  # a SafeLoader: no Python tags


def _reason(error: BaseException) -> str:
    """An exception's message on one line (parsers' messages span several)."""
    text = getattr(error, "strerror", None) or str(error) or type(error).__name__
    return " ".join(str(text).split())[:300]
