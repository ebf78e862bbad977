import pytest

from yanpiao import codes
from yanpiao.types import ExtraField, InvoiceType as T


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("011001605111", T.VAT_ELECTRONIC_ORDINARY),  # kind 11
        ("011002400104", T.VAT_ORDINARY),  # kind 04
        ("011002400105", T.VAT_ORDINARY),  # kind 05
        ("011002400106", T.VAT_ROLL),
        ("011002400107", T.VAT_ROLL),
        ("011002400112", T.TOLL_ELECTRONIC),
        ("011002400113", T.VAT_ELECTRONIC_SPECIAL),
        ("011002400117", T.USED_VEHICLE),
        ("111002420001", T.MOTOR_VEHICLE),  # first digit not 0, 8th digit 2
        ("1200154130", T.VAT_SPECIAL),  # 8th digit 1
        ("1100245530", T.VAT_SPECIAL),  # 8th digit 5
        ("4200161350", T.VAT_ORDINARY),  # 8th digit 3
        ("1100246630", T.VAT_ORDINARY),  # 8th digit 6
    ],
)
def test_type_from_code(code, expected):
    assert codes.type_from_code(code) is expected


@pytest.mark.parametrize("code", ["011002400199", "111002410001", "1100240830"])
def test_codes_naming_no_kind_are_refused(code):
    with pytest.raises(codes.UnknownCodeKind):
        codes.type_from_code(code)


@pytest.mark.parametrize("code", ["1100241230", "1100241730"])
def test_freight_codes_are_recognised_but_unsupported(code):
    with pytest.raises(codes.UnsupportedInvoiceType):
        codes.type_from_code(code)


@pytest.mark.parametrize(
    ("code", "region"),
    [
        ("011001605111", "1100"),  # Beijing
        ("044031900111", "4403"),  # Shenzhen keeps its own region
        ("044011900111", "4400"),  # the rest of Guangdong rounds to 4400
        ("3302194130", "3302"),  # Ningbo
        ("3201194130", "3200"),
        ("099991900111", None),  # no such province
    ],
)
def test_region_of_code(code, region):
    assert codes.region_of_code(code) == region


def test_region_of_digital_number():
    assert codes.region_of_digital_number("24312000000136634917") == "3100"
    assert codes.region_of_digital_number("26442000005310626521") == "4400"
    assert codes.region_of_digital_number("12345678") is None


@pytest.mark.parametrize(
    ("invoice_type", "extra"),
    [
        (T.VAT_SPECIAL, ExtraField.PRETAX_AMOUNT),
        (T.MOTOR_VEHICLE, ExtraField.PRETAX_AMOUNT),
        (T.VAT_ELECTRONIC_SPECIAL, ExtraField.PRETAX_AMOUNT),
        (T.VAT_ORDINARY, ExtraField.CHECK_CODE),
        (T.VAT_ELECTRONIC_ORDINARY, ExtraField.CHECK_CODE),
        (T.VAT_ROLL, ExtraField.CHECK_CODE),
        (T.TOLL_ELECTRONIC, ExtraField.CHECK_CODE),
        (T.USED_VEHICLE, ExtraField.VEHICLE_PRICE),
        (T.DIGITAL_SPECIAL, ExtraField.TOTAL),
        (T.DIGITAL_ORDINARY, ExtraField.TOTAL),
    ],
)
def test_each_type_needs_its_extra_field(invoice_type, extra):
    assert invoice_type.extra_field is extra


def test_electronic_special_has_service_code_08():
    assert T.VAT_ELECTRONIC_SPECIAL.service_code == "08"
    assert T.VAT_SPECIAL.service_code == "01"


def test_year_of_code_reads_only_digits_int_can_read():
    """A superscript "¹" passes str.isdigit() but not int(): the fuzz test found a
    ValueError here."""
    assert codes.year_of_code("1100245130") == 2024
    assert codes.year_of_code("00000¹0000") is None
