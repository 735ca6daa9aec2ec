"""Read-only summaries over the ledger and its records, for screens and the REST API.

Figures come from SQL aggregates (GROUP BY in the database), read through the
ORM session so that :mod:`app.scoping` applies: a summary shows only rows the
user may see.  Layering: views and APIs call these; they call nothing above
:mod:`app.models`.
"""
