// Wrong uses of the API: each `@ts-expect-error` must meet an error (tsc reports an unused one),
// so the installed declarations are real types, not `any`.
import { WorkboardClient, type McpTool } from 'workboard-connect';
import { WorkboardClient as TokenClient } from 'workboard-connect/token';

export async function wrong(): Promise<void> {
  // @ts-expect-error: token is a string
  new WorkboardClient({ token: 5 });
  const client = new WorkboardClient({ token: 't' });
  // @ts-expect-error: listTools resolves to McpTool[]
  const n: number = await client.listTools();
  // @ts-expect-error: no such method
  await client.listToolz();
  const tools: McpTool[] = await client.listTools();
  // @ts-expect-error: a tool's name is a string
  const name: number = tools[0].name;
  const lean = new TokenClient({ token: 't' });
  const listed: McpTool[] = await lean.listTools();
  // @ts-expect-error: the token entry has no sign-in methods
  await lean.startMcpSignIn({ redirectUri: 'https://app.example/cb' });
  console.log(n, name, listed);
}
