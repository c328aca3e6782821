"""Results folders: validation on write, faithful round trip, stable order, clear errors, combining runs."""

from __future__ import annotations

import json
import math
import os
import random
import stat

import pandas as pd
import pytest

from reports.results import ResultsError, combine, load_results, write_results
from reports.schema import COLUMNS, METRICS_CSV, METRICS_JSON
from reports_factory import quality_row, quality_rows, utility_rows, write_run


def test_round_trip_keeps_every_value_type_and_record(tmp_path):
    rows = quality_rows(categories=("MEL",)) + utility_rows()
    rows[0]["low_reliability"] = True
    rows[1]["n_fake"] = None
    write_run(tmp_path / "run", rows)
    loaded = load_results(tmp_path / "run")

    assert list(loaded.rows.columns) == list(COLUMNS)
    assert len(loaded.rows) == len(rows)
    fid = loaded.rows.query("model == 'dcgan' and metric == 'fid'").iloc[0]
    assert fid["value"] == 64.0 and fid["ci_low"] == 62.75 and fid["ci_high"] == 65.25
    assert fid["n_real"] == 890 and not fid["higher_is_better"]
    precision = loaded.rows.query("model == 'dcgan' and metric == 'precision'").iloc[0]
    assert math.isnan(precision["ci_low"]) and precision["higher_is_better"]
    assert loaded.rows["low_reliability"].sum() == 1
    assert loaded.rows["n_fake"].isna().sum() == 1
    gain = loaded.rows.query("metric == 'gain_balanced_accuracy' and model == 'real+sl-stylegan'").iloc[0]
    assert gain["note"] == "paired Wilcoxon p=0.031"
    assert loaded.settings["n_samples"] == 1000
    assert loaded.provenance["extractor"]["weights_sha256"] == "ab" * 32
    assert loaded.artifact_path("samples", "dcgan/MEL") == tmp_path / "run" / "samples" / "dcgan" / "MEL.png"
    assert loaded.artifact_path("samples", "dcgan/NV") is None


def test_files_are_byte_identical_whatever_the_row_order(tmp_path):
    rows = quality_rows() + utility_rows()
    shuffled = rows[:]
    random.Random(3).shuffle(shuffled)
    write_run(tmp_path / "a", rows, artifacts=False)
    write_run(tmp_path / "b", shuffled, artifacts=False)
    for name in (METRICS_CSV, METRICS_JSON):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    models = pd.read_csv(tmp_path / "a" / METRICS_CSV)["model"].drop_duplicates().tolist()
    assert models == ["sl-stylegan", "stylegan", "dcgan", "real-only", "real+sl-stylegan", "synthetic-only:dcgan"]


def test_tidy_csv_has_schema_columns_and_exact_floats(tmp_path):
    rows = [quality_row("dcgan", "MEL", "kid", 0.1 + 0.2, std=1 / 3)]
    write_run(tmp_path, rows, artifacts=False)
    frame = pd.read_csv(tmp_path / METRICS_CSV)
    assert tuple(frame.columns) == COLUMNS
    assert frame.loc[0, "value"] == 0.1 + 0.2 and frame.loc[0, "std"] == 1 / 3
    document = json.loads((tmp_path / METRICS_JSON).read_text())
    assert document["schema_version"] == 3
    assert document["rows"][0]["ci_low"] is None  # NaN is stored as null, never as invalid JSON


def test_no_temporary_files_are_left_and_files_are_readable(tmp_path):
    write_run(tmp_path, quality_rows(categories=("MEL",)), artifacts=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == [METRICS_CSV, METRICS_JSON]
    mask = os.umask(0o022)
    os.umask(mask)
    assert stat.S_IMODE(os.stat(tmp_path / METRICS_CSV).st_mode) == 0o666 & ~mask  # as any new file, not 0600


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda row: row.pop("n_fake"), "missing column(s) n_fake"),
        (lambda row: row.update(colour="red"), "unknown column(s) colour"),
        (lambda row: row.update(table="speed"), "table 'speed'"),
        (lambda row: row.update(value="12"), "column value must be a number"),
        (lambda row: row.update(n_real=12.5), "column n_real must be a whole number"),
        (lambda row: row.update(higher_is_better="no"), "column higher_is_better must be true or false"),
        (lambda row: row.update(model=""), "column model must be a non-empty string"),
        (lambda row: row.update(ci_low=1.0), "ci_low and ci_high must both be given"),
        (lambda row: row.update(ci_low=3.0, ci_high=2.0), "ci_low 3.0 is above ci_high 2.0"),
    ],
)
def test_bad_rows_are_refused_with_the_reason(tmp_path, change, message):
    rows = quality_rows(categories=("MEL",))
    change(rows[2])
    with pytest.raises(ValueError, match="row 2") as caught:
        write_run(tmp_path, rows, artifacts=False)
    assert message in str(caught.value)
    assert not (tmp_path / METRICS_CSV).exists()


def test_duplicate_rows_and_escaping_artifacts_are_refused(tmp_path):
    rows = quality_rows(categories=("MEL",))
    with pytest.raises(ResultsError, match="duplicate result row"):
        write_run(tmp_path, rows + [dict(rows[0])], artifacts=False)
    for bad in ("../outside.png", "/etc/passwd", "C:\\x.png"):
        with pytest.raises(ResultsError, match="inside it"):
            write_results(tmp_path, rows, settings={}, provenance={}, artifacts={"samples": {"dcgan/MEL": bad}})


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "is not valid JSON"),
        ("[1, 2]", "must hold a JSON object"),
        ('{"rows": []}', "no integer schema_version"),
        ('{"schema_version": 99, "rows": []}', "upgrade slbench"),
        ('{"schema_version": 1}', "no list of rows"),
        ('{"schema_version": 1, "rows": [{"table": "quality"}]}', "missing column(s)"),
        ('{"schema_version": 1, "rows": [], "artifacts": {"real": {"MEL": "../x.png"}}}', "inside it"),
    ],
)
def test_malformed_json_gives_a_clear_error(tmp_path, content, message):
    (tmp_path / METRICS_JSON).write_text(content)
    with pytest.raises(ValueError) as caught:
        load_results(tmp_path)
    assert message in str(caught.value) and METRICS_JSON in str(caught.value)


def test_folder_without_results_and_missing_folder(tmp_path):
    with pytest.raises(ResultsError, match="holds no results"):
        load_results(tmp_path)
    with pytest.raises(ResultsError, match="does not exist"):
        load_results(tmp_path / "nowhere")


def test_csv_only_folder_loads_and_a_bad_cell_is_named(tmp_path):
    write_run(tmp_path, quality_rows(categories=("MEL",)), artifacts=False)
    (tmp_path / METRICS_JSON).unlink()
    loaded = load_results(tmp_path / METRICS_CSV)
    assert len(loaded.rows) == 24 and loaded.settings == {} and loaded.artifacts == {}
    text = (tmp_path / METRICS_CSV).read_text().replace("21.5,", "twenty,", 1)
    (tmp_path / METRICS_CSV).write_text(text)
    with pytest.raises(ResultsError, match="column value: 'twenty' is not a number"):
        load_results(tmp_path)


def test_combining_two_runs_gives_the_union_of_rows(tmp_path):
    first = write_run(tmp_path / "mel", quality_rows(categories=("MEL",)))
    second = write_run(tmp_path / "nv", quality_rows(categories=("NV",)) + utility_rows())
    combined = combine([load_results(first), load_results(second)])
    assert len(combined.rows) == 24 + 24 + len(utility_rows())
    assert set(combined.rows["category"]) == {"MEL", "NV", "all", "BCC"}
    assert set(combined.rows["run"]) == {"mel", "nv"}
    assert combined.folder is None and set(combined.provenance) == {"mel", "nv"}
    assert combined.artifact_path("samples", "dcgan/NV") == (second / "samples" / "dcgan" / "NV.png").resolve()
    assert [run.label for run in combined.runs()] == ["mel", "nv"]


def test_combining_runs_that_overlap_keeps_both_values(tmp_path):
    first = write_run(tmp_path / "old", quality_rows(models=("dcgan",), categories=("MEL",)))
    rows = quality_rows(models=("dcgan", "stylegan"), categories=("MEL",))
    for row in rows:
        row["value"] += 1.0
    second = write_run(tmp_path / "new", rows)
    combined = combine([load_results(first), load_results(second)])
    fid = combined.rows[combined.rows["metric"] == "fid"].set_index("model")["value"]
    assert fid["dcgan [old]"] == 64.0 and fid["dcgan [new]"] == 65.0 and fid["stylegan"] == 28.0
    assert combined.artifact_path("samples", "dcgan [new]/MEL").is_file()
    assert combined.artifact_path("samples", "dcgan [old]/MEL").is_file()


def test_loaded_rows_can_be_written_again_unchanged(tmp_path):
    rows = quality_rows(categories=("MEL",)) + utility_rows()
    rows[1]["n_fake"] = None
    first = write_run(tmp_path / "first", rows, artifacts=False)
    loaded = load_results(first)
    write_results(tmp_path / "second", loaded.rows.to_dict("records"), settings=loaded.settings,
                  provenance=loaded.provenance, artifacts=loaded.artifacts)
    for name in (METRICS_CSV, METRICS_JSON):
        assert (first / name).read_bytes() == (tmp_path / "second" / name).read_bytes()
