"""The generators a utility run draws synthetic images from, checked before any training starts.

A synthetic image can only be judged on real test images its generator never saw: a GAN trained
on a test image may reproduce it, and a classifier trained on that reproduction then scores its
own training data. Every checkpoint is therefore refused unless its metadata shows it was
trained with ``slbench train --split train`` on the training side of this very split of this
very dataset (same ``data_fingerprint``, ``split`` ``"train"``, same ``split_fingerprint``).
All problems of one kind are reported together, so a user fixes them in one go.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

from generators.checkpoint import list_checkpoints
from slbench.errors import SlbenchError
from slbench.evaluation.checkpoints import read_checkpoint_info
from slbench.evaluation.plan import PlannedPair, checkpoint_folder


def resolve_sources(checkpoints: Path, models: Sequence[str], categories: Sequence[str]) -> list[PlannedPair]:
    """The checkpoint of every (model, category), ``<checkpoints>/<model>/<category>/`` (its latest).

    Raises one :class:`SlbenchError` listing every missing checkpoint, else one listing every
    unreadable one, else one listing every checkpoint that holds another model or class than its
    folder says.
    """
    pairs, missing, unreadable = [], [], []
    for model in models:
        for category in categories:
            folder = checkpoint_folder(checkpoints, model, category)
            if not list_checkpoints(folder):
                missing.append(f"{model}/{category} ({folder})")
                continue
            try:
                pairs.append(PlannedPair(model, category, read_checkpoint_info(folder)))
            except SlbenchError as err:
                unreadable.append(f"{model}/{category}: {err}")
    if missing:
        raise SlbenchError(
            f"{len(missing)} checkpoint(s) missing: {', '.join(missing)}; train each with "
            "`slbench train --split train --model M --category C --data PATH` or point --checkpoints at them"
        )
    if unreadable:
        raise SlbenchError(f"{len(unreadable)} checkpoint(s) cannot be read: {'; '.join(unreadable)}")
    wrong = [problem for pair in pairs for problem in _mismatch(pair)]
    if wrong:
        raise SlbenchError(f"no synthetic images of the requested class: {'; '.join(wrong)}; "
                           "train the class that is asked for or drop it from --category")
    return pairs


def check_unseen_test_images(
    pairs: Sequence[PlannedPair], *, data_fingerprint: str, train_fingerprint: str, split_description: str
) -> None:
    """Refuse, in one error, every checkpoint whose training may have included test images."""
    offending = []
    for pair in pairs:
        reason = leak_reason(pair.checkpoint.metadata, data_fingerprint=data_fingerprint,
                             train_fingerprint=train_fingerprint)
        if reason:
            offending.append(f"{pair.key} ({reason})")
    if offending:
        raise SlbenchError(
            f"{len(offending)} checkpoint(s) may have seen the test images and are refused: {', '.join(offending)}; "
            f"make usable ones with `slbench train --split train ...` on this --data ({split_description})"
        )


def leak_reason(metadata: dict[str, Any], *, data_fingerprint: str, train_fingerprint: str) -> str | None:
    """Why a checkpoint's training may have seen test images, or None when it provably did not."""
    if metadata.get("data_fingerprint") != data_fingerprint:
        return "trained on other data"
    split = metadata.get("split")
    if split != "train":
        return f"trained on split {split!r}, which includes the test images"
    if metadata.get("split_fingerprint") != train_fingerprint:
        return "trained on the train side of another split"
    return None


def _mismatch(pair: PlannedPair) -> list[str]:
    problems = []
    trained_model = pair.checkpoint.model
    trained_category = pair.checkpoint.category
    if trained_model != pair.model:
        problems.append(f"{pair.checkpoint.path} is a {trained_model!r} model, not {pair.model!r}")
    if trained_category != pair.category:
        problems.append(f"{pair.checkpoint.path} makes {trained_category} images, not {pair.category}")
    return problems
