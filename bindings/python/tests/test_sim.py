"""Full flows against workboard-sim (a WorkBoard-compatible server on 127.0.0.1)."""
import asyncio
import re
import sys
import json
import urllib.error
import urllib.request

import pytest

import workboard_connect as wc
from conftest import Sim, run
from test_api import MemoryStore

REDIRECT = "http://127.0.0.1:8765/callback"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class UrllibTransport(wc.Transport):
    """The app's own HTTP stack (urllib in a worker thread), no redirects followed."""

    def __init__(self):
        self.opener = urllib.request.build_opener(_NoRedirect)
        self.sent = 0

    def _send(self, request):
        req = urllib.request.Request(request.url, data=bytes(request.body) or None, method=request.method)
        for h in request.headers:
            req.add_header(h.name, h.value)
        try:
            with self.opener.open(req, timeout=30) as r:
                return r.status, list(r.headers.items()), r.read()
        except urllib.error.HTTPError as e:
            return e.code, list(e.headers.items()), e.read()

    async def send(self, request):
        self.sent += 1
        try:
            status, headers, body = await asyncio.to_thread(self._send, request)
        except urllib.error.URLError as e:
            raise wc.HostError.Connect(reason=str(e.reason))
        return wc.HttpResponse(status=status, headers=[wc.HttpHeader(name=n, value=v) for n, v in headers], body=body)


def test_personal_token_lists_and_calls_tools(sim_legacy):
    sim = sim_legacy
    c = wc.WorkboardClient(wc.ClientOptions(environment=sim.base_url, token="wbp_demo_personal_token"))

    async def flow():
        info = await c.connect()
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", info.protocol_version) and info.name
        tools = await c.list_tools()
        assert "get_current_user" in [t.name for t in tools]
        r = await c.call_tool("get_current_user", "{}")
        assert not r.is_error and "ada@example.com" in r.text
        assert json.loads(r.content_json)[0]["type"] == "text"
        # Concurrent calls share one session.
        await asyncio.gather(c.list_tools(), c.list_tools(), c.call_tool("get_current_user", ""))
        await c.close()
        await c.close()  # closing twice is fine
        # Closing is final.
        with pytest.raises(wc.WorkboardError.Failed) as e:
            await c.ping()
        assert (e.value.code, e.value.kind) == ("client_stopped", wc.ErrorKind.STOPPED)

    run(flow())
    assert sim.stats()["counters"]["mcp:initialize"] == 1


def test_cancel_calls_stops_a_call_in_flight_and_the_client_stays_usable(sim_legacy):
    sim = sim_legacy
    import time

    c = wc.WorkboardClient(wc.ClientOptions(environment=sim.base_url, token="wbp_demo_personal_token"))

    def counter(name):
        return sim.stats()["counters"].get(name, 0)

    async def wait_for(what, ok):
        deadline = time.monotonic() + 10
        while not ok():
            assert time.monotonic() < deadline, f"timed out waiting for {what}"
            await asyncio.sleep(0.01)

    async def flow():
        await c.connect()
        before = counter("mcp")
        sim.control("faults", {"latency_ms": 1500})
        call = asyncio.ensure_future(c.call_tool("get_current_user", "{}"))
        # The tools/call request has reached the simulator (the route is counted on arrival;
        # `mcp:tools/call` only once the latency has passed).
        await wait_for("the tools/call request", lambda: counter("mcp") > before)
        c.cancel_calls()
        # Without the cancellation the call would succeed once the latency has passed.
        with pytest.raises(wc.WorkboardError.Failed) as e:
            await call
        assert e.value.code == "cancelled"
        assert e.value.kind == wc.ErrorKind.CANCELLED
        # The notification is counted once its own latency has passed.
        await wait_for("notifications/cancelled", lambda: counter("mcp:notifications/cancelled") > 0)
        assert counter("mcp:notifications/cancelled") == 1
        sim.control("faults", {"latency_ms": 0})
        r = await c.call_tool("get_current_user", "{}")
        assert not r.is_error and "ada@example.com" in r.text
        assert counter("mcp:notifications/cancelled") == 1
        assert counter("mcp:initialize") == 1
        await c.close()

    run(flow())


def test_wrong_token_is_unauthorized_with_hint(sim):
    c = wc.WorkboardClient(wc.ClientOptions(environment=sim.base_url, token="wbp_wrong"))
    with pytest.raises(wc.WorkboardError.Failed) as e:
        run(c.list_tools())
    assert e.value.code == "unauthorized"
    assert e.value.kind == wc.ErrorKind.NEEDS_SIGN_IN  # the server's 401
    assert sim.base_url in e.value.hint


def test_mcp_oauth_pkce_through_a_python_transport_with_refresh_and_revoke():
    # Legacy-only: the 401 → refresh is checked on the second tools/list, which a modern
    # server's ttlMs would answer from the cache (no request).
    sim = Sim("--dcr", "on", "--era", "legacy")
    try:
        transport = UrllibTransport()
        store = MemoryStore()
        c = wc.WorkboardClient(wc.ClientOptions(environment=sim.base_url), transport=transport, store=store)

        async def flow():
            start = await c.start_mcp_sign_in(wc.McpSignInOptions(redirect_uri=REDIRECT))
            assert "code_challenge_method=S256" in start.url and start.token_endpoint_auth == "none"
            location = await asyncio.to_thread(sim.authorize, start.url)
            s = await c.complete_mcp_sign_in(None, location)
            assert s.kind == "oauth" and s.has_refresh_token
            assert store.value == c.credentials_json()
            before = c.credentials_json()
            assert await c.list_tools()
            sim.control("faults", {"expire_tokens": True})
            assert await c.list_tools()  # 401 → refresh → retry
            assert c.credentials_json() != before and store.value == c.credentials_json()
            await c.refresh_mcp_credentials()
            assert await c.revoke_mcp_credentials() >= 0
            assert c.credentials_json() is None and store.value is None

        run(flow())
        assert transport.sent >= 6
    finally:
        sim.close()


def test_v1_sign_in_with_server_side_exchange(sim):
    app = wc.WorkboardClient(wc.ClientOptions(environment=sim.base_url))
    start = app.start_v1_sign_in(wc.V1SignInOptions(client_id="demo-client", redirect_uri=REDIRECT))
    code = app.handle_v1_redirect(None, sim.authorize(start.url))
    with pytest.raises(wc.WorkboardError.Failed) as e:
        run(app.exchange_v1_code(code, "demo-hash"))
    assert e.value.code == "secret_in_browser"
    # The app's server (this is the use the Python binding documents for the Client Hash).
    server = wc.WorkboardClient(wc.ClientOptions(environment=sim.base_url, allow_client_secret=True))

    async def flow():
        s = await server.exchange_v1_code(code, "demo-hash")
        assert s.kind == "oauth" and not s.has_refresh_token
        assert await server.list_tools()
        assert await server.revoke_v1_credentials() == "revoked"

    run(flow())
    with pytest.raises(wc.WorkboardError.Failed) as e:
        run(server.exchange_v1_code(code, "demo-hash"))
    assert e.value.code == "token_endpoint_error"


def test_example_lists_tools_against_the_simulator(sim):
    import subprocess
    from conftest import REPO
    out = subprocess.run(
        [sys.executable, str(REPO / "examples" / "python" / "list_tools.py"), "--env", sim.base_url, "--token", "wbp_demo_personal_token"],
        capture_output=True, text=True, timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert "get_current_user:" in out.stdout and "ada@example.com" in out.stdout


def test_example_keeps_its_credentials_in_a_keyed_store(sim, tmp_path):
    import subprocess
    from conftest import REPO
    example = [sys.executable, str(REPO / "examples" / "python" / "list_tools.py"), "--env", sim.base_url,
               "--store", str(tmp_path)]
    out = subprocess.run([*example, "--token", "wbp_demo_personal_token"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "wbp_demo_personal_token" in (tmp_path / "credentials").read_text()
    assert not (tmp_path / "session").exists()  # close() removed the stored session
    # A later run finds the credentials the first one saved.
    out = subprocess.run(example, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "ada@example.com" in out.stdout


def test_example_reports_a_typed_error(sim):
    import subprocess
    from conftest import REPO
    out = subprocess.run(
        [sys.executable, str(REPO / "examples" / "python" / "list_tools.py"), "--env", sim.base_url, "--token", "wrong"],
        capture_output=True, text=True, timeout=60,
    )
    assert out.returncode == 1
    assert "error unauthorized" in out.stderr and "hint:" in out.stderr


def test_exit_while_a_library_thread_is_handing_over_a_result_is_clean(sim):
    # tests/scripts/exit_during_wake.py holds a library thread inside its callback into the
    # interpreter while the interpreter shuts down. Without the package's atexit guard
    # (bindings/ffi/src/exit.rs) CPython 3.11 kills that thread and the process aborts with
    # "FATAL: exception not rethrown" (exit -6) after printing its result; the example
    # script hit that about once in 50 runs.
    import subprocess
    from pathlib import Path
    script = Path(__file__).resolve().parent / "scripts" / "exit_during_wake.py"
    out = subprocess.run(
        [sys.executable, str(script), sim.base_url, "wbp_demo_personal_token"],
        capture_output=True, text=True, timeout=60,
    )
    assert out.returncode == 0, (out.returncode, out.stderr)
    assert out.stdout.strip() == "16 tools"
    assert "FATAL" not in out.stderr
