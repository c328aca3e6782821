"""`slbench reader-study score`: per-rater, per-model, per-item and agreement figures from answers files."""

from __future__ import annotations

import json

import pytest
from rich.console import Console
from typer.testing import CliRunner

from reader_study_support import make_key, write_answers, write_key
from slbench.cli import app
from slbench.reader_study import display
from slbench.reader_study.files import read_answers
from slbench.reader_study.scoring import score_study

TRUTHS = ["real", "synthetic", "synthetic", "real", "synthetic", "real", "synthetic", "synthetic"]
MODELS = [None, "dcgan", "stylegan", None, "dcgan", None, "stylegan", "stylegan"]


def _score(tmp_path, *answer_lists, **key_options):
    key = make_key(TRUTHS, models=MODELS, **key_options)
    paths = [write_answers(tmp_path, f"r{index}", answers) for index, answers in enumerate(answer_lists)]
    return score_study(key, [read_answers(path, key) for path in paths])


def test_rater_who_always_says_real(tmp_path):
    scores = _score(tmp_path, ["real"] * 8)
    rater = scores["raters"][0]
    assert rater["accuracy"]["successes"] == 3 and rater["accuracy"]["trials"] == 8
    assert rater["sensitivity"]["value"] == 0.0 and rater["sensitivity"]["trials"] == 5
    assert rater["specificity"]["value"] == 1.0 and rater["specificity"]["trials"] == 3
    assert rater["p_value"] == pytest.approx(0.7265625)  # P(X <= 3 or X >= 5), X ~ Bin(8, 1/2) = 186/256
    assert all(row["taken_for_real"]["value"] == 1.0 for row in scores["models"])
    assert [row["item_id"] for row in scores["items"] if row["fooled_everyone"]] == [
        "item-02", "item-03", "item-05", "item-07", "item-08"]
    assert scores["agreement"]["kappa"] is None and scores["confusion"] is None


def test_perfect_rater_and_per_model_shares(tmp_path):
    half_fooled = ["real", "real", "synthetic", "real", "synthetic", "real", "real", "synthetic"]
    scores = _score(tmp_path, TRUTHS, half_fooled)
    perfect, second = scores["raters"]
    assert perfect["accuracy"]["value"] == 1.0 and perfect["p_value"] == pytest.approx(2 / 256)
    assert second["sensitivity"]["successes"] == 3 and second["specificity"]["value"] == 1.0
    shares = {row["model"]: row["taken_for_real"] for row in scores["models"]}
    assert (shares["dcgan"]["successes"], shares["dcgan"]["trials"]) == (1, 4)  # item-02 fooled rater 2
    assert (shares["stylegan"]["successes"], shares["stylegan"]["trials"]) == (1, 6)  # item-07
    assert shares["real images"]["value"] == 1.0
    # Cohen: po = 6/8; rater 1 says real 3/8, rater 2 5/8 -> pe = 3/8*5/8 + 5/8*3/8 = 30/64
    assert scores["agreement"]["statistic"] == "cohen"
    assert scores["agreement"]["kappa"] == pytest.approx((6 / 8 - 30 / 64) / (1 - 30 / 64))


def test_three_raters_use_fleiss_kappa(tmp_path):
    scores = _score(tmp_path, TRUTHS, TRUTHS, ["real"] * 8)
    assert scores["agreement"]["statistic"] == "fleiss" and scores["agreement"]["raters"] == 3
    # items: real ones 3-0 agreement (P_i 1), synthetic ones 2-1 (P_i 1/3): P-bar = (3 + 5/3)/8 = 7/12;
    # shares real (9 + 5)/24, synthetic 10/24 -> Pe = (14^2 + 10^2)/24^2
    pe = (14 ** 2 + 10 ** 2) / 24 ** 2
    assert scores["agreement"]["kappa"] == pytest.approx((7 / 12 - pe) / (1 - pe))


def test_confusion_matrix_of_class_guesses(tmp_path):
    key = make_key(["real", "synthetic", "real"], categories=["MEL", "MEL", "NV"])
    path = write_answers(tmp_path, "r", ["real", "real", "synthetic"], guesses=["MEL", "NV", None])
    confusion = score_study(key, [read_answers(path, key)])["confusion"]
    assert confusion["labels"] == ["MEL", "NV", "BCC"]
    assert confusion["matrix"] == [[1, 1, 0], [0, 0, 0], [0, 0, 0]]
    assert confusion["guesses"] == 2 and confusion["correct"] == 1


def _invoke(*args):
    return CliRunner().invoke(app, ["reader-study", "score", *map(str, args)], env={"COLUMNS": "200"})


def test_score_command_prints_tables_and_writes_files(tmp_path):
    key = write_key(tmp_path, make_key(TRUTHS, models=MODELS))
    fooled_once = ["real", "real"] + TRUTHS[2:]
    answers = [write_answers(tmp_path, "dr-[bold]a", fooled_once), write_answers(tmp_path, "b", ["real"] * 8)]
    result = _invoke(*answers, "--key", key, "--out", tmp_path / "out")
    assert result.exit_code == 0, result.output
    assert "dr-[bold]a" in result.output and "Cohen's kappa" in result.output
    assert "item-02" in result.output and "item-03" not in result.output  # the one image that fooled both
    scores = json.loads((tmp_path / "out" / "reader-study.json").read_text())
    assert [r["rater_id"] for r in scores["raters"]] == ["dr-[bold]a", "b"]
    items = (tmp_path / "out" / "reader-study-items.csv").read_text().splitlines()
    assert items[0].startswith("item_id,truth,model") and len(items) == 9
    assert (tmp_path / "out" / "reader-study-raters.csv").is_file()


def test_answers_of_another_study_are_refused(tmp_path):
    key = write_key(tmp_path, make_key(TRUTHS, models=MODELS))
    good = write_answers(tmp_path, "a", TRUTHS)
    other = write_answers(tmp_path, "b", TRUTHS, study_id="another-study")
    result = _invoke(good, other, "--key", key, "--out", tmp_path / "out")
    assert result.exit_code == 2
    assert "another-study" in result.output and "study-test" in result.output
    assert "Traceback" not in result.output and not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"answer": "maybe"}, "neither 'real' nor 'synthetic'"),
        ({"item_id": "item-99"}, "not in the key"),
        ({"confidence": 7}, "from 1 to 5"),
        ({"class_guess": "XYZ"}, "class guess"),
        ({"milliseconds": float("nan")}, "is not a time"),
        ({"milliseconds": float("inf")}, "is not a time"),
    ],
)
def test_bad_answers_are_refused_with_a_reason(tmp_path, change, message):
    key = write_key(tmp_path, make_key(TRUTHS, models=MODELS))
    path = write_answers(tmp_path, "a", TRUTHS)
    document = json.loads(path.read_text())
    document["answers"][0].update(change)
    path.write_text(json.dumps(document))
    result = _invoke(path, "--key", key)
    assert result.exit_code == 2 and message in result.output


def test_one_rater_twice_is_refused(tmp_path):
    key = write_key(tmp_path, make_key(TRUTHS, models=MODELS))
    first = write_answers(tmp_path, "a", TRUTHS)
    copy = tmp_path / "copy.json"
    copy.write_text(first.read_text())
    result = _invoke(first, copy, "--key", key)
    assert result.exit_code == 2 and "more than one answers file" in result.output


def test_a_missing_key_is_a_clear_error(tmp_path):
    answers = write_answers(tmp_path, "a", TRUTHS)
    result = _invoke(answers, "--key", tmp_path / "nope.json")
    assert result.exit_code == 2 and "does not exist" in result.output


def test_rater_and_model_tables_keep_every_id_and_interval_whole_at_80_columns():
    share = {"value": 0.4286, "ci_low": 0.1582, "ci_high": 0.7495, "trials": 7}
    names = ["Dr Jane Smith-Montgomery", "r1", "Professor Alexandra Konstantinopoulou-Smythe"]
    scores = {"raters": [{"rater_id": name, "answered": 7, "accuracy": share, "sensitivity": share,
                          "specificity": share, "p_value": 1.0, "median_milliseconds": 2300} for name in names],
              "models": [{"model": "sl-stylegan", "images": 2, "taken_for_real": share}]}
    console = Console(width=80, record=True, color_system=None)
    console.print(display.rater_table(scores))
    console.print(display.model_table(scores))
    text = console.export_text()
    assert "…" not in text and max(len(line) for line in text.splitlines()) <= 80
    assert all(name in text for name in names)
    assert text.count("[16, 75]") == 3 * 3 + 1 and "2.3 s" in text


def test_scoring_again_without_class_guesses_removes_the_earlier_confusion_table(tmp_path):
    key = make_key(["real", "synthetic", "real"], categories=["MEL", "MEL", "NV"])
    key_path = write_key(tmp_path, key)
    (tmp_path / "guessed").mkdir()
    (tmp_path / "plain").mkdir()
    guessed = write_answers(tmp_path / "guessed", "r", ["real", "real", "synthetic"], guesses=["MEL", "NV", None])
    plain_answers = write_answers(tmp_path / "plain", "r", ["real", "real", "synthetic"])
    out = tmp_path / "scores"
    assert _invoke(guessed, "--key", key_path, "--out", out).exit_code == 0
    assert (out / "reader-study-confusion.csv").exists()
    assert _invoke(plain_answers, "--key", key_path, "--out", out).exit_code == 0
    assert json.loads((out / "reader-study.json").read_text())["confusion"] is None
    assert not (out / "reader-study-confusion.csv").exists()


@pytest.mark.parametrize("damage", ["a huge integer", "deep nesting"])
def test_an_answers_file_no_study_writes_is_a_one_line_error(tmp_path, damage):
    key = write_key(tmp_path, make_key(TRUTHS, models=MODELS))
    path = tmp_path / "answers-x.json"
    path.write_text('{"x": ' + "9" * 100_000 + "}" if damage == "a huge integer" else "[" * 100_000 + "]" * 100_000)
    result = _invoke(path, "--key", key)
    assert result.exit_code == 2 and str(path) in " ".join(result.output.split()), result.output


def test_an_answers_file_saved_with_a_byte_order_mark_is_read(tmp_path):
    key = write_key(tmp_path, make_key(TRUTHS, models=MODELS))
    path = write_answers(tmp_path, "a", TRUTHS)
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    result = _invoke(path, "--key", key, "--out", tmp_path / "out")
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize(("change", "message"), [({"version": 2}, "version 2"), ({"rater_id": 123}, "not text")])
def test_an_answers_file_of_another_version_or_a_rater_id_that_is_no_text_is_refused(tmp_path, change, message):
    key = write_key(tmp_path, make_key(TRUTHS, models=MODELS))
    path = write_answers(tmp_path, "a", TRUTHS)
    path.write_text(json.dumps(json.loads(path.read_text()) | change))
    result = _invoke(path, "--key", key)
    assert result.exit_code == 2 and message in result.output, result.output
