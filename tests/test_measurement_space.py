"""The one label of where values were measured, and the grouping that relies on it."""

from __future__ import annotations

from types import SimpleNamespace

from reports.measurement_space import measurement_space, settings_measurement_space
from reports.plots import stored_prd_curves


def test_the_label_names_protocol_extractor_and_resolution():
    assert measurement_space("lesion", 64, "lesion") == "protocol lesion · lesion · 64 px"
    assert measurement_space("inception", 256) == "inception · 256 px"
    assert measurement_space(None, None) == "unrecorded extractor"


def test_settings_without_an_integer_resolution_leave_it_out():
    assert settings_measurement_space({"features": "lesion", "resolution": None}) == "lesion"
    assert settings_measurement_space({"features": "lesion", "resolution": 32, "protocol": None}) == "lesion · 32 px"


def prd_run(resolution: int, protocol: str | None = None) -> SimpleNamespace:
    curve = {"precision": [1.0, 0.0], "recall": [0.0, 1.0], "settings": {}, "set_size": 10}
    return SimpleNamespace(settings={"features": "lesion", "resolution": resolution, "protocol": protocol},
                           provenance={"pairs": {"dcgan/MEL": {"prd_curve": curve}}})


def test_prd_curves_at_two_resolutions_never_share_axes():
    grouped = stored_prd_curves([prd_run(32), prd_run(64), prd_run(64, "lesion")])
    assert set(grouped) == {("lesion · 32 px", "MEL"), ("lesion · 64 px", "MEL"),
                            ("protocol lesion · lesion · 64 px", "MEL")}
