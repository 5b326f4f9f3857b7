"""A run's command line as its report and history show it: no broker
password, no extra var named like a secret."""

from __future__ import annotations

import pytest

from celeryroot.cli.options import shown_argv


@pytest.mark.parametrize("argv, shown", [
    (["site.yaml", "--broker", "redis://:pw@h:6379/0"], ["site.yaml", "--broker", "redis://:****@h:6379/0"]),
    (["--broker=rediss://web1:pw@h/0"], ["--broker=rediss://web1:****@h/0"]),
    (["--brok", "redis://:pw@h"], ["--brok", "redis://:****@h"]),  # argparse's abbreviation
    (["--broker", "redis://h:6379/0"], ["--broker", "redis://h:6379/0"]),
    (["-e", "a=1 db_password=hunter2 b='x y'"], ["-e", "a=1 db_password=******** 'b=x y'"]),
    (["-eapi_token=zz"], ["-eapi_token=********"]),
    (["--extra-vars", '{"Secret": "q", "n": {"my_passwd": 1}, "l": [{"token": 2}]}'],
     ["--extra-vars", '{"Secret": "********", "n": {"my_passwd": "********"}, "l": [{"token": "********"}]}']),
    (["--extra", "{broken", "-e", "@vault.yaml"], ["--extra", "********", "-e", "@vault.yaml"]),
    (["all", "-m", "user", "-a", "name=x password=y"], ["all", "-m", "user", "-a", "name=x password=********"]),
    (["all", "--args=echo 'a  b' \"c\"", "-l", "web"], ["all", "--args=echo 'a  b' \"c\"", "-l", "web"]),
    (["-e", '{"a":  1}'], ["-e", '{"a":  1}']),
], ids=["broker", "broker=", "abbreviated", "no-password", "pairs", "attached", "json", "bad-json-and-file",
        "module-args", "command",
        "json-as-typed"])
def test_secrets_are_masked(argv, shown):
    assert shown_argv(argv) == shown
