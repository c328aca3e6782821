"""Which real images each (model, class) of a quality table was scored against, as a run recorded it.

``slbench run`` scores quality on all images of a class, or on the held-out (``test``) or
``train`` side of the lesion-grouped split its checkpoints were trained on, and memorisation
against the images the models could have copied; its settings record both sides
(``real_side``) and their image counts per class (``real_counts``). Results written before
real sides were recorded scored everything against all images. Captions and the wide CSV
say which side each number rests on, since a number on the held-out side and one on the
training images are not comparable.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

SIDE_TEXT = {
    "all": "all images of the class",
    "test": "the held-out (test) side of the lesion-grouped split",
    "train": "the training side of the lesion-grouped split",
}


@dataclass(frozen=True)
class SideUse:
    """The real sides of one run: where quality and memorisation were scored, and the split."""

    quality: str
    memorisation: str
    split: str  # "seed 0, test fraction 0.2", or "" without a split
    checkpoints_split: bool  # the checkpoints were trained on the training side only
    counts: tuple[tuple[str, int | None, int | None], ...]  # (category, quality images, memorisation images)


def run_side_use(settings: Mapping[str, Any], categories: list[str]) -> SideUse:
    """The sides ``settings`` record for ``categories`` (older results: ``all`` for both)."""
    recorded = settings.get("real_side") if isinstance(settings.get("real_side"), dict) else {}
    quality, memorisation = str(recorded.get("quality", "all")), str(recorded.get("memorisation", "all"))
    split = recorded.get("split") if isinstance(recorded.get("split"), dict) else None
    split_text = f"seed {split.get('seed')}, test fraction {split.get('test_fraction')}" if split else ""
    counts = settings.get("real_counts") if isinstance(settings.get("real_counts"), dict) else {}

    def count(category: str, side: str) -> int | None:
        value = (counts.get(category) or {}).get(side)
        return int(value) if isinstance(value, int) and not isinstance(value, bool) else None

    return SideUse(quality, memorisation, split_text, recorded.get("checkpoints_trained_on") == "train",
                   tuple((c, count(c, quality), count(c, memorisation)) for c in categories))


def _counts(use: SideUse, of_memorisation: bool) -> str:
    """``"MEL 23, NV 1341 images"``: the images per class on one of the two sides, where recorded."""
    listed = [f"{category} {m if of_memorisation else q}" for category, q, m in use.counts
              if (m if of_memorisation else q) is not None]
    return f"{', '.join(listed)} images" if listed else ""


def _parenthesis(*parts: str) -> str:
    kept = [part for part in parts if part]
    return f" ({'; '.join(kept)})" if kept else ""


def describe_use(use: SideUse) -> str:
    """One sentence: where quality was scored and what memorisation was measured against."""
    if use.quality == "all" and use.memorisation == "all":
        unseen = ("the checkpoints were trained on the training side of a lesion split only, so these include "
                  "images they never saw") if use.checkpoints_split else ""
        return (f"Real images: quality and memorisation against {SIDE_TEXT['all']}"
                f"{_parenthesis(_counts(use, False), unseen)}.")
    memorisation = ("its training side, the images the checkpoints were trained on" if use.memorisation == "train"
                    else SIDE_TEXT.get(use.memorisation, use.memorisation))
    return (f"Real images: quality against {SIDE_TEXT.get(use.quality, use.quality)}"
            f"{_parenthesis(use.split, _counts(use, False))}; "
            f"memorisation against {memorisation}{_parenthesis(_counts(use, True))}.")


def real_side_note(runs: list[tuple[Mapping[str, Any], list[str]]]) -> str:
    """The caption sentence(s) of a quality table built from ``runs`` (settings, categories of its rows)."""
    sentences = [describe_use(run_side_use(settings, categories)) for settings, categories in runs if categories]
    return " ".join(dict.fromkeys(sentences))
