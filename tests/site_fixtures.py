"""A site with something in every area, made the way people make it, for tests that walk every
route: the inline-code crawl and the authorization matrix.

One owner verified an invoice, holds an API token and ran a batch; a visitor sent feedback;
staff imported a registry file. Clients for each kind of person are signed in (CSRF off:
these tests are about who may do what, not about tokens).
"""

from __future__ import annotations

import io
import json
import re
import time
from dataclasses import dataclass, field

import pytest
from flask import Flask
from flask.testing import FlaskClient

from factories import invoice_record
from sessions import sign_in
from yanpiao.accounts import Role

EN = {"Accept-Language": "en"}


@dataclass
class Site:
    app: Flask
    clients: dict[str, FlaskClient]
    user_ids: dict[str, int]
    receipt_id: str = ""
    api_token: str = ""
    token_id: int = 0
    batch_job_id: str = ""
    feedback_status_path: str = ""
    ticket_number: str = ""
    invoice_id: int = 0
    import_job_id: int = 0
    reset_path: str = ""
    share_query: str = ""
    extra: dict = field(default_factory=dict)

    def client(self, who: str) -> FlaskClient:
        return self.clients[who]

    def fresh_client(self, who: str) -> FlaskClient:
        """A new client signed in as the same person (for tests that change its state)."""
        return _new_client(self.app, None if who == "anonymous" else self.user_ids[who])


def _new_client(app, user_id: int | None) -> FlaskClient:
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    if user_id is not None:
        sign_in(app, client, user_id)
    return client


def _wait_for_background_jobs(app) -> None:
    from blueprints.registry_admin import wait_for_imports

    wait_for_imports(app, timeout=30)
    deadline = time.monotonic() + 30
    with app.app_context():
        from blueprints.ext import db
        from yanpiao.batch import BatchJob

        while time.monotonic() < deadline:
            db.session.expire_all()
            if all(job.is_finished for job in db.session.query(BatchJob)):
                return
            time.sleep(0.1)


@pytest.fixture
def site(app, make_user, make_invoice) -> Site:
    app.config["WTF_CSRF_ENABLED"] = False
    record = make_invoice()
    ids = {
        "owner": make_user(email="owner@example.com"),
        "other": make_user(email="other@example.com"),
        "staff": make_user(email="staff@example.com", role=Role.STAFF),
        "admin": make_user(email="admin@example.com", role=Role.ADMIN),
    }
    clients = {"anonymous": _new_client(app, None)}
    clients.update({who: _new_client(app, user_id) for who, user_id in ids.items()})
    site = Site(app=app, clients=clients, user_ids=ids)
    owner = clients["owner"]

    verified = owner.post("/verify", data={
        "invoice_code": record["invoice_code"], "invoice_number": record["invoice_number"],
        "issue_date": record["issue_date"], "check_code": record["check_code"][-6:],
    })
    site.receipt_id = verified.headers["Location"].rsplit("/", 1)[-1]

    owner.post("/account/tokens", data={"name": "nightly"})
    page = owner.get("/account/tokens").get_data(as_text=True)
    site.api_token = re.search(r'value="(yp_[^"]+)"', page).group(1)
    site.token_id = int(re.search(r'/account/tokens/(\d+)/revoke', page).group(1))

    rows = "发票代码,发票号码,开票日期,金额,校验码\n" + ",".join(
        [record["invoice_code"], record["invoice_number"], record["issue_date"], "",
         record["check_code"]]) + "\n"
    uploaded = owner.post("/batch", data={"file": (io.BytesIO(rows.encode()), "list.csv")},
                          content_type="multipart/form-data")
    site.batch_job_id = uploaded.headers["Location"].rsplit("/", 1)[-1]

    visitor = clients["anonymous"]
    form = visitor.get("/feedback").get_data(as_text=True)
    key = re.search(r'name="submission" value="([^"]+)"', form).group(1)
    sent = visitor.post("/feedback", data={"category": "wrong_result", "submission": key,
                                           "message": "The result looks wrong to me."})
    site.feedback_status_path = sent.headers["Location"].replace("http://localhost", "")

    staff = clients["staff"]
    line = invoice_record(invoice_number="87654321")
    staff.post("/staff/registry/imports", data={
        "file": (io.BytesIO((json.dumps(line, ensure_ascii=False) + "\n").encode()), "a.jsonl")},
        content_type="multipart/form-data")
    _wait_for_background_jobs(app)

    with app.app_context():
        from blueprints.ext import db
        from blueprints.receipts import signer
        from yanpiao import credentials
        from yanpiao.accounts import User
        from yanpiao.feedback import Ticket
        from yanpiao.models import Invoice
        from yanpiao.upkeep import ImportJob

        site.ticket_number = db.session.query(Ticket).one().number
        site.invoice_id = db.session.query(Invoice).order_by(Invoice.id).first().id
        site.import_job_id = db.session.query(ImportJob).one().id
        token = credentials.reset_token(app.config["SECRET_KEY"],
                                        db.session.get(User, ids["other"]))
        site.reset_path = f"/password/reset/{token}"
        site.share_query = f"k={signer().link_token(site.receipt_id)}"
    return site
