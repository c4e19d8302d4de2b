"""What the store decodes from DynamoDB's wire format is what boto3's TypeDeserializer would give, except the
documented difference: top-level numbers come back as int or float, not Decimal; what it encodes is what boto3's
TypeSerializer gives (a float as the Decimal of its shortest repr, with no trailing ".0"), and it refuses what
boto3 refuses."""

from decimal import Decimal, Inexact, Rounded
from typing import Any

import pytest
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from clinic.store import table
from hypothesis import assume, given
from hypothesis import strategies as st

numbers = st.decimals(min_value=Decimal("-1e20"), max_value=Decimal("1e20"), places=6, allow_nan=False)
scalars = st.one_of(st.text(max_size=5), numbers, st.booleans(), st.none())
# Anything DynamoDB stores: up to 38 digits, at any exponent it allows.
stored_numbers = st.builds(
    lambda digits, exponent: Decimal(digits).scaleb(exponent),
    st.integers(min_value=-(10**38) + 1, max_value=10**38 - 1),
    st.integers(min_value=-120, max_value=80),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=4), inner, max_size=4)),
    max_leaves=12,
)


@given(st.dictionaries(st.text(min_size=1, max_size=4), values, max_size=5))
def test_decode_gives_what_boto3_gives(item: dict) -> None:
    wire = {k: TypeSerializer().serialize(v) for k, v in item.items()}
    boto3 = {k: TypeDeserializer().deserialize(v) for k, v in wire.items()}
    decoded = table.decode(wire)
    assert decoded.keys() == boto3.keys()
    for k, v in decoded.items():
        if isinstance(boto3[k], Decimal):
            _assert_number(v, boto3[k])
        else:
            assert v == boto3[k] and type(v) is type(boto3[k])
            assert repr(v) == repr(boto3[k])  # nested numbers stay Decimal, with the same digits


def test_a_latest_entry_decodes_its_maps_with_decimal_numbers() -> None:
    wire = {
        "sk": {"S": "mood"},
        "version": {"N": "3"},
        "newest": {"M": {"id": {"N": "12"}, "value": {"N": "6.5"}, "recorded_at": {"S": "2026-11-29T10:00:00Z"}}},
        "tags": {"SS": ["a"]},
    }
    assert table.decode(wire) == {
        "sk": "mood",
        "version": 3,
        "newest": {"id": Decimal("12"), "value": Decimal("6.5"), "recorded_at": "2026-11-29T10:00:00Z"},
        "tags": {"a"},
    }


def _assert_number(decoded: Any, exact: Decimal) -> None:
    """A whole number comes back as an exact int, any other as the float nearest it."""
    if exact == exact.to_integral_value():
        assert type(decoded) is int and decoded == exact
    else:
        assert type(decoded) is float and decoded == float(exact)


@given(stored_numbers)
def test_every_number_dynamodb_stores_decodes_to_an_exact_int_or_the_nearest_float(number: Decimal) -> None:
    try:
        wire = TypeSerializer().serialize(number)
    except (Inexact, Rounded):
        assume(False)  # beyond DynamoDB's range: boto3 refuses it
    _assert_number(table.decode({"n": wire})["n"], number)


@pytest.mark.parametrize("text", ["2", "-0", "2.0", "1E+2", "-1.5E+3", "1E-130", "0.1", "9" * 38, "-" + "9" * 38])
def test_number_texts_decode_by_their_value(text: str) -> None:
    _assert_number(table.decode({"n": {"N": text}})["n"], Decimal(text))


encodable = st.one_of(
    st.text(max_size=5),
    st.integers(min_value=-(10**40), max_value=10**40),
    st.floats(allow_nan=False, allow_infinity=False),
    stored_numbers,
    st.booleans(),
    st.none(),
    st.binary(max_size=3),
    st.lists(st.text(max_size=3), max_size=3),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=3),
    st.sets(st.text(min_size=1, max_size=3), min_size=1, max_size=3),
)


def _assert_encodes_like_boto3(value: Any) -> None:
    exact = Decimal(repr(value)) if isinstance(value, float) else value
    try:
        expected: Any = TypeSerializer().serialize(exact)
    except Exception as error:
        with pytest.raises(type(error)):
            table.encode(value)
        return
    encoded = table.encode(value)
    if isinstance(value, float):  # the same number, without the ".0" DynamoDB would trim
        assert encoded.keys() == {"N"} and Decimal(encoded["N"]) == exact and not encoded["N"].endswith(".0")
    else:
        assert encoded == expected


@given(encodable)
def test_encode_gives_what_boto3_gives_and_refuses_what_it_refuses(value: Any) -> None:
    _assert_encodes_like_boto3(value)


@pytest.mark.parametrize("value", [10**38 - 1, -(10**38) + 1, 10**38, -(10**38), 10**38 + 1, 2**127, 10**45])
def test_integers_beyond_38_digits_are_refused_as_boto3_refuses_them(value: int) -> None:
    _assert_encodes_like_boto3(value)


@pytest.mark.parametrize(("value", "text"), [(15.0, "15"), (-3.0, "-3"), (2.5, "2.5"), (0.1, "0.1"), (1e16, "1E+16")])
def test_a_float_is_written_as_dynamodb_keeps_it(value: float, text: str) -> None:
    assert table.encode(value) == {"N": text}
