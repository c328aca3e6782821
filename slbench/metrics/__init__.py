"""Metrics of generated images against real ones, as pure functions on feature arrays.

Every function takes 2-D float arrays (numpy or torch; rows are samples) and follows its paper
and reference code; each module names both. :func:`evaluate_features` computes all of them for
one (model, category) pair from one shared blocked pass over the Gram matrices and returns
:class:`MetricValue` rows; :data:`METRICS` says what each metric is and which way is better.
"""

from slbench.metrics.bootstrap import centred_interval, half_sample_weights
from slbench.metrics.cmmd import cmmd, rbf_metric_name, rbf_mmd
from slbench.metrics.evaluate import Evaluation, MetricSettings, evaluate_features, run_evaluation
from slbench.metrics.fid import fid
from slbench.metrics.fid_infinity import FidInfinityFit, fid_infinity
from slbench.metrics.kid import Kid, kid
from slbench.metrics.lpips_diversity import lpips_diversity, lpips_metric_values
from slbench.metrics.memorisation import MemorisationResult, memorisation
from slbench.metrics.prdc import DensityCoverage, PrecisionRecall, density_coverage, precision_recall
from slbench.metrics.registry import DEFAULT_FEATURE_METRICS, FEATURE_METRICS, METRICS, MetricInfo, MetricValue
from slbench.metrics.registry import get_metric, metric_value
from slbench.metrics.vendi import vendi_score

__all__ = [
    "DEFAULT_FEATURE_METRICS",
    "FEATURE_METRICS",
    "METRICS",
    "DensityCoverage",
    "Evaluation",
    "FidInfinityFit",
    "Kid",
    "MemorisationResult",
    "MetricInfo",
    "MetricSettings",
    "MetricValue",
    "PrecisionRecall",
    "centred_interval",
    "cmmd",
    "density_coverage",
    "evaluate_features",
    "fid",
    "fid_infinity",
    "get_metric",
    "half_sample_weights",
    "kid",
    "lpips_diversity",
    "lpips_metric_values",
    "memorisation",
    "metric_value",
    "precision_recall",
    "rbf_metric_name",
    "rbf_mmd",
    "run_evaluation",
    "vendi_score",
]
