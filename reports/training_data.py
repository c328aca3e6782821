"""Whether the models compared on one class were trained on the same real images.

A model trained on every image of a class and one trained on the training side of its lesion
split (a fifth fewer images, and not the ones the first is partly scored on), or on another
dataset, differ in their data before they differ as models. ``slbench run`` records, per
(model, category), what its checkpoint was trained on (``settings["trained_on"]`` in
``metrics.json``, written by :mod:`slbench.evaluation.training_images`):

* ``side``: ``all`` (every image of the class) or ``train`` (the training side of the split);
* ``images``: how many images of the class that was, ``None`` when not recorded;
* ``fingerprint``: a digest of those images (the dataset's, or its training side's);
* ``scored_dataset``: whether they came from the dataset the run scored against.

Runs written before this was recorded have no such record, and nothing is said of them.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping

from reports.names import category_sort_key, model_sort_key

TRAINING_DATA_KEY = "trained_on"
TRAINING_DATA_ADVICE = "train every model on the same data with the same --split for a fair comparison"


def describe_training_data(record: Mapping[str, Any]) -> str:
    """``all 20 images`` or ``the training side of the lesion split (16 images)``, of another
    dataset where the images were not the scored dataset's."""
    images = record.get("images")
    count = f"{images} images" if isinstance(images, int) and not isinstance(images, bool) else "its images"
    text = f"the training side of the lesion split ({count})" if record.get("side") == "train" else f"all {count}"
    return text + ("" if record.get("scored_dataset", True) else " of another dataset")


def unequal_training_data_warning(entries: Iterable[tuple[str, str, Mapping[str, Any]]]) -> str | None:
    """A warning naming every class whose models, given as ``(model, category, record)``, were
    trained on different real images, else ``None``. Records without a fingerprint are left out."""
    by_category: dict[str, list[tuple[str, Mapping[str, Any]]]] = {}
    for model, category, record in entries:
        if isinstance(record, Mapping) and isinstance(record.get("fingerprint"), str):
            by_category.setdefault(category, []).append((model, record))
    uneven = []
    for category, models in sorted(by_category.items(), key=lambda item: category_sort_key(item[0])):
        if len({record["fingerprint"] for _, record in models}) > 1:
            listed = ", ".join(f"{model} {describe_training_data(record)}"
                               for model, record in sorted(models, key=lambda entry: model_sort_key(entry[0])))
            uneven.append(f"{category}: {listed}")
    if not uneven:
        return None
    return ("Models trained on different real images, so differences may reflect their training data rather than "
            f"the models: {'; '.join(uneven)}; {TRAINING_DATA_ADVICE}.")


def training_data_entries(settings: Mapping[str, Any]) -> list[tuple[str, str, Mapping[str, Any]]]:
    """``(model, category, record)`` for every pair a run's ``settings`` record."""
    recorded = settings.get(TRAINING_DATA_KEY) if isinstance(settings, Mapping) else None
    if not isinstance(recorded, Mapping):
        return []
    entries = []
    for key, record in recorded.items():
        model, _, category = str(key).rpartition("/")
        if model and category:
            entries.append((model, category, record))
    return entries
