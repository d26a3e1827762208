"""The MCP surface beyond tools against workboard-sim, in both eras (``--era modern`` and
``--era legacy``, SSE responses): resources, prompts, completion, discover, an elicitation
answered by a Python handler class, roots asked of a Python roots handler, a subscription as an async iterator, a call's log messages
on ``notifications()``, and a call cancelled by cancelling its asyncio task."""
import asyncio
import json
import time

import pytest

import workboard_connect as wc
from conftest import Sim, run

TOKEN = "wbp_demo_personal_token"
ERAS = ["modern", "legacy"]


def client(sim, era, **kw):
    log_level = kw.pop("log_level", None)
    opts = wc.ClientOptions(environment=sim.base_url, token=TOKEN, log_level=log_level,
                            era=wc.McpEra.MODERN if era == "modern" else wc.McpEra.LEGACY)
    return wc.WorkboardClient(opts, **kw)


def counter(sim, name):
    return sim.stats()["counters"].get(name, 0)


async def wait_for(what, ok):
    """Polls the simulator's stats (bounded: 10 s) until ``ok()``."""
    deadline = time.monotonic() + 10
    while not ok():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.01)


@pytest.fixture(params=ERAS)
def era_sim(request):
    s = Sim("--era", request.param, "--sse")
    yield request.param, s
    s.close()


def test_resources_prompts_completion_and_discover(era_sim):
    era, sim = era_sim
    c = client(sim, era)

    async def flow():
        d = await c.discover()
        assert d.modern == (era == "modern")
        assert "resources" in json.loads(d.capabilities_json)
        await c.ping()
        resources = await c.list_resources()
        assert len(resources) > 5  # every page (pages of 5)
        goal = next(r for r in resources if r.uri.startswith("workboard://goal/"))
        [contents] = await c.read_resource(goal.uri)
        assert contents.uri == goal.uri and contents.text
        assert any("key-result" in t.uri_template for t in await c.list_resource_templates())
        with pytest.raises(wc.WorkboardError.Failed) as e:
            await c.read_resource("workboard://goal/999999")
        assert e.value.code == "jsonrpc_error"
        review = next(p for p in await c.list_prompts() if p.name == "objective_review")
        assert any(a.name == "objective_id" and a.required for a in review.arguments)
        p = await c.get_prompt("objective_review", {"objective_id": "301"})
        assert p.messages and p.messages[0].role == "user"
        assert json.loads(p.messages[0].content_json)["type"] == "text"
        done = await c.complete(wc.McpCompletionRef.PROMPT(name="objective_review"), "objective_id", "3")
        assert done.values and all(v.startswith("3") for v in done.values)
        # A request the SDK does not model, forwarded as is.
        raw = json.loads(await c.request("prompts/get", json.dumps({"name": "weekly_update", "arguments": {"team": "Platform"}})))
        assert raw["messages"] and raw["messages"][0]["role"] == "user"
        with pytest.raises(wc.WorkboardError.Failed) as e:
            await c.request("prompts/get", "[1]")
        assert e.value.code == "invalid_input"
        await c.close()

    run(flow())
    assert counter(sim, "mcp:initialize") == (0 if era == "modern" else 1)
    assert counter(sim, "mcp:prompts/get") == 2 and counter(sim, "mcp:resources/read") == 2


class Form(wc.ElicitationHandler):
    """The app's form: records what it was asked, answers after an await."""

    def __init__(self, answer):
        self.answer = answer
        self.asked = []

    async def elicit(self, request):
        self.asked.append(request)
        await asyncio.sleep(0)
        return self.answer


def test_an_elicitation_is_answered_by_a_python_handler(era_sim):
    era, sim = era_sim
    form = Form(wc.McpElicitationResult(action=wc.McpElicitationAction.ACCEPT,
                                        content_json=json.dumps({"confidence": 7, "note": "on track"})))
    declining = Form(wc.McpElicitationResult(action=wc.McpElicitationAction.DECLINE))
    broken = Form(wc.McpElicitationResult(action=wc.McpElicitationAction.ACCEPT, content_json="[1]"))
    clients = [client(sim, era, elicitation=h) for h in (form, declining, broken)] + [client(sim, era)]
    args = json.dumps({"key_result_id": 401})

    async def flow():
        r = await clients[0].call_tool("draft_check_in", args)
        assert not r.is_error and "confidence 7/10. on track" in r.text
        [asked] = form.asked
        assert asked.mode == "form" and "401" in asked.message
        assert "confidence" in json.loads(asked.requested_schema_json)["properties"]
        d = await clients[1].call_tool("draft_check_in", args)
        assert "decline" in d.text
        # An answer that is not a JSON object: the modern call fails with a typed error; a
        # legacy server's request is answered with a JSON-RPC error (its tool's error).
        if era == "modern":
            with pytest.raises(wc.WorkboardError.Failed) as e:
                await clients[2].call_tool("draft_check_in", args)
            assert (e.value.code, e.value.kind) == ("invalid_input", wc.ErrorKind.INVALID_INPUT)
            # Without a handler nothing is declared: the server cannot ask.
            with pytest.raises(wc.WorkboardError.Failed) as e:
                await clients[3].call_tool("draft_check_in", args)
            assert e.value.code == "jsonrpc_error"
        else:
            assert (await clients[2].call_tool("draft_check_in", args)).is_error
            assert (await clients[3].call_tool("draft_check_in", args)).is_error
        for c in clients:
            await c.close()

    run(flow())
    if era == "modern":
        assert counter(sim, "mcp:input_required") >= 1
    else:
        assert counter(sim, "mcp:server_request:elicitation/create") >= 1


class Model(wc.SamplingHandler):
    """The app's language model: records the conversation it was given."""

    def __init__(self):
        self.asked = []

    async def create_message(self, request):
        self.asked.append(request)
        return wc.McpSamplingResult(role="assistant", content_json=json.dumps({"type": "text", "text": "Reach 99.99% availability"}),
                                    model="app-llm", stop_reason="endTurn")


def test_a_sampling_request_is_answered_by_a_python_handler(era_sim):
    era, sim = era_sim
    model = Model()
    c = client(sim, era, sampling=model)

    async def flow():
        r = await c.call_tool("suggest_key_result", json.dumps({"objective_id": 301}))
        assert not r.is_error and "Reach 99.99% availability" in r.text and "app-llm" in r.text
        [asked] = model.asked
        assert "Suggest one measurable key result" in asked.messages_json
        assert asked.max_tokens == 200 and "OKR coach" in asked.system_prompt
        await c.close()

    run(flow())
    if era == "legacy":
        assert counter(sim, "mcp:server_request:sampling/createMessage") == 1


class Workspace(wc.RootsHandler):
    """The app's roots: counts the requests."""

    def __init__(self):
        self.asked = 0

    async def list_roots(self):
        self.asked += 1
        return [wc.McpRoot(uri="file:///work/okrs", name="OKRs"), wc.McpRoot(uri="file:///work/reviews")]


def test_the_server_asks_for_roots_and_a_python_roots_handler_answers(era_sim):
    era, sim = era_sim
    roots = Workspace()
    c = client(sim, era, roots=roots)
    plain = client(sim, era)

    async def flow():
        r = await c.call_tool("list_workspace_roots", "{}")
        assert not r.is_error, r.text
        s = json.loads(r.structured_content_json)
        assert s["count"] == 2 and s["roots"][0] == {"uri": "file:///work/okrs", "name": "OKRs"}
        assert s["roots"][1] == {"uri": "file:///work/reviews", "name": None}
        assert roots.asked == 1
        # Without a roots handler nothing is declared: the server says what it needs.
        if era == "modern":
            with pytest.raises(wc.WorkboardError.Failed) as e:
                await plain.call_tool("list_workspace_roots", "{}")
            assert e.value.code == "jsonrpc_error"
        else:
            assert (await plain.call_tool("list_workspace_roots", "{}")).is_error
        await c.close()
        await plain.close()

    run(flow())
    if era == "legacy":
        assert counter(sim, "mcp:server_request:roots/list") == 1
    else:
        assert counter(sim, "mcp:input_required") == 1


def test_a_subscription_is_an_async_iterator_receiving_a_notification(era_sim):
    era, sim = era_sim
    c = client(sim, era)
    uri = "workboard://goal/301"

    async def flow():
        got = []
        async with c.subscribe(wc.McpSubscriptionFilter(resource_uris=[uri])) as sub:
            if era == "legacy":
                await wait_for("the GET stream and resources/subscribe", lambda: counter(sim, "mcp:get_stream:open") >= 1
                               and counter(sim, "mcp:resources/subscribe") >= 1)
                await asyncio.to_thread(sim.control, "notify", {"resource_updated": uri})
            async for n in sub:
                got.append(n)
                if n.method == "notifications/subscriptions/acknowledged":
                    # Open at the server: announce a change.
                    await asyncio.to_thread(sim.control, "notify", {"resource_updated": uri})
                if n.method == "notifications/resources/updated":
                    break
        # Leaving the block cancelled the subscription: a modern server's stream closes.
        if era == "modern":
            assert got[0].method == "notifications/subscriptions/acknowledged"
            await wait_for("the listen stream to close", lambda: sim.stats()["listeners"] == 0)
        assert got[-1].method == "notifications/resources/updated"
        assert json.loads(got[-1].params_json)["uri"] == uri
        await c.close()

    run(asyncio.wait_for(flow(), 20))


def test_a_subscription_asking_for_nothing_fails_and_a_cancelled_one_ends():
    sim = Sim("--era", "modern")
    try:
        c = client(sim, "modern")

        async def flow():
            with pytest.raises(wc.WorkboardError.Failed) as e:
                async for _ in c.subscribe(wc.McpSubscriptionFilter()):
                    pass
            assert e.value.kind == wc.ErrorKind.INVALID_INPUT
            s = c.subscribe(wc.McpSubscriptionFilter(tools_list_changed=True))
            s.cancel()
            assert [n async for n in s] == []
            await c.close()

        run(flow())
    finally:
        sim.close()


def test_a_call_s_log_messages_arrive_on_notifications():
    sim = Sim("--era", "modern", "--sse")
    try:
        c = client(sim, "modern", log_level="info")

        async def flow():
            stream = c.notifications()  # registered now, before the call
            r = await c.call_tool("get_current_user", "{}")
            assert not r.is_error
            n = await asyncio.wait_for(stream.__anext__(), 10)
            assert n.method == "notifications/message"
            assert json.loads(n.params_json)["level"] == "info"
            stream.cancel()
            assert await stream.next() is None
            # Closing the client ends its notification streams.
            other = c.notifications()
            await c.close()
            assert [n async for n in other] == []

        run(flow())
        assert counter(sim, "mcp:log_message") >= 1
    finally:
        sim.close()


def test_cancelling_the_task_cancels_the_call(sim_legacy):
    # Legacy: the server counts the `notifications/cancelled` the cancellation sends.
    sim = sim_legacy
    c = client(sim, "legacy")

    async def flow():
        await c.connect()
        before = counter(sim, "mcp")
        sim.control("faults", {"latency_ms": 1500})
        task = asyncio.ensure_future(c.call_tool("get_current_user", "{}"))
        await wait_for("the tools/call request", lambda: counter(sim, "mcp") > before)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await wait_for("notifications/cancelled", lambda: counter(sim, "mcp:notifications/cancelled") > 0)
        assert counter(sim, "mcp:notifications/cancelled") == 1
        sim.control("faults", {"latency_ms": 0})
        # Only that call was cancelled: the client goes on.
        assert not (await c.call_tool("get_current_user", "{}")).is_error
        assert counter(sim, "mcp:notifications/cancelled") == 1
        await c.close()

    run(flow())


def test_the_check_in_example_runs_against_the_simulator(era_sim):
    import subprocess
    import sys
    from conftest import REPO
    era, sim = era_sim
    cmd = [sys.executable, str(REPO / "examples" / "python" / "check_in.py"), "--env", sim.base_url,
           "--token", TOKEN, "--era", era]
    # Modern: a prepared answer; legacy: the form answered on "the terminal".
    if era == "modern":
        cmd += ["--answer", json.dumps({"confidence": 7, "note": "on track"})]
    out = subprocess.run(cmd, input="7\non track\n", capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "resource workboard://goal/301 (application/json)" in out.stdout
    assert "prompt user: Review the objective" in out.stdout
    assert "[form] Check-in for key result 401" in out.stdout
    assert "confidence 7/10. on track" in out.stdout


class StreamingUrllibTransport(wc.Transport):
    """The app's own HTTP stack handing event streams over as they arrive (`request.stream`):
    urllib in a worker thread, reading what has arrived (`read1`) until the response ends or
    the call is cancelled (checked whenever data arrives: the simulator's keep-alives)."""

    def __init__(self):
        import urllib.request
        from test_sim import _NoRedirect
        self.opener = urllib.request.build_opener(_NoRedirect)
        self.streamed = 0

    def _send(self, request, stop):
        import urllib.error
        import urllib.request
        req = urllib.request.Request(request.url, data=bytes(request.body) or None, method=request.method)
        for h in request.headers:
            req.add_header(h.name, h.value)
        try:
            r = self.opener.open(req, timeout=30)
        except urllib.error.HTTPError as e:
            return e.code, list(e.headers.items()), e.read()
        with r:
            headers = [wc.HttpHeader(name=n, value=v) for n, v in r.headers.items()]
            if request.stream is not None:
                request.stream.head(r.status, headers)
            body = b""
            while not stop.is_set():
                chunk = r.read1(65536)
                if not chunk:
                    break
                if request.stream is not None:
                    self.streamed += 1
                    request.stream.chunk(chunk)
                body += chunk
            return r.status, list(r.headers.items()), body

    async def send(self, request):
        import threading
        stop = threading.Event()
        try:
            status, headers, body = await asyncio.to_thread(self._send, request, stop)
        except asyncio.CancelledError:
            stop.set()
            raise
        return wc.HttpResponse(status=status, headers=[wc.HttpHeader(name=n, value=v) for n, v in headers], body=body)


@pytest.mark.parametrize("era", ERAS)
def test_a_python_transport_that_streams_serves_subscriptions_and_legacy_input(era):
    sim = Sim("--era", era, "--sse", "--keepalive-ms", "50")
    try:
        transport = StreamingUrllibTransport()
        form = Form(wc.McpElicitationResult(action=wc.McpElicitationAction.ACCEPT,
                                            content_json=json.dumps({"confidence": 5})))
        c = client(sim, era, transport=transport, elicitation=form)
        uri = "workboard://goal/301"

        async def flow():
            # A legacy server asks on the call's open stream; answered before the stream ends.
            r = await c.call_tool("draft_check_in", json.dumps({"key_result_id": 401}))
            assert "confidence 5/10" in r.text, r.text
            got = []
            # The call's own GET stream has come and gone: wait for the subscription's.
            streams = counter(sim, "mcp:get_stream:open")
            async with c.subscribe(wc.McpSubscriptionFilter(resource_uris=[uri])) as sub:
                if era == "legacy":
                    await wait_for("the GET stream and resources/subscribe", lambda: counter(sim, "mcp:get_stream:open") > streams
                                   and counter(sim, "mcp:resources/subscribe") >= 1)
                    await asyncio.to_thread(sim.control, "notify", {"resource_updated": uri})
                async for n in sub:
                    got.append(n.method)
                    if n.method == "notifications/subscriptions/acknowledged":
                        await asyncio.to_thread(sim.control, "notify", {"resource_updated": uri})
                    if n.method == "notifications/resources/updated":
                        break
            assert got[-1] == "notifications/resources/updated"
            if era == "modern":
                await wait_for("the listen stream to close", lambda: sim.stats()["listeners"] == 0)
            await c.close()

        run(asyncio.wait_for(flow(), 20))
        assert transport.streamed > 0
    finally:
        sim.close()


def test_request_with_client_input_passes_a_proxied_clients_rounds_through():
    """A proxy's own client runs the input round: ``input_required`` comes back as sent (this
    client's handler is not asked), then that client's answer and ``requestState`` go to the
    server as given."""
    sim = Sim("--era", "modern", "--sse")
    form = Form(wc.McpElicitationResult(action=wc.McpElicitationAction.DECLINE))
    c = client(sim, "modern", elicitation=form)
    caps = {"io.modelcontextprotocol/clientCapabilities": {"elicitation": {"form": {}}}}
    call = {"name": "draft_check_in", "arguments": {"key_result_id": 401}, "_meta": caps}

    async def flow():
        first = json.loads(await c.request_with_client_input("tools/call", json.dumps(call)))
        assert first["resultType"] == "input_required"
        [(key, ask)] = first["inputRequests"].items()
        assert ask["method"] == "elicitation/create"
        assert form.asked == [], "this client's handler is not asked"
        answers = {key: {"action": "accept", "content": {"confidence": 6, "note": "proxied"}}}
        done = json.loads(await c.request_with_client_input("tools/call", json.dumps(
            {**call, "inputResponses": answers, "requestState": first["requestState"]})))
        assert "confidence 6/10. proxied" in done["content"][0]["text"], done
        with pytest.raises(wc.WorkboardError.Failed) as e:
            await c.request_with_client_input("tools/call", "[1]")
        assert e.value.code == "invalid_input"
        await c.close()

    try:
        run(flow())
        assert counter(sim, "mcp:input_required") == 1
        assert counter(sim, "mcp:input_completed") == 1
    finally:
        sim.close()
