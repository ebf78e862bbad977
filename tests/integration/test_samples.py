"""The demo page: every type and status, with the fields to type and a QR code each."""

from yanpiao.qr import parse_qr_payload


def test_samples_list_every_type_and_status_with_qr_codes(app, client, runner):
    runner.invoke(args=["registry", "seed", "--count", "40"])
    page = client.get("/samples", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert page.count("<svg") >= 14  # ten types plus four other statuses
    for status in ("Voided", "Red-reversed", "Out of control", "Abnormal"):
        assert status in page
    assert "Fully digital invoice (special)" in page


def test_sample_qr_payloads_parse_and_verify(app, client, runner):
    from yanpiao.samples import demo_samples

    runner.invoke(args=["registry", "seed", "--count", "20"])
    with app.app_context():
        from blueprints.ext import db

        samples = demo_samples(db.session)
    assert len(samples) == 14
    for sample in samples:
        response = client.post("/api/v1/verify", json={"qr": sample.qr_payload})
        assert response.get_json()["outcome"] == "match", sample.qr_payload
        assert response.get_json()["status"] == sample.invoice.status.value
        assert parse_qr_payload(sample.qr_payload).invoice_number == sample.invoice.invoice_number


def test_samples_hidden_when_demo_is_off(app, client):
    app.config["YANPIAO_DEMO"] = False
    assert client.get("/samples").status_code == 404
    assert "/samples" not in client.get("/verify").get_data(as_text=True)


def test_footer_links_to_samples(client):
    assert 'href="/samples"' in client.get("/verify").get_data(as_text=True)
