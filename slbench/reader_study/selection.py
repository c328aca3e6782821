"""Which real images a study shows, and what the key says about where they came from.

Real images come from the held-out side of the lesion-grouped split that ``slbench train
--split train`` and ``slbench utility`` use, so a generator trained on the training side never
saw them and cannot have memorised them into look-alikes. When that side holds no image of a
class (a very small dataset), every image of the class is used, and the key says so. Whether
the checkpoints were trained on the other side of that very split is recorded too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from slbench.data import CATEGORIES, Dataset, ImageRecord, split_by_lesion
from slbench.errors import SlbenchError
from slbench.evaluation.plan import PlannedPair
from slbench.training import SPLIT_SEED, SPLIT_TEST_FRACTION
from slbench.utility.checkpoints import leak_reason


@dataclass(frozen=True)
class RealSelection:
    records: dict[str, list[ImageRecord]]  # category -> the chosen images
    source: dict[str, str]  # category -> "held-out side of the lesion split" or "all images"
    checkpoints_unseen: dict[str, bool]  # "model/category" -> trained on the other side of this split


def choose_real(dataset: Dataset, categories: Sequence[str], pairs: Sequence[PlannedPair], n_real: int,
                seed: int) -> RealSelection:
    """``n_real`` real images per class, drawn with ``seed`` from the held-out side where there is one."""
    split = split_by_lesion(dataset, test_fraction=SPLIT_TEST_FRACTION, seed=SPLIT_SEED)
    records, source, short = {}, {}, []
    for category in categories:
        pool = split.test.get(category) or []
        source[category] = "held-out side of the lesion split" if pool else "all images (no held-out side)"
        pool = pool or dataset.records(category)
        if len(pool) < n_real:
            short.append(f"{category} has {len(pool)} ({source[category]})")
            continue
        rng = np.random.default_rng([seed, CATEGORIES.index(category)])  # a class's pick ignores the others asked
        chosen = sorted(rng.choice(len(pool), size=n_real, replace=False).tolist())
        records[category] = [pool[i] for i in chosen]
    if short:
        raise SlbenchError(f"--n-real {n_real} asks for more real images than there are: {'; '.join(short)}; "
                           "lower --n-real")
    unseen = {pair.key: leak_reason(pair.checkpoint.metadata, data_fingerprint=dataset.fingerprint(),
                                    train_fingerprint=split.fingerprint("train")) is None for pair in pairs}
    return RealSelection(records, source, unseen)
