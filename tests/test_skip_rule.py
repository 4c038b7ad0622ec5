"""The one rule for tests this machine cannot run: skip here, fail under CI."""

from __future__ import annotations

import pytest
from conftest import unavailable


@pytest.mark.parametrize("value", ["true", "TRUE", "True"])
def test_under_ci_a_missing_capability_fails(monkeypatch, value):
    monkeypatch.setenv("CI", value)
    with pytest.raises(pytest.fail.Exception, match=r"must run under CI.*no root here"):
        unavailable("no root here")


@pytest.mark.parametrize("value", [None, "", "false", "0"])
def test_elsewhere_it_skips_saying_why(monkeypatch, value):
    if value is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", value)
    with pytest.raises(pytest.skip.Exception, match="no root here"):
        unavailable("no root here")
