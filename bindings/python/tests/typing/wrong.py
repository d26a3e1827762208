"""Wrongly typed use of the public API: mypy must report each marked line (the types are
real, not Any). tests/test_package.py checks the line numbers of the errors."""
import workboard_connect as wc


async def main() -> None:
    wc.ClientOptions(token=5)  # error: token is Optional[str]
    client = wc.WorkboardClient(wc.ClientOptions())
    count: int = await client.list_tools()  # error: a list of McpTool
    await client.list_toolz()  # error: no such method
    async for n in client.notifications():
        n.no_such_field  # error: McpNotification has no such attribute
    wc.McpSubscriptionFilter(resource_uris="workboard://goal/301")  # error: a list of str
