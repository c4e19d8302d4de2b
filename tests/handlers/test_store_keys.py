"""The key formats live in one place: clinic/store/keys.py spells every prefix, nothing else in the deployed
code does, and docs/data-model.md documents the same prefixes (issue 12's acceptance grep, as a test)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
KEYS = ROOT / "layers" / "clinic" / "clinic" / "store" / "keys.py"
# A string literal (plain or f-string) that starts with a key prefix: `"PATIENT#`, `f"GAUGE#`.
PREFIX = re.compile(r"""(?<![A-Za-z0-9_])f?["']([A-Z]{3,}#)""")


def _prefixes(text: str) -> set[str]:
    return set(PREFIX.findall(text))


def test_no_key_prefix_is_spelled_outside_the_keys_module() -> None:
    spelled = {
        f"{path.relative_to(ROOT)}: {prefix}"
        for folder in ("layers", "functions")
        for path in sorted((ROOT / folder).rglob("*.py"))
        if path != KEYS
        for prefix in _prefixes(path.read_text(encoding="utf-8"))
    }
    assert spelled == set()


def test_the_data_model_documents_exactly_the_prefixes_the_keys_module_builds() -> None:
    documented = set(re.findall(r"`([A-Z]{3,}#)", (ROOT / "docs" / "data-model.md").read_text(encoding="utf-8")))
    built = _prefixes(KEYS.read_text(encoding="utf-8"))
    assert "PATIENT#" in built and "ALERT#" in built
    assert built == documented
