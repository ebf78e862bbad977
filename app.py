"""Yanpiao (验票): verify Chinese invoices against the invoice registry.

``gunicorn 'app:create_app()'`` serves it; ``flask --app app`` holds the maintenance commands.
"""

from __future__ import annotations

from pathlib import Path

from flask import Flask


def create_app(config: dict | None = None) -> Flask:
    from blueprints import access, assets, cli, errors, i18n, navigation, security, settings, templating
    from blueprints import display
    from blueprints import auth, history, receipts
    from blueprints.api import bp as api_bp
    from blueprints import batch, stats, tokens, users_cli
    from blueprints import faq, feedback, staff
    from blueprints import developers, registry_admin
    from blueprints import kiosk
    from blueprints import backup_cli, outbox, request_ids, schema
    from blueprints.ext import babel, compress, csrf, db, htmx, limiter
    from blueprints.health import bp as health_bp
    from blueprints.samples import bp as samples_bp
    from blueprints.verify import bp as verify_bp

    root = Path(__file__).resolve().parent
    app = Flask(__name__, static_folder=None, instance_path=str(root / "instance"))
    app.config.from_mapping(settings.from_environment(Path(app.instance_path)))
    if config:
        app.config.from_mapping(config)

    db.init_app(app)
    outbox.init_app(app)
    htmx.init_app(app)
    csrf.init_app(app)
    compress.init_app(app)
    limiter.init_app(app)
    babel.init_app(
        app,
        locale_selector=i18n.select_locale,
        default_translation_directories=str(root / "translations"),
    )
    i18n.init_app(app)
    display.init_app(app)
    access.init_app(app)
    navigation.init_app(app)
    security.init_app(app)
    templating.init_app(app)
    errors.init_app(app)
    assets.init_app(app)
    request_ids.init_app(app)
    schema.init_app(app)

    app.register_blueprint(verify_bp)
    app.register_blueprint(samples_bp)
    app.register_blueprint(health_bp)
    app.register_blueprint(i18n.bp)
    app.register_blueprint(display.bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(history.bp)
    app.register_blueprint(receipts.bp)
    app.register_blueprint(batch.bp)
    app.register_blueprint(tokens.bp)
    app.register_blueprint(stats.bp)
    app.register_blueprint(faq.bp)
    app.register_blueprint(feedback.bp)
    app.register_blueprint(staff.bp)
    app.register_blueprint(registry_admin.bp)
    app.register_blueprint(developers.bp)
    app.register_blueprint(kiosk.bp)
    app.register_blueprint(api_bp)
    csrf.exempt(api_bp)
    cli.init_app(app)
    users_cli.init_app(app)
    backup_cli.init_app(app)
    return app
