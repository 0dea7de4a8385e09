"""The CVE-2023-1177 family: every way out of a root is refused."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from modelward.errors import UnsafePathError
from modelward.paths import canonical_location, check_relative, ensure_within, safe_join

ESCAPES = [
    "../secret",
    "a/../../secret",
    "/etc/passwd",
    "~/secret",
    "%2e%2e/secret",
    "%2E%2E%2Fsecret",
    "a%2f..%2f..%2fsecret",
    "model.pkl#../../x",
    "model.pkl?x=1",
    "..\\secret",
    "C:/Windows",
    "file:///etc/passwd",
    "s3://bucket/key",
    "a\x00b",
    "",
]


@pytest.mark.parametrize("name", ESCAPES)
def test_lexical_escapes_are_refused(name: str, tmp_path: Path) -> None:
    with pytest.raises(UnsafePathError) as info:
        safe_join(tmp_path, name)
    assert "refused path" in info.value.message and info.value.hint


def test_plain_relative_paths_are_joined(tmp_path: Path) -> None:
    assert safe_join(tmp_path, "a/b.txt") == (tmp_path / "a" / "b.txt").resolve()
    assert str(check_relative("x/y")) == "x/y"


def test_symlink_out_of_root_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    outside = tmp_path / "outside.txt"
    outside.write_text("secret")
    os.symlink(outside, root / "link")
    with pytest.raises(UnsafePathError, match="leads out"):
        safe_join(root, "link")
    with pytest.raises(UnsafePathError, match="outside"):
        ensure_within(root, root / "link")
    os.symlink(root / "inside.txt", root / "inner-link")
    assert safe_join(root, "inner-link") == (root / "inside.txt").resolve()


@pytest.mark.parametrize(
    "location",
    [
        "s3://bucket/a/../../b",
        "s3://bucket/%2e%2e/b",
        "s3://bucket/key#frag",
        "s3://bucket/key?versionId=1",
        "s3:///no-bucket",
        "file:///tmp/%2e%2e/etc",
        "",
    ],
)
def test_bad_locations_are_refused(location: str) -> None:
    with pytest.raises(UnsafePathError):
        canonical_location(location)


def test_locations_are_canonical(tmp_path: Path) -> None:
    assert canonical_location("s3://bucket/prefix/") == "s3://bucket/prefix"
    assert canonical_location(str(tmp_path / "a" / ".." / "b")) == str(tmp_path / "b")
    assert canonical_location(f"file://{tmp_path}") == str(tmp_path)
