"""The stored form of results, shared by everything that writes or reads them.

A results folder (``results/<timestamp>-<short-id>/``) holds:

``metrics.csv``
    Tidy: one row per (table, model, category, metric) with the columns of :data:`COLUMNS`.
``metrics.json``
    ``{"schema_version": 1, "rows": [...same rows...], "settings": {...},
    "provenance": {...}, "artifacts": {...}}``. ``artifacts`` maps names to paths relative to
    the folder: ``samples`` ("<model>/<category>" -> PNG grid of generated images), ``real``
    ("<category>" -> PNG grid of real images), ``memorisation_pairs`` ("<model>/<category>" ->
    PNG of the closest generated/training pairs), ``plots`` (name -> PNG).

Every row records the training budget of the checkpoint it measures (``step``, ``kimg``) and,
for a network sampled before it finished growing, its ``stage``, so a table can show what each
model was trained for and warn when a comparison is unequal (:mod:`reports.budgets`).
Schema version 1 (before budgets were recorded) lacks these three columns: such results still
load, with the budget unknown, and the reports say so.

Every row names the protocol it was computed under (``protocol``, empty when none): values of
two protocols are never put in one table column (:mod:`reports.tables`).

Rows carry their own metric direction (``higher_is_better``) so that a report can bold the
best value and a regression gate can judge a change without a hard-coded list of metrics.
"""

from __future__ import annotations

SCHEMA_VERSION = 3

METRICS_CSV = "metrics.csv"
METRICS_JSON = "metrics.json"

COLUMNS = (
    "table",  # "quality" (slbench run) or "utility" (slbench utility)
    "model",  # generator name, or a utility arm such as "real+sl-stylegan"
    "category",  # lesion class code, or "all"
    "metric",  # metric name, e.g. "fid", "kid", "precision", "balanced_accuracy"
    "value",  # the estimate (KID: the mean over subsets; utility: the mean over seeds)
    "ci_low",  # lower bound of the confidence interval, NaN when none was computed
    "ci_high",  # upper bound of the confidence interval, NaN when none was computed
    "std",  # spread (KID over subsets, utility over seeds), NaN when not applicable
    "n_real",  # real images used
    "n_fake",  # generated images used
    "higher_is_better",  # metric direction
    "low_reliability",  # True when N is too small for the metric to be trusted (e.g. N < feature dim for FID)
    "features",  # feature extractor (quality) or classifier (utility)
    "protocol",  # the named evaluation protocol (`slbench run --protocol`); "" when the run named none
    "resolution",  # evaluation resolution in pixels
    "seed",  # seed of the run
    "step",  # training step of the checkpoint evaluated; empty when not recorded or not applicable
    "kimg",  # thousands of real images the checkpoint's model was trained on; NaN when not recorded
    "stage",  # "" for a fully grown network; else the growth stage sampled, e.g. "16 px, fade-in 0.50"
    "note",  # free text, e.g. "KID subset size reduced to 115 (class size)"
)

PROTOCOL_COLUMN = "protocol"
"""Added in schema version 3: rows without it (older results, utility rows) carry no protocol."""

BUDGET_COLUMNS = ("step", "kimg", "stage")
"""Columns added in schema version 2; results without them load with the budget unknown."""

TABLES = ("quality", "utility")
