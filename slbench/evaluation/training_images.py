"""What real images each checkpoint of a run was trained on, read from its metadata, as
``metrics.json`` records it for the reports to compare (:mod:`reports.training_data`)."""

from __future__ import annotations

from typing import Any, Mapping

from slbench.data import Dataset
from slbench.evaluation.real_sides import ALL, TRAIN


def training_images_record(metadata: Mapping[str, Any], dataset: Dataset) -> dict[str, Any] | None:
    """The side, image count, digest and origin of the images a checkpoint was trained on; ``None``
    when its metadata does not say (checkpoints written before slbench recorded it)."""
    data_fingerprint = metadata.get("data_fingerprint")
    side = TRAIN if metadata.get("split") == TRAIN else ALL
    fingerprint = metadata.get("split_fingerprint") if side == TRAIN else data_fingerprint
    if not isinstance(data_fingerprint, str) or not isinstance(fingerprint, str):
        return None
    images = metadata.get("num_images")
    usable = isinstance(images, int) and not isinstance(images, bool) and images >= 0
    return {"side": side, "images": images if usable else None, "fingerprint": fingerprint,
            "scored_dataset": data_fingerprint == dataset.fingerprint()}
