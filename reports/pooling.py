"""Pooling runs of separately trained models into one result per model: the mean over training runs.

One training run per model ranks runs, not models: on a small lesion class a GAN's FID can move
several-fold from one training seed, or one checkpoint, to the next. :func:`pool_runs` takes the
results of ``slbench run`` on two or more sets of checkpoints trained the same way with different
seeds and gives, per (model, category, metric), the mean over the runs as the value, the sample
standard deviation over the runs as ``std`` and Student's t 95% interval of the mean as the
interval, so a table of the pooled rows says how far apart models are against how far training
runs of one model are apart.

Pooling refuses what would not be one comparison: runs evaluated with different settings, runs
whose rows differ, a model trained for different budgets in different runs, and one checkpoint
counted twice. Runs that chose each checkpoint from its training track (``slbench run --select
best:METRIC``) may have chosen different steps: the pooled row then has the mean of the chosen
checkpoints' kimg, no single step, and the caption lists the steps of every run. It pools ``slbench run`` (quality) results only: utility results already average
their classifiers over seeds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from reports.intervals import INTERVAL_LEVEL, mean_interval, mean_std
from reports.real_sides import SIDE_TEXT
from reports.results import ROW_KEY, ResultSet, ResultsError, normalise_row, sort_rows, unique_labels
from reports.training_data import TRAINING_DATA_KEY, describe_training_data

PER_RUN_SETTINGS = ("checkpoints", "checkpoint_sha256", "selection")
"""Settings each run has its own of (what it evaluated); the pooled set keeps them per run."""

UNCOMPARED_SETTINGS = (*PER_RUN_SETTINGS, "data")
"""Settings that may differ between pooled runs: where the dataset lay may (its fingerprint, which
must agree, says whether it was the same); the pooled set names the first run's."""

PER_RUN_PROVENANCE = ("pairs", "timings_s", "packages")
"""Provenance each run has its own of; the pooled set keeps them per run under ``pooled_runs``.

The pooled settings say under ``pooling`` which runs were pooled, the training seed of each
model's checkpoint in each, and the interval: :func:`pooling_note` is the captions' sentence."""



@dataclass(frozen=True)
class PooledRuns:
    """The pooled rows with the settings and provenance to store beside them."""

    rows: list[dict[str, Any]]
    settings: dict[str, Any]
    provenance: dict[str, Any]


def pool_runs(runs: Sequence[ResultSet], *, bounds: Mapping[str, tuple[float, float]] | None = None) -> PooledRuns:
    """The mean over ``runs`` of every result row, its spread and interval over the runs.

    ``bounds`` maps a metric to the values it can take (precision lies in [0, 1], FID is never
    negative); its intervals are clipped to them, as the runs' own intervals are. Raises
    :class:`reports.results.ResultsError` naming what keeps the runs from being pooled."""
    runs = [single for run in runs for single in run.runs()]
    if len(runs) < 2:
        raise ResultsError(f"pooling needs results of at least two training runs, got {len(runs)}; "
                           "train each model again with another --seed and `slbench run` its checkpoints")
    labels = unique_labels([run.label or f"run-{index + 1}" for index, run in enumerate(runs)])
    for run, label in zip(runs, labels):
        _check_is_quality_run(run, label)
    settings = _shared_settings(runs, labels)
    rows_by_run = [{tuple(row[column] for column in ROW_KEY): row for row in run.rows.to_dict("records")}
                   for run in runs]
    _check_same_rows(rows_by_run, labels)
    _check_distinct_checkpoints(runs, labels)
    seeds = _training_seeds(runs)
    selections = _pooled_selections(runs)
    model, category, metric = (ROW_KEY.index(name) for name in ("model", "category", "metric"))
    pooled = [_pooled_row([rows[key] for rows in rows_by_run], labels, (bounds or {}).get(key[metric]),
                          selected=f"{key[model]}/{key[category]}" in selections)
              for key in rows_by_run[0]]
    if selections:
        settings["selection"] = selections
    settings["pooling"] = {"runs": list(labels), "training_seeds": seeds, "interval": f"t {INTERVAL_LEVEL:.0%}"}
    return PooledRuns(rows=sort_rows(pooled), settings=settings, provenance=_pooled_provenance(runs, labels, seeds))


def _check_is_quality_run(run: ResultSet, label: str) -> None:
    tables = set(run.rows["table"])
    if not tables:
        raise ResultsError(f"{label} holds no result rows; nothing to pool")
    if tables != {"quality"}:
        raise ResultsError(f"{label} holds {', '.join(sorted(tables - {'quality'}))} results; pooling takes "
                           "`slbench run` results only (utility results already average over seeds)")


def _shared_settings(runs: Sequence[ResultSet], labels: Sequence[str]) -> dict[str, Any]:
    """The evaluation settings every run shares, or an error naming the first that differs."""
    first = runs[0].settings
    if not first:
        raise ResultsError(f"{labels[0]} records no settings (metrics.json is missing); pool complete results folders")
    for run, label in zip(runs[1:], labels[1:]):
        keys = sorted((set(first) | set(run.settings)) - set(UNCOMPARED_SETTINGS))
        differing = [key for key in keys if first.get(key) != run.settings.get(key)]
        if TRAINING_DATA_KEY in differing:
            raise ResultsError(_training_data_difference(first, run.settings, labels[0], label))
        if differing:
            key = differing[0]
            raise ResultsError(f"{labels[0]} and {label} were evaluated differently ({key} {first.get(key)!r} "
                               f"against {run.settings.get(key)!r}); pool runs of one `slbench run` command "
                               "on checkpoints of different training seeds")
    shared = {key: value for key, value in first.items() if key not in PER_RUN_SETTINGS}
    return {**shared, "command": "pool"}


def _training_data_difference(first: Mapping[str, Any], other: Mapping[str, Any], first_label: str, label: str) -> str:
    """Which model of the two runs was trained on other real images, and on what."""
    ours, theirs = first.get(TRAINING_DATA_KEY) or {}, other.get(TRAINING_DATA_KEY) or {}
    key = next(key for key in sorted(set(ours) | set(theirs)) if ours.get(key) != theirs.get(key))

    def said(record: Any) -> str:
        return describe_training_data(record) if isinstance(record, Mapping) else "images not recorded"

    return (f"{first_label} and {label} hold checkpoints of {key} trained on different real images ({said(ours.get(key))} "
            f"against {said(theirs.get(key))}); pool runs whose checkpoints differ only in their training seed")


def _check_same_rows(rows_by_run: Sequence[Mapping[tuple, dict]], labels: Sequence[str]) -> None:
    first = set(rows_by_run[0])
    for rows, label in zip(rows_by_run[1:], labels[1:]):
        missing, extra = first - set(rows), set(rows) - first
        if missing or extra:
            key = sorted(missing or extra)[0]
            described = ", ".join(f"{column}={value}" for column, value in zip(ROW_KEY, key))
            holder, lacking = (labels[0], label) if missing else (label, labels[0])
            raise ResultsError(f"{holder} has a result that {lacking} lacks ({described}); pool runs of the same "
                               "models, categories and metrics")


def _check_distinct_checkpoints(runs: Sequence[ResultSet], labels: Sequence[str]) -> None:
    seen: dict[tuple[str, str], str] = {}
    for run, label in zip(runs, labels):
        for pair, sha in (run.settings.get("checkpoint_sha256") or {}).items():
            if (pair, sha) in seen:
                raise ResultsError(f"{seen[(pair, sha)]} and {label} evaluated the same {pair} checkpoint; "
                                   "pool runs of separately trained models (each its own --seed)")
            seen[(pair, sha)] = label


def _pooled_selections(runs: Sequence[ResultSet]) -> dict[str, dict[str, Any]]:
    """``model/category`` -> one record of the steps every run chose from its track, for the
    pairs every run chose (``slbench run --select best:METRIC``), as the reports' captions read it."""
    records = [run.settings.get("selection") or {} for run in runs]
    pooled = {}
    for pair in sorted(set.intersection(*(set(record) for record in records))):
        chosen = [record[pair] for record in records]
        steps = ", ".join(str(record.get("step", "?")) for record in chosen)
        kimgs = [float(record["kimg"]) for record in chosen if isinstance(record.get("kimg"), (int, float))]
        sides = {key: {str(record.get(key, "all")) for record in chosen} for key in ("selection_set", "reported_on")}
        selection_set, reported_on = (values.pop() if len(values) == 1 else "mixed" for values in sides.values())
        kimg = f" ({sum(kimgs) / len(kimgs):.2f} kimg on average)" if len(kimgs) == len(chosen) else ""
        pooled[pair] = {
            "rule": chosen[0].get("rule"), "steps": [record.get("step") for record in chosen],
            "selection_set": selection_set, "reported_on": reported_on,
            "optimistic": any(record.get("optimistic", True) for record in chosen),
            "reason": (f"{chosen[0].get('rule')} of each run's own track, steps {steps}{kimg}, selected on "
                       f"{SIDE_TEXT.get(selection_set, 'images that differ between runs')}, reported on "
                       f"{SIDE_TEXT.get(reported_on, 'images that differ between runs')}"),
        }
    return pooled


def _training_seeds(runs: Sequence[ResultSet]) -> dict[str, list[int | None]]:
    """``model/category`` -> the training seed of its checkpoint in each run (None when unrecorded)."""
    seeds: dict[str, list[int | None]] = {}
    for index, run in enumerate(runs):
        for pair, record in (run.provenance.get("pairs") or {}).items():
            metadata = (record.get("checkpoint") or {}).get("metadata") or {}
            seed = metadata.get("seed")
            seeds.setdefault(pair, [None] * len(runs))[index] = seed if isinstance(seed, int) else None
    return seeds


def _pooled_row(rows: Sequence[dict], labels: Sequence[str], bounds: tuple[float, float] | None, *,
                selected: bool) -> dict[str, Any]:
    """One pooled row; ``selected``: every run chose the pair's step from its track, so the steps may differ."""
    first = rows[0]
    pair = f"{first['model']}/{first['category']}"
    for column in ("stage", "n_real", "n_fake") if selected else ("step", "kimg", "stage", "n_real", "n_fake"):
        values = [_comparable(row[column]) for row in rows]
        if len(set(values)) > 1:
            shown = ", ".join(f"{label} {value}" for label, value in zip(labels, values))
            raise ResultsError(f"{pair} {first['metric']}: the runs differ in {column} ({shown}); pool runs whose "
                               "checkpoints were trained for the same budget (`slbench train --kimg K`) and "
                               "evaluated on as many images")
    values = [row["value"] for row in rows]
    mean, spread = mean_std(values)
    ci_low, ci_high = mean_interval(values, bounds or (-math.inf, math.inf))
    notes = list(dict.fromkeys(row["note"] for row in rows if row["note"]))
    steps, kimgs = {_comparable(row["step"]) for row in rows}, {_comparable(row["kimg"]) for row in rows}
    return normalise_row({
        **{column: first[column] for column in first if column != "run"},
        "step": steps.pop() if len(steps) == 1 else None,
        "kimg": kimgs.pop() if len(kimgs) == 1 else float(np.mean([row["kimg"] for row in rows])),
        "value": mean,
        "std": spread,
        "ci_low": ci_low,
        "ci_high": ci_high,
        "low_reliability": any(bool(row["low_reliability"]) for row in rows),
        "note": "; ".join(notes),
    }, f"pooled {pair} {first['metric']}")


def pooling_note(settings: Mapping[str, Any]) -> str:
    """The caption sentence of a pooled run's values: how many runs, which training seeds, which
    interval; empty for a run that pooled nothing."""
    pooling = settings.get("pooling")
    if not isinstance(pooling, Mapping):
        return ""
    runs = len(pooling.get("runs") or ())
    seeds = {pair: ", ".join("?" if seed is None else str(seed) for seed in values)
             for pair, values in sorted((pooling.get("training_seeds") or {}).items())}
    if len(set(seeds.values())) == 1:
        seeds_text = f"training seeds {next(iter(seeds.values()))}"
    else:
        seeds_text = "training seeds " + "; ".join(f"{pair} {text}" for pair, text in seeds.items())
    return (f"Values: the mean of {runs} training runs of each model ({seeds_text}); ± half-width of the "
            f"{pooling.get('interval', 't 95%')} interval of that mean over the runs (the runs' own intervals, "
            "which resample only generated images, are left out).")


def _comparable(value: Any) -> Any:
    """A cell as a value that compares equal across runs (pandas' missing values as None)."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    return value


def _pooled_provenance(runs: Sequence[ResultSet], labels: Sequence[str], seeds: Mapping[str, list]) -> dict[str, Any]:
    shared = {key: value for key, value in runs[0].provenance.items() if key not in PER_RUN_PROVENANCE}
    per_run = {}
    for index, (run, label) in enumerate(zip(runs, labels)):
        pairs = {pair: {"checkpoint": (run.settings.get("checkpoints") or {}).get(pair),
                        "checkpoint_sha256": (run.settings.get("checkpoint_sha256") or {}).get(pair),
                        "training_seed": seeds.get(pair, [None] * len(runs))[index]}
                 for pair in sorted(set(run.settings.get("checkpoints") or {}) | set(seeds))}
        per_run[label] = {"folder": str(run.folder) if run.folder is not None else None,
                          "data": run.settings.get("data"), "selection": run.settings.get("selection") or {},
                          "packages": run.provenance.get("packages"), "pairs": pairs}
    return {**shared, "pooled_runs": per_run}
