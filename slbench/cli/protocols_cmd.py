"""`slbench protocols`: the named evaluation protocols and what each one pins."""

from __future__ import annotations

import typer

from slbench.console import console, plain
from slbench.fitted_table import RecordTable


def protocols() -> None:
    """List the evaluation protocols `slbench run --protocol NAME` accepts: extractor, resize,
    generated images per class and metrics of each."""
    from slbench.evaluation.protocols import PROTOCOLS

    rows = []
    for protocol in PROTOCOLS.values():
        extras = [name for name, on in (("lpips", protocol.lpips), ("class_consistency", protocol.class_consistency))
                  if on]
        rows.append([
            plain(protocol.name), plain(protocol.extractor),
            plain(f"{protocol.input_resolution} px, {protocol.resize_filter}"), f"{protocol.n_samples:,}",
            plain(", ".join((*protocol.metrics, *extras))), plain(protocol.description), plain(protocol.reference),
        ])
    table = RecordTable("Evaluation protocols",
                        ("name", "extractor", "resize", "generated per class", "metrics", "what", "follows"), rows)
    console.print(table)


def register(app: typer.Typer) -> None:
    """Add ``slbench protocols``."""
    app.command("protocols")(protocols)
