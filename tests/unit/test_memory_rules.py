"""Domain rules for memory keys, lifetimes and values."""

from __future__ import annotations

import math

import pytest

from shared_context.domain.errors import InvalidInput
from shared_context.domain.memory import (
    EXPIRES_MAX_SECONDS,
    check_expires_in,
    check_if_version,
    check_key,
    encode_value,
)


@pytest.mark.parametrize(
    "key",
    ["k", "a" * 255, "project/notes:v1", "Ключ", "café", "cafe\u0301", "zero\u200bwidth", "🙂"],
)
def test_valid_keys_are_returned_unchanged(key: str) -> None:
    assert check_key(key) == key


@pytest.mark.parametrize(
    "key",
    [
        "",
        "a" * 256,
        "has space",
        "tab\there",
        "new\nline",
        "nul\x00",
        "bell\x07",
        "\u00a0nbsp",
        "line\u2028sep",
        "lone\ud800",
        7,
        None,
        b"bytes",
    ],
)
def test_bad_keys_are_refused(key: object) -> None:
    with pytest.raises(InvalidInput):
        check_key(key)


def test_prefix_may_be_empty_only_when_allowed() -> None:
    assert check_key("", "prefix", allow_empty=True) == ""


@pytest.mark.parametrize("value", [1, 60, 1.0, EXPIRES_MAX_SECONDS])
def test_valid_lifetimes(value: object) -> None:
    assert check_expires_in(value) == int(value)  # type: ignore[call-overload]


def test_no_lifetime_means_no_expiry() -> None:
    assert check_expires_in(None) is None


@pytest.mark.parametrize(
    "value",
    [
        0,
        -1,
        2**63,
        EXPIRES_MAX_SECONDS + 1,
        math.nan,
        math.inf,
        -math.inf,
        1.5,
        "abc",
        "60",
        True,
        False,
        [],
        {},
    ],
)
def test_bad_lifetimes_are_refused(value: object) -> None:
    with pytest.raises(InvalidInput, match="expires_in"):
        check_expires_in(value)


@pytest.mark.parametrize("value", [None, 0, 1, 2**62])
def test_if_version_bounds(value: int | None) -> None:
    assert check_if_version(value) == value


@pytest.mark.parametrize("value", [-1, 2**63, 1.0, "1", True])
def test_bad_if_version(value: object) -> None:
    with pytest.raises(InvalidInput, match="if_version"):
        check_if_version(value)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ({"a": [1, 2.5, None, True]}, '{"a":[1,2.5,null,true]}'),
        ("ü", '"ü"'),
        (None, "null"),
        (False, "false"),
        (2**70, str(2**70)),
    ],
)
def test_values_serialise_compactly(value: object, text: str) -> None:
    assert encode_value(value, 1024) == text


def test_value_size_limit_counts_utf8_bytes() -> None:
    assert encode_value("é" * 5, 12) == '"' + "é" * 5 + '"'
    with pytest.raises(InvalidInput, match="13 bytes"):
        encode_value("é" * 5 + "x", 12)


def test_deep_values_are_refused_without_recursing() -> None:
    deep: object = 1
    for _ in range(100_000):
        deep = [deep]
    with pytest.raises(InvalidInput, match="nested deeper"):
        encode_value(deep, 10**9)
    nested: object = 1
    for _ in range(1000):
        nested = {"k": nested}
    with pytest.raises(InvalidInput, match="nested deeper"):
        encode_value(nested, 10**9)


@pytest.mark.parametrize("value", [math.nan, [math.inf], {"a": object()}, "lone\ud800", {1, 2}])
def test_non_json_values_are_refused(value: object) -> None:
    with pytest.raises(InvalidInput, match="value"):
        encode_value(value, 10**6)
