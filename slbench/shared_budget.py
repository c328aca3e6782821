"""The one budget that several models train for when they are to be compared.

Each model trains in whole steps of its own minibatch (SL-StyleGAN 16 images, DCGAN 128,
StyleGAN's official one changing with the resolution it trains), so ``--kimg K`` alone ends
each at the first step past K: 0.2 kimg is 208 images for SL-StyleGAN and 256 for DCGAN, 23%
apart. The shared budget is the fewest images of at least K that every model reaches exactly at
the end of a step, so that the comparison is equal by construction (320 kimg, the paper's, is
already one: 2,500 steps of 128).
"""

from __future__ import annotations

from typing import Callable, Sequence

from generators.training import RunPlan
from generators.training.objectives import make_objective

MAX_ROUNDS = 64
"""Rounds of raising the budget to the largest end. Should the minibatches' common multiple lie
further, the last round's budget stands, each model ending less than one minibatch past it."""


def images_at_end(plan: RunPlan) -> int:
    """Images a planned run has seen after its last step."""
    return make_objective(plan.model, plan.config, plan.resolution).images_after(plan.total_steps)


def shared_budget_images(models: Sequence[str], kimg: float, plan_for: Callable[[str, float], RunPlan]) -> int:
    """The fewest images, at least ``kimg`` thousand, that every model's run ends on exactly.

    ``plan_for(model, kimg)`` plans a model's run for a budget: a plan rather than a minibatch,
    because a resumed run keeps its checkpoint's settings and StyleGAN's minibatch (and, on the
    ``short`` schedule, its phases) depend on the budget."""
    budget = kimg  # planned as asked first, so that a budget the planner refuses is refused
    for _ in range(MAX_ROUNDS):
        ends = {model: images_at_end(plan_for(model, budget)) for model in models}
        if len(set(ends.values())) == 1:
            return ends[models[0]]
        budget = max(ends.values()) / 1000
    return round(budget * 1000)


def rounding_note(requested_kimg: float, images: int) -> str | None:
    """What the console says when the shared budget is more than was asked; ``None`` when it is not."""
    if images <= requested_kimg * 1000 + 1e-6:
        return None
    return (f"{requested_kimg:g} kimg rounded up to {images / 1000:g} kimg, the fewest images every model reaches "
            "in whole steps of its own minibatch, so that all of them train on as many")
