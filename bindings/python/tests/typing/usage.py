"""Typed use of the public API: `mypy --strict` must pass (tests/test_package.py)."""
import asyncio
import json
from typing import List, Optional

import workboard_connect as wc


class Form(wc.ElicitationHandler):
    async def elicit(self, request: wc.McpElicitation) -> wc.McpElicitationResult:
        schema: Optional[str] = request.requested_schema_json
        return wc.McpElicitationResult(action=wc.McpElicitationAction.ACCEPT,
                                       content_json=json.dumps({"schema": schema}))


class FailingTransport(wc.Transport):
    async def send(self, request: wc.HttpRequest) -> wc.HttpResponse:
        if request.body:
            raise wc.HostError.BodyTooLarge(limit=1024)
        raise wc.HostError.Connect("no network")


async def main(url: str, token: str) -> List[str]:
    wc.uniffi_set_event_loop(asyncio.get_running_loop())
    client = wc.WorkboardClient(wc.ClientOptions(environment=url, token=token, era=wc.McpEra.AUTO),
                                elicitation=Form())
    tools: List[wc.McpTool] = await client.list_tools()
    result: wc.McpToolResult = await client.call_tool("get_current_user", "{}")
    text: str = result.text
    first: Optional[wc.McpNotification] = await client.notifications().next()
    async with client.subscribe(wc.McpSubscriptionFilter(resource_uris=["workboard://goal/301"])) as sub:
        async for n in sub:
            method: str = n.method
            print(method, n.params_json)
            break
    try:
        await client.ping()
    except wc.WorkboardError.Failed as e:
        code: str = e.code
        hint: Optional[str] = e.hint
        print(code, hint, e.kind == wc.ErrorKind.NEEDS_SIGN_IN)
    done = await client.complete(wc.McpCompletionRef.PROMPT(name="objective_review"), "objective_id", "3", None)
    print(done)
    await client.close()
    print(text, first, wc.version())
    return [t.name for t in tools]
