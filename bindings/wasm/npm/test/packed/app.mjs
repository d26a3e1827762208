// A Node ESM consumer: imports the installed package by name, lists the tools of the server
// given and calls get_current_user, through the main entry and through `workboard-connect/token`;
// prints one JSON line.
import { WorkboardClient } from 'workboard-connect';
import { WorkboardClient as TokenClient } from 'workboard-connect/token';

const [environment, token] = process.argv.slice(2);

async function flow(Client, specifier) {
  const client = new Client({ environment, token });
  const tools = await client.listTools();
  const me = await client.callTool('get_current_user', {});
  await client.close();
  return {
    resolved: import.meta.resolve(specifier),
    tools: tools.map((t) => t.name),
    me: me.content.map((c) => c.text).join(''),
    signIn: ['startMcpSignIn', 'startV1SignIn'].map((m) => typeof client[m] === 'function'),
  };
}

const main = await flow(WorkboardClient, 'workboard-connect');
console.log(JSON.stringify({ ...main, token: await flow(TokenClient, 'workboard-connect/token') }));
