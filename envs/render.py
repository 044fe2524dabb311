"""``render_mode="rgb_array"``: prices, inventory and sales over the season, drawn with matplotlib."""

from __future__ import annotations

import numpy as np


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
        inventory_axis.plot(periods, [entry["inventory_left"][product] for entry in history], marker=".")
        sales_axis.bar(periods + (product - (n_products - 1) / 2) * 0.8 / n_products,
                       [entry["units_sold"][product] for entry in history], width=0.8 / n_products)
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
