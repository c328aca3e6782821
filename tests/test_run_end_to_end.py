"""`slbench run` end to end on tiny settings: files, rows, determinism, resume, LPIPS fallback, CLI errors."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from PIL import Image
from typer.testing import CliRunner

from generators.safe_io import sha256_file
from reports.render import render_report
from reports.results import load_results
from slbench.cli import app
from slbench.errors import SlbenchError
from slbench.evaluation import runner
from slbench.evaluation.grids import GRID_PADDING
from slbench.metrics import DEFAULT_FEATURE_METRICS
from evaluation_builders import save_generator_checkpoint, stand_in_lpips, train_tiny_lesion_extractor

MODELS = ("sl-stylegan", "dcgan")
CATEGORIES = ("MEL", "NV")
N_FAKE = 20
SEED = 3
LPIPS_METRICS = ("lpips_fake", "lpips_real", "lpips_ratio")
CONSISTENCY_METRICS = ("class_consistency", "class_consistency_real")


@pytest.fixture(scope="module")
def workspace(tmp_path_factory, synthetic_dataset):
    """Checkpoints of two models on two classes and a lesion extractor trained on the data."""
    root = tmp_path_factory.mktemp("run-workspace")
    for model in MODELS:
        for category in CATEGORIES:
            save_generator_checkpoint(root / "checkpoints", model, category, seed=len(model) + len(category))
    lesion = root / "lesion"
    lesion.mkdir()
    train_tiny_lesion_extractor(synthetic_dataset, lesion)
    return {"data": synthetic_dataset, "checkpoints": root / "checkpoints", "weights_dir": lesion, "root": root}


def run(workspace, out: Path, **overrides) -> Path:
    options = dict(
        data=workspace["data"], models=",".join(MODELS), categories=",".join(CATEGORIES),
        checkpoints=workspace["checkpoints"], n_samples=N_FAKE, features="lesion", out=out, seed=SEED,
        weights_dir=workspace["weights_dir"], batch=16, report_formats=("md",),
    )
    return runner.run_evaluation(**(options | overrides))


@pytest.fixture(scope="module")
def first_run(workspace):
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("slbench.evaluation.context.load_lpips", stand_in_lpips)
        patch.setenv("SLBENCH_CACHE", str(workspace["root"] / "cache"))
        return run(workspace, workspace["root"] / "first", report_formats=("md", "tex", "csv", "html"))


@pytest.fixture
def lpips_stand_in(monkeypatch):
    monkeypatch.setattr("slbench.evaluation.context.load_lpips", stand_in_lpips)


def test_run_writes_every_file(first_run):
    for name in ("metrics.csv", "metrics.json", "report.html", "report.md", "report.tex", "metrics-wide.csv"):
        assert (first_run / name).is_file(), name
    stored = load_results(first_run)
    for model in MODELS:
        for category in CATEGORIES:
            key = f"{model}/{category}"
            for kind in ("samples", "memorisation_pairs"):
                assert stored.artifact_path(kind, key).is_file(), (kind, key)
    for category in CATEGORIES:
        assert stored.artifact_path("real", category).is_file()


def test_html_report_shows_the_prd_curves_with_their_settings(first_run):
    html = (first_run / "report.html").read_text()
    assert "Precision–recall curves (PRD)" in html
    for category in CATEGORIES:
        assert f"{category}: PRD curves" in html
    assert "20 clusters, 1001 angles, 10 runs averaged, equal set sizes (12 per set)" in html


def test_tables_hold_one_row_per_model_category_and_metric(first_run, workspace):
    rows = load_results(first_run).rows
    metrics = DEFAULT_FEATURE_METRICS + LPIPS_METRICS + CONSISTENCY_METRICS
    expected = {(m, c, metric) for m in MODELS for c in CATEGORIES for metric in metrics}
    assert set(zip(rows["model"], rows["category"], rows["metric"])) == expected
    assert len(rows) == len(expected)
    assert (rows["table"] == "quality").all()
    assert (rows["n_fake"][rows["metric"] != "memorisation"] == N_FAKE).all()
    consistency = rows["metric"].isin(CONSISTENCY_METRICS)
    assert (rows["n_real"][~consistency] == 12).all()  # the fixture's images per class
    assert (rows["n_real"][consistency] < 12).all()  # the ceiling: the images the classifier never saw
    assert set(rows["features"]) == {"lesion"} and set(rows["resolution"]) == {32} and set(rows["seed"]) == {SEED}
    assert set(rows["step"]) == {1} and set(rows["kimg"]) == {0.016} and set(rows["stage"]) == {""}  # the checkpoints'
    fid = rows[rows["metric"] == "fid"]
    assert (fid["value"] > 0).all() and not fid["higher_is_better"].any()


def test_provenance_records_what_the_numbers_depend_on(first_run, workspace):
    document = json.loads((first_run / "metrics.json").read_text())
    provenance, settings = document["provenance"], document["settings"]
    assert provenance["extractor"]["name"] == "lesion" and len(provenance["extractor"]["weights_sha256"]) == 64
    assert provenance["lpips"]["status"] == "computed"
    assert provenance["data"]["fingerprint"] == settings["data_fingerprint"]
    assert provenance["packages"]["torch"]
    pair = provenance["pairs"]["dcgan/MEL"]
    assert pair["class_consistency"]["status"] == "computed"
    assert len(pair["prd_curve"]["precision"]) == len(pair["prd_curve"]["recall"]) == 1001
    assert pair["prd_curve"]["settings"] == {"num_clusters": 20, "num_angles": 1001, "num_runs": 10}
    assert pair["class_consistency"]["weights_sha256"] == provenance["extractor"]["weights_sha256"]
    checkpoint = Path(pair["checkpoint"]["path"])
    assert pair["checkpoint"]["sha256"] == sha256_file(checkpoint)
    assert pair["checkpoint"]["metadata"]["category"] == "MEL"
    assert set(pair["timings_s"]) >= {"generate", "features", "metrics", "lpips"}
    assert settings["seed"] == SEED and settings["resolution"] == 32
    assert settings["n_fake"] == {"MEL": N_FAKE, "NV": N_FAKE}
    assert "timings" not in (first_run / "metrics.csv").read_text()


def test_same_seed_gives_identical_metrics_csv(first_run, workspace, tmp_path, lpips_stand_in):
    second = run(workspace, tmp_path / "second")
    assert (second / "metrics.csv").read_bytes() == (first_run / "metrics.csv").read_bytes()
    other_seed = run(workspace, tmp_path / "other", models="dcgan", categories="MEL", seed=SEED + 1)
    first_rows = load_results(first_run).rows
    fid = first_rows[
        (first_rows["model"] == "dcgan") & (first_rows["category"] == "MEL") & (first_rows["metric"] == "fid")
    ]
    other = load_results(other_seed).rows
    assert other[other["metric"] == "fid"]["value"].iloc[0] != fid["value"].iloc[0]


def test_report_re_renders_from_the_stored_results(first_run, tmp_path):
    written = render_report(first_run, out=tmp_path / "again")
    html = written["html"].read_text()
    assert "<table" in html and html.count("data:image/png;base64") >= len(MODELS) * len(CATEGORIES)
    assert "dcgan" in written["md"].read_text()


def test_interrupted_run_resumes_and_matches_an_uninterrupted_one(first_run, workspace, tmp_path, monkeypatch,
                                                                   lpips_stand_in):
    real_evaluate = runner.evaluate_pair
    evaluated: list[str] = []

    def interrupted_after_first(context, **kwargs):
        if evaluated:
            raise KeyboardInterrupt
        evaluated.append(f"{kwargs['model']}/{kwargs['category']}")
        return real_evaluate(context, **kwargs)

    out = tmp_path / "resumed"
    monkeypatch.setattr(runner, "evaluate_pair", interrupted_after_first)
    with pytest.raises(KeyboardInterrupt):
        run(workspace, out, models="dcgan")
    stored = load_results(out)
    assert set(zip(stored.rows["model"], stored.rows["category"])) == {("dcgan", "NV")}  # CATEGORIES order

    def counting(context, **kwargs):
        evaluated.append(f"{kwargs['model']}/{kwargs['category']}")
        return real_evaluate(context, **kwargs)

    monkeypatch.setattr(runner, "evaluate_pair", counting)
    with pytest.raises(SlbenchError, match="already holds results; add --resume"):
        run(workspace, out, models="dcgan")
    with pytest.raises(SlbenchError, match="other seed"):
        run(workspace, out, models="dcgan", resume=True, seed=SEED + 1)
    run(workspace, out, models="dcgan", resume=True)
    assert evaluated == ["dcgan/NV", "dcgan/MEL"]
    resumed = load_results(out).rows
    uninterrupted = load_results(first_run).rows
    uninterrupted = uninterrupted[uninterrupted["model"] == "dcgan"].reset_index(drop=True)
    pd.testing.assert_frame_equal(resumed, uninterrupted)


def test_without_lpips_weights_every_other_metric_is_written(workspace, tmp_path, monkeypatch, capsys):
    def missing(*_args, **_kwargs):
        raise SlbenchError("weights file alexnet-owt-7be5be79.pth not found: download it into /somewhere")

    monkeypatch.setattr("slbench.evaluation.context.load_lpips", missing)
    out = run(workspace, tmp_path / "no-lpips", models="dcgan", categories="MEL")
    stored = load_results(out)
    assert list(stored.rows["metric"]) == list(DEFAULT_FEATURE_METRICS + CONSISTENCY_METRICS)
    assert stored.provenance["lpips"] == {
        "status": "skipped",
        "reason": "weights file alexnet-owt-7be5be79.pth not found: download it into /somewhere",
    }
    assert "LPIPS diversity skipped" in capsys.readouterr().err


def test_cli_lists_every_missing_checkpoint_and_exits_2(workspace, tmp_path):
    result = CliRunner().invoke(app, [
        "run", "--models", "all", "--category", "MEL,NV", "--data", str(workspace["data"]),
        "--checkpoints", str(workspace["checkpoints"]), "--features", "lesion", "--out", str(tmp_path / "x"),
    ])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    for missing in ("stylegan/MEL", "stylegan/NV"):
        assert f"missing checkpoint for {missing}" in result.output
    assert "missing checkpoint for dcgan" not in result.output
    assert not (tmp_path / "x").exists()


def test_cli_without_data_says_what_to_do(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["run", "--models", "dcgan"])
    assert result.exit_code == 2
    assert "no dataset at Datasets" in result.output and "slbench data synth" in result.output


def test_cli_hands_every_option_to_the_library(monkeypatch, tmp_path):
    received = {}
    monkeypatch.setattr("slbench.evaluation.run_evaluation", lambda **kwargs: received.update(kwargs))
    result = CliRunner().invoke(app, [
        "run", "--models", "dcgan,sl-stylegan", "--category", "all", "--data", "d", "--checkpoints", "c",
        "--n-samples", "50", "--features", "lesion", "--seed", "7", "--out", "o", "--bootstrap", "10", "--resume",
        "--weights-dir", "w", "--trust-weights", "t.pth", "--resolution", "64", "--batch", "8", "--select", "best:kid",
        "--dry-run", "--real-side", "test", "--select-on", "train",
    ])
    assert result.exit_code == 0, result.output
    assert received == {
        "data": Path("d"), "models": "dcgan,sl-stylegan", "categories": "all", "checkpoints": Path("c"),
        "n_samples": 50, "features": "lesion", "out": Path("o"), "seed": 7, "bootstrap": 10, "resume": True,
        "weights_dir": Path("w"), "trust_weights": [Path("t.pth")], "resolution": 64, "batch": 8, "select": "best:kid",
        "dry_run": True, "real_side": "test", "select_on": "train", "protocol": None,
    }


def test_a_larger_model_is_scaled_down_to_the_stated_resolution(workspace, tmp_path, lpips_stand_in):
    checkpoints = tmp_path / "checkpoints"
    save_generator_checkpoint(checkpoints, "dcgan", "MEL", resolution=64)
    out = run(workspace, tmp_path / "scaled", models="dcgan", categories="MEL", checkpoints=checkpoints,
              resolution=32)
    stored = load_results(out)
    assert set(stored.rows["resolution"]) == {32}
    assert stored.settings["resolution"] == 32 and "requested" in stored.settings["resolution_source"]
    assert stored.provenance["pairs"]["dcgan/MEL"]["native_resolution"] == 64
    with Image.open(stored.artifact_path("samples", "dcgan/MEL")) as grid:
        tile = 32 + GRID_PADDING  # 20 tiles of 32 px: 5 per row, 4 rows
        assert grid.size == (5 * tile + GRID_PADDING, 4 * tile + GRID_PADDING)


def test_unequal_budgets_are_warned_once_on_the_console_and_in_the_report(workspace, tmp_path, lpips_stand_in,
                                                                          capsys):
    checkpoints = tmp_path / "checkpoints"
    save_generator_checkpoint(checkpoints, "sl-stylegan", "MEL", step=5)
    save_generator_checkpoint(checkpoints, "dcgan", "MEL", step=1)
    out = run(workspace, tmp_path / "unequal", categories="MEL", checkpoints=checkpoints)
    console_text = " ".join(capsys.readouterr().err.split())
    assert console_text.count("Unequal training budgets") == 1
    assert "sl-stylegan 0.08, dcgan 0.016 kimg" in console_text
    assert "Unequal training budgets" in (out / "report.md").read_text()
