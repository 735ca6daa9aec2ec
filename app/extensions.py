"""Extension singletons, created once and bound in :func:`app.create_app`."""
from flask_appbuilder import AppBuilder, Model
from flask_appbuilder.models.sqla.base import SQLA
from flask_compress import Compress
from flask_migrate import Migrate
from flask_wtf.csrf import CSRFProtect

#: Bound to FAB's metadata, so that FAB's tables and ours share one schema
#: (and Flask-Migrate's ``db.metadata`` is the whole of it).
db = SQLA(metadata=Model.metadata)
migrate = Migrate()
appbuilder = AppBuilder()
#: CSRF protection of the screens (see :mod:`app.security.csrf`).
csrf = CSRFProtect()
#: Compressed responses (gzip, or Brotli/zstd when the browser offers them): a list
#: page's HTML shrinks several times over the wire (issue 15).
compress = Compress()

from flask_limiter import Limiter  # noqa: E402
from flask_limiter.util import get_remote_address  # noqa: E402

#: One rate limiter for the whole portal; FAB's security manager uses it too
#: (see ``ABPartsSecurityManager.create_limiter``).
limiter = Limiter(key_func=get_remote_address)
