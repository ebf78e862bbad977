from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from yanpiao.qr import DecodedCode, NotInvoicePayload, QrPayload, find_invoice_payload, parse_qr_payload
from yanpiao.requests import build_request
from yanpiao.types import EntryPath, ExtraField, InvoiceType

# The public examples of DESIGN 1.1, with what each must read as.
REAL_EXAMPLES = [
    ("01,10,011001605111,80100798,64.9,20161018,85342965681116380258",
     InvoiceType.VAT_ELECTRONIC_ORDINARY, "011001605111", "80100798", "64.90", date(2016, 10, 18),
     "85342965681116380258", ""),
    ("01,01,1200154130,03630024,94339.62,20160621,,9335,",
     InvoiceType.VAT_SPECIAL, "1200154130", "03630024", "94339.62", date(2016, 6, 21), "", "9335"),
    ("01,04,4200161350,00015045,165106.00,20160501,48114255542168294433,DBFE,",
     InvoiceType.VAT_ORDINARY, "4200161350", "00015045", "165106.00", date(2016, 5, 1),
     "48114255542168294433", "DBFE"),
    ("01,32,,24312000000136634917,0.01,20240514,,1DD6",
     InvoiceType.DIGITAL_ORDINARY, "", "24312000000136634917", "0.01", date(2024, 5, 14), "", "1DD6"),
    ("01,32,,23442000000014209621,112,20230215,,74AE",
     InvoiceType.DIGITAL_ORDINARY, "", "23442000000014209621", "112.00", date(2023, 2, 15), "", "74AE"),
    ("01,31,,26442000005310626521,31605.00,20260514,,7B05",
     InvoiceType.DIGITAL_SPECIAL, "", "26442000005310626521", "31605.00", date(2026, 5, 14), "", "7B05"),
    # The 专票 sample whose check-code slot is missing altogether.
    ("01,01,4300171130,02550485,10545.43,20180115,6579,",
     InvoiceType.VAT_SPECIAL, "4300171130", "02550485", "10545.43", date(2018, 1, 15), "", "6579"),
]


@pytest.mark.parametrize(
    "text, invoice_type, code, number, amount, issued, check_code, crc", REAL_EXAMPLES
)
def test_real_examples(text, invoice_type, code, number, amount, issued, check_code, crc):
    payload = parse_qr_payload(text)
    assert payload == QrPayload(
        version="01", invoice_type=invoice_type, invoice_code=code, invoice_number=number,
        amount=Decimal(amount), issue_date=issued, check_code=check_code, crc=crc,
    )


BASE = "01,04,4200161350,00015045,165106.00,20160501,48114255542168294433,DBFE,"


@pytest.mark.parametrize(
    "text",
    [
        BASE,
        BASE.rstrip(","),  # no trailing comma
        BASE.replace(",", "，"),  # full-width commas
        "\ufeff" + BASE,  # BOM
        "  " + BASE + "  ",
        BASE + "\r\n",  # handheld scanner in keyboard mode presses Enter
        BASE + "\n",
        BASE.replace("DBFE", "dbfe"),  # lower-case hex
        BASE.replace(",", " , "),  # spaces around fields
        "０１,０４,4200161350,00015045,165106.00,20160501,48114255542168294433,DBFE,",  # full-width digits
    ],
)
def test_traps_read_the_same(text):
    assert parse_qr_payload(text) == parse_qr_payload(BASE)


@pytest.mark.parametrize(
    "amount, expected",
    [("112", "112.00"), ("64.9", "64.90"), ("0.01", "0.01"), ("165106.00", "165106.00"), ("7.", "7.00")],
)
def test_amounts_without_cents(amount, expected):
    payload = parse_qr_payload(f"01,32,,23442000000014209621,{amount},20230215,,74AE")
    assert payload.amount == Decimal(expected)


@pytest.mark.parametrize("invoice_type", list(InvoiceType))
def test_every_invoice_type_code_is_accepted(invoice_type):
    if invoice_type.is_digital:
        text = f"01,{invoice_type.code},,24312000000136634917,100.5,20240514,,1DD6,"
    else:
        text = f"01,{invoice_type.code},011001605111,80100798,100.5,20240514,85342965681116380258,1DD6,"
    assert parse_qr_payload(text).invoice_type is invoice_type


def test_paper_digital_invoice_code_is_dropped():
    payload = parse_qr_payload("01,32,011001605111,24312000000136634917,0.01,20240514,,1DD6")
    assert payload.invoice_code == ""


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   \r\n",
        "https://inv-veri.chinatax.gov.cn/",
        "http://example.com/?a=01,10,011001605111,80100798,64.9,20161018",
        "6901234567892",  # a product barcode
        "hello, world, this, is, not, an, invoice",
        "WIFI:S:mall;T:WPA;P:secret;;",
        "02,10,011001605111,80100798,64.9,20161018,85342965681116380258",  # unknown version
        "01,99,011001605111,80100798,64.9,20161018,85342965681116380258",  # unknown type code
        "01,51,,24312000000136634917,0.01,20240514,,1DD6",  # a 数电 ticket type Yanpiao lacks
        "01,10,011001605111,80100798,64.9,20160231,85342965681116380258",  # 31 February
        "01,10,011001605111,80100798,64.9,2016-10-18,85342965681116380258",  # not YYYYMMDD
        "01,10,011001605111,80100798,abc,20161018,85342965681116380258",  # amount
        "01,10,011001605111,80100798,,20161018,85342965681116380258",  # no amount
        "01,10,011001605111,80100798,1e5,20161018,85342965681116380258",
        "01,10,0110016051,1,64.9,20161018",  # short number
        "01,10,01100160511X,80100798,64.9,20161018,85342965681116380258",  # code not digits
        "01,10,,80100798,64.9,20161018,85342965681116380258",  # legacy without a code
        "01,32,,2431200000013663491,0.01,20240514,,1DD6",  # 19-digit 数电 number
        "01,10,011001605111,80100798,64.9,20161018,8534296568111638025,1DD6",  # 19-digit check
        "01,10,011001605111,80100798,64.9,20161018,85342965681116380258,XYZ1",  # not hex
        "01,10,011001605111,80100798,64.9,20161018,85342965681116380258,1DD6,extra",
        "01,10,011001605111,80100798,64.9",
        "01,32,,24312000000136634917,0.01,20240514,,1DD6" * 10,  # far too long
    ],
)
def test_not_invoice_payloads(text):
    with pytest.raises(NotInvoicePayload):
        parse_qr_payload(text)


def test_non_text_is_refused_the_same_way():
    with pytest.raises(NotInvoicePayload):
        parse_qr_payload(b"01,32,,24312000000136634917,0.01,20240514,,1DD6")  # type: ignore[arg-type]


def test_fields_feed_build_request_for_a_check_code_type():
    payload = parse_qr_payload("01,10,011001605111,80100798,64.9,20161018,85342965681116380258")
    request = build_request(payload.fields(), type_hint=payload.invoice_type, entry_path=EntryPath.PHOTO)
    assert request.extra_field is ExtraField.CHECK_CODE
    assert request.check_code == "380258"
    assert request.invoice_code == "011001605111"
    assert request.issue_date == date(2016, 10, 18)
    assert request.entry_path is EntryPath.PHOTO


def test_fields_feed_build_request_for_an_amount_type():
    payload = parse_qr_payload("01,01,4300171130,02550485,10545.43,20180115,6579,")
    assert payload.fields() == {
        "invoice_code": "4300171130", "invoice_number": "02550485", "issue_date": "2018-01-15",
        "amount": "10545.43", "check_code": "",
    }
    request = build_request(payload.fields(), type_hint=payload.invoice_type)
    assert request.extra_field is ExtraField.PRETAX_AMOUNT
    assert request.amount == Decimal("10545.43")


def test_fields_feed_build_request_for_digital():
    payload = parse_qr_payload("01,31,,26442000005310626521,31605.00,20260514,,7B05")
    request = build_request(payload.fields(), type_hint=payload.invoice_type)
    assert request.extra_field is ExtraField.TOTAL
    assert request.invoice_type is InvoiceType.DIGITAL_SPECIAL
    assert request.amount == Decimal("31605.00")


def test_find_invoice_payload_skips_other_codes():
    texts = ["https://shop.example/pay", "6901234567892", BASE, REAL_EXAMPLES[0][0]]
    assert find_invoice_payload(texts) == parse_qr_payload(BASE)
    assert find_invoice_payload(["https://shop.example/pay"]) is None
    assert find_invoice_payload([]) is None


def test_decoded_code():
    assert DecodedCode.from_text(BASE) == DecodedCode(BASE, parse_qr_payload(BASE))
    assert DecodedCode.from_text("hello") == DecodedCode("hello", None)


# --- properties: whatever arrives, the answer is a payload or NotInvoicePayload -------------


def _outcome(text):
    try:
        return parse_qr_payload(text)
    except NotInvoicePayload:
        return None


@settings(max_examples=400, deadline=None)
@given(st.text(max_size=300))
def test_arbitrary_text_never_raises_anything_else(text):
    result = _outcome(text)
    assert result is None or isinstance(result, QrPayload)


_FIELD_ALPHABET = st.sampled_from(list("0123456789,.，-¥ABCDEFabcdef ") + ["\ufeff", "\r", "\n", "０", "年"])


@st.composite
def mutated_payloads(draw):
    text = draw(st.sampled_from([example[0] for example in REAL_EXAMPLES]))
    for _ in range(draw(st.integers(1, 4))):
        position = draw(st.integers(0, len(text)))
        action = draw(st.sampled_from(["insert", "delete", "replace", "duplicate"]))
        if action == "insert":
            text = text[:position] + draw(_FIELD_ALPHABET) + text[position:]
        elif action == "delete":
            text = text[:position] + text[position + 1:]
        elif action == "replace":
            text = text[:position] + draw(_FIELD_ALPHABET) + text[position + 1:]
        else:
            text = text[:position] + text[position: position + 8] * 2 + text[position + 8:]
    return text


@settings(max_examples=600, deadline=None)
@given(mutated_payloads())
def test_mutated_payloads_never_raise_anything_else(text):
    result = _outcome(text)
    if result is not None:
        assert isinstance(result, QrPayload)
        assert result.version == "01"
        assert len(result.invoice_number) in (8, 20)
        assert result.check_code == "" or len(result.check_code) == 20
        assert result.crc == result.crc.upper() and len(result.crc) in (0, 4)
        # Whatever was accepted also builds a request or fails with field errors, never crashes.
        try:
            build_request(result.fields(), type_hint=result.invoice_type)
        except Exception as exc:  # noqa: BLE001 - only InvalidRequest is acceptable
            assert type(exc).__name__ == "InvalidRequest"


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(alphabet=_FIELD_ALPHABET, max_size=25), min_size=0, max_size=12))
def test_comma_joined_fields_never_raise_anything_else(parts):
    text = ",".join(parts)
    result = _outcome(text)
    assert result is None or isinstance(result, QrPayload)
