"""The one validation mechanism of every typed config: environments, worlds, training, benchmarks.

A config is a frozen dataclass declared with :func:`config_dataclass`; pydantic validates it on
construction (and on ``dataclasses.replace``), against field types that carry their valid range:

* :func:`integer` and :func:`number` give a range within which the simulation stays finite; NaN
  and infinities are refused, numpy scalars (``np.int64(10)``) are taken as Python numbers, bools
  and strings are refused where a number is expected, and ``3.0`` where an integer is;
* ``Literal[...]`` gives a choice.

Every failure becomes one :class:`~pricegym.errors.ConfigError` that names the owner and the field,
the value received and the valid range or choices. Cross-field rules live in the config's
``__post_init__`` and raise :class:`ConfigError` themselves. The valid ranges are appended to the
class docstring, so ``help(MarkdownConfig)`` shows them. A config round-trips through JSON or YAML
(:func:`config_to_dict`, :func:`config_from_dict`, :func:`save_config`, :func:`load_config`).
"""

from __future__ import annotations

import dataclasses
import functools
import json
import math
from pathlib import Path
from typing import Annotated, Any, TypeVar

import numpy as np
import pydantic
import pydantic_core
from pydantic import BeforeValidator, ConfigDict, Field, StrictFloat, StrictInt, TypeAdapter, ValidationError

from pricegym.errors import ConfigError, DataError

Config = TypeVar("Config")

LARGEST_SEED = 2**32 - 1
"""Seeds lie in [0, 2**32 - 1]: what numpy, torch and Gymnasium all accept."""

_PYDANTIC_CONFIG = ConfigDict(extra="forbid", arbitrary_types_allowed=True)


def _python_scalar(value: Any) -> Any:
    """A numpy scalar (``np.int64(10)``, ``np.float32(0.5)``) as the Python number it holds."""
    return value.item() if isinstance(value, np.generic) else value


def _format_bound(value: float) -> str:
    """``10_000`` for round numbers, ``0.01`` or ``1e-05`` for the rest."""
    if float(value).is_integer() and abs(value) < 1e16:
        return f"{int(value):_}"
    return f"{value:g}"


@dataclasses.dataclass(frozen=True)
class NumericRange:
    """The documented range of a numeric config field (kept in its type, read by :func:`numeric_ranges`)."""

    low: float
    high: float
    low_open: bool = False
    high_open: bool = False

    def __str__(self) -> str:
        return (f"{'(' if self.low_open else '['}{_format_bound(self.low)}, "
                f"{_format_bound(self.high)}{')' if self.high_open else ']'}")


def integer(low: int, high: int) -> Any:
    """An integer field in ``[low, high]`` (bools and floats refused)."""
    valid = NumericRange(low, high)
    return Annotated[StrictInt, BeforeValidator(_python_scalar),
                     Field(ge=low, le=high, description=f"an integer in {valid}"), valid]


def number(low: float, high: float, *, low_open: bool = False, high_open: bool = False) -> Any:
    """A finite real field in ``[low, high]``, either end open if asked (bools and strings refused)."""
    valid = NumericRange(low, high, low_open, high_open)
    bounds = {"gt" if low_open else "ge": low, "lt" if high_open else "le": high}
    return Annotated[StrictFloat, BeforeValidator(_python_scalar),
                     Field(allow_inf_nan=False, description=f"a finite number in {valid}", **bounds), valid]


def numeric_ranges(config_class: type) -> dict[str, NumericRange]:
    """Each numeric field's documented range (optional fields included), by field name."""
    ranges = {}
    for name, info in config_class.__pydantic_fields__.items():
        found = [item for item in _metadata_of(info) if isinstance(item, NumericRange)]
        if found:
            ranges[name] = found[0]
    return ranges


def _metadata_of(field_info: Any) -> list:
    """A field's metadata, and that of the annotated type inside an ``X | None``."""
    metadata = list(field_info.metadata)
    for argument in getattr(field_info.annotation, "__args__", ()):
        metadata.extend(getattr(argument, "__metadata__", ()))
    return metadata


def optional(field_type: Any, description: str | None = None) -> Any:
    """``field_type`` or None; the error message states ``description`` (by default the type's own)."""
    if description is None:
        inner = [item for item in getattr(field_type, "__metadata__", ()) if hasattr(item, "description")]
        description = f"None or {inner[0].description}" if inner else None
    return Annotated[field_type | None, Field(description=description)]


Seed = integer(0, LARGEST_SEED)


def config_dataclass(owner: str) -> Any:
    """Declare a frozen, validated config dataclass whose errors start with ``owner``
    (``"Markdown-v0"``, ``"pricer training"``)."""

    def decorate(cls: type[Config]) -> type[Config]:
        validated = pydantic.dataclasses.dataclass(frozen=True, config=_PYDANTIC_CONFIG)(cls)
        validating_init = validated.__init__

        @functools.wraps(validating_init)
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            try:
                validating_init(self, *args, **kwargs)
            except ValidationError as error:
                raise config_error(owner, validated, error) from None

        validated.__init__ = __init__
        validated.__config_owner__ = owner
        validated.__doc__ = (validated.__doc__ or "") + _ranges_section(validated)
        return validated

    return decorate


def config_error(owner: str, cls: type, error: ValidationError) -> ConfigError:
    """One :class:`ConfigError` for the first problem pydantic found: field, value, valid range."""
    problem = error.errors(include_url=False)[0]
    original = (problem.get("ctx") or {}).get("error")
    if isinstance(original, ConfigError):
        return original
    path, field_info = _field_at(cls, problem["loc"])
    where = f"{owner}: {path}" if path else owner
    if problem["type"] == "unexpected_keyword_argument":
        valid = ", ".join(field.name for field in dataclasses.fields(cls))
        return ConfigError(f"{owner}: unknown option {path!r}; valid options are {valid}")
    if problem["type"] == "missing_argument":
        return ConfigError(f"{where} is required; pass a value for it")
    if isinstance(original, ValueError):  # a validator's own message, which starts with "must"
        return ConfigError(f"{where} {original}")
    expected = field_info.description if field_info is not None and field_info.description else None
    if expected is None and problem["type"] == "literal_error":
        expected = f"one of {problem['ctx']['expected'].replace(' or ', ', ')}"
    expected = expected or problem["msg"].replace("Input should be", "").strip()
    return ConfigError(f"{where} must be {expected}; got {problem['input']!r}{_default_hint(field_info)}")


def _default_hint(field_info: Any) -> str:
    """``"; pass such a value (default: 0.6)"``, where the field has a plain default."""
    default = getattr(field_info, "default", None)
    if field_info is None or default is None or default is pydantic_core.PydanticUndefined:
        return "; pass such a value"
    return f"; pass such a value (default: {default!r})"


def _field_at(cls: type, location: tuple) -> tuple[str, Any]:
    """The dotted field path of a pydantic error location, and the innermost field it names."""
    names, field_info, current = [], None, cls
    for part in location:
        fields = getattr(current, "__pydantic_fields__", None)
        if not isinstance(part, str) or fields is None or part not in fields:
            if isinstance(part, str) and fields is not None:
                names.append(part)  # an unknown keyword
            break
        names.append(part)
        field_info = fields[part]
        current = _dataclass_in(field_info.annotation)
    return ".".join(names), field_info


def _dataclass_in(annotation: Any) -> type | None:
    """The config dataclass an annotation holds (directly or in an ``X | None``), if any."""
    if dataclasses.is_dataclass(annotation):
        return annotation
    for argument in getattr(annotation, "__args__", ()):
        if dataclasses.is_dataclass(argument):
            return argument
    return None


def _ranges_section(cls: type) -> str:
    lines = [f"        {name}: {info.description}" for name, info in cls.__pydantic_fields__.items()
             if info.description]
    return "\n    Valid ranges:\n" + "\n".join(lines) + "\n" if lines else ""


def owner_of(config_class: type) -> str:
    return getattr(config_class, "__config_owner__", config_class.__name__)


def config_to_dict(config: Any) -> dict[str, Any]:
    """A JSON-ready dictionary of ``config`` (nested configs as dictionaries, paths as strings)."""
    return TypeAdapter(type(config)).dump_python(config, mode="json")


def config_from_dict(config_class: type[Config], values: dict[str, Any]) -> Config:
    """The typed config that ``values`` (as :func:`config_to_dict` or a JSON/YAML file gives it) describes."""
    if not isinstance(values, dict):
        raise ConfigError(f"{owner_of(config_class)}: a config must be a mapping of option names to values; "
                          f"got {type(values).__name__}")
    try:
        return TypeAdapter(config_class).validate_python(values)
    except ValidationError as error:
        raise config_error(owner_of(config_class), config_class, error) from None


def save_config(config: Any, path: str | Path) -> Path:
    """Write ``config`` to a ``.json``, ``.yaml`` or ``.yml`` file."""
    path = Path(path)
    values = config_to_dict(config)
    if path.suffix == ".json":
        text = json.dumps(values, indent=1)
    elif path.suffix in (".yaml", ".yml"):
        import yaml

        text = yaml.safe_dump(values, sort_keys=False)
    else:
        raise ConfigError(f"config file {path}: expected a .json, .yaml or .yml name; got {path.suffix or 'none'}")
    path.write_text(text)
    return path


def load_config(config_class: type[Config], path: str | Path) -> Config:
    """Read a ``.json``, ``.yaml`` or ``.yml`` config file into ``config_class``."""
    path = Path(path)
    if path.suffix not in (".json", ".yaml", ".yml"):
        raise ConfigError(f"config file {path}: expected a .json, .yaml or .yml name; got {path.suffix or 'none'}")
    try:
        text = path.read_text()
    except OSError as error:
        raise DataError(path, f"cannot be read ({error.strerror or error}); check the path") from None
    try:
        if path.suffix == ".json":
            values = json.loads(text)
        else:
            import yaml

            values = yaml.safe_load(text)
    except ValueError as error:  # json.JSONDecodeError and yaml.YAMLError's parse errors
        raise DataError(path, f"is not valid {path.suffix[1:].upper()} ({error}); fix or rewrite it") from None
    except Exception as error:  # yaml.YAMLError is not a ValueError
        raise DataError(path, f"is not valid YAML ({error}); fix or rewrite it") from None
    return config_from_dict(config_class, values if values is not None else {})


def with_overrides(owner: str, config: Config, overrides: dict[str, Any]) -> Config:
    """``gymnasium.make(env_id, horizon=20)`` style keyword overrides of a config dataclass."""
    if not overrides:
        return config
    known = {field.name for field in dataclasses.fields(config)}
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise ConfigError(f"{owner}: unknown option(s) {unknown}; valid options are {sorted(known)}")
    return dataclasses.replace(config, **overrides)


def check_choice(owner: str, name: str, value: str, valid: tuple[str, ...]) -> None:
    """``value`` must be one of ``valid`` (for choices known only at run time)."""
    if value not in valid:
        raise ConfigError(f"{owner}: unknown {name} {value!r}; choose one of {', '.join(valid)}")


def is_finite_number(value: object) -> bool:
    """A real number (not a bool), neither NaN nor infinite."""
    value = _python_scalar(value)
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
