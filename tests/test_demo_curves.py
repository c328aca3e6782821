"""The demo's curve tables: one row per model, one column per checkpoint, every value the track holds."""

from __future__ import annotations

from rich.console import Console

from reports.tracks import load_track, track_row, write_track
from slbench.demo_curves import curves_table, fid_swing

SETTINGS = {"command": "track", "category": "MEL", "features": "lesion", "resolution": 32}


def stored_track(folder, model, fids):
    rows = [track_row(step, step * 16 / 1000, "fid", value, higher_is_better=False) for step, value in fids.items()]
    write_track(folder, rows, settings={**SETTINGS, "model": model}, provenance={})
    return load_track(folder)


def rendered(table) -> list[str]:
    console = Console(record=True, width=120)
    console.print(table)
    return console.export_text().splitlines()


def test_each_model_is_a_row_with_its_value_at_every_checkpoint(tmp_path):
    tracks = [stored_track(tmp_path / "a", "sl-stylegan", {100: 617.33, 200: 10.94}),
              stored_track(tmp_path / "b", "stylegan", {100: 1955.2, 200: 133.5, 300: 99.0})]
    lines = rendered(curves_table(tracks, "fid"))
    assert "FID ↓" in lines[0]
    header = next(line for line in lines if "model" in line)
    assert [cell.strip() for cell in header.split("┃")[2:-1]] == ["1.6", "3.2", "4.8"]  # kimg of each step
    cells = {line.split("│")[1].strip(): [c.strip() for c in line.split("│")[2:-1]]
             for line in lines if line.startswith("│")}
    assert cells["sl-stylegan"] == ["617", "10.9", "-"]  # no checkpoint evaluated at step 300
    assert cells["stylegan"] == ["1955", "134", "99"]  # thousands without an exponent


def test_a_long_curve_prints_in_parts_that_fit_an_80_column_console(tmp_path):
    fids = {step: 1000.0 / step * 100 for step in range(100, 3100, 100)}  # 30 checkpoints, 1.6k to 48k images
    tracks = [stored_track(tmp_path / "a", "sl-stylegan", fids), stored_track(tmp_path / "b", "stylegan", fids)]
    console = Console(record=True, width=80, color_system=None)
    console.print(curves_table(tracks, "fid"))
    lines = console.export_text().splitlines()
    assert max(len(line.rstrip()) for line in lines) <= 80 and "…" not in "\n".join(lines)
    headers = [line for line in lines if "┃ model" in line]
    assert len(headers) > 1
    columns = [cell.strip() for header in headers for cell in header.split("┃")[2:-1]]
    assert columns == [f"{step * 16 / 1000:g}" for step in fids]  # every checkpoint once, in order
    assert sum(line.startswith("│ stylegan ") for line in lines) == len(headers)


def test_a_fid_that_rises_twofold_between_checkpoints_is_called_a_swing(tmp_path):
    swinging = stored_track(tmp_path / "a", "sl-stylegan", {100: 617.0, 200: 31.4, 300: 118.0, 400: 10.9})
    warning = fid_swing(swinging)
    assert warning.startswith("sl-stylegan's FID rose from 31.4 at 3.2 kimg to 118 at 4.8 kimg")
    steady = stored_track(tmp_path / "b", "stylegan", {100: 1955.0, 200: 786.0, 300: 499.0})
    assert fid_swing(steady) is None
    wobbling = stored_track(tmp_path / "c", "dcgan", {100: 144.0, 200: 178.0, 300: 19.7, 400: 26.6})
    assert fid_swing(wobbling) is None  # 1.24 and 1.35 times: noise of a short run, not a swing
    assert fid_swing(stored_track(tmp_path / "d", "dcgan", {100: 50.0})) is None
