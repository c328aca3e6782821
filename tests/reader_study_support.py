"""Hand-made study keys and answers files for the reader-study tests."""

from __future__ import annotations

import json
import re
from pathlib import Path

from slbench.reader_study.files import ANSWERS_FORMAT, KeyItem, StudyKey

STUDY_ID = "study-test"


def make_key(truths: list[str], *, models: list[str | None] | None = None, categories: list[str] | None = None,
             study_id: str = STUDY_ID) -> StudyKey:
    """A key of ``len(truths)`` items ``item-01``...; synthetic items default to model ``dcgan``, class MEL."""
    models = models or [None if truth == "real" else "dcgan" for truth in truths]
    categories = categories or ["MEL"] * len(truths)
    items = tuple(KeyItem(f"item-{index + 1:02d}", truth, category, model, f"source-{index}")
                  for index, (truth, model, category) in enumerate(zip(truths, models, categories)))
    return StudyKey(study_id, items, ("MEL", "NV", "BCC"), {"seed": 0})


def write_key(folder: Path, key: StudyKey) -> Path:
    path = folder / "key.json"
    path.write_text(json.dumps(key.to_json()))
    return path


def write_answers(folder: Path, rater: str, answers: list[str], *, study_id: str = STUDY_ID,
                  guesses: list[str | None] | None = None, confidences: list[int | None] | None = None,
                  item_ids: list[str] | None = None) -> Path:
    """One rater's answers file in the page's format, answer ``i`` for ``item_ids[i]`` (default ``item-{i+1:02d}``)."""
    item_ids = item_ids or [f"item-{index + 1:02d}" for index in range(len(answers))]
    guesses = guesses or [None] * len(answers)
    confidences = confidences or [None] * len(answers)
    rows = [{"item_id": item_id, "answer": answer, "confidence": confidence,
             "class_guess": guess, "milliseconds": 1000 + index}
            for index, (item_id, answer, guess, confidence) in enumerate(zip(item_ids, answers, guesses, confidences))]
    path = folder / f"answers-{re.sub(r'[^A-Za-z0-9_-]', '_', rater)}.json"
    path.write_text(json.dumps({"format": ANSWERS_FORMAT, "version": 1, "study_id": study_id, "rater_id": rater,
                                "answers": rows}))
    return path
