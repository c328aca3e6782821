"""The regression gate behind ``slbench check``: is a new checkpoint worse than a stored run?

The candidate checkpoint is evaluated again with exactly the settings the baseline results
recorded (data, feature extractor, number of samples, seed, evaluation resolution), and each
metric is compared with the baseline row of the same model and category, in the direction the
row records (``higher_is_better``).

When is a metric worse "beyond tolerance"? In this order:

1. an explicit ``--tolerance`` for that metric (or a single number for every metric): the
   candidate may be worse than the baseline by that fraction of the baseline's magnitude;
2. otherwise the baseline's bootstrap confidence interval, where the run computed one: the
   candidate regresses when it falls outside the interval on the worse side;
3. otherwise the documented default of :data:`DEFAULT_TOLERANCES`: worse by more than
   ``max(relative * |baseline|, absolute)``.

The same rule, mirrored, marks a metric as improved. Metrics that do not depend on the
generator (the real images' own LPIPS diversity) are shown but never judged.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping

from slbench.errors import SlbenchError


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
    "precision": Tolerance(absolute=0.05),
    "recall": Tolerance(absolute=0.05),
    "density": Tolerance(relative=0.10),
    "coverage": Tolerance(absolute=0.05),
    "memorisation": Tolerance(absolute=0.05),
    "lpips_diversity": Tolerance(relative=0.10),
    "lpips_ratio": Tolerance(relative=0.10),
}
FALLBACK_TOLERANCE = Tolerance(relative=0.10)

# Rows that describe the real data, not the generator: shown, never judged.
REFERENCE_METRICS = frozenset({"lpips_diversity_real"})

VERDICT_OK = "ok"
VERDICT_IMPROVED = "improved"
VERDICT_REGRESSED = "regressed"
VERDICT_REFERENCE = "reference"
VERDICT_NOT_COMPARED = "not compared"


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
        return MetricComparison(metric, baseline, candidate, higher, math.nan, "describes the real data", VERDICT_REFERENCE)
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
        return judged(worse_bound, abs(better_bound - baseline), f"baseline CI [{low:.4g}, {high:.4g}]")
    default = DEFAULT_TOLERANCES.get(metric, FALLBACK_TOLERANCE)
    margin = default.allowed(baseline)
    return judged(baseline - sign * margin, margin, f"default {default.describe()}")
