"""Bad input to the three environments, table-driven: actions, steps out of order, reset options, construction.

Every case asserts the error's type and the key words of its message (what was expected, what was
received, how to fix it). Environments are made with ``gym.make``, as users make them.
"""

from __future__ import annotations

import json
import shutil

import gymnasium as gym
import numpy as np
import pytest

from pricegym.agents.baselines import BestFixedPricePolicy, ListPricePolicy
from pricegym.agents.competition_baselines import CompetitionMyopicPolicy
from pricegym.agents.discount_baselines import MyopicDiscountPolicy
from pricegym.envs import (
    COMPETITION_ID,
    MARKDOWN_ID,
    PERSONALIZED_DISCOUNT_ID,
    CompetitionConfig,
    MarkdownConfig,
    PersonalizedDiscountConfig,
)
from pricegym.envs.competition_oracle import competition_season, competition_values
from pricegym.envs.discount_bounds import expected_bound, hindsight_bound
from pricegym.envs.oracle import baseline_values, markdown_oracle, season_problems
from pricegym.errors import ConfigError, DataError, EnvStateError, PricegymError
from pricegym.worlds.registry import WorldConfig
from pricegym.worlds.synthetic import SyntheticWorldConfig

ENV_IDS = [MARKDOWN_ID, PERSONALIZED_DISCOUNT_ID, COMPETITION_ID]
NAMES = {MARKDOWN_ID: "Markdown-v0", PERSONALIZED_DISCOUNT_ID: "PersonalizedDiscount-v0",
         COMPETITION_ID: "Competition-v0"}
N_PRODUCTS = {MARKDOWN_ID: 1, PERSONALIZED_DISCOUNT_ID: 2, COMPETITION_ID: 1}
"""Products of an episode in the default configurations."""
LADDER_SIZE = 5
SHORT = {MARKDOWN_ID: {"horizon": 3}, PERSONALIZED_DISCOUNT_ID: {"horizon": 3, "budget_window": 3},
         COMPETITION_ID: {"horizon": 3}}
"""Short episodes, to reach their end in a few steps."""


@pytest.fixture()
def make(small_world_config):
    """``make(env_id, **options)``: the environment on the small world, through ``gym.make``."""

    def make_env(env_id: str, **options):
        return gym.make(env_id, world=small_world_config, **options)

    return make_env


def assert_refused(error_type: type[Exception], call, *key_words: str) -> str:
    """``call()`` raises ``error_type`` with every key word in its message; returns the message."""
    with pytest.raises(error_type) as caught:
        call()
    message = str(caught.value)
    missing = [word for word in key_words if word not in message]
    assert not missing, f"{missing} not in {message!r}"
    assert "\n" not in message, f"not one line: {message!r}"
    return message


# -- actions -------------------------------------------------------------------------------------

BAD_BOX_ACTIONS = [  # (case, action, key words of the message)
    ("a string", "0.5", ["type str"]),
    ("a bool", True, ["bool"]),
    ("a numpy bool", np.bool_(False), ["bool"]),
    ("None", None, ["NoneType"]),
    ("a dict", {"price": 0.5}, ["type dict"]),
    ("a scalar float", 0.5, ["scalar float", "shape (1,)"]),
    ("a scalar int", 0, ["scalar int"]),
    ("an integer array", np.array([0]), ["dtype int64", "float"]),
    ("a bool array", np.array([True]), ["dtype bool"]),
    ("a complex array", np.array([0.5j]), ["dtype complex128"]),
    ("a string array", np.array(["0.5"]), ["dtype <U3"]),
    ("an object array", np.array([0.5], dtype=object), ["dtype object"]),
    ("a batch", np.zeros((1, 1), dtype=np.float32), ["shape (1, 1) is not (1,)"]),
    ("two values", np.zeros(2, dtype=np.float32), ["shape (2,) is not (1,)"]),
    ("no value", np.zeros(0, dtype=np.float32), ["shape (0,) is not (1,)"]),
    ("a list of ints", [0], ["['int']", "floats"]),
    ("a list of two floats", [0.1, 0.2], ["2 value(s) given, not 1"]),
    ("a list of a string", ["0.5"], ["['str']"]),
    ("NaN", np.array([np.nan], dtype=np.float32), ["finite", "[-1, 1]", "nan"]),
    ("NaN in a list", [float("nan")], ["finite", "nan"]),
    ("infinity", np.array([-np.inf]), ["finite", "-inf"]),
    ("beyond the clipping tolerance", np.array([1.001]), ["[-1, 1]", "clip or squash", "1.001"]),
    ("a masked value", np.ma.masked_array([0.5], mask=[True]), ["masked values"]),
    ("a 2-D float batch of many rows", np.zeros((40, 1)), ["shape (40, 1) is not (1,)"]),
    ("a timedelta", np.timedelta64(1), ["timedelta64"]),
]


@pytest.mark.parametrize("env_id", ENV_IDS)
@pytest.mark.parametrize("case, action, key_words", BAD_BOX_ACTIONS, ids=[case[0] for case in BAD_BOX_ACTIONS])
def test_bad_box_actions_raise_a_value_error_naming_the_space_and_the_action(make, env_id, case, action, key_words):
    env = make(env_id)
    env.reset(seed=0)
    assert_refused(ValueError, lambda: env.step(action), NAMES[env_id], "Box(-1.0, 1.0, (1,), float32)",
                   "expects 1 float(s) in [-1, 1]", "got", *key_words)


BAD_LADDER_ACTIONS = [  # for Discrete(5)
    ("a string", "2", ["type str"]),
    ("a bool", True, ["bool"]),
    ("a numpy bool", np.bool_(True), ["bool"]),
    ("None", None, ["NoneType"]),
    ("an integral float", 2.0, ["float 2.0 is not an integer rung"]),
    ("a fractional float", 2.5, ["float 2.5 is not an integer rung"]),
    ("a numpy float", np.float32(2.0), ["float32", "not an integer rung"]),
    ("a float array", np.array([2.0]), ["dtype float64 is not an integer dtype"]),
    ("a bool array", np.array([True]), ["dtype bool"]),
    ("a batch", np.array([[2]]), ["shape (1, 1) is not (1,)"]),
    ("two rungs", [1, 2], ["2 value(s) given, not 1"]),
    ("a list of a float", [2.0], ["['float']", "integers"]),
    ("a rung below the ladder", -1, ["rungs must lie in 0..4", "-1"]),
    ("a rung above the ladder", 5, ["rungs must lie in 0..4", "5"]),
    ("a numpy rung above the ladder", np.int64(7), ["rungs must lie in 0..4", "7"]),
    ("a timedelta", np.timedelta64(2), ["a timedelta64 is not a price or a rung"]),
    ("a list of a timedelta", [np.timedelta64(2)], ["['timedelta64']"]),
    ("a masked rung", np.ma.masked_array([2], mask=[True]), ["masked values"]),
]


@pytest.mark.parametrize("env_id", ENV_IDS)
@pytest.mark.parametrize("case, action, key_words", BAD_LADDER_ACTIONS,
                         ids=[case[0] for case in BAD_LADDER_ACTIONS])
def test_bad_ladder_actions_raise_a_value_error_naming_the_space_and_the_action(make, env_id, case, action,
                                                                               key_words):
    env = make(env_id, action_space="ladder", ladder_size=LADDER_SIZE)
    env.reset(seed=0)
    assert_refused(ValueError, lambda: env.step(action), NAMES[env_id], "Discrete(5)", "integer ladder rung",
                   "got", *key_words)


@pytest.mark.parametrize("case, action, key_words", [
    ("one rung", 3, ["a scalar int, not an array of shape (2,)"]),
    ("one rung in a list", [3], ["1 value(s) given, not 2"]),
    ("float rungs", np.array([1.0, 2.0]), ["dtype float64"]),
    ("a rung above the ladder", np.array([1, 5]), ["rungs must lie in 0..4"]),
    ("a bool rung", [1, True], ["['bool', 'int']"]),
])
def test_bad_multi_product_ladder_actions_are_refused(make, case, action, key_words):
    env = make(MARKDOWN_ID, action_space="ladder", ladder_size=LADDER_SIZE, n_products=2)
    env.reset(seed=0)
    assert_refused(ValueError, lambda: env.step(action), "MultiDiscrete([5 5])", *key_words)


GOOD_BOX_ACTIONS = [  # all ask for the same price: a quarter up the range
    np.array([-0.5], dtype=np.float32), np.array([-0.5], dtype=np.float64), np.array([-0.5], dtype=np.float16),
    [-0.5], (-0.5,), [np.float32(-0.5)], [np.float64(-0.5)],
]


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_box_actions_of_any_float_dtype_or_as_a_list_ask_for_the_same_price(make, env_id):
    env = make(env_id)
    outcomes = []
    for action in GOOD_BOX_ACTIONS:
        env.reset(seed=0)
        outcomes.append(env.step(action)[1])
    assert outcomes == [outcomes[0]] * len(outcomes)


@pytest.mark.parametrize("env_id", [MARKDOWN_ID, COMPETITION_ID])
def test_box_values_just_outside_the_bounds_are_clipped_to_the_range_ends(make, env_id):
    env = make(env_id)
    for action, end in ((1.0 + 1e-7, "high"), (-1.0 - 1e-7, "low")):
        env.reset(seed=0)
        info = env.step(np.array([action]))[4]
        price = info["prices"][0] if env_id == MARKDOWN_ID else info["price"]
        assert price == pytest.approx(getattr(env.unwrapped.price_actions, end)[0])


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_ladder_rungs_as_python_or_numpy_ints_ask_for_the_same_price(make, env_id):
    env = make(env_id, action_space="ladder", ladder_size=LADDER_SIZE)
    outcomes = []
    for action in (3, np.int64(3), np.int32(3), np.uint8(3), np.array(3), np.array([3]), [3], (np.int16(3),)):
        env.reset(seed=0)
        outcomes.append(env.step(action)[1])
    assert outcomes == [outcomes[0]] * len(outcomes)


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_a_refused_action_leaves_the_episode_as_it_was(make, env_id):
    env = make(env_id)
    env.reset(seed=3)
    with pytest.raises(ValueError):
        env.step(np.array([np.nan], dtype=np.float32))
    after_refusal = env.step(np.array([0.3], dtype=np.float32))
    env.reset(seed=3)
    fresh = env.step(np.array([0.3], dtype=np.float32))
    np.testing.assert_array_equal(after_refusal[0], fresh[0])
    assert after_refusal[1:4] == fresh[1:4]


def test_a_masked_array_without_masked_values_is_its_plain_values(make):
    env = make(MARKDOWN_ID)
    env.reset(seed=0)
    masked = env.step(np.ma.masked_array([0.25], mask=[False]))[1]
    env.reset(seed=0)
    assert env.step(np.array([0.25]))[1] == masked


# -- steps out of order --------------------------------------------------------------------------

@pytest.mark.parametrize("env_id", ENV_IDS)
def test_a_step_before_reset_says_to_call_reset(make, env_id):
    env = make(env_id)
    assert_refused(EnvStateError, lambda: env.step(env.action_space.sample()), NAMES[env_id], "before reset()",
                   "call reset()")


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_a_render_before_reset_says_to_call_reset(small_world_config, env_id):
    env = gym.make(env_id, world=small_world_config, render_mode="rgb_array")
    assert_refused(EnvStateError, env.render, "render() called before reset()", "call reset()")


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_steps_after_the_end_say_to_call_reset_until_it_is_called(make, env_id):
    env = make(env_id, **SHORT[env_id])
    env.reset(seed=0)
    terminated = False
    while not terminated:
        _, _, terminated, truncated, _ = env.step(env.action_space.sample())
        assert not truncated
    for _ in range(2):  # every step after the end is refused, not only the first
        message = assert_refused(EnvStateError, lambda: env.step(env.action_space.sample()), NAMES[env_id],
                                 "after the episode ended", "call reset()")
    env.reset()
    env.step(env.action_space.sample())  # a new episode steps again
    assert "reset()" in message


def test_the_state_error_is_a_pricegym_error_and_a_runtime_error():
    assert issubclass(EnvStateError, PricegymError) and issubclass(EnvStateError, RuntimeError)


def test_a_markdown_season_that_sells_out_early_ends_there(make):
    env = make(MARKDOWN_ID, initial_inventory=1, arrival_rate=200.0)
    env.reset(seed=0)
    assert env.step(np.array([-1.0], dtype=np.float32))[2]  # every unit sold at the lowest price: terminated
    assert_refused(EnvStateError, lambda: env.step(np.array([-1.0], dtype=np.float32)), "after the episode ended")


# -- reset seeds ---------------------------------------------------------------------------------

BAD_SEEDS = [-1, -(2**63), 2**32, 2**64, 1.5, 0.0, float("nan"), "1", True, [1], np.array([3]), np.float64(3.0),
             np.int8(-1), np.timedelta64(3), np.random.default_rng(0)]


@pytest.mark.parametrize("env_id", ENV_IDS)
@pytest.mark.parametrize("seed", BAD_SEEDS, ids=[repr(seed)[:30] for seed in BAD_SEEDS])
def test_bad_seeds_raise_a_config_error_saying_what_a_seed_is(make, env_id, seed):
    env = make(env_id)
    assert_refused(ConfigError, lambda: env.reset(seed=seed), NAMES[env_id], "seed must be None or an integer in "
                   "[0, 4_294_967_295]", "got", "reset(seed=0)")
    assert_refused(EnvStateError, lambda: env.step(env.action_space.sample()), "before reset()")  # nothing started


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_numpy_integer_seeds_are_their_python_values(make, env_id):
    env = make(env_id)
    for seed in (np.int64(3), np.uint32(3), np.array(3)[()]):
        assert np.array_equal(env.reset(seed=seed)[0], env.reset(seed=3)[0])
    env.reset(seed=2**32 - 1)  # the largest seed


# -- reset options -------------------------------------------------------------------------------

def _products(env, n: int, offset: int = 0) -> list[int]:
    return env.unwrapped.pool[offset:offset + n].tolist()


BAD_RESET_OPTIONS = [  # (case, options as a function of (pool products, episode's products), key words)
    ("a negative index", lambda good: {"products": [-1, *good[1:]]}, ["[-1]", "not in the pool"]),
    ("an index beyond the catalogue", lambda good: {"products": [9999, *good[1:]]}, ["[9999]", "not in the pool"]),
    ("too many products", lambda good: {"products": good + [good[0] + 100]}, ["got list"]),
    ("too few products", lambda good: {"products": []}, ["got list []"]),
    ("a bare index", lambda good: {"products": good[0]}, ["got int"]),
    ("a string", lambda good: {"products": "1"}, ["got str '1'"]),
    ("None", lambda good: {"products": None}, ["got NoneType None"]),
    ("float indices", lambda good: {"products": [float(p) for p in good]}, ["got list ["]),
    ("bool indices", lambda good: {"products": [True] * len(good)}, ["got list [True"]),
    ("a float array", lambda good: {"products": np.array(good, dtype=float)}, ["dtype float64"]),
    ("a 2-D array", lambda good: {"products": np.array([good])}, ["shape (1,"]),
    ("an unknown option", lambda good: {"product": good}, ["unknown reset option(s) ['product']", "['products']"]),
    ("a second, unknown option", lambda good: {"products": good, "seed": 3}, ["unknown reset option(s) ['seed']"]),
    ("options that are not a dict", lambda good: [("products", good)], ["must be a dict", "got list"]),
]


@pytest.mark.parametrize("env_id", ENV_IDS)
@pytest.mark.parametrize("case, options, key_words", BAD_RESET_OPTIONS, ids=[case[0] for case in BAD_RESET_OPTIONS])
def test_bad_reset_options_raise_a_config_error_naming_the_option(make, env_id, case, options, key_words):
    env = make(env_id)
    good = _products(env, N_PRODUCTS[env_id])
    assert_refused(ConfigError, lambda: env.reset(seed=0, options=options(good)), NAMES[env_id], *key_words)


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_the_products_option_says_what_it_expects(make, env_id):
    env, n_products = make(env_id), N_PRODUCTS[env_id]
    assert_refused(ConfigError, lambda: env.reset(options={"products": [-1] * n_products}), "reset option 'products'",
                   f"list of {n_products} distinct product index(es)", "'train' product pool",
                   "omit the option to draw products at random")


def test_three_products_for_the_one_product_competition_are_refused(make):
    env = make(COMPETITION_ID)
    assert_refused(ConfigError, lambda: env.reset(options={"products": _products(env, 3)}), "list of 1",
                   f"got list {_products(env, 3)}")


@pytest.mark.parametrize("env_id", [MARKDOWN_ID, PERSONALIZED_DISCOUNT_ID])
def test_repeated_products_are_refused(make, env_id):
    env = make(env_id, n_products=2)
    first = _products(env, 1)[0]
    assert_refused(ConfigError, lambda: env.reset(options={"products": [first, first]}), f"which repeats [{first}]")


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_a_product_of_the_other_pool_is_refused(make, env_id):
    env = make(env_id)
    cold = env.unwrapped.market.product_pool("cold_start")[:N_PRODUCTS[env_id]].tolist()
    assert_refused(ConfigError, lambda: env.reset(options={"products": cold}), "not in the pool", "'train'")


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_good_products_options_in_any_integer_form_give_those_products(make, env_id):
    env = make(env_id)
    good = _products(env, N_PRODUCTS[env_id], offset=3)[::-1]  # the order given is kept
    for products in (good, tuple(good), np.array(good), np.array(good, dtype=np.int32), [np.int64(p) for p in good]):
        _, info = env.reset(seed=0, options={"products": products})
        assert info["products"].tolist() == good
    assert env.reset(seed=0, options={})[0] is not None and env.reset(seed=0, options=None)[0] is not None


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_a_refused_reset_leaves_the_running_episode_alone(make, env_id):
    env = make(env_id)
    env.reset(seed=0)
    with pytest.raises(ConfigError):
        env.reset(seed=5, options={"products": [-1]})
    env.step(env.action_space.sample())  # still running, on the same random stream
    state = env.unwrapped.np_random.bit_generator.state
    env2 = make(env_id)
    env2.reset(seed=0)
    env2.step(env2.action_space.sample())
    assert env2.unwrapped.np_random.bit_generator.state == state


# -- oracles, bounds and rule-based policies -------------------------------------------------------

def _begin(policy_class):
    def begin(env, **options):
        policy_class(**options).begin_episode(env)
        return 0.0
    return begin


EPISODE_READERS = [  # (env id, what reads the episode, whether it takes grid_size)
    (MARKDOWN_ID, markdown_oracle, True), (MARKDOWN_ID, baseline_values, True), (MARKDOWN_ID, season_problems, True),
    (MARKDOWN_ID, _begin(BestFixedPricePolicy), True), (MARKDOWN_ID, _begin(ListPricePolicy), False),
    (COMPETITION_ID, competition_values, True), (COMPETITION_ID, competition_season, True),
    (COMPETITION_ID, _begin(CompetitionMyopicPolicy), True), (PERSONALIZED_DISCOUNT_ID, hindsight_bound, False),
    (PERSONALIZED_DISCOUNT_ID, expected_bound, False), (PERSONALIZED_DISCOUNT_ID, _begin(MyopicDiscountPolicy), False),
]
READER_IDS = [f"{NAMES[env_id]}-{getattr(reader, '__name__', 'begin')}-{index}"
              for index, (env_id, reader, _) in enumerate(EPISODE_READERS)]


@pytest.mark.parametrize("env_id, reader, _", EPISODE_READERS, ids=READER_IDS)
def test_oracles_bounds_and_rules_before_reset_say_to_call_reset(make, env_id, reader, _):
    env = make(env_id)
    assert_refused(EnvStateError, lambda: reader(env), NAMES[env_id], "called before reset()", "call reset()")


@pytest.mark.parametrize("env_id, reader, _", EPISODE_READERS, ids=READER_IDS)
def test_oracles_bounds_and_rules_take_the_environment_gym_make_returns(make, env_id, reader, _):
    env = make(env_id, **SHORT[env_id])
    env.reset(seed=0)
    result = reader(env)  # the wrapped environment, not env.unwrapped
    values = result.values() if isinstance(result, dict) else [getattr(result, "value", 0.0)]
    assert all(np.isfinite(value) for value in values if isinstance(value, float))


@pytest.mark.parametrize("env_id, reader, _", EPISODE_READERS, ids=READER_IDS)
def test_oracles_bounds_and_rules_refuse_another_environment(make, env_id, reader, _):
    other = make(COMPETITION_ID if env_id != COMPETITION_ID else MARKDOWN_ID)
    other.reset(seed=0)
    assert_refused(ConfigError, lambda: reader(other), f"computes for {NAMES[env_id]} environments", "got")


BAD_GRID_SIZES = [0, 1, -5, 1_002, 2.5, True, None, "41", np.float64(41.0)]


@pytest.mark.parametrize("env_id, reader", [(env_id, reader) for env_id, reader, takes in EPISODE_READERS if takes],
                         ids=[name for name, (_, _, takes) in zip(READER_IDS, EPISODE_READERS, strict=True) if takes])
@pytest.mark.parametrize("grid_size", BAD_GRID_SIZES, ids=[repr(size) for size in BAD_GRID_SIZES])
def test_a_bad_grid_size_is_one_config_error(make, env_id, reader, grid_size):
    env = make(env_id)
    env.reset(seed=0)
    assert_refused(ConfigError, lambda: reader(env, grid_size=grid_size),
                   "grid_size must be an integer in [2, 1_001]", "got")


# -- construction --------------------------------------------------------------------------------

SPARSE_LOG_WORLD = WorldConfig(synthetic=SyntheticWorldConfig(seed=5, n_products=12, n_customers=60, n_exposures=1))
MANY_CUSTOMERS_WORLD = WorldConfig(synthetic=SyntheticWorldConfig(seed=5, n_products=12, n_customers=20_000,
                                                                  n_exposures=3_000))
EMPTY_COLD_START_WORLD = WorldConfig(synthetic=SyntheticWorldConfig(seed=5, n_products=12, n_customers=60,
                                                                    n_exposures=3_000, cold_start_share=0.0))


def _construction_cases(tables_run, wide_tables_run=None) -> list[tuple[str, str, dict, list[str]]]:
    """(case, env id, options of gym.make, key words) of every mistake refused at construction."""
    fitted = {"demand_source": "fitted", "demand_run": tables_run}
    cases = []
    for env_id in ENV_IDS:
        cases.append(("an unknown render mode", env_id, {"render_mode": "ansi"},
                      ["render_mode 'ansi'", "rgb_array"]))
    cases += [
        ("more products than the pool", MARKDOWN_ID, {"n_products": 25},
         ["n_products=25", "holds 24 product(s)", "lower n_products"]),
        ("more products than the pool", PERSONALIZED_DISCOUNT_ID, {"n_products": 25},
         ["n_products=25", "holds 24 product(s)", "lower n_products"]),
        ("an empty pool", MARKDOWN_ID, {"world": EMPTY_COLD_START_WORLD, "product_pool": "cold_start"},
         ["n_products=1", "'cold_start'", "holds 0 product(s)"]),
        ("an empty pool", COMPETITION_ID, {"world": EMPTY_COLD_START_WORLD, "product_pool": "cold_start"},
         ["sells 1 product", "'cold_start'", "holds 0 product(s)", "product_pool='train'"]),
        ("an empty pool", PERSONALIZED_DISCOUNT_ID, {"world": EMPTY_COLD_START_WORLD, "product_pool": "cold_start"},
         ["n_products=2", "'cold_start'", "holds 0 product(s)"]),
        ("a price range outside the fitted data", MARKDOWN_ID, {**fitted, "price_range": (0.01, 0.02)},
         ["price_range=(0.01, 0.02)", "leaves no price inside", "widen price_range"]),
        ("a price range outside the fitted data", COMPETITION_ID, {**fitted, "price_range": (0.01, 0.02)},
         ["price_range=(0.01, 0.02)", "leaves no price inside", "widen price_range"]),
        ("more customers than the world", PERSONALIZED_DISCOUNT_ID, {"n_customers": 5_000}, ["n_customers=5000"]),
        ("an unknown option", MARKDOWN_ID, {"horizon_length": 3}, ["unknown option", "horizon_length"]),
        ("observations too big for memory", MARKDOWN_ID,
         {"demand_run": wide_tables_run, "embedding_dim": None, "horizon": 10_000, "arrival_rate": 1.0},
         ["precomputed observations would take 160,016 rows x 4,114 values", "lower horizon, n_products or "
          "embedding_dim"]),
        ("observations too big for memory", PERSONALIZED_DISCOUNT_ID,
         {"demand_run": wide_tables_run, "embedding_dim": None, "horizon": 1_000_000},
         ["precomputed observations would take 1,000,001 rows", "GiB", "lower horizon or embedding_dim"]),
        ("observations too big for memory", COMPETITION_ID,
         {"demand_run": wide_tables_run, "embedding_dim": None, "horizon": 10_000, "arrival_rate": 1.0},
         ["precomputed observations would take 160,016 rows"]),
        ("a log without two prices of a product", MARKDOWN_ID, {"world": SPARSE_LOG_WORLD},
         ["price_range=None leaves no price", "pass price_range=(low, high)"]),
        ("a log without two prices of a product", COMPETITION_ID, {"world": SPARSE_LOG_WORLD},
         ["pass price_range=(low, high)"]),
        ("shoppers' weights too big for memory", MARKDOWN_ID,
         {"world": MANY_CUSTOMERS_WORLD, "horizon": 10_000, "arrival_rate": 1.0},
         ["shoppers' arrival weights per period would take 10,000 rows x 20,000 values", "world with fewer customers"]),
        ("shoppers' weights too big for memory", COMPETITION_ID,
         {"world": MANY_CUSTOMERS_WORLD, "horizon": 10_000, "arrival_rate": 1.0},
         ["shoppers' arrival weights per period"]),
    ]
    for env_id in ENV_IDS:
        other = PersonalizedDiscountConfig() if env_id == MARKDOWN_ID else MarkdownConfig()
        cases += [
            ("a config of another environment", env_id, {"config": other},
             ["config must be a", "got " + type(other).__name__]),
            ("a config that is a string", env_id, {"config": "ladder"}, ["config must be a", "got str 'ladder'"]),
            ("a config dictionary with a bad value", env_id, {"config": {"horizon": 0}},
             ["horizon must be an integer"]),
        ]
    return cases


CONSTRUCTION_CASE_IDS = [f"{NAMES[env_id]}: {case}" for case, env_id, _, _ in _construction_cases(None)]


@pytest.mark.filterwarnings("ignore:.*not in the possible render_modes:UserWarning")  # gymnasium's, before ours
@pytest.mark.parametrize("index", range(len(CONSTRUCTION_CASE_IDS)), ids=CONSTRUCTION_CASE_IDS)
def test_mistakes_in_the_config_raise_a_config_error_at_make_never_at_reset(small_world_config, tables_run,
                                                                            wide_tables_run, index):
    case, env_id, options, key_words = _construction_cases(tables_run, wide_tables_run)[index]
    options = options if "config" in options else {"world": small_world_config, **options}
    assert_refused(ConfigError, lambda: gym.make(env_id, **options), NAMES[env_id], *key_words)


def test_a_log_without_prices_is_priced_by_an_explicit_price_range():
    env = gym.make(MARKDOWN_ID, world=SPARSE_LOG_WORLD, price_range=(0.5, 1.5))
    env.reset(seed=0)
    assert np.isfinite(env.step(env.action_space.sample())[1])


def _banana_response(run) -> None:
    card = json.loads((run / "demand_tables.json").read_text())
    (run / "demand_tables.json").write_text(json.dumps({**card, "response": "banana"}))


def _nan_intercept(run) -> None:
    """The same archive, of the same size, with one NaN."""
    with np.load(run / "demand_tables.npz") as stored:
        arrays = {name: stored[name] for name in stored.files}
    arrays["intercept"] = arrays["intercept"].copy()
    arrays["intercept"][0, 0] = np.nan
    np.savez(run / "demand_tables.npz", **arrays)


@pytest.mark.parametrize("env_id", ENV_IDS)
@pytest.mark.parametrize("corrupt, words", [(_banana_response, "demand_tables.json: has response 'banana'"),
                                            (_nan_intercept, "non-finite value(s) in intercept")])
def test_a_run_rewritten_after_a_make_is_checked_again(small_world_config, tables_run, tmp_path, env_id, corrupt,
                                                       words):
    """Markets are cached per run folder; a run corrupted since the last make must not be served from the cache."""
    run = shutil.copytree(tables_run, tmp_path / "run")
    gym.make(env_id, world=small_world_config, demand_source="fitted", demand_run=run)
    corrupt(run)
    assert_refused(DataError, lambda: gym.make(env_id, world=small_world_config, demand_source="fitted",
                                               demand_run=run), words)


@pytest.mark.parametrize("env_id, config_class", [(MARKDOWN_ID, MarkdownConfig),
                                                  (PERSONALIZED_DISCOUNT_ID, PersonalizedDiscountConfig),
                                                  (COMPETITION_ID, CompetitionConfig)])
def test_a_config_may_be_given_as_a_dictionary_with_overrides(small_world_config, env_id, config_class):
    env = gym.make(env_id, config={"world": small_world_config, "horizon": 4}, ladder_size=3, action_space="ladder")
    assert env.unwrapped.config == config_class(world=small_world_config, horizon=4, ladder_size=3,
                                                action_space="ladder")
