"""REDCap's data dictionary and labelled exports (coaching_trials.io._redcap_dictionary)."""

from __future__ import annotations

import pandas as pd
import pytest

from coaching_trials._errors import DataValidationError, FileFormatError
from coaching_trials.io._redcap_dictionary import redcap_missing_codes
from coaching_trials.io.readers import read_redcap, read_redcap_dictionary

API = pd.DataFrame(
    {
        "field_name": ["record_id", "mood", "mood2", "aid"],
        "form_name": ["f", "f", "f", "f"],
        "field_type": ["text", "dropdown", "radio", "checkbox"],
        "field_label": ["Record ID", "Mood", "Mood", "Help  used"],
        "select_choices_or_calculations": ["", "0, Low | 1, High", "0, Low|1, High", "a, Apps"],
    }
)


def test_api_metadata_names_and_choices():
    dd = read_redcap_dictionary(API)
    assert dd.record_id == "record_id"
    assert dict(dd.fields["mood2"].choices) == {"0": "Low", "1": "High"}
    assert dd.fields["aid"].label == "Help used"  # whitespace as REDCap shows it
    assert dd.to_frame()["choices"].tolist()[1] == "0, Low | 1, High"


def test_bad_dictionary_every_problem_named(tmp_path):
    bad = API.assign(select_choices_or_calculations=["", "0 Low | 1, High", "", "a, Apps"])
    bad.loc[3, "field_name"] = "mood"
    with pytest.raises(FileFormatError) as info:
        read_redcap_dictionary(bad)
    text = str(info.value)
    assert "row 2 (field 'mood'): choice '0 Low' is not 'code, label'" in text
    assert "row 4 (field 'mood'): the field name repeats" in text
    with pytest.raises(FileFormatError, match="no column"):
        read_redcap_dictionary(API.drop(columns="field_type"))


def test_repeated_labels_in_dictionary_order_and_values_option(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("Record ID,Mood,Mood,Help used (choice=Apps)\n1,High,Low,Checked\n2,Low,,\n")
    df = read_redcap(path, dictionary=API)
    assert list(df.columns) == ["participant_id", "mood", "mood2", "aid___a"]
    assert df["mood"].tolist() == [1, 0] and df["mood2"].tolist()[0] == 0
    assert df["aid___a"].tolist()[0] is True
    # forcing raw values: the labels are then codes that are not choices
    with pytest.raises(DataValidationError, match=r"code\(s\) \['High', 'Low'\]"):
        read_redcap(path, dictionary=API, values="raw")
    with pytest.raises(ValueError, match="`values` must be one of"):
        read_redcap(path, dictionary=API, values="codes")


def test_a_label_that_is_another_choices_code_maps_by_label(tmp_path):
    dd = API.assign(select_choices_or_calculations=["", "0, 1 | 1, 2 or more", "", "a, Apps"])
    path = tmp_path / "x.csv"
    path.write_text("record_id,mood\n1,1\n2,2 or more\n")
    df = read_redcap(path, dictionary=dd)
    assert df["mood"].tolist() == [0, 1]  # '1' is the label of code 0 in a labelled export
    assert df.attrs["audit"][0]["reason"] == "format detected: REDCap labelled values"


def test_missing_data_codes_setting_text():
    assert redcap_missing_codes("-999, Not asked\nUNK, Unknown") == {
        "-999": "Not asked",
        "UNK": "Unknown",
    }
    with pytest.raises(ValueError, match="one 'code, label' per line"):
        redcap_missing_codes("UNK Unknown")
