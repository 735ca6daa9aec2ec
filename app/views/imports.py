"""The import screens (issue 11): Catalog > Import Parts and Inventory > Import Opening Stock.

Thin callers of :mod:`app.workflows.imports`:

- ``/import/<kind>/``: what the file holds (its columns), the templates to
  download (CSV, XLSX) and the upload form;
- ``POST /import/<kind>/check``: the dry run of the uploaded file: every
  problem by row and column, or what the import will write, with a button to
  confirm.  The file is kept on the server under a random token (remembered in
  the user's HTTP session) until it is imported or replaced;
- ``POST /import/<kind>/confirm``: the real run of the file checked, all or
  nothing; then the list it filled (Parts, or Stock Levels);
- ``/import/<kind>/template.csv`` and ``template.xlsx``: an empty file with the header.

Access: the ``add`` permission of the domain the import writes (``Part`` for
parts, ``Transaction`` for opening stock), as data in :mod:`app.security.roles`.
A bad file answers 400 with the reason; a file over ``IMPORT_MAX_BYTES`` 413
(:mod:`app.views.pages`); a real run of a file with problems 422 and the report.
"""
from __future__ import annotations

import os
import secrets
import tempfile
import time
from pathlib import Path

from flask import Response, abort, current_app, flash, redirect, request, session, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_babel import gettext, lazy_gettext, ngettext

from ..errors import DomainError
from ..exports import formats
from ..extensions import csrf
from ..i18n import error_text
from ..imports.files import LAYOUTS, EXTENSIONS, FileRefused, human_size, max_bytes
from ..security.roles import METHOD_PERMISSIONS
from ..workflows import imports
from .catalog import part_form

#: Seconds an uploaded file is kept for its confirmation.
KEEP_SECONDS = 24 * 3600
#: Problems a report page lists (the rest are counted).
SHOWN_ERRORS = 500
#: The screens' titles.
TITLES = {"parts": lazy_gettext("Import parts catalog"), "stock": lazy_gettext("Import opening stock")}


def upload_dir() -> Path:
    """Where uploads wait for their confirmation (``IMPORT_UPLOAD_DIR``; by default a folder of
    the system's temporary directory, shared by the server's workers)."""
    path = Path(current_app.config.get("IMPORT_UPLOAD_DIR") or Path(tempfile.gettempdir()) / "abparts-imports")
    path.mkdir(parents=True, exist_ok=True)
    return path


class ImportView(BaseView):
    """One kind of import (:attr:`kind`, a key of :data:`app.imports.files.LAYOUTS`)."""

    kind = ""
    #: The list to show after an import: (endpoint, query arguments).
    done_list: tuple[str, dict] = ("", {})
    default_view = "upload"
    method_permission_name = METHOD_PERMISSIONS

    @property
    def _session_key(self) -> str:
        return f"abparts_import_{self.kind}"

    def _page(self, report=None, error: str | None = None, status: int = 200, token: str | None = None):
        layout = LAYOUTS[self.kind]
        errors = report.errors[:SHOWN_ERRORS] if report else []
        return self.render_template(
            "abparts/import.html", title=TITLES[self.kind], layout=layout, report=report,
            errors=errors, hidden_errors=len(report.errors) - len(errors) if report else 0, error=error,
            token=token, max_size=human_size(max_bytes()), extensions=EXTENSIONS,
        ), status

    @expose("/", methods=["GET"])
    @has_access
    def upload(self):
        """The columns, the templates and the upload form."""
        return self._page()

    @expose("/check", methods=["POST"])
    @has_access
    def check(self):
        """The dry run of the uploaded file (``file``): the report, and a confirm button when it can run.

        :raise 400: no file, or a file that cannot be imported (the page says why).
        :raise 413: a file over ``IMPORT_MAX_BYTES``.
        """
        csrf.protect()
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            return self._page(error=gettext("Choose a CSV or XLSX file to check."), status=400)
        data = upload.read()
        try:
            report = imports.dry_run(self.kind, upload.filename, data, part_form())
        except FileRefused as exc:
            return self._page(error=error_text(exc), status=400)
        except DomainError as exc:
            return self._page(error=error_text(exc), status=exc.status)
        token = self._keep(upload.filename, data) if report.ok else None
        return self._page(report, token=token)

    @expose("/confirm", methods=["POST"])
    @has_access
    def confirm(self):
        """The real run of the file last checked: all of it, or nothing.

        :raise 400: no checked file waiting (checked in another window, or already imported).
        :raise 422: the file has problems now (the report lists them); nothing is written.
        """
        csrf.protect()
        kept = session.get(self._session_key) or {}
        path = upload_dir() / f"{kept.get('token', '')}.{kept.get('extension', '')}"
        if not kept or request.form.get("token") != kept.get("token") or not path.is_file():
            return self._page(error=gettext("There is no checked file waiting to be imported (it was imported "
                                            "already, or another file was checked since): check the file again."),
                              status=400)
        # Claim the file (a rename is atomic): a second click of Import, sent before the first
        # is done, finds it gone.  Whatever the outcome the file is not imported twice: a refused
        # one is to be corrected and checked again.
        claimed = path.with_suffix(path.suffix + ".running")
        try:
            path.rename(claimed)
        except FileNotFoundError:
            return self._page(error=gettext("This file is being imported already."), status=409)
        data = claimed.read_bytes()
        claimed.unlink()
        self._forget()
        try:
            report = imports.run_import(self.kind, kept["filename"], data, part_form())
        except imports.ImportRefused as exc:
            return self._page(exc.report, error=error_text(exc), status=422)
        except DomainError as exc:
            return self._page(error=gettext("Nothing was imported: %(reason)s", reason=error_text(exc)),
                              status=exc.status)
        if self.kind == "parts":
            done = ngettext("Imported %(num)s part from %(filename)s.", "Imported %(num)s parts from %(filename)s.",
                            report.written, filename=report.filename)
        else:
            done = ngettext("Imported %(num)s line of opening stock from %(filename)s.",
                            "Imported %(num)s lines of opening stock from %(filename)s.",
                            report.written, filename=report.filename)
        flash(done, "success")
        endpoint, args = self.done_list
        return redirect(url_for(endpoint, **args))

    @expose("/template.<fmt>", methods=["GET"])
    @has_access
    def template(self, fmt):
        """An empty file of the import's columns, ``fmt`` ``csv`` or ``xlsx``.

        :raise 404: another format.
        """
        if fmt not in EXTENSIONS:
            abort(404)
        layout = LAYOUTS[self.kind]
        body = formats.chunks(fmt, layout.keys, iter(()), layout.title)
        return Response(body, mimetype=formats.FORMATS[fmt], headers={
            "Content-Disposition": f"attachment; filename=import-{self.kind}.{fmt}"})

    # -- the file between the check and the confirmation -----------------------------

    def _keep(self, filename: str, data: bytes) -> str:
        """Store ``data`` for the confirmation; the HTTP session remembers its token."""
        self._forget()
        _sweep(upload_dir())
        token = secrets.token_urlsafe(18)
        extension = filename.rsplit(".", 1)[-1].lower()
        (upload_dir() / f"{token}.{extension}").write_bytes(data)
        session[self._session_key] = {"token": token, "extension": extension, "filename": filename[-200:]}
        return token

    def _forget(self) -> None:
        kept = session.pop(self._session_key, None)
        if kept:
            (upload_dir() / f"{kept['token']}.{kept['extension']}").unlink(missing_ok=True)


def _sweep(folder: Path) -> None:
    """Delete uploads older than :data:`KEEP_SECONDS` (checked, never confirmed)."""
    limit = time.time() - KEEP_SECONDS
    for path in folder.iterdir():
        try:
            if path.stat().st_mtime < limit:
                os.remove(path)
        except OSError:
            pass  # another worker swept it first


class PartImportView(ImportView):
    """Catalog > Import Parts: new parts from a file (Super Admins: ``add`` on parts)."""

    route_base = "/import/parts"
    class_permission_name = "Part"
    kind = "parts"
    done_list = ("PartModelView.list", {})


class StockImportView(ImportView):
    """Inventory > Import Opening Stock: the stock on hand of parts a warehouse does not hold yet
    (admins: ``add`` on transactions; into their own organization's warehouses)."""

    route_base = "/import/stock"
    class_permission_name = "Transaction"
    kind = "stock"
    done_list = ("InventoryModelView.list", {})
