"""Display names and the stable order of metrics, categories and models in every report.

Known metrics get a readable label (``fid`` -> "FID") for text/Markdown/HTML and one for
LaTeX; any other metric falls back to its raw name, so a new metric shows up without a code
change. Order is fixed: known names first in the order below, then the rest alphabetically,
so two renders of the same results are identical.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MetricLabel:
    """How a metric is named in plain text (Markdown, HTML, plots) and in LaTeX."""

    text: str
    latex: str


METRIC_LABELS: dict[str, MetricLabel] = {
    "fid": MetricLabel("FID", "FID"),
    "fid_infinity": MetricLabel("FID∞", r"FID$_\infty$"),
    "kid": MetricLabel("KID", "KID"),
    "cmmd": MetricLabel("CMMD", "CMMD"),
    "mmd_rbf": MetricLabel("MMD-RBF", "MMD\\textsubscript{RBF}"),
    "precision": MetricLabel("Precision", "Prec."),
    "recall": MetricLabel("Recall", "Rec."),
    "density": MetricLabel("Density", "Dens."),
    "coverage": MetricLabel("Coverage", "Cov."),
    "lpips_fake": MetricLabel("LPIPS (fake)", "LPIPS\\textsubscript{fake}"),
    "lpips_real": MetricLabel("LPIPS (real)", "LPIPS\\textsubscript{real}"),
    "lpips_ratio": MetricLabel("LPIPS ratio", "LPIPS ratio"),
    "memorisation": MetricLabel("Memorisation", "Mem."),
    "vendi_fake": MetricLabel("Vendi (fake)", "Vendi\\textsubscript{fake}"),
    "vendi_real": MetricLabel("Vendi (real)", "Vendi\\textsubscript{real}"),
    "vendi_ratio": MetricLabel("Vendi ratio", "Vendi ratio"),
    "prd_f8": MetricLabel("PRD F8", "F\\textsubscript{8}"),
    "prd_f1_8": MetricLabel("PRD F1/8", "F\\textsubscript{1/8}"),
    "class_consistency": MetricLabel("Class consistency", "Cons."),
    "class_consistency_real": MetricLabel("Class consistency (real)", "Cons.\\textsubscript{real}"),
    "balanced_accuracy": MetricLabel("Balanced accuracy", "Bal. acc."),
    "gain_balanced_accuracy": MetricLabel("Gain in balanced accuracy", r"$\Delta$ bal. acc."),
    "accuracy": MetricLabel("Accuracy", "Acc."),
    "auc_macro": MetricLabel("Macro AUC", "AUC\\textsubscript{macro}"),
    "f1_macro": MetricLabel("Macro F1", "F1\\textsubscript{macro}"),
    "sensitivity": MetricLabel("Sensitivity", "Sens."),
    "specificity": MetricLabel("Specificity", "Spec."),
}
"""Known metrics in report order: quality metrics, then utility metrics."""

CATEGORY_ORDER = ("all", "AKIEC", "BCC", "BKL", "DF", "NV", "MEL", "VASC")
"""``all`` (a utility row over every class) first, then the ISIC 2018 classes in their usual order."""

MODEL_ORDER = ("sl-stylegan", "stylegan", "dcgan")
"""Generators in the order the comparison is usually read: the proposed model first."""

ARM_PREFIXES = ("real-only", "real+", "synthetic-only")
"""Utility arms (``real-only``, ``real+<model>``, ``synthetic-only:<model>``) in reading order."""

SIGNED_PREFIX = "gain_"
"""Metrics that are differences to a baseline; shown with an explicit sign."""


def metric_label(metric: str) -> str:
    """Readable metric name for text, Markdown, HTML and plots; the raw name when unknown."""
    known = METRIC_LABELS.get(metric)
    return known.text if known else metric


def metric_label_latex(metric: str) -> str | None:
    """LaTeX metric name, or ``None`` when unknown (the caller escapes the raw name)."""
    known = METRIC_LABELS.get(metric)
    return known.latex if known else None


def is_signed(metric: str) -> bool:
    """True for metrics that are a change relative to a baseline (shown as ``+0.021``)."""
    return metric.startswith(SIGNED_PREFIX)


def _rank(name: str, known: tuple[str, ...]) -> tuple[int, str]:
    return (known.index(name), "") if name in known else (len(known), name)


def metric_sort_key(metric: str) -> tuple[int, str]:
    return _rank(metric, tuple(METRIC_LABELS))


def category_sort_key(category: str) -> tuple[int, str]:
    return _rank(category, CATEGORY_ORDER)


def model_sort_key(model: str) -> tuple[int, tuple[int, str], str]:
    """Order utility arms by kind, then every name by generator order, then alphabetically."""
    arm_rank = len(ARM_PREFIXES)
    base = model
    for rank, prefix in enumerate(ARM_PREFIXES):
        if model.startswith(prefix):
            arm_rank, base = rank, model[len(prefix) :].lstrip(":+")
            break
    base = base.split(" [", 1)[0]
    return (arm_rank, _rank(base, MODEL_ORDER), model)
