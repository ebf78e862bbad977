"""Yanpiao (验票): verify Chinese invoices against the invoice registry.

``gunicorn 'app:create_app()'`` serves it; ``flask --app app`` holds the maintenance commands.
"""

from __future__ import annotations

from pathlib import Path

from flask import Flask


def create_app(config: dict | None = None) -> Flask:
    from blueprints import access, assets, cli, errors, i18n, navigation, security, settings, templating
    from blueprints.api import bp as api_bp
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
    access.init_app(app)
    navigation.init_app(app)
    security.init_app(app)
    templating.init_app(app)
    errors.init_app(app)
    assets.init_app(app)

    app.register_blueprint(verify_bp)
    app.register_blueprint(samples_bp)
    app.register_blueprint(health_bp)
    app.register_blueprint(i18n.bp)
    app.register_blueprint(api_bp)
    csrf.exempt(api_bp)
    cli.init_app(app)
    return app
