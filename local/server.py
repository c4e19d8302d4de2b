"""`make run`: the API and the web app on http://127.0.0.1:3000 over an embedded DynamoDB, with a seeded demo
clinic whose data is kept in `.local/` across restarts.

A newcomer's mistake (a port in use, a malformed PORT, a stale AWS_ENDPOINT_URL_DYNAMODB, a second `make run`
in the same folder, a Python without the project's packages) ends it with one line that says what happened and
what to do, and exit status 1; DEBUG=1 shows the traceback instead. Only the standard library is imported at
the top, so that even the last of those can be said in one line.
"""

from __future__ import annotations

import errno
import os
import signal
import socket
import sys
import threading
import time
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

if sys.version_info < (3, 11):  # noqa: UP036 - it is the point: say so instead of failing somewhere later
    sys.exit(f"make run: Python 3.11 or newer is needed, this is {sys.version.split()[0]}: see README.md, Two commands")

LOCAL_DIR = Path(".local")  # LOCAL_DIR=... elsewhere (tests run servers side by side)
ENV_FILE = "run.env"
DATA_FILE = "dynamodb.json"
LOCK_FILE = "run.lock"


class Stop(Exception):
    """A mistake `make run` can name: the message is the one line the user sees."""


def _flag(name: str) -> bool:
    return os.environ.get(name, "") not in ("", "0", "false", "no")


def _port(name: str, default: str | None) -> int | None:
    value = os.environ.get(name) or default
    if value is None:
        return None
    if not value.isdigit() or not 1 <= int(value) <= 65535:
        raise Stop(f"{name}={value!r} is not a port number: use one from 1024 to 65535, e.g. {name}=3001 make run")
    return int(value)


def _taken(port: int, name: str) -> Stop:
    return Stop(
        f"port {port} is already in use (another make run, or another program): "
        f"choose another, e.g. {name}={port + 10} make run"
    )


def _check_free(host: str, port: int, name: str) -> None:
    """Fail now, in one line, rather than after the seed with an OSError from deep in a server thread."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the servers bind: TIME_WAIT is not "in use"
        try:
            sock.bind((host, port))
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                raise _taken(port, name) from error
            raise Stop(f"cannot listen on {host}:{port} ({error.strerror}): check HOST and {name}") from error


def _answers(endpoint: str) -> bool:
    parts = urlsplit(endpoint)
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        with socket.create_connection((parts.hostname or "127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def _read_env(path: Path) -> dict[str, str]:
    """The variables a previous run wrote for `source .local/run.env`."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return {}
    pairs = (line.removeprefix("export ").partition("=") for line in lines)
    return {key: value for key, _, value in pairs if key}


def _write_env(path: Path, values: dict[str, str]) -> None:
    """Shell variables for a second terminal (`source .local/run.env`): the URL and the demo tokens."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"export {k}={v}\n" for k, v in values.items()))
    path.chmod(0o600)  # tokens


def _lock(local_dir: Path, host: str, port: int) -> IO[str]:
    """One `make run` per folder: two would write the same data file. An flock, so a crashed run leaves no stale
    lock behind (the kernel drops it with the process). Kept open for the life of the process."""
    import fcntl

    local_dir.mkdir(parents=True, exist_ok=True)
    file = (local_dir / LOCK_FILE).open("a+", encoding="utf-8")
    try:
        fcntl.flock(file, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        file.seek(0)
        pid, _, url = file.read().strip().partition(" ")
        file.close()
        raise Stop(
            f"already running in this folder (pid {pid or '?'}, {url or 'starting'}): "
            "use that one, or stop it (Ctrl-C in its terminal) first"
        ) from None
    _claim(file, f"http://{host}:{port}")
    return file


def _claim(lock: IO[str], url: str) -> None:
    """What a second `make run` in this folder says: this process and its URL."""
    lock.truncate(0)
    lock.write(f"{os.getpid()} {url}\n")
    lock.flush()


def _dynamodb_port(host: str, api_port: int) -> int:
    """DYNAMODB_PORT, else PORT+1 when free, else any free port: fixed so the admin CLI can reach it."""
    port = _port("DYNAMODB_PORT", None)
    if port is not None:
        _check_free(host, port, "DYNAMODB_PORT")
        return port
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, api_port + 1))
            return api_port + 1
        except OSError:
            sock.bind((host, 0))
            return int(sock.getsockname()[1])


def _endpoint(host: str, api_port: int, env_file: Path) -> tuple[str | None, int | None]:
    """(an external DynamoDB endpoint to use, or None) and the port for the embedded one."""
    endpoint = os.environ.get("AWS_ENDPOINT_URL_DYNAMODB")
    if not endpoint:
        return None, _dynamodb_port(host, api_port)
    if _answers(endpoint):
        return endpoint, None
    if endpoint == _read_env(env_file).get("AWS_ENDPOINT_URL_DYNAMODB"):
        # This shell sourced the run.env of an earlier make run, whose embedded DynamoDB stopped with it: serve the
        # embedded one there again, so that the shell's variables (patients-admin's endpoint) stay right.
        port = urlsplit(endpoint).port or 0
        _check_free(host, port, "DYNAMODB_PORT")
        return None, port
    raise Stop(
        f"nothing answers at AWS_ENDPOINT_URL_DYNAMODB={endpoint}: start that DynamoDB, "
        "or `unset AWS_ENDPOINT_URL_DYNAMODB` to use the embedded one"
    )


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def _require_packages() -> None:
    """Run with a Python that lacks the project's packages (no make, so no .venv): say how to get them."""
    import importlib.util

    for name in ("boto3", "moto", "aws_lambda_powertools", "samcli"):
        if importlib.util.find_spec(name) is None:
            raise Stop(
                f"{sys.executable} does not have the project's packages ({name}): run `make run`, which creates "
                ".venv first (no make? apt-get install make, or xcode-select --install on macOS)"
            )


def serve(local_dir: Path) -> None:
    host = os.environ.get("HOST", "127.0.0.1")
    port = _port("PORT", "3000")
    assert port is not None
    fresh = _flag("FRESH")
    env_file, data_file = local_dir / ENV_FILE, local_dir / DATA_FILE
    # `kill` (SIGTERM) stops it as Ctrl-C does: the last changes are saved before it exits. Ctrl-C too, even when
    # started where SIGINT is ignored (a background job of a script: bash ignores SIGINT for those, and Python
    # then installs no KeyboardInterrupt handler), so `kill -INT` always stops it. Both before "Ctrl-C to stop."
    # is printed: a signal sent as soon as it is read must not be lost.
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    _require_packages()
    lock = _lock(local_dir, host, port)
    _check_free(host, port, "PORT")
    external, dynamodb_port = _endpoint(host, port, env_file)
    from local import snapshot

    kept = None
    if not external and not fresh and data_file.exists():
        try:
            kept = snapshot.read(data_file)
        except snapshot.UnreadableData as error:
            raise Stop(f"{error}: `make run FRESH=1` starts again from the demo seed (and replaces it)") from error

    from local.dynamodb import create_tables, start_embedded
    from local.gateway import start_schedules
    from local.template import REGION, load_template
    from local.webapp import AppGateway

    # Dummy credentials: boto3 refuses to sign without some, and nothing here talks to AWS.
    os.environ.setdefault("AWS_DEFAULT_REGION", REGION)
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "local")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "local")

    stop_db = None
    if external:
        endpoint = external
    else:
        assert dynamodb_port is not None
        endpoint, stop_db = start_embedded(host, dynamodb_port)
        os.environ["AWS_ENDPOINT_URL_DYNAMODB"] = endpoint
    stop_saving = None
    try:
        template = load_template()
        tables = create_tables(template, endpoint_url=endpoint)
        gateway = AppGateway(template)  # sets the functions' environment (TABLE_NAME, ...) before seeding
        # Only now: the seed imports the domain, whose logger reads POWERTOOLS_SERVICE_NAME once, at import.
        from local.seed import seed_demo

        if external:
            demo, data_line = seed_demo(), "kept by the DynamoDB at AWS_ENDPOINT_URL_DYNAMODB"
        elif kept is not None:
            demo = snapshot.load(kept, REGION)
            del kept  # the items are in the tables now
            data_line = f"{data_file} (kept from the last run; make run FRESH=1 or make reset for the demo seed)"
        else:
            demo = seed_demo()
            snapshot.save(data_file, REGION, demo)
            data_line = f"{data_file} (a new demo seed, kept across restarts; make run FRESH=1 starts over)"
        if not external:
            stop_saving = snapshot.keep_saving(data_file, REGION, demo)
        try:
            server = gateway.serve(host, port)
        except OSError as error:  # taken since _check_free
            if error.errno == errno.EADDRINUSE:
                raise _taken(port, "PORT") from error
            raise
        url = server.url  # type: ignore[attr-defined]
        _claim(lock, url)
        # The gateway also answers API Gateway's FlushStageAuthorizersCache (LocalGateway.manage): the functions
        # in this process and patients-admin (run.env) flush its authorizer cache there, as they do on AWS.
        from local.events import API_ID

        api_gateway = {"AWS_ENDPOINT_URL_API_GATEWAY": url, "API_ID": API_ID, "API_STAGE": gateway.stage}
        os.environ.update(api_gateway)
        table_name = gateway.functions and next(iter(gateway.functions.values())).environment.get("TABLE_NAME")
        admin_env = {
            "AWS_ENDPOINT_URL_DYNAMODB": endpoint,
            "TABLE_NAME": str(table_name or tables[0]),
            "AWS_DEFAULT_REGION": REGION,
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
            **api_gateway,
        }
        schedules = threading.Event()  # set: they stop
        try:
            _announce(url, gateway, tables, demo, data_line, env_file, admin_env)
            start_schedules(gateway, schedules)
            # Python runs signal handlers in this thread only, between two of its bytecodes: a signal the kernel
            # gave another thread (schedules, requests) waits for it to wake, which a bare Event().wait() never does.
            while True:
                time.sleep(0.5)
        except KeyboardInterrupt:
            print("\nstopping", file=sys.stderr)
        finally:
            schedules.set()
            gateway.shutdown()
    finally:
        if stop_saving:
            stop_saving()  # the last changes, before the server that holds them goes
        if stop_db:
            stop_db()


def _announce(
    url: str,
    gateway: Any,
    tables: list[str],
    demo: dict[str, Any],
    data_line: str,
    env_file: Path,
    admin_env: dict[str, str],
) -> None:
    """Print how to use this server, and write the same variables for a second terminal (`admin_env`: what
    patients-admin needs to reach it)."""
    lines = [
        "",
        f"Patients API (local): {url}   (stage '{gateway.stage}' is not part of local URLs)",
        f"Web app:              {url}/" if gateway.web.built else "Web app:              not built (make build)",
        f"DynamoDB endpoint:    {admin_env['AWS_ENDPOINT_URL_DYNAMODB']}   tables: {', '.join(tables)}",
        f"Data:                 {data_line}",
        f"Demo clinic:          {demo['clinic_id']}",
    ]
    lines += [f"  {role:<11} X-User-Token: {token}" for role, token in demo["tokens"].items()]
    lines += [
        "",
        "Point patients-admin at this server with:",
        "  export " + " ".join(f"{k}={v}" for k, v in admin_env.items()),
        "",
        "The patient token belongs to a patient user of the first demo patient (PATIENT_ID): it reaches that",
        "record only.",
        f"The same, and the demo tokens as ADMIN_TOKEN, SUPERVISOR_TOKEN, PROVIDER_TOKEN, PATIENT_TOKEN: source {env_file}",
        f'Try: curl -H "X-User-Token: $ADMIN_TOKEN" {url}/v1/patients',
        "Ctrl-C to stop.",
        "",
    ]
    print("\n".join(lines), flush=True)
    _write_env(
        env_file,
        {
            "API": url,
            **{f"{role.upper()}_TOKEN": token for role, token in demo["tokens"].items()},
            "PATIENT_ID": str(demo["patient_ids"][0]),
            **admin_env,
            # So the CLI counts a failed flush in the same metric as the functions (on stderr here).
            "POWERTOOLS_METRICS_NAMESPACE": os.environ.get("POWERTOOLS_METRICS_NAMESPACE", ""),
            "POWERTOOLS_SERVICE_NAME": os.environ.get("POWERTOOLS_SERVICE_NAME", ""),
        },
    )


def reset(local_dir: Path) -> None:
    """`make reset`: forget the kept data; the next `make run` starts from the demo seed."""
    _lock(local_dir, "-", 0).close()  # refused while a make run serves (and would save) this folder's data
    data_file = local_dir / DATA_FILE
    if data_file.exists():
        data_file.unlink()
        print(f"removed {data_file}: the next make run starts from the demo seed")
    else:
        print(f"nothing to remove ({data_file} does not exist): make run starts from the demo seed")


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    local_dir = Path(os.environ.get("LOCAL_DIR") or LOCAL_DIR)
    try:
        if args == ["reset"]:
            reset(local_dir)
        else:
            serve(local_dir)
    except KeyboardInterrupt:  # Ctrl-C while starting
        return 130
    except Exception as error:
        if _flag("DEBUG"):
            raise
        command = f"make {'reset' if args == ['reset'] else 'run'}"
        if isinstance(error, Stop):
            print(f"{command}: {error}", file=sys.stderr)
        else:  # not a mistake we know: its type and message, and how to see where it came from
            print(
                f"{command} failed: {type(error).__name__}: {error} (DEBUG=1 {command} shows the traceback)",
                file=sys.stderr,
            )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
