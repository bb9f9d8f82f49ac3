"""What both examples share: the server's address, its token, JSON over HTTP, and checks that fail loudly."""

import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request

BASE_URL = os.environ.get("BASE_URL", "http://127.0.0.1:8000").rstrip("/")
# Only needed when the server runs with API_TOKEN.
TOKEN = os.environ.get("API_TOKEN", "")
USER_ID = os.environ.get("USER_ID", "user_0007")


def auth_headers() -> dict:
    return {"Authorization": f"Bearer {TOKEN}"} if TOKEN else {}


def api_url(path: str) -> str:
    return f"{BASE_URL}/api/v1{path}"


def ws_url(path: str) -> str:
    parts = urllib.parse.urlsplit(BASE_URL)
    scheme = "wss" if parts.scheme == "https" else "ws"
    return f"{scheme}://{parts.netloc}/api/v1{path}"


def get_json(path: str) -> dict:
    """GET a REST resource; an error answer raises with the server's code and message."""
    request = urllib.request.Request(api_url(path), headers={"Accept": "application/json", **auth_headers()})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read().decode("utf-8"))
    except urllib.error.HTTPError as err:
        body = json.loads(err.read().decode("utf-8") or "{}")
        error = body.get("error", {})
        raise Failed(f"GET {path}: HTTP {err.code} {error.get('code')}: {error.get('message')}") from None


class Failed(Exception):
    """A check did not hold."""


def check(ok: bool, what: str) -> None:
    if not ok:
        raise Failed(what)
    print(f"ok: {what}")


def run_main(main) -> None:
    """Runs an example; a failed check or an unexpected error exits non-zero."""
    try:
        main()
    except Failed as err:
        print(f"FAILED: {err}", file=sys.stderr)
        sys.exit(1)
    except Exception as err:  # noqa: BLE001 - any surprise is a failure of the example
        print(f"ERROR: {type(err).__name__}: {err}", file=sys.stderr)
        sys.exit(2)
