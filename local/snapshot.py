"""`make run`'s data across restarts: the embedded DynamoDB's items, saved to `.local/dynamodb.json`.

Why this way: moto keeps its tables in process memory and has no storage of its own. Pickling its backend
would tie the file to moto's private classes (a moto upgrade in the lock would make it unreadable) and
replaying recorded requests (moto's recorder) grows with every request ever made. The items themselves, in
DynamoDB's own JSON (what a GetItem returns), are stable: the tables and their indexes are created from
template.yaml at every start, as before, and the items are loaded back into them. So a template change (a new
index) applies to kept data, and the file is plain JSON one can read or `jq`.

Written a second after the last write (and at exit), whole, to a temporary file in the same folder that is
then renamed over the previous one: a crash or a kill at any moment leaves either the previous file or the new
one, never half of one. The copy is taken under the embedded server's write lock, so it never holds half of a
transaction.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from moto.core import DEFAULT_ACCOUNT_ID
from moto.dynamodb.models import DynamoDBBackend, dynamo_type, dynamodb_backends
from moto.dynamodb.models.dynamo_type import DynamoType, Item

from local import moto_server

FORMAT = 1  # bumped if the file's layout changes; an unknown one is refused with a clear line


class UnreadableData(Exception):
    """The data file exists but cannot be used (its message says why)."""


def _backend(region: str) -> DynamoDBBackend:
    return dynamodb_backends[DEFAULT_ACCOUNT_ID][region]


def dump(region: str, demo: dict[str, Any]) -> dict[str, Any]:
    """Every item of every table, and the demo clinic's ids and tokens (shown again at the next start)."""
    backend = _backend(region)
    with moto_server.WRITE_LOCK:
        tables = {
            name: [item.to_json()["Attributes"] for item in table.all_items()] for name, table in backend.tables.items()
        }
    return {"format": FORMAT, "demo": demo, "tables": tables}


def save(path: Path, region: str, demo: dict[str, Any]) -> None:
    """Write the data file atomically: a temporary file beside it, flushed to disk, then renamed over it."""
    data = dump(region, demo)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as file:  # mkstemp: mode 0600 (demo tokens, patient data)
            json.dump(data, file, separators=(",", ":"))
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def read(path: Path) -> dict[str, Any]:
    """The data file, checked before anything starts (a file that cannot be used is a one-line error)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise UnreadableData(f"{path} cannot be read ({type(error).__name__})") from error
    if not isinstance(data, dict) or data.get("format") != FORMAT or not isinstance(data.get("tables"), dict):
        raise UnreadableData(f"{path} is not a data file of this version of make run")
    return data


def load(data: dict[str, Any], region: str) -> dict[str, Any]:
    """Put the items of `read()` into the (freshly created, empty) tables; returns the demo clinic it names.

    Straight into moto's table, as Table.put_item would, without its checks: these items passed them when they
    were written, and the item size check alone (recomputed at every attribute) was most of the load time.
    """
    backend = _backend(region)
    checked = dynamo_type.LimitedSizeDict.__setitem__
    dynamo_type.LimitedSizeDict.__setitem__ = dict.__setitem__  # type: ignore[method-assign,assignment]
    try:
        with moto_server.WRITE_LOCK:
            for name, items in data["tables"].items():
                if name not in backend.tables:
                    continue  # a table the template no longer has
                table = backend.tables[name]
                for attributes in items:
                    hash_value = DynamoType(attributes[table.hash_key_attr])
                    if table.range_key_attr is None:
                        table.items[hash_value] = Item(hash_value, None, attributes)
                    else:
                        range_value = DynamoType(attributes[table.range_key_attr])
                        table.items[hash_value][range_value] = Item(hash_value, range_value, attributes)
    finally:
        dynamo_type.LimitedSizeDict.__setitem__ = checked  # type: ignore[method-assign]
    return dict(data.get("demo") or {})


def keep_saving(path: Path, region: str, demo: dict[str, Any], every: float = 1.0) -> Callable[[], None]:
    """Save whenever the tables changed, at most once per `every` seconds, and with big tables at most a fifth of
    the time (a save of 100,000 gauges takes seconds); returns stop(), which saves once more if anything changed."""
    saved = [moto_server.writes()]
    took = [0.0]
    stopping = threading.Event()

    def save_if_changed() -> None:
        count = moto_server.writes()
        if count != saved[0]:
            started = time.monotonic()
            save(path, region, demo)
            saved[0], took[0] = count, time.monotonic() - started

    def loop() -> None:
        while not stopping.wait(max(every, 4 * took[0])):
            save_if_changed()

    thread = threading.Thread(target=loop, name="save-local-data", daemon=True)
    thread.start()

    def stop() -> None:
        stopping.set()
        thread.join()
        save_if_changed()

    return stop
