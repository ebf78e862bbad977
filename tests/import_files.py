"""Registry import files (DESIGN 3.3 JSON Lines, and CSV) built from import records."""

from __future__ import annotations

import csv
import io
import json

from yanpiao import registry


def as_jsonl(*records, extra_lines=(), at: int = 1) -> bytes:
    """One record per line; ``extra_lines`` (raw text) are put in at line index ``at``."""
    lines = [json.dumps(record, ensure_ascii=False) for record in records]
    lines[at:at] = list(extra_lines)
    return ("\n".join(lines) + "\n").encode()


def as_csv(*records, columns=registry.CSV_COLUMNS) -> str:
    """The same invoices in the CSV format: a header, then one row per line item."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns)
    for record in records:
        base = {name: record.get(name, "") for name in registry.CSV_RECORD_COLUMNS}
        for role in ("seller", "buyer"):
            base.update({f"{role}_{k}": v for k, v in record[role].items()})
        for item in record["items"] or [{}]:
            row = dict(base, **{f"item_{k}": v for k, v in item.items()})
            writer.writerow([row.get(name, "") for name in columns])
    return out.getvalue()
