"""The one validation mechanism of every typed config (pricegym.config_checks)."""

from __future__ import annotations

import dataclasses
import math
import re
import types
import typing
from pathlib import Path

import numpy as np
import pytest

from pricegym.agents.fit_pricer import FitPricerConfig
from pricegym.agents.pricer_training import PricerTrainingConfig
from pricegym.config_checks import config_from_dict, config_to_dict, numeric_ranges
from pricegym.config_files import load_config, save_config
from pricegym.encoders.demand_training import DemandTrainingConfig
from pricegym.encoders.fit_demand import FitDemandConfig
from pricegym.encoders.text_encoder import TextEncoderConfig
from pricegym.envs import CompetitionConfig, MarkdownConfig, PersonalizedDiscountConfig
from pricegym.errors import ConfigError, DataError
from pricegym.experiments.bench_speed import BenchSpeedConfig
from pricegym.worlds.demand import ReferencePriceEffect
from pricegym.worlds.online_retail import OnlineRetailConfig, load_online_retail
from pricegym.worlds.registry import WorldConfig, load_world
from pricegym.worlds.synthetic import SyntheticWorld, SyntheticWorldConfig

CONFIG_CLASSES = (MarkdownConfig, PersonalizedDiscountConfig, CompetitionConfig, WorldConfig, SyntheticWorldConfig,
                  ReferencePriceEffect, OnlineRetailConfig, TextEncoderConfig, DemandTrainingConfig, FitDemandConfig,
                  PricerTrainingConfig, FitPricerConfig, BenchSpeedConfig)

NON_DEFAULT_CONFIGS = [
    MarkdownConfig(world="online-retail", n_products=2, horizon=12, price_range=(0.5, 1.5), initial_inventory=9,
                   action_space="ladder", holding_cost=0.25, shopper_mix_shift=-2.0),
    PersonalizedDiscountConfig(n_customers=7, discount_budget=0.2, max_discount=0.3, demand_source="fitted",
                               demand_run=Path("runs/demo/demand")),
    CompetitionConfig(rivals=("fixed", "random", "match"), rival_appeal=-0.5, reward="margin"),
    SyntheticWorldConfig(seed=3, n_products=20, exploration_price_range=(0.7, 1.3),
                         reference_effect=ReferencePriceEffect(theta=0.5, gain=0.1, loss=0.2)),
    OnlineRetailConfig(data_path=Path("data/online_retail.csv.gz"), unit_cost_share=0.4),
    FitDemandConfig(training=DemandTrainingConfig(epochs=2, encoder_learning_rate=1e-4), bootstrap_rounds=0,
                    encoder=TextEncoderConfig(model_name="tiny-random-bert", max_length=16)),
    FitPricerConfig(training=PricerTrainingConfig(warmup_share=0.0), context_buckets="none", seed=9),
    BenchSpeedConfig(quick=True, only=("env", "demand")),
]


def _is_number(annotation: object) -> bool:
    """int or float (possibly annotated or optional), but not bool."""
    if typing.get_origin(annotation) is typing.Annotated:
        return _is_number(typing.get_args(annotation)[0])
    if annotation in (int, float):
        return True
    return typing.get_origin(annotation) in (typing.Union, types.UnionType) and any(
        _is_number(argument) for argument in typing.get_args(annotation))


@pytest.mark.parametrize("config_class", CONFIG_CLASSES, ids=lambda cls: cls.__name__)
def test_every_numeric_field_has_a_documented_range(config_class):
    numeric = {name: info for name, info in config_class.__pydantic_fields__.items() if _is_number(info.annotation)}
    undocumented = [name for name, info in numeric.items() if not info.description]
    assert not undocumented, f"{config_class.__name__}: numeric fields without a range: {undocumented}"
    for name, info in numeric.items():
        assert f"{name}: {info.description}" in config_class.__doc__  # help() shows the range


@pytest.mark.parametrize("config", NON_DEFAULT_CONFIGS, ids=lambda config: type(config).__name__)
@pytest.mark.parametrize("suffix", [".json", ".yaml"])
def test_a_config_loads_back_from_a_file_into_the_same_typed_object(config, suffix, tmp_path):
    path = save_config(config, tmp_path / f"config{suffix}")
    loaded = load_config(type(config), path)
    assert loaded == config and type(loaded) is type(config)
    assert config_from_dict(type(config), config_to_dict(config)) == config


@pytest.mark.parametrize("options, words", [
    ({"price_range": (0.5, float("inf"))}, ["Markdown-v0: price_range", "got inf", "0.01 <= low < high <= 100"]),
    ({"price_range": (1.2, 0.8)}, ["price_range", "low < high", "(1.2, 0.8)"]),
    ({"stock_cover": 1e18}, ["stock_cover", "[0.001, 100]", "got 1e+18"]),
    ({"holding_cost": 1.7e308}, ["holding_cost", "[0, 1_000_000]"]),
    ({"horizon": True}, ["horizon must be an integer", "got True"]),
    ({"horizon": 3.0}, ["horizon must be an integer", "got 3.0"]),
    ({"horizon": "30"}, ["horizon must be an integer", "got '30'"]),
    ({"arrival_rate": float("nan")}, ["arrival_rate", "got nan"]),
    ({"reward": "profit"}, ["reward must be one of 'revenue', 'margin'", "got 'profit'"]),
    ({"shopper_mix_shift": 500.0}, ["shopper_mix_shift", "[-20, 20]", "got 500.0"]),
    ({"arrival_rate": 500.0, "horizon": 1_000}, ["customer rows per season", "lower one of them"]),
    ({"world": {"synthetic": {"n_products": 2}}}, ["world.synthetic.n_products must be an integer in [5,"]),
    ({"world": "atlantis"}, ["name must be one of 'synthetic', 'online-retail'", "got 'atlantis'"]),
    ({"horizn": 3}, ["unknown option 'horizn'", "horizon"]),
])
def test_a_bad_value_names_the_field_the_value_and_the_valid_range(options, words):
    with pytest.raises(ConfigError) as caught:
        MarkdownConfig(**options)
    for word in words:
        assert word in str(caught.value)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize("config_class, options, field", [
    (PersonalizedDiscountConfig, {"discount_budget": 1e308}, "discount_budget"),
    (PersonalizedDiscountConfig, {"max_discount": 1.0}, "max_discount"),
    (CompetitionConfig, {"rivals": ("undercut",) * 9}, "rivals"),
    (CompetitionConfig, {"rival_appeal": float("-inf")}, "rival_appeal"),
    (PricerTrainingConfig, {"encoder_learning_rate": -1e-4}, "encoder_learning_rate"),
    (PricerTrainingConfig, {"warmup_share": 3.0}, "warmup_share"),
    (PricerTrainingConfig, {"epochs": 2.5}, "epochs"),
    (DemandTrainingConfig, {"encoder_learning_rate": float("nan")}, "encoder_learning_rate"),
    (FitDemandConfig, {"bootstrap_rounds": -2}, "bootstrap_rounds"),
    (FitDemandConfig, {"seed": -1}, "seed"),
    (SyntheticWorldConfig, {"validation_share": 0.6, "test_share": 0.5}, "validation_share + test_share"),
    (ReferencePriceEffect, {"theta": 1.0}, "theta"),
    (TextEncoderConfig, {"pooling": "max"}, "pooling"),
    (SyntheticWorldConfig, {"start_date": ""}, "start_date must be an ISO date YYYY-MM-DD"),
    (SyntheticWorldConfig, {"start_date": "NaT"}, "start_date must be an ISO date YYYY-MM-DD"),
    (SyntheticWorldConfig, {"start_date": "now"}, "start_date must be an ISO date YYYY-MM-DD"),
    (SyntheticWorldConfig, {"start_date": "1/2/2024"}, "start_date must be an ISO date YYYY-MM-DD"),
    (SyntheticWorldConfig, {"start_date": "2024-01-01T12:00"}, "start_date must be an ISO date YYYY-MM-DD"),
    (BenchSpeedConfig, {"device": "gpu"}, "device must be one of auto, cpu, cuda, cuda:N"),
    (TextEncoderConfig, {"device": "cuda:99999999999999999999"}, "device must be one of auto, cpu, cuda, cuda:N"),
    (SyntheticWorldConfig, {"n_exposures": 50_000_000}, "n_exposures must be an integer in [1, 5_000_000]"),
    (SyntheticWorldConfig, {"n_customers": 400_000, "n_products": 1_000}, "n_customers x n_products = 400,000 x 1,000"),
    (WorldConfig, {"synthetic": {"n_customers": 100_000, "n_products": 80_000}}, "n_customers x n_products"),
    (MarkdownConfig, {"horizon": np.array([10])}, "horizon must be an integer"),
    (MarkdownConfig, {"horizon": np.timedelta64(10)}, "horizon must be an integer"),
    (MarkdownConfig, {"demand_run": 3}, "demand_run must be None or a path (a str or pathlib.Path); got 3"),
    (BenchSpeedConfig, {"cache_dir": 3}, "cache_dir must be a path (a str or pathlib.Path); got 3"),
])
def test_every_config_refuses_out_of_range_values_with_one_config_error(config_class, options, field):
    with pytest.raises(ConfigError, match=re.escape(field)):
        config_class(**options)


CROSS_FIELD_EDGES = {(SyntheticWorldConfig, "validation_share", "high"), (SyntheticWorldConfig, "test_share", "high"),
                     (OnlineRetailConfig, "validation_share", "high"), (OnlineRetailConfig, "test_share", "high"),
                     (ReferencePriceEffect, "gain", "high"), (ReferencePriceEffect, "loss", "low")}
"""Edges refused with the other fields' defaults by a documented cross-field rule (validation + test < 1,
gain <= loss)."""


def _edge(valid, side: str) -> float:
    if side == "low":
        return math.nextafter(valid.low, math.inf) if valid.low_open else valid.low
    return math.nextafter(valid.high, -math.inf) if valid.high_open else valid.high


EDGES = [(config_class, name, side) for config_class in CONFIG_CLASSES
         for name in numeric_ranges(config_class) for side in ("low", "high")]


@pytest.mark.parametrize("config_class, name, side", EDGES, ids=[f"{c.__name__}.{n}-{s}" for c, n, s in EDGES])
def test_each_documented_edge_with_the_other_defaults_is_a_valid_config(config_class, name, side):
    """A documented range must not promise what a cross-field rule refuses (sizes whose product would not fit
    in memory are bounded so that either at its largest, with the others' defaults, still fits)."""
    valid = numeric_ranges(config_class)[name]
    value = _edge(valid, side)
    default = getattr(config_class(), name)
    value = int(value) if isinstance(default, int) or (default is None and valid.high == int(valid.high)) else value
    if isinstance(default, tuple):  # a (low, high) pair: move one end to the edge
        value = (value, default[1]) if side == "low" else (default[0], value)
    if (config_class, name, side) in CROSS_FIELD_EDGES:
        with pytest.raises(ConfigError):
            config_class(**{name: value})
        return
    assert getattr(config_class(**{name: value}), name) == value


def test_numpy_scalars_are_taken_as_python_numbers():
    config = MarkdownConfig(n_products=np.int64(2), horizon=np.int32(10), arrival_rate=np.float32(4.0))
    assert (config.n_products, config.horizon, config.arrival_rate) == (2, 10, 4.0)
    assert type(config.n_products) is int and type(config.arrival_rate) is float


def test_numpy_0d_arrays_and_bools_are_taken_as_python_values():
    config = MarkdownConfig(horizon=np.array(12), arrival_rate=np.array(2.5), reference_dynamics=np.True_)
    assert (config.horizon, config.arrival_rate, config.reference_dynamics) == (12, 2.5, True)
    assert type(config.horizon) is int and type(config.reference_dynamics) is bool


FLAG_FIELDS = [(config_class, name) for config_class in CONFIG_CLASSES
               for name, info in config_class.__pydantic_fields__.items() if info.annotation is bool]


@pytest.mark.parametrize("config_class, name", FLAG_FIELDS, ids=[f"{cls.__name__}.{name}" for cls, name in FLAG_FIELDS])
@pytest.mark.parametrize("value", [1, 0, "yes", "false", "True", 1.0, None])
def test_every_flag_takes_only_true_or_false(config_class, name, value):
    """A bool option is never guessed from a number or a word ("false" is not False by accident)."""
    with pytest.raises(ConfigError) as caught:
        config_class(**{name: value})
    assert f"{name} must be True or False" in str(caught.value) and f"got {value!r}" in str(caught.value)
    assert getattr(config_class(**{name: True}), name) is True


def test_every_config_has_flags_to_check():
    assert len(FLAG_FIELDS) >= 7  # reference_dynamics, overwrite (x2), quick, offline, state_unit_cost, ...


def test_replace_validates_again():
    with pytest.raises(ConfigError, match="horizon"):
        dataclasses.replace(MarkdownConfig(), horizon=0)


def test_a_world_name_is_short_for_its_config():
    assert MarkdownConfig(world="online-retail").world == WorldConfig(name="online-retail")


@pytest.mark.parametrize("load, argument, words", [
    (load_world, "atlantis", ["world: name must be one of 'synthetic', 'online-retail'", "got 'atlantis'"]),
    (load_world, 3, ["world: config must be a WorldConfig, a dictionary of its options or None", "got int 3"]),
    (load_world, SyntheticWorldConfig(), ["config must be a WorldConfig", "got SyntheticWorldConfig"]),
    (load_world, {"synthetic": {"n_products": 2}}, ["world: synthetic.n_products must be an integer in [5,"]),
    (SyntheticWorld.build, WorldConfig(), ["synthetic world: config must be a SyntheticWorldConfig", "WorldConfig"]),
    (SyntheticWorld.build, "x", ["config must be a SyntheticWorldConfig", "got str 'x'"]),
    (load_online_retail, "x", ["config must be an OnlineRetailConfig", "got str 'x'"]),
])
def test_a_world_is_built_from_its_config_a_dictionary_or_a_name_and_nothing_else(load, argument, words):
    with pytest.raises(ConfigError) as caught:
        load(argument)
    assert all(word in str(caught.value) for word in words), str(caught.value)


def test_a_world_is_built_from_a_dictionary_of_options_or_its_name():
    small = {"n_products": 6, "n_customers": 5, "n_exposures": 50, "n_days": 10}
    assert load_world({"synthetic": small}).products.shape[0] == 6
    assert SyntheticWorld.build(small).customers.shape[0] == 5
    assert load_world("synthetic").config == SyntheticWorldConfig()


@pytest.mark.parametrize("name, content, error, words", [
    ("config.json", "{not json", DataError, ["config.json", "is not valid JSON"]),
    ("config.json", "[1, 2]", ConfigError, ["Markdown-v0", "mapping"]),
    ("config.json", '{"horizon": -4}', ConfigError, ["Markdown-v0: horizon"]),
    ("config.json", '{"horizon": 3, "horizon": 4}', DataError, ["config.json", "gives the option 'horizon' twice"]),
    ("config.json", '{"reference_dynamics": "false"}', ConfigError, ["reference_dynamics must be True or False"]),
    ("config.json", "[" * 100_000 + "]" * 100_000, DataError, ["config.json", "is not valid JSON"]),
    ("config.json", b'{"horizon": "\xff"}', DataError, ["config.json", "is not UTF-8"]),
    ("config.yaml", "horizon: 3\nhorizon: 4\n", DataError, ["config.yaml", "gives the option 'horizon' twice"]),
    ("config.yaml", "horizon: !!python/object/apply:os.system [ls]\n", DataError, ["config.yaml", "is not valid YAML"]),
    ("config.yaml", "price_range: !!python/tuple [0.5, 1.5]\n", DataError, ["is not valid YAML", "python/tuple"]),
    ("config.yaml", "horizon: !custom 3\n", DataError, ["is not valid YAML", "!custom"]),
    ("config.yaml", "horizon: [\n", DataError, ["config.yaml", "is not valid YAML"]),
    ("config.yaml", "horizon: 3\n---\nhorizon: 4\n", DataError, ["is not valid YAML", "single document"]),
    ("config.yaml", "1: 2\n", ConfigError, ["Markdown-v0: option names must be strings; got 1"]),
    ("config.yaml", "world: {synthetic: {null: 2}}\n", ConfigError, ["option names must be strings; got None in "
                                                                      "world.synthetic"]),
    ("config.yaml", "reference_dynamics: 'yes'\n", ConfigError, ["reference_dynamics must be True or False"]),
])
def test_a_bad_config_file_is_one_clear_error(name, content, error, words, tmp_path):
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    with pytest.raises(error) as caught:
        load_config(MarkdownConfig, path)
    message = str(caught.value)
    assert all(word in message for word in words), message
    assert "\n" not in message  # parsers' messages span lines; the CLI prints one


def test_a_missing_or_misnamed_config_file_is_refused(tmp_path):
    with pytest.raises(DataError, match="cannot be read"):
        load_config(MarkdownConfig, tmp_path / "absent.yaml")
    with pytest.raises(ConfigError, match=".json, .yaml or .yml"):
        load_config(MarkdownConfig, tmp_path / "config.toml")
    with pytest.raises(DataError, match="cannot be read"):
        load_config(MarkdownConfig, tmp_path / "nul\0.json")
    with pytest.raises(DataError, match="cannot be read"):
        load_config(MarkdownConfig, tmp_path / ("x" * 5_000 + ".json"))


def test_an_unquoted_yaml_date_is_read_as_that_date(tmp_path):
    path = tmp_path / "world.yaml"
    path.write_text("synthetic:\n  start_date: 2024-03-01\n")  # YAML reads it as a datetime.date
    assert load_config(WorldConfig, path).synthetic.start_date == "2024-03-01"
    path.write_text("synthetic:\n  start_date: 2024-03-01 12:00:00\n")  # a time of day is still refused
    with pytest.raises(ConfigError, match="start_date must be an ISO date YYYY-MM-DD"):
        load_config(WorldConfig, path)


def test_a_config_is_saved_into_missing_folders_or_refused_in_one_line(tmp_path):
    path = save_config(MarkdownConfig(horizon=7), tmp_path / "new" / "folder" / "config.yaml")
    assert load_config(MarkdownConfig, path).horizon == 7
    (tmp_path / "file").write_text("")
    with pytest.raises(DataError, match="cannot be written"):
        save_config(MarkdownConfig(), tmp_path / "file" / "config.json")  # a parent that is a file
    with pytest.raises(ConfigError, match="expected a typed config"):
        save_config({"horizon": 7}, tmp_path / "config.json")
