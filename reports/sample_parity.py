"""Whether the models a quality table compares were measured on equally many images.

Most quality metrics depend on how many images they rest on, not only on the model: FID is
biased upward at small N, precision, recall, density and coverage take their k-nearest-neighbour
radii from the sets themselves, and the bootstrap intervals widen as N falls. One run measures
every model of a class on the same real images and the same number of generated ones, but a
report that combines runs may hold a model measured on 64 generated images beside one measured
on 10,000. Values in one column are comparable only when their N agree, so such a table says so.
"""

from __future__ import annotations

import math

import pandas as pd

SAMPLE_ADVICE = "evaluate every model with one --n-samples against the same real images for a fair comparison"


def unequal_sample_warning(frame: pd.DataFrame) -> str | None:
    """A warning naming every class in which one metric's column holds values of models measured on
    different numbers of real or generated images (N real / N fake), else ``None``. Counts a row
    does not record are left out of the comparison."""
    uneven = []
    for category, part in frame.groupby("category", sort=False):
        for _, column in part.groupby("metric", sort=False):
            sizes = {str(row.model): (_count(row.n_real), _count(row.n_fake)) for row in column.itertuples()}
            known = {size for size in sizes.values() if None not in size}
            if len(known) > 1:
                listed = ", ".join(f"{model} {n_real} / {n_fake}" for model, (n_real, n_fake) in sizes.items()
                                   if None not in (n_real, n_fake))
                uneven.append(f"{category}: {listed}")
                break
    if not uneven:
        return None
    return ("Unequal sample sizes (N real / N fake) within a column, so differences may reflect the number of "
            f"images rather than the models (FID is biased upward at small N): {'; '.join(uneven)}; "
            f"{SAMPLE_ADVICE}.")


def _count(value: object) -> int | None:
    """A row's image count; ``None`` when it was not recorded."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return int(number) if math.isfinite(number) else None
