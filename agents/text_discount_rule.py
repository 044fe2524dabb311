"""A PersonalizedDiscount-v0 rule that personalises by what the text reveals, and knows nothing else.

:class:`TextSegmentDiscountPolicy` is what a retailer without a demand model's internals can do:
run an experiment, learn from it which customers and products the text marks as price
sensitive, and give each such segment its own discount.

1. **Experiment.** It plays planning episodes (seeds from
   :data:`~pricegym.agents.discount_baselines.PLANNING_SEED` on, never the evaluated ones) with
   discounts drawn uniformly from the candidates, and logs each visit's observation, the discount
   the visitor saw and whether they bought.
2. **Purchase model.** An L2-regularised logistic regression of the purchase on the observation
   and on the discount times the observation: ``logit q = w . z + discount x (v . z)``, with ``z``
   the standardised observation and a constant.
3. **Segments by text.** A visit's *text sensitivity* is the part of ``v . z`` that the LM
   embeddings carry (the visitor's profile and the viewed product; the parts the observation
   layout marks as embeddings): how much more a discount moves this visitor, by what their text
   and the product's say. Its quantiles over the experiment cut the visits into ``segments``.
4. **A discount per segment.** Starting from one discount for everyone (the best on the planning
   episodes), it improves each segment's discount in turn, by coordinate ascent on the mean
   margin of planning episodes (seeds from ``PLANNING_SEED``), for ``sweeps`` passes.

It reads only the observation (through ``env.unwrapped.observation_layout``) and the simulator's
planning episodes, like :class:`~pricegym.agents.discount_baselines.BestFixedDiscountPolicy`; never
the visit's true utility. With one segment it is the best fixed discount.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize
from scipy.special import expit, log_expit

from pricegym.agents.discount_baselines import PLANNING_SEED, DiscountRule, fixed_discount_candidates, share_action
from pricegym.agents.rollout import episode_return
from pricegym.envs.personalized_discount import PersonalizedDiscountEnv

EXPERIMENT_SEED_OFFSET = 10_000
"""Experiment episodes use seeds ``PLANNING_SEED + EXPERIMENT_SEED_OFFSET + k``, apart from the planning
episodes that choose the discounts (``PLANNING_SEED + k``)."""


class TextSegmentDiscountPolicy(DiscountRule):
    """A discount per segment of text-predicted price sensitivity (see the module docstring).

    Args:
        segments: segments of text sensitivity (quantiles of equal size).
        experiment_episodes: planning episodes played with random discounts to fit the purchase model.
        planning_episodes: planning episodes that score each candidate discount of a segment.
        sweeps: passes of coordinate ascent over the segments.
        l2_penalty: the logistic regression's penalty on standardised features.
    """

    name = "text segments"

    def __init__(self, segments: int = 3, experiment_episodes: int = 100, planning_episodes: int = 24,
                 sweeps: int = 2, l2_penalty: float = 1.0, candidates: int = 11) -> None:
        super().__init__()
        self.candidates = candidates
        self.segments = segments
        self.experiment_episodes = experiment_episodes
        self.planning_episodes = planning_episodes
        self.sweeps = sweeps
        self.l2_penalty = l2_penalty
        self._planned_for = None
        self.segment_shares = np.zeros(segments)

    def begin_episode(self, env) -> None:
        super().begin_episode(env)
        if self._planned_for != self.env.config:
            self._planned_for = self.env.config
            episode_env = self.env
            self._plan(PersonalizedDiscountEnv(self.env.config))
            self.env = episode_env

    def predict(self, observation, state=None, episode_start=None, deterministic: bool = True):
        segment = int(np.searchsorted(self.cut_points, self.text_sensitivity(observation)))
        return self._segment_actions[segment], None

    def text_sensitivity(self, observations: np.ndarray) -> np.ndarray:
        """The embeddings' part of the fitted discount response of each observation (one or a batch)."""
        return (np.asarray(observations, float) - self.model.mean) @ self._sensitivity_weights

    def _set_segment_shares(self, segment_shares: np.ndarray) -> None:
        self.segment_shares = segment_shares
        self._segment_actions = [share_action(self.env, float(share)) for share in segment_shares]

    def _plan(self, planner: PersonalizedDiscountEnv) -> None:
        """Fit the purchase model and the segments on an experiment, then each segment's discount."""
        shares = fixed_discount_candidates(planner, self.candidates)
        self._embedding_columns = np.concatenate(
            [np.arange(part.slice.start, part.slice.stop) for part in planner.observation_layout.embedding_parts()]
            or [np.zeros(0, int)])
        observations, discounts, bought = experiment_log(planner, shares, self.experiment_episodes)
        self.model = fit_purchase_model(observations, discounts, bought, self.l2_penalty)
        weights = np.zeros(observations.shape[1])
        weights[self._embedding_columns] = (self.model.discount[:-1] / self.model.scale)[self._embedding_columns]
        self._sensitivity_weights = weights
        sensitivity = self.text_sensitivity(observations)
        self.cut_points = np.quantile(sensitivity, np.arange(1, self.segments) / self.segments)
        self.planning_margins = {}
        self.env = planner
        uniform = {float(share): self._planning_margin(planner, np.full(self.segments, share)) for share in shares}
        best_shares = np.full(self.segments, max(uniform, key=uniform.get))
        best = max(uniform.values())
        for _ in range(self.sweeps):
            for segment in range(self.segments):
                for share in shares:
                    trial = best_shares.copy()
                    trial[segment] = share
                    margin = self._planning_margin(planner, trial)
                    if margin > best + 1e-9:
                        best, best_shares = margin, trial
        self._set_segment_shares(best_shares)
        self.planning_margin = best

    def _planning_margin(self, planner: PersonalizedDiscountEnv, segment_shares: np.ndarray) -> float:
        """Mean margin of the planning episodes with these segment discounts (cached per discounts)."""
        key = tuple(np.round(segment_shares, 12))
        if key not in self.planning_margins:
            self._set_segment_shares(segment_shares)
            self.planning_margins[key] = float(np.mean([
                episode_return(planner, self, PLANNING_SEED + episode) for episode in range(self.planning_episodes)]))
        return self.planning_margins[key]


class PurchaseModel:
    """``q(discount | o) = sigmoid(w . z + discount x (v . z))`` with ``z = (standardised o, 1)``: ``base`` is
    ``w`` and ``discount`` is ``v`` (their last entry multiplies the constant)."""

    def __init__(self, mean: np.ndarray, scale: np.ndarray, base: np.ndarray, discount: np.ndarray) -> None:
        self.mean, self.scale, self.base, self.discount = mean, scale, base, discount

    def features(self, observations: np.ndarray) -> np.ndarray:
        standardised = (np.atleast_2d(observations) - self.mean) / self.scale
        return np.hstack([standardised, np.ones((standardised.shape[0], 1))])

    def purchase_probability(self, observations: np.ndarray, shares: np.ndarray) -> np.ndarray:
        """The purchase probability of each observation at its discount share."""
        features = self.features(observations)
        return expit(features @ self.base + shares * (features @ self.discount))


def experiment_log(env, shares: np.ndarray, episodes: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Observations, discounts seen and purchases of ``episodes`` planning episodes at random candidate discounts."""
    observations, discounts, bought = [], [], []
    choices = np.random.default_rng(PLANNING_SEED)
    for episode in range(episodes):
        observation, _ = env.reset(seed=PLANNING_SEED + EXPERIMENT_SEED_OFFSET + episode)
        done = False
        while not done:
            share = float(shares[choices.integers(shares.size)])
            action = share_action(env, share)
            next_observation, _, terminated, truncated, info = env.step(action)
            observations.append(observation)
            discounts.append(info["discount"])
            bought.append(info["bought"])
            observation, done = next_observation, terminated or truncated
    return np.asarray(observations, float), np.asarray(discounts, float), np.asarray(bought, float)


def fit_purchase_model(observations: np.ndarray, discounts: np.ndarray, bought: np.ndarray,
                       l2_penalty: float) -> PurchaseModel:
    """The L2-penalised logistic regression of ``bought`` on the observation and discount x observation."""
    mean = observations.mean(axis=0)
    scale = observations.std(axis=0)
    scale = np.where(scale > 1e-9, scale, 1.0)
    model = PurchaseModel(mean, scale, np.zeros(observations.shape[1] + 1), np.zeros(observations.shape[1] + 1))
    features = model.features(observations)
    design = np.hstack([features, discounts[:, None] * features])
    width = features.shape[1]

    def loss_and_gradient(weights: np.ndarray) -> tuple[float, np.ndarray]:
        index = design @ weights
        loss = -np.sum(bought * log_expit(index) + (1.0 - bought) * log_expit(-index)) / bought.size
        gradient = design.T @ (expit(index) - bought) / bought.size
        return loss + 0.5 * l2_penalty / bought.size * weights @ weights, gradient + l2_penalty / bought.size * weights

    weights = minimize(loss_and_gradient, np.zeros(design.shape[1]), jac=True, method="L-BFGS-B").x
    model.base, model.discount = weights[:width], weights[width:]
    return model
