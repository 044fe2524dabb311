"""The one validation mechanism of every typed config: environments, worlds, training, benchmarks.

A config is a frozen dataclass declared with :func:`config_dataclass`; pydantic validates it on
construction (and on ``dataclasses.replace``), against field types that carry their valid range:

* :func:`integer` and :func:`number` give a range within which the simulation stays finite; NaN
  and infinities are refused, numpy scalars and 0-d arrays (``np.int64(10)``, ``np.array(0.5)``)
  are taken as Python numbers, bools and strings are refused where a number is expected, and
  ``3.0`` where an integer is;
* :data:`Flag` is a strict bool (``1``, ``"yes"`` and ``"false"`` are refused), :data:`IsoDate` a
  ``YYYY-MM-DD`` date, :data:`Device` a torch device spelling;
* ``Literal[...]`` gives a choice.

Every failure becomes one :class:`~pricegym.errors.ConfigError` that names the owner and the field,
the value received and the valid range or choices. Cross-field rules live in the config's
``__post_init__`` and raise :class:`ConfigError` themselves. The valid ranges are appended to the
class docstring, so ``help(MarkdownConfig)`` shows them. A config round-trips through JSON or YAML
(:func:`config_to_dict`, :func:`config_from_dict`; files: :mod:`pricegym.config_files`).
An environment takes its config, a dictionary of options, or keyword overrides (:func:`checked_config`).
"""

from __future__ import annotations

import dataclasses
import datetime
import functools
import re
from typing import Annotated, Any, TypeVar

import numpy as np
import pydantic
import pydantic_core
from pydantic import (
    AfterValidator,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    TypeAdapter,
    ValidationError,
)

from pricegym.errors import ConfigError

Config = TypeVar("Config")

LARGEST_SEED = 2**32 - 1
"""Seeds lie in [0, 2**32 - 1]: what numpy, torch and Gymnasium all accept."""

_PYDANTIC_CONFIG = ConfigDict(extra="forbid", arbitrary_types_allowed=True)


def _python_scalar(value: Any) -> Any:
    """A numpy number or bool, or a 0-d array of one (``np.int64(10)``, ``np.float32(0.5)``, ``np.array(3)``),
    as the Python value it holds; anything else (a ``np.timedelta64`` too: a duration, although numpy derives
    it from its integers) unchanged, for the field's type to refuse."""
    if isinstance(value, np.ndarray) and value.shape == ():
        value = value[()]
    if isinstance(value, np.number | np.bool_) and not isinstance(value, np.timedelta64):
        return value.item()
    return value


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

Flag = Annotated[StrictBool, BeforeValidator(_python_scalar), Field(description="True or False")]
"""A strict bool: ``True``/``False`` (or ``np.True_``); ``1``, ``"yes"`` and ``"false"`` are refused."""


def _iso_date(value: str) -> str:
    """``value`` if it spells a calendar day as ``YYYY-MM-DD``."""
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value) is None:
            raise ValueError(value)
        datetime.date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"must be an ISO date YYYY-MM-DD such as 2024-01-01; got {value!r}") from None
    return value


def _date_as_text(value: Any) -> Any:
    """A ``datetime.date`` (what YAML reads an unquoted ``2024-03-01`` as) as its ``YYYY-MM-DD`` spelling; a
    ``datetime`` (a time of day too) unchanged, for the field to refuse."""
    if type(value) is datetime.date:
        return value.isoformat()
    return value


IsoDate = Annotated[StrictStr, BeforeValidator(_date_as_text), AfterValidator(_iso_date),
                    Field(description="an ISO date YYYY-MM-DD")]
"""A calendar day spelled ``YYYY-MM-DD``, or a ``datetime.date`` (an unquoted date in a YAML file); ``""``,
``"now"``, ``"NaT"`` and ``"1/2/2024"`` are refused."""

DEVICES = ("auto", "cpu", "cuda", "cuda:N")


def check_device_spelling(device: object) -> str:
    """``device`` if it is ``auto``, ``cpu``, ``cuda`` or ``cuda:N``; ValueError otherwise."""
    if not isinstance(device, str) or not re.fullmatch(r"auto|cpu|cuda(:\d{1,4})?", device):
        raise ValueError(f"must be one of {', '.join(DEVICES)} (N a GPU index); got {device!r}")
    return device


Device = Annotated[str, AfterValidator(check_device_spelling), Field(description="auto, cpu, cuda or cuda:N")]
"""A torch device as a config spells it (whether it exists is checked when it is used)."""


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
    if expected is None and problem["type"] == "path_type":  # pydantic says "Input is not a valid path for ..."
        optional_path = field_info is not None and type(None) in getattr(field_info.annotation, "__args__", ())
        expected = f"{'None or ' if optional_path else ''}a path (a str or pathlib.Path)"
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
    owner = owner_of(config_class)
    if not isinstance(values, dict):
        raise ConfigError(f"{owner}: a config must be a mapping of option names to values; "
                          f"got {type(values).__name__}")
    _require_string_keys(owner, values)
    try:
        return TypeAdapter(config_class).validate_python(values)
    except ValidationError as error:
        raise config_error(owner, config_class, error) from None


def _require_string_keys(owner: str, values: dict, where: str = "") -> None:
    """Option names, at every level of nesting, must be strings (YAML reads ``1:`` or ``null:`` as others)."""
    for name, value in values.items():
        if not isinstance(name, str):
            place = f" in {where}" if where else ""
            raise ConfigError(f"{owner}: option names must be strings; got {name!r}{place}; "
                              "quote it or remove it")
        if isinstance(value, dict):
            _require_string_keys(owner, value, f"{where}.{name}" if where else name)




def as_config(owner: str, config_class: type[Config], config: Any) -> Config:
    """``config`` as a ``config_class``: itself, the defaults for None, or the one a dictionary of options
    describes; anything else is a :class:`ConfigError` that says what to pass."""
    if config is None:
        return config_class()
    if isinstance(config, dict):
        return config_from_dict(config_class, config)
    if not isinstance(config, config_class):
        article = "an" if config_class.__name__[0] in "AEIOU" else "a"
        raise ConfigError(f"{owner}: config must be {article} {config_class.__name__}, a dictionary of its options or "
                          f"None; got {type(config).__name__} {_short_repr(config)}; pass {config_class.__name__}(...) "
                          "or the options as keywords")
    return config


def checked_config(owner: str, config_class: type[Config], config: Any, overrides: dict[str, Any]) -> Config:
    """The config an environment is built with: ``config`` (a ``config_class``, a dictionary of its options,
    or None for the defaults) with ``gymnasium.make(env_id, horizon=20)`` style keyword ``overrides``."""
    return with_overrides(owner, as_config(owner, config_class, config), overrides)


def _short_repr(value: Any, limit: int = 60) -> str:
    text = " ".join(repr(value).split())
    return text if len(text) <= limit else text[:limit - 3] + "..."


def with_overrides(owner: str, config: Config, overrides: dict[str, Any]) -> Config:
    """``gymnasium.make(env_id, horizon=20)`` style keyword overrides of a config dataclass."""
    if not overrides:
        return config
    known = {field.name for field in dataclasses.fields(config)}
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise ConfigError(f"{owner}: unknown option(s) {unknown}; valid options are {sorted(known)}")
    return dataclasses.replace(config, **overrides)
