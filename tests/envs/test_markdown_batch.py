"""MarkdownBatch: seeded slots play the single environment's seasons; unseeded ones are fresh, valid and
reproducible; bad actions, seeds and steps are refused."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

import pricegym.envs.markdown_batch as markdown_batch
from pricegym.envs.markdown import MarkdownEnv
from pricegym.envs.markdown_batch import MarkdownBatch, ShopperDraw
from pricegym.errors import ConfigError, EnvStateError

RICH = {"n_products": 3, "reference_dynamics": True, "holding_cost": 0.05, "salvage_share": 0.3, "reward": "margin",
        "horizon": 8}
"""Every term of the reward, reference prices that move, and seasons that end by time as well as by selling out."""


def random_actions(core: MarkdownBatch, rng: np.random.Generator) -> np.ndarray:
    k, batch = core.config.n_products, core.num_envs
    if core.config.action_space == "box":
        return rng.uniform(-1.0, 1.0, (batch, k)).astype(np.float32)
    return rng.integers(0, core.config.ladder_size, (batch, k) if k > 1 else (batch,))


def assert_same_step(slot: int, batched: tuple, single: tuple) -> None:
    observations, rewards, terminated, truncated, infos = batched
    observation, reward, single_terminated, single_truncated, info = single
    np.testing.assert_allclose(observations[slot], observation, rtol=0, atol=1e-6)
    assert observations.dtype == np.float32
    np.testing.assert_allclose(rewards[slot], reward, rtol=1e-9, atol=0)
    assert (terminated[slot], truncated[slot]) == (single_terminated, single_truncated)
    for key in ("prices", "units_sold", "units_lost_to_stockout", "price_at_bound"):
        np.testing.assert_allclose(infos[key][slot], info[key], rtol=1e-12, err_msg=key)
    assert infos["arrivals"][slot] == info["arrivals"]
    np.testing.assert_allclose(infos["revenue"][slot], info["revenue"], rtol=1e-12)


def play_alongside(core: MarkdownBatch, steps: int, seed: int = 0) -> int:
    """Plays random actions in ``core`` with seeds in all slots but the last, each seeded slot beside a single
    environment; ended slots are reseeded, and every few steps one running slot is too. Returns the seasons
    compared."""
    rng = np.random.default_rng(seed)
    singles = [MarkdownEnv(core.config) for _ in range(core.num_envs - 1)]
    next_seed = iter(range(100, 100_000))
    seeds = [next(next_seed) for _ in singles] + [None]
    observations, _ = core.reset(seeds=seeds)
    for slot, single in enumerate(singles):
        np.testing.assert_allclose(observations[slot], single.reset(seed=seeds[slot])[0], rtol=0, atol=1e-6)
    seasons = len(singles)
    for step in range(steps):
        actions = random_actions(core, rng)
        batched = core.step(actions)
        for slot, single in enumerate(singles):
            assert_same_step(slot, batched, single.step(actions[slot]))
        mask = batched[2] | batched[3]
        if step % 11 == 3:
            mask[step % len(singles)] = True  # a slot reset mid-season
        seeds = [next(next_seed) if mask[slot] and slot < len(singles) else None for slot in range(core.num_envs)]
        observations, _ = core.reset(seeds=seeds, mask=mask)
        for slot in np.flatnonzero(mask[:len(singles)]):
            np.testing.assert_allclose(observations[slot], singles[slot].reset(seed=seeds[slot])[0], rtol=0, atol=1e-6)
            seasons += 1
    return seasons


@pytest.mark.parametrize("options", [{}, {"action_space": "ladder"}, RICH, {**RICH, "action_space": "ladder"}])
def test_seeded_slots_play_the_single_envs_seasons_with_ground_truth(small_world_config, options):
    core = MarkdownBatch(5, {"world": small_world_config, **options}, seed=1)
    assert play_alongside(core, steps=60) > 10  # seasons end at different steps and are reseeded


@pytest.mark.parametrize("options", [{"n_products": 2}, {"action_space": "ladder", "reference_dynamics": True}])
def test_seeded_slots_play_the_single_envs_seasons_with_fitted_tables(small_world_config, tables_run, options):
    core = MarkdownBatch(4, {"world": small_world_config, "demand_source": "fitted", "demand_run": tables_run,
                             **options}, seed=2)
    assert play_alongside(core, steps=45) > 6


def test_a_wider_customer_table_keeps_the_seasons_being_played(small_world_config):
    core = MarkdownBatch(2, {"world": small_world_config}, seed=0)
    single = MarkdownEnv(core.config)
    core.reset(seeds=[5, None])
    single.reset(seed=5)
    rng = np.random.default_rng(0)
    for step in range(4):
        if step == 2:
            core._store._fit(next(iter(core._store.customers.values())).shape[2] + 3)
        actions = random_actions(core, rng)
        assert_same_step(0, core.step(actions), single.step(actions[0]))


def play(core: MarkdownBatch, steps: int, seed: int = 0) -> list[np.ndarray]:
    """Everything ``core`` returns over ``steps`` random steps from an unseeded reset, ended slots reset."""
    rng = np.random.default_rng(seed)
    outputs = [core.reset()[0]]
    for _ in range(steps):
        observations, rewards, terminated, truncated, _ = core.step(random_actions(core, rng))
        outputs += [observations, rewards, terminated]
        outputs.append(core.reset(mask=terminated | truncated)[0])
    return outputs


@pytest.mark.parametrize("options", [{}, RICH])
def test_unseeded_seasons_are_valid_and_differ_across_slots(small_world_config, options):
    core = MarkdownBatch(12, {"world": small_world_config, **options}, seed=3)
    space = core.single_observation_space
    observations, info = core.reset()
    assert observations.shape == (12,) + space.shape and info["products"].shape == (12, core.config.n_products)
    rng, arrivals = np.random.default_rng(0), []
    for _ in range(40):
        observations, rewards, terminated, truncated, infos = core.step(random_actions(core, rng))
        assert all(space.contains(observation) for observation in observations)
        assert rewards.dtype == np.float64 and np.all(np.isfinite(rewards)) and not truncated.any()
        assert np.all(infos["units_sold"] <= infos["units_sold"] + infos["units_lost_to_stockout"])
        context = core.policy_context()
        assert np.all(context["inventory_left"] >= 0) and np.all(context["prices"] >= context["low"])
        arrivals.append(infos["arrivals"])
        core.reset(mask=terminated)
    assert len({tuple(column) for column in np.array(arrivals).T}) == 12


def test_the_core_seed_reproduces_its_unseeded_seasons(small_world_config):
    first, second = (play(MarkdownBatch(6, {"world": small_world_config}, seed=4), steps=40) for _ in range(2))
    assert all(np.array_equal(a, b) for a, b in zip(first, second, strict=True))
    other = play(MarkdownBatch(6, {"world": small_world_config}, seed=5), steps=40)
    assert not np.array_equal(first[0], other[0])


@pytest.mark.parametrize("demand", ["ground_truth", "fitted"])
def test_tabled_and_computed_utilities_draw_the_same_seasons(small_world_config, tables_run, monkeypatch, demand):
    options = {"world": small_world_config, "n_products": 2, "reference_dynamics": True}
    if demand == "fitted":
        options.update(demand_source="fitted", demand_run=tables_run)
    tabled = MarkdownBatch(5, options, seed=6)
    monkeypatch.setattr(markdown_batch, "UTILITY_TABLE_CELLS", 0)
    computed = MarkdownBatch(5, options, seed=6)
    assert tabled._utilities is not None and computed._utilities is None
    first, second = play(tabled, steps=40), play(computed, steps=40)
    assert all(np.array_equal(a, b) for a, b in zip(first, second, strict=True))


def test_unseeded_customers_follow_the_single_envs_distributions(small_world_config):
    """For the same products, the customers of fresh seasons and of the single environment's draws agree."""
    core = MarkdownBatch(4, {"world": small_world_config, "n_products": 2}, seed=7)
    fresh = core._draw_unseeded(300)
    drawn = core.single_env.draw_season_batch(fresh.products, np.random.default_rng(8))
    for arrivals in (np.diff(fresh.period_start), np.diff(drawn.period_start)):
        assert abs(arrivals.mean() - core.config.arrival_rate) < 0.1
    rows = core.single_env.market.customer_weights.size
    customers = [np.bincount(batch.customers, minlength=rows) / batch.customers.size for batch in (fresh, drawn)]
    assert 0.5 * np.abs(customers[0] - customers[1]).sum() < 0.05  # total variation, sampling noise ~0.03
    for name in ("threshold", "reservation_price"):
        assert stats.ks_2samp(getattr(fresh, name).ravel(), getattr(drawn, name).ravel()).pvalue > 1e-4, name


def test_unseeded_products_are_uniform_subsets_of_the_pool(small_world_config):
    core = MarkdownBatch(4, {"world": small_world_config, "n_products": 3, "arrival_rate": 0.5}, seed=9)
    products = core._draw_unseeded(4_000).products
    assert np.all(products[:, :-1] < products[:, 1:]) and np.isin(products, core.single_env.pool).all()
    shares = np.bincount(products.ravel(), minlength=products.max() + 1)[core.single_env.pool] / products.size
    assert np.abs(shares * core.single_env.pool.size - 1).max() < 0.15


def test_unseeded_season_returns_match_the_seeded_ones(small_world_config):
    """At one price and with stock that never runs out, the mean season return of fresh and seeded seasons agree."""
    options = {"world": small_world_config, "initial_inventory": 10_000, "horizon": 10}
    seeded, unseeded = MarkdownBatch(300, options, seed=7), MarkdownBatch(300, options, seed=7)
    seeded.reset(seeds=list(range(300)))
    unseeded.reset()
    middle_price = np.zeros((300, 1), dtype=np.float32)
    returns = [sum(core.step(middle_price)[1] for _ in range(10)) for core in (seeded, unseeded)]
    spread = np.sqrt(returns[0].var() / 300 + returns[1].var() / 300)
    assert abs(returns[0].mean() - returns[1].mean()) < 4 * spread


def test_shoppers_are_drawn_by_each_periods_weights():
    weights = np.random.default_rng(0).dirichlet(np.full(50, 0.3), size=3)
    weights[1, :10] = 0.0  # customers who never come in period 1
    weights /= weights.sum(axis=1, keepdims=True)
    periods = np.repeat(np.arange(3), 200_000)
    customers = ShopperDraw(weights).draw(periods, np.random.default_rng(1))
    for period in range(3):
        shares = np.bincount(customers[periods == period], minlength=50) / 200_000
        assert np.abs(shares - weights[period]).max() < 0.004
    assert not np.isin(customers[periods == 1], np.arange(10)).any()


def test_policy_context_holds_what_the_single_env_knows(small_world_config):
    core = MarkdownBatch(2, {"world": small_world_config, **RICH}, seed=0)
    single = MarkdownEnv(core.config)
    core.reset(seeds=[9, None])
    single.reset(seed=9)
    rng = np.random.default_rng(0)
    for _ in range(3):
        actions = random_actions(core, rng)
        core.step(actions)
        single.step(actions[0])
    full = core.policy_context()
    assert full["market"] is single.market and full["config"] == single.config  # shared, not per slot
    context = {key: values[0] for key, values in full.items() if key not in ("market", "config")}
    np.testing.assert_array_equal(context["products"], single.products)
    for key, expected in [("list_price", single.list_prices), ("unit_cost", single.unit_costs),
                          ("low", single.price_actions.low), ("high", single.price_actions.high),
                          ("initial_inventory", single.initial_inventory), ("inventory_left", single.inventory_left),
                          ("prices", single.prices), ("units_sold", single.units_sold),
                          ("reference_prices", single.reference_prices)]:
        np.testing.assert_allclose(context[key], expected, rtol=1e-12, err_msg=key)
    assert context["period"] == single.period == 3 and context["periods_left"] == single.config.horizon - 3


@pytest.mark.parametrize(("options", "actions", "message"), [
    ({}, np.array([[0.0], [np.nan], [0.0]]), "slot 1"),
    ({}, np.array([[0.0], [0.0], [1.5]]), "slot 2"),
    ({}, np.zeros((3, 2)), "shape"),
    ({}, np.zeros((3, 1), dtype=np.int64), "float"),
    ({"action_space": "ladder"}, np.array([0, 21, 3]), "slot 1"),
    ({"action_space": "ladder"}, np.zeros(3), "integer"),
])
def test_bad_actions_raise_naming_the_slot(small_world_config, options, actions, message):
    core = MarkdownBatch(3, {"world": small_world_config, **options}, seed=0)
    core.reset()
    with pytest.raises(ValueError, match=message):
        core.step(actions)


@pytest.mark.parametrize("seeds", [[1, 2], [1, 2, 3, 4], [1, -2, 3], [1, 2.0, 3], [True, 2, 3], [1, 2**32, 3]])
def test_bad_seeds_raise_config_error(small_world_config, seeds):
    core = MarkdownBatch(3, {"world": small_world_config}, seed=0)
    with pytest.raises(ConfigError, match="seed"):
        core.reset(seeds=seeds)


def test_a_bad_mask_or_batch_size_is_refused(small_world_config):
    core = MarkdownBatch(3, {"world": small_world_config}, seed=0)
    with pytest.raises(ValueError, match="mask"):
        core.reset(mask=np.ones(3, dtype=int))
    with pytest.raises(ConfigError, match="num_envs"):
        MarkdownBatch(0, {"world": small_world_config})


def test_stepping_a_slot_that_is_not_running_raises(small_world_config):
    core = MarkdownBatch(2, {"world": small_world_config, "initial_inventory": 1, "arrival_rate": 40.0}, seed=0)
    lowest = np.full((2, 1), -1.0, dtype=np.float32)
    with pytest.raises(EnvStateError, match="slot 0 was never reset"):
        core.step(lowest)
    core.reset(mask=np.array([False, True]))
    with pytest.raises(EnvStateError, match="slot 0 was never reset"):
        core.step(lowest)
    core.reset(mask=np.array([True, False]))
    _, _, terminated, _, infos = core.step(lowest)  # everyone wants the one unit at the lowest price
    assert terminated.all() and np.all(infos["units_sold"] == 1)
    with pytest.raises(EnvStateError, match="slot 0 has ended"):
        core.step(lowest)
    core.reset(mask=terminated)
    core.step(lowest)
