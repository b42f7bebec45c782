"""The documentation stays true: the configuration reference is the settings model's, and docs/
and the README stand alone (no link out of the repository, no link to a file that is not there)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from engine.settings_doc import render

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
REGENERATE = "python -m engine.settings_doc > docs/configuration.md"


def test_configuration_reference_is_the_settings_model():
    written = (DOCS / "configuration.md").read_text(encoding="utf-8")
    assert written == render(), (
        f"docs/configuration.md differs from the settings model; regenerate it: {REGENERATE}")


def test_the_reference_names_every_section_and_its_environment_variables():
    from engine.settings import Settings

    text = render()
    for name in Settings.model_fields:
        assert f"SHOPASSIST_{name.upper()}" in text, name
    assert "SHOPASSIST_NLU__CONFIDENCE_THRESHOLD" in text


PAGES = sorted(DOCS.glob("*.md")) + [ROOT / "README.md"]
_LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_pages_link_only_inside_the_repository(page):
    text = page.read_text(encoding="utf-8")
    assert "../shared" not in text, f"{page.name} points outside the repository"
    missing = []
    for target in _LINK.findall(text):
        if re.match(r"[a-z]+://|mailto:", target):
            continue
        resolved = (page.parent / target).resolve()
        if not resolved.is_relative_to(ROOT):
            missing.append(f"{target} (outside the repository)")
        elif not resolved.exists():
            missing.append(target)
    assert not missing, f"{page.name} links to what is not in the repository: {missing}"
