"""API surface, WorkBoard v1 sign-in without a server, and bad input (typed errors)."""
import json
from urllib.parse import parse_qs, urlsplit

import pytest

import workboard_connect as wc
from conftest import run

SEED = "07" * 32
REDIRECT = "https://app.example/callback"
T0 = 1_764_000_000_000


def client(clock=None, **kw):
    return wc.WorkboardClient(wc.ClientOptions(entropy_seed_hex=SEED, **kw), clock=clock or wc.ManualClock(T0))


def state_of(url):
    return parse_qs(urlsplit(url).query)["state"][0]


def code_of(fn):
    with pytest.raises(wc.WorkboardError.Failed) as e:
        fn()
    return e.value.code


def test_version():
    assert wc.version() == "0.1.0"


def test_errors_carry_code_message_hint():
    with pytest.raises(wc.WorkboardError.Failed) as e:
        wc.parse_credentials('{"kind":')
    assert e.value.code == "invalid_input"
    assert "stored credentials" in e.value.message
    c = client()
    start = c.start_v1_sign_in(wc.V1SignInOptions(client_id="cid", redirect_uri=REDIRECT))
    with pytest.raises(wc.WorkboardError.Failed) as e:
        c.handle_v1_redirect(None, f"{REDIRECT}?error=access_denied&state={state_of(start.url)}")
    assert e.value.code == "authorization_denied"
    assert "declined" in e.value.hint


def kind_of(fn):
    with pytest.raises(wc.WorkboardError.Failed) as e:
        fn()
    return e.value.kind


def test_errors_carry_their_kind():
    assert kind_of(lambda: wc.parse_credentials('{"kind":')) == wc.ErrorKind.INVALID_INPUT
    assert kind_of(lambda: wc.WorkboardClient(wc.ClientOptions(token="   "))) == wc.ErrorKind.INVALID_INPUT
    c = client()
    assert kind_of(lambda: c.step_up_mcp_sign_in("x")) == wc.ErrorKind.WRONG_STATE
    assert kind_of(lambda: run(c.refresh_mcp_credentials())) == wc.ErrorKind.NEEDS_SIGN_IN
    assert kind_of(lambda: run(c.revoke_mcp_credentials())) == wc.ErrorKind.NEEDS_SIGN_IN
    start = c.start_v1_sign_in(wc.V1SignInOptions(client_id="cid", redirect_uri=REDIRECT))
    with pytest.raises(wc.WorkboardError.Failed) as e:
        c.handle_v1_redirect(None, f"{REDIRECT}?error=access_denied&state={state_of(start.url)}")
    assert (e.value.code, e.value.kind) == ("authorization_denied", wc.ErrorKind.SIGN_IN_FAILED)

    # What an app does with it: `match` on the enum.
    def action(kind):
        match kind:
            case wc.ErrorKind.NEEDS_SIGN_IN | wc.ErrorKind.STEP_UP_REQUIRED:
                return "sign in"
            case wc.ErrorKind.INVALID_INPUT | wc.ErrorKind.WRONG_STATE:
                return "fix the call"
            case _:
                return "report"

    assert action(e.value.kind) == "report"
    assert action(kind_of(lambda: client().handle_v1_redirect(None, f"{REDIRECT}?code=x&state=y"))) == "fix the call"

    class Failing(wc.CredentialStore):
        def load(self, key):
            raise wc.HostError.Other(reason="keyring locked")

        def save(self, key, value):
            raise wc.HostError.Other(reason="keyring locked")

        def remove(self, key):
            pass

    with pytest.raises(wc.WorkboardError.Failed) as e:
        wc.WorkboardClient(wc.ClientOptions(), store=Failing())
    assert (e.value.code, e.value.kind) == ("credential_store_failed", wc.ErrorKind.STORAGE)
    assert "keyring locked" in e.value.message


def test_personal_token_summary_has_no_secret():
    c = wc.WorkboardClient(wc.ClientOptions(token="Bearer wbp_secret_123"))
    s = c.credentials_summary()
    assert s.kind == "personal"
    assert "wbp_secret_123" not in repr(s)
    assert json.loads(c.credentials_json())["token"] == "wbp_secret_123"
    assert c.mcp_url() == "https://www.myworkboard.com/wb/mcp"


def test_v1_authorize_url_and_redirect_survive_a_restart():
    clock = wc.ManualClock(T0)
    start = client(clock).start_v1_sign_in(wc.V1SignInOptions(client_id="cid", redirect_uri=REDIRECT, scopes=["all"]))
    assert start.url.startswith(
        "https://www.myworkboard.com/wb/oauth/authorize?client_id=cid&redirect_uri=https%3A%2F%2Fapp.example%2Fcallback&scope=all&state=")
    state = state_of(start.url)
    assert len(state) == 43
    clock.advance_ms(30_000)
    restarted = client(clock)  # only the persisted JSON carried over
    code = restarted.handle_v1_redirect(start.pending_json, f"{REDIRECT}?code=the-code&state={state}")
    assert (code.code, code.client_id, code.received_at_ms, code.expires_at_ms) == ("the-code", "cid", T0 + 30_000, T0 + 330_000)
    assert code_of(lambda: restarted.handle_v1_redirect(None, f"{REDIRECT}?code=the-code&state={state}")) == "authorization_reused"


def test_v1_redirect_checks_state_redirect_and_expiry():
    clock = wc.ManualClock(T0)
    c = client(clock)
    start = c.start_v1_sign_in(wc.V1SignInOptions(client_id="cid", redirect_uri=REDIRECT))
    state = state_of(start.url)
    p = start.pending_json
    assert code_of(lambda: c.handle_v1_redirect(p, f"{REDIRECT}?code=x&state=wrong")) == "state_mismatch"
    assert code_of(lambda: c.handle_v1_redirect(p, f"{REDIRECT}?code=x")) == "state_missing"
    assert code_of(lambda: c.handle_v1_redirect(p, f"https://evil.example/cb?code=x&state={state}")) == "redirect_uri_mismatch"
    clock.advance_ms(301_000)
    assert code_of(lambda: c.handle_v1_redirect(p, f"{REDIRECT}?code=x&state={state}")) == "authorization_expired"


def test_bad_input_is_a_typed_error_never_a_crash():
    O = wc.ClientOptions
    assert code_of(lambda: wc.WorkboardClient(O(environment="not a url"))) == "invalid_url"
    assert code_of(lambda: wc.WorkboardClient(O(environment="http://example.com"))) == "insecure_url"
    assert code_of(lambda: wc.WorkboardClient(O(mcp_url="http://example.com/mcp"))) == "insecure_url"
    assert code_of(lambda: wc.WorkboardClient(O(entropy_seed_hex="zz"))) == "invalid_input"
    assert code_of(lambda: wc.WorkboardClient(O(token="  "))) == "invalid_input"
    assert code_of(lambda: wc.WorkboardClient(O(credentials_json="[1,2"))) == "invalid_input"
    assert code_of(lambda: wc.WorkboardClient(O(auth_context_json="{}"))) == "invalid_input"
    c = client()
    assert code_of(lambda: c.set_credentials_json("null")) == "invalid_input"
    assert code_of(lambda: c.handle_v1_redirect("{not json", f"{REDIRECT}?code=x&state=y")) == "invalid_input"
    assert code_of(lambda: c.handle_v1_redirect(None, f"{REDIRECT}?code=x&state=y")) == "wrong_state"
    assert code_of(lambda: c.start_v1_sign_in(wc.V1SignInOptions(client_id="cid", redirect_uri="no-scheme"))) == "invalid_url"
    assert code_of(lambda: c.start_v1_sign_in(wc.V1SignInOptions(client_id="", redirect_uri=REDIRECT))) == "invalid_input"
    assert code_of(lambda: c.step_up_mcp_sign_in("x")) == "wrong_state"
    assert code_of(lambda: run(c.call_tool("t", "{not json"))) == "invalid_input"
    assert code_of(lambda: run(c.complete_mcp_sign_in(None, f"{REDIRECT}?code=x&state=y"))) == "wrong_state"
    assert code_of(lambda: run(c.refresh_mcp_credentials())) == "not_signed_in"
    assert code_of(lambda: run(c.revoke_v1_credentials())) == "not_signed_in"
    assert code_of(lambda: run(c.start_mcp_sign_in(wc.McpSignInOptions(redirect_uri=REDIRECT, client_secret="s")))) == "secret_in_browser"
    assert c.credentials_json() is None


def test_wrong_argument_types_raise_python_errors_not_crashes():
    with pytest.raises(TypeError):
        wc.parse_credentials(42)
    with pytest.raises(TypeError):
        client().set_token(None)


def test_unreachable_server_is_a_transport_error():
    c = wc.WorkboardClient(wc.ClientOptions(environment="http://127.0.0.1:9"))
    code = code_of(lambda: run(c.start_mcp_sign_in(wc.McpSignInOptions(redirect_uri="http://127.0.0.1:8765/callback", client_id="x"))))
    assert code in ("transport", "retries_exhausted")


class MemoryStore(wc.CredentialStore):
    """A keyed store in memory; `saves` records every change of the credentials (None: removed)."""

    def __init__(self, credentials=None):
        self.values = {} if credentials is None else {"credentials": credentials}
        self.saves = []

    @property
    def value(self):
        return self.values.get("credentials")

    def load(self, key):
        return self.values.get(key)

    def save(self, key, value):
        self.values[key] = value
        if key == "credentials":
            self.saves.append(value)

    def remove(self, key):
        self.values.pop(key, None)
        if key == "credentials":
            self.saves.append(None)


def test_store_and_listener_see_every_change():
    store = MemoryStore(wc.WorkboardClient(wc.ClientOptions(token="tok-1")).credentials_json())
    c = wc.WorkboardClient(wc.ClientOptions(), store=store)
    assert c.credentials_summary().kind == "personal"
    seen = []

    class L(wc.CredentialsListener):
        def on_credentials_changed(self, credentials_json):
            seen.append(credentials_json)

    c.set_credentials_listener(L())
    c.set_token("tok-2")
    c.clear_credentials()
    assert len(seen) == 2 and "tok-2" in seen[0] and seen[1] is None
    assert store.saves == [seen[0], None]
    assert c.store_error() is None

    # A store that cannot be read fails the construction; one that cannot save fails the
    # change, which is in use anyway (and reported by store_error()).
    class Unreadable(wc.CredentialStore):
        def load(self, key):
            raise wc.HostError.Other(reason="keyring locked")

        def save(self, key, value):
            pass

        def remove(self, key):
            pass

    assert code_of(lambda: wc.WorkboardClient(wc.ClientOptions(), store=Unreadable())) == "credential_store_failed"

    class Unwritable(wc.CredentialStore):
        def load(self, key):
            return None

        def save(self, key, value):
            raise RuntimeError("boom")

        def remove(self, key):
            pass

    c2 = wc.WorkboardClient(wc.ClientOptions(token="t"), store=Unwritable())
    assert code_of(lambda: c2.set_token("t2")) == "credential_store_failed"
    assert "t2" in c2.credentials_json()
    e = c2.store_error()
    assert (e.code, e.kind) == ("credential_store_failed", wc.ErrorKind.STORAGE)

    class Bad(wc.CredentialsListener):
        def on_credentials_changed(self, credentials_json):
            raise RuntimeError("listener bug")

    c.set_credentials_listener(Bad())
    c.set_token("tok-3")
    assert c.credentials_summary().kind == "personal"


def test_redact_url():
    r = wc.redact_url("https://h/cb?code=SECRET&state=S2&x=1")
    assert "SECRET" not in r and "S2" not in r and "x=1" in r


class Fixed(wc.Transport):
    def __init__(self, status, content_type, body):
        self.r = wc.HttpResponse(status=status, headers=[wc.HttpHeader(name="Content-Type", value=content_type)], body=body.encode())

    async def send(self, request):
        return self.r


@pytest.mark.parametrize("status,ctype,body,expected", [
    (200, "text/html", "<html>login</html>", "invalid_response"),
    (200, "application/json", '{"jsonrpc":"2.0","id":', "invalid_response"),
    (200, "text/event-stream", "data: {not json}\n\n", "protocol_error"),
    (500, "text/plain", "oops", "http_status"),
    (200, "application/json", "[]", "protocol_error"),
])
def test_garbage_from_the_server_is_a_typed_error(status, ctype, body, expected):
    c = wc.WorkboardClient(wc.ClientOptions(token="tok"), transport=Fixed(status, ctype, body))
    assert code_of(lambda: run(c.list_tools())) == expected


def test_a_transport_raising_anything_is_a_transport_error():
    class Broken(wc.Transport):
        async def send(self, request):
            raise ValueError("bug in the app's transport")

    c = wc.WorkboardClient(wc.ClientOptions(token="tok"), transport=Broken())
    assert code_of(lambda: run(c.list_tools())) == "transport"


class Capped(wc.Transport):
    """The app's transport with its own body limit: a larger body is refused as too large."""

    def __init__(self, limit, inner):
        self.limit, self.inner, self.sent = limit, inner, 0

    async def send(self, request):
        self.sent += 1
        r = await self.inner.send(request)
        if len(r.body) > self.limit:
            raise wc.HostError.BodyTooLarge(limit=self.limit)
        return r


def test_a_transport_refusing_an_oversized_body_is_response_too_large_not_replayed():
    t = Capped(1024, Fixed(200, "application/json", "x" * 4096))
    c = wc.WorkboardClient(wc.ClientOptions(token="tok"), transport=t)
    with pytest.raises(wc.WorkboardError.Failed) as e:
        run(c.list_tools())
    assert e.value.code == "response_too_large"
    assert "1024" in e.value.message
    # `initialize` is replayed after a network failure; an oversized body is not one.
    assert t.sent == 1


def test_bad_input_to_the_mcp_surface_is_a_typed_error_before_anything_is_sent():
    class Counting(wc.Transport):
        sent = 0

        async def send(self, request):
            Counting.sent += 1
            raise wc.HostError.Connect(reason="no server here")

    with pytest.raises(wc.WorkboardError.Failed) as e:
        wc.WorkboardClient(wc.ClientOptions(token="t", log_level="loud"))
    assert e.value.code == "invalid_input" and "log level" in e.value.message
    c = wc.WorkboardClient(wc.ClientOptions(mcp_url="https://mcp.example.com/mcp", token="t"), transport=Counting())

    async def first(stream):
        return await stream.next()

    async def flow():
        bad = [
            lambda: first(c.subscribe(wc.McpSubscriptionFilter())),
            lambda: first(c.subscribe(wc.McpSubscriptionFilter(resource_uris=["x"] * 65))),
            lambda: first(c.subscribe(wc.McpSubscriptionFilter(resource_uris=[""]))),
            lambda: first(c.subscribe(wc.McpSubscriptionFilter(resource_uris=["u" * 9000]))),
            lambda: c.read_resource(""),
            lambda: c.get_prompt("", None),
            lambda: c.complete(wc.McpCompletionRef.PROMPT(name="p"), "", "", None),
        ]
        for make in bad:
            with pytest.raises(wc.WorkboardError.Failed) as e:
                await make()
            assert e.value.code == "invalid_input" and e.value.kind == wc.ErrorKind.INVALID_INPUT
            assert "u" * 300 not in e.value.message  # bounded, never the whole input
        # Wrong Python types are Python exceptions (UniFFI's checks), not crashes.
        with pytest.raises((TypeError, AttributeError)):
            c.subscribe("tools")
        with pytest.raises(TypeError):
            wc.WorkboardClient(wc.ClientOptions(token="t"), elicitation="not a handler")

    run(flow())
    assert Counting.sent == 0
