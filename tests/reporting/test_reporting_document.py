"""The report documents: Markdown with figure files, self-contained HTML with the same content."""

from __future__ import annotations

import base64
import re

from matplotlib.figure import Figure

from minivess_kedro.reporting import Report
from tests.reporting.conftest import SETTINGS

FIGURES = {"metric_boxplots", "training_curves", "dsc_vs_cldice", "examples"}


def test_html_is_self_contained(report: Report) -> None:
    html = report.html
    references = re.findall(r"""(?:src|href)\s*=\s*["']([^"']*)["']""", html, flags=re.IGNORECASE)
    assert len(references) == len(FIGURES)
    for ref in references:
        assert ref.startswith("data:image/png;base64,")
        assert base64.b64decode(ref.split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"
    assert not re.search(r"<(link|script|iframe)\b", html, flags=re.IGNORECASE)
    assert "url(" not in html and "@import" not in html


def test_html_and_markdown_have_the_same_sections(report: Report) -> None:
    headings = re.findall(r"^#+ (.+)$", report.markdown, flags=re.MULTILINE)
    assert len(headings) >= 8
    for heading in headings:
        assert f">{heading}</h" in report.html
    assert report.html.count("<table") == report.markdown.count("\n|---|")
    assert "<td>dice_ce (reference)</td>" in report.html


def test_markdown_references_every_figure_file(report: Report) -> None:
    for name in FIGURES:
        assert f"](figures/{name}.png)" in report.markdown


def test_figures_exist_and_show_what_they_claim(report: Report) -> None:
    assert set(report.figures) == FIGURES and all(isinstance(f, Figure) for f in report.figures.values())
    boxes = [ax for ax in report.figures["metric_boxplots"].axes if ax.get_visible() and ax.axison]
    assert len(boxes) == len(SETTINGS.metrics)
    labels = [t.get_text() for t in boxes[0].get_xticklabels()]
    assert labels == ["dice_ce\n(reference)", "cbdice", "cldice", "frangi\n(baseline)", "otsu\n(baseline)"]
    val_dsc, train_loss = report.figures["training_curves"].axes
    assert len(val_dsc.get_lines()) == 3 and len(train_loss.get_lines()) == 3
    # val DSC every second epoch: the mean curve has values at epochs 0, 2, 4 only
    assert list(val_dsc.get_lines()[0].get_xdata()) == [0, 2, 4]
    scatter = report.figures["dsc_vs_cldice"]
    legend = [t.get_text() for t in scatter.legends[0].get_texts()]
    assert legend == ["dice_ce (reference)", "cbdice", "cldice", "frangi (baseline)", "otsu (baseline)"]
    assert [ax.get_title() for ax in scatter.axes] == ["losses and baselines", "losses only (zoomed)"]
    assert len(report.figures["examples"].axes) == 2 * 4
    # the one replaced NaN distance (cldice, MASD) is drawn as a worst-case cross
    masd = next(ax for ax in boxes if ax.get_ylabel().startswith("MASD"))
    assert [t.get_text() for t in masd.get_legend().get_texts()] == ["worst case (empty mask)"]


def test_figures_are_not_left_open_in_pyplot(report: Report) -> None:
    from matplotlib import pyplot as plt  # noqa: PLC0415

    assert plt.get_fignums() == []


def test_without_examples_the_figure_says_so(minimal_report: Report) -> None:
    report = minimal_report
    texts = [t.get_text() for ax in report.figures["examples"].axes for t in ax.texts]
    assert texts == ["No example slices were given."]
    assert "Only the reference loss 'dice_ce' was run" in report.markdown
