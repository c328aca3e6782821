"""The two files a study exchanges with the outside: the answer key and a rater's answers.

``key.json`` (written by ``reader-study build``, never shown to raters) lists every item with
its truth, class, model and source. An answers file is what the study page downloads. Both
carry the study id, so answers are only ever scored against the key of the study they belong
to. Reading either checks it in full and refuses it with one line saying what is wrong.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from slbench.errors import SlbenchError

KEY_FORMAT = "slbench-reader-study-key"
ANSWERS_FORMAT = "slbench-reader-study-answers"
ANSWERS_VERSION = 1  # what study.js writes
MAX_FILE_BYTES = 64 * 2**20  # a key or answers file of a study of thousands of images is well under 1 MiB
REAL, SYNTHETIC = "real", "synthetic"
TRUTHS = (REAL, SYNTHETIC)
CONFIDENCES = (1, 2, 3, 4, 5)


@dataclass(frozen=True)
class KeyItem:
    """One image of the study as the key knows it."""

    item_id: str
    truth: str  # "real" or "synthetic"
    category: str
    model: str | None  # the generator of a synthetic image; None for a real one
    source: str  # the real image's id, or "<model> seed S index I"


@dataclass(frozen=True)
class StudyKey:
    study_id: str
    items: tuple[KeyItem, ...]
    categories: tuple[str, ...]  # the classes a rater may guess
    settings: dict

    def item(self, item_id: str) -> KeyItem | None:
        return self._by_id.get(item_id)

    @cached_property
    def _by_id(self) -> dict[str, KeyItem]:
        return {item.item_id: item for item in self.items}

    def models(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(item.model for item in self.items if item.model))

    def to_json(self) -> dict:
        return {"format": KEY_FORMAT, "version": 1, "study_id": self.study_id, "categories": list(self.categories),
                "settings": self.settings,
                "items": [{"item_id": i.item_id, "truth": i.truth, "category": i.category, "model": i.model,
                           "source": i.source} for i in self.items]}


@dataclass(frozen=True)
class Answer:
    item_id: str
    answer: str  # "real" or "synthetic"
    confidence: int | None
    class_guess: str | None
    milliseconds: int | None


@dataclass(frozen=True)
class RaterAnswers:
    rater_id: str
    study_id: str
    answers: tuple[Answer, ...]
    path: Path


def read_key(path: str | Path) -> StudyKey:
    """Read and check ``key.json``."""
    path = Path(path)
    document = _read_json(path, "answer key")
    if document.get("format") != KEY_FORMAT:
        raise SlbenchError(f"{path} is not a reader-study answer key (no format {KEY_FORMAT!r}); "
                           "pass the key.json that `slbench reader-study build` wrote")
    try:
        items = tuple(KeyItem(str(i["item_id"]), str(i["truth"]), str(i["category"]),
                              None if i.get("model") is None else str(i["model"]), str(i.get("source", "")))
                      for i in document["items"])
        key = StudyKey(str(document["study_id"]), items, tuple(str(c) for c in document.get("categories", [])),
                       dict(document.get("settings", {})))
    except (KeyError, TypeError, ValueError) as err:
        raise SlbenchError(f"{path} is a damaged answer key ({err!r} missing or wrong); rebuild the study") from None
    bad = [item.item_id for item in items if item.truth not in TRUTHS]
    if bad or len({item.item_id for item in items}) != len(items) or not items:
        raise SlbenchError(f"{path} is a damaged answer key (empty, repeated item ids or unknown truths); "
                           "rebuild the study")
    return key


def read_answers(path: str | Path, key: StudyKey) -> RaterAnswers:
    """Read one rater's answers and check them against ``key`` (study id, item ids, values)."""
    path = Path(path)
    document = _read_json(path, "answers file")
    if document.get("format") != ANSWERS_FORMAT:
        raise SlbenchError(f"{path} is not a reader-study answers file (no format {ANSWERS_FORMAT!r}); "
                           "pass the JSON the study page downloads")
    if document.get("version") != ANSWERS_VERSION:
        raise SlbenchError(f"{path} is an answers file of version {document.get('version')!r}; this slbench reads "
                           f"version {ANSWERS_VERSION}, which its study pages write")
    study_id = str(document.get("study_id", ""))
    if study_id != key.study_id:
        raise SlbenchError(f"{path} answers study {study_id!r}, but the key is for study {key.study_id!r}; "
                           "score it with the key.json written with its page")
    rater_id = document.get("rater_id")
    if rater_id is not None and not isinstance(rater_id, str):
        raise SlbenchError(f"{path} has a rater id that is not text ({rater_id!r}); pass the JSON the study page downloads")
    rater = (rater_id or "").strip()
    if not rater:
        raise SlbenchError(f"{path} has no rater id; ask the rater to enter one on the page and download again")
    rows = document.get("answers")
    if not isinstance(rows, list):
        raise SlbenchError(f"{path} holds no list of answers; pass the JSON the study page downloads")
    answers = tuple(_answer(row, key, path, index) for index, row in enumerate(rows))
    seen: set[str] = set()
    for answer in answers:
        if answer.item_id in seen:
            raise SlbenchError(f"{path} answers item {answer.item_id!r} twice; keep one answer per item")
        seen.add(answer.item_id)
    return RaterAnswers(rater, study_id, answers, path)


def _answer(row: Any, key: StudyKey, path: Path, index: int) -> Answer:
    where = f"{path}, answer {index + 1}"
    if not isinstance(row, dict):
        raise SlbenchError(f"{where} is not an object; pass the JSON the study page downloads")
    item_id = str(row.get("item_id"))
    if key.item(item_id) is None:
        raise SlbenchError(f"{where}: item {item_id!r} is not in the key of study {key.study_id!r}")
    answer = row.get("answer")
    if answer not in TRUTHS:
        raise SlbenchError(f"{where}: answer {answer!r} is neither 'real' nor 'synthetic'")
    confidence = row.get("confidence")
    if confidence is not None and (isinstance(confidence, bool) or confidence not in CONFIDENCES):
        raise SlbenchError(f"{where}: confidence {confidence!r} is not a whole number from 1 to 5")
    guess = row.get("class_guess")
    if guess is not None and str(guess) not in key.categories:
        raise SlbenchError(f"{where}: class guess {guess!r} is not one of {', '.join(key.categories)}")
    milliseconds = row.get("milliseconds")
    if milliseconds is not None and (isinstance(milliseconds, bool) or not isinstance(milliseconds, (int, float))
                                     or not math.isfinite(milliseconds) or milliseconds < 0):
        raise SlbenchError(f"{where}: milliseconds {milliseconds!r} is not a time")
    return Answer(item_id, answer, None if confidence is None else int(confidence),
                  None if guess is None else str(guess), None if milliseconds is None else int(milliseconds))


def _read_json(path: Path, what: str) -> dict:
    """The JSON object in ``path`` (a byte-order mark allowed, as editors on Windows write one)."""
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise SlbenchError(f"{what} {path} is larger than {MAX_FILE_BYTES // 2**20} MiB, far more than a study "
                               "writes; check that it is the right file")
        document = json.loads(path.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise SlbenchError(f"{what} {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as err:
        raise SlbenchError(f"cannot read {what} {path}: {getattr(err, 'strerror', None) or err}") from None
    except json.JSONDecodeError as err:
        raise SlbenchError(f"{what} {path} is not valid JSON ({err.msg}, line {err.lineno})") from None
    except (ValueError, RecursionError):  # an integer of thousands of digits, or nesting too deep
        raise SlbenchError(f"{what} {path} is not JSON that a study writes; check that it is the right file") from None
    if not isinstance(document, dict):
        raise SlbenchError(f"{what} {path} is not a JSON object")
    return document
