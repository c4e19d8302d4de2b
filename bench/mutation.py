"""`make mutation`: mutation testing of the domain's decision modules with mutmut 3, score in bench/mutation.md.

mutmut names a mutant after the module it imports, so it must see the package as `src/clinic`: this script
lays out a scratch copy of the project in build/mutation (the package under src/, the tests, the local
gateway, the functions and the template), runs `mutmut run` there with the venv of requirements/mutation.txt
(which has no editable install of `clinic`, so the tests import the mutated copy; mutmut's own forced-failure
check stops the run if they did not), then writes the score and every surviving mutant, with its
explanation from bench/mutation_survivors.toml when there is one, to bench/mutation.md. Exits 1 under GOAL.

mutmut first runs the fast tests once to learn which test calls which function, then runs each mutant against
only the tests that call the mutated function, stopping at the first failure. The fast tests are tests/handlers
and tests/tooling without the `slow` marker (the scale and property tests of minutes).

A full run takes hours (see README): `--resume` continues an interrupted run where it stopped, `--report` writes
the report from the results so far (the score then counts only the mutants checked), and `--retest` brings the
current checkout in (after writing tests for survivors, or changing code): it checks the mutants of every function
whose code changed (mutmut compares each function's hash and keeps the other results), then runs the mutants the
last run did not kill against the current tests. Environment: MUTATION_JOBS (parallel mutants, default: every
CPU); MUTATION_MODULES (comma-separated, to work a few modules at a time; the goal is for all of them): the staged
copy always has the mutants of every module, and MUTATION_MODULES picks which of them a run, `--resume` or the
survivors `--retest` checks, so the results of earlier modules stay and the report has them all. `--lock`
regenerates the hash-pinned requirements/mutation.txt from requirements/mutation.in.

The report counts as killed a mutant that passed the tests but that mypy rejects (rejected_by_mypy): `make test`
would stop it all the same. It says how many those are, and the score of the tests alone.
"""

from __future__ import annotations

import ast
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from collections import Counter
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "build" / "mutation"
VENV = ROOT / ".venv" / "mutation"
REPORT = ROOT / "bench" / "mutation.md"
EXPLAINED = ROOT / "bench" / "mutation_survivors.toml"
LOCK_IN = ROOT / "requirements" / "mutation.in"
LOCK = ROOT / "requirements" / "mutation.txt"
GOAL = 0.90

# The modules that decide things (issue 19). store, http, settings, ids, clock, errors and openapi are
# I/O and plumbing: mutating them mostly measures moto and Powertools.
MODULES = (
    "access",
    "validation",
    "models",
    "patients",
    "gauges",
    "summaries",
    "cursors",
    "care_teams",
    "accounts",
    "idempotency",
    "audit",
)
# mutmut copies these into the staged tree itself (the tests, and the pyproject.toml with its configuration).
MUTMUT_COPIES = ("tests/", "pyproject.toml")
# The cold-start tests run the functions in fresh interpreters of the dev venv's kind (clinic installed): mutmut
# can neither switch a mutant on in them nor see which of their tests call what, so they cannot kill a mutant.
TEST_SELECTION = (
    "tests/handlers",
    "tests/tooling",
    "-m",
    "not slow",
    "--ignore=tests/handlers/test_cold_start.py",
    # What tests/unit held before the rename, so that scores stay comparable: not the gateway on a toy
    # template (it calls no domain code), nor make run's first run in subprocesses.
    "--ignore=tests/tooling/test_gateway.py",
    "--ignore=tests/tooling/test_first_run.py",
)
# mutmut's name for a mutant the type checker rejects (its own type_check_command would skip testing those, but it
# stops at a type error outside a mutant: see rejected_by_mypy).
TYPE_CHECKED = "caught by type check"
KILLED = frozenset({"killed", "timeout", TYPE_CHECKED})
# mutmut stops a mutant's tests after (their time in the clean run + 1 s) * multiplier / 2 of wall clock
# (mutmut 3.8's forkserver), and a timeout counts as killed. Its default of 15 gave about 22 s to the one quick
# test of a mutant, which pays for its module's fixtures (moto, the template) on top: on a loaded machine every
# mutant of a run "timed out" and counted as killed. 60 leaves room for that; a real endless loop still ends.
TIMEOUT_MULTIPLIER = 60.0
# The run's pytest plugin (SAM CLI from the dev venv, the order of each mutant's tests): see its docstring.
PLUGIN = ROOT / "bench" / "mutation_plugin.py"
DEV_VENV_PYTHON = ROOT / ".venv" / "bin" / "python"


def _source_glob(module: str) -> str:
    """mutmut's pattern for a decision module's source: a package (models) is all of its files."""
    package = ROOT / "layers" / "clinic" / "clinic" / module
    return f"src/clinic/{module}/*.py" if package.is_dir() else f"src/clinic/{module}.py"


def modules() -> tuple[str, ...]:
    chosen = tuple(m.strip() for m in os.environ.get("MUTATION_MODULES", "").split(",") if m.strip())
    unknown = set(chosen) - set(MODULES)
    if unknown:
        sys.exit(f"MUTATION_MODULES: not a decision module: {', '.join(sorted(unknown))}")
    return chosen or MODULES


def _toml_list(values: tuple[str, ...] | list[str]) -> str:
    return "[" + ", ".join(json.dumps(v) for v in values) + "]"


IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", ".hypothesis", ".pytest_cache")


def stage() -> None:
    """build/mutation: a fresh copy of what the fast tests need, with the package at src/clinic."""
    if WORK.exists():
        shutil.rmtree(WORK)
    (WORK / "mutants").mkdir(parents=True)
    shutil.copytree(ROOT / "layers" / "clinic" / "clinic", WORK / "src" / "clinic", ignore=IGNORE)
    shutil.copytree(ROOT / "tests", WORK / "tests", ignore=IGNORE)
    stage_project_files()
    config = f"""
[tool.mutmut]
source_paths = ["src/clinic"]
only_mutate = {_toml_list([_source_glob(m) for m in MODULES])}
pytest_add_cli_args_test_selection = {_toml_list(TEST_SELECTION)}
pytest_add_cli_args = ["-p", "{PLUGIN.stem}"]
use_git_change_detection = false
timeout_multiplier = {TIMEOUT_MULTIPLIER}
"""
    (WORK / "pyproject.toml").write_text((ROOT / "pyproject.toml").read_text() + config)


def stage_project_files() -> None:
    # Every other file of the project goes straight where the tests run, as the fast tests read it (the template,
    # the functions, the local gateway, the web app, the layer for the cold-start tests' fresh interpreters...):
    # a list of what they need breaks with every new test. mutmut's own copy would turn docs/'s symlink into a
    # file. The original layers/clinic/clinic is there too, but not on the tests' sys.path (the mutated copy in
    # src/ is; mutmut's forced-failure check proves they import it).
    listed = ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"]
    files = subprocess.run(listed, cwd=ROOT, check=True, capture_output=True, text=True).stdout.split("\0")
    for name in files:
        source = ROOT / name
        if not name or name.startswith(MUTMUT_COPIES):
            continue
        if not source.is_symlink() and not source.is_file():
            continue  # deleted but not yet committed
        staged = WORK / "mutants" / name
        staged.parent.mkdir(parents=True, exist_ok=True)
        if staged.is_symlink():
            staged.unlink()  # copy2 replaces a file but not a symlink (--retest stages over an earlier run)
        shutil.copy2(source, staged, follow_symlinks=False)
    shutil.copy2(PLUGIN, WORK / "mutants" / PLUGIN.name)


@cache
def sam_cli_site_packages() -> str:
    """The dev venv's site-packages, where SAM CLI is (the plugin imports from it what the mutation venv lacks)."""
    if not DEV_VENV_PYTHON.exists():
        sys.exit(f"{DEV_VENV_PYTHON} is missing: run `make venv` first (the tests read template.yaml with SAM CLI)")
    where = [str(DEV_VENV_PYTHON), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]
    return subprocess.run(where, check=True, capture_output=True, text=True).stdout.strip()


def mutmut(*args: str, capture: bool = False) -> subprocess.CompletedProcess[str]:
    # No PYTHONPATH or endpoint from the developer's shell: the tests must import the staged copy only.
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "AWS_ENDPOINT_URL_DYNAMODB")}
    env["MUTATION_SAM_CLI_SITE_PACKAGES"] = sam_cli_site_packages()
    return subprocess.run(
        [str(VENV / "bin" / "mutmut"), *args], cwd=WORK, env=env, text=True, capture_output=capture, check=False
    )


def results() -> dict[str, str]:
    """Every mutant of the listed modules and its status (killed, survived, no tests, timeout...)."""
    listed = mutmut("results", "--all", "true", capture=True)
    if listed.returncode != 0:
        sys.exit(listed.stderr or listed.stdout)
    statuses = {}
    for line in listed.stdout.splitlines():
        name, sep, status = line.strip().rpartition(": ")
        if sep and "__mutmut_" in name:
            statuses[name] = status
    return statuses


def diff(name: str) -> str:
    """The mutant's diff, as `mutmut show` prints it, made in this process (a mutmut process takes seconds to
    start, a report shows hundreds of diffs)."""
    from mutmut.mutation.diff_apply import get_diff_for_mutant

    for meta in (WORK / "mutants" / "src").rglob("*.py.meta"):
        if name in json.loads(meta.read_text())["exit_code_by_key"]:
            with contextlib.chdir(WORK):
                return get_diff_for_mutant(name, path=meta.relative_to(WORK / "mutants").with_suffix(""))
    raise LookupError(name)


def changed_line(patch: str) -> str:
    """The mutated line itself, as it reads in the mutant (what an explanation is matched against)."""
    added = [line[1:].strip() for line in patch.splitlines() if line.startswith("+") and not line.startswith("+++")]
    return added[0] if added else ""


def module_of(name: str) -> str:
    return name.split(".")[1]


def chosen(names: list[str]) -> list[str]:
    """The mutants of the modules MUTATION_MODULES picks."""
    picked = set(modules())
    return [name for name in names if module_of(name) in picked]


def rejected_by_mypy() -> set[str]:
    """The mutants `make test` would stop though the tests let them pass: its `make typecheck` (mypy, the
    project's configuration, the dev venv's) run once over the staged mutated package, each error counted
    against the mutant function it is in. An error outside a mutant is the trampoline's doing, not a mutant's:
    each copy of a method that annotates an attribute (`self._records: ... = None`) annotates it again, which
    mypy reports as a redefinition (that is also why mutmut's own type_check_command cannot be used: it stops
    at such an error)."""
    mypy = DEV_VENV_PYTHON.parent / "mypy"
    checked = subprocess.run(
        [str(mypy), "--output", "json", "--config-file", str(ROOT / "pyproject.toml"), "src/clinic"],
        cwd=WORK / "mutants",
        capture_output=True,
        text=True,
        check=False,
    )
    errors = [json.loads(line) for line in checked.stdout.splitlines() if line.strip()]
    if checked.returncode not in (0, 1) or (checked.returncode == 1 and not errors):
        sys.exit(f"mypy failed on the mutants: {checked.stderr or checked.stdout}")
    rejected = set()
    for path in {error["file"] for error in errors}:
        module = ".".join(Path(path).relative_to("src").with_suffix("").parts).removesuffix(".__init__")
        tree = ast.parse((WORK / "mutants" / path).read_text())
        spans = [
            (node.lineno, node.end_lineno or node.lineno, node.name)
            for top in tree.body
            for node in ([top] if isinstance(top, ast.FunctionDef) else getattr(top, "body", []))
            if isinstance(node, ast.FunctionDef) and "__mutmut_" in node.name and not node.name.endswith("_orig")
        ]
        for error in errors:
            if error["file"] == path:
                rejected |= {f"{module}.{name}" for start, end, name in spans if start <= error["line"] <= end}
    return rejected


def type_checked(statuses: dict[str, str]) -> dict[str, str]:
    """The statuses with each mutant the tests let survive but mypy rejects as caught by type check."""
    if "survived" not in statuses.values():
        return statuses
    rejected = rejected_by_mypy()
    return {n: TYPE_CHECKED if s == "survived" and n in rejected else s for n, s in statuses.items()}


TABLE_HEAD = (
    "| module | mutants | killed | timeout | passed the tests, rejected by mypy | survived | no tests | not checked |"
)


def write_report(statuses: dict[str, str], seconds: float | None) -> float:
    """bench/mutation.md; returns the share of the checked mutants that were killed."""
    explained = tomllib.loads(EXPLAINED.read_text()) if EXPLAINED.exists() else {}
    checked = {n: s for n, s in statuses.items() if s != "not checked"}
    killed = sum(s in KILLED for s in checked.values())
    by_tests = killed - sum(s == TYPE_CHECKED for s in checked.values())
    score = killed / len(checked) if checked else 0.0
    per_module: dict[str, Counter[str]] = {m: Counter() for m in MODULES if any(module_of(n) == m for n in statuses)}
    for name, status in statuses.items():
        per_module[module_of(name)][status] += 1
    survivors = sorted(n for n, s in checked.items() if s not in KILLED)
    took = f"{seconds / 60:.0f} minutes" if seconds is not None else "time not measured (written by --report)"
    partial = len(statuses) - len(checked)
    lines = [
        "# Mutation testing",
        "",
        f"`make mutation` (mutmut, {len(per_module)} modules of `layers/clinic/clinic`, the fast unit tests) on "
        f"{datetime.now(UTC):%Y-%m-%d}: **{killed} of {len(checked)} mutants checked killed ({score:.1%})**, goal "
        f"{GOAL:.0%}; {took} with {os.environ.get('MUTATION_JOBS') or os.cpu_count()} parallel mutants.",
        "",
        f"Killed by the tests alone: {by_tests} ({by_tests / len(checked) if checked else 0:.1%}); the other "
        f"{killed - by_tests} passed the tests but `make test` stops them anyway: its mypy rejects them (a `None` "
        "where a value is required, a call missing an argument).",
        "",
    ]
    if partial:
        lines += [
            f"**Partial run: {partial} of {len(statuses)} mutants not checked yet** (`bench/mutation.py --resume`); "
            "mutmut checks the mutants with the quickest tests first, so the score so far is of those.",
            "",
        ]
    lines += [
        TABLE_HEAD,
        "|---|---|---|---|---|---|---|---|",
    ]
    for module, counts in per_module.items():
        lines.append(
            f"| {module} | {sum(counts.values())} | {counts['killed']} | {counts['timeout']} "
            f"| {counts[TYPE_CHECKED]} | {counts['survived']} | {counts['no tests']} | {counts['not checked']} |"
        )
    lines += ["", f"## Surviving mutants ({len(survivors)})", ""]
    if not survivors:
        lines.append("None.")
    unexplained = 0
    for name in survivors:
        patch = diff(name)
        note = explained.get(name)
        if note and note.get("line", "").strip() != changed_line(patch):
            note = None  # the function changed since: the explanation was about another mutant
        unexplained += note is None
        why = f"**{note['kind']}**: {note['why'].strip()}" if note else "**not explained yet**"
        lines += [f"### `{name}` ({statuses[name]})", "", why, "", "```diff", patch.strip(), "```", ""]
    at = lines.index(TABLE_HEAD)
    lines[at:at] = [
        f"Survivors: {len(survivors)}, of which {len(survivors) - unexplained} are explained in "
        "bench/mutation_survivors.toml (equivalent mutants, or why no test should kill them).",
        "",
    ]
    REPORT.write_text("\n".join(lines).rstrip() + "\n")
    return score


def lock() -> None:
    """requirements/mutation.txt from mutation.in: every package pip resolves, with the sha256 of its file."""
    with tempfile.TemporaryDirectory() as scratch:
        report = Path(scratch) / "report.json"
        pip = [sys.executable, "-m", "pip", "install", "--quiet", "--dry-run", "--ignore-installed"]
        subprocess.run([*pip, "--report", str(report), "-r", str(LOCK_IN)], check=True)
        resolved = json.loads(report.read_text())["install"]
    pins = sorted(
        (
            (p["metadata"]["name"], p["metadata"]["version"], p["download_info"]["archive_info"]["hashes"]["sha256"])
            for p in resolved
        ),
        key=lambda pin: pin[0].lower(),
    )
    body = [f"{name}=={version} \\\n    --hash=sha256:{digest}" for name, version, digest in pins]
    LOCK.write_text(
        "# Full hash-pinned lock of the mutation venv (.venv/mutation, created by `make mutation`); the hashes are\n"
        f"# of the files pip chose on {sys.platform}, python {sys.version_info.major}.{sys.version_info.minor}. "
        "Generated from requirements/mutation.in by\n# `python3 bench/mutation.py --lock`; do not edit by hand.\n"
        + "\n".join(body)
        + "\n"
    )


def restage() -> None:
    """The current checkout into build/mutation, keeping mutmut's results (--retest): the tests and the project's
    other files replaced, and each package file that changed copied anew (a newer modification time than its
    mutants'), so that mutmut makes that file's mutants again and forgets the results of the functions whose code
    changed; it keeps the others' (it compares each function's hash)."""
    for target in (WORK / "tests", WORK / "mutants" / "tests"):
        shutil.rmtree(target)
        shutil.copytree(ROOT / "tests", target, ignore=IGNORE)
    package = ROOT / "layers" / "clinic" / "clinic"
    for source in package.rglob("*.py"):
        staged = WORK / "src" / "clinic" / source.relative_to(package)
        if not staged.exists() or staged.read_bytes() != source.read_bytes():
            staged.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, staged)
    stage_project_files()


def main() -> int:
    mode = sys.argv[1] if len(sys.argv) > 1 else ""
    if mode == "--lock":
        lock()
        return 0
    started = time.monotonic()
    jobs = os.environ.get("MUTATION_JOBS") or str(os.cpu_count() or 2)
    run = None
    # mutmut runs again every mutant it is given by name (or pattern), and with no name every one it has no
    # result for: so a run of some modules names them, and --resume names only their mutants not checked yet.
    every = modules() == MODULES
    if mode == "--retest":
        # After changing the tests or the code: the mutants of changed functions (and any not checked yet), then
        # the earlier runs' survivors against the current tests; not the ones this run just checked, nor those
        # bench/mutation_survivors.toml explains as out of any test's reach (equivalent, unreachable...).
        restage()
        earlier = [name for name, status in results().items() if status not in KILLED | {"not checked"}]
        run = mutmut("run", "--max-children", jobs)
        statuses = results()
        explained = tomllib.loads(EXPLAINED.read_text()) if EXPLAINED.exists() else {}
        out_of_reach = {n for n, note in explained.items() if note["kind"] != "killed since"}
        # A function that lost code lost mutants too: an earlier survivor may no longer exist.
        alive = [n for n in earlier if n in statuses and statuses[n] not in KILLED | {"not checked"}]
        again = chosen([n for n in alive if n not in out_of_reach])
        if run.returncode == 0 and again:
            run = mutmut("run", "--max-children", jobs, *again)
    elif mode == "--resume":
        left = [] if every else chosen([name for name, status in results().items() if status == "not checked"])
        run = mutmut("run", "--max-children", jobs, *left) if every or left else None
    elif mode != "--report":
        stage()
        run = mutmut("run", "--max-children", jobs, *([] if every else [f"clinic.{m}.*" for m in modules()]))
    if run is not None and run.returncode != 0:
        print(f"mutmut run failed ({run.returncode}); see its output above", file=sys.stderr)
        return run.returncode
    seconds = time.monotonic() - started
    statuses = type_checked(results())
    if not statuses:
        print("mutmut reported no mutants", file=sys.stderr)
        return 1
    score = write_report(statuses, seconds if run is not None else None)
    checked = {n: s for n, s in statuses.items() if s != "not checked"}
    survivors = sum(s not in KILLED for s in checked.values())
    print(
        f"{score:.1%} of {len(checked)} mutants checked killed (goal {GOAL:.0%}), {survivors} survived, "
        f"{len(statuses) - len(checked)} not checked yet; see {REPORT.relative_to(ROOT)}"
    )
    return 0 if score >= GOAL and len(checked) == len(statuses) else 1


if __name__ == "__main__":
    sys.exit(main())
