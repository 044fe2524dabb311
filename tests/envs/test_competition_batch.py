"""CompetitionBatch: the single env's episodes under seeds, fresh unseeded draws, and refusals."""

from __future__ import annotations

import numpy as np
import pytest
from gymnasium.utils import seeding

from pricegym.envs.competition import CompetitionEnv, draw_competition_seasons
from pricegym.envs.competition_batch import CompetitionBatch, SeasonRows
from pricegym.envs.competition_config import CompetitionConfig
from pricegym.envs.market import draw_customers
from pricegym.envs.rivals import RivalRules, random_level_prices, rival_offsets
from pricegym.errors import ConfigError, EnvStateError

RIVALS_WITH_RANDOM_AND_FIXED = {"rivals": ("random", "fixed", "undercut"), "random_levels": 3,
                                "rival_fixed_price": 0.8}
STEP_KEYS = ("price", "rival_prices", "units_sold", "rival_units_sold", "arrivals", "price_at_bound")
CONTEXT_ATTRIBUTES = {"list_price": "list_price", "unit_cost": "unit_cost", "start_price": "start_price",
                      "period": "period", "previous_price": "previous_price", "rival_prices": "rival_prices",
                      "level_draws": "level_draws", "product": "product"}


def _config(world, tables_run, demand_source: str, **options) -> CompetitionConfig:
    if demand_source == "fitted":
        options.update(demand_source="fitted", demand_run=tables_run)
    return CompetitionConfig(world=world, **options)


def _actions(core: CompetitionBatch, rng: np.random.Generator) -> tuple[np.ndarray, list]:
    """Random batched actions and the same actions one slot at a time."""
    if core.config.action_space == "box":
        actions = rng.uniform(-1.0, 1.0, size=(core.num_envs, 1)).astype(np.float32)
        actions[0, 0] = 1.0  # a price at the bound
        return actions, list(actions)
    actions = rng.integers(0, core.config.ladder_size, size=core.num_envs)
    return actions, [int(rung) for rung in actions]


def _assert_slot_equals_single(core, observations, info, context, slot, env, observation, step_info) -> None:
    """Slot ``slot``'s observation, infos and policy context equal the single env's."""
    np.testing.assert_allclose(observations[slot], observation, rtol=0, atol=1e-6)
    assert observations.dtype == np.float32
    for key in STEP_KEYS:
        np.testing.assert_allclose(info[key][slot], step_info[key], rtol=1e-12, err_msg=key)
    for key, attribute in CONTEXT_ATTRIBUTES.items():
        np.testing.assert_allclose(context[key][slot], getattr(env, attribute), rtol=1e-12, err_msg=key)
    low, high = env.price_actions.low[0], env.price_actions.high[0]
    assert (context["low"][slot], context["high"][slot]) == (low, high)
    assert context["periods_left"][slot] == core.config.horizon - env.period


def _play_against_singles(config: CompetitionConfig, seeds: list[int], restarts: dict[int, list[int]],
                          steps: int) -> None:
    """Play ``steps`` steps of B = len(seeds) seeded slots and as many single envs with the same random
    actions; at step k of ``restarts``, reset those slots (with fresh seeds); ended slots restart too."""
    core = CompetitionBatch(len(seeds), config, seed=123)
    singles = [CompetitionEnv(config) for _ in seeds]
    observations, info = core.reset(seeds=seeds)
    for slot, (env, seed) in enumerate(zip(singles, seeds, strict=True)):
        observation, single_info = env.reset(seed=seed)
        np.testing.assert_allclose(observations[slot], observation, rtol=0, atol=1e-6)
        assert info["products"][slot] == env.product
        np.testing.assert_allclose(info["rival_prices"][slot], single_info["rival_prices"], rtol=1e-12)
    rng, next_seed = np.random.default_rng(0), 1_000
    for step in range(steps):
        actions, single_actions = _actions(core, rng)
        observations, rewards, terminated, truncated, info = core.step(actions)
        assert rewards.dtype == np.float64 and terminated.dtype == bool and not truncated.any()
        context = core.policy_context()
        for slot, env in enumerate(singles):
            observation, reward, done, cut, step_info = env.step(single_actions[slot])
            _assert_slot_equals_single(core, observations, info, context, slot, env, observation, step_info)
            np.testing.assert_allclose(rewards[slot], reward, rtol=1e-9, atol=0)
            assert (terminated[slot], truncated[slot]) == (done, cut)
        mask = terminated.copy()
        mask[restarts.get(step, [])] = True
        if mask.any():
            new_seeds = [None] * core.num_envs
            for slot in np.flatnonzero(mask):
                new_seeds[slot], next_seed = next_seed, next_seed + 1
                singles[slot].reset(seed=new_seeds[slot])
            observations, _ = core.reset(seeds=new_seeds, mask=mask)
            for slot, env in enumerate(singles):
                np.testing.assert_allclose(observations[slot], env._observe(), rtol=0, atol=1e-6)


@pytest.mark.parametrize("demand_source", ["ground_truth", "fitted"])
@pytest.mark.parametrize("options", [
    {},
    {"action_space": "ladder", "reward": "margin"},
    {**RIVALS_WITH_RANDOM_AND_FIXED, "reward": "margin"},
    {**RIVALS_WITH_RANDOM_AND_FIXED, "action_space": "ladder", "ladder_size": 9},
])
def test_seeded_slots_play_the_single_envs_episodes(small_world_config, tables_run, demand_source, options):
    config = _config(small_world_config, tables_run, demand_source, horizon=12, **options)
    # slots restarted mid-way end at other steps than the rest; every slot plays two seasons or more
    _play_against_singles(config, seeds=[0, 7, 7, 123_456, 2**32 - 1], restarts={4: [1], 9: [0, 3]}, steps=30)


def test_seeded_slots_follow_random_rivals_of_one_level_and_no_embeddings(small_world_config):
    config = CompetitionConfig(world=small_world_config, rivals=("random", "random", "match"), random_levels=1,
                               observe_embeddings=False, horizon=6, undercut_share=0.3, rival_appeal=-1.0)
    _play_against_singles(config, seeds=[1, 2, 3], restarts={2: [2]}, steps=14)


def test_season_regions_grow_when_a_season_outgrows_them(small_world_config, monkeypatch):
    config = CompetitionConfig(world=small_world_config, horizon=5, arrival_rate=30.0)
    original = SeasonRows.__init__

    def tiny(self, num_envs, horizon, options, capacity):
        original(self, num_envs, horizon, options, 3)

    monkeypatch.setattr(SeasonRows, "__init__", tiny)
    _play_against_singles(config, seeds=[4, 5], restarts={1: [1]}, steps=9)
    core = CompetitionBatch(3, config, seed=0)
    core.reset(seeds=[None, 8, None])
    assert core._rows.capacity > 3


def test_vectorised_rival_offsets_equal_the_rules_of_each_season():
    rng = np.random.default_rng(0)
    strategies = ("random", "fixed", "undercut", "random", "match")
    for levels in (1, 2, 5):
        low = rng.uniform(1.0, 5.0, size=6)
        high = low + rng.uniform(0.1, 3.0, size=6)
        fixed = rng.uniform(1.0, 8.0, size=6)
        draws = rng.integers(0, levels, size=(6, 4, 2))
        offsets = rival_offsets(strategies, fixed, random_level_prices(low, high, levels), draws)
        for season in range(6):
            rules = RivalRules.build(strategies, 0.1, fixed[season], levels, low[season], high[season])
            np.testing.assert_array_equal(offsets[season], rules.offsets(draws[season]))


# -- unseeded resets --------------------------------------------------------------------------------

@pytest.mark.parametrize("options", [{}, {**RIVALS_WITH_RANDOM_AND_FIXED, "action_space": "ladder"}])
def test_unseeded_slots_play_valid_and_different_seasons(small_world_config, options):
    core = CompetitionBatch(64, CompetitionConfig(world=small_world_config, horizon=8, **options), seed=0)
    space = core.single_observation_space
    observations, info = core.reset()
    assert len({row.tobytes() for row in observations}) > 10 and np.unique(info["products"]).size > 10
    rng, arrivals, returns = np.random.default_rng(0), [], np.zeros(64)
    for step in range(20):
        assert all(space.contains(row) for row in observations)
        observations, rewards, terminated, _, step_info = core.step(_actions(core, rng)[0])
        assert np.all(np.isfinite(rewards)) and np.all(rewards >= 0)
        assert np.all(step_info["units_sold"] + step_info["rival_units_sold"].sum(axis=1) <= step_info["arrivals"])
        arrivals.append(step_info["arrivals"])
        returns += rewards
        assert terminated.all() == (step % 8 == 7)
        observations, _ = core.reset(mask=terminated)
    assert np.unique(np.array(arrivals), axis=1).shape[1] > 32 and np.unique(returns).size > 32


def test_the_cores_seed_reproduces_its_unseeded_seasons(small_world_config):
    config = CompetitionConfig(world=small_world_config, horizon=6, **RIVALS_WITH_RANDOM_AND_FIXED)

    def play(seed: int) -> list[np.ndarray]:
        core, rng = CompetitionBatch(16, config, seed=seed), np.random.default_rng(1)
        played = [core.reset()[0]]
        for _ in range(15):
            observations, rewards, terminated, _, _ = core.step(_actions(core, rng)[0])
            played += [observations, rewards, core.reset(mask=terminated)[0]]
        return played

    first, again, other = play(5), play(5), play(6)
    assert all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))
    assert not np.array_equal(first[0], other[0])


def test_fresh_draws_invert_the_same_customer_cdf_as_the_single_env(small_world_config):
    core = CompetitionBatch(2, CompetitionConfig(world=small_world_config, horizon=9, shopper_mix_shift=4.0))
    env, periods = core.single_env, np.repeat(np.arange(9), 5_000)
    expected = draw_customers(env._shopper_cdf, env.market.customer_weights.size, periods, np.random.default_rng(3))
    np.testing.assert_array_equal(core._fresh._customers(periods, np.random.default_rng(3)), expected)


@pytest.mark.parametrize("demand_source", ["ground_truth", "fitted"])
def test_fresh_utility_tables_equal_the_single_envs_computation(small_world_config, tables_run, demand_source):
    core = CompetitionBatch(2, _config(small_world_config, tables_run, demand_source, horizon=7, appeal_decay=0.5))
    fresh, rng = core._fresh, np.random.default_rng(0)
    products = rng.choice(fresh.pool, size=40)
    arrivals = rng.poisson(3.0, size=(40, 7))
    periods = np.repeat(np.tile(np.arange(7), 40), arrivals.ravel())
    customers = rng.integers(0, fresh.n_customers, size=periods.size)
    from_tables = fresh._intercept_and_slope(products, arrivals, periods, customers)
    fresh._tables = None
    computed = fresh._intercept_and_slope(products, arrivals, periods, customers)
    for table, direct in zip(from_tables, computed, strict=True):
        np.testing.assert_allclose(table, direct, rtol=1e-12, atol=1e-12)


def test_fresh_and_seeded_seasons_sell_alike(small_world_config):
    """Unseeded slots (FreshSeasons) and seeded slots (the single env's draws) agree on mean arrivals and
    on each seller's mean sales at a fixed policy, within sampling error."""
    config = CompetitionConfig(world=small_world_config, horizon=10, **RIVALS_WITH_RANDOM_AND_FIXED)
    totals = {}
    for name, seeds in (("fresh", None), ("seeded", list(range(400)))):
        core = CompetitionBatch(400, config, seed=9)
        core.reset(seeds=seeds)
        sales = np.zeros((400, 5))
        for _ in range(10):
            _, _, _, _, info = core.step(np.full((400, 1), -0.2, dtype=np.float32))
            sales += np.column_stack([info["arrivals"], info["units_sold"], info["rival_units_sold"]])
        totals[name] = sales
    for column in range(5):
        fresh, seeded = totals["fresh"][:, column], totals["seeded"][:, column]
        error = np.sqrt(fresh.var() / fresh.size + seeded.var() / seeded.size)
        assert abs(fresh.mean() - seeded.mean()) < 4.0 * error, column


# -- refusals -----------------------------------------------------------------------------------------

@pytest.fixture()
def core(small_world_config) -> CompetitionBatch:
    return CompetitionBatch(4, CompetitionConfig(world=small_world_config, horizon=3), seed=0)


def test_bad_actions_are_refused_naming_the_slot(core, small_world_config):
    core.reset()
    actions = np.zeros((4, 1), dtype=np.float32)
    actions[2, 0] = np.nan
    with pytest.raises(ValueError, match="slot 2"):
        core.step(actions)
    actions[2, 0], actions[3, 0] = 0.0, 1.5
    with pytest.raises(ValueError, match="slot 3"):
        core.step(actions)
    with pytest.raises(ValueError, match="shape"):
        core.step(np.zeros((3, 1), dtype=np.float32))
    with pytest.raises(ValueError, match="float"):
        core.step(np.zeros((4, 1), dtype=np.int64))
    ladder = CompetitionBatch(3, CompetitionConfig(world=small_world_config, action_space="ladder"), seed=0)
    ladder.reset()
    with pytest.raises(ValueError, match="slot 1"):
        ladder.step(np.array([0, 21, 3]))
    ladder.step(np.array([0, 20, 3]))  # the refused steps changed nothing


@pytest.mark.parametrize("seeds", [[0, 1, 2], [0, 1, 2, 3, 4], [0, -1, 2, 3], [0, 1.5, 2, 3], [0, 2**32, 1, 2],
                                   [True, 1, 2, 3], "seed"])
def test_bad_seeds_are_a_config_error(core, seeds):
    with pytest.raises(ConfigError, match="seed"):
        core.reset(seeds=seeds)


def test_a_bad_mask_is_refused(core):
    with pytest.raises(ValueError, match="mask"):
        core.reset(mask=np.ones(3, dtype=bool))
    with pytest.raises(ValueError, match="mask"):
        core.reset(mask=np.ones(4, dtype=int))


def test_stepping_a_slot_not_started_or_ended_is_an_env_state_error(core):
    with pytest.raises(EnvStateError, match="slot 0"):
        core.step(np.zeros((4, 1), dtype=np.float32))
    core.reset(mask=np.array([True, True, False, True]))
    with pytest.raises(EnvStateError, match="before slot 2 was reset"):
        core.step(np.zeros((4, 1), dtype=np.float32))
    core.reset()
    for _ in range(3):
        _, _, terminated, _, _ = core.step(np.zeros((4, 1), dtype=np.float32))
    assert terminated.all()
    core.reset(mask=np.array([True, False, True, True]))
    with pytest.raises(EnvStateError, match="slot 1, whose episode ended"):
        core.step(np.zeros((4, 1), dtype=np.float32))
    core.reset(mask=np.array([False, True, False, False]))
    core.step(np.zeros((4, 1), dtype=np.float32))


def test_handed_out_arrays_never_change_afterwards(core):
    observations, _ = core.reset()
    _, _, _, _, info = core.step(np.full((4, 1), 0.5, dtype=np.float32))
    kept = {key: value.copy() for key, value in info.items()}
    core.step(np.zeros((4, 1), dtype=np.float32))
    final = core.step(np.zeros((4, 1), dtype=np.float32))[0]
    kept_final = final.copy()
    restarted, _ = core.reset(seeds=[3, None, None, None], mask=np.array([True, True, False, False]))
    assert all(np.array_equal(info[key], kept[key]) for key in kept)
    assert np.array_equal(final, kept_final) and not np.array_equal(observations, final)
    assert np.array_equal(restarted[2:], final[2:]) and not np.array_equal(restarted[:2], final[:2])


def test_a_seeded_slot_is_the_first_season_gymnasium_seeding_draws(small_world_config):
    """The seeded path draws as the single env's reset does (same generator, same 16 seasons)."""
    env = CompetitionEnv(CompetitionConfig(world=small_world_config))
    env.reset(seed=11)
    rng = seeding.np_random(11)[0]
    batch = draw_competition_seasons(env, rng.choice(env.pool, size=16), rng)
    assert int(batch["products"][0]) == env.product
    np.testing.assert_array_equal(batch["level_draws"][0], env.level_draws)
