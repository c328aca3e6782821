"""Training tracks: every metric at every evaluated step of one model's training on one class.

A track folder (by default the checkpoint folder itself) holds:

``track.csv``
    Tidy: one row per (step, metric) with the columns of :data:`TRACK_COLUMNS`. A step whose
    checkpoint could not be evaluated has one row with an empty metric, ``status``
    ``unreadable`` or ``non-finite`` and the reason; a metric whose value is not finite has
    ``status`` ``non-finite``. The rows are the record: a command that resumes a track reads
    them back, so deleting rows makes those steps be evaluated again.
``track.json``
    ``{"schema_version": 1, "settings": {...}, "provenance": {...}}``: what every step was
    evaluated with (model, class, data, extractor, N, seed, resolution) and, per step, the
    checkpoint's sha256 and metadata and the timings.

Both files are rewritten whole and atomically after every step, so an interrupted track keeps
every finished step. ``reports`` reads tracks for the curves of the HTML report; it does not
import ``slbench``, so the format lives here.
"""

from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping

from reports.files import atomic_write_text
from reports.reading import RefusedFile, read_inside
from reports.names import metric_sort_key

TRACK_CSV = "track.csv"
TRACK_JSON = "track.json"
TRACK_SCHEMA_VERSION = 1

TRACK_COLUMNS = (
    "step",  # training step of the checkpoint
    "kimg",  # thousands of real images the discriminator had seen by then
    "metric",  # metric name; empty on the single row of a step that could not be evaluated
    "value",
    "ci_low",  # bootstrap interval, empty when none was computed
    "ci_high",
    "higher_is_better",
    "low_reliability",
    "status",  # ok, unreadable (checkpoint missing, corrupt or refused) or non-finite
    "reason",  # why a row is not ok
)
STATUS_OK = "ok"
STATUS_UNREADABLE = "unreadable"
STATUS_NON_FINITE = "non-finite"
STATUSES = (STATUS_OK, STATUS_UNREADABLE, STATUS_NON_FINITE)
_FLOATS = ("kimg", "value", "ci_low", "ci_high")
_BOOLS = ("higher_is_better", "low_reliability")


class TrackError(ValueError):
    """A track folder or file that cannot be read or written as a track."""


@dataclass(frozen=True)
class Track:
    """One track as stored: its rows (by step, then metric), settings and provenance."""

    rows: tuple[dict[str, Any], ...]
    settings: dict[str, Any]
    provenance: dict[str, Any]
    folder: Path

    @property
    def model(self) -> str:
        return str(self.settings.get("model", ""))

    @property
    def category(self) -> str:
        return str(self.settings.get("category", ""))

    def steps(self) -> list[int]:
        """Every step the track holds a row for, evaluated or not, ascending."""
        return sorted({row["step"] for row in self.rows})

    def values(self, metric: str) -> list[dict[str, Any]]:
        """The ``ok`` rows of one metric, by step."""
        return [row for row in self.rows if row["metric"] == metric and row["status"] == STATUS_OK]

    def metrics(self) -> list[str]:
        return sorted({row["metric"] for row in self.rows if row["metric"]}, key=metric_sort_key)

    def stages(self) -> dict[int, str]:
        """The growth stage of every step sampled before its network finished growing."""
        return growth_stages(self.provenance)


def growth_stages(provenance: Mapping[str, Any]) -> dict[int, str]:
    """Per step, the growth stage its checkpoint was sampled at (``"16 px, fade-in 0.50"``), for
    the steps whose record in ``provenance["steps"]`` names one: a StyleGAN saved mid-growth is
    measured as a smaller network upscaled, and its values jump where a new block fades in."""
    steps = provenance.get("steps") if isinstance(provenance, Mapping) else None
    if not isinstance(steps, Mapping):
        return {}
    return {int(step): str(record["stage"]) for step, record in steps.items()
            if str(step).isdigit() and isinstance(record, Mapping) and record.get("stage")}


def track_row(step: int, kimg: float, metric: str, value: float, *, ci: tuple[float, float] = (math.nan, math.nan),
              higher_is_better: bool = False, low_reliability: bool = False, status: str = STATUS_OK,
              reason: str = "") -> dict[str, Any]:
    """One row of ``track.csv``."""
    return {"step": int(step), "kimg": float(kimg), "metric": metric, "value": float(value),
            "ci_low": float(ci[0]), "ci_high": float(ci[1]), "higher_is_better": bool(higher_is_better),
            "low_reliability": bool(low_reliability), "status": status, "reason": reason}


def sort_track_rows(rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    return sorted((dict(row) for row in rows), key=lambda row: (row["step"], metric_sort_key(row["metric"] or "")))


def write_track(folder: str | Path, rows: Iterable[Mapping[str, Any]], *, settings: Mapping[str, Any],
                provenance: Mapping[str, Any]) -> Path:
    """Write ``track.csv`` then ``track.json`` atomically into ``folder``; returns the folder."""
    folder = Path(folder)
    clean = sort_track_rows(_check_row(row, f"row {index}") for index, row in enumerate(rows))
    seen: set[tuple[int, str]] = set()
    for row in clean:
        key = (row["step"], row["metric"])
        if key in seen:
            raise TrackError(f"duplicate track row for step {row['step']}, metric {row['metric'] or '(none)'}")
        seen.add(key)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(TRACK_COLUMNS)
    for row in clean:
        writer.writerow([_csv_cell(row[column]) for column in TRACK_COLUMNS])
    document = {"schema_version": TRACK_SCHEMA_VERSION, "settings": _jsonable(settings),
                "provenance": _jsonable(provenance)}
    atomic_write_text(folder / TRACK_CSV, buffer.getvalue())
    atomic_write_text(folder / TRACK_JSON, json.dumps(document, indent=2, sort_keys=True, allow_nan=False) + "\n")
    return folder


def has_track(folder: str | Path) -> bool:
    folder = Path(folder)
    return (folder / TRACK_JSON).is_file() and (folder / TRACK_CSV).is_file()


def load_track(path: str | Path) -> Track:
    """Read a track folder (or its ``track.csv``/``track.json``)."""
    folder = Path(path)
    if folder.is_file() and folder.name in (TRACK_CSV, TRACK_JSON):
        folder = folder.parent
    if not has_track(folder):
        raise TrackError(f"{folder} holds no track ({TRACK_CSV} and {TRACK_JSON}); write one with `slbench track`")
    document = _read_json(folder, TRACK_JSON)
    try:
        records = list(csv.DictReader(io.StringIO(_read_text(folder, TRACK_CSV))))
    except (UnicodeDecodeError, csv.Error) as err:
        raise TrackError(f"{folder / TRACK_CSV} cannot be read as CSV: {err}") from None
    rows = [_check_row(_parse_record(record, folder / TRACK_CSV, index), f"{folder / TRACK_CSV}: row {index}")
            for index, record in enumerate(records)]
    return Track(tuple(sort_track_rows(rows)), document["settings"], document["provenance"], folder)


def _read_text(folder: Path, name: str) -> str:
    """A track file, read like every results file: only a regular file inside its folder."""
    try:
        return read_inside(folder, folder / name).decode("utf-8")
    except RefusedFile as err:
        raise TrackError(str(err)) from None


def _read_json(folder: Path, name: str) -> dict[str, Any]:
    path = folder / name
    try:
        document = json.loads(_read_text(folder, name))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise TrackError(f"{path} is not valid JSON ({err}); delete the track and evaluate it again") from None
    if not isinstance(document, dict) or not isinstance(document.get("settings"), dict):
        raise TrackError(f"{path} must hold a JSON object with settings and provenance")
    version = document.get("schema_version")
    if not isinstance(version, int) or version > TRACK_SCHEMA_VERSION:
        raise TrackError(f"{path} has schema_version {version!r}; this slbench reads up to {TRACK_SCHEMA_VERSION}")
    document.setdefault("provenance", {})
    return document


def _parse_record(record: dict, path: Path, index: int) -> dict[str, Any]:
    if None in record or set(record) != set(TRACK_COLUMNS):
        raise TrackError(f"{path}: row {index} does not have the columns {', '.join(TRACK_COLUMNS)}")
    parsed: dict[str, Any] = dict(record)
    try:
        parsed["step"] = int(record["step"])
        for column in _FLOATS:
            parsed[column] = float(record[column]) if record[column] != "" else math.nan
    except ValueError:
        raise TrackError(f"{path}: row {index} holds a step or number that is not one") from None
    for column in _BOOLS:
        if record[column] not in ("True", "False"):
            raise TrackError(f"{path}: row {index}, column {column} must be True or False")
        parsed[column] = record[column] == "True"
    return parsed


def _check_row(row: Mapping[str, Any], where: str) -> dict[str, Any]:
    missing = [column for column in TRACK_COLUMNS if column not in row]
    if missing:
        raise TrackError(f"{where}: missing column(s) {', '.join(missing)}")
    if row["status"] not in STATUSES:
        raise TrackError(f"{where}: status {row['status']!r} is not one of {', '.join(STATUSES)}")
    if row["status"] == STATUS_OK and not (row["metric"] and math.isfinite(row["value"])):
        raise TrackError(f"{where}: an ok row needs a metric and a finite value")
    return {column: row[column] for column in TRACK_COLUMNS}


def _csv_cell(value: Any) -> str:
    if isinstance(value, float):
        return "" if math.isnan(value) else repr(value)
    return str(value)


def _jsonable(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(key): _jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(item) for item in value]
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if value is None or isinstance(value, (str, int, bool)):
        return value
    return str(value)
