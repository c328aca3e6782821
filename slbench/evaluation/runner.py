"""``slbench run``: compare generators per lesion class and leave a results folder with reports.

Order of work: open the data, resolve and validate the whole plan (every checkpoint, category
and resolution, one error listing every problem), load the feature extractor and LPIPS, print
the plan with its estimate (:mod:`~slbench.evaluation.estimate`; ``--dry-run`` stops there),
then evaluate each (model, category) pair. After each pair the results folder is rewritten in full
through :func:`reports.results.write_results`, so an interrupted run keeps every finished pair
and ``--resume`` skips them. Finally the reports (Markdown, LaTeX, CSV, HTML) are rendered from
the stored results alone.

``metrics.csv`` holds only what the seed and the inputs determine, so two runs with the same
seed write identical files; timings and paths go to the provenance in ``metrics.json``. Under
``torchrun`` every rank runs this module; the ranks share generation and feature extraction
(:mod:`~slbench.evaluation.sharding`) and only rank 0 writes, prints and computes metrics.
"""

from __future__ import annotations

import contextlib
import secrets
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import torch

from generators import MODELS
from generators.folder_lock import LOCK_NAME
from generators.safe_io import is_partial_write
from reports.render import FORMATS, render_report
from reports.results import ResultsError, load_results, write_results
from reports.files import atomic_write_bytes
from reports.schema import METRICS_JSON
from reports.tracks import TRACK_CSV, TRACK_JSON, has_track
from reports.training_data import TRAINING_DATA_KEY, training_data_entries, unequal_training_data_warning
from slbench.console import console, plain
from slbench.data import CATEGORIES, RESIZE_FILTER, Dataset, load_dataset
from slbench.errors import SlbenchError
from slbench.output_lock import locked_output_folder
from slbench.evaluation.context import EvaluationContext, open_lpips
from slbench.evaluation.estimate import estimate_run, measure_rates, plan_work, print_plan
from slbench.evaluation.display import RunDisplay
from slbench.evaluation.grids import write_memorisation_pairs, write_sample_grid
from slbench.evaluation.pair import PairResult, default_n_fake, evaluate_pair
from slbench.evaluation.plan import EvaluationPlan, PlannedPair, describe_plan, plan_evaluation, reported_plan
from slbench.evaluation.real_sides import SIDE_WORDS, RealSides, choose_real_sides
from slbench.evaluation.training_images import training_images_record
from slbench.evaluation.provenance import data_provenance, extractor_provenance, package_versions
from slbench.evaluation.selection import check_select_on, parse_select
from slbench.evaluation.sharding import Shard, close_shard, from_main, open_shard
from slbench.evaluation.protocols import Protocol, load_extractor, resolve_protocol
from slbench.features import DEFAULT_EXTRACTOR
from slbench.metrics import MetricSettings
from slbench.metrics.bootstrap import MIN_HALF
from slbench.paths import DEFAULT_CHECKPOINTS, DEFAULT_DATA, DEFAULT_RESULTS
from slbench.seeds import check_evaluation_seed

# Every sample needs k neighbours in its own set: precision/recall (k = 3) on both sides,
# density/coverage (k = 5) on the real side; PRD's k-means needs as many samples as clusters.
PRD_MIN_SET = -(-MetricSettings().prd_clusters // 2)
MIN_REAL_IMAGES = max(MetricSettings().k_prc + 1, MetricSettings().k_dc + 1, PRD_MIN_SET)
MIN_FAKE_IMAGES = max(MetricSettings().k_prc + 1, PRD_MIN_SET)

# Settings that change the numbers: a resumed run must match the stored run on all of them.
RESUME_KEYS = (
    "data_fingerprint", "models", "categories", "checkpoint_sha256", "protocol", "features", "extractor_sha256",
    "n_samples", "seed", "bootstrap", "resolution", "resize", "real_side",
)


def open_dataset(data: str | Path) -> Dataset:
    """The dataset at ``data``; a missing default folder gets an error that says what to do."""
    path = Path(data)
    if not path.exists():
        hint = " (the default)" if path == DEFAULT_DATA else ""
        raise SlbenchError(
            f"no dataset at {path}{hint}; give --data PATH, or write the built-in one with `slbench data synth {path}`"
        )
    return load_dataset(path).require_usable()


def default_out() -> Path:
    """``results/<timestamp>-<short-id>/``."""
    return DEFAULT_RESULTS / f"{datetime.now().strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(3)}"


@dataclass
class RunRecord:
    """Everything the results folder will hold, accumulated pair by pair."""

    settings: dict[str, Any]
    provenance: dict[str, Any]
    rows: list[dict[str, Any]] = field(default_factory=list)
    artifacts: dict[str, dict[str, str]] = field(
        default_factory=lambda: {"samples": {}, "real": {}, "memorisation_pairs": {}}
    )

    def done_pairs(self) -> set[str]:
        return {f"{row['model']}/{row['category']}" for row in self.rows if row["table"] == "quality"}

    def write(self, out: Path) -> None:
        write_results(out, self.rows, settings=self.settings, provenance=self.provenance, artifacts=self.artifacts)


def run_settings(*, plan: EvaluationPlan, dataset: Dataset, extractor: Any, n_samples: int | None,
                 n_fake: dict[str, int], seed: int, bootstrap: int, batch: int, sides: RealSides,
                 protocol: Protocol | None = None) -> dict[str, Any]:
    """The settings of a run as ``metrics.json`` stores them (``slbench check`` replays them)."""
    return {
        "command": "run",
        "data": str(dataset.root),
        "data_fingerprint": dataset.fingerprint(),
        **describe_plan(plan),
        "protocol": protocol.name if protocol is not None else None,
        "protocol_settings": protocol.to_json() if protocol is not None else None,
        "features": extractor.name,
        "extractor_sha256": extractor.weights_sha256,
        "n_samples": n_samples,
        "n_fake": n_fake,
        "seed": seed,
        "bootstrap": bootstrap,
        "resize_filter": RESIZE_FILTER,
        "batch": batch,
        "real_side": sides.to_json(),
        "real_counts": {category: {side: len(sides.records(dataset, category, side))
                                   for side in dict.fromkeys((sides.quality, sides.memorisation))}
                        for category in plan.categories},
        TRAINING_DATA_KEY: {pair.key: record for pair in plan.pairs
                            if (record := training_images_record(pair.checkpoint.metadata, dataset)) is not None},
    }


def resumed_record(out: Path, settings: dict[str, Any]) -> RunRecord | None:
    """The stored record of an interrupted run in ``out``, checked against this run's settings."""
    if not (out / METRICS_JSON).is_file():
        return None
    try:
        stored = load_results(out)
    except ResultsError as err:
        raise SlbenchError(f"cannot resume from {out}: {err}") from None
    differing = [key for key in RESUME_KEYS if stored.settings.get(key) != settings.get(key)]
    if differing:
        raise SlbenchError(
            f"cannot resume {out}: it was run with other {', '.join(differing)}; "
            "repeat the original options, or start a new run with another --out"
        )
    rows = stored.rows.to_dict("records")
    return RunRecord(stored.settings, stored.provenance, rows, {k: dict(v) for k, v in stored.artifacts.items()})


RUN_PARTS = ("samples", "real", "memorisation", "tracks", LOCK_NAME)
"""What an interrupted run may have left before its first ``metrics.json``."""


def prepare_out(out: Path | None, resume: bool, *, locked: bool = True) -> Path:
    """The results folder: new, empty, or (with ``resume``) one holding an interrupted run.

    A folder holding anything else is refused, so a run never mixes its files with others;
    whether stored results match this run's settings is checked by :func:`resumed_record`.
    Before the folder's lock is taken (``locked=False``) only files that are no run's are
    refused: what looks like an unfinished run may be one still running, which the lock tells.
    """
    if out is None:
        if resume:
            raise SlbenchError("--resume needs --out: the results folder of the run to continue")
        return default_out()
    if not out.exists():
        return out
    if not out.is_dir():
        raise SlbenchError(f"{out} is a file; give a folder for the results with --out")
    if (out / METRICS_JSON).exists():
        if not resume:
            raise SlbenchError(f"{out} already holds results; add --resume to continue that run, or choose another --out")
        return out
    entries = [entry for entry in out.iterdir() if not is_partial_write(entry)]
    others = sorted(entry.name for entry in entries if entry.name not in RUN_PARTS)
    if others:
        shown = ", ".join(others[:3]) + (", ..." if len(others) > 3 else "")
        raise SlbenchError(f"{out} already holds other files ({shown}); give an empty or new folder with --out")
    if locked and not resume and any(entry.name != LOCK_NAME for entry in entries):
        raise SlbenchError(f"{out} holds an interrupted run; add --resume to continue it, or choose another --out")
    return out


def write_pair_images(out: Path, result: PairResult, real_images: torch.Tensor, record: RunRecord,
                      trained_images: torch.Tensor | None = None) -> None:
    """Sample grid, real grid (once per class) and memorisation pairs of one evaluated pair; the pairs'
    real images come from ``trained_images`` (memorisation's side) when given, else ``real_images``."""
    key = f"{result.model}/{result.category}"
    stem = f"{result.model}_{result.category}"
    write_sample_grid(result.fake_images, out / "samples" / f"{stem}.png")
    record.artifacts["samples"][key] = f"samples/{stem}.png"
    if result.category not in record.artifacts["real"]:
        write_sample_grid(real_images, out / "real" / f"{result.category}.png")
        record.artifacts["real"][result.category] = f"real/{result.category}.png"
    if result.memorisation_pairs:
        write_memorisation_pairs(result.fake_images, real_images if trained_images is None else trained_images,
                                 result.memorisation_pairs,
                                 out / "memorisation" / f"{stem}.png")
        record.artifacts["memorisation_pairs"][key] = f"memorisation/{stem}.png"


def copy_track(out: Path, pair: PlannedPair, record: RunRecord) -> None:
    """Keep the training track of the pair's checkpoint folder with the results, for the report's curves."""
    folder = pair.checkpoint.path.parent
    if not has_track(folder):
        return
    target = out / "tracks" / f"{pair.model}_{pair.category}"
    for name in (TRACK_CSV, TRACK_JSON):
        atomic_write_bytes(target / name, (folder / name).read_bytes())
    record.artifacts.setdefault("tracks", {})[pair.key] = f"tracks/{pair.model}_{pair.category}/{TRACK_CSV}"


def run_evaluation(
    *,
    data: str | Path = DEFAULT_DATA,
    models: str = "all",
    categories: str = "MEL",
    checkpoints: str | Path = DEFAULT_CHECKPOINTS,
    n_samples: int | None = None,
    features: str | None = None,
    out: str | Path | None = None,
    seed: int = 0,
    bootstrap: int = 0,
    resume: bool = False,
    weights_dir: str | Path | None = None,
    trust_weights: str | Path | None = None,
    resolution: int | None = None,
    batch: int = 64,
    device: str | torch.device | None = None,
    report_formats: tuple[str, ...] = FORMATS,
    select: str = "latest",
    dry_run: bool = False,
    real_side: str | None = None,
    select_on: str = "track",
    protocol: str | None = None,
) -> Path:
    """Evaluate every requested (model, category) pair and write the results folder; returns it.

    ``protocol`` names a registered evaluation protocol (:mod:`~slbench.evaluation.protocols`),
    which pins the extractor, the generated images per class, the resize and the metric set;
    ``features`` (default ``inception``) and ``n_samples`` may then only repeat what it pins.

    The plan, with an estimate measured on this device, is printed first; ``dry_run`` stops
    there and writes nothing. The reports in ``report_formats`` (default: all of Markdown,
    LaTeX, wide CSV and HTML) are rendered into the folder at the end. ``select`` is ``latest``
    (each folder's newest checkpoint) or ``best:METRIC`` (the best step of each folder's track).
    ``real_side`` is ``all``, ``test`` or ``train`` (``None``: the held-out side when every
    checkpoint was trained on the training side of one lesion split, else all; see
    :mod:`slbench.evaluation.real_sides`). ``select_on="train"`` takes the best step only from tracks
    measured on the training side of the checkpoints' lesion split, and reports it on the held-out side.
    Under ``torchrun`` every rank calls this; rank 0 writes the results (see
    :mod:`slbench.evaluation.sharding`).
    """
    started = time.perf_counter()
    resolved = resolve_protocol(protocol, features=features, n_samples=n_samples, default_features=DEFAULT_EXTRACTOR)
    check_counts(n_samples=resolved.n_samples, bootstrap=bootstrap, batch=batch)
    check_evaluation_seed(seed)
    shard = open_shard(device)
    try:
        return _run(shard, started, data=data, models=models, categories=categories, checkpoints=checkpoints,
                    n_samples=resolved.n_samples, features=resolved.features, protocol=resolved.protocol, out=out, seed=seed, bootstrap=bootstrap, resume=resume,
                    weights_dir=weights_dir, trust_weights=trust_weights, resolution=resolution, batch=batch,
                    report_formats=report_formats, select=select, dry_run=dry_run, real_side=real_side,
                    select_on=check_select_on(select_on))
    finally:
        close_shard(shard)


def _run(shard: Shard, started: float, *, data, models, categories, checkpoints, n_samples, features, protocol, out,
         seed, bootstrap, resume, weights_dir, trust_weights, resolution, batch, report_formats, select, dry_run,
         real_side, select_on) -> Path:
    dataset = open_dataset(data)
    available = {category: len(dataset.records(category)) for category in dataset.categories()}
    plan = plan_evaluation(
        models=models, categories=categories, checkpoints=Path(checkpoints), known_models=tuple(MODELS),
        known_categories=CATEGORIES, available=available, resolution=resolution, min_images=MIN_REAL_IMAGES,
        select=parse_select(select), select_on=select_on,
    )
    sides = choose_real_sides(dataset, [(pair.key, pair.checkpoint.metadata) for pair in plan.pairs], real_side)
    counts = check_side_counts(dataset, sides, plan.categories)
    plan = reported_plan(plan, sides.quality, sides.split.fingerprint("train") if sides.split else None,
                         select_on=select_on)
    extractor = load_extractor(features, protocol, plan.resolution, weights_dir=weights_dir,
                               trust_weights=trust_weights, device=shard.device, data_fingerprint=dataset.fingerprint())
    n_fake = {c: n_samples or default_n_fake(counts[c]) for c in plan.categories}
    settings = run_settings(plan=plan, dataset=dataset, extractor=extractor, n_samples=n_samples, n_fake=n_fake,
                            seed=seed, bootstrap=bootstrap, batch=batch, sides=sides, protocol=protocol)
    out_path = Path(out) if out is not None else None
    decided: dict[str, Any] = {}

    lock = contextlib.ExitStack()  # the results folder's lock, held by the main process to the end

    def decide() -> tuple[Path, set[str]]:
        folder = prepare_out(out_path, resume, locked=False)
        if not dry_run:
            lock.enter_context(locked_output_folder(folder, "slbench run"))
            prepare_out(folder, resume)
        decided["record"] = (resumed_record(folder, settings) if resume else None) or RunRecord(settings, {})
        return folder, decided["record"].done_pairs()

    with lock:
        out_path, done = from_main(shard, decide)
        context = EvaluationContext(dataset=dataset, extractor=extractor,
                                    lpips=open_lpips(weights_dir, trust_weights, shard.device, protocol),
                                    resolution=plan.resolution, seed=seed, bootstrap=bootstrap, batch=batch,
                                    device=shard.device, resize=plan.resize, shard=shard, sides=sides,
                                    protocol=protocol)
        if shard.is_main:
            show_plan(context, plan, n_fake, done, out_path, dry_run=dry_run)
        if dry_run:
            return out_path
        if not shard.is_main:
            evaluate_plan(context, plan, None, out_path, n_fake, done)
            return out_path
        record = decided["record"]
        record.provenance = run_provenance(context, record.provenance, plan)
        try:
            evaluate_plan(context, plan, record, out_path, n_fake, done)
        except KeyboardInterrupt:
            console.print(f"interrupted: {len(record.done_pairs())} finished pair(s) are saved in {plain(out_path)}; "
                          f"continue with the same command plus --resume --out {plain(out_path)}", highlight=False)
            raise
        record.provenance["timings_s"]["total_last_session"] = round(time.perf_counter() - started, 3)
        record.write(out_path)
        # The results table printed above holds every row of the run and warns of unequal budgets in
        # its caption; the reports say it again in theirs, so the console hears it once.
        written = render_report(out_path, formats=report_formats)
        console.print("report: " + ", ".join(plain(path) for path in written.values()), highlight=False)
        return out_path


def show_plan(context: EvaluationContext, plan: EvaluationPlan, n_fake: dict[str, int], done: set[str], out: Path,
              *, dry_run: bool) -> None:
    """The plan with its estimate, measured by a short warm-up on this device."""
    work = plan_work(context, plan, n_fake, done)
    named = f"protocol {context.protocol.name}, " if context.protocol is not None else ""
    heading = (f"{'plan (dry run, nothing written)' if dry_run else 'plan'}: {len(work)} of {len(plan.pairs)} "
               f"model/category pair(s) to evaluate, {named}{context.extractor.name} features, {plan.resolution} px "
               f"({plan.resolution_source}), results {out}")
    if not work:
        console.print(plain(heading), highlight=False)
        return
    with console.status("measuring a short warm-up for the estimate"):
        rates = measure_rates(context, plan)
    print_plan(estimate_run(work, rates, context.shard.world_size), title=plain(heading))


def evaluate_plan(context: EvaluationContext, plan: EvaluationPlan, record: RunRecord | None, out: Path,
                  n_fake: dict[str, int], done: set[str]) -> None:
    """Evaluate the pairs not done yet; rank 0 (``record`` given) saves the whole record after each."""
    todo = [pair for pair in plan.pairs if pair.key not in done]
    if record is None:  # a rank that only shares the generation and extraction
        for pair in todo:
            evaluate_pair(context, model=pair.model, category=pair.category, checkpoint=pair.checkpoint,
                          n_fake=n_fake[pair.category])
        return
    warning = unequal_training_data_warning(training_data_entries(record.settings))
    with RunDisplay(len(plan.pairs), record.rows, completed=len(plan.pairs) - len(todo),
                    warnings=(warning,) if warning else ()) as display:
        for pair in todo:
            result = evaluate_pair(
                context, model=pair.model, category=pair.category, checkpoint=pair.checkpoint,
                n_fake=n_fake[pair.category], on_stage=lambda stage, key=pair.key: display.stage(key, stage),
            )
            real, trained = context.real_side(pair.category), context.memorisation_side(pair.category)
            write_pair_images(out, result, real.images, record, trained.images)
            copy_track(out, pair, record)
            record.rows.extend(result.rows)
            selection = {"selection": pair.selection.to_json()} if pair.selection else {}
            record.provenance["pairs"][pair.key] = {**result.provenance, **selection}
            record.provenance["real_sides"].setdefault(
                pair.category, {**real.provenance, "memorisation": trained.provenance})
            record.write(out)
            display.pair_done(result.rows)


def run_provenance(context: EvaluationContext, stored: dict[str, Any], plan: EvaluationPlan) -> dict[str, Any]:
    """Provenance of this session, keeping the per-pair records of an interrupted one."""
    metric_settings = context.metric_settings()
    return {
        "packages": package_versions(),
        "protocol": context.protocol.to_json() if context.protocol is not None else None,
        "extractor": extractor_provenance(context.extractor),
        "lpips": context.lpips.provenance,
        "data": data_provenance(context.dataset, resize=context.resize, resize_filter=RESIZE_FILTER),
        "resolution": {"evaluation": plan.resolution, "source": plan.resolution_source,
                       "generated_resize_filter": RESIZE_FILTER, "generated_images_upscaled": False},
        "seeds": {"run": context.seed, "sampling": "per chunk of 256 images: SeedSequence(seed, spawn_key=(chunk,))",
                  "lpips_pairs": context.seed, "bootstrap_and_kid_subsets": context.seed},
        "metric_settings": metric_settings.to_dict(),
        "device": str(context.device),
        "pairs": dict(stored.get("pairs", {})),
        "real_sides": dict(stored.get("real_sides", {})),
        "ranks": context.shard.world_size,
        "timings_s": dict(stored.get("timings_s", {})),
    }


def check_side_counts(dataset: Dataset, sides: RealSides, categories: tuple[str, ...]) -> dict[str, int]:
    """Images per class on the quality side; a side too small for the metrics is an error naming it."""
    counts, problems = {}, []
    for category in categories:
        counts[category] = len(sides.records(dataset, category, sides.quality))
        trained = len(sides.records(dataset, category, sides.memorisation))
        if counts[category] < MIN_REAL_IMAGES:
            problems.append(f"{category} has {counts[category]} image(s) on {SIDE_WORDS[sides.quality]}, "
                            f"the metrics need {MIN_REAL_IMAGES}")
        if trained < 2:
            problems.append(f"{category} has {trained} image(s) on {SIDE_WORDS[sides.memorisation]}, "
                            "memorisation needs 2")
    if problems:
        advice = ("give --real-side all to score against every image of the class" if sides.quality != "all"
                  else "leave the class out, or add images of it")
        raise SlbenchError("; ".join(problems) + "; " + advice)
    return counts


def check_counts(*, n_samples: int | None, bootstrap: int, batch: int) -> None:
    if n_samples is not None and n_samples < MIN_FAKE_IMAGES:
        raise SlbenchError(
            f"--n-samples must be at least {MIN_FAKE_IMAGES} (the k-NN metrics need k + 1, PRD's k-means "
            f"{PRD_MIN_SET}), got {n_samples}"
        )
    if bootstrap < 0:
        raise SlbenchError(f"--bootstrap must be 0 or more, got {bootstrap}")
    if bootstrap and n_samples is not None and n_samples < 2 * MIN_HALF:
        raise SlbenchError(f"--bootstrap needs --n-samples of at least {2 * MIN_HALF} (half-samples of {MIN_HALF}), "
                           f"got {n_samples}")
    if batch < 1:
        raise SlbenchError(f"--batch must be at least 1, got {batch}")
