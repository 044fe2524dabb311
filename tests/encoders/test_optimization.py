"""The fine-tuning optimiser's guard against a diverged loss."""

from __future__ import annotations

import re

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


def test_the_divergence_fix_names_only_options_the_commands_have():
    from pricegym.cli import build_parser

    with pytest.raises(PricegymError) as raised:
        require_finite_loss(torch.tensor(float("nan")), "the demand model")
    named = set(re.findall(r"--[a-z][a-z-]*", str(raised.value)))
    commands = build_parser()._subparsers._group_actions[0].choices
    known = {option for name in ("fit-demand", "fit-pricer") for option in commands[name]._option_string_actions}
    assert named and named <= known
