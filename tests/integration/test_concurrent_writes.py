"""Many requests writing at once into one database file lose no row: feedback tickets,
verification history and batch jobs, each from its own thread, as gunicorn's threads do."""

from __future__ import annotations

import io
import re
import threading
import time

from sqlalchemy import func, select

from yanpiao.accounts import Role
from yanpiao.types import EntryPath

THREADS = 8
EACH = 4


def _count(app, model, *where) -> int:
    with app.app_context():
        from blueprints.ext import db

        return db.session.scalar(select(func.count()).select_from(model).where(*where))


def test_concurrent_feedback_history_and_batch_writes_lose_nothing(app, make_invoice, make_user,
                                                                    login):
    from yanpiao.batch import BatchJob, BatchRow
    from yanpiao.feedback import Ticket
    from yanpiao.models import VerificationRecord

    app.config["WTF_CSRF_ENABLED"] = False
    app.config["YANPIAO_DAILY_LIMIT"] = 10_000
    record = make_invoice()
    fields = {"invoice_code": record["invoice_code"], "invoice_number": record["invoice_number"],
              "issue_date": record["issue_date"], "check_code": record["check_code"][-6:]}
    csv = ("发票代码,发票号码,开票日期,金额,校验码\n" + ",".join(
        [record["invoice_code"], record["invoice_number"], record["issue_date"], "",
         record["check_code"]]) + "\n").encode()
    users = [make_user(email=f"u{n}@example.com", role=Role.USER) for n in range(THREADS)]
    failures: list[str] = []
    start = threading.Barrier(THREADS)

    def work(user_id: int) -> None:
        client = login(app.test_client(), user_id)
        key_page = client.get("/feedback").get_data(as_text=True)
        start.wait()
        for n in range(EACH):
            key = re.search(r'name="submission" value="([^"]+)"', key_page).group(1)
            sent = client.post("/feedback", data={"category": "other", "submission": key,
                                                  "message": f"Report {user_id}/{n}"})
            key_page = client.get("/feedback").get_data(as_text=True)
            checked = client.post("/verify", data=fields)
            batch = client.post("/batch", data={"file": (io.BytesIO(csv), "list.csv")},
                                content_type="multipart/form-data")
            for what, response in (("feedback", sent), ("verify", checked), ("batch", batch)):
                if response.status_code != 303:
                    failures.append(f"{what} by {user_id}: {response.status_code}")

    threads = [threading.Thread(target=work, args=(user_id,)) for user_id in users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not failures, failures

    total = THREADS * EACH
    # Every batch job finishes with its one row, written by the background workers.
    deadline = time.monotonic() + 120
    while _count(app, BatchJob, BatchJob.finished_at.is_not(None)) < total:
        assert time.monotonic() < deadline, "batch jobs did not finish"
        time.sleep(0.2)
    assert _count(app, Ticket) == total
    assert _count(app, BatchJob) == total
    assert _count(app, BatchRow) == total
    typed = VerificationRecord.entry_path == EntryPath.TYPED.value
    assert _count(app, VerificationRecord, typed) == total
    assert _count(app, VerificationRecord, VerificationRecord.entry_path == EntryPath.BATCH.value
                  ) == total
    # Ticket numbers were handed out once each.
    with app.app_context():
        from blueprints.ext import db

        numbers = db.session.scalars(select(Ticket.number)).all()
    assert len(set(numbers)) == total


def test_simultaneous_checks_of_one_invoice_keep_the_limit_and_number_every_check(app,
                                                                                 make_invoice):
    """Twelve visitors check one invoice at the same moment with a daily limit of five: exactly
    five are answered, each with its own check number 1–5, and the rest are refused."""
    app.config["YANPIAO_DAILY_LIMIT"] = 5
    record = make_invoice()
    body = {"invoice_code": record["invoice_code"], "invoice_number": record["invoice_number"],
            "issue_date": record["issue_date"], "check_code": record["check_code"][-6:]}
    visitors = 12
    start = threading.Barrier(visitors)
    answers: list[tuple[int, dict]] = []

    def check() -> None:
        client = app.test_client()
        start.wait()
        response = client.post("/api/v1/verify", json=body)
        answers.append((response.status_code, response.get_json()))

    threads = [threading.Thread(target=check) for _ in range(visitors)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    matched = sorted(body["verification_count"] for status, body in answers if status == 200)
    refused = [body["outcome"] for status, body in answers if status == 429]
    assert matched == [1, 2, 3, 4, 5]
    assert refused == ["limit_exceeded"] * (visitors - 5)
