from __future__ import annotations

import pytest

from modelward.errors import InvalidNameError, InvalidReferenceError
from modelward.refs import ModelRef, check_alias, check_name, parse_ref


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("churn", ModelRef("churn")),
        ("models:/churn", ModelRef("churn")),
        ("churn/3", ModelRef("churn", version=3)),
        ("models:/churn/3", ModelRef("churn", version=3)),
        ("churn@champion", ModelRef("churn", alias="champion")),
        ("models:/churn@champion", ModelRef("churn", alias="champion")),
        ("churn/latest", ModelRef("churn")),
        ("credit.v2-model_x/12", ModelRef("credit.v2-model_x", version=12)),
        ("  churn@prod  ", ModelRef("churn", alias="prod")),
    ],
)
def test_parse_accepts_every_form(text: str, expected: ModelRef) -> None:
    assert parse_ref(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "models:/",
        "churn/0",
        "churn/-1",
        "churn/abc",
        "churn/1/2",
        "churn@",
        "churn@a/b",
        "churn@1abc",
        "churn@latest",
        "../etc/passwd",
        "churn/..",
        "..",
        "a..b",
        "/abs",
        "churn@x@y",
        "name with space",
        "churn/١",  # noqa: RUF001 - a non-ASCII digit, on purpose
        "%2e%2e",
    ],
)
def test_parse_refuses_bad_references(text: str) -> None:
    with pytest.raises(InvalidReferenceError) as info:
        parse_ref(text)
    assert info.value.hint or "reference" in info.value.message


def test_ref_round_trips_to_string_and_uri() -> None:
    for text in ("m", "m/2", "m@champion"):
        ref = parse_ref(text)
        assert str(ref) == text
        assert parse_ref(ref.uri) == ref
    assert parse_ref("m").is_latest and not parse_ref("m/1").is_latest


def test_name_and_alias_checks_explain_the_rule() -> None:
    with pytest.raises(InvalidNameError, match="invalid model name"):
        check_name("bad/name")
    with pytest.raises(InvalidNameError, match="reserved"):
        check_alias("latest")
    assert check_name("ok-name.v1") == "ok-name.v1"
    assert check_alias("champion") == "champion"
