"""The finished (arm, seed) results of a utility run, kept on disk as each one ends.

A utility run trains one classifier per arm and seed, which takes minutes each on a CPU. Each
finished one is added to ``utility-seeds.json`` in the results folder at once (an atomic
rewrite), together with the settings that decide its numbers. ``slbench utility --resume``
reads the file back, refuses it when those settings differ, and trains only what is missing;
since every (arm, seed) is seeded on its own, the finished folder is the same as that of an
uninterrupted run. The file stays in the finished folder as the record of every seed.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from generators.folder_lock import LOCK_NAME
from generators.safe_io import atomic_write_text, is_partial_write
from reports.schema import METRICS_CSV, METRICS_JSON
from slbench.errors import SlbenchError
from slbench.utility.scores import ClassificationScores

SEEDS_FILE = "utility-seeds.json"
FORMAT_VERSION = 1
# Everything that changes a classifier's scores; paths are left out, so a run resumed from
# another working folder (or with the data moved) still matches on the fingerprints.
RESUME_KEYS = (
    "data_fingerprint", "checkpoint_sha256", "models", "categories", "classes", "synthetic_per_class", "balance",
    "seeds", "resolution", "split_seed", "test_fraction", "classifier", "classifier_weights_sha256", "device",
)
RESULT_FILES = (SEEDS_FILE, METRICS_CSV, METRICS_JSON, LOCK_NAME)


@dataclass(frozen=True)
class SeedResult:
    """The scores of one arm's classifier for one seed and the make-up of its training set."""

    scores: ClassificationScores
    real_counts: dict[str, int]
    synthetic_counts: dict[str, int]

    def to_json(self) -> dict[str, Any]:
        return {"scores": dataclasses.asdict(self.scores), "real_counts": self.real_counts,
                "synthetic_counts": self.synthetic_counts}

    @classmethod
    def from_json(cls, record: dict[str, Any]) -> "SeedResult":
        scores = dict(record["scores"])
        scores["undefined"] = tuple(scores.get("undefined", ()))
        return cls(ClassificationScores(**scores), dict(record["real_counts"]), dict(record["synthetic_counts"]))


@dataclass
class SavedSeeds:
    """Finished results keyed by (arm, seed); :meth:`add` writes the file after each one."""

    folder: Path
    settings: dict[str, Any]
    results: dict[tuple[str, int], SeedResult] = field(default_factory=dict)

    def add(self, arm: str, seed: int, result: SeedResult) -> None:
        self.results[(arm, seed)] = result
        self.write()

    def write(self) -> None:
        # in (arm, seed) order, whatever order they finished in (ranks, resumed runs)
        records = [{"arm": arm, "seed": seed, **result.to_json()}
                   for (arm, seed), result in sorted(self.results.items())]
        document = {"format_version": FORMAT_VERSION, "settings": self.settings, "results": records}
        atomic_write_text(self.folder / SEEDS_FILE, json.dumps(document, indent=2, sort_keys=True) + "\n")


def open_saved(folder: Path, settings: dict[str, Any], *, resume: bool) -> SavedSeeds:
    """The saved results of ``folder``: none for a new run, the stored ones when resuming.

    Call it while holding the folder's lock. A resumed folder whose settings differ from
    ``settings`` in any of :data:`RESUME_KEYS` is refused, naming the settings that differ.
    """
    path = folder / SEEDS_FILE
    if not resume or not path.is_file():
        return SavedSeeds(folder, settings)
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        stored, records = document["settings"], document["results"]
        results = {(r["arm"], int(r["seed"])): SeedResult.from_json(r) for r in records}
    except (ValueError, KeyError, TypeError, AttributeError) as err:
        raise SlbenchError(f"cannot resume from {path}: it is not a utility results file slbench wrote ({err}); "
                           "start a new run with another --out") from None
    differing = [key for key in RESUME_KEYS if stored.get(key) != settings.get(key)]
    if differing:
        raise SlbenchError(f"cannot resume {folder}: it was run with other {', '.join(differing)}; "
                           "repeat the original options, or start a new run with another --out")
    return SavedSeeds(folder, settings, results)


def check_out_folder(folder: Path, *, resume: bool) -> None:
    """Refuse a results folder that holds anything but a utility run (or, without ``resume``, holds one)."""
    if not folder.exists():
        return
    if not folder.is_dir():
        raise SlbenchError(f"{folder} is a file; give a folder for the results with --out")
    names = [entry.name for entry in folder.iterdir() if not is_partial_write(entry)]
    others = sorted(name for name in names if name not in RESULT_FILES)
    if others:
        shown = ", ".join(others[:3]) + (", ..." if len(others) > 3 else "")
        raise SlbenchError(f"{folder} already holds other files ({shown}); give an empty or new folder with --out")
    if not resume and _holds_results(names):
        raise SlbenchError(f"{folder} holds a utility run; add --resume to continue it, or choose another --out")
    if resume and _holds_results(names) and SEEDS_FILE not in names:
        raise SlbenchError(f"cannot resume {folder}: it has no {SEEDS_FILE}; start a new run with another --out")


def _holds_results(names: Iterable[str]) -> bool:
    return any(name != LOCK_NAME for name in names)
