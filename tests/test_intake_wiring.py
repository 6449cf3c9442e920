"""Issue 8 wiring: the pipeline's [data] reader options and the CLI's reader options."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from test_cli_user_errors import KEYS, PLAN, _export

from coaching_trials._errors import DataValidationError
from coaching_trials.cli import main
from coaching_trials.pipeline import run_analysis


def _export_with_codes(folder: Path) -> Path:
    """The sample export with PFI items renamed PFI1..PFI16 and N/A / 99 written as codes."""
    responses, participants = _export()
    items = [f"pfi_{i:02d}" for i in range(1, 17)]
    responses = responses.astype({c: "object" for c in items})
    responses.loc[3, "pfi_02"] = "N/A"
    responses.loc[5, "pfi_07"] = "N/A"
    responses.loc[8, "pfi_01"] = 99
    responses = responses.rename(columns={c: f"PFI{int(c[4:])}" for c in items})
    responses.to_csv(folder / "export.csv", index=False)
    participants.to_csv(folder / "participants.csv", index=False)
    return folder


def test_pipeline_reads_with_declared_codes_and_item_pattern(tmp_path: Path) -> None:
    _export_with_codes(tmp_path)
    plan = PLAN.replace(
        'participants = "participants.csv"\n',
        'participants = "participants.csv"\n'
        'missing_codes = { "N/A" = "not applicable", "99" = "refused" }\n'
        'items = { pfi = "PFI{n}" }\n',
    )
    (tmp_path / "plan.toml").write_text(plan, encoding="utf-8")
    run = run_analysis(tmp_path / "plan.toml", out=tmp_path / "out")
    audit = run.tables["audit"]
    declared = audit[audit["reason"].str.startswith("declared missing")]
    assert dict(zip(declared["reason"], declared["n_rows"], strict=True)) == {
        "declared missing: not applicable": 2,
        "declared missing: refused": 1,
    }
    assert (audit["reason"] == "item columns mapped").any()
    table = pd.read_csv(tmp_path / "out" / "analyst" / "missingness.csv")
    reasons = table.groupby("reason")["n"].sum()
    assert reasons["not applicable"] == 2 and reasons["refused"] == 1
    assert "participant_id" not in table.columns
    assert not (tmp_path / "out" / "release" / "tables" / "missingness.csv").exists()


def test_pipeline_without_codes_names_the_cells(tmp_path: Path) -> None:
    _export_with_codes(tmp_path)
    plan = PLAN.replace(
        'participants = "participants.csv"\n',
        'participants = "participants.csv"\nitems = { pfi = "PFI{n}" }\n',
    )
    (tmp_path / "plan.toml").write_text(plan, encoding="utf-8")
    with pytest.raises(DataValidationError, match="N/A"):
        run_analysis(tmp_path / "plan.toml", out=tmp_path / "out")


def test_pipeline_id_twins_between_files(tmp_path: Path) -> None:
    responses, participants = _export()
    participants = participants.astype({"record_id": "object"})
    participants.loc[0, "record_id"] = " " + str(participants.loc[0, "record_id"]).lower()
    responses.to_csv(tmp_path / "export.csv", index=False)
    participants.to_csv(tmp_path / "participants.csv", index=False)
    (tmp_path / "plan.toml").write_text(PLAN, encoding="utf-8")
    with pytest.raises(DataValidationError, match="differ only by"):
        run_analysis(tmp_path / "plan.toml", out=tmp_path / "out")


def test_cli_score_with_codes_and_items(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _export_with_codes(tmp_path)
    argv = ["score", str(tmp_path / "export.csv"), "--instrument", "pfi", "--items", "PFI{n}"]
    argv += ["--missing-code", "N/A=not applicable", "--missing-code", "99=refused"]
    assert main([*argv, "--out", str(tmp_path / "s.csv")]) == 0
    out = capsys.readouterr().out
    assert "read: declared missing: not applicable" in out
    assert "item columns mapped" in out
    assert "pfi_burnout" in pd.read_csv(tmp_path / "s.csv").columns


def test_cli_refusals_exit_2_without_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _export_with_codes(tmp_path)
    argv = ["score", str(tmp_path / "export.csv"), "--instrument", "pfi", "--items", "PFI{n}"]
    assert main([*argv, "--out", str(tmp_path / "s.csv")]) == 2  # N/A not declared
    err = capsys.readouterr().err
    assert "Traceback" not in err and "N/A" in err
    with pytest.raises(DataValidationError):
        main(["--debug", *argv, "--out", str(tmp_path / "s.csv")])
    assert main([*argv, "--missing-code", "N/A", "--out", str(tmp_path / "s.csv")]) == 2
    assert "expected TOKEN=REASON" in capsys.readouterr().err


def test_cli_validate_takes_reader_options(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    responses, _ = _export()
    responses.to_csv(tmp_path / "export.csv", index=False, sep=";")
    argv = ["validate", str(tmp_path / "export.csv"), *KEYS, "--instrument", "pfi"]
    assert main([*argv, "--sep", ";"]) == 0
    assert "no problems found" in capsys.readouterr().out


def test_out_proc_self_is_refused_clearly(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--out", "/proc/self"]) == 2
    err = capsys.readouterr().err
    assert "a folder of the operating system" in err and "--force" not in err
