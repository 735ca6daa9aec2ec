"""Exports of lists and reports (issue 11): the formats and the export log.

- :mod:`app.exports.formats`: CSV and XLSX written row by row as the rows are
  read (constant memory), typed cells, formula-injection-safe text.
- :mod:`app.exports.log`: the export log's rows (who, which list, filters and
  sort, organization scope, format, row count, times, "as of").

The screens' ``/export/`` endpoint (:mod:`app.views.export`) reads the rows and
calls both.
"""
