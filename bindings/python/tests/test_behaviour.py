"""The client-layer behaviour suite (the JSON files of tests/behaviour, format in its README)
run through the Python API: a scripted server as a Python Transport, a recording
CredentialStore, a ManualClock. Fails on an unknown operation or field; checks that every
file ran."""
import asyncio
import json
from urllib.parse import parse_qs, urlsplit

import pytest

import workboard_connect as wc
from conftest import REPO
from test_vectors import input_handlers, matches

FILES = sorted((REPO / "tests" / "behaviour").glob("*.json"))
T0 = 1_764_000_000_000
WAIT_S = 30  # a safety net only: every wait below ends on an event


def check_keys(o, known, what):
    for k in o or {}:
        assert k in known, f"unknown field `{k}` in {what}"


def log_name(r):
    """The log name and bearer of a request."""
    auth = next((h.value for h in r.headers if h.name.lower() == "authorization"), "")
    bearer = auth[len("Bearer "):] if auth.startswith("Bearer ") else "-"
    try:
        v = json.loads(bytes(r.body))
        method = v.get("method") if isinstance(v, dict) else None
    except ValueError:
        method = None
    if isinstance(method, str):
        return method, bearer
    return ("token" if r.method == "POST" and r.url.endswith("/token") else f"{r.method} {r.url}"), bearer


class ScenarioTransport(wc.Transport):
    """The scripted server: logs each request when asked to send it, answers from the rules,
    holds replies while held (or, for a `hold` rule, until the next release)."""

    def __init__(self, rules, log):
        self.rules, self.used, self.log = rules, [0] * len(rules), log
        self.failures = []
        self.requests = 0
        self.held = False
        self.releases = 0
        self.changed = asyncio.Condition()

    async def send(self, request):
        name, bearer = log_name(request)
        self.log.append(f"http {name} {bearer}")
        answer = self.answer(request, name, bearer)
        seen = self.releases
        async with self.changed:
            self.requests += 1
            self.changed.notify_all()
        if answer is None:
            self.failures.append(f"no server rule fits {name} {bearer}")
            raise wc.HostError.Other(reason="no server rule fits")
        reply, rule_held = answer
        async with self.changed:
            await self.changed.wait_for(lambda: not self.held and (not rule_held or self.releases != seen))
        return reply

    def answer(self, r, name, bearer):
        for i, rule in enumerate(self.rules):
            check_keys(rule, {"match", "reply", "times", "hold"}, "server rule")
            m = rule.get("match", {})
            check_keys(m, {"method", "auth", "url", "era", "input_responses", "request_state"}, "match")
            era = "modern" if any(h.name.lower() == "mcp-method" for h in r.headers) else "legacy"
            fits = (m.get("method", name) == name and m.get("auth", bearer) == bearer
                    and m.get("url", r.url) == r.url and m.get("era", era) == era
                    and all(matches(m[k], param(r, p)) for k, p in
                            (("input_responses", "inputResponses"), ("request_state", "requestState")) if k in m))
            if fits and ("times" not in rule or self.used[i] < rule["times"]):
                self.used[i] += 1
                return self.reply(rule["reply"], r), bool(rule.get("hold", False))
        return None

    @staticmethod
    def reply(reply, r):
        check_keys(reply, {"status", "headers", "result", "error", "json", "sse"}, "reply")
        headers = [wc.HttpHeader(name=n, value=v) for n, v in reply.get("headers", [])]
        try:
            rid = json.loads(bytes(r.body)).get("id")
        except (ValueError, AttributeError):
            rid = None
        if "sse" in reply:
            # An SSE body: one event per message; `{"result": ...}` is the request's result.
            msgs = [{"jsonrpc": "2.0", "id": rid, "result": m["result"]} if list(m) == ["result"] else m
                    for m in reply["sse"]]
            headers.append(wc.HttpHeader(name="Content-Type", value="text/event-stream"))
            data = "".join(f"data: {json.dumps(m)}\n\n" for m in msgs).encode()
            return wc.HttpResponse(status=reply.get("status", 200), headers=headers, body=data)
        body = None
        if "result" in reply:
            body = {"jsonrpc": "2.0", "id": rid, "result": reply["result"]}
        elif "error" in reply:
            body = {"jsonrpc": "2.0", "id": rid, "error": reply["error"]}
        elif "json" in reply:
            body = reply["json"]
        if body is not None:
            headers.append(wc.HttpHeader(name="Content-Type", value="application/json"))
        data = json.dumps(body).encode() if body is not None else b""
        return wc.HttpResponse(status=reply.get("status", 200), headers=headers, body=data)

    async def hold(self):
        async with self.changed:
            self.held = True

    async def release(self):
        async with self.changed:
            self.held = False
            self.releases += 1
            self.changed.notify_all()

    async def until_requests(self, n):
        async with self.changed:
            await self.changed.wait_for(lambda: self.requests >= n)


def param(r, name):
    """A param of the request's JSON-RPC body (None when absent)."""
    try:
        return (json.loads(bytes(r.body)).get("params") or {}).get(name)
    except (ValueError, AttributeError):
        return None


class RecordingStore(wc.CredentialStore):
    """A recording store whose writes can be made to fail (called from the library's threads)."""

    def __init__(self, log):
        self.log, self.values, self.failing = log, {}, False

    def load(self, key):
        return self.values.get(key)

    def save(self, key, value):
        if key == "credentials":
            v = json.loads(value)
            self.log.append(f"store {key} {v.get('access_token') or v.get('token') or '?'}")
        else:
            self.log.append(f"store {key}")
        if self.failing:
            raise wc.HostError.Other(reason="disk full (scripted)")
        self.values[key] = value

    def remove(self, key):
        self.log.append(f"remove {key}")
        if self.failing:
            raise wc.HostError.Other(reason="disk full (scripted)")
        self.values.pop(key, None)


def access_token(client):
    j = client.credentials_json()
    if j is None:
        return None
    c = json.loads(j)
    return c.get("access_token") or c.get("token")


async def outcome(make):
    try:
        return {"ok": await make()}
    except wc.WorkboardError.Failed as e:
        return {"error": e.code, "kind": e.kind.name.lower()}


def check_expect(at, expect, got, log):
    check_keys(expect, {"ok", "error", "kind"}, "expect")
    if "ok" in expect:
        assert "ok" in got and matches(expect["ok"], got["ok"]), f"{at}: expected {expect}, got {got}; log {log}"
    else:
        assert "error" in got and matches(expect["error"], got["error"]) and matches(expect["kind"], got["kind"]), \
            f"{at}: expected {expect}, got {got}; log {log}"


async def run_scenario(name, s):
    wc.uniffi_set_event_loop(asyncio.get_running_loop())
    check_keys(s, {"name", "description", "client", "server", "steps"}, "scenario")
    assert s["name"] == name, "file name and `name` differ"
    log = []
    transport = ScenarioTransport(s.get("server", []), log)
    store = RecordingStore(log)
    c = s["client"]
    check_keys(c, {"server_url", "credentials", "auth_context", "allow_client_secret", "input"}, "client")
    inp = c.get("input") or {}
    check_keys(inp, {"elicitation", "elicitation_url", "sampling", "roots"}, "input")
    client = wc.WorkboardClient(
        wc.ClientOptions(
            mcp_url=c["server_url"],
            credentials_json=json.dumps(c["credentials"]) if c.get("credentials") is not None else None,
            auth_context_json=json.dumps(c["auth_context"]) if c.get("auth_context") is not None else None,
            allow_client_secret=c.get("allow_client_secret", False),
            elicitation_url_mode="elicitation_url" in inp,
        ),
        transport=transport, store=store, clock=wc.ManualClock(T0), **input_handlers(inp))

    async def call(op, args):
        if op == "list_tools":
            return {"names": [t.name for t in await client.list_tools()]}
        if op == "call_tool":
            check_keys(args, {"name", "arguments"}, "args")
            r = await client.call_tool(args["name"], json.dumps(args["arguments"]))
            return {"text": r.text, "is_error": r.is_error}
        if op == "ping":
            await client.ping()
            return {}
        if op == "connect":
            await client.connect()
            return {}
        if op == "refresh":
            await client.refresh_mcp_credentials()
            return {"access_token": access_token(client)}
        if op == "close":
            await client.close()
            return {}
        if op == "request":
            check_keys(args, {"method", "params"}, "args")
            return {"result": json.loads(await client.request(args["method"], json.dumps(args["params"])))}
        raise AssertionError(f"unknown call `{op}`")

    calls, sign_ins, streams = {}, {}, {}
    for i, step in enumerate(s["steps"]):
        op = step["do"]
        at = f"{name} step {i} ({op})"

        def keys(*k):
            check_keys(step, {"do", *k}, at)

        if op == "call":
            keys("id", "call", "args")
            calls[step["id"]] = asyncio.ensure_future(outcome(lambda st=step: call(st["call"], st.get("args"))))
            # One turn of the loop: the task runs up to UniFFI's first poll, which submits the call.
            await asyncio.sleep(0)
        elif op == "await":
            keys("id", "expect")
            got = await asyncio.wait_for(calls.pop(step["id"]), WAIT_S)
            check_expect(at, step["expect"], got, log)
        elif op == "cancel":
            keys("id")
            assert step["id"] in calls, f"{at}: no such call"
            client.cancel_calls()
        elif op == "notifications":
            keys("id")
            streams[step["id"]] = client.notifications()
        elif op == "next_notification":
            keys("id", "notification")
            n = await asyncio.wait_for(streams[step["id"]].next(), WAIT_S)
            got = None if n is None else {"method": n.method, "params": json.loads(n.params_json)}
            assert matches(step["notification"], got), f"{at}: expected {step['notification']}, got {got}"
        elif op == "stop":
            keys("id")
            streams[step["id"]].cancel()
        elif op == "hold":
            keys()
            await transport.hold()
        elif op == "release":
            keys()
            await transport.release()
        elif op == "until_requests":
            keys("count")
            await asyncio.wait_for(transport.until_requests(step["count"]), WAIT_S)
        elif op == "store_fails":
            keys("value")
            store.failing = step["value"]
        elif op == "set_credentials":
            keys("credentials", "expect")

            async def set_credentials():
                if step["credentials"] is None:
                    client.clear_credentials()
                else:
                    client.set_credentials_json(json.dumps(step["credentials"]))
                return {}

            check_expect(at, step["expect"], await outcome(set_credentials), log)
        elif op == "start_mcp_sign_in":
            keys("id", "options", "expect")
            o = step["options"]
            check_keys(o, {"redirect_uri", "client_id", "www_authenticate"}, "options")

            async def start():
                st = await client.start_mcp_sign_in(wc.McpSignInOptions(
                    redirect_uri=o["redirect_uri"], client_id=o.get("client_id"),
                    www_authenticate=o.get("www_authenticate")))
                sign_ins[step["id"]] = (st.url, st.pending_json)
                return {"client_id": st.client_id}

            check_expect(at, step["expect"], await outcome(start), log)
        elif op == "complete_mcp_sign_in":
            keys("sign_in", "pass_pending", "code", "expect")
            url, pending = sign_ins[step["sign_in"]]
            q = parse_qs(urlsplit(url).query)
            redirect = f"{q['redirect_uri'][0]}?code={step['code']}&state={q['state'][0]}"

            async def complete():
                await client.complete_mcp_sign_in(pending if step["pass_pending"] else None, redirect)
                return {"access_token": access_token(client)}

            check_expect(at, step["expect"], await outcome(complete), log)
        elif op == "exchange_v1_code":
            keys("code", "client_hash", "expect")
            code = step["code"]
            check_keys(code, {"code", "redirect_uri", "client_id", "token_endpoint", "received_at_ms"}, "code")
            v1 = wc.V1Code(code=code["code"], redirect_uri=code["redirect_uri"], client_id=code["client_id"],
                           token_endpoint=code["token_endpoint"], scopes=[], received_at_ms=code["received_at_ms"],
                           expires_at_ms=code["received_at_ms"] + 300_000)

            async def exchange():
                await client.exchange_v1_code(v1, step["client_hash"])
                return {"access_token": access_token(client)}

            check_expect(at, step["expect"], await outcome(exchange), log)
        elif op == "expect_log":
            keys("log")
            assert list(log) == step["log"], at
        elif op == "expect_count":
            keys("entry", "count")
            assert sum(e == step["entry"] for e in log) == step["count"], f"{at}: {log}"
        elif op == "expect_before":
            keys("first", "then")
            entries = list(log)
            a = entries.index(step["first"]) if step["first"] in entries else None
            b = len(entries) - 1 - entries[::-1].index(step["then"]) if step["then"] in entries else None
            assert a is not None and b is not None and a < b, f"{at}: {entries}"
        elif op == "expect_credentials":
            keys("access_token")
            assert access_token(client) == step["access_token"], at
        elif op == "expect_store_error":
            keys("code")
            e = client.store_error()
            assert (e.code if e is not None else None) == step["code"], at
        else:
            raise AssertionError(f"{at}: unknown operation `{op}`")
        assert not transport.failures, f"{at}: {transport.failures}"
    assert not calls, f"{name}: calls never awaited: {sorted(calls)}"


def run_file(path):
    asyncio.run(run_scenario(path.stem, json.loads(path.read_text())))


def test_every_scenario_passes():
    assert len(FILES) >= 9, [f.name for f in FILES]
    ran, failed = [], []
    for f in FILES:
        try:
            run_file(f)
            ran.append(f.stem)
        except Exception as e:  # noqa: BLE001 — every scenario runs; all failures are reported
            failed.append(f"{f.name}: {e!r}")
    assert not failed, "\n".join(failed)
    assert ran == [f.stem for f in FILES]


def test_the_runner_refuses_unknown_operations_and_fields():
    s = json.loads(FILES[0].read_text())
    with pytest.raises(AssertionError, match="unknown operation"):
        asyncio.run(run_scenario(s["name"], {**s, "steps": [{"do": "teleport"}]}))
    with pytest.raises(AssertionError, match="unknown field"):
        asyncio.run(run_scenario(s["name"], {**s, "steps": [{"do": "hold", "how": "firmly"}]}))
