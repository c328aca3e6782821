"""What a run will evaluate, checked in full before any heavy work starts.

``slbench run --models all --category MEL,NV`` resolves to (model, category) pairs, each with
its checkpoint ``<checkpoints>/<model>/<category>/`` (the folder's latest checkpoint), and one
evaluation resolution. Every problem (a missing checkpoint, a checkpoint trained on another
class or model, a resolution the run cannot use, a class without images) is collected and
reported in a single error, so a user fixes them all at once instead of meeting them one by one
halfway through a long run.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from slbench.data.decode import DEFAULT_RESIZE
from slbench.errors import SlbenchError
from slbench.evaluation.checkpoints import CheckpointInfo, read_checkpoint_info
from slbench.evaluation.selection import Selection, reported_on, select_checkpoint

ALL = "all"
MIN_RESOLUTION = 16


@dataclass(frozen=True)
class PlannedPair:
    """One (model, category) to evaluate and the checkpoint that provides it."""

    model: str
    category: str
    checkpoint: CheckpointInfo
    selection: Selection | None = None  # why this checkpoint, when chosen from a track

    @property
    def key(self) -> str:
        return f"{self.model}/{self.category}"


@dataclass(frozen=True)
class EvaluationPlan:
    """The validated work of a run, in a fixed order (models as given, categories in CATEGORIES order)."""

    models: tuple[str, ...]
    categories: tuple[str, ...]
    pairs: tuple[PlannedPair, ...]
    resolution: int
    resolution_source: str  # how the evaluation resolution was chosen, in words
    resize: str = DEFAULT_RESIZE  # how the real images become square: as every checkpoint's training images did


def parse_models(spec: str, known: tuple[str, ...]) -> tuple[str, ...]:
    """``all`` or a comma list of registered model names, in the order given, without repeats."""
    names = _split_list(spec, "--models")
    if [name.lower() for name in names] == [ALL]:
        return tuple(known)
    unknown = [name for name in names if name not in known]
    if unknown:
        raise SlbenchError(f"unknown model(s) {', '.join(unknown)} in --models; choose from: all, {', '.join(known)}")
    return tuple(dict.fromkeys(names))


def parse_categories(spec: str, known: tuple[str, ...], available: list[str]) -> tuple[str, ...]:
    """``all`` (every class the dataset has images of) or a comma list of class codes, any case."""
    names = [name.upper() for name in _split_list(spec, "--category")]
    if names == [ALL.upper()]:
        if not available:
            raise SlbenchError("the dataset has no images in any category; check --data with `slbench data info`")
        return tuple(available)
    unknown = [name for name in names if name not in known]
    if unknown:
        raise SlbenchError(f"unknown category {', '.join(unknown)} in --category; choose from: all, {', '.join(known)}")
    wanted = set(names)
    return tuple(code for code in known if code in wanted)


def _split_list(spec: str, option: str) -> list[str]:
    names = [part.strip() for part in str(spec).split(",") if part.strip()]
    if not names:
        raise SlbenchError(f"{option} is empty; give 'all' or a comma-separated list")
    return names


def checkpoint_folder(checkpoints: Path, model: str, category: str) -> Path:
    """Where ``slbench train`` keeps the checkpoints of one model and class by default."""
    return Path(checkpoints) / model / category


def _check_pair(model: str, category: str, info: CheckpointInfo) -> list[str]:
    problems = []
    if info.model != model:
        problems.append(f"{info.path} is a {info.model!r} checkpoint, not {model!r}")
    if info.category != category:
        problems.append(f"{info.path} was trained on category {info.category}, not {category}")
    if info.resolution is None:
        problems.append(f"{info.path} records no usable resolution in its metadata")
    return problems


def choose_resize(pairs: list[PlannedPair]) -> tuple[str, list[str]]:
    """How the real side is made square: the way every checkpoint's training images were.

    A generator trained on centre crops and real images squashed to a square (or the reverse)
    differ in shape for a reason that has nothing to do with the model, so checkpoints trained
    with different ``--resize`` are never compared in one run."""
    modes = {pair.checkpoint.resize for pair in pairs}
    if len(modes) <= 1:
        return (modes.pop() if modes else DEFAULT_RESIZE), []
    trained = "; ".join(f"{pair.key}: {pair.checkpoint.resize}" for pair in pairs)
    return DEFAULT_RESIZE, [f"the checkpoints were trained on images made square in different ways ({trained}), "
                            "so their real sides would differ; compare models trained with the same --resize"]


def choose_resolution(pairs: list[PlannedPair], requested: int | None) -> tuple[int, str, list[str]]:
    """The one evaluation resolution: the requested one, or the checkpoints' own when they agree,
    else the smallest of them. Generated images are only ever scaled down, never up."""
    native = sorted({pair.checkpoint.resolution for pair in pairs if pair.checkpoint.resolution})
    if requested is not None:
        if requested < MIN_RESOLUTION:
            return requested, "requested", [f"--resolution {requested} is below the minimum of {MIN_RESOLUTION}"]
        too_small = [
            f"{pair.key} is trained at {pair.checkpoint.resolution} px, below --resolution {requested} "
            "(generated images are never upscaled)"
            for pair in pairs
            if pair.checkpoint.resolution and pair.checkpoint.resolution < requested
        ]
        return requested, "requested with --resolution", too_small
    if not native:
        return 0, "none", []
    if len(native) == 1:
        return native[0], "the checkpoints' own resolution", []
    return native[0], f"the smallest of the checkpoints' resolutions {native}", []


def plan_evaluation(
    *,
    models: str,
    categories: str,
    checkpoints: Path,
    known_models: tuple[str, ...],
    known_categories: tuple[str, ...],
    available: dict[str, int],
    resolution: int | None = None,
    min_images: int = 2,
    select: str | None = None,
    select_on: str = "track",
) -> EvaluationPlan:
    """Resolve and validate everything; one :class:`SlbenchError` lists every problem found.

    ``available`` maps each category of the dataset to its number of usable images; a class
    with fewer than ``min_images`` cannot be measured. ``select`` names the metric whose best
    step of each folder's track is evaluated (:mod:`~slbench.evaluation.selection`); ``None``
    takes each folder's latest checkpoint; ``select_on="train"`` accepts only tracks measured on
    the training side of a lesion split.
    """
    model_names = parse_models(models, known_models)
    category_names = parse_categories(categories, known_categories, [c for c in known_categories if available.get(c)])
    problems: list[str] = [
        f"the dataset has no images of {category}" if not available.get(category)
        else f"the dataset has only {available[category]} images of {category}, the metrics need {min_images}"
        for category in category_names
        if available.get(category, 0) < min_images
    ]
    pairs: list[PlannedPair] = []
    for model in model_names:
        for category in category_names:
            folder = checkpoint_folder(checkpoints, model, category)
            try:
                info, selection = (read_checkpoint_info(folder), None) if select is None \
                    else select_checkpoint(folder, select, select_on=select_on)
            except SlbenchError as err:
                problems.append(f"missing checkpoint for {model}/{category} ({err})")
                continue
            problems.extend(_check_pair(model, category, info))
            pairs.append(PlannedPair(model, category, info, selection))
    chosen, source, resolution_problems = choose_resolution(pairs, resolution)
    problems.extend(resolution_problems)
    resize, resize_problems = choose_resize(pairs)
    problems.extend(resize_problems)
    if problems:
        hints = []
        if any(problem.startswith("the dataset has") for problem in problems):
            hints.append("leave classes with too few images out of --category")
        if any(problem.startswith("missing checkpoint") for problem in problems):
            hints.append("train what is missing with `slbench train --model M --category C` or point --checkpoints "
                         "at them")
        hint = "".join(f"; {text}" for text in hints)
        raise SlbenchError(f"cannot start the run, {len(problems)} problem(s): " + "; ".join(problems) + hint)
    return EvaluationPlan(model_names, category_names, tuple(pairs), chosen, source, resize)


def reported_plan(plan: EvaluationPlan, side: str, split_fingerprint: str | None, *, select_on: str) -> EvaluationPlan:
    """``plan`` with each selection told the real side its values are reported on (checked for ``select_on``)."""
    pairs = tuple(dataclasses.replace(pair, selection=reported_on(pair.selection, side, split_fingerprint,
                                                                  select_on=select_on))
                  if pair.selection else pair for pair in plan.pairs)
    return dataclasses.replace(plan, pairs=pairs)


def describe_plan(plan: EvaluationPlan) -> dict[str, Any]:
    """The plan as plain data for the results' settings."""
    return {
        "models": list(plan.models),
        "categories": list(plan.categories),
        "resolution": plan.resolution,
        "resolution_source": plan.resolution_source,
        "resize": plan.resize,
        "checkpoints": {pair.key: str(pair.checkpoint.path) for pair in plan.pairs},
        "checkpoint_sha256": {pair.key: pair.checkpoint.sha256 for pair in plan.pairs},
        "select": next((pair.selection.rule for pair in plan.pairs if pair.selection), "latest"),
        "selection": {pair.key: pair.selection.to_json() for pair in plan.pairs if pair.selection},
    }
