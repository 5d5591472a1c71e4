"""A report as a list of blocks, rendered to Markdown or to self-contained HTML.

Both renderings come from the same blocks, so the Markdown and HTML reports say the same thing.
Inline markup in text is limited to ``**bold**`` and ```code```.
"""

from __future__ import annotations

import base64
import html
import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pandas as pd
from matplotlib.figure import Figure


@dataclass(frozen=True)
class Heading:
    text: str
    level: int = 2


@dataclass(frozen=True)
class Paragraph:
    text: str


@dataclass(frozen=True)
class Alert:
    """A warning box (red in HTML, a quote in Markdown)."""

    text: str


@dataclass(frozen=True)
class Bullets:
    items: tuple[str, ...]


@dataclass(frozen=True)
class Table:
    frame: pd.DataFrame
    caption: str = ""


@dataclass(frozen=True)
class FigureRef:
    name: str
    caption: str


Block = Heading | Paragraph | Alert | Bullets | Table | FigureRef


def _md_cell(value: object) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def markdown_table(frame: pd.DataFrame) -> str:
    """A GitHub pipe table of ``frame`` (cells as ``str``)."""
    header = "| " + " | ".join(_md_cell(c) for c in frame.columns) + " |"
    rule = "|" + "|".join("---" for _ in frame.columns) + "|"
    body = ["| " + " | ".join(_md_cell(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join([header, rule, *body])


def to_markdown(blocks: Sequence[Block]) -> str:
    """Markdown report; figures referenced as ``figures/<name>.png``."""
    parts = []
    for block in blocks:
        match block:
            case Heading(text, level):
                parts.append(f"{'#' * level} {text}")
            case Paragraph(text):
                parts.append(text)
            case Alert(text):
                parts.append(f"> **Warning.** {text}")
            case Bullets(items):
                parts.append("\n".join(f"- {item}" for item in items))
            case Table(frame, caption):
                parts.append((f"{caption}\n\n" if caption else "") + markdown_table(frame))
            case FigureRef(name, caption):
                parts.append(f"![{name}](figures/{name}.png)\n\n*{caption}*")
    return "\n\n".join(parts) + "\n"


def _inline(text: str) -> str:
    """Escaped text with ``**bold**`` and ```code``` turned into tags."""
    escaped = html.escape(text)
    escaped = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", escaped)
    return re.sub(r"`(.+?)`", r"<code>\1</code>", escaped)


def png_base64(figure: Figure, dpi: int = 100) -> str:
    """The figure as a base64 PNG string."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


_STYLE = """
body { font-family: sans-serif; max-width: 1200px; margin: 2em auto; padding: 0 1em; color: #222; }
table { border-collapse: collapse; font-size: 0.85em; margin: 0.5em 0 1.5em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.5em; text-align: left; }
th { background: #f2f2f2; }
.warning { border-left: 6px solid #c0392b; background: #fdecea; padding: 0.6em 1em; margin: 1em 0; }
figure { margin: 1em 0 2em; } figure img { max-width: 100%; } figcaption { font-style: italic; }
code { background: #f4f4f4; padding: 0 0.2em; }
"""


def to_html(blocks: Sequence[Block], figures: Mapping[str, Figure], title: str) -> str:
    """Self-contained HTML report: inline style, tables as HTML, figures as base64 PNG."""
    parts = []
    for block in blocks:
        match block:
            case Heading(text, level):
                parts.append(f"<h{level}>{_inline(text)}</h{level}>")
            case Paragraph(text):
                parts.append(f"<p>{_inline(text)}</p>")
            case Alert(text):
                parts.append(f'<div class="warning"><strong>Warning.</strong> {_inline(text)}</div>')
            case Bullets(items):
                parts.append("<ul>" + "".join(f"<li>{_inline(i)}</li>" for i in items) + "</ul>")
            case Table(frame, caption):
                caption_html = f"<p>{_inline(caption)}</p>" if caption else ""
                parts.append(caption_html + frame.to_html(index=False, border=0, escape=True, na_rep=""))
            case FigureRef(name, caption):
                data = png_base64(figures[name])
                parts.append(
                    f'<figure><img alt="{html.escape(name)}" src="data:image/png;base64,{data}">'
                    f"<figcaption>{_inline(caption)}</figcaption></figure>"
                )
    body = "\n".join(parts)
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
        f"<style>{_STYLE}</style></head>\n<body>\n{body}\n</body></html>\n"
    )
