"""A user's own survey export through the CLI and the pipeline: every mistake is named in the
user's terms (their column names, findable rows), nothing is silently skipped, and output files
are written only in formats the package can write.

The export looks like a real one: ``record_id``, ``group`` ("Coaching"/"Waitlist") and
``timepoint`` ("T0"/"T1"/"T2") instead of the package's names, one problem planted at a time.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from coaching_trials._errors import DataValidationError
from coaching_trials.cli import ROW_NOTE, main
from coaching_trials.datasets import load_example
from coaching_trials.pipeline import check_table_path, run_analysis, write_table

ARMS = {"immediate": "Coaching", "delayed": "Waitlist"}
WAVES = {"baseline": "T0", "month3": "T1", "month6": "T2"}
KEYS = ["--subject", "record_id", "--arm", "group", "--wave", "timepoint"]

PLAN = """
[data]
responses = "export.csv"
participants = "participants.csv"

[data.columns]
subject = "record_id"
arm = "group"
wave = "timepoint"

[design]
immediate = "Coaching"
delayed = "Waitlist"
baseline_wave = "T0"
endpoint_wave = "T1"
followup_waves = ["T2"]

[[instruments]]
id = "pfi"

[analysis]
outcomes = ["pfi_burnout"]
reliability = false
nonrandomized = false

[report]
figures = false
html = false
"""


def _export() -> tuple[pd.DataFrame, pd.DataFrame]:
    """The sample trial as a survey tool would export it (text cells, the tool's names)."""
    example = load_example()
    responses = example.responses.rename(
        columns={"participant_id": "record_id", "arm": "group", "wave": "timepoint"}
    )
    responses["group"] = responses["group"].map(ARMS)
    responses["timepoint"] = responses["timepoint"].map(WAVES)
    participants = example.participants.rename(
        columns={"participant_id": "record_id", "arm": "group"}
    )
    participants["group"] = participants["group"].map(ARMS)
    for col in ("last_wave", "withdrawn_before"):
        participants[col] = participants[col].map(WAVES)
    return responses, participants


def _set(row: int, column: str, value: object) -> Callable[[pd.DataFrame], pd.DataFrame]:
    def change(df: pd.DataFrame) -> pd.DataFrame:
        df = df.astype({column: "object"})
        df.loc[row, column] = value
        return df

    return change


def _write(folder: Path, change: Callable[[pd.DataFrame], pd.DataFrame]) -> Path:
    responses, participants = _export()
    change(responses).to_csv(folder / "export.csv", index=False)
    participants.to_csv(folder / "participants.csv", index=False)
    plan = folder / "plan.toml"
    plan.write_text(PLAN, encoding="utf-8")
    return plan


# (problem planted, text the message must contain, text it must not contain)
PROBLEMS = [
    pytest.param(
        _set(30, "group", "coaching "),
        ["column 'group'", "['coaching ']", "rows [30]", "['Coaching', 'Waitlist']"],
        "column 'arm'",
        id="arm-typo",
    ),
    pytest.param(
        _set(20, "timepoint", "T3"),
        ["column 'timepoint'", "['T3']", "rows [20]", "['T0', 'T1', 'T2']"],
        "column 'wave'",
        id="unknown-wave",
    ),
    pytest.param(
        lambda df: pd.concat([df, df.iloc[[10]]], ignore_index=True),
        ["record_id-timepoint", "'P004/T1'", "rows [10, 372]"],
        "participant_id-wave",
        id="duplicated-row",
    ),
    pytest.param(
        _set(4, "group", "Waitlist"),  # P002 at T1, randomized to Coaching
        ["column 'group'", "record_id(s) appear in more than one arm", "P002"],
        "column 'arm'",
        id="participant-in-both-groups",
    ),
    pytest.param(
        _set(7, "pfi_05", 5),
        ["column 'pfi_05'", "[5.0]", "rows [7]", "0 <= value <= 4"],
        "column 'arm'",
        id="out-of-range",
    ),
    pytest.param(
        _set(4, "pfi_03", "refused"),
        ["column 'pfi_03'", "['refused']", "rows [4]"],
        "column 'arm'",
        id="stray-text",
    ),
]


@pytest.mark.parametrize(("change", "expected", "absent"), PROBLEMS)
def test_analyze_names_the_users_columns(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    change: Callable[[pd.DataFrame], pd.DataFrame],
    expected: list[str],
    absent: str,
) -> None:
    plan = _write(tmp_path, change)
    assert main(["analyze", str(plan), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    for text in expected:
        assert text in err
    assert absent not in err
    assert ROW_NOTE in err  # the rows of the message are explained
    assert not (tmp_path / "out").exists()


def test_design_errors_say_which_names_were_renamed(tmp_path: Path) -> None:
    plan = _write(tmp_path, lambda df: df)
    participants = pd.read_csv(tmp_path / "participants.csv")
    participants.loc[1, "group"] = "Waitlist"  # P002 responded as Coaching
    participants.to_csv(tmp_path / "participants.csv", index=False)
    with pytest.raises(DataValidationError) as info:
        run_analysis(plan, out=tmp_path / "out")
    message = str(info.value)
    assert "P002" in message
    assert "'record_id' -> 'participant_id', 'group' -> 'arm'" in message


def test_clean_export_runs(tmp_path: Path) -> None:
    run = run_analysis(_write(tmp_path, lambda df: df), out=tmp_path / "out")
    assert run.effects["contrast"].tolist() == ["Coaching - Waitlist"]


# --- validate ---------------------------------------------------------------------------------


def test_validate_reports_an_instrument_with_a_missing_item_column(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A lost item column used to drop the instrument from the checks: 'no problems found'."""
    _write(tmp_path, lambda df: df.drop(columns=["pfi_07"]))
    assert main(["validate", str(tmp_path / "export.csv"), *KEYS]) == 1
    out = capsys.readouterr().out
    assert "instrument 'pfi': 1 item column(s) missing: ['pfi_07']" in out
    assert "pfi" in out.splitlines()[0]  # listed among the instruments checked


def test_validate_a_subset_instrument_alone_is_clean(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """UWES-3 items are UWES-9 items: a UWES-3 file is not an incomplete UWES-9."""
    responses, _ = _export()
    path = tmp_path / "uwes3.csv"
    responses[["record_id", "group", "timepoint", "uwes_01", "uwes_03", "uwes_08"]].to_csv(
        path, index=False
    )
    assert main(["validate", str(path), *KEYS]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].endswith("instruments checked: uwes3")
    assert "no problems found" in out


def test_validate_explains_row_numbers(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _write(tmp_path, _set(7, "pfi_05", 5))
    assert main(["validate", str(tmp_path / "export.csv"), *KEYS]) == 1
    out = capsys.readouterr().out
    assert "rows [7]" in out and ROW_NOTE in out


def test_row_note_is_true(tmp_path: Path) -> None:
    """Row 7 of a message is line 9 of the CSV file (line 1 is the header)."""
    _write(tmp_path, _set(7, "pfi_05", 5))
    lines = (tmp_path / "export.csv").read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    assert lines[7 + 2 - 1].split(",")[header.index("pfi_05")] == "5"


# --- output formats ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["scored.json", "scored.xls", "scored.txt"])
def test_unwritable_table_formats_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    """They used to be written as CSV under the wrong extension (or failed after scoring)."""
    _write(tmp_path, lambda df: df)
    out = tmp_path / name
    argv = ["score", str(tmp_path / "export.csv"), "--instrument", "pfi", "--out", str(out)]
    assert main(argv) == 2
    assert "expected a file ending in .csv, .tsv, .parquet or .xlsx" in capsys.readouterr().err
    assert not out.exists()
    with pytest.raises(ValueError, match="cannot write a table"):
        write_table(pd.DataFrame({"a": [1]}), out)
    assert main(["power", "--n-sims", "2", "--out", str(out)]) == 2


@pytest.mark.parametrize("name", ["t.csv", "t.tsv", "t.parquet", "t.xlsx", "t"])
def test_writable_table_formats(tmp_path: Path, name: str) -> None:
    assert check_table_path(tmp_path / name) == tmp_path / name
    assert write_table(pd.DataFrame({"a": [1.0]}), tmp_path / name).exists()


# --- score ------------------------------------------------------------------------------------


def test_score_prints_prorated_and_unscorable_rows(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    responses, _ = _export()
    responses.loc[[0, 1], "qol_01"] = None
    path = tmp_path / "export.csv"
    responses.to_csv(path, index=False)
    argv = ["score", str(path), "--instrument", "qol", "--out", str(tmp_path / "s.csv")]
    assert main(argv) == 0
    out = capsys.readouterr().out
    n_missing = int(responses["qol_01"].isna().sum())
    assert f"qol_score: {n_missing} row(s) unscorable: fewer than 1 of 1 items answered" in out


def test_a_wave_of_the_plan_without_rows_is_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A typo in the plan's endpoint used to be reported only as 'unknown wave T1'."""
    plan = _write(tmp_path, lambda df: df)
    plan.write_text(PLAN.replace('endpoint_wave = "T1"', 'endpoint_wave = "T9"'), "utf-8")
    assert main(["analyze", str(plan), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "column 'timepoint': expected wave(s) ['T9'] have no rows" in err


@pytest.mark.parametrize("command", ["analyze", "demo"])
def test_out_must_be_a_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    """It used to fail with '[Errno 17] File exists' after the whole analysis had run."""
    plan = _write(tmp_path, lambda df: df)
    out = tmp_path / "results.csv"
    out.write_text("keep me", encoding="utf-8")
    argv = [command, *([str(plan)] if command == "analyze" else []), "--out", str(out)]
    assert main(argv) == 2
    assert "is a file; expected a folder" in capsys.readouterr().err
    assert out.read_text(encoding="utf-8") == "keep me"


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--n-per-arm", "0"], "--n-per-arm must be a positive integer; got 0."),
        (["--n-immediate", "-3"], "--n-immediate must be a positive integer; got -3."),
        (["--n-delayed", "0"], "--n-delayed must be a positive integer; got 0."),
        (["--dropout", "1.5"], "--dropout must be a probability in [0, 1); got 1.5."),
    ],
)
def test_power_errors_name_the_option_typed(
    capsys: pytest.CaptureFixture[str], extra: list[str], message: str
) -> None:
    """They used to name the Python parameter (`n_immediate`, `dropout['immediate']`)."""
    assert main(["power", "--n-sims", "2", *extra]) == 2
    assert message in capsys.readouterr().err
