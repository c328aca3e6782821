"""`slbench check` against a stored run: passes the same checkpoint, fails a broken one, refuses bad input."""

from __future__ import annotations

import json
import shutil

import pytest
from typer.testing import CliRunner

from slbench.cli import app
from slbench.evaluation import run_evaluation
from slbench.gate import check_candidate
from slbench.training import train_model
from evaluation_builders import save_generator_checkpoint, stand_in_lpips, train_tiny_lesion_extractor, trained_on_split

DCGAN_SETTINGS = ("ngf=16", "ndf=16", "batch_size=32", "snapshot_every=1000")


@pytest.fixture(scope="module")
def baseline(tmp_path_factory, synthetic_dataset):
    """A DCGAN briefly trained on MEL and a run of it with bootstrap intervals."""
    root = tmp_path_factory.mktemp("check")
    lesion = root / "lesion"
    lesion.mkdir()
    train_tiny_lesion_extractor(synthetic_dataset, lesion)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SLBENCH_CACHE", str(root / "cache"))
        patch.setattr("slbench.evaluation.context.load_lpips", stand_in_lpips)
        train_model(model="dcgan", category="MEL", data=synthetic_dataset, resolution=32, steps=30,
                    out=root / "checkpoints" / "dcgan" / "MEL", seed=0, settings=DCGAN_SETTINGS, device="cpu")
        results = run_evaluation(
            data=synthetic_dataset, models="dcgan", categories="MEL", checkpoints=root / "checkpoints",
            n_samples=40, features="lesion", out=root / "results", seed=1, bootstrap=20, weights_dir=lesion,
            batch=20, report_formats=("md",),
        )
    candidate = root / "checkpoints" / "dcgan" / "MEL"
    return {"root": root, "results": results, "weights_dir": lesion, "candidate": candidate}


@pytest.fixture(autouse=True)
def lpips_stand_in(monkeypatch):
    monkeypatch.setattr("slbench.evaluation.context.load_lpips", stand_in_lpips)


def check(baseline, candidate, *extra):
    args = ["check", str(candidate), "--baseline", str(baseline["results"]),
            "--weights-dir", str(baseline["weights_dir"]), *extra]
    return CliRunner().invoke(app, args)


def test_a_checkpoint_passes_against_its_own_results(baseline):
    result = check(baseline, baseline["candidate"], "--json")
    assert result.exit_code == 0, result.output
    verdict = json.loads(result.stdout)
    assert verdict["verdict"] == "pass" and verdict["regressed_metrics"] == []
    assert verdict["settings"]["seed"] == 1 and verdict["settings"]["n_fake"] == 40
    by_metric = {m["metric"]: m for m in verdict["metrics"]}
    assert {"fid", "kid", "precision", "recall", "coverage", "lpips_fake"} <= set(by_metric)
    assert all(m["delta"] == 0.0 for m in verdict["metrics"] if m["delta"] is not None)
    assert "measured as the baseline was: lesion · 32 px" in " ".join(result.stderr.split())
    trained = {"step": 30, "kimg": 0.96, "stage": None}  # 30 steps of 32 images, fully grown
    assert verdict["budgets"] == {"baseline": trained, "candidate": trained}
    assert "trained: baseline step 30, 0.96 kimg, candidate step 30, 0.96 kimg" in " ".join(result.stderr.split())
    assert "budgets differ" not in result.stderr
    assert verdict["training_data"]["baseline"] == verdict["training_data"]["candidate"]
    assert verdict["training_data"]["candidate"]["side"] == "all" and "different real images" not in result.stderr
    assert by_metric["fid"]["rule"].startswith("baseline CI")  # the run bootstrapped FID
    assert by_metric["lpips_real"]["verdict"] == "reference"


def test_re_initialised_weights_regress_with_exit_code_1(baseline):
    broken = save_generator_checkpoint(baseline["root"] / "broken", "dcgan", "MEL", seed=5)
    result = check(baseline, broken, "--json")
    assert result.exit_code == 1, result.output
    verdict = json.loads(result.stdout)
    assert verdict["verdict"] == "regressed"
    assert "fid" in verdict["regressed_metrics"]
    fid = next(m for m in verdict["metrics"] if m["metric"] == "fid")
    assert fid["candidate"] > fid["threshold"] > fid["baseline"]
    assert "regressed" in result.stderr
    assert verdict["budgets"]["candidate"] == {"step": 1, "kimg": 0.016, "stage": None}
    assert "candidate step 1, 0.016 kimg; the budgets differ by more than 10%" in " ".join(result.stderr.split())


def test_a_candidate_trained_on_other_images_says_so_beside_the_budgets(baseline, synthetic_dataset):
    split = save_generator_checkpoint(baseline["root"] / "split", "dcgan", "MEL", seed=5,
                                      trained={**trained_on_split(synthetic_dataset), "num_images": 7})
    result = check(baseline, split, "--json")
    verdict = json.loads(result.stdout)
    assert verdict["training_data"]["candidate"]["side"] == "train"
    assert verdict["training_data"]["candidate"]["images"] == 7
    said = " ".join(result.stderr.split())
    baseline_images = verdict["training_data"]["baseline"]["images"]
    assert (f"trained on different real images (baseline all {baseline_images} images, candidate the training side "
            "of the lesion split (7 images)), so a difference may reflect the training data") in said


def test_a_generous_tolerance_lets_the_broken_checkpoint_pass(baseline):
    broken = save_generator_checkpoint(baseline["root"] / "broken-tolerated", "dcgan", "MEL", seed=5)
    outcome = check_candidate(candidate=broken, baseline=baseline["results"], tolerance="1e6",
                              weights_dir=baseline["weights_dir"])
    assert not outcome.regressed
    assert {c.rule for c in outcome.comparisons if c.verdict != "reference"} == {"--tolerance 1e+06 relative"}


def test_mismatched_category_is_bad_input(baseline):
    other = save_generator_checkpoint(baseline["root"] / "other", "dcgan", "NV")
    result = check(baseline, other)
    assert result.exit_code == 2
    assert "trained on category NV" in result.stderr and "holds MEL" in result.stderr
    assert "Traceback" not in result.output


def test_mismatched_resolution_is_bad_input(baseline):
    bigger = save_generator_checkpoint(baseline["root"] / "bigger", "dcgan", "MEL", resolution=64)
    result = check(baseline, bigger)
    assert result.exit_code == 2
    assert "generates 64 px images" in result.stderr


def test_missing_baseline_fields_are_bad_input(baseline, tmp_path):
    damaged = tmp_path / "damaged"
    shutil.copytree(baseline["results"], damaged)
    document = json.loads((damaged / "metrics.json").read_text())
    del document["settings"]["seed"], document["settings"]["features"]
    (damaged / "metrics.json").write_text(json.dumps(document))
    result = CliRunner().invoke(app, ["check", str(baseline["candidate"]), "--baseline", str(damaged)])
    assert result.exit_code == 2
    assert "lacks the setting(s) features, seed" in result.stderr


def test_bad_tolerance_and_missing_inputs_are_bad_input(baseline, tmp_path):
    assert check(baseline, baseline["candidate"], "--tolerance", "fid=lots").exit_code == 2
    unknown = check(baseline, baseline["candidate"], "--tolerance", "sharpness=0.1")
    assert unknown.exit_code == 2 and "unknown metric(s) sharpness" in unknown.stderr
    assert check(baseline, tmp_path / "nothing-here").exit_code == 2
    no_results = CliRunner().invoke(app, ["check", str(baseline["candidate"]), "--baseline", str(tmp_path)])
    assert no_results.exit_code == 2 and "holds no results" in no_results.stderr


@pytest.fixture(scope="module")
def every_model_baseline(baseline, synthetic_dataset):
    """A run with intervals over a checkpoint of every model (freshly initialised, small)."""
    root = baseline["root"] / "every-model"
    for model in ("sl-stylegan", "stylegan", "dcgan"):
        save_generator_checkpoint(root / "checkpoints", model, "MEL", seed=3)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SLBENCH_CACHE", str(baseline["root"] / "cache"))
        patch.setattr("slbench.evaluation.context.load_lpips", stand_in_lpips)
        results = run_evaluation(
            data=synthetic_dataset, models="all", categories="MEL", checkpoints=root / "checkpoints",
            n_samples=40, features="lesion", out=root / "results", seed=2, bootstrap=20,
            weights_dir=baseline["weights_dir"], batch=20, report_formats=("md",),
        )
    return {**baseline, "results": results, "root": root}


@pytest.mark.parametrize("model", ["sl-stylegan", "stylegan", "dcgan"])
def test_every_model_passes_against_the_run_it_made(every_model_baseline, model):
    candidate = every_model_baseline["root"] / "checkpoints" / model / "MEL"
    result = check(every_model_baseline, candidate, "--json")
    assert result.exit_code == 0, result.output
    metrics = json.loads(result.stdout)["metrics"]
    with_interval = {m["metric"] for m in metrics if m["rule"].startswith("baseline CI")}
    assert {"fid", "kid", "precision", "recall", "density", "coverage"} <= with_interval


def test_on_an_80_column_console_no_metric_name_or_rule_is_cut(baseline):
    args = ["check", str(baseline["candidate"]), "--baseline", str(baseline["results"]),
            "--weights-dir", str(baseline["weights_dir"]), "--json"]
    result = CliRunner().invoke(app, args, env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    assert "…" not in result.stderr
    verdict = json.loads(result.stdout)
    for metric in verdict["metrics"]:
        assert metric["metric"] in result.stderr and metric["rule"] in " ".join(result.stderr.split())
