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


#: The read replica's bind key in ``SQLALCHEMY_BINDS``.
READ_BIND = "replica"


def read_binds(raw: str | None) -> dict:
    """``SQLALCHEMY_BINDS`` for the read replica named by ``DATABASE_READ_URL`` (issue 15).

    :param raw: the replica's URL, or ``None``/empty: no bind, every read goes to the primary.
    :returns: ``{}``, or ``{"replica": {"url": ..., "execution_options": ...}}`` (Flask-SQLAlchemy
        passes the dict to ``create_engine``); on PostgreSQL every transaction of the bind is
        ``READ ONLY`` (``postgresql_readonly``), so a write sent there by mistake fails
        instead of landing on the wrong server.  See :mod:`app.database`.
    """
    if not raw:
        return {}
    url = database_url(raw)
    options = {"postgresql_readonly": True} if url.startswith("postgresql") else {}
    return {READ_BIND: {"url": url, "execution_options": options}}


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
    # Long reads (list exports, dashboard figures) may go to a PostgreSQL read replica
    # (app/database.py); unset, everything reads the primary.
    SQLALCHEMY_BINDS = read_binds(os.environ.get("DATABASE_READ_URL"))
    # PostgreSQL (issue 14, README "Database roles"): the portal connects as abparts_app
    # (DATABASE_URL), under row-level security; the migrations run as the tables' owner,
    # named here.  Unset: the migrations use DATABASE_URL (SQLite, or a single-role set-up).
    DATABASE_OWNER_URL = database_url(os.environ["DATABASE_OWNER_URL"]) if os.environ.get(
        "DATABASE_OWNER_URL") else None
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
    # The landing page after login: the dashboard (issue 11), instead of FAB's "Welcome".
    FAB_INDEX_VIEW = "app.views.dashboard.DashboardView"
    # FAB's page frame plus the portal's scripts (relation choices on demand).
    FAB_BASE_TEMPLATE = "abparts/base.html"
    BABEL_DEFAULT_LOCALE = "en"
    # FAB resolves this relative to the app package: point it at the top-level folder.
    BABEL_TRANSLATION_DIRECTORIES = str(BASE_DIR / "translations")
    # The navbar's language switcher (app/views/language.py); each language has a catalog in
    # translations/ (English is the source), merged with FAB's own (issue 13).
    LANGUAGES = {"en": {"flag": "gb", "name": "English"}, "el": {"flag": "gr", "name": "Ελληνικά"}}
    WTF_CSRF_ENABLED = True
    # Every POST of the screens is checked (forms and form-less ones alike); only the
    # REST API's blueprints are exempt (FAB exempts them: they take a JWT or a JSON body).
    WTF_CSRF_CHECK_DEFAULT = _flag("WTF_CSRF_CHECK_DEFAULT", True)
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    # Account security (issue 12, app/security/): lockout, login rate limits, proxy hops.
    # FAB turns Flask-Limiter off unless this is set.
    RATELIMIT_ENABLED = _flag("RATELIMIT_ENABLED", True)
    RATELIMIT_HEADERS_ENABLED = True  # 429 answers carry Retry-After
    RATELIMIT_KEY_PREFIX = os.environ.get("RATELIMIT_KEY_PREFIX", "abparts")
    AUTH_RATE_LIMIT_ADDRESS = os.environ.get("AUTH_RATE_LIMIT_ADDRESS", "30 per minute")
    AUTH_RATE_LIMIT_USERNAME = os.environ.get("AUTH_RATE_LIMIT_USERNAME", "10 per minute")
    AUTH_LOCKOUT_ATTEMPTS = int(os.environ.get("AUTH_LOCKOUT_ATTEMPTS", "5"))
    AUTH_LOCKOUT_MINUTES = float(os.environ.get("AUTH_LOCKOUT_MINUTES", "15"))
    PASSWORD_MIN_LENGTH = int(os.environ.get("PASSWORD_MIN_LENGTH", "12"))
    AUTH_SUSPICIOUS_FAILURES = int(os.environ.get("AUTH_SUSPICIOUS_FAILURES", "20"))
    # A connection the database closed (restart, idle timeout) is replaced at checkout,
    # and none is kept longer than this many seconds: a cut connection costs a retry, not an error.
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True,
                                 "pool_recycle": int(os.environ.get("DATABASE_POOL_RECYCLE", "1800"))}
    # Strict-Transport-Security on every answer (on in production, behind HTTPS).
    SECURITY_HSTS = _flag("SECURITY_HSTS", False)
    # Mail (Flask-Mail): without MAIL_SERVER nothing is sent; messages go to the outbox file.
    MAIL_SERVER = os.environ.get("MAIL_SERVER")
    MAIL_PORT = int(os.environ.get("MAIL_PORT", "587"))
    MAIL_USE_TLS = _flag("MAIL_USE_TLS", True)
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME")
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD")
    MAIL_DEFAULT_SENDER = os.environ.get("MAIL_DEFAULT_SENDER", "ABParts Admin <no-reply@abparts.invalid>")
    MAIL_OUTBOX_FILE = os.environ.get("MAIL_OUTBOX_FILE", str(INSTANCE_DIR / "mail-outbox.log"))
    # Invitation and password-reset links: how long they work, and the portal's public address.
    INVITATION_EXPIRY_HOURS = float(os.environ.get("INVITATION_EXPIRY_HOURS", "72"))
    PASSWORD_RESET_EXPIRY_HOURS = float(os.environ.get("PASSWORD_RESET_EXPIRY_HOURS", "1"))
    PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL")
    # Reverse proxies in front of the portal whose X-Forwarded-For is trusted (0: none).
    PROXY_FIX_X_FOR = int(os.environ.get("PROXY_FIX_X_FOR", "0"))

    # Business limits (seed 001, "Scale Requirements"); None lifts a cap.
    LIMIT_CUSTOMER_ORGANIZATIONS = _limit("LIMIT_CUSTOMER_ORGANIZATIONS", 100)
    LIMIT_USERS = _limit("LIMIT_USERS", 200)
    LIMIT_PARTS = _limit("LIMIT_PARTS", 200)
    LIMIT_MACHINES = _limit("LIMIT_MACHINES", 150)
    LIMIT_WAREHOUSES = _limit("LIMIT_WAREHOUSES", 150)
    LIMIT_TRANSACTIONS_PER_YEAR = _limit("LIMIT_TRANSACTIONS_PER_YEAR", 7500)
    # Seed 001 "inventory": negative inventory allowed with warnings (configurable).
    ALLOW_NEGATIVE_STOCK = _flag("ALLOW_NEGATIVE_STOCK", False)
    # Issue 10: a customer order worth more than this (money, price currency) waits for an
    # Oraseas EE admin's approval; at or below it, submitting approves it.  An organization's
    # own ``order_approval_threshold`` overrides it.
    ORDER_APPROVAL_THRESHOLD = os.environ.get("ORDER_APPROVAL_THRESHOLD", "5000")
    # Stocktake (issue 9): a line whose |variance| exceeds this percent of its book quantity, or this
    # value (price currency), needs an admin's approval; an organization may set its own. None: no such limit.
    STOCKTAKE_THRESHOLD_PERCENT = _limit("STOCKTAKE_THRESHOLD_PERCENT", 5)
    STOCKTAKE_THRESHOLD_VALUE = _limit("STOCKTAKE_THRESHOLD_VALUE", 100)
    # Reorder points from usage (issue 11): average daily use over this many days x (lead time +
    # safety stock days); an organization may set its own lead time and safety stock days.
    REORDER_WINDOW_DAYS = int(os.environ.get("REORDER_WINDOW_DAYS", "90"))
    REORDER_LEAD_TIME_DAYS = int(os.environ.get("REORDER_LEAD_TIME_DAYS", "14"))
    REORDER_SAFETY_STOCK_DAYS = int(os.environ.get("REORDER_SAFETY_STOCK_DAYS", "7"))
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
    # Imports (issue 11, app/imports/): the largest file and the most rows one import takes, and
    # where an upload waits between its dry run and its confirmation (default: the system's
    # temporary folder).  A request larger than a file plus its form answers 413.
    IMPORT_MAX_BYTES = int(os.environ.get("IMPORT_MAX_BYTES", 16 * 1024 * 1024))
    IMPORT_MAX_ROWS = int(os.environ.get("IMPORT_MAX_ROWS", 100_000))
    IMPORT_UPLOAD_DIR = os.environ.get("IMPORT_UPLOAD_DIR")
    MAX_CONTENT_LENGTH = IMPORT_MAX_BYTES + 64 * 1024
    # Benchmarks only (tests/benchmarks/bench_pages.py): every answer carries ``X-Query-Count``,
    # the SQL statements the request ran.  Off by default: no listener on the engine at all.
    QUERY_COUNT_HEADER = _flag("ABPARTS_QUERY_COUNT_HEADER", False)

    @classmethod
    def prepare(cls, config: dict) -> None:
        """Fill in what depends on the environment at start-up (the secret key)."""
        if not config.get("SECRET_KEY"):
            config["SECRET_KEY"] = development_secret_key()


class ProductionConfig(Config):
    """Production: PostgreSQL via ``DATABASE_URL``; refuses to start without ``SECRET_KEY``."""

    ENV_NAME = "production"
    SECURITY_HSTS = _flag("SECURITY_HSTS", True)
    SESSION_COOKIE_SECURE = _flag("SESSION_COOKIE_SECURE", True)
    SESSION_COOKIE_HTTPONLY = True

    @classmethod
    def prepare(cls, config: dict) -> None:
        if not config.get("SECRET_KEY"):
            raise RuntimeError("SECRET_KEY must be set in production (ABPARTS_ENV=production).")
        if not os.environ.get("DATABASE_URL"):
            raise RuntimeError("DATABASE_URL must be set in production (ABPARTS_ENV=production).")
        if str(config.get("RATELIMIT_STORAGE_URI") or "").startswith("memory://"):
            raise RuntimeError("RATELIMIT_STORAGE_URI must name a shared store (redis://...) in production: "
                               "memory:// counts per worker (ABPARTS_ENV=production).")


class TestConfig(Config):
    """Tests: the database comes from ``TEST_DATABASE_URL`` (SQLite file by default)."""

    ENV_NAME = "testing"
    TESTING = True
    SECRET_KEY = "test-secret-key-that-is-long-enough-for-hs256"
    SQLALCHEMY_DATABASE_URI = database_url(os.environ.get("TEST_DATABASE_URL") or "sqlite://")
    SQLALCHEMY_BINDS: dict = {}  # tests of the read replica set their own
    DATABASE_OWNER_URL = None  # tests/conftest.py sets it with the app role's URL
    MAIL_SERVER = None
    MAIL_OUTBOX_FILE = None
    # The suite logs in hundreds of times from one address; tests of the limits set their own.
    AUTH_RATE_LIMIT_ADDRESS = "100000 per minute"
    AUTH_RATE_LIMIT_USERNAME = "100000 per minute"


def config_from_env() -> type[Config]:
    """Pick the configuration class named by ``ABPARTS_ENV`` (development by default)."""
    name = os.environ.get("ABPARTS_ENV", "development").lower()
    return {"production": ProductionConfig, "testing": TestConfig}.get(name, Config)
