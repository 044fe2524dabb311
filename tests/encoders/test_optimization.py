"""The fine-tuning optimiser's guard against a diverged loss."""

from __future__ import annotations

import pytest
import torch

from pricegym.encoders.optimization import require_finite_loss
from pricegym.errors import PricegymError


def test_a_finite_loss_is_returned_as_a_float():
    assert require_finite_loss(torch.tensor(0.25, requires_grad=True), "the demand model") == 0.25


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -float("inf")])
def test_a_diverged_loss_stops_fine_tuning_with_one_clear_error(value):
    with pytest.raises(PricegymError, match="fine-tuning the demand model diverged.*lower the learning rates"):
        require_finite_loss(torch.tensor(value), "the demand model")
