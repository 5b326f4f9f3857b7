"""What the run history's PostgreSQL store says when it cannot connect:
never the URL's password (a connection that is refused needs no server)."""

from __future__ import annotations

import pytest

from celeryroot.controller.history import History
from celeryroot.controller.stores import HistoryError


@pytest.mark.parametrize("url, password", [
    ("postgresql://ops:p%zzs3cret@127.0.0.1:1/runs", "zzs3cret"),  # libpq quotes a password it cannot decode
    ("postgresql://ops:s3cret%41@127.0.0.1:1/runs?connect_timeout=2", "s3cret"),
    ("postgres://127.0.0.1:1/runs?password=s3cret&bogus=1", "s3cret"),
])
def test_a_history_that_cannot_be_opened_does_not_say_its_password(url, password):
    with pytest.raises(HistoryError) as caught:
        History(url)
    assert password not in str(caught.value) and str(caught.value), caught.value
