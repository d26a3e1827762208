// A Node ESM consumer: imports the installed package by name, lists the tools of the server
// given and calls get_current_user; prints one JSON line.
import { WorkboardClient } from 'workboard-connect';

const [environment, token] = process.argv.slice(2);
const client = new WorkboardClient({ environment, token });
const tools = await client.listTools();
const me = await client.callTool('get_current_user', {});
console.log(JSON.stringify({
  resolved: import.meta.resolve('workboard-connect'),
  tools: tools.map((t) => t.name),
  me: me.content.map((c) => c.text).join(''),
}));
