"""Reads back the table of a DataFrame that a notebook displayed (its ``text/html`` output)."""

from __future__ import annotations

from html.parser import HTMLParser

import pandas as pd


class _Rows(HTMLParser):
    """Collects the text of each cell, row by row, for the header (``thead``) and the body."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: dict[str, list[list[str]]] = {"thead": [], "tbody": []}
        self._section = "thead"
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in self.rows:
            self._section = tag
        elif tag == "tr":
            self.rows[self._section].append([])
        elif tag in {"th", "td"}:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in {"th", "td"} and self._cell is not None:
            self.rows[self._section][-1].append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def html_table(html: str) -> pd.DataFrame:
    """The DataFrame (values as text, indexed by the row labels) of pandas' HTML rendering of one."""
    parser = _Rows()
    parser.feed(html)
    columns = parser.rows["thead"][0][1:]  # the first header cell stands above the row labels
    body = parser.rows["tbody"]
    return pd.DataFrame([row[1:] for row in body], index=[row[0] for row in body], columns=columns)
