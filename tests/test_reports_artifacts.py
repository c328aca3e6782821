"""`report` reads a results folder's files only as regular files inside that folder.

A FIFO would block a reader forever, a device could feed it anything, and a symbolic link
leading out of the folder would carry a private file into the HTML page. Each is refused with
one line naming the file, whether it is a recorded artifact or ``metrics.json`` itself, and in
a combined report as in a single one; nothing is written. Links that stay inside are fine.
"""

from __future__ import annotations

import os
import threading

import pytest
from typer.testing import CliRunner

from reports.reading import RefusedFile, read_inside
from reports.render import render_report
from reports.results import ResultsError
from reports_factory import quality_rows, write_run
from slbench.cli import app

SAMPLE = "samples/dcgan/MEL.png"


@pytest.fixture
def run_folder(tmp_path):
    return write_run(tmp_path / "run", quality_rows())


def _replace(folder, relative, make):
    path = folder / relative
    path.unlink()
    make(path)
    return path


def _render_in_thread(folder, **kwargs):
    """Render in a thread so a reader that blocks fails the test instead of hanging it."""
    outcome = {}

    def target():
        try:
            outcome["written"] = render_report(folder, **kwargs)
        except Exception as err:  # noqa: BLE001 - handed to the test
            outcome["error"] = err

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(timeout=60)
    assert not thread.is_alive(), "report blocked on a file"
    return outcome


@pytest.mark.parametrize(
    "make, reason",
    [
        (os.mkfifo, "is a FIFO, not a regular file"),
        (lambda path: path.symlink_to("/etc/passwd"), "leads outside the results folder"),
        (lambda path: path.symlink_to("../../../../outside.png"), "leads outside the results folder"),
        (lambda path: path.symlink_to("/dev/zero"), "leads outside the results folder"),
        (os.mkdir, "is a folder, not a regular file"),
    ],
    ids=["fifo", "link-to-etc", "relative-link-out", "link-to-device", "folder"],
)
def test_a_hostile_artifact_is_refused_and_nothing_is_written(run_folder, make, reason):
    (run_folder.parent / "outside.png").write_bytes((run_folder / SAMPLE).read_bytes())
    path = _replace(run_folder, SAMPLE, make)
    outcome = _render_in_thread(run_folder, formats="md,html")
    assert isinstance(outcome.get("error"), ResultsError)
    message = str(outcome["error"])
    assert reason in message and str(path) in message and "\n" not in message
    assert not (run_folder / "report.html").exists() and not (run_folder / "report.md").exists()


def test_the_same_holds_in_a_combined_report(tmp_path, run_folder):
    other = write_run(tmp_path / "other", quality_rows(models=("stylegan",)))
    _replace(other, "samples/stylegan/NV.png", lambda path: path.symlink_to("/etc/hostname"))
    outcome = _render_in_thread([run_folder, other], formats="html", out=tmp_path / "both")
    assert "leads outside the results folder" in str(outcome.get("error"))


def test_a_link_that_stays_inside_is_embedded(run_folder):
    kept = run_folder / "kept.png"
    os.replace(run_folder / SAMPLE, kept)
    (run_folder / SAMPLE).symlink_to("../../kept.png")
    outcome = _render_in_thread(run_folder, formats="html")
    html = outcome["written"]["html"].read_text()
    assert "cannot read" not in html and "refusing" not in html


def test_metrics_json_is_read_the_same_way(tmp_path, run_folder):
    json_path = run_folder / "metrics.json"
    moved = tmp_path / "elsewhere.json"
    os.replace(json_path, moved)
    json_path.symlink_to(moved)
    assert "leads outside" in str(_render_in_thread(run_folder, formats="md").get("error"))
    json_path.unlink()
    os.mkfifo(json_path)
    assert "is a FIFO" in str(_render_in_thread(run_folder, formats="md").get("error"))


def test_the_cli_gives_one_line_and_exit_2(run_folder):
    _replace(run_folder, SAMPLE, os.mkfifo)
    result = CliRunner().invoke(app, ["report", str(run_folder), "--format", "html"])
    assert result.exit_code == 2
    assert "is a FIFO" in " ".join(result.stderr.split()) and "Traceback" not in result.output


def test_read_inside_limits_size(tmp_path):
    (tmp_path / "big").write_bytes(b"x" * 101)
    with pytest.raises(RefusedFile, match="more than the 100"):
        read_inside(tmp_path, tmp_path / "big", max_bytes=100)
    assert read_inside(tmp_path, tmp_path / "big") == b"x" * 101


def test_a_track_file_linked_from_outside_its_folder_is_refused(tmp_path):
    from reports.tracks import TRACK_CSV, TrackError, load_track, track_row, write_track

    folder = write_track(tmp_path / "track", [track_row(2, 0.032, "fid", 40.0)], settings={"seed": 0}, provenance={})
    assert load_track(folder).steps() == [2]
    outside = tmp_path / "elsewhere.csv"
    outside.write_bytes((folder / TRACK_CSV).read_bytes())
    (folder / TRACK_CSV).unlink()
    (folder / TRACK_CSV).symlink_to(outside)
    with pytest.raises(TrackError, match="leads outside"):
        load_track(folder)
