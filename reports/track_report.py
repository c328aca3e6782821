"""A report of training tracks alone: the folder ``slbench track`` (or ``train --eval-every``) wrote.

Each track becomes one wide table, a row per evaluated step and a column per metric, the best
step of each metric in bold (by the direction its rows carry), captioned with what every step
was measured with (extractor, resolution, N, the real images); the HTML page adds one curve
figure per metric against kimg, the tracks' models overlaid, with interval bands, and the
settings of every track. Steps that could not be evaluated are listed under their table with
the reason. Several track folders make one report, their curves overlaid.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import replace
from html import escape
from pathlib import Path

import pandas as pd

from reports.csv_wide import render_csv_wide
from reports.curves import curve_figures, track_curves
from reports.files import atomic_write_text
from reports.html import _img_tag, _key_value_table, html_table
from reports.html_style import STYLE
from reports.images import embed_png_bytes
from reports.latex import PREAMBLE_NOTE, latex_table
from reports.markdown import markdown_table, md_code
from reports.real_sides import SIDE_TEXT
from reports.tables import WideTable, _build_table
from reports.tracks import STATUS_OK, Track, TrackError

TRACK_OUTPUTS = {"md": "track-report.md", "tex": "track-report.tex", "csv": "track-wide.csv",
                 "html": "track-report.html"}


def step_label(step: int, kimg: float, stage: str = "") -> str:
    """``"step 400 (1.60 kimg)"``: a table row of a track; ``"step 400 (1.60 kimg; at 16 px)"``
    for a step sampled before its network finished growing."""
    said = [] if math.isnan(kimg) else [f"{kimg:.2f} kimg"]
    said += [f"at {stage}"] if stage else []
    return f"step {step}" + (f" ({'; '.join(said)})" if said else "")


def track_table(track: Track) -> WideTable:
    """The track as a wide table: one row per evaluated step, one column per metric."""
    settings = track.settings
    ok = [row for row in track.rows if row["status"] == STATUS_OK and row["metric"]]
    if not ok:
        raise TrackError(f"the track in {track.folder} has no evaluated step; nothing to report")
    stages = track.stages()
    labels = {row["step"]: step_label(row["step"], row["kimg"], stages.get(row["step"], "")) for row in ok}
    frame = pd.DataFrame([{
        "table": "track", "features": str(settings.get("features", "?")), "protocol": str(settings.get("protocol") or ""),
        "resolution": settings.get("resolution"),
        "model": labels[row["step"]], "category": track.category or "?", "metric": row["metric"],
        "value": row["value"], "ci_low": row["ci_low"], "ci_high": row["ci_high"], "std": math.nan,
        "n_real": settings.get("n_real"), "n_fake": settings.get("n_fake"), "higher_is_better": row["higher_is_better"],
        "low_reliability": row["low_reliability"], "note": "", "step": row["step"], "kimg": row["kimg"], "stage": "",
    } for row in ok])
    table = _build_table(frame)
    return replace(table, models=tuple(labels[step] for step in sorted(labels)), budgets={}, unranked=(),
                   checkpoint_note=track_caption(track))


def track_caption(track: Track) -> str:
    """What a track's table needs said beyond the settings every caption gives."""
    settings = track.settings
    side = SIDE_TEXT.get(str(settings.get("real_side", "all")), str(settings.get("real_side")))
    failed = sorted({row["step"] for row in track.rows if row["status"] != STATUS_OK})
    parts = [f"Training track of {track.model} on {track.category}: every step measured against {side}, "
             f"seed {settings.get('seed', '?')}; bold: the best step per metric."]
    if track.stages():
        parts.append("A step marked \"at\" a stage was sampled before the network finished growing: a smaller "
                     "network's images, upscaled.")
    if failed:
        reasons = "; ".join(f"step {row['step']}: {row['status']} ({row['reason']})" for row in track.rows
                            if row["status"] != STATUS_OK and row["step"] in failed[:5])
        parts.append(f"Steps without values: {reasons}.")
    return " ".join(parts)


def track_html(tracks: list[Track], tables: list[WideTable]) -> str:
    """One self-contained page: the tables, a curve figure per metric, each track's settings."""
    plots = curve_figures([curve for track in tracks for curve in track_curves(track)])
    figures = [f"<figure>{_img_tag(embed_png_bytes(plot.png), plot.title)}"
               f"<figcaption>{escape(plot.title)}</figcaption></figure>" for plot in plots]
    settings = "".join(f"<h3>{escape(str(track.folder))}</h3>{_key_value_table('Settings', track.settings)}"
                       for track in tracks)
    names = ", ".join(f"<code>{escape(f'{t.model}/{t.category}')}</code>" for t in tracks)
    return ('<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>slbench training track</title><style>{STYLE}</style></head><body>"
            f'<header class="page"><div class="wrap"><h1>slbench training track</h1><p class="sub">Tracks: {names}'
            f'</p></div></header><main class="wrap"><section id="tables"><h2>Tables</h2>'
            f'{"".join(html_table(table) for table in tables)}</section>'
            f'<section id="curves"><h2>Training curves</h2><div class="plots curves">{"".join(figures)}</div></section>'
            f'<section id="settings"><h2>Settings</h2>{settings}</section>'
            "<footer>Rendered by <code>slbench report</code> from stored tracks; the complete record of each is its "
            "<code>track.json</code>.</footer></main></body></html>\n")


def render_tracks(tracks: list[Track], formats: tuple[str, ...], out: Path | None) -> dict[str, Path]:
    """Write the report of ``tracks`` in ``formats``; returns the file written per format."""
    tables = [track_table(track) for track in tracks]
    rendered = {}
    for name in formats:
        if name == "md":
            names = ", ".join(md_code(f"{t.model}/{t.category}") for t in tracks)
            lines = ["# slbench training track", "", f"Tracks: {names}.", ""]
            rendered[name] = "\n".join(lines + [line for t in tables for line in markdown_table(t)]).rstrip() + "\n"
        elif name == "tex":
            chunks = [PREAMBLE_NOTE] + [latex_table(t, label=f"tab:slbench-track-{index}")
                                        for index, t in enumerate(tables)]
            rendered[name] = "\n".join(chunks).rstrip("\n") + "\n"
        elif name == "csv":
            rendered[name] = render_csv_wide(tables)
        else:
            rendered[name] = track_html(tracks, tables)
    target = out if out is not None else default_track_folder([track.folder for track in tracks])
    return {name: atomic_write_text(target / TRACK_OUTPUTS[name], text) for name, text in rendered.items()}


def default_track_folder(folders: list[Path]) -> Path:
    """The track folder itself for one track; ``combined-tracks-<hash>`` beside the first for several."""
    resolved = [folder.resolve() for folder in folders]
    if len(resolved) == 1:
        return resolved[0]
    digest = hashlib.sha256("\n".join(sorted(str(f) for f in resolved)).encode()).hexdigest()[:8]
    return resolved[0].parent / f"combined-tracks-{digest}"

