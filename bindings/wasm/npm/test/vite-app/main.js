// A minimal app bundled by Vite (test/vite.test.mjs): imports the package by its name, builds a
// client with a personal token and lists the MCP tools of the WorkBoard given at runtime, in the
// fragment (#wb=<base URL>&token=<personal token>; a fragment never reaches the static server).
import { WorkboardClient } from 'workboard-connect';

const params = new URLSearchParams(location.hash.slice(1));
const status = document.getElementById('status');

async function main() {
  const client = new WorkboardClient({ environment: params.get('wb'), token: params.get('token') });
  const tools = await client.listTools();
  document.getElementById('tools').replaceChildren(...tools.map((t) => {
    const li = document.createElement('li');
    li.textContent = t.name;
    return li;
  }));
  status.textContent = `${tools.length} tools`;
  document.body.dataset.state = 'tools-listed';
}

main().catch((e) => {
  status.textContent = e && e.name === 'WorkboardError' ? `${e.code}: ${e.message}` : String(e);
  document.body.dataset.state = 'error';
});
