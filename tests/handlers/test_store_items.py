"""What the store decodes from DynamoDB's wire format is what boto3's TypeDeserializer would give, except the
documented difference: top-level numbers come back as int or float, not Decimal."""

from decimal import Decimal

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from clinic.store import table
from hypothesis import given
from hypothesis import strategies as st

numbers = st.decimals(min_value=Decimal("-1e20"), max_value=Decimal("1e20"), places=6, allow_nan=False)
scalars = st.one_of(st.text(max_size=5), numbers, st.booleans(), st.none())
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
            assert v == (int(boto3[k]) if isinstance(v, int) else float(boto3[k]))
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
