"""`slbench pool` on runs of separately seeded checkpoints: a results folder that reports render
and `slbench check` gates against, and one-line refusals."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from reports.results import load_results
from slbench.cli import app
from slbench.evaluation import run_evaluation
from evaluation_builders import save_generator_checkpoint, stand_in_lpips, train_tiny_lesion_extractor

SEEDS = (0, 1, 2)


@pytest.fixture(scope="module")
def runs(tmp_path_factory, synthetic_dataset):
    """Three runs of one command, each on DCGAN and SL-StyleGAN checkpoints initialised with another seed."""
    root = tmp_path_factory.mktemp("pool")
    lesion = root / "lesion"
    lesion.mkdir()
    train_tiny_lesion_extractor(synthetic_dataset, lesion)
    folders = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SLBENCH_CACHE", str(root / "cache"))
        patch.setattr("slbench.evaluation.context.load_lpips", stand_in_lpips)
        for seed in SEEDS:
            for model in ("dcgan", "sl-stylegan"):
                save_generator_checkpoint(root / f"ck-{seed}", model, "MEL", seed=seed, step=5)
            folders.append(run_evaluation(data=synthetic_dataset, models="sl-stylegan,dcgan", categories="MEL",
                                          checkpoints=root / f"ck-{seed}", n_samples=40, features="lesion",
                                          out=root / f"run-{seed}", seed=1, weights_dir=lesion, batch=20,
                                          report_formats=("md",)))
    return {"root": root, "folders": folders, "weights_dir": lesion}


@pytest.fixture(autouse=True)
def lpips_stand_in(monkeypatch):
    monkeypatch.setattr("slbench.evaluation.context.load_lpips", stand_in_lpips)


def pool(*args):
    return CliRunner().invoke(app, ["pool", *map(str, args)], env={"COLUMNS": "120"})


def test_pooled_folder_holds_the_mean_of_the_runs_and_its_reports(runs):
    out = runs["root"] / "pooled"
    result = pool(*runs["folders"], "--out", out, "--format", "md,csv")
    assert result.exit_code == 0, result.output
    assert "mean over 3 training runs" in result.stderr and "pooled results:" in result.stderr
    pooled = load_results(out).rows
    singles = [load_results(folder).rows for folder in runs["folders"]]
    for model in ("sl-stylegan", "dcgan"):
        fid = [rows[(rows["model"] == model) & (rows["metric"] == "fid")]["value"].item() for rows in singles]
        row = pooled[(pooled["model"] == model) & (pooled["metric"] == "fid")]
        assert row["value"].item() == pytest.approx(sum(fid) / 3)
        assert row["ci_low"].item() < row["value"].item() < row["ci_high"].item()
        assert row["kimg"].item() == pytest.approx(0.08)  # 5 steps of 16 images
    report = (out / "report.md").read_text()
    assert "Values: the mean of 3 training runs of each model (training seeds 0, 1, 2);" in report
    assert (out / "metrics-wide.csv").exists() and not (out / "report.html").exists()


def test_pooling_again_rewrites_its_own_folder(runs):
    first = pool(*runs["folders"])
    again = pool(*reversed(runs["folders"]))
    assert first.exit_code == again.exit_code == 0, again.output
    (folder,) = runs["root"].glob("pooled-*")
    assert json.loads((folder / "metrics.json").read_text())["settings"]["command"] == "pool"


def test_check_gates_a_checkpoint_against_the_pooled_runs(runs):
    out = runs["root"] / "pooled-for-check"
    assert pool(*runs["folders"], "--out", out, "--format", "md").exit_code == 0
    candidate = runs["root"] / "ck-1" / "dcgan" / "MEL"
    result = CliRunner().invoke(app, ["check", str(candidate), "--baseline", str(out),
                                      "--weights-dir", str(runs["weights_dir"]), "--json"])
    assert result.exit_code in (0, 1), result.output
    verdict = json.loads(result.stdout)
    fid = next(metric for metric in verdict["metrics"] if metric["metric"] == "fid")
    pooled = load_results(out).rows
    mean = pooled[(pooled["model"] == "dcgan") & (pooled["metric"] == "fid")]["value"].item()
    assert fid["baseline"] == pytest.approx(mean) and fid["rule"].startswith("baseline CI")


@pytest.mark.parametrize("case", ["one run", "out is a run", "out holds other results", "same run twice",
                                  "unknown format"])
def test_refusals_are_one_line_with_exit_code_2(runs, case):
    folders = runs["folders"]
    args = {"one run": [folders[0]],
            "out is a run": [*folders, "--out", folders[1]],
            "out holds other results": [*folders[1:], "--out", folders[0]],
            "same run twice": [folders[0], folders[0]],
            "unknown format": [*folders, "--out", runs["root"] / "never", "--format", "pdf"]}[case]
    before = (folders[0] / "metrics.json").read_bytes()
    result = pool(*args)
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("error: ") and len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.output
    assert {"one run": "at least two training runs", "out is a run": "is one of the runs being pooled",
            "out holds other results": "already holds results of another command",
            "same run twice": "is given twice", "unknown format": "unknown report format(s): pdf"}[case] in result.stderr
    assert not (runs["root"] / "never").exists()
    assert (folders[0] / "metrics.json").read_bytes() == before
