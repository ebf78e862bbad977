from datetime import date
from decimal import Decimal

import pytest

from yanpiao import normalize


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("011001605111", "011001605111"),
        ("０１１００１６０５１１１", "011001605111"),
        (" 0110 0160 5111 ", "011001605111"),
        ("0110-0160-5111", "011001605111"),
    ],
)
def test_digits(text, expected):
    assert normalize.digits(text) == expected


@pytest.mark.parametrize("text", ["01100160511a", "", "١٢٣", "12.34"])
def test_digits_refuses_other_characters(text):
    with pytest.raises(ValueError):
        normalize.digits(text)


@pytest.mark.parametrize(
    "text",
    ["2024-10-25", "20241025", "2024/10/25", "2024年10月25日", "2024.10.25", " 2024-10-25 ",
     "２０２４年１０月２５日", "2024 年 10 月 25 日"],
)
def test_parse_date(text):
    assert normalize.parse_date(text) == date(2024, 10, 25)


def test_parse_date_single_digit_parts():
    assert normalize.parse_date("2024/1/5") == date(2024, 1, 5)


@pytest.mark.parametrize("text", ["2024-02-30", "25/10/2024", "yesterday", "2024-13-01", ""])
def test_parse_date_refuses(text):
    with pytest.raises(ValueError):
        normalize.parse_date(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1234.50", "1234.50"),
        ("1,234.5", "1234.50"),
        ("¥1234.50", "1234.50"),
        ("￥1,234.50", "1234.50"),
        ("１２３４．５", "1234.50"),
        ("112", "112.00"),
        ("64.9", "64.90"),
        ("1234元", "1234.00"),
        ("-100.00", "-100.00"),
        ("1234.", "1234.00"),
        ("-¥100", "-100.00"),
        # As the site shows amounts in English and Russian (Babel's CN¥), copied back.
        ("CN¥64,990.00", "64990.00"),
        ("64,990.00 CN¥", "64990.00"),
        ("CNY 100", "100.00"),
        ("rmb100", "100.00"),
    ],
)
def test_parse_amount(text, expected):
    assert normalize.parse_amount(text) == Decimal(expected)


@pytest.mark.parametrize("text", ["12,34", "1.234", "abc", "", "1.2.3", "¥"])
def test_parse_amount_refuses(text):
    with pytest.raises(ValueError):
        normalize.parse_amount(text)


def test_parse_amount_keeps_within_what_an_invoice_can_be():
    """Amounts are stored as whole cents in 64-bit integers: 20 typed nines overflowed them."""
    assert normalize.parse_amount("999,999,999,999.99") == normalize.MAX_AMOUNT
    assert normalize.parse_amount("-999999999999.99") == -normalize.MAX_AMOUNT
    for text in ("1000000000000", "-1000000000000.00", "99999999999999999999.99"):
        with pytest.raises(normalize.AmountTooLarge):
            normalize.parse_amount(text)
