"""Property tests over everything that reads outside input: whatever arrives, a parser answers
with a value or its own documented refusal, never another exception.

Bounded (``max_examples``) so the suite stays quick; `--hypothesis-seed` reproduces a failure.
"""

from __future__ import annotations

import io
import zipfile
from datetime import date
from decimal import Decimal

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from yanpiao import codes, normalize, registry
from yanpiao.batch_files import BatchFileError, read_upload
from yanpiao.qr import NotInvoicePayload, parse_qr_payload
from yanpiao.receipts import ReceiptSigner, Verdict
from yanpiao.requests import FIELDS, InvalidRequest, build_request, plan_fields

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Text as it arrives from forms and scanners: any Unicode, plus the characters the parsers
# look at, so examples often get past the first check.
interesting = st.sampled_from(list("0123456789,，.-/ 年月日¥０１２３４５６７８９\ufeff\n\t") + [
    "01", "04", "10", "32", "20241025", "2024-10-25", "011002400104", "12345678",
    "24312000000136634917", "64.9", "1,234.50", "DBFE", "1dd6"])
messy_text = st.one_of(
    st.text(max_size=120),
    st.lists(st.one_of(interesting, st.text(max_size=5)), max_size=25).map("".join),
)


@FUZZ
@given(messy_text)
def test_qr_payloads_parse_or_are_refused(text):
    try:
        payload = parse_qr_payload(text)
    except NotInvoicePayload:
        return
    assert payload.invoice_number.isdigit()
    assert isinstance(payload.amount, Decimal) and isinstance(payload.issue_date, date)
    # Whatever parses as a payload is a request the verification accepts or refuses cleanly.
    try:
        build_request(payload.fields(), type_hint=payload.invoice_type)
    except InvalidRequest:
        pass


@st.composite
def real_payloads(draw):
    """Payloads shaped like the real ones (DESIGN 1.1), with the noise seen in the wild."""
    digital = draw(st.booleans())
    day = draw(st.dates(min_value=date(2015, 1, 1), max_value=date(2030, 12, 31)))
    amount = draw(st.decimals(min_value=0, max_value=10**8, places=2, allow_nan=False))
    if digital:
        fields = ["01", draw(st.sampled_from(["31", "32"])), "",
                  draw(st.from_regex(r"\A[0-9]{20}\Z")), str(amount), day.strftime("%Y%m%d"), ""]
    else:
        fields = ["01", "04", "011002400104", draw(st.from_regex(r"\A[0-9]{8}\Z")), str(amount),
                  day.strftime("%Y%m%d"), draw(st.from_regex(r"\A[0-9]{20}\Z"))]
    fields.append(draw(st.from_regex(r"\A[0-9a-fA-F]{4}\Z")))
    separator = draw(st.sampled_from([",", "，"]))
    text = separator.join(fields) + draw(st.sampled_from(["", ",", "\n", "\r\n"]))
    return draw(st.sampled_from(["", " ", "\ufeff"])) + text, fields


@FUZZ
@given(real_payloads())
def test_real_shaped_payloads_always_parse(payload):
    text, fields = payload
    parsed = parse_qr_payload(text)
    assert parsed.invoice_number == fields[3]
    assert parsed.amount == Decimal(fields[4])
    assert parsed.issue_date.strftime("%Y%m%d") == fields[5]
    assert parsed.crc == fields[7].upper()


@FUZZ
@given(messy_text)
def test_normalisers_read_or_raise_value_error(text):
    for reader in (normalize.digits, normalize.parse_date, normalize.parse_amount,
                   normalize.money, codes.type_from_code):
        try:
            reader(text)
        except ValueError:
            pass
    assert isinstance(normalize.fold(text), str)
    codes.region_of_code(text)
    codes.region_of_digital_number(text)
    codes.year_of_code(text)


@FUZZ
@given(st.fixed_dictionaries({}, optional={name: st.one_of(st.none(), messy_text)
                                            for name in FIELDS}))
def test_typed_fields_build_a_request_or_name_every_bad_field(fields):
    plan_fields(fields.get("invoice_code") or "", fields.get("invoice_number") or "")
    try:
        request = build_request(fields)
    except InvalidRequest as refusal:
        assert refusal.errors and set(refusal.errors) <= set(FIELDS)
    else:
        assert request.invoice_number


json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), messy_text),
    lambda children: st.one_of(st.lists(children, max_size=4),
                               st.dictionaries(st.text(max_size=12), children, max_size=6)),
    max_leaves=20,
)
record_fields = ["type", "invoice_code", "invoice_number", "issue_date", "check_code", "amount",
                 "tax", "total", "status", "seller", "buyer", "items", "remarks", "drawer"]


@FUZZ
@given(st.one_of(json_values, st.dictionaries(st.sampled_from(record_fields), json_values)))
def test_import_records_are_stored_or_refused_with_a_reason(record):
    try:
        values = registry.parse_import_record(record)
    except registry.ImportError_ as refusal:
        assert str(refusal)
    else:
        assert values


@FUZZ
@given(st.lists(messy_text, max_size=6))
def test_import_files_report_every_line(lines):
    text = "\n".join(lines)
    for file_format in ("jsonl", "csv"):
        for number, values, reason in registry.read_records(text, file_format):
            assert number >= 1
            assert (values is None) != (reason is None) or values is None


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


uploads = st.one_of(
    st.binary(max_size=300),
    messy_text.map(lambda t: t.encode("utf-8")),
    st.lists(st.lists(messy_text, max_size=5).map(",".join), max_size=6).map(
        lambda rows: "\n".join(rows).encode("utf-8")),
    st.dictionaries(st.sampled_from(["xl/workbook.xml", "a.pdf", "b.png", "[Content_Types].xml"]),
                    st.binary(max_size=60), max_size=3).map(_zip),
)


@FUZZ
@given(uploads, st.sampled_from(["list.csv", "list.xlsx", "files.zip", "x.txt", ""]))
def test_batch_uploads_are_read_or_refused_with_a_problem(data, filename):
    try:
        read_upload(data, filename, max_rows=50)
    except BatchFileError as refusal:
        assert refusal.problem


SIGNER = ReceiptSigner(Ed25519PrivateKey.generate())
GENUINE = SIGNER.document("receipt: ABCD\noutcome: match")


@FUZZ
@given(st.one_of(messy_text, st.binary(max_size=200),
                 st.integers(0, len(GENUINE) - 1).flatmap(
                     lambda at: messy_text.map(lambda t: GENUINE[:at] + t + GENUINE[at + 1:]))))
def test_pasted_receipts_are_checked_never_crash(data):
    check = SIGNER.check(data)
    assert check.verdict is not None


def test_the_untouched_receipt_is_genuine():
    assert SIGNER.check(GENUINE).verdict is Verdict.GENUINE


def _image(width: int, height: int, fmt: str, seed: int) -> bytes:
    import numpy as np
    from PIL import Image

    pixels = np.random.default_rng(seed).integers(0, 256, (height, width), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, fmt)
    return buffer.getvalue()


images = st.one_of(
    st.binary(max_size=200),
    st.builds(_image, st.integers(1, 90), st.integers(1, 90), st.sampled_from(["PNG", "BMP"]),
              st.integers(0, 1000)),
    st.sampled_from([b"%PDF-1.4\n", b"PK\x03\x04", b"\x89PNG\r\n\x1a\n", b"BM"]).flatmap(
        lambda head: st.binary(max_size=120).map(lambda tail: head + tail)),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(images)
def test_uploaded_files_decode_or_are_refused_with_a_reason(data):
    from yanpiao.decoder import DecodeError
    from yanpiao.efiles import decode_file

    try:
        texts = decode_file(data)
    except DecodeError:
        return
    assert all(isinstance(text, str) for text in texts)
