"""Summaries over classifier seeds and the paired comparison of each arm with the real-only baseline.

Every arm is trained once per seed, and for one seed every arm shares the classifier's
initial weights and batch order, so the arms' scores are paired by seed. The gain of an arm
is the mean over seeds of (arm - baseline) balanced accuracy; its significance is the paired
t-test on those differences (Student 1908; ``scipy.stats.ttest_rel``), and its 95% interval
the t interval of the mean difference. With one seed there is no spread and no test.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Mapping, Sequence

import numpy as np
from rich.table import Table
from scipy import stats

from reports.budgets import generator_budgets_from_rows, model_kimg_text
from reports.formatting import MISSING
from reports.intervals import mean_interval, mean_std
from slbench.console import plain
from slbench.fitted_table import Column, FittedTable
from slbench.metrics.registry import RATE
from slbench.table_cells import CI_NOTE, cell_texts, has_interval
from slbench.utility.scores import ClassificationScores

TABLE = "utility"
BASELINE_ARM = "real-only"
# Fewer test images than this per class leaves a sensitivity estimate with a 95% interval
# wider than about +-0.18, so such rows are flagged as low reliability.
MIN_RELIABLE_TEST_IMAGES = 30


@dataclass(frozen=True)
class PairedGain:
    """Mean and spread of (arm - baseline) over seeds, with the paired t-test and its 95% interval."""

    mean: float
    std: float
    ci_low: float
    ci_high: float
    t_statistic: float
    p_value: float
    n_seeds: int

    def note(self) -> str:
        if self.n_seeds < 2:
            return "one seed: no paired test"
        if math.isnan(self.p_value):
            return f"paired t-test over {self.n_seeds} seeds undefined: the difference is the same for every seed"
        return f"paired t-test over {self.n_seeds} seeds: t={self.t_statistic:.3f}, p={self.p_value:.4g}"


@dataclass(frozen=True)
class RowContext:
    """What every row of one utility run shares."""

    classifier: str  # e.g. "resnet18" or "resnet18-imagenet"
    resolution: int
    seed: int  # the first classifier seed
    seeds: tuple[int, ...]
    budgets: Mapping[str, Mapping[str, tuple[int | None, float | None]]] = field(default_factory=dict)
    """arm -> class -> (step, kimg) of the checkpoint its synthetic images of that class came from."""

    def budget(self, arm: str, category: str) -> tuple[int | None, float | None]:
        """The (step, kimg) a row of ``arm`` on ``category`` rests on: its class's checkpoint, or for
        ``all`` the one budget every class's checkpoint shares; (None, None) for the real-only arm
        and for classes trained for different budgets."""
        by_class = self.budgets.get(arm, {})
        if category != "all":
            return by_class.get(category, (None, None))
        shared = set(by_class.values())
        return shared.pop() if len(shared) == 1 else (None, None)


def paired_gain(baseline: Sequence[float], candidate: Sequence[float]) -> PairedGain:
    """Gain of ``candidate`` over ``baseline``, paired by seed."""
    base = np.asarray(baseline, dtype=np.float64)
    cand = np.asarray(candidate, dtype=np.float64)
    if base.shape != cand.shape:
        raise ValueError(f"paired comparison needs as many baseline as candidate values ({base.size} vs {cand.size})")
    differences = cand - base
    mean, std = mean_std(differences)
    n = differences.size
    if n < 2 or np.ptp(differences) == 0:
        return PairedGain(mean, std, math.nan, math.nan, math.nan, math.nan, n)
    test = stats.ttest_rel(cand, base)
    ci_low, ci_high = mean_interval(differences)  # a gain may be negative: no bounds
    return PairedGain(mean, std, ci_low, ci_high, float(test.statistic), float(test.pvalue), n)


def utility_rows(
    scores_by_arm: Mapping[str, Sequence[ClassificationScores]],
    synthetic_counts: Mapping[str, Mapping[str, int]],
    context: RowContext,
) -> list[dict]:
    """Tidy rows (``reports.schema.COLUMNS``) of every arm, in the order the arms are given.

    ``scores_by_arm`` holds one :class:`ClassificationScores` per seed, in seed order;
    ``synthetic_counts[arm][category]`` is the number of synthetic training images of that arm.
    """
    rows: list[dict] = []
    baseline = scores_by_arm.get(BASELINE_ARM)
    for arm, per_seed in scores_by_arm.items():
        fake = synthetic_counts.get(arm, {})
        rows.extend(_arm_rows(arm, per_seed, fake, context))
        if baseline is not None and arm != BASELINE_ARM:
            gain = paired_gain([s.balanced_accuracy for s in baseline], [s.balanced_accuracy for s in per_seed])
            rows.append(_gain_row(arm, gain, per_seed[0], sum(fake.values()), context))
    return rows


def _arm_rows(
    arm: str, per_seed: Sequence[ClassificationScores], fake: Mapping[str, int], context: RowContext
) -> list[dict]:
    first = per_seed[0]
    total_test = sum(first.test_counts.values())
    smallest = min(first.test_counts.values())
    seeds_note = "mean over seeds " + ", ".join(str(s) for s in context.seeds) + " with its 95% t interval"
    rows = [
        _row(arm, "all", metric, [getattr(s, metric) for s in per_seed], context,
             n_real=total_test, n_fake=sum(fake.values()), low=smallest < MIN_RELIABLE_TEST_IMAGES, note=seeds_note)
        for metric in ("balanced_accuracy", "auc_macro")
    ]
    for category, count in first.test_counts.items():
        for metric in ("sensitivity", "specificity"):
            values = [getattr(s, metric)[category] for s in per_seed]
            rows.append(_row(arm, category, metric, values, context, n_real=count, n_fake=fake.get(category, 0),
                             low=count < MIN_RELIABLE_TEST_IMAGES, note=seeds_note))
    return rows


def _row(arm: str, category: str, metric: str, values: Sequence[float], context: RowContext, *,
         n_real: int, n_fake: int, low: bool, note: str) -> dict:
    mean, std = mean_std(values)
    ci_low, ci_high = mean_interval(values, RATE)  # every utility score is a rate
    return {
        "table": TABLE,
        "model": arm,
        "category": category,
        "metric": metric,
        "value": mean,
        "ci_low": ci_low,
        "ci_high": ci_high,
        "std": std,
        "n_real": n_real,
        "n_fake": n_fake,
        "higher_is_better": True,
        "low_reliability": bool(low),
        "features": context.classifier,
        "protocol": "",  # a utility run names no evaluation protocol
        "resolution": context.resolution,
        "seed": context.seed,
        "step": context.budget(arm, category)[0],
        "kimg": context.budget(arm, category)[1],
        "stage": "",
        "note": note,
    }


def _gain_row(arm: str, gain: PairedGain, first: ClassificationScores, n_fake: int, context: RowContext) -> dict:
    row = _row(arm, "all", "gain_balanced_accuracy", [], context, n_real=sum(first.test_counts.values()),
               n_fake=n_fake, low=min(first.test_counts.values()) < MIN_RELIABLE_TEST_IMAGES, note=gain.note())
    row.update(value=gain.mean, std=gain.std, ci_low=gain.ci_low, ci_high=gain.ci_high)
    return row


def summary_table(rows: Sequence[Mapping]) -> FittedTable:
    """One line per arm: the kimg its generator was trained for (``–`` without one), balanced
    accuracy, macro AUC and the gain over the baseline, each with its 95% interval as the reports
    print it (:mod:`slbench.table_cells`); on a narrow console it prints in parts, arm names whole
    (:mod:`slbench.fitted_table`)."""
    caption = CI_NOTE + " Intervals: 95% t interval of the mean over seeds." if has_interval(rows) else ""
    by_key = _rows_by_key(rows)
    texts = cell_texts(rows)
    budgets = generator_budgets_from_rows([row for row in rows if row["category"] != "all"])
    lines = []
    for arm in dict.fromkeys(r["model"] for r in rows):
        gain = by_key.get((arm, "all", "gain_balanced_accuracy"))
        synthetic = any(row["n_fake"] for row in rows if row["model"] == arm)
        lines.append(([plain(arm), model_kimg_text(budgets, arm) if synthetic else MISSING],
                      [_value_parts(texts, by_key.get((arm, "all", "balanced_accuracy"))),
                       _value_parts(texts, by_key.get((arm, "all", "auc_macro"))),
                       _value_parts(texts, gain) if gain else "", _p_value(gain["note"]) if gain else ""]))
    values = [Column(header) for header in ("balanced accuracy", "AUC (macro)", "gain", "p (paired t)")]
    return FittedTable(title="Classifier utility on the real test set (mean over seeds)",
                       keys=[Column("arm", "left", no_wrap=True), Column("kimg")], values=values, rows=lines,
                       caption=plain(caption))


def sensitivity_table(rows: Sequence[Mapping], categories: Sequence[str]) -> Table:
    """A rich table of the mean per-class sensitivity of each arm (classes as columns)."""
    table = Table(title="Sensitivity per class (mean over seeds)")
    table.add_column("arm")
    for category in categories:
        table.add_column(category, justify="right")
    by_key = _rows_by_key(rows)
    for arm in dict.fromkeys(r["model"] for r in rows):
        cells = [by_key.get((arm, category, "sensitivity")) for category in categories]
        table.add_row(arm, *("n/a" if c is None or math.isnan(c["value"]) else f"{c['value']:.2f}" for c in cells))
    return table


def _rows_by_key(rows: Sequence[Mapping]) -> dict[tuple[str, str, str], Mapping]:
    return {(r["model"], r["category"], r["metric"]): r for r in rows}


def _value_parts(texts: Mapping, row: Mapping | None) -> tuple[str, ...]:
    """A value and its interval as the reports print them, to sit side by side or one above the other."""
    if row is None or math.isnan(row["value"]):
        return ("n/a",)
    return tuple(plain(texts[(row["model"], row["category"], row["metric"])]).split(" ", 1))


def _p_value(note: str) -> str:
    return note.rsplit("p=", 1)[1] if "p=" in note else "n/a"
