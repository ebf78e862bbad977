"""Test data shared by every suite."""

from __future__ import annotations

from datetime import date, timedelta

TODAY = date.today()


def invoice_record(**overrides) -> dict:
    """An import-format record of a normal ordinary invoice issued ten days ago."""
    record = {
        "type": "04",
        "invoice_code": "011002400104",
        "invoice_number": "12345678",
        "issue_date": (TODAY - timedelta(days=10)).isoformat(),
        "check_code": "48114255542168294433",
        "amount": "1000.00",
        "tax": "130.00",
        "total": "1130.00",
        "status": "normal",
        "seller": {"name": "北京星河科技有限公司", "tax_id": "91110108MA01ABCD2X",
                   "address_phone": "北京市海淀区中关村大街1号 010-62345678",
                   "bank_account": "中国工商银行北京中关村支行 0200001234567890123"},
        "buyer": {"name": "北京云图商贸有限公司", "tax_id": "91110105MA02EFGH3Y",
                  "address_phone": "", "bank_account": ""},
        "items": [{"name": "*办公用品*打印纸", "spec": "A4 70g", "unit": "箱", "quantity": "10",
                   "unit_price": "100.00", "amount": "1000.00", "tax_rate": "0.13",
                   "tax": "130.00"}],
        "remarks": "",
        "drawer": "张敏",
    }
    record.update(overrides)
    return record


# The browser verify-flow tests' own invoice: no other test checks it, so its check number
# is known when they run.
FLOW_RECORD = invoice_record(invoice_number="40000001")
