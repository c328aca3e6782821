"""`slbench report TRACK_FOLDER`: a folder `slbench track` wrote renders as a table of its steps
(best step per metric in bold) and, in HTML, a curve per metric; a folder that is neither results
nor a track is refused with one line."""

from __future__ import annotations

import math

import pandas as pd
from typer.testing import CliRunner

from reports.tracks import track_row, write_track
from slbench.cli import app
from slbench.metrics import METRICS

SETTINGS = {"command": "track", "model": "dcgan", "category": "MEL", "features": "lesion", "resolution": 32,
            "n_real": 48, "n_fake": 40, "seed": 1, "real_side": "train"}
VALUES = {200: {"fid": 30.0, "precision": 0.25}, 400: {"fid": 12.5, "precision": 0.5},
          600: {"fid": 20.0, "precision": 0.75}}


def write_synthetic_track(folder, values=VALUES, settings=SETTINGS, *, broken_step: int | None = 800):
    rows = [track_row(step, step * 4 / 1000, metric, value, ci=(value * 0.9, value * 1.1),
                      higher_is_better=METRICS[metric].higher_is_better)
            for step, metrics in values.items() for metric, value in metrics.items()]
    if broken_step is not None:
        rows.append(track_row(broken_step, math.nan, "", math.nan, status="unreadable", reason="file gone"))
    write_track(folder, rows, settings=settings, provenance={})
    return folder


def report(*arguments):
    return CliRunner().invoke(app, ["report", *map(str, arguments)])


def test_a_track_folder_renders_its_steps_best_in_bold_and_its_curves(tmp_path):
    folder = write_synthetic_track(tmp_path / "dcgan-MEL")
    result = report(folder)
    assert result.exit_code == 0, result.output
    markdown = (folder / "track-report.md").read_text()
    assert "Training track of dcgan on MEL" in markdown
    assert "the training side of the lesion-grouped split" in markdown
    fid_row = next(line for line in markdown.splitlines() if line.startswith("| step 400 (1.60 kimg)"))
    assert "**12.5" in fid_row  # lowest FID
    best_precision = next(line for line in markdown.splitlines() if line.startswith("| step 600 (2.40 kimg)"))
    assert "**0.75" in best_precision  # highest precision
    assert "step 800: unreadable (file gone)" in markdown
    html = (folder / "track-report.html").read_text()
    assert html.count("data:image/png;base64,") == 2  # FID and precision curves
    assert "FID during training" in html and "Precision during training" in html
    wide = pd.read_csv(folder / "track-wide.csv")
    assert list(wide["model"]) == ["step 200 (0.80 kimg)", "step 400 (1.60 kimg)", "step 600 (2.40 kimg)"]
    assert list(wide["MEL/fid"]) == [30.0, 12.5, 20.0]
    assert "\\caption{" in (folder / "track-report.tex").read_text()


def test_several_tracks_overlay_their_models_in_one_report(tmp_path):
    first = write_synthetic_track(tmp_path / "dcgan-MEL")
    second = write_synthetic_track(tmp_path / "sl-MEL", settings={**SETTINGS, "model": "sl-stylegan"})
    result = report(first, second, "--out", tmp_path / "both", "--format", "md,html")
    assert result.exit_code == 0, result.output
    markdown = (tmp_path / "both" / "track-report.md").read_text()
    assert "Training track of dcgan" in markdown and "Training track of sl-stylegan" in markdown
    assert (tmp_path / "both" / "track-report.html").read_text().count("data:image/png;base64,") == 2


def test_tracks_measured_in_different_spaces_never_share_a_figure(tmp_path):
    lesion = write_synthetic_track(tmp_path / "dcgan-MEL")
    protocol = write_synthetic_track(tmp_path / "sl-MEL", settings={**SETTINGS, "model": "sl-stylegan",
                                                                     "protocol": "lesion", "resolution": 64})
    result = report(lesion, protocol, "--out", tmp_path / "both", "--format", "html")
    assert result.exit_code == 0, result.output
    html = (tmp_path / "both" / "track-report.html").read_text()
    assert html.count("data:image/png;base64,") == 4  # FID and precision, once per space
    assert "FID during training, lesion · 32 px" in html and "FID during training, protocol lesion · lesion · 64 px" in html


def test_tracks_under_one_protocol_at_two_resolutions_never_share_a_figure(tmp_path):
    tracks = [write_synthetic_track(tmp_path / f"dcgan-MEL-{px}", settings={**SETTINGS, "protocol": "lesion",
                                                                           "resolution": px})
              for px in (32, 64)]
    result = report(*tracks, "--out", tmp_path / "both", "--format", "html")
    assert result.exit_code == 0, result.output
    html = (tmp_path / "both" / "track-report.html").read_text()
    assert html.count("data:image/png;base64,") == 4
    assert all(f"FID during training, protocol lesion · lesion · {px} px" in html for px in (32, 64))


def test_a_folder_that_is_neither_results_nor_a_track_exits_2_with_one_line(tmp_path):
    (tmp_path / "plain").mkdir()
    (tmp_path / "plain" / "track.csv").write_text("step\n")  # without track.json it is no track
    result = report(tmp_path / "plain")
    assert result.exit_code == 2
    assert "holds no results and no training track" in " ".join(result.stderr.split())
    assert "Traceback" not in result.output and len(result.stderr.strip().splitlines()) == 1


def test_a_track_without_any_evaluated_step_is_refused(tmp_path):
    folder = write_synthetic_track(tmp_path / "empty", values={})
    result = report(folder)
    assert result.exit_code == 2 and "has no evaluated step" in result.stderr
