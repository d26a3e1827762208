"""Example: connect to WorkBoard's MCP server from Python and list the tools.

    python3 list_tools.py --token <personal token> [--env us|eu|URL]
    python3 list_tools.py --store DIR --token <personal token>   # saved in DIR
    python3 list_tools.py --store DIR                            # later runs

Install the package first: `pip install` of the wheel bindings/python/build.sh builds.
"""
import argparse
import asyncio
import os
import sys
from pathlib import Path

import workboard_connect as wc


class DirStore(wc.CredentialStore):
    """A keyed store in a directory, one file per key (`credentials`, `auth_context`,
    `session`). The values hold tokens: keep the directory private (or use a keyring)."""

    def __init__(self, path):
        self.dir = Path(path)
        self.dir.mkdir(mode=0o700, parents=True, exist_ok=True)

    def load(self, key):
        f = self.dir / key
        return f.read_text() if f.exists() else None

    def save(self, key, value):
        (self.dir / key).write_text(value)

    def remove(self, key):
        (self.dir / key).unlink(missing_ok=True)


async def main(env, token, store):
    wc.uniffi_set_event_loop(asyncio.get_running_loop())
    # The credentials saved in the store (if any) are loaded; a token given replaces them
    # (and is saved).
    client = wc.WorkboardClient(wc.ClientOptions(environment=env), store=DirStore(store) if store else None)
    try:
        if token:
            client.set_token(token)
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
    p.add_argument("--store", default=None, help="a directory keeping the credentials between runs")
    a = p.parse_args()
    if not a.token and not a.store:
        p.error("--token (or WORKBOARD_TOKEN) or --store is required")
    sys.exit(asyncio.run(main(a.env, a.token, a.store)))
