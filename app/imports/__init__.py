"""Imports of spreadsheets (issue 11, "Bulk import with dry run"): the parts catalog and opening stock.

- :mod:`app.imports.files`: a CSV or XLSX upload read into numbered rows of
  text, with the file's problems (format, encoding, size, columns, formulas,
  empty) refused in one clear message; the layouts of the two kinds of file and
  their templates.

The rows are checked and written by the workflow commands of
:mod:`app.workflows.imports`; the screens (:mod:`app.views.imports`) and the
command line (``flask abparts import-parts`` / ``import-stock``) call them.
"""
