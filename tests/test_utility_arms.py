"""The arms of the utility experiment and how each training set is put together."""

from __future__ import annotations

import pytest
import torch

from slbench.errors import SlbenchError
from slbench.utility.arms import (
    assemble_training_set,
    augmentation_counts,
    plan_arms,
    sample_synthetic,
    synthetic_only_counts,
    synthetic_seed,
)

REAL_COUNTS = {"MEL": 8, "NV": 20, "DF": 3}


def test_arms_are_baseline_then_each_model():
    names = [arm.name for arm in plan_arms(["sl-stylegan", "dcgan"], with_synthetic_only=True)]
    assert names == ["real-only", "real+sl-stylegan", "synthetic-only:sl-stylegan", "real+dcgan", "synthetic-only:dcgan"]
    assert [arm.name for arm in plan_arms(["dcgan"], with_synthetic_only=False)] == ["real-only", "real+dcgan"]


def test_balance_fills_each_chosen_class_up_to_the_majority():
    assert augmentation_counts(REAL_COUNTS, ["MEL", "DF"], per_class=None, balance=True) == {"MEL": 12, "DF": 17}
    assert augmentation_counts(REAL_COUNTS, ["NV", "DF"], per_class=None, balance=True) == {"NV": 0, "DF": 17}
    assert augmentation_counts(REAL_COUNTS, ["MEL", "DF"], per_class=5, balance=False) == {"MEL": 5, "DF": 5}


def test_balance_that_adds_nothing_is_refused_rather_than_scored_as_a_gain_of_zero():
    with pytest.raises(SlbenchError, match=r"--balance adds no synthetic image: .*largest class \(20; NV 20\).*"
                                           r"give --synthetic-per-class N instead"):
        augmentation_counts(REAL_COUNTS, ["NV"], per_class=None, balance=True)


def test_synthetic_only_mirrors_the_real_class_sizes_or_takes_n_each():
    assert synthetic_only_counts(REAL_COUNTS, per_class=None, balance=True) == REAL_COUNTS
    assert synthetic_only_counts(REAL_COUNTS, per_class=4, balance=False) == {"MEL": 4, "NV": 4, "DF": 4}


@pytest.mark.parametrize(
    ("per_class", "balance", "message"),
    [(5, True, "not both"), (None, False, "how many"), (0, False, "at least 1")],
)
def test_amount_options_are_checked(per_class, balance, message):
    with pytest.raises(SlbenchError, match=message):
        augmentation_counts(REAL_COUNTS, ["MEL"], per_class=per_class, balance=balance)


def _images(n: int, value: int) -> torch.Tensor:
    return torch.full((n, 3, 4, 4), value, dtype=torch.uint8)


def test_training_set_concatenates_real_and_the_first_synthetic_images_with_labels():
    real = {"MEL": _images(2, 10), "NV": _images(3, 20)}
    synthetic = {"MEL": torch.cat([_images(2, 110), _images(2, 111)])}
    augmented = assemble_training_set(["MEL", "NV"], real, synthetic, {"MEL": 2}, use_real=True)
    assert augmented.labels.tolist() == [0, 0, 0, 0, 1, 1, 1]
    assert augmented.images[:, 0, 0, 0].tolist() == [10, 10, 110, 110, 20, 20, 20]
    assert augmented.real_counts == {"MEL": 2, "NV": 3} and augmented.synthetic_counts == {"MEL": 2, "NV": 0}
    synthetic["NV"] = _images(1, 120)
    only = assemble_training_set(["MEL", "NV"], real, synthetic, {"MEL": 1, "NV": 1}, use_real=False)
    assert only.labels.tolist() == [0, 1] and only.images[:, 0, 0, 0].tolist() == [110, 120]


def test_too_few_synthetic_images_is_an_error():
    with pytest.raises(SlbenchError, match="3 synthetic images of MEL"):
        assemble_training_set(["MEL"], {"MEL": _images(1, 0)}, {"MEL": _images(2, 0)}, {"MEL": 3}, use_real=True)


def test_synthetic_seeds_differ_by_seed_model_and_class_and_are_stable():
    seeds = {synthetic_seed(s, m, c) for s in (0, 1) for m in ("dcgan", "stylegan") for c in ("MEL", "NV")}
    assert len(seeds) == 8
    assert synthetic_seed(0, "dcgan", "MEL") == synthetic_seed(0, "dcgan", "MEL")


class _GradientGenerator(torch.nn.Module):
    """A stand-in with the generator sampling contract: a horizontal ramp in [0, 1] at 8 px."""

    def sample(self, n, seed=0, *, device=None, batch_size=64):
        ramp = torch.linspace(0.0, 1.0, 8).view(1, 1, 1, 8)
        return ramp.expand(n, 3, 8, 8).clone()


def test_synthetic_images_are_quantised_and_resized_to_the_evaluation_resolution():
    images = sample_synthetic(_GradientGenerator(), 3, seed=0, resolution=4, device=torch.device("cpu"))
    assert images.dtype == torch.uint8 and images.shape == (3, 3, 4, 4)
    row = images[0, 0, 0].tolist()
    assert row == sorted(row) and row[0] < 64 and row[-1] > 191
    native = sample_synthetic(_GradientGenerator(), 2, seed=0, resolution=8, device=torch.device("cpu"))
    assert native[0, 0, 0, 0].item() == 0 and native[0, 0, 0, -1].item() == 255
