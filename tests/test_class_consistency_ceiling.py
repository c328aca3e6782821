"""The class-consistency ceiling is measured on real images the classifier never saw, or says it is optimistic."""

from __future__ import annotations

import json

import pytest

from reports.results import load_results
from slbench.data import load_dataset, split_by_lesion
from slbench.evaluation import run_evaluation
from evaluation_builders import save_generator_checkpoint, train_tiny_lesion_extractor

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def extractors(tmp_path_factory, synthetic_dataset):
    """Two lesion extractors on the same data: one on the training side of the lesion split, one on all."""
    root = tmp_path_factory.mktemp("ceiling")
    stores = {}
    for split in ("train", "all"):
        stores[split] = root / f"lesion-{split}"
        stores[split].mkdir()
        train_tiny_lesion_extractor(synthetic_dataset, stores[split], epochs=1, split=split)
    save_generator_checkpoint(root / "checkpoints", "dcgan", "MEL", seed=5)
    return {"root": root, "stores": stores, "data": synthetic_dataset}


def _metadata(store):
    return json.loads(next(path for path in store.glob("lesion-*px.json")).read_text())


def test_features_train_holds_out_the_test_side_of_the_lesion_split_by_default(extractors):
    halves = split_by_lesion(load_dataset(extractors["data"]), test_fraction=0.2, seed=0)
    trained = _metadata(extractors["stores"]["train"])
    assert trained["config"]["split"] == "train"
    assert trained["split"]["side"] == "train" and trained["split"]["test_fingerprint"] == halves.fingerprint("test")
    assert trained["class_counts"] == {c: len(halves.train.get(c, [])) for c in trained["classes"]}
    assert 0.0 <= trained["held_out_balanced_accuracy"] <= 1.0
    every = _metadata(extractors["stores"]["all"])
    assert every["split"] == {"side": "all"} and every["held_out_balanced_accuracy"] is None
    assert sum(every["class_counts"].values()) == sum(trained["class_counts"].values()) + sum(
        len(records) for records in halves.test.values())


def _ceiling(extractors, split, tmp_path):
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SLBENCH_CACHE", str(extractors["root"] / "cache"))
        out = run_evaluation(data=extractors["data"], models="dcgan", categories="MEL",
                             checkpoints=extractors["root"] / "checkpoints", n_samples=20, features="lesion",
                             out=tmp_path / split, weights_dir=extractors["stores"][split], batch=20,
                             report_formats=("md",))
    stored = load_results(out)
    rows = stored.rows.set_index("metric")
    return rows.loc["class_consistency_real"], stored, out


def test_the_ceiling_uses_the_images_the_classifier_never_saw(extractors, tmp_path):
    row, stored, _ = _ceiling(extractors, "train", tmp_path)
    held_out = split_by_lesion(load_dataset(extractors["data"]), test_fraction=0.2, seed=0).test["MEL"]
    assert row["n_real"] == len(held_out) < len(load_dataset(extractors["data"]).records("MEL"))
    assert row["note"].startswith("held-out real images of MEL (never in the classifier's training set)")
    trained_on = stored.provenance["pairs"]["dcgan/MEL"]["class_consistency"]["trained_on"]
    assert trained_on["side"] == "train"


def test_a_classifier_trained_on_every_image_gives_an_optimistic_ceiling_and_says_so(extractors, tmp_path):
    row, _, out = _ceiling(extractors, "all", tmp_path)
    assert row["n_real"] == len(load_dataset(extractors["data"]).records("MEL"))
    assert "the classifier was trained on (it was trained on every image): an optimistic ceiling" in row["note"]
    assert "an optimistic ceiling" in (out / "report.md").read_text()
