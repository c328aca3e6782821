"""``slbench pool``: one results folder holding the mean over several training runs of each model.

The pooling itself is :func:`reports.pooling.pool_runs`; this module finds the runs, chooses and
guards the output folder, writes the pooled results with their reports, and prints their table.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from reports.pooling import pool_runs
from reports.render import FORMATS, check_formats, folder_beside_runs, render_report
from reports.results import ResultsError, load_results, write_results
from reports.schema import METRICS_CSV, METRICS_JSON
from slbench.console import console, plain
from slbench.errors import SlbenchError
from slbench.evaluation.display import results_table
from slbench.metrics import METRICS
from slbench.paths import refuse_other_commands_folder


def pool_results(folders: Sequence[Path], *, out: Path | None = None,
                 formats: str | Sequence[str] = FORMATS) -> Path:
    """Pool the results in ``folders`` into ``out`` (default ``pooled-<hash of the runs>`` beside
    the first, so pooling the same runs again rewrites one folder), render its reports, print its
    table and return the folder."""
    folders = [Path(folder) for folder in folders]
    resolved = [folder.resolve() for folder in folders]
    repeated = next((folder for folder, path in zip(folders, resolved) if resolved.count(path) > 1), None)
    if repeated is not None:
        raise SlbenchError(f"{repeated} is given twice; give each training run's results once")
    target = Path(out) if out is not None else folder_beside_runs("pooled", folders)
    if target.resolve() in resolved:
        raise SlbenchError(f"--out {target} is one of the runs being pooled; give a folder of its own")
    refuse_other_commands_folder(target, "--out", "pooled results", own=(METRICS_JSON, METRICS_CSV))
    try:
        chosen = check_formats(formats)
        pooled = pool_runs([load_results(folder) for folder in folders],
                           bounds={name: info.bounds for name, info in METRICS.items()})
        _check_replaceable(target)
        write_results(target, pooled.rows, settings=pooled.settings, provenance=pooled.provenance, artifacts={})
        console.print(results_table(pooled.rows, title=f"mean over {len(folders)} training runs, "
                                                       "± t 95% interval over runs"))
        # The table's caption already warns of unequal budgets; the reports repeat it in theirs.
        written = render_report(target, formats=chosen)
    except ResultsError as err:
        raise SlbenchError(str(err)) from None
    except OSError as err:
        raise SlbenchError(f"cannot write the pooled results to {err.filename or target}: "
                           f"{err.strerror or err}; choose another --out") from None
    console.print("pooled results: " + plain(target), highlight=False)
    console.print("report: " + ", ".join(plain(path) for path in written.values()), highlight=False)
    return target


def _check_replaceable(target: Path) -> None:
    """Refuse to overwrite results that are not an earlier pooling."""
    if not (target / METRICS_JSON).exists():
        return
    if load_results(target).settings.get("command") != "pool":
        raise ResultsError(f"{target} already holds results of another command; give --out a new folder")
