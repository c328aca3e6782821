"""Class consistency: shares, Wilson intervals and confusion rows; real images of a class beat a
mislabelled set; a generator of NV scored as MEL is inconsistent; runs report it."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.stats import binomtest

from slbench.data import CATEGORIES, load_dataset, load_images
from slbench.errors import SlbenchError
from slbench.evaluation.consistency import score_images
from slbench.features.lesion import LesionTrainConfig, fit_lesion_net
from slbench.metrics.class_consistency import class_consistency

pytestmark = pytest.mark.usefixtures("one_thread")
RESOLUTION = 32


def test_share_interval_and_confusion_row():
    predicted = np.array([CATEGORIES.index(c) for c in ["MEL"] * 7 + ["NV"] * 2 + ["BKL"]])
    result = class_consistency(predicted, "MEL")
    assert (result.share, result.n) == (0.7, 10)
    ci = binomtest(7, 10).proportion_ci(confidence_level=0.95, method="wilson")
    assert (result.ci_low, result.ci_high) == pytest.approx((ci.low, ci.high), rel=1e-12)
    assert result.confusion == {c: {"MEL": 7, "NV": 2, "BKL": 1}.get(c, 0) for c in CATEGORIES}
    assert result.confusion_text() == "MEL 70%, NV 20%, BKL 10%"
    scores = np.eye(len(CATEGORIES))[predicted] + 0.01  # N x classes: arg-max taken
    assert class_consistency(scores, "MEL") == result


def test_extremes_keep_the_interval_inside_0_1():
    none = class_consistency(np.full(20, CATEGORIES.index("NV")), "MEL")
    assert none.share == 0.0 and none.ci_low == 0.0 and 0 < none.ci_high < 0.2
    every = class_consistency(np.full(20, CATEGORIES.index("MEL")), "MEL")
    assert every.share == 1.0 and every.ci_high == 1.0 and every.ci_low > 0.8


@pytest.mark.parametrize("bad", [np.array([0, 9]), np.array([0.5, 1.0]), np.zeros((3, 4)), np.array([])])
def test_bad_predictions_are_refused(bad):
    with pytest.raises(SlbenchError):
        class_consistency(bad, "MEL")
    with pytest.raises(SlbenchError, match="not one of"):
        class_consistency(np.array([0]), "XYZ")


@pytest.fixture(scope="module")
def classifier(synthetic_dataset):
    """A lesion classifier trained briefly on the built-in data (12 images per class), and the images."""
    dataset = load_dataset(synthetic_dataset)
    images = {c: load_images(dataset.records(c), RESOLUTION) for c in dataset.categories()}
    x = torch.cat([images[c] for c in images])
    y = torch.cat([torch.full((len(images[c]),), CATEGORIES.index(c)) for c in images])
    with torch.random.fork_rng(devices=[]):
        net = fit_lesion_net(x, y, LesionTrainConfig(resolution=RESOLUTION, epochs=10, batch_size=16, seed=0))
    return net, images


def test_real_images_of_a_class_beat_a_mislabelled_set(classifier):
    net, images = classifier
    for category in ("MEL", "NV", "BCC"):
        real = score_images(net, images[category], category, batch_size=16, device=torch.device("cpu"))
        others = torch.cat([images[c] for c in images if c != category])
        mislabelled = score_images(net, others, category, batch_size=16, device=torch.device("cpu"))
        assert real.share >= mislabelled.share
        assert real.share > 0.5 > mislabelled.share


def test_a_generator_of_nv_scored_as_mel_is_inconsistent(classifier):
    """Stand-in for a generator trained on NV: NV images with fresh noise and flips, 40 samples."""
    net, images = classifier
    generator = torch.Generator().manual_seed(0)
    nv = images["NV"].repeat(4, 1, 1, 1)[:40].float()
    samples = (nv + 8 * torch.randn(nv.shape, generator=generator)).clamp(0, 255).to(torch.uint8).flip(3)
    as_mel = score_images(net, samples, "MEL", batch_size=16, device=torch.device("cpu"))
    as_nv = score_images(net, samples, "NV", batch_size=16, device=torch.device("cpu"))
    assert as_mel.share < 0.2 and as_mel.ci_high < 0.35
    assert as_nv.share > 0.6
    assert as_mel.confusion["NV"] == max(as_mel.confusion.values())


def test_without_a_trained_classifier_it_is_skipped_with_the_reason(capsys):
    from types import SimpleNamespace

    from slbench.evaluation.consistency import open_classifier

    handle = open_classifier(SimpleNamespace(name="inception"), "0" * 64)
    assert handle.net is None and handle.provenance["status"] == "skipped"
    assert "slbench features train" in handle.provenance["reason"]
    assert "class consistency skipped" in capsys.readouterr().err
