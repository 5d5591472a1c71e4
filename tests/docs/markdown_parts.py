"""Pieces of a Markdown page that tests compare with the project: fenced blocks, tables, links."""

from __future__ import annotations

import re
from pathlib import Path

from markdown_it import MarkdownIt
from markdown_it.token import Token

_PARSER = MarkdownIt("commonmark").enable("table")


def _tokens(path: Path) -> list[Token]:
    return _PARSER.parse(path.read_text(encoding="utf-8"))


def fences(path: Path, language: str) -> list[str]:
    """The contents of the fenced blocks of one language, in page order."""
    return [t.content for t in _tokens(path) if t.type == "fence" and t.info.strip().split(" ")[0] == language]


def fences_after_text(path: Path, language: str) -> list[tuple[str, str]]:
    """(the paragraph just before the block, the block) for each fenced block of one language:
    the paragraph says what the block is, e.g. which file to write it to."""
    tokens = _tokens(path)
    found = []
    for i, token in enumerate(tokens):
        if token.type == "fence" and token.info.strip().split(" ")[0] == language:
            before = tokens[i - 2].content if i >= 2 and tokens[i - 1].type == "paragraph_close" else ""
            found.append((before, token.content))
    return found


def table_under(path: Path, heading: str) -> list[dict[str, str]]:
    """The rows of the first table after the heading ``heading``: one dict per row, keyed by the
    header cells, with the cells' Markdown source (backticks kept).

    Raises:
        LookupError: when the page has no such heading or no table after it.
    """
    tokens = _tokens(path)
    starts = [i for i, t in enumerate(tokens) if t.type == "heading_open" and tokens[i + 1].content == heading]
    if not starts:
        raise LookupError(f"{path.name} has no heading {heading!r}")
    header: list[str] = []
    rows: list[list[str]] = []
    for token in tokens[starts[0] + 1 :]:
        if token.type == "heading_open":
            break  # the next section: the table is not under this heading
        if token.type == "tr_open":
            rows.append([])
        elif token.type == "inline" and rows:
            rows[-1].append(token.content)
        elif token.type == "table_close":
            header, *body = rows
            return [dict(zip(header, row, strict=True)) for row in body]
    raise LookupError(f"{path.name} has no table under {heading!r}")


def code_spans(text: str) -> list[str]:
    """The ``code`` spans of a Markdown text, e.g. the dataset names of a table cell."""
    return re.findall(r"`([^`]+)`", text)


def headings(path: Path) -> list[str]:
    """The text of every heading of the page (Markdown source), in page order."""
    tokens = _tokens(path)
    return [tokens[i + 1].content for i, token in enumerate(tokens) if token.type == "heading_open"]


def links(path: Path) -> list[str]:
    """Every link target of the page (``[text](target)``), in page order."""
    found = []
    for token in _tokens(path):
        for child in token.children or []:
            if child.type == "link_open":
                found.append(str(child.attrs["href"]))
    return found
