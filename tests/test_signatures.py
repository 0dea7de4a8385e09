from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from modelward.errors import InvalidDataError, InvalidSignatureError, SignatureViolationError
from modelward.frames import as_frame
from modelward.signatures import ColumnSpec, Signature, infer_signature, row_problems

SIG = Signature(
    (
        ColumnSpec("age", "integer", nullable=False, minimum=0, maximum=120),
        ColumnSpec("income", "double", minimum=0),
        ColumnSpec("colour", "string", categories=("red", "green")),
        ColumnSpec("email", "string", pii=True),
        ColumnSpec("active", "boolean"),
    )
)


def good_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "age": [30, 40],
            "income": [1.5, 2.0],
            "colour": ["red", "green"],
            "email": ["a@x", "b@x"],
            "active": [True, False],
        }
    )


def test_valid_frame_passes_and_is_reordered() -> None:
    frame = good_frame()[["active", "email", "colour", "income", "age"]].assign(extra=1)
    out = SIG.conform(frame)
    assert list(out.columns) == SIG.input_names


def test_every_problem_is_reported_at_once() -> None:
    frame = pd.DataFrame(
        {
            "age": [30.0, None, -3.0, 130.0],  # a null, one below, one above
            "income": ["1", "x", "2", "3"],  # wrong type
            "colour": ["red", "blue", None, "purple"],  # two unknown categories
        }
    )
    with pytest.raises(SignatureViolationError) as info:
        SIG.validate(frame)
    problems = info.value.problems
    text = "\n".join(problems)
    assert "missing columns: 'email', 'active'" in text
    assert "column 'age': 1 null value(s)" in text and "row 1" in text
    assert "below the minimum 0" in text and "row 2" in text
    assert "above the maximum 120" in text and "row 3" in text
    assert "column 'income': expected double, got 'x' (row 1)" in text
    assert "outside the allowed categories" in text and "'blue'" in text
    assert len(problems) == 6
    assert info.value.to_dict()["problems"] == problems


def test_row_numbers_honour_the_offset() -> None:
    frame = good_frame().assign(age=[1, -1])
    with pytest.raises(SignatureViolationError, match="row 1001"):
        SIG.validate(frame, row_offset=1000)


def test_integer_columns_accept_whole_floats_but_not_fractions() -> None:
    sig = Signature((ColumnSpec("n", "long"),))
    sig.validate(pd.DataFrame({"n": [1.0, 2.0, np.nan]}))
    with pytest.raises(SignatureViolationError, match="non-whole"):
        sig.validate(pd.DataFrame({"n": [1.0, 2.5]}))


def test_booleans_are_not_numbers() -> None:
    with pytest.raises(SignatureViolationError, match="expected double, got booleans"):
        Signature((ColumnSpec("x", "double"),)).validate(pd.DataFrame({"x": [True, False]}))


def test_datetime_strings_are_parsed() -> None:
    sig = Signature((ColumnSpec("t", "datetime"),))
    out = sig.conform(pd.DataFrame({"t": ["2024-01-01", "2024-02-01T10:00:00"]}))
    assert out["t"].dtype.kind == "M"
    with pytest.raises(SignatureViolationError, match="expected datetime"):
        sig.validate(pd.DataFrame({"t": ["2024-01-01", "not a date"]}))


def test_round_trip_and_unknown_keys() -> None:
    assert Signature.from_dict(SIG.to_dict()) == SIG
    with pytest.raises(InvalidSignatureError, match="unknown keys: nulable"):
        Signature.from_dict({"inputs": [{"name": "a", "type": "double", "nulable": False}]})
    with pytest.raises(InvalidSignatureError, match="unknown type 'dbl'"):
        ColumnSpec("a", "dbl")
    with pytest.raises(InvalidSignatureError, match="duplicate input columns: a"):
        Signature((ColumnSpec("a", "double"), ColumnSpec("a", "long")))
    with pytest.raises(InvalidSignatureError, match="only apply to numeric"):
        ColumnSpec("s", "string", minimum=1)
    with pytest.raises(InvalidSignatureError, match="greater than maximum"):
        ColumnSpec("n", "double", minimum=2, maximum=1)


def test_inference_from_a_sample() -> None:
    frame = pd.DataFrame(
        {
            "i": np.array([1, 2], dtype="int64"),
            "i32": np.array([1, 2], dtype="int32"),
            "f": [1.0, np.nan],
            "f32": np.array([1, 2], dtype="float32"),
            "s": ["a", "b"],
            "b": [True, False],
            "t": pd.to_datetime(["2024-01-01", "2024-01-02"]),
            "c": pd.Categorical(["x", "y"]),
            "raw": [b"a", b"b"],
        }
    )
    sig = infer_signature(frame, np.array([0, 1]))
    types = {c.name: (c.type, c.nullable) for c in sig.inputs}
    assert types == {
        "i": ("long", False),
        "i32": ("integer", False),
        "f": ("double", True),
        "f32": ("float", False),
        "s": ("string", False),
        "b": ("boolean", False),
        "t": ("datetime", False),
        "c": ("string", False),
        "raw": ("binary", False),
    }
    assert next(c for c in sig.inputs if c.name == "c").categories == ("x", "y")
    assert sig.output_names == ["prediction"]
    with pytest.raises(InvalidSignatureError, match="mixes"):
        infer_signature(pd.DataFrame({"m": [1, "a"]}))


def test_as_frame_accepts_common_shapes() -> None:
    assert list(as_frame({"a": [1]}).columns) == ["a"]
    assert list(as_frame([{"a": 1}, {"a": 2}])["a"]) == [1, 2]
    assert list(as_frame(np.zeros((2, 3))).columns) == ["feature_0", "feature_1", "feature_2"]
    assert list(as_frame([[1, 2]]).columns) == ["feature_0", "feature_1"]
    with pytest.raises(InvalidDataError):
        as_frame(object())
    with pytest.raises(InvalidDataError):
        as_frame(np.zeros((1, 1, 1)))


def test_numbers_as_text_are_converted_when_they_all_parse() -> None:
    sig = Signature((ColumnSpec("x", "double"),))
    out = sig.conform(pd.DataFrame({"x": ["1.5", None, "2"]}, dtype=object))
    assert out["x"].dtype.kind == "f" and out["x"].tolist()[0] == 1.5


def test_row_problems_name_each_bad_row_and_why() -> None:
    frame = pd.DataFrame(
        {
            "age": [30.0, None, -3.0, 130.0, 40.0],
            "income": ["1", "x", "2", "3", "4"],
            "colour": ["red", "blue", None, "purple", "green"],
            "email": ["a", "b", "c", "d", "e"],
            "active": [True, False, True, "yes", False],
        }
    )
    bad, reasons = row_problems(SIG, frame)
    assert bad.tolist() == [False, True, True, True, False]
    assert reasons == {
        1: [
            "column 'age': null value",
            "column 'income': expected double, got 'x'",
            "column 'colour': 'blue' outside the allowed categories",
        ],
        2: ["column 'age': -3 below the minimum 0"],
        3: [
            "column 'age': 130 above the maximum 120",
            "column 'colour': 'purple' outside the allowed categories",
            "column 'active': expected boolean, got 'yes'",
        ],
    }
    SIG.validate(frame[~bad])  # what is left passes the whole-frame check


def test_row_problems_agree_with_the_whole_frame_messages() -> None:
    cases = {
        ColumnSpec("n", "long"): [1.0, 2.5, None],
        ColumnSpec("x", "double"): [True, False, True],
        ColumnSpec("s", "string"): [1, 2, 3],
        ColumnSpec("t", "datetime", nullable=False): ["2024-01-01", "later", None],
        ColumnSpec("b", "binary"): [b"a", "text", None],
    }
    for spec, values in cases.items():
        sig = Signature((spec,))
        frame = pd.DataFrame({spec.name: values})
        bad, reasons = row_problems(sig, frame)
        with pytest.raises(SignatureViolationError):
            sig.validate(frame)
        assert bad.any() and set(reasons) == set(np.flatnonzero(bad).tolist())
        sig.validate(frame[~bad])
    assert row_problems(Signature((ColumnSpec("x", "double"),)), pd.DataFrame({"x": [True]}))[
        1
    ] == {0: ["column 'x': expected double, got True"]}


def test_a_missing_column_makes_every_row_bad() -> None:
    bad, reasons = row_problems(SIG, good_frame().drop(columns=["email", "active"]))
    assert bad.all()
    assert reasons[1] == ["missing column 'email'", "missing column 'active'"]
