"""The rows of the portal's list widget (``appbuilder/general/widgets/list.html``), built in Python.

A 100-row page of nine columns made about 2,500 template calls (a formatter
lookup, a call and an escape per cell, the links and their titles per row): a
third of the page's time above its SQL (issue 15).  :func:`list_rows` writes the
same markup in one call per page, escaped as Jinja's autoescape would.
"""
from __future__ import annotations

from markupsafe import escape, Markup

#: The placeholder the template puts in the row link URLs for each row's key.
KEY = "__abparts_pk__"


def list_rows(rows, pks, columns, formatters, checkboxes: bool, links: dict, titles: dict) -> Markup:
    """The ``<tr>`` of each row of a list page.

    :param rows: FAB's ``value_columns``: one ``{column: value}`` per row.
    :param pks: the rows' keys, in the same order.
    :param columns: the columns shown, in order.
    :param formatters: FAB's ``formatters_columns`` (``column -> callable``).
    :param checkboxes: whether each row gets the actions' checkbox.
    :param links: ``{"show"|"edit"|"delete": URL with KEY for the row's key, or None}``.
    :param titles: the (translated) titles of those links.
    :returns: the rows' markup.
    """
    show, edit, delete = links.get("show"), links.get("edit"), links.get("delete")
    cells = [(column, formatters.get(column)) for column in columns]
    out = []
    for item, pk in zip(rows, pks):
        key = escape(str(pk))
        out.append("<tr>")
        if checkboxes:
            out.append(f'<td><input id="{key}" class="action_check" name="rowid" value="{key}" type="checkbox"></td>')
        if show or edit or delete:
            out.append('<td class="abparts-row-links">')
            if show:
                out.append(f'<a href="{escape(show.replace(KEY, key))}" title="{escape(titles["show"])}">'
                           '<i class="fa fa-search"></i></a>')
            if edit:
                out.append(f' <a href="{escape(edit.replace(KEY, key))}" title="{escape(titles["edit"])}">'
                           '<i class="fa fa-edit"></i></a>')
            if delete:
                out.append(f' <a href="#" class="abparts-delete" data-url="{escape(delete.replace(KEY, key))}" '
                           f'title="{escape(titles["delete"])}"><i class="fa fa-trash"></i></a>')
            out.append("</td>")
        for column, formatter in cells:
            value = item[column]
            out.append(f"<td>{escape(formatter(value) if formatter else value)}</td>")
        out.append("</tr>")
    return Markup("".join(out))
