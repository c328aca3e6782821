"""Named evaluation protocols: the registry, what a name pins, contradicting options, and runs,
checks and tracks under a protocol."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from reports.measurement_space import settings_measurement_space
from reports.results import load_results
from slbench.cli import app
from slbench.errors import SlbenchError
from slbench.evaluation import run_evaluation
from slbench.evaluation.protocols import PROTOCOLS, Protocol, get_protocol, register_protocol, resolve_protocol
from slbench.features import EXTRACTORS
from slbench.gate import check_candidate
from slbench.metrics import DEFAULT_FEATURE_METRICS
from slbench.tracking import track_folder
from evaluation_builders import save_generator_checkpoint, train_tiny_lesion_extractor

pytestmark = pytest.mark.usefixtures("one_thread")


def test_the_four_protocols_pin_extractor_resize_samples_and_metrics():
    assert list(PROTOCOLS) == ["inception-fid", "dinov2-fd", "clip-cmmd", "lesion"]
    pinned = {name: (p.extractor, p.input_resolution, p.resize_filter, p.n_samples, p.metrics)
              for name, p in PROTOCOLS.items()}
    assert pinned == {
        "inception-fid": ("inception", 299, "bilinear-tf1", 10_000, ("fid", "kid", "precision", "recall")),
        "dinov2-fd": ("dinov2-bicubic", 224, "pil-bicubic", 10_000,
                      ("fid", "kid", "precision", "recall", "density", "coverage")),
        "clip-cmmd": ("clip-vit-l-14-336", 336, "bicubic", 10_000, ("cmmd",)),
        "lesion": ("lesion", 64, "bilinear-antialias", 2_000, DEFAULT_FEATURE_METRICS),
    }
    for protocol in PROTOCOLS.values():  # the extractor's own resize is the one the protocol states
        spec = EXTRACTORS[protocol.extractor]
        assert spec.resize_filter == protocol.resize_filter
        assert spec.input_resolution in (None, protocol.input_resolution)
    assert PROTOCOLS["lesion"].class_consistency and not PROTOCOLS["lesion"].lpips
    assert not any(p.class_consistency for name, p in PROTOCOLS.items() if name != "lesion")


def _protocol(**changes) -> Protocol:
    fields = dict(name="test-protocol", extractor="inception", n_samples=10, input_resolution=299,
                  resize_filter="bilinear-tf1", metrics=("fid",), lpips=False, class_consistency=False,
                  description="d", reference="r")
    return Protocol(**(fields | changes))


@pytest.mark.parametrize("changes, message", [
    ({"name": "inception-fid"}, "registered twice"),
    ({"name": "Has Space"}, "lower-case words"),
    ({"extractor": "incepton"}, "unknown extractor"),
    ({"resize_filter": "bicubic"}, "does not resize as the protocol states"),
    ({"input_resolution": 224}, "does not resize as the protocol states"),
    ({"metrics": ("fdi",)}, "known metrics"),
])
def test_registration_refuses_a_bad_definition(changes, message):
    with pytest.raises(ValueError, match=message):
        register_protocol(lambda: _protocol(**changes))
    assert "test-protocol" not in PROTOCOLS


def test_unknown_protocol_lists_the_valid_names():
    with pytest.raises(SlbenchError, match="unknown protocol 'lesn'; choose one of inception-fid, dinov2-fd, "
                                           "clip-cmmd, lesion"):
        get_protocol("lesn")


def test_options_may_repeat_a_protocol_but_not_contradict_it():
    same = resolve_protocol("lesion", features="lesion", n_samples=2000, default_features="inception")
    assert (same.protocol.name, same.features, same.n_samples) == ("lesion", "lesion", 2000)
    free = resolve_protocol(None, features=None, n_samples=None, default_features="inception")
    assert (free.protocol, free.features, free.n_samples) == (None, "inception", None)
    with pytest.raises(SlbenchError, match=r"--features inception \(it pins lesion\) and --n-samples 50 "
                                           r"\(it pins 2000\) contradict --protocol lesion"):
        resolve_protocol("lesion", features="inception", n_samples=50, default_features="inception")


@pytest.mark.parametrize("extra, shown", [
    (["--features", "inception"], "--features inception (it pins lesion) contradicts --protocol lesion"),
    (["--n-samples", "50"], "--n-samples 50 (it pins 2000) contradicts --protocol lesion"),
])
def test_cli_refuses_a_contradicting_option_in_one_line_with_exit_2(extra, shown, tmp_path):
    result = CliRunner().invoke(app, ["run", "--protocol", "lesion", "--data", str(tmp_path), *extra])
    assert result.exit_code == 2
    assert result.output.startswith("error: ") and shown in result.output
    assert result.output.count("\n") == 1 and "drop --protocol" in result.output
    assert not (tmp_path / "results").exists()


def test_cli_lists_the_protocols():
    result = CliRunner().invoke(app, ["protocols"], env={"COLUMNS": "400"})
    assert result.exit_code == 0, result.output
    for name, protocol in PROTOCOLS.items():
        line = next(line for line in result.output.splitlines() if line.startswith(f"│ {name} "))
        assert protocol.extractor in line and f"{protocol.n_samples:,}" in line and protocol.resize_filter in line


@pytest.fixture(scope="module")
def lesion_run(tmp_path_factory, synthetic_dataset):
    """One DCGAN checkpoint on MEL evaluated under the lesion protocol (extractor trained at its 64 px)."""
    root = tmp_path_factory.mktemp("protocol-run")
    checkpoints = root / "checkpoints"
    save_generator_checkpoint(checkpoints, "dcgan", "MEL", seed=2)
    (root / "lesion").mkdir()
    train_tiny_lesion_extractor(synthetic_dataset, root / "lesion", resolution=64, epochs=1)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SLBENCH_CACHE", str(root / "cache"))
        out = run_evaluation(data=synthetic_dataset, models="dcgan", categories="MEL", checkpoints=checkpoints,
                             protocol="lesion", out=root / "results", seed=1, weights_dir=root / "lesion", batch=250,
                             report_formats=("md", "csv"))
    return {"root": root, "out": out, "data": synthetic_dataset, "checkpoints": checkpoints}


def test_a_run_under_lesion_records_what_the_protocol_pins(lesion_run):
    stored = load_results(lesion_run["out"])
    pinned = PROTOCOLS["lesion"]
    assert stored.settings["protocol"] == "lesion" and stored.settings["protocol_settings"] == pinned.to_json()
    assert stored.provenance["protocol"] == pinned.to_json()
    assert stored.settings["features"] == "lesion" and stored.settings["n_fake"] == {"MEL": 2000}
    extractor = stored.provenance["extractor"]
    assert (extractor["input_resolution"], extractor["resize_filter"]) == (64, "bilinear-antialias")
    rows = stored.rows
    assert set(rows["protocol"]) == {"lesion"} and set(rows["n_fake"]) == {2000}
    expected = set(DEFAULT_FEATURE_METRICS) | {"class_consistency", "class_consistency_real"}
    assert set(rows["metric"]) == expected  # no LPIPS: the protocol works offline
    assert stored.provenance["lpips"] == {"status": "skipped", "reason": "not part of protocol lesion"}
    markdown = (lesion_run["out"] / "report.md").read_text()
    assert "## Image quality · protocol lesion · lesion · 32 px" in markdown and "Protocol: lesion (" in markdown


def test_check_replays_the_protocol(lesion_run):
    candidate = lesion_run["checkpoints"] / "dcgan" / "MEL"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SLBENCH_CACHE", str(lesion_run["root"] / "cache"))
        outcome = check_candidate(candidate=candidate, baseline=lesion_run["out"],
                                  weights_dir=lesion_run["root"] / "lesion", device="cpu")
    assert not outcome.regressed and outcome.settings["protocol"] == "lesion" and outcome.settings["n_fake"] == 2000
    assert settings_measurement_space(outcome.settings) == "protocol lesion · lesion · 32 px"
    compared = {c.metric for c in outcome.comparisons}
    assert "class_consistency" in compared and "lpips_fake" not in compared


def test_check_refuses_a_baseline_whose_protocol_changed_since(lesion_run, tmp_path):
    folder = tmp_path / "changed"
    folder.mkdir()
    document = json.loads((lesion_run["out"] / "metrics.json").read_text())
    document["settings"]["protocol_settings"]["n_samples"] = 5000
    (folder / "metrics.json").write_text(json.dumps(document))
    with pytest.raises(SlbenchError, match="protocol lesion pins other n_samples in this slbench"):
        check_candidate(candidate=lesion_run["checkpoints"] / "dcgan" / "MEL", baseline=folder,
                        weights_dir=lesion_run["root"] / "lesion", device="cpu")


def test_track_under_a_protocol_records_it(lesion_run, tmp_path, capsys):
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SLBENCH_CACHE", str(lesion_run["root"] / "cache"))
        tracker = track_folder(lesion_run["checkpoints"] / "dcgan" / "MEL", data=lesion_run["data"], out=tmp_path,
                               protocol="lesion", weights_dir=lesion_run["root"] / "lesion", batch=250, seed=1,
                               device="cpu")
        with pytest.raises(SlbenchError, match="contradicts --protocol lesion"):
            track_folder(lesion_run["checkpoints"] / "dcgan" / "MEL", data=lesion_run["data"], out=tmp_path,
                         protocol="lesion", features="inception", device="cpu")
    assert tracker.settings["protocol"] == "lesion" and tracker.n_fake == 2000
    assert "track dcgan/MEL · protocol lesion" in capsys.readouterr().err
    stored = load_results(lesion_run["out"]).rows.set_index("metric")["value"]
    tracked = {row["metric"]: row["value"] for row in tracker.rows}
    # Same protocol, same numbers; only float summation order may differ (BLAS thread count).
    assert tracked["fid"] == pytest.approx(stored["fid"], rel=1e-9)
    assert tracked["class_consistency"] == stored["class_consistency"]


def test_two_protocols_never_share_a_column_in_any_report(tmp_path):
    """The same extractor, resolution, models and classes under two protocols: two tables everywhere."""
    from rich.console import Console

    from reports.render import render_report
    from reports.tables import build_tables
    from reports.results import combine
    from reports_factory import quality_rows, write_run
    from slbench.evaluation.display import results_table

    first = quality_rows(protocol="inception-fid")
    second = [dict(row, protocol="lesion", value=row["value"] * 2) for row in quality_rows()]
    write_run(tmp_path / "a", first)
    write_run(tmp_path / "b", second)
    written = render_report([tmp_path / "a", tmp_path / "b"], formats="md,tex,csv,html", out=tmp_path / "report")
    tables = [t for t in build_tables(combine([load_results(tmp_path / f) for f in "ab"]).rows) if t.kind == "quality"]
    assert sorted(t.protocol for t in tables) == ["inception-fid", "lesion"]
    for table in tables:
        source = first if table.protocol == "inception-fid" else second
        expected = {(r["model"], r["category"], r["metric"]): r["value"] for r in source}
        assert {key: cell.value for key, cell in table.cells.items()} == expected
    markdown = written["md"].read_text()
    for name in ("inception-fid", "lesion"):
        assert markdown.count(f"## Image quality · protocol {name} · inception · 256 px") == 1
        assert f"Protocol: {name} (" in written["tex"].read_text()
        assert f'id="table-quality-{name}-inception-256"' in written["html"].read_text()
    wide = written["csv"].read_text().splitlines()
    assert wide[0].startswith("table,protocol,features,resolution,model,")
    assert sum(line.startswith("quality,inception-fid,inception,256,") for line in wide) == 3
    assert sum(line.startswith("quality,lesion,inception,256,") for line in wide) == 3
    console = Console(width=300, record=True)
    console.print(results_table(second))
    assert "results · protocol lesion" in console.export_text()


def test_on_an_80_column_console_each_protocol_is_a_block_with_its_names_whole():
    result = CliRunner().invoke(app, ["protocols"], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert max(len(line.rstrip()) for line in lines) <= 80
    for name, protocol in PROTOCOLS.items():
        assert any(line.split() == ["name", name] for line in lines)
        assert any(line.split() == ["extractor", protocol.extractor] for line in lines)
