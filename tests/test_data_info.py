"""`slbench data info`: the per-class table (images, lesions, share, typical size) and its JSON form."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from data_builders import write_image, write_isic
from slbench.cli import app
from slbench.data.info import typical_size


def test_json_summary_counts_images_lesions_shares_and_sizes(tmp_path):
    labels = {"ISIC_1": "MEL", "ISIC_2": "MEL", "ISIC_3": "MEL", "ISIC_4": "NV"}
    write_isic(tmp_path, labels, lesions={"ISIC_1": "L1", "ISIC_2": "L1", "ISIC_3": "L2", "ISIC_4": "L3"})
    write_image(tmp_path / "ISIC2018_Task3_Training_Input" / "ISIC_3.jpg", size=(60, 45))
    result = CliRunner().invoke(app, ["data", "info", str(tmp_path), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["layout"] == "isic2018" and summary["images"] == 4 and summary["usable"]
    rows = {row["category"]: row for row in summary["categories"]}
    assert (rows["MEL"]["images"], rows["MEL"]["lesions"], rows["MEL"]["share"]) == (3, 2, 0.75)
    assert rows["MEL"]["typical_size"] == [40, 30]  # two of the three are 40x30
    assert (rows["NV"]["images"], rows["NV"]["lesions"]) == (1, 1)
    assert rows["DF"]["images"] == 0 and rows["DF"]["typical_size"] is None
    assert [p["kind"] for p in summary["problems"]] == ["empty category"] * 5


def test_table_names_the_layout_and_the_lesion_total(tmp_path):
    write_isic(tmp_path, {"ISIC_1": "MEL", "ISIC_2": "MEL"}, lesions={"ISIC_1": "L1", "ISIC_2": "L1"})
    result = CliRunner().invoke(app, ["data", "info", str(tmp_path)])
    assert result.exit_code == 0
    assert "ISIC 2018 Task 3" in result.output
    total = next(line for line in result.output.splitlines() if "total" in line)
    assert [cell.strip() for cell in total.strip("│ ").split("│")][2:4] == ["2", "1"]


def test_problem_list_is_capped_per_kind_unless_asked(tmp_path):
    labels = {f"ISIC_{i}": "NV" for i in range(5)}
    write_isic(tmp_path, labels, extra_rows=[f"ISIC_9{i},0.0,1.0,0.0,0.0,0.0,0.0,0.0" for i in range(6)])
    capped = CliRunner().invoke(app, ["data", "info", str(tmp_path), "--max-problems", "2"])
    assert capped.output.count("has no image file") == 2 and "and 4 more" in capped.output
    full = CliRunner().invoke(app, ["data", "info", str(tmp_path), "--max-problems", "0"])
    assert full.output.count("has no image file") == 6


def test_typical_size_is_the_most_common():
    assert typical_size([(4, 3), (8, 6), (4, 3)]) == (4, 3)
    assert typical_size([]) is None
