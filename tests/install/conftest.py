"""The wheel, built once per test session for every test of the installed package."""

from __future__ import annotations

import pytest

from tests.install.building import Built, build_wheel


@pytest.fixture(scope="session")
def built_wheel(tmp_path_factory: pytest.TempPathFactory) -> Built:
    return build_wheel(tmp_path_factory.mktemp("build"))
