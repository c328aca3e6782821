"""The regression gate behind ``slbench check``: is a new checkpoint worse than a stored run?

The candidate checkpoint is evaluated again with exactly the settings the baseline results
recorded (data, feature extractor, number of samples, seed, evaluation resolution), and each
metric is compared with the baseline row of the same model and category, in the direction the
row records (``higher_is_better``).

When is a metric worse "beyond tolerance"? In this order:

1. an explicit ``--tolerance`` for that metric (or a single number for every metric): the
   candidate may be worse than the baseline by that fraction of the baseline's magnitude;
2. otherwise the baseline's confidence interval, where the run computed one: the candidate
   regresses when it falls outside the interval on the worse side. The margin is measured
   from the baseline's estimate, so a candidate equal to the estimate never regresses: an
   interval that does not reach the estimate on one side (results of older runs) allows half
   its width there instead;
3. otherwise the documented default of :data:`DEFAULT_TOLERANCES`: worse by more than
   ``max(relative * |baseline|, absolute)``.

The same rule, mirrored, marks a metric as improved. Metrics that do not depend on the
generator (the real images' own LPIPS diversity) are shown but never judged.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import pandas as pd
import torch

from reports.budgets import BUDGET_TOLERANCE, UNKNOWN_KIMG, Budget, budgets_apart, budgets_from_rows, format_kimg
from reports.measurement_space import settings_measurement_space
from reports.results import ResultSet, ResultsError, load_results
from reports.schema import METRICS_JSON
from reports.tracks import TRACK_CSV, TRACK_JSON, has_track
from reports.training_data import TRAINING_DATA_KEY, describe_training_data
from slbench.console import console, labelled, plain
from slbench.data import Dataset
from slbench.errors import SlbenchError
from slbench.evaluation.checkpoints import CheckpointInfo, read_checkpoint_info
from slbench.evaluation.context import EvaluationContext, LpipsHandle, open_lpips
from slbench.evaluation.pair import evaluate_pair
from slbench.evaluation.real_sides import RealSides, TEST, replayed_sides, trained_on
from slbench.evaluation.runner import open_dataset
from slbench.evaluation.training_images import training_images_record
from slbench.evaluation.protocols import load_extractor, replayed_protocol
from slbench.features.extractor import resolve_device
from slbench.fitted_table import Column, FittedTable
from slbench.metrics import METRICS


@dataclass(frozen=True)
class Tolerance:
    """How much worse than the baseline a metric may get: ``max(relative * |baseline|, absolute)``."""

    relative: float = 0.0
    absolute: float = 0.0

    def allowed(self, baseline: float) -> float:
        return max(self.relative * abs(baseline), self.absolute)

    def describe(self) -> str:
        parts = []
        if self.relative:
            parts.append(f"{self.relative:.0%} relative")
        if self.absolute:
            parts.append(f"{self.absolute:g} absolute")
        return "tolerance " + (" or ".join(parts) if parts else "0")


# Defaults where the baseline has no confidence interval. Distances (FID, KID) vary more between
# training runs than bounded rates, so they get relative room; rates in [0, 1] get absolute room.
DEFAULT_TOLERANCES: dict[str, Tolerance] = {
    "fid": Tolerance(relative=0.10),
    "fid_infinity": Tolerance(relative=0.10),
    "kid": Tolerance(relative=0.25, absolute=0.001),
    "mmd_rbf": Tolerance(relative=0.25, absolute=0.01),
    "cmmd": Tolerance(relative=0.25, absolute=0.01),
    "precision": Tolerance(absolute=0.05),
    "recall": Tolerance(absolute=0.05),
    "density": Tolerance(relative=0.10),
    "coverage": Tolerance(absolute=0.05),
    "memorisation": Tolerance(absolute=0.05),
    "vendi_fake": Tolerance(relative=0.10),
    "vendi_ratio": Tolerance(relative=0.10),
    "prd_f8": Tolerance(absolute=0.05),
    "prd_f1_8": Tolerance(absolute=0.05),
    "class_consistency": Tolerance(absolute=0.05),
    "lpips_fake": Tolerance(relative=0.10),
    "lpips_ratio": Tolerance(relative=0.10),
}
FALLBACK_TOLERANCE = Tolerance(relative=0.10)

# Rows that describe the real data, not the generator: shown, never judged.
REFERENCE_METRICS = frozenset({"lpips_real", "vendi_real", "class_consistency_real"})

VERDICT_OK = "ok"
VERDICT_IMPROVED = "improved"
VERDICT_REGRESSED = "regressed"
VERDICT_REFERENCE = "reference"
VERDICT_NOT_COMPARED = "not compared"
ROUNDING = 1e-9  # relative difference below which two measurements are the same number summed differently


def parse_tolerance(text: str | None) -> float | dict[str, float] | None:
    """``"0.1"`` (every metric) or ``"fid=0.1,kid=0.2"`` (per metric), as relative fractions."""
    if text is None or not text.strip():
        return None
    if "=" not in text:
        return _non_negative(text.strip(), "--tolerance")
    per_metric: dict[str, float] = {}
    for item in text.split(","):
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise SlbenchError(
                f"--tolerance item {item.strip()!r} is not METRIC=FRACTION; write e.g. fid=0.1,kid=0.2 or one number"
            )
        per_metric[name.strip().lower()] = _non_negative(value.strip(), f"--tolerance {name.strip()}")
    return per_metric


def _non_negative(text: str, what: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise SlbenchError(f"{what} value {text!r} is not a number; give a fraction such as 0.1") from None
    if not math.isfinite(value) or value < 0:
        raise SlbenchError(f"{what} value {text!r} must be a finite fraction >= 0, such as 0.1")
    return value


@dataclass(frozen=True)
class MetricComparison:
    """One metric of the baseline against the candidate, with the rule that judged it."""

    metric: str
    baseline: float
    candidate: float
    higher_is_better: bool
    threshold: float  # the worst candidate value that still passes (NaN when not judged)
    rule: str  # which tolerance applied, in words
    verdict: str

    @property
    def delta(self) -> float:
        return self.candidate - self.baseline

    @property
    def within_rounding(self) -> bool:
        """A nonzero delta below :data:`ROUNDING` of the values: the same number summed in another
        order (another thread count, another BLAS), not a change of the candidate."""
        scale = max(abs(self.baseline), abs(self.candidate))
        return self.delta != 0 and math.isfinite(self.delta) and abs(self.delta) <= ROUNDING * scale

    def to_json(self) -> dict[str, Any]:
        return {
            "metric": self.metric,
            "baseline": _json_number(self.baseline),
            "candidate": _json_number(self.candidate),
            "delta": _json_number(self.delta),
            "higher_is_better": self.higher_is_better,
            "threshold": _json_number(self.threshold),
            "rule": self.rule,
            "verdict": self.verdict,
        }


def _json_number(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def _finite(value: Any) -> bool:
    try:
        return math.isfinite(float(value))
    except (TypeError, ValueError):
        return False


def compare_metric(
    baseline_row: Mapping[str, Any],
    candidate_value: float,
    *,
    tolerance: float | dict[str, float] | None = None,
) -> MetricComparison:
    """Judge one metric. ``baseline_row`` is a tidy result row (see :mod:`reports.schema`)."""
    metric = str(baseline_row["metric"])
    baseline = float(baseline_row["value"])
    higher = bool(baseline_row["higher_is_better"])
    candidate = float(candidate_value) if _finite(candidate_value) else math.nan

    def judged(threshold: float, margin: float, rule: str) -> MetricComparison:
        sign = 1.0 if higher else -1.0
        if sign * (candidate - threshold) < 0:
            verdict = VERDICT_REGRESSED
        elif sign * (candidate - (baseline + sign * margin)) > 0:
            verdict = VERDICT_IMPROVED
        else:
            verdict = VERDICT_OK
        return MetricComparison(metric, baseline, candidate, higher, threshold, rule, verdict)

    if metric in REFERENCE_METRICS:
        return MetricComparison(metric, baseline, candidate, higher, math.nan, "describes the real data",
                                VERDICT_REFERENCE)
    if not (math.isfinite(baseline) and math.isfinite(candidate)):
        return MetricComparison(metric, baseline, candidate, higher, math.nan, "no finite value", VERDICT_NOT_COMPARED)
    sign = 1.0 if higher else -1.0
    explicit = tolerance.get(metric) if isinstance(tolerance, dict) else tolerance
    if explicit is not None:
        margin = explicit * abs(baseline)
        return judged(baseline - sign * margin, margin, f"--tolerance {explicit:g} relative")
    ci_low, ci_high = baseline_row.get("ci_low"), baseline_row.get("ci_high")
    if _finite(ci_low) and _finite(ci_high):
        low, high = float(ci_low), float(ci_high)
        worse_bound, better_bound = (low, high) if higher else (high, low)
        worse_margin = interval_margin(baseline, worse_bound, -sign, high - low)
        better_margin = interval_margin(baseline, better_bound, sign, high - low)
        return judged(baseline - sign * worse_margin, better_margin, f"baseline CI [{low:.4g}, {high:.4g}]")
    default = DEFAULT_TOLERANCES.get(metric, FALLBACK_TOLERANCE)
    margin = default.allowed(baseline)
    return judged(baseline - sign * margin, margin, f"default {default.describe()}")


def interval_margin(estimate: float, bound: float, side: float, width: float) -> float:
    """How far the interval reaches from ``estimate`` towards ``side`` (+1 up, -1 down); half its width if not at all."""
    reach = side * (bound - estimate)
    return reach if reach > 0 else width / 2.0


@dataclass(frozen=True)
class CheckOutcome:
    """The verdict of one check: every compared metric and what was compared."""

    candidate: Path
    baseline: Path
    model: str
    category: str
    settings: dict[str, Any]  # the baseline settings the candidate was evaluated with
    comparisons: tuple[MetricComparison, ...]
    budgets: Mapping[str, Budget] | None = None  # "baseline" and "candidate": the step and kimg each was trained to
    training_data: Mapping[str, Mapping[str, Any] | None] | None = None  # the same: the real images each saw

    @property
    def budget_text(self) -> str | None:
        """Both training budgets, and whether they differ by more than the tables' tolerance."""
        if not self.budgets:
            return None
        base, new = self.budgets["baseline"], self.budgets["candidate"]
        text = f"trained: baseline {describe_budget(base)}, candidate {describe_budget(new)}"
        if base.known and new.known and budgets_apart((base.kimg, new.kimg)):
            text += (f"; the budgets differ by more than {BUDGET_TOLERANCE:.0%}, so a difference may reflect "
                     "training length")
        if base.stage != new.stage:
            text += "; they were sampled at different stages of growing, so a difference may reflect the stage"
        seen = self.training_data or {}
        base_data, new_data = seen.get("baseline"), seen.get("candidate")
        if base_data and new_data and base_data.get("fingerprint") != new_data.get("fingerprint"):
            text += (f"; trained on different real images (baseline {describe_training_data(base_data)}, candidate "
                     f"{describe_training_data(new_data)}), so a difference may reflect the training data")
        return text

    @property
    def regressions(self) -> tuple[MetricComparison, ...]:
        return tuple(c for c in self.comparisons if c.verdict == VERDICT_REGRESSED)

    @property
    def regressed(self) -> bool:
        return bool(self.regressions)

    def to_json(self) -> dict[str, Any]:
        return {
            "verdict": "regressed" if self.regressed else "pass",
            "regressed_metrics": [c.metric for c in self.regressions],
            "candidate": str(self.candidate),
            "baseline": str(self.baseline),
            "model": self.model,
            "category": self.category,
            "settings": self.settings,
            "metrics": [c.to_json() for c in self.comparisons],
            "budgets": {name: {"step": budget.step, "kimg": budget.kimg if budget.known else None,
                               "stage": budget.stage or None}
                        for name, budget in (self.budgets or {}).items()},
            "training_data": dict(self.training_data or {}),
        }


def describe_budget(budget: Budget) -> str:
    """``step 700, 11.2 kimg`` (``?`` for what was not recorded), and the growth stage it was
    sampled at when its network had not finished growing."""
    text = f"step {UNKNOWN_KIMG if budget.step is None else budget.step}, {format_kimg(budget.kimg)} kimg"
    return text + (f", sampled at {budget.stage}" if budget.stage else "")


DEFAULT_BATCH = 64
REQUIRED_SETTINGS = ("data", "data_fingerprint", "features", "seed", "resolution", "resize")
REQUIRED_ROW_FIELDS = ("value", "higher_is_better", "n_fake", "n_real")
SETTING_TYPES = {"data": str, "data_fingerprint": str, "features": str, "seed": int, "resolution": int,
                 "resize": str, "batch": int, "extractor_sha256": str}
"""The type of every baseline setting a re-evaluation reads (``batch`` and ``extractor_sha256`` may be absent)."""


def load_baseline(baseline: Path) -> ResultSet:
    """The baseline results, with every setting a re-evaluation needs."""
    try:
        stored = load_results(baseline)
    except ResultsError as err:
        raise SlbenchError(f"cannot read the baseline: {err}") from None
    missing = [key for key in REQUIRED_SETTINGS if stored.settings.get(key) in (None, "")]
    if missing:
        raise SlbenchError(
            f"baseline {baseline} lacks the setting(s) {', '.join(missing)} needed to replay it; "
            "give a results folder written by `slbench run`"
        )
    check_setting_types(stored.settings, baseline)
    pairs = stored.provenance.get("pairs", {})
    if not isinstance(pairs, dict) or not all(isinstance(pair, dict) for pair in pairs.values()):
        raise SlbenchError(f"baseline {baseline} has a provenance 'pairs' entry of the wrong shape; "
                           "give a results folder written by `slbench run`")
    return stored


def check_setting_types(settings: dict[str, Any], baseline: Path) -> None:
    """Refuse baseline settings of the wrong type: a damaged baseline is bad input, never a regression."""
    for key, kind in SETTING_TYPES.items():
        value = settings.get(key)
        if value is None and key not in REQUIRED_SETTINGS:
            continue
        wrong_type = not isinstance(value, kind) or isinstance(value, bool)
        if wrong_type or (kind is int and value < (1 if key in ("resolution", "batch") else 0)):
            raise SlbenchError(f"baseline {baseline} records {key} = {value!r}, not a valid {kind.__name__}; "
                               "give a results folder written by `slbench run`")


def baseline_rows(stored: ResultSet, info: CheckpointInfo, baseline: Path) -> list[dict[str, Any]]:
    """The baseline's quality rows of the candidate's model and category, checked for completeness."""
    quality = stored.rows[stored.rows["table"] == "quality"]
    categories = sorted(set(quality["category"]))
    if info.category not in categories:
        raise SlbenchError(
            f"{info.path} was trained on category {info.category}, but baseline {baseline} holds "
            f"{', '.join(categories) or 'no category'}; compare against a run of the same category"
        )
    rows = quality[(quality["model"] == info.model) & (quality["category"] == info.category)].to_dict("records")
    if not rows:
        models = sorted(set(quality[quality["category"] == info.category]["model"]))
        raise SlbenchError(
            f"baseline {baseline} holds no {info.model} result for {info.category} (it has {', '.join(models)}); "
            "compare against a run that evaluated this model"
        )
    for row in rows:
        missing = [name for name in REQUIRED_ROW_FIELDS if row.get(name) is None or row.get(name) is pd.NA]
        if missing:
            raise SlbenchError(f"baseline row {row['metric']} lacks {', '.join(missing)}; rerun `slbench run`")
        if row["n_fake"] < 1:
            raise SlbenchError(f"baseline row {row['metric']} records n_fake {row['n_fake']}; rerun `slbench run`")
    return rows


def check_resolution(stored: ResultSet, info: CheckpointInfo) -> int:
    """The baseline's evaluation resolution, refused when the candidate was trained at another one."""
    evaluation = int(stored.settings["resolution"])
    pair = stored.provenance.get("pairs", {}).get(f"{info.model}/{info.category}", {})
    expected = pair.get("native_resolution") or evaluation
    if not isinstance(expected, int) or isinstance(expected, bool):
        raise SlbenchError(f"the baseline records native_resolution {expected!r} for {info.model}/{info.category}, "
                           "not a number of pixels; give a results folder written by `slbench run`")
    if info.resolution != expected:
        raise SlbenchError(
            f"{info.path} generates {info.resolution} px images, but the baseline's {info.model} generated "
            f"{expected} px; compare checkpoints trained at the same resolution"
        )
    return evaluation


def check_resize(stored: ResultSet, info: CheckpointInfo) -> str:
    """The baseline's real-side preprocessing, refused when the candidate was trained on images
    made square another way (its samples would differ from the real ones for that reason alone)."""
    expected = stored.settings["resize"]
    if info.resize != expected:
        raise SlbenchError(
            f"{info.path} was trained on {info.resize} images, but the baseline's real side is {expected}; "
            "compare checkpoints trained with the same --resize"
        )
    return expected


def open_baseline_data(stored: ResultSet, data: Path | None) -> Dataset:
    """The baseline's dataset (or ``data``, if it moved), refused unless its content is the same."""
    path = Path(data) if data is not None else Path(stored.settings["data"])
    dataset = open_dataset(path)
    if dataset.fingerprint() != stored.settings["data_fingerprint"]:
        raise SlbenchError(
            f"the data at {path} differs from the baseline's (fingerprint {dataset.fingerprint()[:12]} vs "
            f"{str(stored.settings['data_fingerprint'])[:12]}); give --data with the baseline's dataset"
        )
    return dataset


def check_sides(stored: ResultSet, info: CheckpointInfo, dataset: Dataset) -> RealSides:
    """The baseline's real sides; a candidate that saw the baseline's held-out images is refused."""
    sides = replayed_sides(dataset, stored.settings.get("real_side"))
    if sides.quality == TEST:
        seen = trained_on(f"{info.model}/{info.category}", info.metadata, dataset)
        if seen.split != (sides.split.seed, sides.split.test_fraction):
            raise SlbenchError(f"the baseline scored quality on the held-out side of its lesion split, but {info.path} "
                               f"was {seen.reason or 'trained on another split'}; train the candidate with "
                               "`slbench train --split train` as the baseline's checkpoints were")
    return sides


def check_tolerance_names(tolerance: float | dict[str, float] | None) -> None:
    if isinstance(tolerance, dict):
        unknown = [name for name in tolerance if name not in METRICS]
        if unknown:
            raise SlbenchError(
                f"--tolerance names unknown metric(s) {', '.join(unknown)}; choose from {', '.join(METRICS)}"
            )


def check_candidate(
    *,
    candidate: str | Path,
    baseline: str | Path,
    tolerance: str | float | dict[str, float] | None = None,
    data: str | Path | None = None,
    weights_dir: str | Path | None = None,
    trust_weights: str | Path | None = None,
    batch: int | None = None,
    device: str | torch.device | None = None,
) -> CheckOutcome:
    """Re-evaluate ``candidate`` with the settings recorded in ``baseline`` and judge every metric.

    ``tolerance`` is as :func:`parse_tolerance` returns it, or its text (``"fid=0.1,kid=0.2"``);
    ``batch`` defaults to the baseline's, so that even float rounding is replayed. A baseline
    folder holding a training track instead of results compares training runs by their best
    steps (:mod:`slbench.tracking.gate`); ``candidate`` is then a checkpoint folder."""
    if isinstance(tolerance, str):
        tolerance = parse_tolerance(tolerance)
    check_tolerance_names(tolerance)
    baseline = Path(baseline)
    if baseline.name in (TRACK_CSV, TRACK_JSON):
        baseline = baseline.parent
    if has_track(baseline) and not (baseline / METRICS_JSON).is_file():
        from slbench.tracking.gate import check_against_track

        return check_against_track(candidate=Path(candidate), baseline=baseline, tolerance=tolerance,
                                   data=Path(data) if data is not None else None, weights_dir=weights_dir,
                                   trust_weights=trust_weights, batch=batch)
    stored = load_baseline(baseline)
    info = read_checkpoint_info(candidate)
    rows = baseline_rows(stored, info, baseline)
    resolution = check_resolution(stored, info)
    dataset = open_baseline_data(stored, Path(data) if data is not None else None)
    settings = stored.settings
    protocol = replayed_protocol(settings.get("protocol_settings") or settings.get("protocol"))
    torch_device = resolve_device(device)
    extractor = load_extractor(settings["features"], protocol, resolution, weights_dir=weights_dir,
                               trust_weights=trust_weights, device=torch_device, data_fingerprint=dataset.fingerprint())
    recorded_sha = settings.get("extractor_sha256")
    if recorded_sha and extractor.weights_sha256 != recorded_sha:
        raise SlbenchError(
            f"the {extractor.name} extractor found here has other weights than the baseline's "
            f"({extractor.weights_sha256[:12]} vs {recorded_sha[:12]}); use the same weights"
        )
    wants_lpips = any(str(row["metric"]).startswith("lpips_") for row in rows)
    lpips = (open_lpips(weights_dir, trust_weights, torch_device) if wants_lpips
             else LpipsHandle(None, {"status": "skipped", "reason": "the baseline has no LPIPS rows"}))
    batch = batch or int(settings.get("batch") or DEFAULT_BATCH)
    context = EvaluationContext(dataset=dataset, extractor=extractor, lpips=lpips, resolution=resolution,
                                seed=int(settings["seed"]), bootstrap=0, batch=batch, device=torch_device,
                                resize=check_resize(stored, info), sides=check_sides(stored, info, dataset),
                                protocol=protocol)
    n_fake = int(rows[0]["n_fake"])
    with console.status(f"re-evaluating {info.model}/{info.category} with the baseline's settings"):
        result = evaluate_pair(context, model=info.model, category=info.category, checkpoint=info, n_fake=n_fake)
    candidate_values = {row["metric"]: row["value"] for row in result.rows}
    comparisons = tuple(
        compare_metric(row, candidate_values.get(row["metric"], math.nan), tolerance=tolerance) for row in rows
    )
    replayed = {key: settings.get(key) for key in REQUIRED_SETTINGS} | {"n_fake": n_fake,
                                                                        "protocol": settings.get("protocol")}
    budgets = {"baseline": budgets_from_rows(rows)[(info.model, info.category)],
               "candidate": budgets_from_rows(result.rows)[(info.model, info.category)]}
    recorded = settings.get(TRAINING_DATA_KEY)
    baseline_data = recorded.get(f"{info.model}/{info.category}") if isinstance(recorded, Mapping) else None
    training_data = {"baseline": baseline_data if isinstance(baseline_data, Mapping) else None,
                     "candidate": training_images_record(info.metadata, dataset)}
    return CheckOutcome(info.path, baseline, info.model, info.category, replayed, comparisons, budgets, training_data)


CHECK_COLUMNS = (Column("baseline"), Column("candidate"), Column("delta"), Column("verdict", "left"),
                 Column("rule", "left"))
VERDICT_STYLES = {VERDICT_REGRESSED: "bold red", VERDICT_IMPROVED: "green", VERDICT_OK: "", VERDICT_REFERENCE: "dim",
                  VERDICT_NOT_COMPARED: "yellow"}


def print_outcome(outcome: CheckOutcome) -> None:
    """The comparison as a rich table on stderr (in parts on a narrow console), then a one-line verdict."""
    lines = []
    for c in outcome.comparisons:
        style = VERDICT_STYLES.get(c.verdict, "")
        lines.append(([f"{c.metric} {'↑' if c.higher_is_better else '↓'}"],
                      [_fmt(c.baseline), _fmt(c.candidate), "≈0" if c.within_rounding else _fmt(c.delta, signed=True),
                       f"[{style}]{c.verdict}[/]" if style else c.verdict, plain(c.rule)]))
    rounding = (f"≈0: equal up to float rounding (a difference below {ROUNDING:g} of the value, as another thread "
                "count gives)") if any(c.within_rounding for c in outcome.comparisons) else None
    caption = "\n".join(filter(None, [f"measured as the baseline was: {settings_measurement_space(outcome.settings)}",
                                      outcome.budget_text, rounding]))
    # The candidate's path on a line of its own, left to the terminal to wrap, so it copies whole.
    console.print(labelled("candidate:", "bold", outcome.candidate), soft_wrap=True)
    console.print(FittedTable(title=plain(f"check {outcome.model}/{outcome.category}"),
                              keys=[Column("metric", "left", no_wrap=True)], values=CHECK_COLUMNS, rows=lines,
                              caption=plain(caption)))
    if outcome.regressed:
        names = ", ".join(c.metric for c in outcome.regressions)
        console.print(labelled("regressed:", "bold red", f"{names} (baseline {outcome.baseline})"))
    else:
        console.print(labelled("no regression", "green", f"against {outcome.baseline}"))


def _fmt(value: float, signed: bool = False) -> str:
    if not math.isfinite(value):
        return "-"
    return f"{value:+.4g}" if signed else f"{value:.4g}"
