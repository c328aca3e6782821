"""`slbench run` on checkpoints trained on the train side of the lesion split scores quality on the
held-out images and memorisation on the training images; `--real-side` chooses; `check` replays the
side; `--select-on train` chooses steps on a training-side track and reports on the held-out side."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import torch
from typer.testing import CliRunner

from evaluation_builders import save_generator_checkpoint, stand_in_lpips, tiny_extractor, trained_on_split
from reports.render import render_report
from slbench.cli import app
from slbench.data import load_dataset, split_by_lesion
from slbench.errors import SlbenchError
from slbench.evaluation import runner
from slbench.gate import check_candidate
from slbench.tracking import track_folder

N_FAKE = 24
SEED = 2


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    """60 images per class, so the held-out side (12) is large enough for every metric."""
    from slbench.data.synth import write_synthetic_dataset

    return write_synthetic_dataset(tmp_path_factory.mktemp("sides") / "lesions", per_class=60, balanced=True, seed=1,
                                   image_size=(40, 32))


@pytest.fixture(scope="module")
def split(data):
    return split_by_lesion(load_dataset(data), test_fraction=0.2, seed=0)


@pytest.fixture(autouse=True)
def stand_ins(monkeypatch):
    monkeypatch.setattr("slbench.evaluation.protocols.get_extractor", tiny_extractor)  # run, track and check load extractors through it
    monkeypatch.setattr("slbench.evaluation.context.load_lpips", stand_in_lpips)


def checkpoints(root: Path, data: Path, *, trained: dict | None, seed: int = 4) -> Path:
    save_generator_checkpoint(root, "dcgan", "MEL", seed=seed, trained=trained)
    return root


def run(data: Path, folder: Path, out: Path, **options) -> Path:
    return runner.run_evaluation(data=data, models="dcgan", categories="MEL", checkpoints=folder, n_samples=N_FAKE,
                                 features="tiny", out=out, seed=SEED, batch=32, device="cpu",
                                 report_formats=("md", "tex", "csv", "html"), **options)


@pytest.fixture(scope="module")
def split_run(tmp_path_factory, data):
    root = tmp_path_factory.mktemp("split-run")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("slbench.evaluation.protocols.get_extractor", tiny_extractor)
        patch.setattr("slbench.evaluation.context.load_lpips", stand_in_lpips)
        folder = checkpoints(root / "checkpoints", data, trained=trained_on_split(data))
        return {"root": root, "checkpoints": folder, "results": run(data, folder, root / "results")}


def rows_of(results: Path) -> pd.DataFrame:
    return pd.read_csv(results / "metrics.csv", keep_default_na=False)


def test_train_split_checkpoints_are_scored_on_exactly_the_held_out_images(split_run, split):
    document = json.loads((split_run["results"] / "metrics.json").read_text())
    test_ids = [r.image_id for r in split.test["MEL"]]
    train_ids = [r.image_id for r in split.train["MEL"]]
    assert document["settings"]["real_side"]["quality"] == "test"
    assert document["settings"]["real_side"]["memorisation"] == "train"
    assert document["settings"]["real_counts"]["MEL"] == {"test": len(test_ids), "train": len(train_ids)}
    side = document["provenance"]["real_sides"]["MEL"]
    assert side["side"] == "test" and side["image_ids"] == test_ids and side["n_images"] == 12
    assert side["memorisation"]["side"] == "train" and side["memorisation"]["image_ids"] == train_ids
    assert not set(test_ids) & set(train_ids)
    rows = rows_of(split_run["results"]).set_index("metric")
    assert rows.loc["fid", "n_real"] == len(test_ids) and rows.loc["coverage", "n_real"] == len(test_ids)
    assert rows.loc["memorisation", "n_real"] == len(train_ids)
    assert "training-side images" in rows.loc["memorisation", "note"]


def test_the_plan_counts_the_training_side_that_memorisation_needs(data, split, tmp_path, monkeypatch):
    planned = []
    monkeypatch.setattr(runner, "print_plan", lambda estimate, **_: planned.append(estimate))
    folder = checkpoints(tmp_path / "checkpoints", data, trained=trained_on_split(data))
    run(data, folder, tmp_path / "results", dry_run=True)
    (work,) = planned[0].work
    assert (work.n_real, work.n_train) == (len(split.side("test")["MEL"]), len(split.side("train")["MEL"]))
    assert work.prepares_train and not work.train_cached
    rates = planned[0].rates
    assert planned[0].seconds[work.key]["decode"] == pytest.approx((work.n_real + work.n_train) * rates.decode)


def test_every_report_says_which_side_quality_and_memorisation_used(split_run):
    results = split_run["results"]
    for name in ("report.md", "report.tex", "report.html"):
        text = (results / name).read_text()
        assert "held-out (test) side of the lesion-grouped split" in text, name
        assert "memorisation against its training side" in text, name
    assert "MEL 12" in (results / "report.md").read_text() and "MEL 48 images" in (results / "report.md").read_text()
    wide = pd.read_csv(results / "metrics-wide.csv")
    assert wide.loc[0, "MEL/real_side"] == "test" and wide.loc[0, "MEL/memorisation_side"] == "train"


def test_real_side_all_gives_the_numbers_of_checkpoints_trained_on_all_images(split_run, data, tmp_path):
    forced = run(data, split_run["checkpoints"], tmp_path / "forced", real_side="all")
    plain = run(data, checkpoints(tmp_path / "all-trained", data, trained=None), tmp_path / "plain")
    forced_rows, plain_rows = rows_of(forced), rows_of(plain)
    assert (forced_rows["n_real"][forced_rows["metric"] == "fid"] == 60).all()
    pd.testing.assert_frame_equal(forced_rows.drop(columns="note"), plain_rows.drop(columns="note"))
    assert json.loads((plain / "metrics.json").read_text())["settings"]["real_side"]["quality"] == "all"
    memorisation = forced_rows.set_index("metric").loc["memorisation", "note"]
    assert "training samples" not in memorisation and "held-out ones included" in memorisation
    assert "quality and memorisation against all images of the class" in (forced / "report.md").read_text()


def test_real_side_train_scores_quality_on_the_training_images(split_run, data, split, tmp_path):
    on_train = rows_of(run(data, split_run["checkpoints"], tmp_path / "on-train", real_side="train")).set_index("metric")
    assert on_train.loc["fid", "n_real"] == on_train.loc["memorisation", "n_real"] == len(split.train["MEL"])
    all_trained = checkpoints(tmp_path / "all-trained", data, trained=None)
    results = run(data, all_trained, tmp_path / "all-on-train", real_side="train")
    rows = rows_of(results).set_index("metric")
    assert rows.loc["fid", "n_real"] == len(split.train["MEL"]) and rows.loc["memorisation", "n_real"] == 60
    assert "quality against the training side of the lesion-grouped split" in (results / "report.md").read_text()


def test_the_test_side_is_refused_for_checkpoints_that_saw_every_image(data, tmp_path):
    folder = checkpoints(tmp_path / "all-trained", data, trained=None)
    result = CliRunner().invoke(app, ["run", "--models", "dcgan", "--category", "MEL", "--data", str(data),
                                      "--checkpoints", str(folder), "--features", "tiny", "--real-side", "test",
                                      "--out", str(tmp_path / "out")])
    assert result.exit_code == 2, result.output
    assert "--real-side test needs checkpoints that never saw the held-out images" in result.output
    assert not (tmp_path / "out").exists()


def test_checkpoints_of_different_splits_are_refused_with_what_to_do(data, tmp_path):
    folder = tmp_path / "checkpoints"
    save_generator_checkpoint(folder, "dcgan", "MEL", seed=1, trained=trained_on_split(data))
    save_generator_checkpoint(folder, "sl-stylegan", "MEL", seed=2, trained=trained_on_split(data, seed=1))
    with pytest.raises(SlbenchError, match="trained on different lesion splits.*give --real-side all"):
        runner.run_evaluation(data=data, models="dcgan,sl-stylegan", categories="MEL", checkpoints=folder,
                              n_samples=N_FAKE, features="tiny", out=tmp_path / "out", device="cpu")


def test_the_real_side_cache_keys_on_the_side(split_run, data):
    from slbench.evaluation.context import EvaluationContext, LpipsHandle
    from slbench.evaluation.real_sides import choose_real_sides

    dataset = load_dataset(data)
    sides = choose_real_sides(dataset, [("dcgan/MEL", trained_on_split(data))], None)
    context = EvaluationContext(dataset=dataset, extractor=tiny_extractor(), lpips=LpipsHandle(None, {}),
                                resolution=32, seed=0, bootstrap=0, batch=8, device=torch.device("cpu"), sides=sides)
    paths = {side: context.real_entry("MEL", side).path for side in ("all", "test", "train")}
    assert len(set(paths.values())) == 3


def test_check_replays_the_held_out_side_of_the_baseline(split_run):
    outcome = check_candidate(candidate=split_run["checkpoints"] / "dcgan" / "MEL", baseline=split_run["results"])
    assert not outcome.regressed
    assert all(c.delta == 0.0 for c in outcome.comparisons if c.delta == c.delta)


def test_check_refuses_a_candidate_that_saw_the_baselines_held_out_images(split_run, data, tmp_path):
    candidate = checkpoints(tmp_path / "all-trained", data, trained=None) / "dcgan" / "MEL"
    with pytest.raises(SlbenchError, match="held-out side of its lesion split"):
        check_candidate(candidate=candidate, baseline=split_run["results"])


def tracked_folder(root: Path, data: Path) -> Path:
    """Three steps of one training run on the train side, tracked with the default (training-side) images."""
    folder = root / "checkpoints"
    for step, seed in ((1, 7), (2, 8), (3, 9)):
        save_generator_checkpoint(folder, "dcgan", "MEL", seed=seed, step=step, trained=trained_on_split(data))
    track_folder(folder / "dcgan" / "MEL", data=data, features="tiny", n_samples=N_FAKE, seed=SEED, batch=32,
                 device="cpu")
    return folder


def test_select_on_train_picks_from_the_training_side_track_and_reports_on_the_held_out_side(data, split, tmp_path):
    folder = tracked_folder(tmp_path, data)
    track = json.loads((folder / "dcgan" / "MEL" / "track.json").read_text())
    assert track["settings"]["real_side"] == "train" and track["settings"]["n_real"] == len(split.train["MEL"])
    values = pd.read_csv(folder / "dcgan" / "MEL" / "track.csv")
    fid = values[values["metric"] == "fid"].sort_values(["value", "step"]).iloc[0]
    results = run(data, folder, tmp_path / "results", select="best:fid", select_on="train")
    selection = json.loads((results / "metrics.json").read_text())["settings"]["selection"]["dcgan/MEL"]
    assert selection["step"] == fid["step"] and selection["value"] == pytest.approx(fid["value"])
    assert selection["selection_set"] == "train" and selection["reported_on"] == "test"
    assert selection["optimistic"] is False
    caption = (results / "report.md").read_text()
    assert "selected on the training side of the lesion split, reported on the held-out (test) side" in caption
    assert "optimistic" not in caption
    assert rows_of(results).set_index("metric").loc["fid", "step"] == fid["step"]


def test_select_on_train_refuses_a_track_of_all_images_and_a_report_on_them(data, tmp_path):
    folder = tracked_folder(tmp_path, data)
    with pytest.raises(SlbenchError, match="--select-on train reports on the held-out side"):
        run(data, folder, tmp_path / "on-all", select="best:fid", select_on="train", real_side="all")
    other = tmp_path / "other"
    save_generator_checkpoint(other, "dcgan", "MEL", seed=3, trained=trained_on_split(data))
    track_folder(other / "dcgan" / "MEL", data=data, features="tiny", n_samples=N_FAKE, real_side="all", device="cpu")
    with pytest.raises(SlbenchError, match="needs a track measured on the training side.*--real-side train"):
        run(data, other, tmp_path / "refused", select="best:fid", select_on="train")
    optimistic = run(data, other, tmp_path / "optimistic", select="best:fid")
    assert "optimistic" in (optimistic / "report.md").read_text()


def test_a_track_continued_without_real_side_keeps_the_side_it_was_started_with(data, tmp_path):
    folder = tmp_path / "checkpoints"
    save_generator_checkpoint(folder, "dcgan", "MEL", seed=3, step=1, trained=trained_on_split(data))
    options = dict(data=data, features="tiny", n_samples=N_FAKE, seed=SEED, batch=32, device="cpu")
    track_folder(folder / "dcgan" / "MEL", real_side="all", **options)
    save_generator_checkpoint(folder, "dcgan", "MEL", seed=4, step=2, trained=trained_on_split(data))
    tracker = track_folder(folder / "dcgan" / "MEL", **options)
    assert tracker.settings["real_side"] == "all" and tracker.done_steps == {1, 2}


def test_report_of_results_written_before_real_sides_says_all_images(split_run, tmp_path):
    document = json.loads((split_run["results"] / "metrics.json").read_text())
    for key in ("real_side", "real_counts"):
        document["settings"].pop(key)
    old = tmp_path / "old"
    old.mkdir()
    (old / "metrics.json").write_text(json.dumps(document))
    (old / "metrics.csv").write_bytes((split_run["results"] / "metrics.csv").read_bytes())
    render_report(old, formats="md")
    assert "quality and memorisation against all images of the class" in (old / "report.md").read_text()


def test_models_trained_on_different_images_of_a_class_are_named_in_every_table(data, split, tmp_path, capsys):
    from slbench.data import load_dataset

    folder = checkpoints(tmp_path / "mixed", data, trained=trained_on_split(data))
    save_generator_checkpoint(folder, "sl-stylegan", "MEL", seed=5,
                              trained={"split": "all", "data_fingerprint": load_dataset(data).fingerprint(),
                                       "num_images": 60})
    results = runner.run_evaluation(data=data, models="dcgan,sl-stylegan", categories="MEL", checkpoints=folder,
                                    n_samples=N_FAKE, features="tiny", out=tmp_path / "results", seed=SEED, batch=32,
                                    device="cpu", report_formats=("md", "html"))
    recorded = json.loads((results / "metrics.json").read_text())["settings"]["trained_on"]
    assert recorded["dcgan/MEL"]["side"] == "train" and recorded["sl-stylegan/MEL"]["images"] == 60
    assert recorded["dcgan/MEL"]["fingerprint"] == split.fingerprint("train")
    expected = ("Models trained on different real images, so differences may reflect their training data rather "
                "than the models: MEL: sl-stylegan all 60 images, dcgan the training side of the lesion split "
                "(its images)")
    assert expected in " ".join(capsys.readouterr().err.split())
    assert expected in (results / "report.md").read_text()
    assert "<strong>Unequal training data.</strong>" in (results / "report.html").read_text()
    alone = run(data, checkpoints(tmp_path / "alone", data, trained=trained_on_split(data)), tmp_path / "alone-run")
    assert "Models trained on different real images" not in (alone / "report.md").read_text()
