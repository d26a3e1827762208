import asyncio
import os
import re
import subprocess
import sys
import urllib.request
import json
from pathlib import Path

import pytest

# The package is the installed wheel (test.sh runs pytest in a virtualenv holding it).
import workboard_connect as wc  # noqa: E402

REPO = Path(os.environ.get("WORKBOARD_REPO", Path(__file__).resolve().parents[3]))


def run(coro):
    """Runs a coroutine with the event loop registered for callbacks from Rust threads."""

    async def main():
        wc.uniffi_set_event_loop(asyncio.get_running_loop())
        return await coro

    return asyncio.run(main())


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


_opener = urllib.request.build_opener(_NoRedirect)


class Sim:
    """A running `workboard-sim --port 0 --auto-approve`."""

    def __init__(self, *extra):
        bin_ = os.environ.get("WORKBOARD_SIM")
        if not bin_ or not os.access(bin_, os.X_OK):
            raise RuntimeError("WORKBOARD_SIM is not set to the workboard-sim binary")
        self.proc = subprocess.Popen(
            [bin_, "--port", "0", "--auto-approve", "--exit-on-stdin-close", *extra],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )
        first = self.proc.stdout.readline()
        m = re.search(r"listening on (http://127\.0\.0\.1:\d+)", first)
        if not m:
            self.close()
            raise RuntimeError(f"unexpected first line: {first!r}")
        self.base_url = m.group(1)

    def authorize(self, url):
        """The browser step: GET the authorize URL (auto-approve), return the Location."""
        try:
            resp = _opener.open(url)
            raise AssertionError(f"authorize answered {resp.status}")
        except urllib.error.HTTPError as e:
            assert 300 <= e.code < 400, e.code
            return e.headers["Location"]

    def control(self, path, body):
        req = urllib.request.Request(f"{self.base_url}/__sim/{path}", data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"}, method="POST")
        with _opener.open(req) as r:
            return json.loads(r.read())

    def stats(self):
        with _opener.open(f"{self.base_url}/__sim/stats") as r:
            return json.loads(r.read())

    def close(self):
        try:
            self.proc.stdin.close()
        except Exception:
            pass
        self.proc.terminate()
        self.proc.wait(timeout=10)


@pytest.fixture
def sim():
    s = Sim()
    yield s
    s.close()


@pytest.fixture
def sim_legacy():
    """A legacy-only simulator, for tests of the session (one initialize, notifications/cancelled,
    a 401 on the next tools/list): the modern era is covered byte for byte by test_vectors.py."""
    s = Sim("--era", "legacy")
    yield s
    s.close()


@pytest.fixture
def sim_dcr():
    s = Sim("--dcr", "on")
    yield s
    s.close()
