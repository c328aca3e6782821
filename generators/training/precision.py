"""Mixed precision of a training step: autocast, and the loss scale that fp16 needs.

``amp`` (a training setting) is one of:

* ``off``: float32 throughout;
* ``bf16``: forward passes under bfloat16 autocast. bfloat16 has float32's exponent range, so no
  gradient underflows and no loss scale is needed;
* ``fp16``: forward passes under float16 autocast, with a dynamic loss scale
  (``torch.amp.GradScaler``): each loss is multiplied by the scale before its backward pass so
  that small gradients survive float16, the gradients are unscaled before the optimiser step, a
  step whose gradients overflowed is skipped and the scale halved, and the scale doubles after
  2,000 steps without overflow.

The R1 penalty differentiates the discriminator's scores with respect to the real images and
then differentiates that gradient again (double backward). Under fp16 the inner gradient
underflows just as the outer ones do, so it is taken of the scaled scores and divided by the
scale before it is squared (the gradient-penalty recipe of the PyTorch AMP documentation); the
penalty then joins the loss, and the outer backward scales the sum once. A step whose inner
gradient overflowed has an infinite penalty; its update is skipped like any other overflow,
and the loss it reports leaves the penalty out, so that the run's check for non-finite losses
stops only on a real divergence: a loss that is non-finite before any scaling, or a loss scale
that has collapsed below float16's smallest step.

Autocast and the loss scale act on CUDA only; on the CPU training runs in float32 (``off``
and ``bf16`` train the same there, and ``fp16`` is refused before a run starts).
"""

from __future__ import annotations

import contextlib

import torch

from generators.training import losses

AMP_DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}
MIN_LOSS_SCALE = 2.0**-24  # float16's smallest subnormal: a scale below it means every step overflowed


def autocast_context(amp: str, device: torch.device) -> contextlib.AbstractContextManager:
    """The autocast of ``amp`` on CUDA; nothing on other devices or with ``off``."""
    if device.type != "cuda" or amp not in AMP_DTYPES:
        return contextlib.nullcontext()
    return torch.autocast(device_type="cuda", dtype=AMP_DTYPES[amp])


class LossScaler:
    """No loss scale: ``backward`` and ``step`` as plain autograd and optimiser calls."""

    enabled = False

    def backward(self, loss: torch.Tensor) -> None:
        loss.backward()

    def step(self, optimizer: torch.optim.Optimizer) -> None:
        optimizer.step()

    def r1_penalty(self, scores: torch.Tensor, images: torch.Tensor, *, gamma: float) -> torch.Tensor:
        """``gamma / 2`` times the batch mean of the squared input-gradient norm of the scores."""
        return losses.r1_penalty(scores, images, gamma=gamma)

    def reported(self, loss: torch.Tensor, penalty: torch.Tensor) -> torch.Tensor:
        """The loss a step reports: its loss plus the penalty."""
        return loss + penalty.detach()

    def check(self) -> str | None:
        """Why training cannot go on (a collapsed loss scale), or None."""
        return None


class DynamicLossScaler(LossScaler):
    """fp16: every loss scaled before backward, gradients unscaled before the step (GradScaler)."""

    enabled = True

    def __init__(self, device: torch.device, *, init_scale: float = 2.0**16, growth_interval: int = 2000) -> None:
        self.scaler = torch.amp.GradScaler(device.type, init_scale=init_scale, growth_interval=growth_interval)

    @property
    def scale(self) -> float:
        return float(self.scaler.get_scale())

    def backward(self, loss: torch.Tensor) -> None:
        self.scaler.scale(loss).backward()

    def step(self, optimizer: torch.optim.Optimizer) -> None:
        """Unscale, skip on overflow, and update the scale: each optimiser's backward and step is one
        cycle of the scale (the discriminator's and then the generator's, per training step)."""
        self.scaler.step(optimizer)
        self.scaler.update()

    def r1_penalty(self, scores: torch.Tensor, images: torch.Tensor, *, gamma: float) -> torch.Tensor:
        factor = self.scaler.scale(torch.ones((), device=scores.device))  # the scale, without a device sync
        (scaled,) = torch.autograd.grad(self.scaler.scale(scores.float().sum()), images, create_graph=True)
        grad = scaled.float() / factor
        return 0.5 * gamma * grad.square().flatten(1).sum(1).mean()

    def reported(self, loss: torch.Tensor, penalty: torch.Tensor) -> torch.Tensor:
        """An overflowed penalty (its step is skipped) is left out of the reported loss."""
        penalty = penalty.detach()
        return loss + torch.where(torch.isfinite(penalty), penalty, torch.zeros_like(penalty))

    def check(self) -> str | None:
        scale = self.scale
        if scale < MIN_LOSS_SCALE:
            return f"the fp16 loss scale fell to {scale:.3g}: every step's gradients overflowed"
        return None


def make_loss_scaler(amp: str, device: torch.device, *, init_scale: float = 2.0**16) -> LossScaler:
    """A dynamic loss scale for fp16 on CUDA (starting at ``init_scale``); no scale otherwise."""
    if amp == "fp16" and device.type == "cuda":
        return DynamicLossScaler(device, init_scale=init_scale)
    return LossScaler()


def precision_record(amp: str, device: torch.device, scaler: LossScaler) -> dict:
    """What a checkpoint says about precision: the setting, what it did on this device, the loss scale."""
    active = amp if device.type == "cuda" else "off"
    return {"amp": amp, "active": active,
            "loss_scale": scaler.scale if isinstance(scaler, DynamicLossScaler) else None}
