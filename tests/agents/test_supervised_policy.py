"""The supervised pricer as a batched policy: the prices each environment charges are its table's prices, mapped
as agents/supervised_policy.py documents (population price on Markdown-v0 and Competition-v0, the visitor's
discount on PersonalizedDiscount-v0); a table of another world is refused in one line."""

from __future__ import annotations

import json
from types import SimpleNamespace

import gymnasium
import numpy as np
import pytest
from stable_baselines3.common.evaluation import evaluate_policy
from stable_baselines3.common.vec_env import VecMonitor, VecNormalize

import pricegym.envs  # noqa: F401  (registers the environments)
from pricegym.agents import supervised_policy
from pricegym.agents.optimum_evaluation import episode_returns
from pricegym.agents.pricing_table import TabulatedPricingPolicy
from pricegym.agents.pricing_texts import ContextBuckets
from pricegym.agents.supervised_policy import (
    BatchedSupervisedPricingPolicy,
    supervised_policy_factory,
    table_rows_of_demand_rows,
)
from pricegym.envs import make_vec
from pricegym.errors import DataError
from pricegym.worlds.registry import WorldConfig, load_world
from pricegym.worlds.synthetic import SyntheticWorldConfig

SMALL_WORLD = WorldConfig(synthetic=SyntheticWorldConfig(seed=5, n_products=30, n_customers=200, n_exposures=12_000))
TINY_WORLD = WorldConfig(synthetic=SyntheticWorldConfig(seed=7, n_products=24, n_customers=90, n_exposures=4_000,
                                                        n_days=60))

MARKDOWN, COMPETITION, DISCOUNT = "pricegym/Markdown-v0", "pricegym/Competition-v0", "pricegym/PersonalizedDiscount-v0"
BUCKETS = ContextBuckets("season")
MARKDOWN_OPTIONS = {"world": SMALL_WORLD, "horizon": 8, "n_products": 2}  # days 240-247: summer, then autumn
COMPETITION_OPTIONS = {"world": SMALL_WORLD, "horizon": 8}
DISCOUNT_OPTIONS = {"world": SMALL_WORLD, "horizon": 30, "visits_per_day": 4, "max_discount": 0.3,
                    "discount_budget": 1_000.0}  # a budget that never caps: the discount asked is the one given
STEPS = 6


@pytest.fixture(scope="module")
def world():
    return load_world(SMALL_WORLD)


def pricing_table(world, seed: int = 0, per_customer: bool = False, low: float = 0.6,
                  high: float = 1.2) -> TabulatedPricingPolicy:
    """A hand-made table of random ratios in ``[low, high]``: one row per segment (as fit-pricer tabulates the
    synthetic world) or one per customer (its rows named by customer id)."""
    if per_customer:
        row_ids, customer_rows = tuple(world.customers["customer_id"]), np.arange(len(world.customers))
    else:
        row_ids, customer_rows = tuple(world.segments["segment"]), world.customers["segment_index"].to_numpy()
    ratios = np.random.default_rng(seed).uniform(low, high, (len(row_ids), len(world.products), BUCKETS.count))
    return TabulatedPricingPolicy(ratios, world.products["list_price"].to_numpy(float), BUCKETS, row_ids,
                                  tuple(world.products["product_id"]), customer_rows)


def population_price(table: TabulatedPricingPolicy, market, product: int, day: int) -> float:
    """The documented Markdown-v0 / Competition-v0 price: the customers' table prices, weighted by their weights."""
    bucket = int(BUCKETS.of_context(market.context(np.array([day]), np.array([product])))[0])
    prices = table.list_prices[product] * table.ratios[table.customer_rows, product, bucket]
    return float(market.customer_weights @ prices / market.customer_weights.sum())


def nearest_rung(values: np.ndarray, low: np.ndarray, high: np.ndarray, size: int) -> np.ndarray:
    """The rung of a ``size``-rung ladder over ``[low, high]`` nearest each value (by distance, not by formula)."""
    rungs = low[..., None] + np.linspace(0.0, 1.0, size) * (high - low)[..., None]
    return np.take_along_axis(rungs, np.abs(rungs - values[..., None]).argmin(axis=-1)[..., None], axis=-1)[..., 0]


def vector_env(env_id: str, action_space: str, options: dict):
    envs = gymnasium.make_vec(env_id, num_envs=3, vectorization_mode="vector_entry_point", action_space=action_space,
                              **options)
    return envs, envs.reset(seed=40)


def markdown_prices(table, expected_table, action_space: str) -> tuple[np.ndarray, np.ndarray, set[int]]:
    """The prices Markdown-v0 charged under ``table``'s policy, those documented for ``expected_table``, and the
    buckets met."""
    envs, (observations, _) = vector_env(MARKDOWN, action_space, MARKDOWN_OPTIONS)
    policy, market, config = BatchedSupervisedPricingPolicy(envs, table), envs.unwrapped.core.single_env.market, \
        envs.unwrapped.core.config
    charged, expected, buckets = [], [], set()
    for _ in range(STEPS):
        context = envs.policy_context()
        days = config.season_start_day + context["period"]
        wanted = np.array([[population_price(expected_table, market, product, day) for product in products]
                           for products, day in zip(context["products"], days, strict=True)])
        buckets |= set(BUCKETS.of_context(market.context(days, 0)).tolist())
        low, high = context["low"], context["high"]
        expected.append(np.clip(wanted, low, high) if action_space == "box"
                        else nearest_rung(np.clip(wanted, low, high), low, high, config.ladder_size))
        observations, _, _, _, infos = envs.step(policy.predict(observations)[0])
        charged.append(infos["prices"])
    return np.array(charged), np.array(expected), buckets


@pytest.mark.parametrize("action_space", ["box", "ladder"])
def test_markdown_charges_the_tables_price_for_the_population(world, action_space):
    table = pricing_table(world)
    charged, expected, buckets = markdown_prices(table, table, action_space)
    assert buckets == {2, 3}  # the season turns from summer to autumn: the bucket is followed
    np.testing.assert_allclose(charged, expected, rtol=1e-6)


@pytest.mark.parametrize("action_space, demand", [("box", "ground_truth"), ("ladder", "ground_truth"),
                                                  ("box", "fitted")])
def test_competition_charges_the_tables_price_for_the_population(world, action_space, demand, request, monkeypatch):
    table = pricing_table(world, per_customer=True, low=0.3, high=3.0)  # some prices outside the range: clipped
    options = dict(COMPETITION_OPTIONS)
    if demand == "fitted":  # the fitted tables name the world's products and customers: no world is loaded
        options.update(demand_source="fitted", demand_run=request.getfixturevalue("tables_run"))
        monkeypatch.setattr(supervised_policy, "_loaded_world_ids", lambda world: pytest.fail("world loaded"))
    envs, (observations, _) = vector_env(COMPETITION, action_space, options)
    policy, market, config = BatchedSupervisedPricingPolicy(envs, table), envs.unwrapped.core.single_env.market, \
        envs.unwrapped.core.config
    clipped = 0
    for _ in range(STEPS):
        context = envs.policy_context()
        wanted = np.array([population_price(table, market, product, config.season_start_day + period)
                           for product, period in zip(context["product"], context["period"], strict=True)])
        low, high = context["low"], context["high"]
        clipped += int(((wanted < low) | (wanted > high)).sum())
        expected = np.clip(wanted, low, high)
        if action_space == "ladder":
            expected = nearest_rung(expected, low, high, config.ladder_size)
        observations, _, _, _, infos = envs.step(policy.predict(observations)[0])
        np.testing.assert_allclose(infos["price"], expected, rtol=1e-6)
    assert action_space == "ladder" or clipped > 0


@pytest.mark.parametrize("action_space", ["box", "ladder"])
def test_discount_gives_each_visitor_the_discount_of_its_own_row(world, action_space):
    table = pricing_table(world, low=0.5, high=1.2)  # some above the list price, some beyond the largest discount
    envs, (observations, reset) = vector_env(DISCOUNT, action_space, DISCOUNT_OPTIONS)
    policy, config = BatchedSupervisedPricingPolicy(envs, table), envs.unwrapped.core.config
    market, slots = envs.unwrapped.core.single_env.market, np.arange(3)
    given = []
    for visit in range(STEPS * 3):
        context = envs.policy_context()
        customers = reset["customers"][slots, context["customer"]]  # the visitors' demand rows
        products = reset["products"][slots, context["slot"]]
        day = config.season_start_day + visit // config.visits_per_day
        buckets = BUCKETS.of_context(market.context(np.full(3, day), products))
        price = table.list_prices[products] * table.ratios[table.customer_rows[customers], products, buckets]
        discount = np.clip(1.0 - price / context["list_price"], 0.0, config.max_discount)
        if action_space == "ladder":
            discount = nearest_rung(discount, np.zeros(3), np.full(3, config.max_discount), config.ladder_size)
        observations, _, _, _, infos = envs.step(policy.predict(observations)[0])
        np.testing.assert_allclose(infos["requested_discount"], discount, rtol=1e-6, atol=1e-9)
        np.testing.assert_allclose(infos["price"], context["list_price"] * (1.0 - discount), rtol=1e-6)
        given.extend(discount.tolist())
    assert min(given) == 0.0 and max(given) == pytest.approx(config.max_discount) and len(set(given)) > 3


def test_another_table_charges_other_prices(world):
    charged, expected, _ = markdown_prices(pricing_table(world, seed=1), pricing_table(world, seed=0), "box")
    assert np.mean(np.isclose(charged, expected, rtol=1e-3)) < 0.2


def test_the_factory_plays_a_run_folder_like_any_agent(world, tmp_path):
    table = pricing_table(world)
    run = table.save(tmp_path / "pricer")
    (run / "model_card.json").write_text(json.dumps({"world": "synthetic"}))
    factory = supervised_policy_factory(run)
    seen: list[tuple[np.ndarray, np.ndarray]] = []

    def observe(context, infos, alive):
        market, days = context["market"], context["config"].season_start_day + context["period"]
        wanted = np.array([[population_price(table, market, product, day) for product in products]
                           for products, day in zip(context["products"], days, strict=True)])
        seen.append((infos["prices"][alive], np.clip(wanted, context["low"], context["high"])[alive]))

    returns = episode_returns(factory, MARKDOWN, [3, 4], step_observer=observe, **MARKDOWN_OPTIONS)
    assert returns.shape == (2,) and np.all(np.isfinite(returns)) and len(seen) > 0
    for charged, expected in seen:
        np.testing.assert_allclose(charged, expected, rtol=1e-6)
    wrapped = VecNormalize(VecMonitor(make_vec(DISCOUNT, 3, seed=0, **DISCOUNT_OPTIONS)), norm_reward=False)
    policy = factory(wrapped)  # reads the visit's demand row through the wrappers
    assert policy.knows == "the supervised BERT pricer's price table (fit on logged transactions); no demand model"
    mean_return, _ = evaluate_policy(policy, wrapped, n_eval_episodes=3, warn=False)
    assert np.isfinite(mean_return)


def _one_line_data_error(build, *fragments: str) -> None:
    with pytest.raises(DataError) as raised:
        build()
    message = str(raised.value)
    assert "\n" not in message and all(fragment in message for fragment in fragments), message


def test_a_table_of_another_world_is_refused_in_one_line(world, tmp_path):
    vec_env = make_vec(COMPETITION, 2, **COMPETITION_OPTIONS)
    small = "synthetic world (seed 5)"
    _one_line_data_error(lambda: BatchedSupervisedPricingPolicy(vec_env, pricing_table(load_world(TINY_WORLD))),
                         small, "its 24 products", "the world's 30")
    table = pricing_table(world)
    other_prices = TabulatedPricingPolicy(table.ratios, 1.1 * table.list_prices, BUCKETS, table.row_ids,
                                          table.product_ids, table.customer_rows)
    _one_line_data_error(lambda: BatchedSupervisedPricingPolicy(vec_env, other_prices), small, "list price of product")
    few_customers = TabulatedPricingPolicy(table.ratios, table.list_prices, BUCKETS, table.row_ids, table.product_ids,
                                           table.customer_rows[:150])
    _one_line_data_error(lambda: BatchedSupervisedPricingPolicy(vec_env, few_customers), "150 customers",
                         "the world's 200 demand rows")
    run = table.save(tmp_path / "retail-pricer")
    (run / "model_card.json").write_text(json.dumps({"world": "online-retail"}))
    _one_line_data_error(lambda: supervised_policy_factory(run)(vec_env), str(run), "online-retail world", small)
    _one_line_data_error(lambda: supervised_policy_factory(tmp_path / "empty")(vec_env), "empty", "pricing_table.npz")


def test_online_retail_customer_types_map_to_their_table_rows():
    """Online-retail markets have one demand row per customer type, which are the table's rows (by id)."""
    buckets = ContextBuckets("none")
    table = TabulatedPricingPolicy(np.array([[[0.9]], [[1.1]]]), np.array([10.0]), buckets, ("guest", "registered"),
                                   ("85123A",), np.array([1, 1, 0]))  # customer_rows: per individual customer
    market = SimpleNamespace(demand=SimpleNamespace(product_ids=("85123A",), customer_ids=("registered", "guest")),
                             list_prices=np.array([10.0]))
    retail = SimpleNamespace(name="online-retail")
    np.testing.assert_array_equal(table_rows_of_demand_rows(table, market, retail, "run"), [1, 0])
    market.demand.product_ids = ("22423",)
    _one_line_data_error(lambda: table_rows_of_demand_rows(table, market, retail, "run"), "run:", "online-retail world",
                         "(85123A)", "(22423)")
