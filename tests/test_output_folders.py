"""Nothing lost in an output folder: one writer at a time, no foreign files mixed in, no
temporary files left behind, and every file readable as the umask says.

A second `run` or `train` into a folder in use is refused by the folder's lock, which the
kernel releases however its holder ends (a SIGKILL included); `run --out` refuses a folder
holding anything but its own unfinished run unless told to resume; the temporary file of a
write cut short by a kill is removed by the next command in that folder.
"""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from generators.folder_lock import LOCK_NAME, FolderBusyError, folder_lock
from generators.safe_io import atomic_write_bytes, remove_partial_writes
from reports.files import atomic_write_bytes as report_atomic_write_bytes
from slbench.cli import app
from slbench.data.synth import write_synthetic_dataset
from slbench.errors import SlbenchError
from slbench.evaluation import runner
from slbench.output_lock import locked_output_folder
from evaluation_builders import stand_in_lpips, train_tiny_lesion_extractor

pytestmark = pytest.mark.usefixtures("one_thread")


def _train(data, out, *extra: str):
    args = ["train", "--model", "dcgan", "--category", "MEL", "--data", str(data), "--resolution", "32",
            "--batch", "4", "--out", str(out), "--set", "ngf=4", "--set", "ndf=4", *extra]
    return CliRunner().invoke(app, args)


def _contents(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and p.name != LOCK_NAME}


@pytest.fixture
def umask_022():
    old = os.umask(0o022)
    yield
    os.umask(old)


@pytest.mark.parametrize("write", [atomic_write_bytes, report_atomic_write_bytes])
@pytest.mark.parametrize("mask, mode", [(0o022, 0o644), (0o027, 0o640), (0o077, 0o600)])
def test_atomic_writes_follow_the_umask(tmp_path, write, mask, mode):
    old = os.umask(mask)
    try:
        path = write(tmp_path / "sub" / "file.bin", b"data")
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == mode
    assert [p.name for p in path.parent.iterdir()] == ["file.bin"]


@pytest.mark.slow
def test_every_file_of_train_generate_run_and_caches_follows_a_022_umask(tmp_path, monkeypatch, umask_022):
    monkeypatch.setenv("SLBENCH_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr("slbench.evaluation.context.load_lpips", stand_in_lpips)
    data = write_synthetic_dataset(tmp_path / "data", per_class=12, balanced=True, seed=0, image_size=(64, 48))
    checkpoints = tmp_path / "checkpoints"
    assert _train(data, checkpoints / "dcgan" / "MEL", "--steps", "2").exit_code == 0
    generated = CliRunner().invoke(app, ["generate", str(checkpoints / "dcgan" / "MEL"), "--n", "4",
                                         "--out", str(tmp_path / "generated")])
    assert generated.exit_code == 0, generated.output
    lesion = train_tiny_lesion_extractor(data, tmp_path / "lesion")
    runner.run_evaluation(data=data, models="dcgan", categories="MEL", checkpoints=checkpoints, n_samples=20,
                          features="lesion", out=tmp_path / "results", weights_dir=lesion, batch=16)
    files = [path for path in tmp_path.rglob("*") if path.is_file()]
    kinds = {path.suffix for path in files}
    assert {".png", ".safetensors", ".json", ".csv", ".html", ".tex", ".jpg"} <= kinds, kinds
    assert any("cache" in path.parts for path in files)
    wrong = {str(p.relative_to(tmp_path)): oct(stat.S_IMODE(p.stat().st_mode))
             for p in files if stat.S_IMODE(p.stat().st_mode) != 0o644}
    assert wrong == {}
    folders = [path for path in tmp_path.rglob("*") if path.is_dir()]
    assert {str(p): oct(stat.S_IMODE(p.stat().st_mode)) for p in folders if stat.S_IMODE(p.stat().st_mode) != 0o755} == {}


def test_a_held_lock_refuses_a_second_holder_and_is_released(tmp_path):
    with folder_lock(tmp_path / "out", "first"):
        with pytest.raises(FolderBusyError, match=rf"pid {os.getpid()}: first"):
            with folder_lock(tmp_path / "out", "second"):
                pass
    with folder_lock(tmp_path / "out", "third"):
        assert (tmp_path / "out" / LOCK_NAME).read_text().startswith(f"pid {os.getpid()}: third")


def test_a_killed_holder_leaves_no_stale_lock(tmp_path):
    script = textwrap.dedent(f"""
        import sys, time
        from generators.folder_lock import folder_lock
        with folder_lock({str(tmp_path / "out")!r}, "doomed"):
            print("held", flush=True)
            time.sleep(600)
    """)
    holder = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True,
                              env=dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path)))
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(FolderBusyError, match="doomed"):
            with folder_lock(tmp_path / "out", "second"):
                pass
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=60)
    with folder_lock(tmp_path / "out", "after the kill"):
        pass


def test_a_second_train_into_a_busy_folder_is_refused_and_changes_nothing(synthetic_dataset, tmp_path):
    out = tmp_path / "ck"
    assert _train(synthetic_dataset, out, "--steps", "1", "--seed", "1").exit_code == 0
    before = _contents(out)
    with folder_lock(out, "slbench train (seed 1)"):
        result = _train(synthetic_dataset, out, "--steps", "2", "--seed", "1", "--resume")
        assert result.exit_code == 2 and "being written by another slbench process" in result.output
        assert "Traceback" not in result.output
        assert _contents(out) == before
    for extra, message in ((("--steps", "2", "--seed", "2"), "already holds checkpoints"),
                           (("--steps", "2", "--seed", "2", "--resume"), "with seed 2")):
        result = _train(synthetic_dataset, out, *extra)
        assert result.exit_code == 2 and message in result.output
        assert _contents(out) == before


def test_a_run_into_a_busy_folder_is_refused(tmp_path):
    out = tmp_path / "results"
    with folder_lock(out, "slbench run"):
        with pytest.raises(SlbenchError, match="being written by another slbench process"):
            with locked_output_folder(out, "slbench run"):
                pass


def test_the_next_train_removes_what_a_killed_write_left(synthetic_dataset, tmp_path):
    out = tmp_path / "ck"
    assert _train(synthetic_dataset, out, "--steps", "1").exit_code == 0
    left = [out / ".step-0000002.safetensors.0123456789abcdef.partial", out / ".latest.ab_cd123.tmp"]
    for path in left:
        path.write_bytes(b"torn")
    kept = out / ".my-notes.tmp"
    kept.write_text("mine")
    assert _train(synthetic_dataset, out, "--steps", "2", "--resume").exit_code == 0
    assert not any(path.exists() for path in left)
    assert kept.read_text() == "mine"


def test_remove_partial_writes_looks_one_level_down_only(tmp_path):
    (tmp_path / "samples" / "deep").mkdir(parents=True)
    shallow = tmp_path / "samples" / ".grid.png.00112233445566ff.partial"
    deep = tmp_path / "samples" / "deep" / ".x.png.00112233445566ff.partial"
    shallow.write_bytes(b"")
    deep.write_bytes(b"")
    assert remove_partial_writes(tmp_path) == [shallow]
    assert deep.exists()


@pytest.mark.parametrize("resume", [False, True])
def test_run_out_refuses_a_folder_of_other_files(tmp_path, resume):
    out = tmp_path / "thesis"
    out.mkdir()
    (out / "chapter1.tex").write_text("precious")
    with pytest.raises(SlbenchError, match=r"already holds other files \(chapter1.tex\)"):
        runner.prepare_out(out, resume, locked=False)
    assert (out / "chapter1.tex").read_text() == "precious" and not (out / LOCK_NAME).exists()


def test_run_out_takes_an_unfinished_run_only_with_resume(tmp_path):
    out = tmp_path / "results"
    (out / "samples").mkdir(parents=True)
    (out / LOCK_NAME).write_text("")
    with pytest.raises(SlbenchError, match="holds an interrupted run; add --resume"):
        runner.prepare_out(out, False)
    assert runner.prepare_out(out, True) == out
    (out / "metrics.json").write_text("{}")
    with pytest.raises(SlbenchError, match="already holds results; add --resume"):
        runner.prepare_out(out, False)
    assert runner.prepare_out(tmp_path / "new", False) == tmp_path / "new"
    (tmp_path / "only-lock").mkdir()
    (tmp_path / "only-lock" / LOCK_NAME).write_text("")
    assert runner.prepare_out(tmp_path / "only-lock", False) == tmp_path / "only-lock"
