"""Every pointer into the documentation names a page (and a heading) that exists.

Code, page help and the README send readers to ``docs/<page>.md``; when a page is renamed
or a heading reworded, the pointer rots silently. This walks every ``*.py`` file of the
project and the README, and checks each reference against the files in ``docs/`` (and,
for ``docs/page.md#anchor``, against the page's headings, slugified as mkdocs does).
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
SKIP_DIRS = {".git", ".venv", "venv", "site", "build", "dist", "node_modules", "__pycache__"}

#: ``docs/name.md`` optionally followed by ``#anchor``; not preceded by a word character or
#: a slash, so ``../shared/docs/x.md`` or ``mydocs/x.md`` are not taken for ours.
DOC_REF = re.compile(r"(?<![\w/])docs/([\w./-]+?\.md)(?:#([\w-]+))?")
#: A relative Markdown link target in the README: ``](path)`` or ``](path#anchor)``.
MD_LINK = re.compile(r"\]\((?!https?://|mailto:|#)([^)#\s]+)(?:#([^)\s]+))?\)")


def _slug(heading: str) -> str:
    """Python-Markdown's default ``toc`` slugify (what mkdocs uses for heading ids)."""
    text = unicodedata.normalize("NFKD", heading).encode("ascii", "ignore").decode("ascii")
    text = re.sub(r"[^\w\s-]", "", text).strip().lower()
    return re.sub(r"[-\s]+", "-", text)


def _anchors(page: Path) -> set[str]:
    text = page.read_text(encoding="utf-8")
    text = re.sub(r"^```.*?^```", "", text, flags=re.M | re.S)  # headings, not code
    headings = re.findall(r"^#{1,6}\s+(.+?)\s*#*\s*$", text, flags=re.M)
    return {_slug(h) for h in headings}


def _python_files() -> list[Path]:
    """Every project ``*.py`` file but this one (its examples are broken on purpose)."""
    return sorted(p for p in ROOT.rglob("*.py")
                  if not SKIP_DIRS.intersection(p.relative_to(ROOT).parts)
                  and p != Path(__file__).resolve())


def broken_refs(text: str, where: str) -> list[str]:
    """The ``docs/…md`` references in ``text`` whose page or heading does not exist."""
    problems = []
    for m in DOC_REF.finditer(text):
        page, anchor = DOCS / m.group(1), m.group(2)
        if not page.is_file():
            problems.append(f"{where}: docs/{m.group(1)} does not exist")
        elif anchor and anchor not in _anchors(page):
            problems.append(f"{where}: docs/{m.group(1)} has no heading #{anchor}")
    return problems


def test_the_scan_sees_the_references_in_code():
    """Guard against a scan that finds nothing (and so can never fail)."""
    found = [p for p in _python_files() if DOC_REF.search(p.read_text(encoding="utf-8"))]
    assert ROOT / "engine" / "llm" / "prompts.py" in found
    assert len(found) >= 4


def test_a_reference_to_a_missing_page_or_heading_is_reported():
    assert broken_refs("see docs/no-such-page.md", "x") == [
        "x: docs/no-such-page.md does not exist"]
    assert broken_refs("see docs/metrics.md#no-such-heading", "x") == [
        "x: docs/metrics.md has no heading #no-such-heading"]
    assert broken_refs("see docs/metrics.md and ../shared/docs/elsewhere.md", "x") == []


@pytest.mark.parametrize("path", _python_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_python_references_name_existing_pages(path: Path):
    assert broken_refs(path.read_text(encoding="utf-8"), str(path.relative_to(ROOT))) == []


def test_readme_references_name_existing_pages():
    assert broken_refs((ROOT / "README.md").read_text(encoding="utf-8"), "README.md") == []


def test_readme_links_name_existing_files():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    links = MD_LINK.findall(readme)
    assert len(links) >= 10, "the README links into docs/"
    missing = [target for target, _ in links if not (ROOT / target).exists()]
    assert missing == []
    bad_anchor = [f"{t}#{a}" for t, a in links
                  if a and t.endswith(".md") and a not in _anchors(ROOT / t)]
    assert bad_anchor == []


def test_every_docs_page_is_in_the_site_navigation():
    nav = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    pages = sorted(p.name for p in DOCS.glob("*.md"))
    assert [p for p in pages if f": {p}" not in nav] == []
