"""Write the messy-file corpus of tests/data/messy (run from anywhere; files are committed).

Each file reproduces one way real exports go wrong; manifest.toml says, for each, what the
readers must return (values), which error they must raise (a message fragment) and which
audit rows they must record. The files are small and hand-made; none holds real data.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat

HERE = Path(__file__).parent


def text(name: str, body: str, encoding: str = "utf-8") -> None:
    (HERE / name).write_bytes(body.encode(encoding))


def main() -> None:
    head = "participant_id,arm,wave,svs_01,svs_02,svs_03,svs_04\n"
    # 1-2: pandas' default NA tokens in item cells
    text(
        "na_tokens.csv",
        head
        + "P01,immediate,baseline,3,N/A,2,4\n"
        + "P02,immediate,baseline,n/a,NA,1,2\n"
        + "P03,delayed,baseline,null,2,None,3\n"
        + "P04,delayed,baseline,NaN,#N/A,nan,1\n"
        + "P05,delayed,baseline,2,3,4,\n",
    )
    # 3: dash and refused (always reported)
    text(
        "dash_refused.csv",
        head + "P01,immediate,baseline,3,-,2,4\nP02,delayed,baseline,refused,1,1,2\n",
    )
    # 4: SPSS user-missing codes with value labels
    frame = pd.DataFrame(
        {
            "participant_id": ["007", "008", "009"],
            "svs_01": [1.0, 99.0, -9.0],
            "svs_02": [2.0, 3.0, 99.0],
        }
    )
    pyreadstat.write_sav(
        frame,
        str(HERE / "spss_user_missing.sav"),
        missing_ranges={"svs_01": [99, -9], "svs_02": [99, -9]},
        variable_value_labels={
            "svs_01": {99.0: "refused", -9.0: "not applicable"},
            "svs_02": {99.0: "refused", -9.0: "not applicable"},
        },
    )
    # 5: SPSS numeric ids (zeros already lost by the source) -> text, no ".0"
    pyreadstat.write_sav(
        pd.DataFrame({"participant_id": [8800007.0, 12.0], "svs_01": [1.0, 2.0]}),
        str(HERE / "spss_numeric_ids.sav"),
    )
    # 6: Stata with an extended missing value .a labelled "refused"
    stata = pd.DataFrame({"participant_id": ["A1", "A2", "A3"], "svs_01": [1, "a", 3]})
    pyreadstat.write_dta(
        stata,
        str(HERE / "stata_missing.dta"),
        missing_user_values={"svs_01": ["a"]},
        variable_value_labels={"svs_01": {"a": "refused"}},
    )
    # 7-9: ids
    text("ids_leading_zeros.csv", "participant_id,svs_01\n008800007,1\n000123,2\n")
    text("ids_zero_twins.csv", "participant_id,svs_01\n007,1\n7,2\nP1,3\n")
    text("ids_case_space.csv", "participant_id,svs_01\nP01,1\np01,2\n P02,3\nP02,4\n")
    text("responses_ids.csv", "participant_id,wave,svs_01\n001,baseline,1\n002,baseline,2\n")
    text("participants_ids.csv", "participant_id,arm\n1,immediate\n002,delayed\n")
    # 10-16: formats
    text("latin1.csv", "participant_id,site,svs_01\nP01,Gen\xe8ve,1\nP02,Z\xfcrich,2\n", "cp1252")
    text("utf8_bom.csv", "\ufeffparticipant_id,svs_01\nP01,1\nP02,2\n")
    text(
        "semicolon_decimal.csv",
        "participant_id;arm;score\nP01;immediate;3,5\nP02;delayed;2,25\nP03;delayed;4\n",
    )
    text("tab_in_csv.csv", "participant_id\tarm\tsvs_01\nP01\timmediate\t1\nP02\tdelayed\t2\n")
    text(
        "title_row.csv",
        "PFI survey export 2024-03-01,,\nparticipant_id,arm,svs_01\nP01,immediate,1\n",
    )
    text("empty.csv", "")
    text("ragged.csv", "participant_id,svs_01\nP01,1\nP02,2,3,4\n")
    wide = pd.DataFrame(
        np.arange(3 * 10_000).reshape(3, 10_000) % 5, columns=[f"x{i}" for i in range(10_000)]
    )
    wide.insert(0, "participant_id", ["P1", "P2", "P3"])
    wide.to_csv(HERE / "wide_10000.csv", index=False)
    # 17-19: item names
    pfi = ",".join(f"pfi_{i}" for i in range(1, 17))
    text(
        "pfi_unpadded.csv",
        f"participant_id,{pfi}\nP01,"
        + ",".join(["3"] * 6 + ["1"] * 10)
        + "\nP02,"
        + ",".join(["2"] * 6 + ["2"] * 10)
        + "\n",
    )
    text("qualtrics_matrix.csv", "participant_id,Q12_1,Q12_2,Q12_3,Q12_4\nP01,1,2,3,4\n")
    # 20-22: Excel
    path = HERE / "excel_merged_header.xlsx"
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        body = pd.DataFrame({"participant_id": ["P01", "P02"], "svs_01": [1, 2], "svs_02": [3, 4]})
        body.to_excel(writer, index=False, startrow=1, sheet_name="Data")
        sheet = writer.sheets["Data"]
        sheet["B1"] = "Stanford Values Survey"
        sheet.merge_cells("B1:C1")
    path = HERE / "excel_sheets.xlsx"
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        pd.DataFrame(
            {"About this file": ["Exported from the survey tool", "Do not edit"]}
        ).to_excel(writer, index=False, sheet_name="README")
        pd.DataFrame(
            {"participant_id": ["007", "P02"], "wave": ["baseline", "baseline"], "svs_01": [1, 4]}
        ).to_excel(writer, index=False, sheet_name="Data")
        pd.DataFrame({"item": ["svs_01"], "label": ["(not shipped)"]}).to_excel(
            writer, index=False, sheet_name="Codebook"
        )
    pd.DataFrame(
        {
            "participant_id": ["P01", "P01"],
            "wave": pd.to_datetime(["2024-01-15", "2024-04-15"]),
            "svs_01": [1, 2],
        }
    ).to_excel(HERE / "excel_date_waves.xlsx", index=False)
    # 23-25: rows
    text(
        "repeated_header.csv",
        "participant_id,wave,svs_01\nP01,baseline,1\nparticipant_id,wave,svs_01\nP02,baseline,2\n",
    )
    text("trailing_blank.csv", "participant_id,wave,svs_01\nP01,baseline,1\n,,\n,,\n")
    text("dates_as_waves.csv", "participant_id,wave,svs_01\nP01,2024-01-15,1\nP01,15/04/2024,2\n")
    # 26-28: REDCap, Qualtrics, Parquet ids
    text(
        "redcap_ids.csv",
        "record_id,redcap_event_name,svs_01\n001,baseline_arm_1,1\n010,baseline_arm_1,-9\n",
    )
    qualtrics = (
        "Status,ResponseId,ExternalReference,svs_01\n"
        "Response Type,Response ID,External Data Reference,Item one\n"
        '"{""ImportId"":""status""}","{""ImportId"":""_recordId""}",'
        '"{""ImportId"":""externalDataReference""}","{""ImportId"":""QID1_1""}"\n'
        "IP Address,R_1,007,3\n"
        "IP Address,R_2,0008,N/A\n"
    )
    text("qualtrics_ids.csv", qualtrics)
    pd.DataFrame({"participant_id": [7, 12], "svs_01": [1.0, 2.0]}).to_parquet(
        HERE / "parquet_int_ids.parquet", index=False
    )
    # 29: text in a column declared numeric
    text("numeric_text.csv", "participant_id,svs_01\nP01,1\nP02,skipped\nP03,2\n")
    # 30: refusal code 99 declared with a numeric key
    text("code_99.csv", "participant_id,svs_01,age\nP01,99,45\nP02,2,99\n")
    more()


QUALTRICS_HEAD = (
    "Status,ResponseId,ExternalReference,svs_01\n"
    "Response Type,Response ID,External Data Reference,Item one\n"
    '"{""ImportId"":""status""}","{""ImportId"":""_recordId""}",'
    '"{""ImportId"":""externalDataReference""}","{""ImportId"":""QID1_1""}"\n'
)


def more() -> None:
    """Files 33-: Qualtrics status and header variants, more separators, Excel row problems."""
    q = QUALTRICS_HEAD
    text(
        "qualtrics_spam.csv",
        q + "Spam,R_1,P01,3\nSurvey Preview,R_2,,1\nIP Address,R_3,P02,2\nSpam,R_4,,4\n"
        "IP Address,R_5,P03,1\n",
    )
    text(
        "qualtrics_spam_numeric.csv",
        q + "8,R_1,P01,3\n1,R_2,,1\n0,R_3,P02,2\n2,R_4,,4\n9,R_5,P09,1\n12,R_6,P10,2\n",
    )
    text(
        "qualtrics_legacy.csv",
        "ResponseID,ResponseSet,ExternalDataReference,Status,svs_01\n"
        "ResponseID,ResponseSet,ExternalDataReference,Status,Item one\n"
        "R_1,Default Response Set,007,0,3\nR_2,Default Response Set,,1,2\n"
        "R_3,Default Response Set,0010,0,1\n",
    )
    text(
        "qualtrics_blank_id.csv",
        q + "IP Address,R_1,P01,3\nIP Address,R_2,,2\nIP Address,R_3, ,1\n",
    )
    text("qualtrics_plain.csv", "participant_id,svs_01\nP01,1\nP02,2\n")
    text(
        "qualtrics_no_external_reference.csv",
        q.replace("ExternalReference", "Email") + "0,R_1,a@b,1\n",
    )
    text(
        "pipe_separated.csv",
        "participant_id|wave|svs_01|svs_02\nP01|baseline|1|2\nP02|baseline|3|4\n",
    )
    text("semicolon_plain.csv", "participant_id;wave;svs_01\nP01;baseline;1\nP02;baseline;3\n")
    text(
        "cp1252_quotes.csv",
        "participant_id,comment,svs_01\n"
        "P01,\u201cfine\u201d \u2013 ok,1\nP02,caf\u00e9 \u20ac5,2\n",
        "cp1252",
    )
    text(
        "tsv_decimal_comma.tsv",
        "participant_id\twave\tscore\nP01\tbaseline\t3,5\nP02\tbaseline\t2,25\n",
    )
    text("bom_semicolon.csv", "\ufeffparticipant_id;svs_01\nP01;1\nP02;2\n")
    text("empty_column.csv", "participant_id,svs_01,,\nP01,1,,\nP02,2,,\n")
    text(
        "quoted_newline.csv",
        'participant_id,comment,svs_01\nP01,"line one\nline two",1\nP02,"a, b",2\n',
    )
    text("header_only.csv", "participant_id,wave,svs_01\n")
    text("utf16.csv", "participant_id,svs_01\nP01,1\n", "utf-16")
    text(
        "wave_empty_arm.csv",
        "participant_id,arm,wave,svs_01,svs_02,svs_03,svs_04\n"
        "P01,immediate,baseline,1,2,3,4\nP02,delayed,baseline,2,2,2,2\n"
        "P01,immediate,month3,3,3,3,3\n",
    )
    text(
        "pfi_upper.csv",
        "participant_id," + ",".join(f"PFI{i:02d}" for i in range(1, 17)) + "\n"
        "P01," + ",".join(["2"] * 16) + "\n",
    )
    text("refused_declared.csv", "participant_id,svs_01,svs_02\nP01,refused,1\nP02,2,-\n")
    text("na_declared_everywhere.csv", "participant_id,wave,svs_01\nP01,baseline,N/A\nP02,N/A,2\n")
    text("dup_ids.csv", "participant_id,wave,svs_01\nP01,baseline,1\nP01,baseline,2\n")
    path = HERE / "excel_repeated_header.xlsx"
    pd.DataFrame(
        {
            "participant_id": ["P01", "participant_id", "P02", None, None],
            "wave": ["baseline", "wave", "baseline", None, None],
            "svs_01": [1, "svs_01", 2, None, None],
        }
    ).to_excel(path, index=False)
    path = HERE / "excel_title_and_notes.xlsx"
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        pd.DataFrame({"participant_id": ["007", "008"], "svs_01": [1, 2]}).to_excel(
            writer, index=False, startrow=2, sheet_name="Export"
        )
        writer.sheets["Export"]["A1"] = "Coaching trial export, wave 1"
        pd.DataFrame({"note": ["n/a"]}).to_excel(writer, index=False, sheet_name="Notes")
    redcap_labelled()


#: A REDCap data dictionary (the CSV download's column names; see
#: src/coaching_trials/io/_redcap_dictionary.py for where each REDCap convention is documented)
REDCAP_DICTIONARY = (
    "Variable / Field Name,Form Name,Section Header,Field Type,Field Label,"
    '"Choices, Calculations, OR Slider Labels",Field Note,Text Validation Type OR Show Slider '
    "Number,Text Validation Min,Text Validation Max,Identifier?,Branching Logic (Show field only "
    "if...),Required Field?,Custom Alignment,Question Number (surveys only),Matrix Group Name,"
    "Matrix Ranking?,Field Annotation\n"
    "record_id,svs,,text,Record ID,,,,,,,,,,,,,\n"
    'svs_01,svs,,radio,I feel supported at work,"1, Never | 2, Rarely | 3, Sometimes | '
    '4, Often | 5, Always",,,,,,,,,,svs,,\n'
    'svs_02,svs,,radio,My work is valued,"1, Never | 2, Rarely | 3, Sometimes | 4, Often | '
    '5, Always",,,,,,,,,,svs,,\n'
    'coach,svs,,checkbox,Which coach did you see,"1, Dr Adams | 2, Dr Brown",,,,,,,,,,,,\n'
    "consent,svs,,yesno,Consented to follow-up,,,,,,,,,,,,,\n"
)


def redcap_labelled() -> None:
    """REDCap labelled exports, read with the data dictionary (issue 8, point 4)."""
    text("redcap_dictionary.csv", REDCAP_DICTIONARY)
    # labelled values and labelled headers (a longitudinal project: REDCap's own event column
    # is named with rename=); a missing data code's label ("Unknown") in an item cell
    text(
        "redcap_labelled.csv",
        "Record ID,Event Name,I feel supported at work,My work is valued,"
        "Which coach did you see (choice=Dr Adams),Which coach did you see (choice=Dr Brown),"
        "Consented to follow-up\n"
        "007,baseline_arm_1,Often,Always,Checked,Unchecked,Yes\n"
        "007,month_3_arm_1,Sometimes,Unknown,Checked,Unchecked,Yes\n"
        "010,baseline_arm_1,Never,Rarely,Unchecked,Checked,No\n",
    )
    # labelled values, raw headers; a missing data code chosen for the checkbox field
    text(
        "redcap_labelled_values.csv",
        "record_id,redcap_event_name,svs_01,svs_02,coach___1,coach___2,coach___unk,consent\n"
        "001,baseline_arm_1,Rarely,UNK,Checked,Unchecked,Unchecked,No\n"
        "002,baseline_arm_1,Always,Often,Unchecked,Unchecked,Checked,Yes\n",
    )
    # a label the dictionary does not have (a typo, or a choice edited after export)
    text(
        "redcap_label_typo.csv",
        "record_id,svs_01,svs_02\n001,Often,Sometimes\n002,Sometmes,Never\n003,Often,often\n",
    )
    # a raw export with a code that is not a choice
    text("redcap_raw_bad_code.csv", "record_id,svs_01,svs_02\n001,4,2\n002,6,1\n")
    # a raw export with REDCap missing data codes in an item and a checkbox field
    text(
        "redcap_missing_codes.csv",
        "record_id,svs_01,svs_02,coach___1,coach___2,coach___nask,consent\n"
        "001,NASK,3,0,0,1,1\n002,2,UNK,1,0,0,0\n003,UNK,4,0,1,0,1\n",
    )


if __name__ == "__main__":
    main()
