"""``render_mode="rgb_array"``: prices, inventory and sales over the season, drawn with matplotlib."""

from __future__ import annotations

import numpy as np

MAX_BARS = 2_000
"""Sales are drawn as bars up to this many (periods x products), as step lines beyond: a long season of many
products would otherwise take minutes and gigabytes to draw."""


def render_season(history: list[dict[str, np.ndarray]], horizon: int, initial_inventory: int,
                  price_low: np.ndarray, price_high: np.ndarray) -> np.ndarray:
    """An RGB image (H x W x 3, uint8) of the season so far, one line per product."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(6.4, 4.8), dpi=80)
    canvas = FigureCanvasAgg(figure)
    price_axis, inventory_axis, sales_axis = figure.subplots(3, 1, sharex=True)
    periods = np.arange(1, len(history) + 1)
    n_products = price_low.size
    for product in range(n_products):
        label = f"product {product + 1}"
        prices = [entry["prices"][product] for entry in history]
        price_axis.step(periods, prices, where="mid", label=label)
        price_axis.axhspan(price_low[product], price_high[product], alpha=0.05)
        inventory_axis.plot(periods, [entry["inventory_left"][product] for entry in history],
                            marker="." if len(history) * n_products <= MAX_BARS else None)
        sold = [entry["units_sold"][product] for entry in history]
        if len(history) * n_products <= MAX_BARS:
            sales_axis.bar(periods + (product - (n_products - 1) / 2) * 0.8 / n_products, sold, width=0.8 / n_products)
        else:  # a bar per period and product would take minutes and gigabytes to draw
            sales_axis.step(periods, sold, where="mid")
    price_axis.set_ylabel("price")
    inventory_axis.set_ylabel("inventory")
    inventory_axis.set_ylim(0, initial_inventory * 1.05)
    sales_axis.set_ylabel("units sold")
    sales_axis.set_xlabel("period")
    sales_axis.set_xlim(0.5, horizon + 0.5)
    if n_products <= 5:
        price_axis.legend(loc="upper right", fontsize="small")
    figure.suptitle("Markdown-v0: prices, inventory and sales over the season")
    figure.tight_layout()
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())[..., :3].copy()


def _canvas(rows: int):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(6.4, 4.8), dpi=80)
    return figure, FigureCanvasAgg(figure), figure.subplots(rows, 1, sharex=True)


def _pixels(figure, canvas, title: str) -> np.ndarray:
    figure.suptitle(title)
    figure.tight_layout()
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())[..., :3].copy()


def render_discounts(history: list[dict[str, float]], horizon: int, max_discount: float, budget: float) -> np.ndarray:
    """PersonalizedDiscount-v0: discounts offered (filled when bought), budget left, reference prices."""
    figure, canvas, (discount_axis, budget_axis, reference_axis) = _canvas(3)
    visits = np.arange(1, len(history) + 1)
    discounts = np.array([entry["discount"] for entry in history])
    bought = np.array([entry["bought"] for entry in history], dtype=bool)
    discount_axis.scatter(visits[bought], discounts[bought], s=10, label="bought")
    discount_axis.scatter(visits[~bought], discounts[~bought], s=10, facecolors="none", edgecolors="grey",
                          label="did not buy")
    discount_axis.set_ylim(-0.02, max_discount + 0.02)
    discount_axis.set_ylabel("discount")
    discount_axis.legend(loc="upper right", fontsize="small")
    budget_axis.plot(visits, [entry["budget_left"] for entry in history])
    budget_axis.set_ylim(0, budget * 1.05 if budget > 0 else 1.0)
    budget_axis.set_ylabel("budget left")
    reference_axis.plot(visits, [entry["reference_share"] for entry in history])
    reference_axis.set_ylabel("mean reference\n/ list price")
    reference_axis.set_xlabel("visit")
    reference_axis.set_xlim(0.5, horizon + 0.5)
    return _pixels(figure, canvas, "PersonalizedDiscount-v0: discounts, budget and reference prices")


def render_competition(history: list[dict[str, object]], horizon: int, price_low: float, price_high: float,
                       rival_names: list[str]) -> np.ndarray:
    """Competition-v0: the agent's and the rivals' prices, and the agent's sales, over the season."""
    figure, canvas, (price_axis, sales_axis) = _canvas(2)
    periods = np.arange(1, len(history) + 1)
    price_axis.step(periods, [entry["price"] for entry in history], where="mid", label="agent", linewidth=2)
    for rival, name in enumerate(rival_names):
        price_axis.step(periods, [entry["rival_prices"][rival] for entry in history], where="mid",
                        label=f"rival {rival + 1} ({name})", alpha=0.8)
    price_axis.set_ylim(price_low * 0.95, price_high * 1.05)
    price_axis.set_ylabel("price")
    price_axis.legend(loc="upper right", fontsize="small")
    sold = [entry["units_sold"] for entry in history]
    if len(history) <= MAX_BARS:
        sales_axis.bar(periods, sold, width=0.8)
    else:
        sales_axis.step(periods, sold, where="mid")
    sales_axis.set_ylabel("agent's units sold")
    sales_axis.set_xlabel("period")
    sales_axis.set_xlim(0.5, horizon + 0.5)
    return _pixels(figure, canvas, "Competition-v0: prices against rivals, and sales")
