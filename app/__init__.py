"""ABParts Admin: the application factory."""
from __future__ import annotations

import decimal
from pathlib import Path

from flask import Flask
from flask.json.provider import DefaultJSONProvider

from config import Config, config_from_env

from .extensions import appbuilder, compress, db, migrate

MIGRATIONS_DIR = str(Path(__file__).resolve().parent.parent / "migrations")


class DecimalJSONProvider(DefaultJSONProvider):
    """JSON numbers with a fraction are read as Decimal: quantities never pass through float."""

    def loads(self, s, **kwargs):
        kwargs.setdefault("parse_float", decimal.Decimal)
        return super().loads(s, **kwargs)


def create_app(config_class: type[Config] | None = None) -> Flask:
    """Build the portal: bind extensions, register screens, APIs and commands.

    :param config_class: a :class:`config.Config` subclass; by default the one
        named by ``ABPARTS_ENV``.
    :raises RuntimeError: in production without ``SECRET_KEY`` or ``DATABASE_URL``.
    """
    config_class = config_class or config_from_env()
    app = Flask(__name__, instance_path=str(Path(__file__).resolve().parent.parent / "instance"))
    app.json_provider_class = DecimalJSONProvider
    app.json = DecimalJSONProvider(app)
    app.config.from_object(config_class)
    config_class.prepare(app.config)

    from . import models, rules  # noqa: F401  (mappers and the rule hooks)
    from .security.roles import fab_roles

    app.config.setdefault("FAB_ROLES", fab_roles())
    db.init_app(app)
    compress.init_app(app)
    migrate.init_app(app, db, directory=MIGRATIONS_DIR, render_as_batch=True, compare_type=True)
    with app.app_context():
        from .database import configure_engine, init_query_count_header, init_read_bind, init_session_teardown

        configure_engine(db.engine, app.config)
        for engine in db.engines.values():  # the read replica's: row-level security on PostgreSQL
            if engine.dialect.name == "postgresql":
                configure_engine(engine, app.config)
        init_session_teardown(app, db)
        init_read_bind(app, db)
        init_query_count_header(app, db)
        # FAB's AppBuilder remembers the views of the last app it served; a new
        # app (tests build one per database engine) starts it afresh.
        appbuilder.__init__()
        from .security.csrf import init_csrf

        # Before FAB builds its blueprints, so that it exempts the REST API's.
        init_csrf(app)
        from .security.headers import init_headers
        from .security.mail import init_mail

        init_headers(app)
        init_mail(app)
        from .i18n import init_i18n

        init_i18n(app, before_appbuilder=True)
        appbuilder.init_app(app, db.session)
        init_i18n(app)
        from .apis.domains import register_apis
        from .views import register_views
        from .views.pages import register_pages

        register_views(appbuilder)
        register_pages(app)
        register_apis(appbuilder)

    from .commands import abparts

    app.cli.add_command(abparts)
    return app
