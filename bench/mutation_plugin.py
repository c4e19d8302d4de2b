"""pytest plugin of `make mutation` only (bench/mutation.py copies it next to the staged tests and loads it with
`-p mutation_plugin`); never loaded by `make test`.

SAM CLI: the local gateway and the tables read template.yaml with SAM CLI's own providers (local/template.py),
but aws-sam-cli cannot be installed in the mutation venv (it pins click 8.1, mutmut needs a newer one). So a
last-resort import finder serves, from the dev venv's site-packages, only the top-level packages the mutation
venv lacks (samcli and its own dependencies): what the mutation venv has (click, pytest, moto, boto3...) still
wins. That directory is not on sys.path, so pytest loads none of the dev venv's plugins (schemathesis...), and
its .pth files are not run, so its editable install of `clinic` stays invisible (the tests import the mutated
copy; mutmut's forced-failure check proves it).

Cheaper, checking the same: every boto3 client of a test process (each test's `aws` fixture makes new ones)
shares one botocore data loader, so a client no longer parses the service model and endpoint files again (the
mutmut children inherit it warm from the process they fork from); property tests run at most
MAX_EXAMPLES examples, without deadline (a mutant that makes code slow is not what they look for).

Order: mutmut passes each mutant's tests as a set of node ids, which pytest would run in that (hash) order,
interleaving modules and so setting module fixtures up again and again. This keeps each module's tests
together, and runs the quickest first (by the durations mutmut measured): most mutants fail a quick test.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence
from importlib.machinery import ModuleSpec, PathFinder
from types import ModuleType
from typing import Any


class _FromDevVenv:
    """After every other finder: a top-level package from the dev venv's site-packages (its submodules are then
    found through the package's own __path__)."""

    site_packages = os.environ.get("MUTATION_SAM_CLI_SITE_PACKAGES", "")

    @classmethod
    def find_spec(
        cls, name: str, path: Sequence[str] | None = None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        if path is not None or not cls.site_packages:
            return None
        return PathFinder.find_spec(name, [cls.site_packages])


if not any(getattr(finder, "__name__", "") == _FromDevVenv.__name__ for finder in sys.meta_path):
    sys.meta_path.append(_FromDevVenv)  # type: ignore[arg-type]


# Property tests' examples per mutant: a mutant most tests catch fails at once, a surviving one runs them all.
MAX_EXAMPLES = 10


def _share_botocore_loader() -> None:
    import botocore.session

    loaders: dict[Any, Any] = {}
    create_loader = botocore.session.create_loader

    def shared_loader(search_path_string: Any = None) -> Any:
        if search_path_string not in loaders:
            loaders[search_path_string] = create_loader(search_path_string)
        return loaders[search_path_string]

    botocore.session.create_loader = shared_loader  # type: ignore[assignment]


_share_botocore_loader()


def _fewer_examples(item: Any) -> None:
    from hypothesis import settings

    test = getattr(item, "obj", None)
    current = getattr(test, "_hypothesis_internal_use_settings", None)  # set by @given on the test it wraps
    if current is not None and (current.max_examples > MAX_EXAMPLES or current.deadline is not None):
        test._hypothesis_internal_use_settings = settings(  # type: ignore[union-attr]
            current, max_examples=min(current.max_examples, MAX_EXAMPLES), deadline=None
        )


def pytest_collection_modifyitems(items: list[Any]) -> None:
    for item in items:
        _fewer_examples(item)
    seconds = {}
    if os.path.exists("mutmut-stats.json"):
        with open("mutmut-stats.json") as stats:
            seconds = json.load(stats)["duration_by_test"]
    took = {item.nodeid: seconds.get(item.nodeid, 0.0) for item in items}
    module_seconds: dict[str, float] = {}
    for item in items:
        module_seconds[item.location[0]] = module_seconds.get(item.location[0], 0.0) + took[item.nodeid]
    items.sort(key=lambda item: (module_seconds[item.location[0]], item.location[0], took[item.nodeid]))
