"""The seven ISIC 2018 Task 3 lesion categories and the names they go by on disk.

Codes and counts follow the ISIC 2018 Challenge Task 3 training set, which is HAM10000
(Tschandl, Rosendahl and Kittler, Scientific Data 5, 180161, 2018; Codella et al.,
arXiv:1902.03368, 2019). Folders and metadata spell the classes in many ways (``MEL``,
``mel``, ``melanoma``, ``Melanocytic_nevi``, ``ISIC2018_mel``); :func:`parse_category`
maps all of them to one code.
"""

from __future__ import annotations

import re

from slbench.errors import SlbenchError

CATEGORIES: tuple[str, ...] = ("AKIEC", "BCC", "BKL", "DF", "NV", "MEL", "VASC")

FULL_NAMES: dict[str, str] = {
    "AKIEC": "actinic keratosis / intraepithelial carcinoma",
    "BCC": "basal cell carcinoma",
    "BKL": "benign keratosis-like lesion",
    "DF": "dermatofibroma",
    "NV": "melanocytic nevus",
    "MEL": "melanoma",
    "VASC": "vascular lesion",
}

# Images per class in the 10,015-image ISIC 2018 Task 3 training set (= HAM10000 ``dx``).
ISIC2018_COUNTS: dict[str, int] = {
    "AKIEC": 327,
    "BCC": 514,
    "BKL": 1099,
    "DF": 115,
    "NV": 6705,
    "MEL": 1113,
    "VASC": 142,
}

# Column order of ``ISIC2018_Task3_Training_GroundTruth.csv`` after its ``image`` column.
GROUND_TRUTH_COLUMNS: tuple[str, ...] = ("MEL", "NV", "BCC", "AKIEC", "BKL", "DF", "VASC")

_ALIASES: dict[str, tuple[str, ...]] = {
    "AKIEC": (
        "akiec",
        "ak",
        "actinic keratosis",
        "actinic keratoses",
        "actinic keratoses and intraepithelial carcinoma",
        "actinic keratosis intraepithelial carcinoma",
        "intraepithelial carcinoma",
        "bowens disease",
    ),
    "BCC": ("bcc", "basal cell carcinoma", "basal cell carcinomas"),
    "BKL": (
        "bkl",
        "benign keratosis",
        "benign keratoses",
        "benign keratosis like lesion",
        "benign keratosis like lesions",
        "pigmented benign keratosis",
    ),
    "DF": ("df", "dermatofibroma", "dermatofibromas"),
    "NV": (
        "nv",
        "nevus",
        "nevi",
        "naevus",
        "naevi",
        "melanocytic nevus",
        "melanocytic nevi",
        "melanocytic naevus",
        "melanocytic naevi",
    ),
    "MEL": ("mel", "melanoma", "melanomas"),
    "VASC": ("vasc", "vascular", "vascular lesion", "vascular lesions"),
}

_LOOKUP: dict[str, str] = {alias: code for code, aliases in _ALIASES.items() for alias in aliases}


def _normalise(name: str) -> str:
    """Lower case, separators and punctuation to single spaces: ``Melanocytic_Nevi`` -> ``melanocytic nevi``."""
    return " ".join(re.split(r"[^a-z0-9]+", name.lower())).strip()


def parse_category(name: str) -> str | None:
    """The category code for a code, a HAM10000 ``dx`` or a full name (any case); ``None`` if unknown."""
    return _LOOKUP.get(_normalise(name))


def require_category(name: str) -> str:
    """Like :func:`parse_category`, but an unknown name is a user error listing the valid codes."""
    code = parse_category(name)
    if code is None:
        raise SlbenchError(f"unknown lesion category {name!r}: use one of {', '.join(CATEGORIES)}")
    return code
