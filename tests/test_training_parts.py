"""The pieces of training on known cases: losses, R1, the step-indexed sampler, EMA, saved state."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from training_support import random_images

from generators.training import losses
from generators.training.ema import ema_beta, make_ema_copy, update_ema
from generators.training.objectives import LogisticObjective
from generators.training.config import StyleGANConfig
from generators.training.sampler import StepSampler, real_batch
from generators.training.schedule import GrowthPhase
from generators.training.state import (
    capture_rng,
    decode_rng_state,
    encode_rng_state,
    load_optimizer,
    optimizer_tensors,
    restore_rng,
)


def test_least_squares_targets():
    ones, minus_ones, zeros = torch.ones(4, 1), -torch.ones(4, 1), torch.zeros(4, 1)
    targets = dict(real_target=1.0, fake_target=-1.0)
    assert losses.least_squares_d(ones, minus_ones, **targets).item() == 0.0
    assert losses.least_squares_d(zeros, zeros, **targets).item() == 2.0
    assert losses.least_squares_g(zeros, generator_target=0.0).item() == 0.0
    assert losses.least_squares_g(minus_ones, generator_target=0.0).item() == 1.0


def test_logistic_and_cross_entropy_losses():
    zeros = torch.zeros(3, 1)
    assert losses.logistic_d(zeros, zeros).item() == pytest.approx(2 * math.log(2))
    assert losses.logistic_nonsaturating_g(zeros).item() == pytest.approx(math.log(2))
    real, fake = torch.tensor([[2.0], [-1.0]]), torch.tensor([[0.5], [-3.0]])
    expected = (-torch.log(torch.sigmoid(real))).mean() + (-torch.log(1 - torch.sigmoid(fake))).mean()
    assert losses.bce_d(real, fake).item() == pytest.approx(expected.item(), rel=1e-6)
    assert losses.bce_g(fake).item() == pytest.approx((-torch.log(torch.sigmoid(fake))).mean().item(), rel=1e-6)


def test_r1_of_a_linear_critic_is_gamma_over_two_times_its_squared_weight_norm():
    weight = torch.tensor([[0.5, -1.0, 2.0]], requires_grad=True)
    images = torch.randn(5, 3, requires_grad=True)
    scores = images @ weight.t()
    penalty = losses.r1_penalty(scores, images, gamma=10.0)
    assert penalty.item() == pytest.approx(5.0 * 5.25)  # SL-StyleGAN's "5 * sum of squared gradients"
    (grad,) = torch.autograd.grad(penalty, weight)  # the penalty itself can be minimised
    assert torch.allclose(grad, 10.0 * weight.detach())


def test_each_step_has_its_own_fixed_batch_whatever_was_drawn_before():
    first = StepSampler(10, 4, seed=3)
    second = StepSampler(10, 4, seed=3)
    later = second.batch(7)
    for step in range(7):
        first.batch(step)
    assert torch.equal(first.batch(7).indices, later.indices) and torch.equal(first.batch(7).flips, later.flips)
    assert torch.equal(first.latents(7, 5, stream="G"), second.latents(7, 5, stream="G"))
    assert not torch.equal(first.latents(7, 5, stream="G"), first.latents(7, 5, stream="D"))
    assert not torch.equal(first.batch(1).indices, StepSampler(10, 4, seed=4).batch(1).indices)


def test_an_epoch_visits_every_image_once():
    sampler = StepSampler(10, 5, seed=0)
    epoch = torch.cat([sampler.batch(0).indices, sampler.batch(1).indices])
    assert sorted(epoch.tolist()) == list(range(10))
    crossing = StepSampler(10, 4, seed=0)  # step 2 takes the last two of epoch 0 and two of epoch 1
    visited = torch.cat([crossing.batch(step).indices for step in range(5)])
    assert sorted(visited[:10].tolist()) == list(range(10)) and sorted(visited[10:].tolist()) == list(range(10))


def test_process_shares_make_up_the_single_process_batch():
    whole = StepSampler(10, 6, seed=1)
    shares = [StepSampler(10, 6, seed=1, rank=rank, world_size=3) for rank in range(3)]
    for step in (0, 4):
        assert torch.equal(torch.cat([s.batch(step).indices for s in shares]), whole.batch(step).indices)
        assert torch.equal(torch.cat([s.batch(step).flips for s in shares]), whole.batch(step).flips)
        assert torch.equal(torch.cat([s.latents(step, 2, stream="D") for s in shares]),
                           whole.latents(step, 2, stream="D"))
    with pytest.raises(ValueError, match="not divisible"):
        StepSampler(10, 5, seed=0, world_size=2)


def test_flips_mirror_the_chosen_images_and_values_land_in_the_discriminator_range():
    images = random_images(6, resolution=8)
    images[0] = 0
    images[1] = 255
    sampler = StepSampler(6, 6, seed=2)
    batch = sampler.batch(0)
    assert batch.flips.any() and not batch.flips.all()
    real = real_batch(images, batch, (-1.0, 1.0))
    for row, (index, flip) in enumerate(zip(batch.indices.tolist(), batch.flips.tolist())):
        expected = images[index].float() / 127.5 - 1.0
        assert torch.allclose(real[row], expected.flip(2) if flip else expected, atol=1e-6)
    assert real.min().item() == -1.0 and real.max().item() == 1.0
    many = torch.cat([sampler.batch(step).flips for step in range(200)]).float().mean().item()
    assert 0.4 < many < 0.6
    assert not StepSampler(6, 6, seed=2, flip=False).batch(0).flips.any()


def test_growing_reals_are_box_downsampled_and_faded():
    objective = LogisticObjective(StyleGANConfig(phase_kimg=1.0), 16)
    real = torch.arange(16.0).repeat(16, 1).expand(1, 3, 16, 16)
    at_8 = objective.prepare_reals(real, GrowthPhase(8, 1.0))
    assert torch.equal(at_8, F.avg_pool2d(real, 2))
    fading = objective.prepare_reals(real, GrowthPhase(16, 0.25))
    coarse = F.interpolate(F.avg_pool2d(real, 2), scale_factor=2, mode="nearest")
    assert torch.allclose(fading, 0.75 * coarse + 0.25 * real)


def test_the_average_forgets_half_of_the_past_every_half_life():
    assert ema_beta(16, 10.0) ** (10_000 / 16) == pytest.approx(0.5)
    assert ema_beta(64, 10.0) ** (10_000 / 64) == pytest.approx(0.5)
    live = nn.BatchNorm1d(2)
    average = make_ema_copy(live)
    assert not average.training and not any(p.requires_grad for p in average.parameters())
    with torch.no_grad():
        live.weight.fill_(3.0)  # the average starts at 1
        live.running_mean.fill_(7.0)
    for _ in range(5):
        update_ema(average, live, 0.9)
    assert torch.allclose(average.weight, 3.0 + (1.0 - 3.0) * torch.tensor(0.9) ** 5)
    assert torch.equal(average.running_mean, live.running_mean)  # buffers are copied


def test_optimizer_state_round_trips_through_tensors_and_json():
    torch.manual_seed(0)
    model = nn.Linear(3, 2)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01, betas=(0.0, 0.99))
    for _ in range(3):
        optimizer.zero_grad()
        model(torch.randn(4, 3)).square().sum().backward()
        optimizer.step()
    tensors, saved = optimizer_tensors(optimizer, "G")
    assert set(tensors) == {f"opt_G.{i}.{key}" for i in (0, 1) for key in ("step", "exp_avg", "exp_avg_sq")}
    fresh = torch.optim.Adam(model.parameters(), lr=0.5)
    load_optimizer(fresh, "G", tensors, saved)
    restored = fresh.state_dict()
    assert restored["param_groups"][0]["betas"] == (0.0, 0.99) and restored["param_groups"][0]["lr"] == 0.01
    for index, entry in optimizer.state_dict()["state"].items():
        assert all(torch.equal(value, restored["state"][index][key]) for key, value in entry.items())


def test_rng_states_survive_their_text_form():
    state = torch.get_rng_state()
    assert torch.equal(decode_rng_state(encode_rng_state(state)), state)
    saved = capture_rng(torch.device("cpu"))
    expected = torch.rand(5)
    torch.rand(100)
    restore_rng(saved, torch.device("cpu"))
    assert torch.equal(torch.rand(5), expected)
