"""Example: connect to WorkBoard's MCP server from Python and list the tools.

    python3 list_tools.py --token <personal token> [--env us|eu|URL]

Build the module first: bindings/python/build.sh (it puts workboard_ffi.py and the native
library into bindings/python/workboard_connect/).
"""
import argparse
import asyncio
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bindings" / "python"))

import workboard_connect as wc  # noqa: E402


async def main(env, token):
    wc.uniffi_set_event_loop(asyncio.get_running_loop())
    client = wc.WorkboardClient(wc.ClientOptions(environment=env, token=token))
    try:
        for tool in await client.list_tools():
            print(f"{tool.name}: {tool.description or ''}")
        me = await client.call_tool("get_current_user", "{}")
        print(me.text)
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
    a = p.parse_args()
    if not a.token:
        p.error("--token (or WORKBOARD_TOKEN) is required")
    sys.exit(asyncio.run(main(a.env, a.token)))
