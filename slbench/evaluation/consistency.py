"""Class consistency in a run: the ``lesion`` classifier's verdict on generated and real images.

The classifier is the head of the ``lesion`` extractor trained on the run's data: the run's own
extractor when ``--features lesion``, else the one ``slbench features train`` stored for this
dataset. Without one the run goes on without class consistency, says so once and records why,
as it does for LPIPS.

The real-image figure is the ceiling a generator can reach with that classifier. It is measured
on the held-out side of the lesion-grouped split the classifier was trained on the other side of
(``slbench features train``'s default), images it never saw. A classifier trained on every image
(``--split all``, or stored before the split was recorded), or a class with no held-out image,
leaves only images it was trained on: the ceiling is then optimistic, and its note says so.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from slbench.console import console, labelled
from slbench.data import Dataset, split_by_lesion
from slbench.data.split import DataSplit
from slbench.errors import SlbenchError
from slbench.features.lesion import CLASSES, LesionNet, read_lesion_model, trained_models
from slbench.metrics import MetricValue, metric_value
from slbench.metrics.class_consistency import ClassConsistency, class_consistency


@dataclass(frozen=True)
class ClassifierHandle:
    """The lesion classifier when one is available; otherwise why class consistency is skipped."""

    net: LesionNet | None
    provenance: dict[str, Any]
    metadata: dict[str, Any] | None = None  # the stored extractor's record: its training split among others


def open_classifier(extractor: Any, data_fingerprint: str) -> ClassifierHandle:
    """The run's lesion classifier (see the module docstring), or a skipped handle with the reason."""
    if extractor.name == "lesion":
        metadata = _metadata_beside(extractor.weights_path)
        return ClassifierHandle(extractor.network, _described(extractor.weights_sha256, "the run's lesion extractor",
                                                              metadata), metadata)
    stored = [p for p in trained_models() if p.name.startswith(f"lesion-{data_fingerprint[:16]}-")]
    try:
        if not stored:
            raise SlbenchError(
                "no lesion extractor is trained for this dataset; run: slbench features train --data PATH"
            )
        net, metadata = read_lesion_model(stored[-1], data_fingerprint)
    except SlbenchError as err:
        console.print(labelled("warning:", "yellow", f"class consistency skipped: {err}"), soft_wrap=True)
        return ClassifierHandle(None, {"status": "skipped", "reason": str(err)})
    return ClassifierHandle(net, _described(metadata["weights_sha256"], f"stored lesion extractor {stored[-1].name}",
                                            metadata), metadata)


def _metadata_beside(weights_path: Any) -> dict[str, Any] | None:
    """The JSON record stored beside a lesion extractor's weights, when it can be read."""
    try:
        return json.loads(Path(weights_path).with_suffix(".json").read_text())
    except (OSError, TypeError, ValueError):
        return None


def _described(weights_sha256: str, source: str, metadata: dict[str, Any] | None) -> dict[str, Any]:
    split = (metadata or {}).get("split") or {"side": "all"}
    return {"status": "computed", "classifier": source, "weights_sha256": weights_sha256, "classes": list(CLASSES),
            "trained_on": split}


def held_out_split(handle: ClassifierHandle, dataset: Dataset) -> DataSplit | None:
    """The lesion split whose test side the classifier never saw, when its record names one that
    this dataset reproduces; None when it was trained on every image (or the split cannot be checked)."""
    split = (handle.metadata or {}).get("split")
    if not isinstance(split, dict) or split.get("side") != "train":
        return None
    try:
        halves = split_by_lesion(dataset, test_fraction=float(split["test_fraction"]), seed=int(split["seed"]))
    except (KeyError, TypeError, ValueError, SlbenchError):
        return None
    return halves if halves.fingerprint("train") == split.get("train_fingerprint") else None


@dataclass(frozen=True)
class Ceiling:
    """The real images of one class the ceiling is measured on, and what they are to the classifier."""

    images: torch.Tensor
    held_out: bool  # never seen by the classifier
    reason: str  # why not, when not

    def note(self, category: str) -> str:
        if self.held_out:
            return f"held-out real images of {category} (never in the classifier's training set)"
        return f"real images of {category} the classifier was trained on ({self.reason}): an optimistic ceiling"


def predict(net: LesionNet, images: torch.Tensor, *, batch_size: int, device: torch.device) -> np.ndarray:
    """The classifier's class index for every uint8 image."""
    net = net.to(device).eval()
    chunks = []
    with torch.inference_mode():
        for start in range(0, len(images), batch_size):
            chunks.append(net.logits(images[start : start + batch_size].to(device)).argmax(dim=1).cpu())
    return torch.cat(chunks).numpy()


def consistency_values(fake: ClassConsistency, real: ClassConsistency, ceiling_note: str) -> list[MetricValue]:
    """Rows for the generated images' consistency and the real images' ceiling (``ceiling_note``:
    which real images, from :meth:`Ceiling.note`)."""
    return [
        metric_value("class_consistency", fake.share, n_real=real.n, n_fake=fake.n, ci=(fake.ci_low, fake.ci_high),
                     note=f"taken for: {fake.confusion_text()}"),
        metric_value("class_consistency_real", real.share, n_real=real.n, n_fake=fake.n,
                     ci=(real.ci_low, real.ci_high),
                     note=f"{ceiling_note}; taken for: {real.confusion_text()}"),
    ]


def score_images(net: LesionNet, images: torch.Tensor, category: str, *, batch_size: int,
                 device: torch.device) -> ClassConsistency:
    """Class consistency of ``images`` with ``category``."""
    return class_consistency(predict(net, images, batch_size=batch_size, device=device), category, classes=CLASSES)
