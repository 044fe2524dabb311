"""Environment-test fixtures (the small world and its fitted-tables runs are shared: tests/conftest.py)."""

from __future__ import annotations

import numpy as np
import pytest

MATPLOTLIB_BLUE = np.array([31, 119, 180])
"""matplotlib's first colour (``C0``): product 1's price, the agent's price and purchases in the renders."""


@pytest.fixture(scope="session")
def blue_rows():
    """``blue_rows(image, top, bottom, right)``: the rows of the pixels of ``MATPLOTLIB_BLUE`` (within 60 per
    channel, for antialiasing) in the region ``[top, bottom) x [0, right)`` given as shares of the image's
    height and width, in image coordinates (0 is the top row)."""

    def rows_of(image: np.ndarray, top: float, bottom: float, right: float) -> np.ndarray:
        height, width = image.shape[:2]
        first, last = int(top * height), int(bottom * height)
        region = image[first:last, :int(right * width)].astype(int)
        near = np.all(np.abs(region - MATPLOTLIB_BLUE) <= 60, axis=2)
        return np.nonzero(near)[0] + first

    return rows_of
