"""Scoring a visual Turing test: how well raters tell synthetic images from real ones.

Detecting a synthetic image is the positive outcome: sensitivity is the share of synthetic
images a rater called synthetic, specificity the share of real images called real, accuracy
the share of all answered images called correctly; each has a Wilson 95% interval, and the
accuracy an exact two-sided binomial test against guessing (p = 0.5). Per model, the share of
its images taken for real pools every rater's answers. Agreement (Cohen's kappa for two
raters, Fleiss' kappa for more) is computed on the items every rater answered. When raters
guessed classes, the confusion matrix counts true class against guessed class.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from slbench.errors import SlbenchError
from slbench.reader_study.files import REAL, SYNTHETIC, TRUTHS, RaterAnswers, StudyKey
from slbench.reader_study.statistics import (
    binomial_p_value,
    cohen_kappa,
    fleiss_counts,
    fleiss_kappa,
    proportion,
)

SCORES_FORMAT = "slbench-reader-study-scores"


def score_study(key: StudyKey, raters: Sequence[RaterAnswers]) -> dict:
    """Everything the score command prints and writes, as one JSON-ready document."""
    if not raters:
        raise SlbenchError("no answers given; pass one or more answers files downloaded from the study page")
    names = [rater.rater_id for rater in raters]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        paths = ", ".join(str(r.path) for r in raters if r.rater_id in repeated)
        raise SlbenchError(f"rater id(s) {', '.join(repeated)} appear in more than one answers file ({paths}); "
                           "give each rater's answers once")
    return {
        "format": SCORES_FORMAT,
        "version": 1,
        "study_id": key.study_id,
        "n_items": len(key.items),
        "n_real": sum(item.truth == REAL for item in key.items),
        "n_synthetic": sum(item.truth == SYNTHETIC for item in key.items),
        "settings": key.settings,
        "raters": [rater_scores(key, rater) for rater in raters],
        "models": model_scores(key, raters),
        "agreement": agreement(key, raters),
        "items": item_table(key, raters),
        "confusion": confusion_matrix(key, raters),
    }


def rater_scores(key: StudyKey, rater: RaterAnswers) -> dict:
    """One rater's accuracy, sensitivity and specificity for detecting synthetic images."""
    truths = [key.item(answer.item_id).truth for answer in rater.answers]
    said = [answer.answer for answer in rater.answers]
    correct = sum(t == s for t, s in zip(truths, said))
    hits = sum(t == SYNTHETIC and s == SYNTHETIC for t, s in zip(truths, said))
    rejections = sum(t == REAL and s == REAL for t, s in zip(truths, said))
    times = [answer.milliseconds for answer in rater.answers if answer.milliseconds is not None]
    return {
        "rater_id": rater.rater_id,
        "file": str(rater.path),
        "answered": len(said),
        "accuracy": proportion(correct, len(said)).to_json(),
        "sensitivity": proportion(hits, truths.count(SYNTHETIC)).to_json(),
        "specificity": proportion(rejections, truths.count(REAL)).to_json(),
        "p_value": _none_if_nan(binomial_p_value(correct, len(said))),
        "median_milliseconds": float(np.median(times)) if times else None,
    }


def model_scores(key: StudyKey, raters: Sequence[RaterAnswers]) -> list[dict]:
    """Per model, and for the real images, the share of answers that said "real" (all raters pooled)."""
    groups = [(model, [i.item_id for i in key.items if i.model == model]) for model in key.models()]
    groups.append((None, [i.item_id for i in key.items if i.truth == REAL]))
    rows = []
    for model, item_ids in groups:
        wanted = set(item_ids)
        said = [a.answer for rater in raters for a in rater.answers if a.item_id in wanted]
        rows.append({"model": model if model is not None else "real images", "truth": SYNTHETIC if model else REAL,
                     "images": len(item_ids), "taken_for_real": proportion(said.count(REAL), len(said)).to_json()})
    return rows


def agreement(key: StudyKey, raters: Sequence[RaterAnswers]) -> dict:
    """Chance-corrected agreement on the real/synthetic answers of the items every rater answered."""
    if len(raters) < 2:
        return {"statistic": None, "kappa": None, "items": 0, "raters": len(raters)}
    answered = [{a.item_id: a.answer for a in rater.answers} for rater in raters]
    common = [item.item_id for item in key.items if all(item.item_id in given for given in answered)]
    labels = [[given[item_id] for item_id in common] for given in answered]
    if not common:
        kappa = math.nan
    elif len(raters) == 2:
        kappa = cohen_kappa(labels[0], labels[1])
    else:
        kappa = fleiss_kappa(fleiss_counts(labels, TRUTHS))
    return {"statistic": "cohen" if len(raters) == 2 else "fleiss", "kappa": _none_if_nan(kappa),
            "items": len(common), "raters": len(raters)}


def item_table(key: StudyKey, raters: Sequence[RaterAnswers]) -> list[dict]:
    """Per image: how many raters answered, how many said real, and whether it fooled every one of them."""
    answered = [{a.item_id: a for a in rater.answers} for rater in raters]
    rows = []
    for item in key.items:
        given = [by_id[item.item_id] for by_id in answered if item.item_id in by_id]
        said_real = sum(a.answer == REAL for a in given)
        confidences = [a.confidence for a in given if a.confidence is not None]
        rows.append({"item_id": item.item_id, "truth": item.truth, "model": item.model, "category": item.category,
                     "source": item.source, "answers": len(given), "said_real": said_real,
                     "correct": sum(a.answer == item.truth for a in given),
                     "mean_confidence": float(np.mean(confidences)) if confidences else None,
                     "fooled_everyone": item.truth == SYNTHETIC and bool(given) and said_real == len(given)})
    return rows


def confusion_matrix(key: StudyKey, raters: Sequence[RaterAnswers]) -> dict | None:
    """True class (rows) against guessed class (columns) over every answer with a class guess; None without any."""
    guesses = [(key.item(a.item_id).category, a.class_guess) for rater in raters for a in rater.answers
               if a.class_guess is not None]
    if not guesses:
        return None
    labels = list(key.categories) or sorted({c for pair in guesses for c in pair})
    for true, _ in guesses:
        if true not in labels:
            labels.append(true)
    matrix = np.zeros((len(labels), len(labels)), dtype=np.int64)
    for true, guess in guesses:
        matrix[labels.index(true), labels.index(guess)] += 1
    return {"labels": labels, "matrix": matrix.tolist(), "guesses": len(guesses),
            "correct": int(np.trace(matrix))}


def _none_if_nan(value: float) -> float | None:
    return None if value is None or not math.isfinite(value) else float(value)
