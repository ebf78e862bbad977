"""The maintenance commands: schema, seeding and the JSON Lines import (DESIGN 3.3)."""

import json

from sqlalchemy import func, select

from factories import invoice_record
from yanpiao.models import Invoice, InvoiceItem


def count(app, model=Invoice):
    with app.app_context():
        from blueprints.ext import db

        return db.session.scalar(select(func.count()).select_from(model))


def write_lines(path, lines):
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_db_upgrade_is_repeatable(runner):
    result = runner.invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output


def test_seed_every_type_and_status(app, runner):
    result = runner.invoke(args=["registry", "seed", "--count", "60"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        from blueprints.ext import db

        types = set(db.session.scalars(select(Invoice.type_code)))
        statuses = set(db.session.scalars(select(Invoice.status)))
    assert types == {"01", "03", "04", "10", "11", "14", "15", "20", "31", "32"}
    assert statuses == {"normal", "void", "red_reversed", "out_of_control", "abnormal"}
    again = runner.invoke(args=["registry", "seed", "--count", "60", "--if-empty"])
    assert "nothing seeded" in again.output
    assert count(app) == 60


def test_seed_refuses_a_count_it_cannot_make(app, runner):
    """A negative count ended in a traceback; a count of billions filled the memory."""
    for wrong in ("-1", "2000001", "many"):
        result = runner.invoke(args=["registry", "seed", "--count", wrong])
        assert result.exit_code == 2 and "Invalid value for '--count'" in result.output, wrong
        assert result.exception is None or isinstance(result.exception, SystemExit)
    assert count(app) == 0


def test_commands_on_a_database_without_tables_say_what_to_do(tmp_path):
    """A new database file (or a mistyped DATABASE_URL) answered with SQLAlchemy's traceback."""
    from app import create_app

    bare = create_app({"TESTING": True, "SECRET_KEY": "x",
                       "DATABASE_URL": f"sqlite:///{tmp_path / 'new.db'}"})
    lines = write_lines(tmp_path / "r.jsonl", [json.dumps(invoice_record())])
    for args in (["registry", "import", str(lines)], ["registry", "seed", "--count", "5"],
                 ["users", "token", "finance@example.com"]):
        result = bare.test_cli_runner().invoke(args=args)
        assert result.exit_code == 1, args
        assert "no Yanpiao tables yet: run `flask --app app db upgrade` first" in result.output
    bare.extensions["database"].engine.dispose()


def test_import_of_an_empty_file_is_refused_as_the_staff_page_refuses_it(runner, tmp_path):
    """The command said "Imported: 0 added" and exited 0 where the page says the file is
    empty: a script importing a file that failed to download went on as if all was well."""
    for content in ("", "\n  \n"):
        empty = tmp_path / "empty.jsonl"
        empty.write_text(content)
        result = runner.invoke(args=["registry", "import", str(empty)])
        assert result.exit_code == 1 and "the file is empty" in result.output


def test_import_reports_bad_lines_by_number_and_stores_the_good(app, runner, tmp_path):
    good = invoice_record()
    digital = invoice_record(type="32", invoice_code="", invoice_number="26112000000000000002",
                             check_code="")
    lines = [
        json.dumps(good, ensure_ascii=False),
        "{not json",
        json.dumps(invoice_record(type="99", invoice_number="11111111")),
        "",
        json.dumps(invoice_record(invoice_number="22222222", amount="ten")),
        json.dumps(invoice_record(invoice_code="1100245130", invoice_number="33333333")),
        json.dumps(digital, ensure_ascii=False),
        json.dumps(invoice_record(invoice_number="44444444", issue_date="25/10/2024")),
        json.dumps(invoice_record(invoice_number="55555555", status="lost")),
        json.dumps([1, 2]),
        json.dumps(invoice_record(invoice_number="66666666", total="99999999999999999999.99")),
    ]
    result = runner.invoke(args=["registry", "import", str(write_lines(tmp_path / "r.jsonl", lines))])
    assert result.exit_code == 1
    output = result.output
    assert "line 2: not valid JSON" in output
    assert "line 3: unknown invoice type '99'" in output
    assert "line 5: 'amount' is not an amount" in output
    assert "line 6: invoice code 1100245130 is of type 01, not 04" in output
    assert "line 8: 'issue_date' must be YYYY-MM-DD" in output
    assert "line 9: unknown status 'lost'" in output
    assert "line 10: a line must be a JSON object" in output
    assert "line 11: 'total' is larger than any invoice amount" in output
    assert "2 added, 0 updated, 8 refused" in output
    assert count(app) == 2
    assert count(app, InvoiceItem) == 2


def test_import_is_idempotent_on_code_and_number(app, runner, tmp_path):
    path = write_lines(tmp_path / "a.jsonl", [json.dumps(invoice_record())])
    runner.invoke(args=["registry", "import", str(path)])
    changed = invoice_record(status="void", items=[])
    path = write_lines(tmp_path / "b.jsonl", [json.dumps(changed)])
    result = runner.invoke(args=["registry", "import", str(path)])
    assert result.exit_code == 0
    assert "0 added, 1 updated, 0 refused" in result.output
    assert count(app) == 1
    assert count(app, InvoiceItem) == 0
    with app.app_context():
        from blueprints.ext import db

        assert db.session.scalar(select(Invoice.status)) == "void"


def test_importing_a_demo_invoice_again_keeps_it_a_demo_invoice(app, runner, tmp_path):
    """A corrected demo invoice dropped off the samples page: the import cleared its flag."""
    from yanpiao import registry

    runner.invoke(args=["registry", "seed", "--count", "10"])
    with app.app_context():
        from blueprints.ext import db

        invoice = db.session.scalars(select(Invoice).where(Invoice.status == "normal")).first()
        record = dict(registry.snapshot(invoice).to_dict(), status="void")
        key = (invoice.invoice_code, invoice.invoice_number)
    path = write_lines(tmp_path / "fix.jsonl", [json.dumps(record, ensure_ascii=False)])
    result = runner.invoke(args=["registry", "import", str(path)])
    assert "0 added, 1 updated, 0 refused" in result.output
    with app.app_context():
        from blueprints.ext import db

        stored = db.session.scalars(select(Invoice).where(
            Invoice.invoice_code == key[0], Invoice.invoice_number == key[1])).one()
        assert (stored.status, stored.is_demo) == ("void", True)
    path = write_lines(tmp_path / "new.jsonl", [json.dumps(invoice_record(invoice_number="77777777"))])
    runner.invoke(args=["registry", "import", str(path)])
    with app.app_context():
        from blueprints.ext import db

        assert db.session.scalar(select(Invoice.is_demo).where(
            Invoice.invoice_number == "77777777")) is False


def test_import_reads_a_bom_and_standard_input(app, runner):
    text = "\ufeff" + json.dumps(invoice_record(), ensure_ascii=False) + "\n"
    result = runner.invoke(args=["registry", "import", "-"], input=text.encode("utf-8"))
    assert result.exit_code == 0, result.output
    assert count(app) == 1


def test_mail_commands_show_and_send_the_outbox(app, runner, mailbox):
    """Without a running server, `flask mail send` sends what is queued; `status` counts it."""
    from yanpiao.mail import queue_mail

    with app.app_context():
        from blueprints.ext import db

        queue_mail(db.session, "me@example.com", "Your Yanpiao report", "The link: …")
        db.session.info.clear()  # queued as another process would: no sender here is woken
        db.session.commit()
    status = runner.invoke(args=["mail", "status"])
    assert status.exit_code == 0 and "queued: 1\n" in status.output and "sent: 0\n" in status.output
    sent = runner.invoke(args=["mail", "send"])
    assert sent.exit_code == 0 and "queued: 0\n" in sent.output and "sent: 1\n" in sent.output
    [(to, subject, body)] = mailbox.messages()
    assert (to, subject, body.strip()) == ("me@example.com", "Your Yanpiao report", "The link: …")
