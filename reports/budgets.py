"""Training budgets of the models a table compares: images seen (kimg) and checkpoint step.

A comparison of generators is only fair when each was trained on about as many images: a model
that saw five times the images of another can look better for that reason alone. Every result
row records the step and kimg of the checkpoint it came from; a table shows the kimg of each
model, and warns when the models compared on one class were trained for budgets more than
:data:`BUDGET_TOLERANCE` apart (the largest over the smallest). Rows written before slbench
recorded budgets have unknown kimg, shown as ``?`` and said so under the table.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable, Mapping

BUDGET_TOLERANCE = 0.10
"""Budgets within 10% of each other (largest <= 1.1 x smallest) count as equal."""

UNKNOWN_KIMG = "?"
UNKNOWN_BUDGET_NOTE = (
    "kimg ?: training budget not recorded (results written by an older slbench); "
    "the fairness of the comparison cannot be judged."
)
COMPARE_ADVICE = "train each model for the same budget with `slbench train --kimg K` for a fair comparison"


@dataclass(frozen=True)
class Budget:
    """What one (model, category) checkpoint was trained for; ``None``/NaN when not recorded."""

    step: int | None
    kimg: float
    stage: str = ""  # e.g. "16 px, fade-in 0.50" for a network sampled before it finished growing

    @property
    def known(self) -> bool:
        return self.kimg is not None and math.isfinite(self.kimg)


def format_kimg(kimg: float | None) -> str:
    """kimg for reading: three significant digits below 100, whole numbers above; ``?`` when unknown."""
    if kimg is None or not math.isfinite(kimg):
        return UNKNOWN_KIMG
    if kimg >= 100:
        return f"{kimg:.0f}"
    return f"{kimg:.3g}"


def budgets_from_rows(rows: Iterable[Mapping]) -> dict[tuple[str, str], Budget]:
    """One budget per (model, category) from tidy rows (the first row of each pair decides)."""
    budgets: dict[tuple[str, str], Budget] = {}
    for row in rows:
        key = (str(row["model"]), str(row["category"]))
        if key not in budgets:
            budgets[key] = Budget(step=_int_or_none(row.get("step")), kimg=_float_or_nan(row.get("kimg")),
                                  stage=str(row.get("stage") or ""))
    return budgets


def generator_budgets_from_rows(rows: Iterable[Mapping]) -> dict[tuple[str, str], Budget]:
    """The budgets of utility rows that drew on a generator: an arm without one, or a class it adds
    no synthetic image to, records none, so it has no entry (rather than an unknown one)."""
    return {key: budget for key, budget in budgets_from_rows(rows).items() if budget.known}


def model_kimg_text(budgets: Mapping[tuple[str, str], Budget], model: str) -> str:
    """The kimg of ``model`` across its categories: one value, a range ``a–b``, or ``?``."""
    values = [b.kimg for (name, _), b in budgets.items() if name == model]
    known = sorted({v for v in values if math.isfinite(v)})
    if not known:
        return UNKNOWN_KIMG
    text = format_kimg(known[0]) if len(known) == 1 else f"{format_kimg(known[0])}–{format_kimg(known[-1])}"
    return text + (f", {UNKNOWN_KIMG}" if any(not math.isfinite(v) for v in values) else "")


def steps_text(budgets: Mapping[tuple[str, str], Budget]) -> str:
    """``sl-stylegan 700, dcgan 88 (MEL), 90 (NV)``: the checkpoint step behind each model's values,
    per category where its categories differ; empty when no step is recorded."""
    by_model: dict[str, dict[str, int]] = {}
    for (model, category), budget in budgets.items():
        if budget.step is not None:
            by_model.setdefault(model, {})[category] = budget.step
    parts = []
    for model, steps in by_model.items():
        if len(set(steps.values())) == 1:
            parts.append(f"{model} {next(iter(steps.values()))}")
        else:
            parts.append(f"{model} " + ", ".join(f"{step} ({category})" for category, step in steps.items()))
    return ", ".join(parts)


def growth_note(budgets: Mapping[tuple[str, str], Budget]) -> str:
    """Which models were sampled before their network finished growing, and at what stage; empty
    when none was: such a model's values measure a smaller network's images, upscaled."""
    staged = [f"{model} {category} at {budget.stage}" for (model, category), budget in budgets.items() if budget.stage]
    if not staged:
        return ""
    return ("Sampled before growing finished (at the stage the checkpoint was training, upscaled): "
            + "; ".join(staged) + ".")


def any_unknown(budgets: Mapping[tuple[str, str], Budget]) -> bool:
    return any(not budget.known for budget in budgets.values())


def budgets_apart(kimgs: Iterable[float], tolerance: float = BUDGET_TOLERANCE) -> bool:
    """Whether the largest of these known budgets is more than ``tolerance`` above the smallest."""
    values = list(kimgs)
    return len(values) > 1 and max(values) > (1.0 + tolerance) * min(values)


def unequal_budget_warning(budgets: Mapping[tuple[str, str], Budget],
                           tolerance: float = BUDGET_TOLERANCE) -> str | None:
    """A warning naming every class whose models' kimg differ by more than ``tolerance``, else ``None``.

    Models are compared within a class, the way a table's columns compare them."""
    by_category: dict[str, list[tuple[str, float]]] = {}
    for (model, category), budget in budgets.items():
        if budget.known:
            by_category.setdefault(category, []).append((model, budget.kimg))
    uneven = []
    for category, entries in by_category.items():
        if budgets_apart((kimg for _, kimg in entries), tolerance):
            listed = ", ".join(f"{model} {format_kimg(kimg)}" for model, kimg in entries)
            uneven.append(f"{category}: {listed} kimg")
    if not uneven:
        return None
    return (f"Unequal training budgets (more than {tolerance:.0%} apart), so differences may reflect training "
            f"length rather than the models: {'; '.join(uneven)}; {COMPARE_ADVICE}.")


def _int_or_none(value) -> int | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _float_or_nan(value) -> float:
    if value is None:
        return math.nan
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan
