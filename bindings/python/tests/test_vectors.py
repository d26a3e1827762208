"""Replays every tests/vectors transcript through the Python API with a scripted Python
Transport: each request must equal one scripted exchange byte for byte (method, URL, headers
in order, body), every exchange is used once, and results match."""
import asyncio
import json
import threading

import pytest

import workboard_connect as wc
from conftest import REPO, run

SUPPORTED = {
    "mcp_oauth_start", "mcp_oauth_redirect", "mcp_refresh", "mcp_step_up", "mcp_revoke",
    "v1_authorize", "v1_handle_redirect", "v1_exchange_code", "v1_revoke",
    "connect", "list_tools", "call_tool", "close", "ping", "discover",
    "list_resources", "list_resource_templates", "read_resource", "list_prompts", "get_prompt", "complete",
    "subscribe", "request",
}
FILES = sorted((REPO / "tests" / "vectors").glob("*.json"))


def matches(expected, actual):
    if expected == "*":
        return True
    if isinstance(expected, dict):
        return isinstance(actual, dict) and expected.keys() == actual.keys() and all(matches(expected[k], actual[k]) for k in expected)
    if isinstance(expected, list):
        return isinstance(actual, list) and len(expected) == len(actual) and all(map(matches, expected, actual))
    if isinstance(expected, bool) or isinstance(actual, bool):
        return expected is actual
    return expected == actual


class Scripted(wc.Transport):
    def __init__(self):
        self.script = []
        self.failures = []
        self.lock = threading.Lock()

    async def send(self, request):
        got = {
            "method": request.method,
            "url": request.url,
            "headers": [[h.name, h.value] for h in request.headers],
            "body": bytes(request.body).decode("utf-8"),
        }
        # Requests the core issues together may arrive in either order: take the first
        # scripted exchange equal to this request.
        with self.lock:
            ex = next((e for e in self.script if matches(e["request"], got)), None)
            if ex is not None:
                self.script.remove(ex)
        if ex is None:
            self.failures.append(f"request differs from every remaining exchange: {got}")
            raise wc.HostError.Other(reason="no scripted exchange matches")
        r = ex["response"]
        kind = r.get("transport_error")
        if kind == "connect":
            raise wc.HostError.Connect(reason="scripted")
        if kind == "timeout":
            raise wc.HostError.Timeout()
        if kind:
            raise wc.HostError.Interrupted(reason="scripted")
        return wc.HttpResponse(
            status=r["status"],
            headers=[wc.HttpHeader(name=n, value=v) for n, v in r.get("headers", [])],
            body=r.get("body", "").encode("utf-8"),
        )


class Elicitation(wc.ElicitationHandler):
    """Answers with the vector's answer for the request's mode (`input.elicitation` / `elicitation_url`)."""
    def __init__(self, answers):
        self.answers = answers

    async def elicit(self, request):
        a = self.answers["elicitation_url" if request.mode == "url" else "elicitation"]
        content = a.get("content")
        return wc.McpElicitationResult(action=getattr(wc.McpElicitationAction, a["action"].upper()),
                                       content_json=None if content is None else json.dumps(content))


class Sampling(wc.SamplingHandler):
    def __init__(self, answer):
        self.answer = answer

    async def create_message(self, request):
        a = self.answer
        return wc.McpSamplingResult(role=a["role"], content_json=json.dumps(a["content"]), model=a["model"],
                                    stop_reason=a.get("stopReason"))


class Roots(wc.RootsHandler):
    def __init__(self, answer):
        self.answer = answer

    async def list_roots(self):
        return [wc.McpRoot(uri=r["uri"], name=r.get("name")) for r in self.answer["roots"]]


def input_handlers(inp):
    """`connect`'s `input`: a handler per kind given, each answering with its answer."""
    h = {}
    if "elicitation" in inp or "elicitation_url" in inp:
        h["elicitation"] = Elicitation(inp)
    if "sampling" in inp:
        h["sampling"] = Sampling(inp["sampling"])
    if "roots" in inp:
        h["roots"] = Roots(inp["roots"])
    return h


def summary(client):
    c = json.loads(client.credentials_json())
    return {k: c.get(k) for k in ("access_token", "refresh_token", "token_type", "scope", "expires_at_ms")}


async def run_op(st, op, a):
    c = st["client"]
    if op == "mcp_oauth_start":
        if a.get("server_url"):
            # A client is bound to one MCP server: the sign-in to another one is that server's client's.
            c = st["client"] = wc.WorkboardClient(
                wc.ClientOptions(mcp_url=a["server_url"], entropy_seed_hex=st["seed"], allow_client_secret=True),
                transport=st["transport"], clock=st["clock"])
        s = await c.start_mcp_sign_in(wc.McpSignInOptions(
            redirect_uri=a["redirect_uri"], server_url=a.get("server_url"), client_id=a.get("client_id"),
            client_secret=a.get("client_secret"), client_metadata_url=a.get("client_metadata_url"),
            www_authenticate=a.get("www_authenticate"), workboard_environment=a.get("workboard_environment")))
        return {"authorize_url": s.url, "client_id": s.client_id, "token_endpoint_auth": s.token_endpoint_auth, "allowance": s.allowance}
    if op == "mcp_oauth_redirect":
        await c.complete_mcp_sign_in(None, a["input"])
        return summary(c)
    if op == "mcp_refresh":
        await c.refresh_mcp_credentials()
        return summary(c)
    if op == "mcp_step_up":
        return {"authorize_url": c.step_up_mcp_sign_in(a["scope"]).url}
    if op == "mcp_revoke":
        return {"requests": await c.revoke_mcp_credentials()}
    if op == "v1_authorize":
        s = c.start_v1_sign_in(wc.V1SignInOptions(client_id=a["client_id"], redirect_uri=a["redirect_uri"],
                                                   scopes=a.get("scopes") or [], json_code=bool(a.get("json_code")),
                                                   environment=a.get("environment")))
        return {"url": s.url}
    if op == "v1_handle_redirect":
        st["code"] = c.handle_v1_redirect(None, a["input"])
        return {"code_received": True}
    if op == "v1_exchange_code":
        s = await c.exchange_v1_code(st["code"], a["client_hash"])
        return {"token_type": s.token_type, "scope": s.scope, "expires_at_ms": s.expires_at_ms, "has_refresh": s.has_refresh_token}
    if op == "v1_revoke":
        return {"outcome": await c.revoke_v1_credentials()}
    if op == "connect":
        opts = dict(mcp_url=a["server_url"], entropy_seed_hex=st["seed"], allow_client_secret=True,
                    client_name="workboard-vectors", client_version="1.0")
        if "token" in a:
            opts["token"] = a["token"]
        elif "access_token" in a:
            creds = {"kind": "oauth", "access_token": a["access_token"], "token_type": "Bearer",
                     "issued_at_ms": st["clock"].now_ms(), "dialect": "o_auth2"}
            if a.get("refresh_token") is not None:
                creds["refresh_token"] = a["refresh_token"]
            if a.get("expires_at_ms") is not None:
                creds["expires_at_ms"] = a["expires_at_ms"]
            ctx = {"server_url": a["server_url"], "resource": a["server_url"], "issuer": "https://auth.example.com",
                   "authorization_endpoint": "https://auth.example.com/authorize", "token_endpoint": a["token_endpoint"],
                   "token_endpoint_auth": "none", "client_id": a["client_id"], "identity_source": "pre_registered",
                   "redirect_uri": "https://app.example/cb", "iss_parameter_supported": False, "legacy_defaults": False}
            opts["credentials_json"] = json.dumps(creds)
            opts["auth_context_json"] = json.dumps(ctx)
        inp = a.get("input") or {}
        if "elicitation_url" in inp:
            opts["elicitation_url_mode"] = True
        st["client"] = wc.WorkboardClient(wc.ClientOptions(**opts), transport=st["transport"], clock=st["clock"],
                                          **input_handlers(inp))
        return {}
    if op == "list_tools":
        return {"names": [t.name for t in await c.list_tools()]}
    if op == "call_tool":
        r = await c.call_tool(a["name"], json.dumps(a.get("arguments") or {}))
        return {"is_error": r.is_error, "text": r.text,
                "structured": json.loads(r.structured_content_json) if r.structured_content_json else None}
    if op == "close":
        await c.close()
        return {}
    if op == "ping":
        await c.ping()
        return {}
    if op == "discover":
        d = await c.discover()
        info = {"name": d.server_name, "version": d.server_version} if d.server_name is not None else None
        return {"modern": d.modern, "supported_versions": d.supported_versions, "protocol_version": d.protocol_version,
                "server_info": info, "capabilities": json.loads(d.capabilities_json)}
    if op == "list_resources":
        return {"uris": [r.uri for r in await c.list_resources()]}
    if op == "list_resource_templates":
        return {"uri_templates": [t.uri_template for t in await c.list_resource_templates()]}
    if op == "read_resource":
        return {"contents": [{"uri": x.uri, "mime_type": x.mime_type, "text": x.text, "blob": x.blob}
                             for x in await c.read_resource(a["uri"])]}
    if op == "list_prompts":
        return {"names": [p.name for p in await c.list_prompts()]}
    if op == "get_prompt":
        p = await c.get_prompt(a["name"], a.get("arguments"))
        return {"description": p.description,
                "messages": [{"role": m.role, "content": json.loads(m.content_json)} for m in p.messages]}
    if op == "complete":
        ref = a["ref"]
        reference = (wc.McpCompletionRef.PROMPT(name=ref["name"]) if ref["type"] == "ref/prompt"
                     else wc.McpCompletionRef.RESOURCE_TEMPLATE(uri=ref["uri"]))
        r = await c.complete(reference, a["argument"], a["value"], a.get("context"))
        return {"values": r.values, "total": r.total, "has_more": r.has_more}
    if op == "subscribe":
        f = a.get("filter") or {}
        stream = c.subscribe(wc.McpSubscriptionFilter(
            tools_list_changed=bool(f.get("tools_list_changed")), prompts_list_changed=bool(f.get("prompts_list_changed")),
            resources_list_changed=bool(f.get("resources_list_changed")), resource_uris=f.get("resource_subscriptions") or []))
        return {"notifications": [{"method": n.method, "params": json.loads(n.params_json)} async for n in stream]}
    if op == "request":
        return {"result": json.loads(await c.request(a["method"], json.dumps(a.get("params") or {})))}
    raise AssertionError(f"unsupported op {op}")


def replay(path):
    v = json.loads(path.read_text())
    clock = wc.ManualClock(v["start_ms"])
    transport = Scripted()
    st = {"seed": v["seed"], "clock": clock, "transport": transport, "code": None,
          "client": wc.WorkboardClient(wc.ClientOptions(entropy_seed_hex=v["seed"], allow_client_secret=True),
                                       transport=transport, clock=clock)}

    async def steps():
        wc.uniffi_set_event_loop(asyncio.get_running_loop())
        for i, step in enumerate(v["steps"]):
            where = f"{path.name} step {i} ({step['op']})"
            clock.advance_ms(step.get("advance_ms", 0))
            transport.script = list(step.get("exchanges", []))
            try:
                got = {"ok": await run_op(st, step["op"], step.get("args") or {})}
            except wc.WorkboardError.Failed as e:
                got = {"error": e.code}
            # An answer to a server's request may still be on its way when the call's result is
            # in: wait for the scripted exchanges a little (bounded), never longer.
            deadline = asyncio.get_running_loop().time() + 2
            while transport.script and asyncio.get_running_loop().time() < deadline:
                await asyncio.sleep(0.005)
            assert not transport.failures, f"{where}: {transport.failures}"
            assert not transport.script, f"{where}: {len(transport.script)} scripted exchange(s) not sent"
            assert matches(step["expect"], got), f"{where}: expected {step['expect']}, got {got}"

    asyncio.run(steps())


@pytest.mark.parametrize("path", FILES, ids=[f.name for f in FILES])
def test_vector(path):
    ops = {s["op"] for s in json.loads(path.read_text())["steps"]}
    # Every vector is replayed: an op this binding cannot express fails the test.
    assert ops <= SUPPORTED, f"ops the Python binding cannot replay: {sorted(ops - SUPPORTED)}"
    replay(path)


def test_every_vector_is_replayable():
    assert len(FILES) >= 17, [f.name for f in FILES]
    not_replayable = [f.name for f in FILES if not {s["op"] for s in json.loads(f.read_text())["steps"]} <= SUPPORTED]
    assert not not_replayable, not_replayable


def test_the_replayer_knows_every_operation_of_the_format():
    # The operations table of tests/vectors/README.md, and the modern-era and newer legacy
    # vectors among the files replayed.
    import re
    readme = (REPO / "tests" / "vectors" / "README.md").read_text()
    table = set(re.findall(r"^\| `([a-z0-9_]+)` \| `?\{", readme, re.M))
    assert len(table) >= 20 and table == SUPPORTED, sorted(table ^ SUPPORTED)
    names = {f.name for f in FILES}
    assert {"mcp_legacy_resources_prompts.json", "mcp_server_requests_on_stream.json"} <= names
    assert len([n for n in names if n.startswith("mcp_modern_")]) >= 8, sorted(names)


def test_a_differing_request_is_caught():
    path = next(f for f in FILES if f.name.startswith("mcpauth_refresh_rotation"))
    v = json.loads(path.read_text())
    first = v["steps"][0]
    ex = json.loads(json.dumps(first["exchanges"][0]))
    ex["request"]["url"] = "https://elsewhere.example/"
    transport = Scripted()
    transport.script = [ex]
    clock = wc.ManualClock(v["start_ms"])
    c = wc.WorkboardClient(wc.ClientOptions(entropy_seed_hex=v["seed"], allow_client_secret=True),
                           transport=transport, clock=clock)
    st = {"client": c, "seed": v["seed"], "transport": transport, "clock": clock}
    with pytest.raises(wc.WorkboardError.Failed):
        run(run_op(st, "mcp_oauth_start", first["args"]))
    assert len(transport.failures) == 1
