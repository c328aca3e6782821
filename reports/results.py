"""Writing, reading and combining results folders (format: :mod:`reports.schema`).

``slbench run`` and ``slbench utility`` store their rows with :func:`write_results`; every
report is rendered from :func:`load_results` alone, so a report can be rebuilt later, on
another machine, without a model or a GPU. Rows are validated on the way in and on the way
out, and stored in a stable order, so the same results always give byte-identical files.
"""

from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any, Iterable, Mapping

import numpy as np
import pandas as pd

from reports.files import atomic_write_text
from reports.names import category_sort_key, metric_sort_key, model_sort_key
from reports.reading import MissingFile, RefusedFile, read_inside
from reports.schema import BUDGET_COLUMNS, COLUMNS, METRICS_CSV, METRICS_JSON, PROTOCOL_COLUMN, SCHEMA_VERSION, TABLES

TEXT_COLUMNS = ("table", "model", "category", "metric", "features")
OPTIONAL_TEXT_COLUMNS = ("stage", "note", "protocol")
FLOAT_COLUMNS = ("value", "ci_low", "ci_high", "std", "kimg")
INT_COLUMNS = ("n_real", "n_fake", "resolution", "seed", "step")
BOOL_COLUMNS = ("higher_is_better", "low_reliability")
ROW_KEY = ("table", "protocol", "model", "category", "metric", "features", "resolution")
"""What identifies a row: two rows with the same key would fight for one table cell."""


class ResultsError(ValueError):
    """A results folder, file or row that cannot be read or written as results."""


@dataclass(frozen=True, eq=False)
class ResultSet:
    """One results folder as loaded, or several combined with :func:`combine`.

    ``artifacts`` paths are relative to ``folder``; a combined set has ``folder=None``,
    absolute artifact paths with the folder of the run that recorded each in
    ``artifact_folders``, ``settings``/``provenance`` keyed by run label, and its runs in
    ``sources``.
    """

    rows: pd.DataFrame
    settings: dict
    provenance: dict
    artifacts: dict[str, dict[str, str]]
    folder: Path | None
    label: str = ""
    sources: tuple["ResultSet", ...] = field(default=())
    artifact_folders: dict[tuple[str, str], Path] = field(default_factory=dict)
    filled_columns: tuple[str, ...] = ()  # columns the stored results lacked, filled as unknown

    @property
    def budget_unrecorded(self) -> tuple[str, ...]:
        """Labels of the runs written before training budgets were recorded."""
        return tuple(run.label for run in self.runs() if run.filled_columns)

    def artifact_path(self, kind: str, key: str) -> Path | None:
        """The file of one artifact (e.g. ``("samples", "dcgan/MEL")``), or ``None`` if not recorded."""
        relative = self.artifacts.get(kind, {}).get(key)
        if relative is None:
            return None
        return (self.folder / relative) if self.folder is not None else Path(relative)

    def read_artifact(self, kind: str, key: str) -> bytes | None:
        """The bytes of one artifact, ``None`` if not recorded.

        Read only as a regular file inside the results folder that recorded it: raises
        :class:`reports.reading.MissingFile` when it is gone and :class:`ResultsError` when it
        is refused (a link leading out of the folder, a FIFO, a device, an oversized file).
        """
        path = self.artifact_path(kind, key)
        if path is None:
            return None
        folder = self.folder if self.folder is not None else self.artifact_folders[(kind, key)]
        try:
            return read_inside(folder, path)
        except MissingFile:
            raise
        except RefusedFile as err:
            raise ResultsError(f"{err}; remove it or put the image file itself there") from None

    def runs(self) -> tuple["ResultSet", ...]:
        """The single runs behind this set (itself when it was loaded from one folder)."""
        return self.sources or (self,)


def write_results(
    folder: str | Path,
    rows: list[dict],
    *,
    settings: dict,
    provenance: dict,
    artifacts: dict,
) -> Path:
    """Validate ``rows`` and write ``metrics.csv`` and ``metrics.json`` atomically into ``folder``.

    Raises :class:`ResultsError` (a ``ValueError``) naming the first problem: a missing or
    unknown column, a value of the wrong type, a duplicate row, an artifact path outside the
    folder. Returns the folder.
    """
    folder = Path(folder)
    clean = sort_rows([normalise_row(row, f"row {index}") for index, row in enumerate(rows)])
    check_unique(clean, "rows")
    document = {
        "schema_version": SCHEMA_VERSION,
        "rows": [_json_row(row) for row in clean],
        "settings": _jsonable(_require_mapping(settings, "settings")),
        "provenance": _jsonable(_require_mapping(provenance, "provenance")),
        "artifacts": validate_artifacts(artifacts, "artifacts"),
    }
    atomic_write_text(folder / METRICS_CSV, rows_to_csv(clean))
    atomic_write_text(folder / METRICS_JSON, json.dumps(document, indent=2, sort_keys=True, allow_nan=False) + "\n")
    return folder


def load_results(folder: str | Path) -> ResultSet:
    """Read a results folder (or its ``metrics.json``/``metrics.csv``) into a :class:`ResultSet`.

    ``metrics.json`` is the full record; a folder holding only ``metrics.csv`` loads with empty
    settings, provenance and artifacts. Raises :class:`ResultsError` for a folder without
    results and for a malformed file, naming the file and what is wrong with it.
    """
    folder = Path(folder)
    if folder.is_file() and folder.name in (METRICS_JSON, METRICS_CSV):
        folder = folder.parent
    if not folder.is_dir():
        raise ResultsError(f"results folder {folder} does not exist")
    json_path, csv_path = folder / METRICS_JSON, folder / METRICS_CSV
    if json_path.exists():
        source = json_path
        document = _read_json_document(folder, json_path)
        raw_rows = document["rows"]
        filled = BUDGET_COLUMNS if document["schema_version"] < 2 else ()
    elif csv_path.exists():
        source = csv_path
        document = {"settings": {}, "provenance": {}, "artifacts": {}}
        raw_rows, filled = _read_csv_rows(folder, csv_path)
    else:
        raise ResultsError(f"{folder} holds no results: neither {METRICS_JSON} nor {METRICS_CSV} is there")
    raw_rows = [_fill_unknown(row, filled) for row in raw_rows]
    clean = [normalise_row(row, f"{source}: row {index}") for index, row in enumerate(raw_rows)]
    check_unique(clean, str(source))
    return ResultSet(
        rows=rows_frame(sort_rows(clean)),
        settings=document["settings"],
        provenance=document["provenance"],
        artifacts=document["artifacts"],
        folder=folder,
        label=folder.resolve().name,
        filled_columns=tuple(filled),
    )


def _fill_unknown(row: Any, columns: tuple[str, ...]) -> Any:
    """A row of older results with the columns it predates set to unknown (``None``)."""
    if not columns or not isinstance(row, Mapping):
        return row
    return {**{column: None for column in columns}, **row}


def combine(result_sets: Iterable[ResultSet]) -> ResultSet:
    """Merge several runs into one set: the union of their rows, tagged with a ``run`` column.

    When two runs hold the same (table, model, category, metric, features, resolution), the
    model is shown as ``"<model> [<run>]"`` in both, so neither value is lost.
    """
    runs = [run for result_set in result_sets for run in result_set.runs()]
    if not runs:
        raise ResultsError("no results to combine: give at least one results folder")
    if len(runs) == 1:
        return runs[0]
    labels = unique_labels([run.label or f"run-{index + 1}" for index, run in enumerate(runs)])
    renames = _colliding_models(runs, labels)
    frames, artifacts, artifact_folders = [], {}, {}
    for run, label in zip(runs, labels):
        rename = renames.get(label, {})
        frame = run.rows.copy()
        frame["model"] = frame["model"].map(lambda model: rename.get(model, model))
        frame["run"] = label
        frames.append(frame)
        _merge_artifacts(artifacts, artifact_folders, run, rename)
    merged = sort_rows(pd.concat(frames, ignore_index=True).to_dict("records"))
    return ResultSet(
        rows=rows_frame(merged, extra=("run",)),
        settings={label: run.settings for run, label in zip(runs, labels)},
        provenance={label: run.provenance for run, label in zip(runs, labels)},
        artifacts=artifacts,
        folder=None,
        label=" + ".join(labels),
        sources=tuple(runs),
        artifact_folders=artifact_folders,
    )


def normalise_row(row: Mapping[str, Any], where: str) -> dict:
    """Check one row against :data:`reports.schema.COLUMNS` and coerce its values to plain types."""
    if not isinstance(row, Mapping):
        raise ResultsError(f"{where}: a result row must be a mapping of column to value, got {type(row).__name__}")
    row = {PROTOCOL_COLUMN: "", **row}  # rows of older results, and of commands without protocols, name none
    missing = [column for column in COLUMNS if column not in row]
    if missing:
        raise ResultsError(f"{where}: missing column(s) {', '.join(missing)}")
    unknown = sorted(str(column) for column in row if column not in COLUMNS)
    if unknown:
        raise ResultsError(f"{where}: unknown column(s) {', '.join(unknown)}; valid columns: {', '.join(COLUMNS)}")
    clean: dict[str, Any] = {}
    for column in COLUMNS:
        clean[column] = _coerce(column, row[column], where)
    if clean["table"] not in TABLES:
        raise ResultsError(f"{where}: table {clean['table']!r} is not one of {', '.join(TABLES)}")
    if math.isnan(clean["ci_low"]) != math.isnan(clean["ci_high"]):
        raise ResultsError(f"{where}: ci_low and ci_high must both be given or both be empty")
    if clean["ci_low"] > clean["ci_high"]:
        raise ResultsError(f"{where}: ci_low {clean['ci_low']} is above ci_high {clean['ci_high']}")
    return clean


def _coerce(column: str, value: Any, where: str) -> Any:
    if column in TEXT_COLUMNS:
        if not isinstance(value, str) or not value.strip():
            raise ResultsError(f"{where}: column {column} must be a non-empty string, got {value!r}")
        return value
    if column in OPTIONAL_TEXT_COLUMNS:
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return ""
        if not isinstance(value, str):
            raise ResultsError(f"{where}: column {column} must be text, got {value!r}")
        return value
    if column in FLOAT_COLUMNS:
        if value is None:
            return math.nan
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
            raise ResultsError(f"{where}: column {column} must be a number, got {value!r}")
        if column == "kimg" and float(value) < 0:
            raise ResultsError(f"{where}: column kimg must be 0 or more, got {value!r}")
        return float(value)
    if column in INT_COLUMNS:
        number = _coerce_int(column, value, where)
        if column == "step" and number is not None and number < 0:
            raise ResultsError(f"{where}: column step must be 0 or more, got {value!r}")
        return number
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    raise ResultsError(f"{where}: column {column} must be true or false, got {value!r}")


def _coerce_int(column: str, value: Any, where: str) -> int | None:
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, (bool, np.bool_)):
        raise ResultsError(f"{where}: column {column} must be a whole number, got {value!r}")
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return int(value)
    raise ResultsError(f"{where}: column {column} must be a whole number, got {value!r}")


def sort_rows(rows: list[dict]) -> list[dict]:
    """Rows in report order: table, protocol, extractor, resolution, model, category, metric."""

    def key(row: dict) -> tuple:
        resolution = row["resolution"]
        return (
            TABLES.index(row["table"]),
            row["protocol"],
            row["features"],
            -1 if resolution is None or resolution is pd.NA else int(resolution),
            model_sort_key(row["model"]),
            category_sort_key(row["category"]),
            metric_sort_key(row["metric"]),
            row.get("run", ""),
        )

    return sorted(rows, key=key)


def check_unique(rows: list[dict], where: str) -> None:
    seen: set[tuple] = set()
    for row in rows:
        key = tuple(row[column] for column in ROW_KEY)
        if key in seen:
            described = ", ".join(f"{column}={row[column]}" for column in ROW_KEY)
            raise ResultsError(f"{where}: duplicate result row ({described})")
        seen.add(key)


def rows_frame(rows: list[dict], extra: tuple[str, ...] = ()) -> pd.DataFrame:
    """Rows as a DataFrame with the schema's columns in order and stable dtypes."""
    frame = pd.DataFrame(rows, columns=list(COLUMNS) + list(extra))
    for column in INT_COLUMNS:
        frame[column] = frame[column].astype("Int64")
    for column in FLOAT_COLUMNS:
        frame[column] = frame[column].astype("float64")
    for column in BOOL_COLUMNS:
        frame[column] = frame[column].astype(bool)
    for column in TEXT_COLUMNS + OPTIONAL_TEXT_COLUMNS + extra:
        frame[column] = frame[column].astype(object)
    return frame


def rows_to_csv(rows: list[dict]) -> str:
    """The tidy CSV: the schema's columns in order; floats written exactly; empty for missing."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow([_csv_cell(row[column]) for column in COLUMNS])
    return buffer.getvalue()


def _csv_cell(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _read_text(folder: Path, path: Path) -> str:
    """A results file's text, read only as a regular file inside its folder (:mod:`reports.reading`)."""
    try:
        return read_inside(folder, path).decode("utf-8")
    except RefusedFile as err:
        raise ResultsError(str(err)) from None


def _read_csv_rows(folder: Path, path: Path) -> tuple[list[dict], tuple[str, ...]]:
    """The parsed rows, and the budget columns the header lacks (a CSV of older results)."""
    try:
        reader = csv.DictReader(io.StringIO(_read_text(folder, path)))
        records = list(reader)
        header = reader.fieldnames or []
    except (UnicodeDecodeError, csv.Error) as err:
        raise ResultsError(f"{path} cannot be read as CSV: {err}") from None
    filled = tuple(column for column in BUDGET_COLUMNS if column not in header)
    return [_parse_csv_record(record, path, index) for index, record in enumerate(records)], filled


def _parse_csv_record(record: dict, path: Path, index: int) -> dict:
    if None in record:
        raise ResultsError(f"{path}: row {index} has more cells than the header")
    parsed: dict[str, Any] = {}
    for column, text in record.items():
        text = "" if text is None else text
        if column in FLOAT_COLUMNS:
            parsed[column] = _parse_number(text, float, path, index, column)
        elif column in INT_COLUMNS:
            parsed[column] = _parse_number(text, int, path, index, column)
        elif column in BOOL_COLUMNS:
            parsed[column] = {"True": True, "False": False}.get(text, text)
        else:
            parsed[column] = text
    return parsed


def _parse_number(text: str, kind: type, path: Path, index: int, column: str) -> Any:
    if text == "":
        return None
    try:
        return kind(text)
    except ValueError:
        raise ResultsError(f"{path}: row {index}, column {column}: {text!r} is not a number") from None


def _read_json_document(folder: Path, path: Path) -> dict:
    try:
        document = json.loads(_read_text(folder, path))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ResultsError(f"{path} is not valid JSON ({err}); rerun the command that wrote it") from None
    except RecursionError:
        raise ResultsError(f"{path} is nested too deeply to be results; rerun the command that wrote it") from None
    if not isinstance(document, dict):
        raise ResultsError(f"{path} must hold a JSON object with schema_version and rows")
    version = document.get("schema_version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise ResultsError(f"{path} has no integer schema_version")
    if version > SCHEMA_VERSION:
        raise ResultsError(
            f"{path} has schema_version {version}; this slbench reads up to {SCHEMA_VERSION}: upgrade slbench"
        )
    if not isinstance(document.get("rows"), list):
        raise ResultsError(f"{path} has no list of rows")
    for name in ("settings", "provenance"):
        document[name] = _require_mapping(document.get(name, {}), f"{path}: {name}")
    document["artifacts"] = validate_artifacts(document.get("artifacts", {}), f"{path}: artifacts")
    return document


def _require_mapping(value: Any, where: str) -> dict:
    if not isinstance(value, Mapping):
        raise ResultsError(f"{where} must be a mapping, got {type(value).__name__}")
    return dict(value)


def validate_artifacts(artifacts: Any, where: str) -> dict[str, dict[str, str]]:
    """Check ``{kind: {key: relative path}}``; a path must stay inside the results folder."""
    artifacts = _require_mapping(artifacts, where)
    clean: dict[str, dict[str, str]] = {}
    for kind, entries in artifacts.items():
        entries = _require_mapping(entries, f"{where}.{kind}")
        clean[str(kind)] = {}
        for key, relative in entries.items():
            if isinstance(relative, Path):
                relative = relative.as_posix()
            if not isinstance(relative, str) or not _is_inside(relative):
                raise ResultsError(
                    f"{where}.{kind}[{key!r}]: {relative!r} must be a path relative to the results folder, inside it"
                )
            clean[str(kind)][str(key)] = relative
    return clean


def _is_inside(relative: str) -> bool:
    posix, windows = PurePosixPath(relative), PureWindowsPath(relative)
    if not relative or posix.is_absolute() or windows.is_absolute() or windows.drive:
        return False
    return ".." not in posix.parts and ".." not in windows.parts


def _json_row(row: dict) -> dict:
    return {column: _jsonable(row[column]) for column in COLUMNS}


def _jsonable(value: Any) -> Any:
    """Plain JSON values: NaN and infinities become null, paths and other objects text."""
    if isinstance(value, Mapping):
        return {str(key): _jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(item) for item in value]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    if value is None or isinstance(value, str):
        return value
    return str(value)


def unique_labels(labels: list[str]) -> list[str]:
    """``labels`` with a repeated one numbered (``seed``, ``seed-2``), so runs of one folder name stay apart."""
    unique = []
    for label in labels:
        candidate, suffix = label, 2
        while candidate in unique:
            candidate, suffix = f"{label}-{suffix}", suffix + 1
        unique.append(candidate)
    return unique


def _colliding_models(runs: list[ResultSet], labels: list[str]) -> dict[str, dict[str, str]]:
    """Per run label, the models to rename because another run holds the same row key."""
    owners: dict[tuple, set[str]] = {}
    for run, label in zip(runs, labels):
        for key in run.rows[list(ROW_KEY)].itertuples(index=False, name=None):
            owners.setdefault(key, set()).add(label)
    renames: dict[str, dict[str, str]] = {}
    for key, holders in owners.items():
        if len(holders) > 1:
            model = key[ROW_KEY.index("model")]
            for label in holders:
                renames.setdefault(label, {})[model] = f"{model} [{label}]"
    return renames


def _merge_artifacts(
    into: dict[str, dict[str, str]], folders: dict[tuple[str, str], Path], run: ResultSet, rename: dict[str, str]
) -> None:
    for kind, entries in run.artifacts.items():
        for key, _ in entries.items():
            model, slash, rest = key.partition("/")
            new_key = f"{rename.get(model, model)}/{rest}" if slash else key
            if new_key not in into.get(kind, {}):
                into.setdefault(kind, {})[new_key] = str(run.artifact_path(kind, key).absolute())
                folders[(kind, new_key)] = run.folder
