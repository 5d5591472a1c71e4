"""Links of README.md and docs/: every relative link reaches a file of the repository and every
anchor a heading of it; docs/index.md lists every page; the README points to the docs."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

from tests.conftest import PROJECT_ROOT
from tests.docs.markdown_commands import documentation_files
from tests.docs.markdown_parts import headings, links

PAGES = documentation_files(PROJECT_ROOT)


def github_anchor(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"`([^`]*)`", r"\1", heading).strip().lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def _anchors(page: Path) -> set[str]:
    found: set[str] = set()
    for heading in headings(page):
        anchor, n = github_anchor(heading), 1
        while anchor in found:  # GitHub numbers repeated headings: name, name-1, name-2, ...
            anchor, n = f"{github_anchor(heading)}-{n}", n + 1
        found.add(anchor)
    return found


@pytest.mark.parametrize("page", PAGES, ids=[p.relative_to(PROJECT_ROOT).as_posix() for p in PAGES])
def test_relative_links_reach_files_and_headings(page: Path) -> None:
    broken = []
    for target in links(page):
        parsed = urlparse(target)
        if parsed.scheme or target.startswith("mailto:"):
            continue
        path = (page.parent / unquote(parsed.path)).resolve() if parsed.path else page
        if not path.exists() or PROJECT_ROOT.resolve() not in path.parents:
            broken.append(f"{target}: no such file in the repository")
        elif parsed.fragment and path.suffix == ".md" and parsed.fragment not in _anchors(path):
            broken.append(f"{target}: no heading #{parsed.fragment} in {path.name}")
    assert not broken, f"{page.name}: {broken}"


def test_the_index_lists_every_page() -> None:
    index = PROJECT_ROOT / "docs" / "index.md"
    listed = {(index.parent / target).resolve() for target in links(index) if not urlparse(target).scheme}
    pages = {page.resolve() for page in (PROJECT_ROOT / "docs").glob("*.md")} - {index.resolve()}
    assert sorted(p.name for p in pages - listed) == []


def test_the_readme_points_to_the_docs() -> None:
    targets = set(links(PROJECT_ROOT / "README.md"))
    assert {"docs/index.md", "docs/getting_started.md"} <= targets


@pytest.mark.parametrize(
    ("heading", "anchor"),
    [
        ("An env for your data folder", "an-env-for-your-data-folder"),
        ("Compute profiles (`conf/<env>/`)", "compute-profiles-confenv"),
        ("1. Write it", "1-write-it"),
        ("One `kedro run` = one loss x one fold", "one-kedro-run--one-loss-x-one-fold"),
    ],
)
def test_github_anchor(heading: str, anchor: str) -> None:
    assert github_anchor(heading) == anchor
