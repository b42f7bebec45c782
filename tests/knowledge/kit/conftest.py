"""A fresh starter kit per test (small: ten products, twelve FAQs in two languages)."""

from __future__ import annotations

import pytest

from knowledge.kit.starter import init_kit


@pytest.fixture
def kit_dir(tmp_path):
    return init_kit(tmp_path / "kit")
