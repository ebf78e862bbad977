import base64
import io
import zipfile

import numpy as np
import pypdfium2 as pdfium
import pytest
from imaging import encode, invoice_page, qr_image
from PIL import Image

from yanpiao.decoder import CorruptFile, DecodeError, NoCodeFound, UnsafeFile, UnsupportedFileType
from yanpiao.efiles import decode_file, decode_ofd, decode_pdf, sniff_file_type
from yanpiao.qr import parse_qr_payload

LEGACY = "01,10,011001900111,12345678,1000.00,20241025,12345678901234567890,A1B2,"
DIGITAL = "01,31,,24312000000136634917,1130.00,20240514,,1DD6"


def page_image(text, *, module_px=8, seed=0):
    page, _ = invoice_page(text, np.random.default_rng(seed), module_px=module_px)
    return Image.fromarray(page[:, :, ::-1])


def pdf_bytes(image, resolution=150.0):
    return encode(image.convert("RGB"), "PDF", resolution=resolution)


# --- PDF ----------------------------------------------------------------------------------------


def test_pdf_code_in_the_corner():
    assert decode_pdf(pdf_bytes(page_image(LEGACY))) == [LEGACY]


def test_pdf_code_elsewhere_on_the_page():
    image = page_image(None)
    code = Image.fromarray(qr_image(DIGITAL, scale=8))
    image.paste(code, (image.width - code.width - 20, image.height - code.height - 20))
    assert decode_pdf(pdf_bytes(image)) == [DIGITAL]


def test_pdf_small_code_needs_the_finer_rendering():
    # 2 px modules at 300 dpi: one pixel per module at the first (150 dpi) pass.
    image = Image.new("L", (900, 600), 255)
    image.paste(Image.fromarray(qr_image(LEGACY, scale=2)), (20, 20))
    assert decode_pdf(pdf_bytes(image, resolution=300)) == [LEGACY]


def test_pdf_without_code():
    with pytest.raises(NoCodeFound) as caught:
        decode_pdf(pdf_bytes(page_image(None)))
    assert caught.value.reason == "no_code"


def test_pdf_without_pages():
    document = pdfium.PdfDocument.new()
    buffer = io.BytesIO()
    document.save(buffer)
    document.close()
    # PDFium itself refuses a document with an empty page tree as malformed.
    with pytest.raises(DecodeError) as caught:
        decode_pdf(buffer.getvalue())
    assert caught.value.reason in ("no_pages", "corrupt_pdf")


@pytest.mark.parametrize("data", [b"%PDF-1.7\n" + bytes(range(256)) * 8, b"%PDF-"])
def test_corrupt_pdf(data):
    with pytest.raises(CorruptFile) as caught:
        decode_pdf(data)
    assert caught.value.reason == "corrupt_pdf"


# --- OFD ----------------------------------------------------------------------------------------

OFD_XML = """<?xml version="1.0" encoding="UTF-8"?>
<ofd:OFD xmlns:ofd="http://www.ofdspec.org/2016" DocType="OFD" Version="1.0"><ofd:DocBody>
<ofd:DocInfo><ofd:DocID>test</ofd:DocID><ofd:CustomDatas>{custom}</ofd:CustomDatas></ofd:DocInfo>
<ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot></ofd:DocBody></ofd:OFD>"""

DOCUMENT_XML = """<?xml version="1.0" encoding="UTF-8"?>
<ofd:Document xmlns:ofd="http://www.ofdspec.org/2016"><ofd:Pages>
<ofd:Page ID="1" BaseLoc="Pages/Page_0/Content.xml"/></ofd:Pages></ofd:Document>"""


def einvoice_xml(*, graph_code="", code="011001900111", number="12345678", issued="2024年10月25日",
                 check="12345678901234567890", pretax="1000.00", doctype=""):
    return f"""<?xml version="1.0" encoding="UTF-8"?>{doctype}
<eInvoice xmlns:fp="http://www.edrm.org.cn/schema/e-invoice/2019" Version="1.0">
<fp:DocID>01</fp:DocID><fp:InvoiceCode>{code}</fp:InvoiceCode><fp:InvoiceNo>{number}</fp:InvoiceNo>
<fp:IssueDate><![CDATA[{issued}]]></fp:IssueDate>
<fp:InvoiceCheckCode><![CDATA[{check}]]></fp:InvoiceCheckCode>
<fp:GraphCode><![CDATA[{graph_code}]]></fp:GraphCode>
<fp:TaxInclusiveTotalAmount>1130.00</fp:TaxInclusiveTotalAmount>
<fp:TaxExclusiveTotalAmount>{pretax}</fp:TaxExclusiveTotalAmount>
<fp:TaxTotalAmount>130.00</fp:TaxTotalAmount></eInvoice>"""


def page_xml(texts):
    objects = "".join(
        f'<ofd:TextObject ID="{i}" Boundary="0 0 50 5" Font="1" Size="3">'
        f'<ofd:TextCode X="0" Y="3"><![CDATA[{text}]]></ofd:TextCode></ofd:TextObject>'
        for i, text in texts.items()
    )
    return (f'<?xml version="1.0" encoding="UTF-8"?><ofd:Page xmlns:ofd="http://www.ofdspec.org/2016">'
            f'<ofd:Content><ofd:Layer ID="2">{objects}</ofd:Layer></ofd:Content></ofd:Page>')


CUSTOM_TAG_XML = """<?xml version="1.0" encoding="UTF-8"?>
<eInvoice xmlns:ofd="http://www.ofdspec.org/2016">
<InvoiceNo><ofd:ObjectRef PageRef="1">31</ofd:ObjectRef></InvoiceNo>
<IssueDate><ofd:ObjectRef PageRef="1">32</ofd:ObjectRef></IssueDate>
<TaxInclusiveTotalAmount><ofd:ObjectRef PageRef="1">33</ofd:ObjectRef></TaxInclusiveTotalAmount>
</eInvoice>"""


def ofd_bytes(members, *, custom=""):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("OFD.xml", OFD_XML.format(custom=custom))
        archive.writestr("Doc_0/Document.xml", DOCUMENT_XML)
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def png_base64(text):
    return base64.b64encode(encode(qr_image(text, scale=4), "PNG")).decode()


def test_ofd_graph_code_picture():
    data = ofd_bytes({"Doc_0/Attachs/original_invoice.xml": einvoice_xml(graph_code=png_base64(LEGACY))})
    assert decode_ofd(data) == [LEGACY]


def test_ofd_graph_code_text():
    data = ofd_bytes({"Doc_0/Attachs/original_invoice.xml": einvoice_xml(graph_code=LEGACY)})
    assert decode_ofd(data) == [LEGACY]


def test_ofd_legacy_fields_without_graph_code():
    data = ofd_bytes({"Doc_0/Attachs/original_invoice.xml": einvoice_xml()})
    (text,) = decode_ofd(data)
    payload = parse_qr_payload(text)
    assert (payload.invoice_type.code, payload.invoice_code, payload.invoice_number) == (
        "10", "011001900111", "12345678")
    assert str(payload.amount) == "1000.00" and payload.issue_date.isoformat() == "2024-10-25"
    assert payload.check_code == "12345678901234567890"


def test_ofd_digital_fields_through_custom_tags():
    texts = {"30": "电子发票（增值税专用发票）", "31": "24312000000136634917", "32": "2024年05月14日",
             "33": "¥1130.00"}
    data = ofd_bytes({
        "Doc_0/Tags/CustomTag.xml": CUSTOM_TAG_XML,
        "Doc_0/Pages/Page_0/Content.xml": page_xml(texts),
    })
    (text,) = decode_ofd(data)
    payload = parse_qr_payload(text)
    assert payload.invoice_type.code == "31"
    assert payload.invoice_number == "24312000000136634917"
    assert str(payload.amount) == "1130.00" and payload.issue_date.isoformat() == "2024-05-14"


def test_ofd_digital_fields_from_custom_data():
    custom = ('<ofd:CustomData Name="发票号码">24312000000136634917</ofd:CustomData>'
              '<ofd:CustomData Name="开票日期">2024-05-14 10:00:00</ofd:CustomData>'
              '<ofd:CustomData Name="合计金额">1000.00</ofd:CustomData>'
              '<ofd:CustomData Name="合计税额">130.00</ofd:CustomData>')
    data = ofd_bytes({"Doc_0/Pages/Page_0/Content.xml": page_xml({"1": "电子发票（普通发票）"})}, custom=custom)
    payload = parse_qr_payload(decode_ofd(data)[0])
    assert payload.invoice_type.code == "32" and str(payload.amount) == "1130.00"


def test_ofd_digital_without_title_makes_up_no_type():
    custom = ('<ofd:CustomData Name="发票号码">24312000000136634917</ofd:CustomData>'
              '<ofd:CustomData Name="开票日期">2024年05月14日</ofd:CustomData>'
              '<ofd:CustomData Name="价税合计">1130.00</ofd:CustomData>')
    with pytest.raises(NoCodeFound):
        decode_ofd(ofd_bytes({}, custom=custom))


def test_ofd_qr_picture_among_resources():
    data = ofd_bytes({"Doc_0/Res/image_80.png": encode(qr_image(DIGITAL, scale=4), "PNG")})
    assert decode_ofd(data) == [DIGITAL]


def test_ofd_without_anything_to_read():
    with pytest.raises(NoCodeFound) as caught:
        decode_ofd(ofd_bytes({}))
    assert caught.value.reason == "no_code"


XXE = '<!DOCTYPE eInvoice [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
LAUGHS = ('<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
          '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>')


@pytest.mark.parametrize(
    "doctype, number", [(XXE, "&xxe;"), (LAUGHS, "&lol3;"), ("<!DOCTYPE eInvoice>", "12345678")]
)
def test_ofd_xml_with_dtd_or_entities_is_refused(doctype, number):
    data = ofd_bytes({"Doc_0/Attachs/original_invoice.xml": einvoice_xml(doctype=doctype, number=number)})
    with pytest.raises(UnsafeFile) as caught:
        decode_ofd(data)
    assert caught.value.reason == "unsafe_xml"


def test_ofd_root_with_external_entity_is_refused():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        doctype = XXE.replace("eInvoice", "OFD")
        archive.writestr("OFD.xml", f'<?xml version="1.0"?>{doctype}<OFD>&xxe;</OFD>')
    with pytest.raises(UnsafeFile):
        decode_ofd(buffer.getvalue())


@pytest.mark.parametrize("size", [2 * 1024 * 1024, 20 * 1024 * 1024])
def test_ofd_zip_bomb_is_refused(size):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("OFD.xml", OFD_XML.format(custom=""))
        archive.writestr("Doc_0/Res/bomb.png", b"\0" * size)
    data = buffer.getvalue()
    assert len(data) < size // 100
    with pytest.raises(UnsafeFile) as caught:
        decode_ofd(data)
    assert caught.value.reason == "unsafe_archive"


def test_ofd_with_too_many_members_is_refused():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("OFD.xml", OFD_XML.format(custom=""))
        for index in range(1001):
            archive.writestr(f"Doc_0/Res/{index}.xml", "")
    with pytest.raises(UnsafeFile) as caught:
        decode_ofd(buffer.getvalue())
    assert caught.value.reason == "unsafe_archive"


def test_corrupt_ofd():
    data = ofd_bytes({"Doc_0/Attachs/original_invoice.xml": einvoice_xml(graph_code=LEGACY)})
    truncated = data[: len(data) // 2]
    assert sniff_file_type(truncated) == "ofd"
    with pytest.raises(CorruptFile) as caught:
        decode_file(truncated)
    assert caught.value.reason == "corrupt_ofd"


def test_ofd_with_broken_root_xml():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("OFD.xml", "<ofd:OFD")
    with pytest.raises(CorruptFile) as caught:
        decode_ofd(buffer.getvalue())
    assert caught.value.reason == "corrupt_ofd"


# --- one entry for every upload -----------------------------------------------------------------


def test_decode_file_dispatches_on_content():
    image = page_image(LEGACY)
    ofd = ofd_bytes({"Doc_0/Attachs/original_invoice.xml": einvoice_xml(graph_code=LEGACY)})
    assert decode_file(pdf_bytes(image)) == [LEGACY]
    assert decode_file(ofd) == [LEGACY]
    assert decode_file(encode(image, "PNG")) == [LEGACY]
    assert decode_file(encode(image, "JPEG", quality=90)) == [LEGACY]


def test_sniff_file_type():
    image = page_image(None, module_px=3)
    plain_zip = io.BytesIO()
    with zipfile.ZipFile(plain_zip, "w") as archive:
        archive.writestr("word/document.xml", "<w/>")
    assert sniff_file_type(pdf_bytes(image)) == "pdf"
    assert sniff_file_type(b"junk before the header %PDF-1.4\n") == "pdf"
    assert sniff_file_type(ofd_bytes({})) == "ofd"
    assert sniff_file_type(plain_zip.getvalue()) is None
    for fmt, kind in (("JPEG", "jpeg"), ("PNG", "png"), ("WEBP", "webp"), ("BMP", "bmp")):
        assert sniff_file_type(encode(image, fmt)) == kind
    assert sniff_file_type(b"hello") is None
    assert sniff_file_type(b"") is None


@pytest.mark.parametrize("data, reason", [(b"", "empty_file"), (b"hello", "unsupported_type"),
                                          (b"GIF89a....", "unsupported_type")])
def test_decode_file_refuses_other_content(data, reason):
    with pytest.raises(UnsupportedFileType) as caught:
        decode_file(data)
    assert caught.value.reason == reason
