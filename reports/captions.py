"""Plain-text captions and table notes, shared by the Markdown, LaTeX and HTML renderers.

Every caption names what a reader needs to judge the numbers: the feature extractor (or
classifier), the evaluation protocol, the evaluation resolution and how many real and generated
images each class's values rest on. Renderers escape this text for their own format.
"""

from __future__ import annotations

from typing import Any, Mapping

from reports.budgets import UNKNOWN_BUDGET_NOTE, steps_text
from reports.tables import WideTable

LOW_RELIABILITY_NOTE = (
    "Low reliability: too few images for this metric to be trusted "
    "(for FID, fewer images than feature dimensions)."
)
DIRECTION_NOTE = "↓ lower is better, ↑ higher is better; bold: best value per column."
CI_NOTE = "± half-width of the confidence interval (+upper/−lower where it is asymmetric)."
KIMG_NOTE = "kimg: thousands of real images the model was trained on."
DAGGER = "†"


def direction_arrow(higher_is_better: bool) -> str:
    return "↑" if higher_is_better else "↓"


def sample_size_text(table: WideTable) -> str:
    """``"MEL 1113 / 1113, NV 6705 / 6705"``: N real / N generated per category (per arm for utility)."""
    return ", ".join(f"{size.group} {size.n_real} / {size.n_fake}" for size in table.sample_sizes)


def protocol_text(table: WideTable) -> str:
    """The sentence naming the table's protocol (every value of a table shares one)."""
    if table.protocol:
        return (f"Protocol: {table.protocol} (the name pins the extractor, its resize, the generated images "
                "per class and the metrics).")
    return "Protocol: none named (extractor, resize and sample count as the run chose them)."


def caption(table: WideTable) -> str:
    """The table's caption as plain text."""
    resolution = f"{table.resolution} px" if table.resolution is not None else "unrecorded"
    if table.kind == "utility":
        lead = (
            "Utility of synthetic images for lesion classification: each row is a training arm, "
            "scored on held-out real test images."
        )
        setting = f"Classifier: {table.features}; resolution: {resolution}; N real test / N synthetic training images: "
    elif table.kind == "track":
        lead = "Metrics of one training run at every evaluated step, each with the same settings."
        setting = f"Features: {table.features}; resolution: {resolution}; N real / N fake: "
    else:
        lead = "Image quality of generated lesion images against the real images of each class."
        setting = f"{protocol_text(table)} Features: {table.features}; resolution: {resolution}; N real / N fake: "
    parts = [lead, setting + sample_size_text(table) + ".", DIRECTION_NOTE]
    if table.any_ci:
        parts.append(CI_NOTE)
    if table.pooling_note:
        parts.append(table.pooling_note)
    if table.real_side_note:
        parts.append(table.real_side_note)
    if table.checkpoint_note:
        parts.append(table.checkpoint_note)
    if table.shows_budget:
        parts.append(KIMG_NOTE)
        steps = steps_text(table.budgets)
        if steps:
            parts.append(f"Checkpoint steps: {steps}.")
    if table.growth_note:
        parts.append(table.growth_note)
    parts.extend("Warning: " + warning for warning in table.warnings)
    return " ".join(parts)


OPTIMISTIC_NOTE = "a step chosen on images its value is reported on makes that value optimistic"


def checkpoint_note(selections: Mapping[str, Mapping[str, Any]]) -> str:
    """Which step each ``"<model>/<category>"`` was chosen at and why (as ``slbench run --select``
    records it in its settings), in one sentence; empty when no step was chosen from a track."""
    if not selections:
        return ""
    chosen = "; ".join(f"{key} {record.get('reason', '')}".strip()
                       for key, record in sorted(selections.items()))
    optimistic = any(record.get("selection_set") != "train" or record.get("reported_on", "all") != "test"
                     for record in selections.values())
    return f"Checkpoints chosen from training tracks: {chosen}" + (f" ({OPTIMISTIC_NOTE})." if optimistic else ".")


def table_notes(table: WideTable) -> list[tuple[str, str]]:
    """Notes under a table as (mark, text): the low-reliability dagger, notes that hold for every
    value (mark ``""``), then lettered notes."""
    notes = [(DAGGER, LOW_RELIABILITY_NOTE)] if table.any_low_reliability else []
    if table.budget_unknown:
        notes.append(("", UNKNOWN_BUDGET_NOTE))
    notes += [("", note) for note in table.shared_notes]
    if table.unranked:
        pairs = ", ".join(f"{model} on {category}" for model, category in table.unranked)
        notes.append(("", f"Never bold: {pairs} (precision 0: none of its samples lies among the real images, "
                          "so its other values do not describe lesions)."))
    return notes + [(mark, note) for note, mark in table.note_marks().items()]
