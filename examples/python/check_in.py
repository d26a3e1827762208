"""Example: a resource, a prompt and an elicitation answered by the app, from Python.

    python3 check_in.py --token <personal token> [--env us|eu|URL] [--era auto|modern|legacy]
                        [--key-result 401] [--answer '{"confidence": 7, "note": "on track"}']

Reads the first goal resource, gets the `objective_review` prompt, then calls the
`draft_check_in` tool: the server asks for a check-in form (MCP elicitation), which the
`ConsoleForm` handler below answers (from --answer, or by asking on the terminal). Against the
simulator: `workboard sim` (or `workboard-sim --auto-approve`), then
`--env http://127.0.0.1:PORT --token wbp_demo_personal_token`.

Install the package first: `pip install` of the wheel bindings/python/build.sh builds.
"""
import argparse
import asyncio
import json
import os
import sys

import workboard_connect as wc


class ConsoleForm(wc.ElicitationHandler):
    """Renders a server's form: each field of the requested schema is asked on the terminal
    (or taken from a prepared answer). Giving it to the client declares elicitation."""

    def __init__(self, answer=None):
        self.answer = answer

    async def elicit(self, request):
        print(f"[form] {request.message}")
        if self.answer is not None:
            return wc.McpElicitationResult(action=wc.McpElicitationAction.ACCEPT, content_json=self.answer)
        schema = json.loads(request.requested_schema_json or "{}")
        content = {}
        required = schema.get("required", [])
        # Required fields first.
        for name, field in sorted(schema.get("properties", {}).items(), key=lambda f: f[0] not in required):
            raw = await asyncio.to_thread(input, f"{field.get('title', name)}: ")
            if raw == "" and name not in required:
                continue
            if field.get("type") == "integer":
                if not raw.strip().lstrip("-").isdigit():
                    return wc.McpElicitationResult(action=wc.McpElicitationAction.CANCEL)
                raw = int(raw)
            content[name] = raw
        if not content:
            return wc.McpElicitationResult(action=wc.McpElicitationAction.DECLINE)
        return wc.McpElicitationResult(action=wc.McpElicitationAction.ACCEPT, content_json=json.dumps(content))


async def main(a):
    wc.uniffi_set_event_loop(asyncio.get_running_loop())  # the handler is async Python
    era = {"modern": wc.McpEra.MODERN, "legacy": wc.McpEra.LEGACY}.get(a.era, wc.McpEra.AUTO)
    client = wc.WorkboardClient(wc.ClientOptions(environment=a.env, token=a.token, era=era),
                                elicitation=ConsoleForm(a.answer))
    try:
        goal = next(r for r in await client.list_resources() if r.uri.startswith("workboard://goal/"))
        [contents] = await client.read_resource(goal.uri)
        print(f"resource {goal.uri} ({contents.mime_type}): {contents.text}")
        prompt = await client.get_prompt("objective_review", {"objective_id": goal.uri.rsplit("/", 1)[1]})
        for m in prompt.messages:
            print(f"prompt {m.role}: {json.loads(m.content_json).get('text', '')}")
        r = await client.call_tool("draft_check_in", json.dumps({"key_result_id": a.key_result}))
        print(f"check-in: {r.text}")
        await client.close()
    except wc.WorkboardError.Failed as e:
        print(f"error {e.code}: {e.message}", file=sys.stderr)
        if e.hint:
            print(f"hint: {e.hint}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--token", default=os.environ.get("WORKBOARD_TOKEN"))
    p.add_argument("--env", default=None)
    p.add_argument("--era", choices=["auto", "modern", "legacy"], default="auto")
    p.add_argument("--key-result", type=int, default=401)
    p.add_argument("--answer", default=None, help="the form's answer as JSON (else asked on the terminal)")
    args = p.parse_args()
    if not args.token:
        p.error("--token (or WORKBOARD_TOKEN) is required")
    sys.exit(asyncio.run(main(args)))
