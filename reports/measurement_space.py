"""One label for the space a value was measured in: its protocol, feature extractor and resolution.

Values from different spaces are not comparable, so everything that groups or captions values
by where they were measured uses this one label: ``check``'s caption, the reports' table
headings and figure titles, and the grouping of training curves and PRD curves. Two values share
a set of axes exactly when they share the label.
"""

from __future__ import annotations

from typing import Any, Mapping

UNRECORDED_EXTRACTOR = "unrecorded extractor"


def measurement_space(features: str | None, resolution: int | None, protocol: str | None = None) -> str:
    """``protocol lesion · lesion · 64 px``, or ``inception · 256 px`` without a protocol."""
    parts = [f"protocol {protocol}"] if protocol else []
    parts.append(features or UNRECORDED_EXTRACTOR)
    if resolution is not None:
        parts.append(f"{resolution} px")
    return " · ".join(parts)


def settings_measurement_space(settings: Mapping[str, Any]) -> str:
    """The label of a run's or a track's stored settings."""
    resolution = settings.get("resolution")
    return measurement_space(settings.get("features"), resolution if isinstance(resolution, int) else None,
                             settings.get("protocol"))
