"""Mixed precision: the fp16 loss scale's arithmetic (checked on the CPU, where GradScaler runs in
float32 with the same logic), the R1 penalty under it, overflow handling, and what the CLI refuses."""

from __future__ import annotations

import copy

import pytest
import torch
from torch import nn
from typer.testing import CliRunner

from generators.training.config import StyleGANConfig, config_from_dict
from generators.training.precision import (
    DynamicLossScaler,
    LossScaler,
    autocast_context,
    make_loss_scaler,
    precision_record,
)
from slbench.cli import app

CPU = torch.device("cpu")


def tiny_discriminator() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.LeakyReLU(0.2), nn.Flatten(), nn.Linear(4 * 8 * 8, 1))


def d_step(discriminator: nn.Module, scaler: LossScaler, images: torch.Tensor, *, gamma: float = 10.0):
    """One discriminator update on (loss + R1) as the training loop does it; returns (reported, penalty)."""
    optimizer = torch.optim.SGD(discriminator.parameters(), lr=0.1)
    real = images.clone().requires_grad_(True)
    scores = discriminator(real)
    loss = nn.functional.softplus(-scores).mean()
    penalty = scaler.r1_penalty(scores, real, gamma=gamma)
    optimizer.zero_grad(set_to_none=True)
    scaler.backward(loss + penalty)
    scaler.step(optimizer)
    return scaler.reported(loss.detach(), penalty), penalty.detach()


def test_scaled_r1_penalty_and_update_equal_the_unscaled_ones():
    images = torch.rand(4, 3, 8, 8, generator=torch.Generator().manual_seed(1))
    plain, scaled = tiny_discriminator(), tiny_discriminator()
    reported_plain, penalty_plain = d_step(plain, LossScaler(), images)
    reported_scaled, penalty_scaled = d_step(scaled, DynamicLossScaler(CPU, init_scale=2.0**12), images)
    assert penalty_plain.item() > 0
    assert penalty_scaled.item() == pytest.approx(penalty_plain.item(), rel=1e-5)
    assert reported_scaled.item() == pytest.approx(reported_plain.item(), rel=1e-5)
    for a, b in zip(plain.parameters(), scaled.parameters()):
        assert torch.allclose(a, b, rtol=1e-5, atol=1e-7)  # the step saw unscaled gradients


def test_an_overflowed_step_is_skipped_the_scale_halves_and_the_reported_loss_stays_finite():
    images = torch.rand(4, 3, 8, 8, generator=torch.Generator().manual_seed(1))
    discriminator = tiny_discriminator()
    with torch.no_grad():
        discriminator[-1].weight.mul_(100.0)  # input gradients well above 1
    before = copy.deepcopy(discriminator.state_dict())
    scaler = DynamicLossScaler(CPU, init_scale=3e38)  # so the scaled ones overflow float32
    reported, penalty = d_step(discriminator, scaler, images)
    assert not torch.isfinite(penalty)
    assert torch.isfinite(reported)  # the loss check does not mistake an overflow for divergence
    for name, tensor in discriminator.state_dict().items():
        assert torch.equal(tensor, before[name]), name  # the update was skipped
    assert scaler.scale == pytest.approx(1.5e38)
    assert scaler.check() is None


def test_a_collapsed_scale_stops_training():
    assert "loss scale fell" in DynamicLossScaler(CPU, init_scale=2.0**-30).check()
    assert LossScaler().check() is None


def test_precision_acts_on_cuda_only_and_is_recorded():
    assert isinstance(make_loss_scaler("fp16", CPU), LossScaler)
    assert not make_loss_scaler("fp16", CPU).enabled
    assert not torch.is_autocast_enabled()
    with autocast_context("bf16", CPU):
        assert not torch.is_autocast_enabled("cpu")
    assert precision_record("fp16", CPU, LossScaler()) == {"amp": "fp16", "active": "off", "loss_scale": None}
    record = precision_record("fp16", torch.device("cuda"), DynamicLossScaler(CPU, init_scale=8.0))
    assert record == {"amp": "fp16", "active": "fp16", "loss_scale": 8.0}


def test_amp_setting_is_checked_and_old_checkpoints_read():
    with pytest.raises(ValueError, match="amp"):
        StyleGANConfig(amp="fp8")
    assert config_from_dict("stylegan", {"amp": True}).amp == "bf16"  # written when amp was a switch
    assert config_from_dict("stylegan", {"amp": False}).amp == "off"


def test_cli_refuses_fp16_on_the_cpu_with_one_line(synthetic_dataset, tmp_path):
    result = CliRunner().invoke(app, ["train", "--model", "dcgan", "--category", "MEL", "--data",
                                      str(synthetic_dataset), "--resolution", "32", "--steps", "1", "--device",
                                      "cpu", "--amp", "fp16", "--set", "ngf=4", "--set", "ndf=4",
                                      "--out", str(tmp_path / "ck")])
    assert result.exit_code == 2
    assert "--amp fp16 needs a CUDA device" in result.output
    assert not (tmp_path / "ck").exists()
    twice = CliRunner().invoke(app, ["train", "--model", "dcgan", "--category", "MEL", "--data",
                                     str(synthetic_dataset), "--device", "cpu", "--amp", "off", "--set", "amp=off",
                                     "--out", str(tmp_path / "ck")])
    assert twice.exit_code == 2 and "given twice" in twice.output
