"""Class consistency in a run: the ``lesion`` classifier's verdict on generated and real images.

The classifier is the head of the ``lesion`` extractor trained on the run's data: the run's own
extractor when ``--features lesion``, else the one ``slbench features train`` stored for this
dataset. Without one the run goes on without class consistency, says so once and records why,
as it does for LPIPS. Its training images are the dataset's real images, the real images of the
class included, so the real-image figure is an optimistic ceiling.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from slbench.console import console, labelled
from slbench.errors import SlbenchError
from slbench.features.lesion import CLASSES, LesionNet, read_lesion_model, trained_models
from slbench.metrics import MetricValue, metric_value
from slbench.metrics.class_consistency import ClassConsistency, class_consistency


@dataclass(frozen=True)
class ClassifierHandle:
    """The lesion classifier when one is available; otherwise why class consistency is skipped."""

    net: LesionNet | None
    provenance: dict[str, Any]


def open_classifier(extractor: Any, data_fingerprint: str) -> ClassifierHandle:
    """The run's lesion classifier (see the module docstring), or a skipped handle with the reason."""
    if extractor.name == "lesion":
        return ClassifierHandle(extractor.network, _described(extractor.weights_sha256, "the run's lesion extractor"))
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
    return ClassifierHandle(net, _described(metadata["weights_sha256"], f"stored lesion extractor {stored[-1].name}"))


def _described(weights_sha256: str, source: str) -> dict[str, Any]:
    return {"status": "computed", "classifier": source, "weights_sha256": weights_sha256, "classes": list(CLASSES)}


def predict(net: LesionNet, images: torch.Tensor, *, batch_size: int, device: torch.device) -> np.ndarray:
    """The classifier's class index for every uint8 image."""
    net = net.to(device).eval()
    chunks = []
    with torch.inference_mode():
        for start in range(0, len(images), batch_size):
            chunks.append(net.logits(images[start : start + batch_size].to(device)).argmax(dim=1).cpu())
    return torch.cat(chunks).numpy()


def consistency_values(fake: ClassConsistency, real: ClassConsistency) -> list[MetricValue]:
    """Rows for the generated images' consistency and the real images' ceiling."""
    return [
        metric_value("class_consistency", fake.share, n_real=real.n, n_fake=fake.n, ci=(fake.ci_low, fake.ci_high),
                     note=f"taken for: {fake.confusion_text()}"),
        metric_value("class_consistency_real", real.share, n_real=real.n, n_fake=fake.n,
                     ci=(real.ci_low, real.ci_high),
                     note=f"real images of {real.target} (in the classifier's training set); "
                          f"taken for: {real.confusion_text()}"),
    ]


def score_images(net: LesionNet, images: torch.Tensor, category: str, *, batch_size: int,
                 device: torch.device) -> ClassConsistency:
    """Class consistency of ``images`` with ``category``."""
    return class_consistency(predict(net, images, batch_size=batch_size, device=device), category, classes=CLASSES)
