"""`slbench report`: re-render stored results as Markdown, LaTeX, wide CSV and HTML."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from reports.render import check_formats, render_report
from reports.results import ResultsError
from reports.schema import METRICS_CSV, METRICS_JSON
from reports.track_report import render_tracks
from reports.tracks import TRACK_CSV, TRACK_JSON, TrackError, has_track, load_track
from slbench.cli.options import ALL_REPORT_FORMATS, ReportFormatsOption
from slbench.console import print_warning
from slbench.errors import SlbenchError
from slbench.paths import refuse_other_commands_folder


def report(
    results: Annotated[
        list[Path],
        typer.Argument(help="One or more results folders (as written by `slbench run` or `slbench utility`), or "
                            "training tracks (folders holding track.csv from `slbench track` or `train --eval-every`)."),
    ],
    formats: ReportFormatsOption = ALL_REPORT_FORMATS,
    out: Annotated[
        Optional[Path],
        typer.Option(
            "--out",
            help="Folder for the report files (default: the results folder; for several, combined-<hash> beside them).",
        ),
    ] = None,
) -> None:
    """Render stored results (no model, no GPU); several folders are combined into one report.

    Track folders get a table per track (a row per step, the best step per metric in bold) and,
    in HTML, one curve figure per metric against kimg, written as track-report.* and
    track-wide.csv."""
    written = write_report(results=results, formats=formats, out=out)
    for name, path in written.items():
        typer.echo(f"{name}: {path}")


def is_track_folder(path: Path) -> bool:
    """A folder holding a training track and no results (or a path to its track.csv/track.json)."""
    folder = path.parent if path.name in (TRACK_CSV, TRACK_JSON) and path.is_file() else path
    has_results = (folder / METRICS_JSON).exists() or (folder / METRICS_CSV).exists()
    return folder.is_dir() and not has_results and has_track(folder)


def check_is_report_input(path: Path) -> None:
    """A folder that is neither results nor a track is refused with what each would hold."""
    if path.is_dir() and not is_track_folder(path) and not any((path / name).exists()
                                                               for name in (METRICS_JSON, METRICS_CSV)):
        raise SlbenchError(f"{path} holds no results and no training track: neither {METRICS_JSON} or {METRICS_CSV} "
                           f"(`slbench run`, `slbench utility`) nor {TRACK_CSV} and {TRACK_JSON} (`slbench track`, "
                           "`slbench train --eval-every`) is there")


def check_report_folder(out: Path, results: list[Path]) -> None:
    """Refuse an ``--out`` whose own files the report would overwrite or mix with: another run's
    results (its report would then show numbers its metrics.csv does not hold), one of several runs
    being combined, checkpoints or generated images. A single run's own folder is re-rendered."""
    inputs = [path.resolve() for path in results]
    if out.resolve() in inputs:
        if len(inputs) > 1:
            raise SlbenchError(f"--out {out} is one of the runs being combined, whose own report the combined one would "
                               "replace; give a folder of its own (default: combined-<hash> beside them)")
        return
    refuse_other_commands_folder(out, "--out", "a report of other results")


def write_report(*, results: list[Path], formats: str, out: Path | None) -> dict[str, Path]:
    """Run :func:`reports.render.render_report` (or, for track folders, :func:`reports.track_report.render_tracks`),
    turning bad input into an :class:`SlbenchError`."""
    for path in results:
        check_is_report_input(path)
    tracks = [path for path in results if is_track_folder(path)]
    try:
        if tracks:
            if len(tracks) != len(results):
                raise SlbenchError("give results folders or training tracks to one `slbench report`, not both; "
                                   "render them with two commands")
            return render_tracks([load_track(path) for path in tracks], check_formats(formats), out)
        if out is not None:
            check_report_folder(out, results)
        return render_report(results, formats=formats, out=out, on_warning=print_warning)
    except (ResultsError, TrackError) as err:
        raise SlbenchError(str(err)) from None
    except OSError as err:
        target = err.filename or out or "the output folder"
        reason = err.strerror or err
        raise SlbenchError(f"cannot write the report to {target}: {reason}; choose another --out") from None


def register(app: typer.Typer) -> None:
    """Add this module's commands to the app."""
    app.command("report")(report)
