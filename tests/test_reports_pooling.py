"""Pooling training runs: the mean, spread and t interval over runs, and every refusal."""

from __future__ import annotations

import math

import pytest
from scipy import stats

from reports.pooling import pool_runs, pooling_note
from reports.render import render_report
from reports.results import ResultsError, load_results, write_results
from reports_factory import quality_row

SETTINGS = {"command": "run", "features": "inception", "n_samples": 1000, "seed": 0, "resolution": 256,
            "data": "/data/isic", "data_fingerprint": "cd" * 32}


def write_training_run(folder, seed, values, *, settings=None, kimg=32.0, sha=None, extra_rows=()):
    """A results folder of `slbench run` on checkpoints trained with ``seed``: ``values`` maps
    (model, metric) to the value measured on MEL."""
    rows = [quality_row(model, "MEL", metric, value, kimg=kimg) for (model, metric), value in values.items()]
    models = sorted({model for model, _ in values})
    recorded = {**SETTINGS, **(settings or {}),
                "checkpoints": {f"{m}/MEL": f"ck-{seed}/{m}/MEL/step-0002000.safetensors" for m in models},
                "checkpoint_sha256": {f"{m}/MEL": sha or f"{m}-{seed}" for m in models}}
    provenance = {"packages": {"torch": "2.14.1"},
                  "pairs": {f"{m}/MEL": {"checkpoint": {"metadata": {"seed": seed}}} for m in models}}
    return load_results(write_results(folder, [*rows, *extra_rows], settings=recorded, provenance=provenance,
                                      artifacts={}))


def three_runs(tmp_path, fids=(20.0, 24.0, 31.0), **options):
    return [write_training_run(tmp_path / f"run-{seed}", seed,
                               {("sl-stylegan", "fid"): fid, ("sl-stylegan", "precision"): 0.8,
                                ("dcgan", "fid"): 60.0 + seed, ("dcgan", "precision"): 0.5},
                               **options)
            for seed, fid in enumerate(fids)]


def pooled_row(pooled, model, metric):
    (row,) = [row for row in pooled.rows if row["model"] == model and row["metric"] == metric]
    return row


def test_value_is_the_mean_over_runs_with_their_spread_and_t_interval(tmp_path):
    pooled = pool_runs(three_runs(tmp_path))
    row = pooled_row(pooled, "sl-stylegan", "fid")
    spread = math.sqrt((5.0**2 + 1.0**2 + 6.0**2) / 2)  # deviations from the mean 25
    half = stats.t.ppf(0.975, 2) * spread / math.sqrt(3)
    assert row["value"] == pytest.approx(25.0)
    assert row["std"] == pytest.approx(spread)
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((25.0 - half, 25.0 + half))
    assert half == pytest.approx(13.83, abs=0.01)
    assert row["kimg"] == 32.0 and row["step"] == 2000 and row["note"] == ""


def test_identical_values_pool_to_themselves_with_no_spread(tmp_path):
    row = pooled_row(pool_runs(three_runs(tmp_path)), "sl-stylegan", "precision")
    assert (row["value"], row["std"], row["ci_low"], row["ci_high"]) == pytest.approx((0.8, 0.0, 0.8, 0.8))


def test_intervals_are_clipped_to_what_the_metric_can_take(tmp_path):
    runs = three_runs(tmp_path, fids=(1.0, 2.0, 30.0))
    row = pooled_row(pool_runs(runs, bounds={"fid": (0.0, math.inf)}), "sl-stylegan", "fid")
    assert row["ci_low"] == 0.0 and row["ci_high"] > row["value"] == pytest.approx(11.0)


def test_pooled_rows_keep_the_runs_low_reliability_flags_and_notes(tmp_path):
    flagged = quality_row("dcgan", "MEL", "kid", 0.1, low_reliability=True, note="KID subset size reduced")
    plain = quality_row("dcgan", "MEL", "kid", 0.2)
    runs = [write_training_run(tmp_path / f"run-{seed}", seed, {("dcgan", "fid"): 60.0}, extra_rows=[row])
            for seed, row in enumerate([flagged, plain])]
    row = pooled_row(pool_runs(runs), "dcgan", "kid")
    assert row["low_reliability"] and row["note"] == "KID subset size reduced"


def test_settings_and_provenance_name_every_run(tmp_path):
    pooled = pool_runs(three_runs(tmp_path))
    assert pooled.settings["command"] == "pool" and pooled.settings["pooling"]["runs"] == ["run-0", "run-1", "run-2"]
    assert pooled.settings["pooling"]["training_seeds"] == {"dcgan/MEL": [0, 1, 2], "sl-stylegan/MEL": [0, 1, 2]}
    assert pooling_note(pooled.settings) == (
        "Values: the mean of 3 training runs of each model (training seeds 0, 1, 2); ± half-width of the t 95% "
        "interval of that mean over the runs (the runs' own intervals, which resample only generated images, "
        "are left out).")
    assert "checkpoints" not in pooled.settings and pooled.settings["data"] == "/data/isic"
    per_run = pooled.provenance["pooled_runs"]
    assert per_run["run-1"]["pairs"]["dcgan/MEL"] == {
        "checkpoint": "ck-1/dcgan/MEL/step-0002000.safetensors", "checkpoint_sha256": "dcgan-1", "training_seed": 1}
    assert "pairs" not in pooled.provenance


def test_the_dataset_may_lie_elsewhere_when_its_fingerprint_agrees(tmp_path):
    runs = three_runs(tmp_path)
    runs[1] = write_training_run(tmp_path / "moved", 1, {("sl-stylegan", "fid"): 24.0, ("sl-stylegan", "precision"): 0.8,
                                                       ("dcgan", "fid"): 61.0, ("dcgan", "precision"): 0.5},
                                 settings={"data": "/elsewhere/isic"})
    assert pooled_row(pool_runs(runs), "sl-stylegan", "fid")["value"] == pytest.approx(25.0)


def test_one_run_is_refused(tmp_path):
    with pytest.raises(ResultsError, match="at least two training runs, got 1; train each model again with another --seed"):
        pool_runs(three_runs(tmp_path)[:1])


def test_runs_evaluated_differently_are_refused(tmp_path):
    runs = three_runs(tmp_path)
    runs[2] = write_training_run(tmp_path / "other", 2, {("sl-stylegan", "fid"): 1.0}, settings={"n_samples": 500})
    with pytest.raises(ResultsError, match=r"run-0 and other were evaluated differently \(n_samples 1000 against 500\)"):
        pool_runs(runs)


def test_runs_whose_checkpoints_saw_different_images_are_refused_naming_the_model(tmp_path):
    everything = {"side": "all", "images": 60, "fingerprint": "a" * 64, "scored_dataset": True}
    training_side = {"side": "train", "images": 48, "fingerprint": "b" * 64, "scored_dataset": True}
    values = {("dcgan", "fid"): 60.0}
    runs = [write_training_run(tmp_path / f"run-{seed}", seed, values,
                               settings={"trained_on": {"dcgan/MEL": trained}})
            for seed, trained in enumerate((everything, training_side))]
    with pytest.raises(ResultsError, match=r"run-0 and run-1 hold checkpoints of dcgan/MEL trained on different real "
                                           r"images \(all 60 images against the training side of the lesion split "
                                           r"\(48 images\)\)"):
        pool_runs(runs)


def test_runs_with_different_rows_are_refused(tmp_path):
    runs = three_runs(tmp_path)[:1]
    runs.append(write_training_run(tmp_path / "fewer", 1, {("sl-stylegan", "fid"): 24.0, ("sl-stylegan", "precision"): 0.8,
                                                         ("dcgan", "fid"): 61.0}))
    with pytest.raises(ResultsError, match=r"run-0 has a result that fewer lacks \(.*model=dcgan, category=MEL, "
                                           r"metric=precision"):
        pool_runs(runs)


def test_a_model_trained_for_different_budgets_is_refused(tmp_path):
    runs = three_runs(tmp_path)[:2]
    runs.append(write_training_run(tmp_path / "longer", 2, {("sl-stylegan", "fid"): 24.0, ("sl-stylegan", "precision"): 0.8,
                                                          ("dcgan", "fid"): 61.0, ("dcgan", "precision"): 0.5},
                                   kimg=64.0))
    with pytest.raises(ResultsError, match=r"the runs differ in kimg \(run-0 32.0, run-1 32.0, longer 64.0\); "
                                           r"pool runs whose checkpoints were trained for the same budget"):
        pool_runs(runs)


def test_one_checkpoint_counted_twice_is_refused(tmp_path):
    runs = three_runs(tmp_path, sha="same")
    with pytest.raises(ResultsError, match="run-0 and run-1 evaluated the same dcgan/MEL checkpoint"):
        pool_runs(runs)


def test_utility_results_are_refused(tmp_path):
    utility = quality_row("real+dcgan", "all", "balanced_accuracy", 0.6, table="utility")
    runs = [write_training_run(tmp_path / f"run-{seed}", seed, {("dcgan", "fid"): 60.0}, extra_rows=[utility])
            for seed in range(2)]
    with pytest.raises(ResultsError, match="run-0 holds utility results; pooling takes `slbench run` results only"):
        pool_runs(runs)


def test_runs_in_folders_of_one_name_stay_apart(tmp_path):
    values = {("dcgan", "fid"): 60.0}
    runs = [write_training_run(tmp_path / parent / "results", seed, values) for seed, parent in enumerate("ab")]
    pooled = pool_runs(runs)
    assert pooled.settings["pooling"]["runs"] == ["results", "results-2"]
    assert [run["pairs"]["dcgan/MEL"]["training_seed"] for run in pooled.provenance["pooled_runs"].values()] == [0, 1]


def selected_run(folder, seed, step, *, selection_set="train", reported_on="test"):
    """A run of `slbench run --select best:fid` that chose ``step`` (16 images a step) for dcgan/MEL."""
    record = {"rule": "best:fid", "step": step, "kimg": step * 0.016, "selection_set": selection_set,
              "reported_on": reported_on, "optimistic": not (selection_set == "train" and reported_on == "test"),
              "reason": f"step {step}: lowest FID"}
    run = write_training_run(folder / "tmp", seed, {("dcgan", "fid"): 50.0 + seed},
                             settings={"select": "best:fid", "selection": {"dcgan/MEL": record}})
    rows = [{**row, "step": step, "kimg": step * 0.016} for row in run.rows.to_dict("records")]
    return load_results(write_results(folder / f"run-{seed}", rows, settings=run.settings, provenance=run.provenance,
                                      artifacts={}))


def test_steps_chosen_from_each_runs_track_may_differ(tmp_path):
    runs = [selected_run(tmp_path, seed, step) for seed, step in enumerate((500, 700, 600))]
    pooled = pool_runs(runs)
    row = pooled_row(pooled, "dcgan", "fid")
    assert row["step"] is None and row["kimg"] == pytest.approx(9.6)
    (record,) = pooled.settings["selection"].values()
    assert record["steps"] == [500, 700, 600] and not record["optimistic"]
    assert record["reason"] == ("best:fid of each run's own track, steps 500, 700, 600 (9.60 kimg on average), "
                                "selected on the training side of the lesion-grouped split, reported on the "
                                "held-out (test) side of the lesion-grouped split")


def test_a_selection_made_on_other_images_in_one_run_counts_as_optimistic(tmp_path):
    runs = [selected_run(tmp_path, 0, 500), selected_run(tmp_path, 1, 700, selection_set="all")]
    (record,) = pool_runs(runs).settings["selection"].values()
    assert record["selection_set"] == "mixed" and record["optimistic"]


def test_without_a_selection_equal_budgets_are_kept_exactly(tmp_path):
    runs = three_runs(tmp_path, kimg=0.896)
    row = pooled_row(pool_runs(runs), "dcgan", "fid")
    assert row["kimg"] == 0.896 and row["step"] == 2000 and "selection" not in pool_runs(runs).settings


def test_the_report_of_pooled_selections_lists_every_runs_step(tmp_path):
    pooled = pool_runs([selected_run(tmp_path, seed, step) for seed, step in enumerate((500, 700))])
    folder = write_results(tmp_path / "pooled", pooled.rows, settings=pooled.settings, provenance=pooled.provenance,
                           artifacts={})
    report = render_report(folder, formats="md")["md"].read_text()
    assert "dcgan/MEL best:fid of each run's own track, steps 500, 700" in " ".join(report.split())
    assert "Values: the mean of 2 training runs of each model (training seeds 0, 1);" in report


def test_seeds_that_differ_by_model_are_named_per_model():
    settings = {"pooling": {"runs": ["a", "b"], "training_seeds": {"dcgan/MEL": [0, 1], "stylegan/MEL": [0, None]},
                            "interval": "t 95%"}}
    assert "(training seeds dcgan/MEL 0, 1; stylegan/MEL 0, ?)" in pooling_note(settings)
    assert pooling_note({"features": "lesion"}) == ""


def test_a_report_combining_pooled_and_single_runs_says_which_run_pooled(tmp_path):
    runs = three_runs(tmp_path)
    pooled = pool_runs(runs)
    folder = write_results(tmp_path / "pooled", pooled.rows, settings=pooled.settings, provenance=pooled.provenance,
                           artifacts={})
    report = render_report([folder, runs[0].folder], formats="md", out=tmp_path / "both")["md"].read_text()
    assert "pooled: Values: the mean of 3 training runs of each model" in report
    assert "run-0: Values" not in report
