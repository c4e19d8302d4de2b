"""Row 5: what `sam build` ships, unzipped: every function's code and every layer, and whether the
dependencies layer holds only the pinned runtime packages (no caches, no tests, no console scripts)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / ".aws-sam" / "bench-build"  # its own build dir: a concurrent `make build` is left alone
FUNCTION_GOAL = 200 * 1024
SOURCES = ("template.yaml", "functions", "layers")


def _newest(path: Path) -> float:
    if path.is_file():
        return path.stat().st_mtime
    return max((p.stat().st_mtime for p in path.rglob("*") if p.is_file() and "__pycache__" not in p.parts), default=0)


def _size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def build() -> tuple[Path, float, bool]:
    """(build dir, seconds, rebuilt): reuses the last bench build when it is newer than every source."""
    marker = BUILD / "template.yaml"
    if marker.exists() and marker.stat().st_mtime > max(_newest(ROOT / s) for s in SOURCES):
        return BUILD, 0.0, False
    sam = Path(sys.executable).with_name("sam")
    env = {**os.environ, "SAM_CLI_TELEMETRY": "0"}
    started = __import__("time").perf_counter()
    done = subprocess.run(
        [str(sam), "build", "--build-dir", str(BUILD)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = __import__("time").perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"sam build failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return BUILD, seconds, True


def _pins() -> set[str]:
    text = (ROOT / "layers" / "dependencies" / "requirements.txt").read_text(encoding="utf-8")
    return {_normal(m.group(1)) for m in re.finditer(r"^([A-Za-z0-9_.\-]+)==", text, re.MULTILINE)}


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def measure() -> dict[str, Any]:
    build_dir, seconds, rebuilt = build()
    rows = []
    for item in sorted(build_dir.iterdir()):
        if not item.is_dir():
            continue
        size = _size(item)
        if item.name.endswith("Layer") or (item / "python").is_dir():
            junk = sorted(
                str(p.relative_to(item))
                for p in item.rglob("*")
                if p.is_dir() and (p.name in ("__pycache__", "tests", "test") or p.name == "bin")
            )
            dists = {
                _normal(p.name.split("-")[0])
                for p in (item / "python").glob("*.dist-info")
                if (item / "python").is_dir()
            }
            extra = sorted(dists - _pins()) if item.name == "DependenciesLayer" else []
            missing = sorted(_pins() - dists) if item.name == "DependenciesLayer" else []
            packages = (
                sorted(((_size(p), p.name) for p in (item / "python").iterdir() if p.is_dir()), reverse=True)[:4]
                if (item / "python").is_dir()
                else []
            )
            rows.append(
                {
                    "artifact": item.name,
                    "kind": "layer",
                    "bytes": size,
                    "junk": junk[:5],
                    "extra": extra,
                    "missing": missing,
                    "largest": [f"{name} {kb // 1024} KB" for kb, name in packages],
                    "ok": not junk and not extra and not missing,
                }
            )
        else:
            rows.append({"artifact": item.name, "kind": "function", "bytes": size, "ok": size < FUNCTION_GOAL})
    return {"build_s": seconds, "rebuilt": rebuilt, "rows": rows}


if __name__ == "__main__":
    import json

    print(json.dumps(measure(), indent=1))
