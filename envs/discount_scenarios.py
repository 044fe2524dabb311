"""The retail economics of PersonalizedDiscount-v0: named scenarios of unit costs, budget and goal.

A scenario fixes what the retailer earns from a sale and how much it may give away; the customers
and their demand are the world's, the same in every scenario. Each of a scenario's values can be
overridden one by one in the config (``PersonalizedDiscountConfig(scenario="high-margin",
discount_budget=0.03)``); ``config.economics`` is the result.

| scenario | unit cost / list price | discount budget | reward | what it stands for |
|---|---|---|---|---|
| ``high-margin`` (default) | 17.5-30% | 3% | margin | apparel and beauty brands selling direct |
| ``promotion-budget`` | not counted | 3% | revenue | a marketplace or brand buying sales growth |
| ``mid-margin`` | 35-60% | 5% | margin | the world's catalogue costs (issue 10's setting) |

The budget is the average discount per visit that a budget window affords, in shares of the mean
list price (``budget = discount_budget x budget_window x mean list price``). In the synthetic
world 18% of visits buy at the list price on average (measured on 20 episodes, seeds 0-19), so a
3% budget per visit is about 17% of the window's sales at list price, and 5% is about 28%.

Where the numbers come from (figures as the companies and sources publish them; orders of
magnitude, not fitted values):

* **Unit costs of 15-30% of list price** (``high-margin``): branded beauty sells at gross margins
  of about 70-75% (L'Oreal and Estee Lauder report gross margins in the low-to-mid 70s percent in
  their annual reports), and apparel brands price at 2.5-4 times landed cost (initial mark-ups of
  60-75%) before markdowns. Scaling the world's unit costs (35-60% of list) by 0.5 gives 17.5-30%.
* **Budgets of 10-20% of sales** (``high-margin``, ``promotion-budget``): consumer-goods
  manufacturers spend about a fifth of gross sales on trade promotion (a share reported for years
  by industry surveys of trade-promotion spending), and retail promotions are commonly capped at a
  share of the category's sales of the same order.
* **Revenue as the goal** (``promotion-budget``): marketplaces and brands in a growth phase set
  promotion budgets against gross merchandise value, not margin; the budget, not the unit cost,
  is then what stops discounting.
* ``mid-margin`` keeps the environment's first setting (the synthetic catalogue's unit costs of
  35-60% of list, a 5% budget), in which the margin-optimal price of the median visit lies above
  the list price and discounts rarely pay.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

ScenarioName = Literal["high-margin", "promotion-budget", "mid-margin"]
DEFAULT_SCENARIO: ScenarioName = "high-margin"


@dataclass(frozen=True)
class DiscountScenario:
    """The retail economics of an episode.

    Attributes:
        name: the scenario it starts from.
        unit_cost_scale: multiplies the world's unit costs (0.5 halves them).
        discount_budget: the average discount per visit a budget window affords, in shares of the
            mean list price.
        reward: ``"margin"`` (price - unit cost of a sale) or ``"revenue"`` (the price).
    """

    name: ScenarioName
    unit_cost_scale: float
    discount_budget: float
    reward: Literal["margin", "revenue"]


SCENARIOS: dict[str, DiscountScenario] = {
    "high-margin": DiscountScenario("high-margin", unit_cost_scale=0.5, discount_budget=0.03, reward="margin"),
    "promotion-budget": DiscountScenario("promotion-budget", unit_cost_scale=1.0, discount_budget=0.03,
                                         reward="revenue"),
    "mid-margin": DiscountScenario("mid-margin", unit_cost_scale=1.0, discount_budget=0.05, reward="margin"),
}
"""Every named scenario (see the module docstring for their sources)."""
