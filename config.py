"""ABParts Admin configuration, read from environment variables.

Every business limit of the seed (``001_64276ea4300ed011.txt``, "Scale
Requirements") is a setting here.  A limit set to ``None`` (environment value
``none``) lifts the cap.
"""
from __future__ import annotations

import os
import secrets
from pathlib import Path

from flask_appbuilder.const import AUTH_DB

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = Path(os.environ.get("ABPARTS_INSTANCE_DIR", BASE_DIR / "instance"))


def _limit(name: str, default: int | None) -> int | None:
    """Read a cap from the environment: a whole number, or ``none`` to lift it."""
    raw = os.environ.get(name)
    if raw is None:
        return default
    if raw.strip().lower() in ("", "none", "off", "unlimited"):
        return None
    return int(raw)


def _flag(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return raw.strip().lower() in ("1", "true", "yes", "on")


def database_url(raw: str | None = None) -> str:
    """Normalise a database URL: ``postgres://`` and ``postgresql://`` use psycopg 3.

    :param raw: the URL, or ``None`` for the default SQLite file in the instance folder.
    :returns: a SQLAlchemy URL string.
    """
    if not raw:
        return f"sqlite:///{INSTANCE_DIR / 'abparts.db'}"
    if raw.startswith("postgres://"):
        raw = "postgresql://" + raw[len("postgres://"):]
    if raw.startswith("postgresql://"):
        raw = "postgresql+psycopg://" + raw[len("postgresql://"):]
    return raw


def development_secret_key() -> str:
    """Return the development secret key kept in the instance folder, creating it once."""
    INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
    path = INSTANCE_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


class Config:
    """Development defaults: embedded SQLite, a secret key kept in ``instance/``."""

    ENV_NAME = "development"
    APP_NAME = "ABParts Admin"
    SQLALCHEMY_DATABASE_URI = database_url(os.environ.get("DATABASE_URL"))
    SQLALCHEMY_TRACK_MODIFICATIONS = False
    SECRET_KEY = os.environ.get("SECRET_KEY")

    # Flask-AppBuilder: the migrations own the schema; roles are data (app/security/roles.py).
    FAB_CREATE_DB = False
    FAB_UPDATE_PERMS = False
    FAB_SECURITY_MANAGER_CLASS = "app.security.manager.ABPartsSecurityManager"
    FAB_API_SWAGGER_UI = True
    FAB_API_MAX_PAGE_SIZE = 100
    AUTH_TYPE = AUTH_DB
    AUTH_ROLE_ADMIN = "Super Admin"
    AUTH_ROLE_PUBLIC = "Public"
    AUTH_USER_REGISTRATION = False
    FAB_ADD_SECURITY_API = False
    # FAB's page frame plus the portal's scripts (relation choices on demand).
    FAB_BASE_TEMPLATE = "abparts/base.html"
    BABEL_DEFAULT_LOCALE = "en"
    # FAB resolves this relative to the app package: point it at the top-level folder.
    BABEL_TRANSLATION_DIRECTORIES = str(BASE_DIR / "translations")
    LANGUAGES = {"en": {"flag": "gb", "name": "English"}}
    WTF_CSRF_ENABLED = True
    # Forms check their own token; app/security/csrf.py checks the form-less POSTs.
    WTF_CSRF_CHECK_DEFAULT = False
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")

    # Business limits (seed 001, "Scale Requirements"); None lifts a cap.
    LIMIT_CUSTOMER_ORGANIZATIONS = _limit("LIMIT_CUSTOMER_ORGANIZATIONS", 100)
    LIMIT_USERS = _limit("LIMIT_USERS", 200)
    LIMIT_PARTS = _limit("LIMIT_PARTS", 200)
    LIMIT_MACHINES = _limit("LIMIT_MACHINES", 150)
    LIMIT_WAREHOUSES = _limit("LIMIT_WAREHOUSES", 150)
    LIMIT_TRANSACTIONS_PER_YEAR = _limit("LIMIT_TRANSACTIONS_PER_YEAR", 7500)
    # Seed 001 "inventory": negative inventory allowed with warnings (configurable).
    ALLOW_NEGATIVE_STOCK = _flag("ALLOW_NEGATIVE_STOCK", False)
    # Stocktake (issue 9): a line whose |variance| exceeds this percent of its book quantity, or this
    # value (price currency), needs an admin's approval; an organization may set its own. None: no such limit.
    STOCKTAKE_THRESHOLD_PERCENT = _limit("STOCKTAKE_THRESHOLD_PERCENT", 5)
    STOCKTAKE_THRESHOLD_VALUE = _limit("STOCKTAKE_THRESHOLD_VALUE", 100)
    # SQLite only: how long a writer waits for the write lock, in seconds.
    SQLITE_BUSY_TIMEOUT = float(os.environ.get("SQLITE_BUSY_TIMEOUT", "30"))
    # Lists count matching rows exactly up to this many; above it (PostgreSQL) they show the
    # planner's "about N" (app/views/counting.py).  None: always exact.
    LIST_EXACT_COUNT_LIMIT = _limit("LIST_EXACT_COUNT_LIMIT", 10_000)
    # Responses are compressed (Flask-Compress); CSV exports too.
    COMPRESS_MIMETYPES = ["text/html", "text/css", "text/javascript", "application/javascript",
                          "application/json", "text/csv", "image/svg+xml"]
    # Browsers keep static files (FAB's and ours) this many seconds before asking again.
    SEND_FILE_MAX_AGE_DEFAULT = int(os.environ.get("SEND_FILE_MAX_AGE_DEFAULT", "43200"))

    @classmethod
    def prepare(cls, config: dict) -> None:
        """Fill in what depends on the environment at start-up (the secret key)."""
        if not config.get("SECRET_KEY"):
            config["SECRET_KEY"] = development_secret_key()


class ProductionConfig(Config):
    """Production: PostgreSQL via ``DATABASE_URL``; refuses to start without ``SECRET_KEY``."""

    ENV_NAME = "production"
    SESSION_COOKIE_SECURE = _flag("SESSION_COOKIE_SECURE", True)
    SESSION_COOKIE_HTTPONLY = True

    @classmethod
    def prepare(cls, config: dict) -> None:
        if not config.get("SECRET_KEY"):
            raise RuntimeError("SECRET_KEY must be set in production (ABPARTS_ENV=production).")
        if not os.environ.get("DATABASE_URL"):
            raise RuntimeError("DATABASE_URL must be set in production (ABPARTS_ENV=production).")


class TestConfig(Config):
    """Tests: the database comes from ``TEST_DATABASE_URL`` (SQLite file by default)."""

    ENV_NAME = "testing"
    TESTING = True
    SECRET_KEY = "test-secret-key-that-is-long-enough-for-hs256"
    SQLALCHEMY_DATABASE_URI = database_url(os.environ.get("TEST_DATABASE_URL") or "sqlite://")


def config_from_env() -> type[Config]:
    """Pick the configuration class named by ``ABPARTS_ENV`` (development by default)."""
    name = os.environ.get("ABPARTS_ENV", "development").lower()
    return {"production": ProductionConfig, "testing": TestConfig}.get(name, Config)
