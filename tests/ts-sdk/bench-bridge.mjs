#!/usr/bin/env node
// Figures for `workboard bridge` (issue 17), measured with the official TypeScript SDK's
// clients; prints them, asserts nothing about speed.
//   - start: time from spawning the stdio server to the first answered tools/list (the 1.x
//     client: `initialize`; the 2.x client with version negotiation `auto`, which probes with
//     `server/discover` on a sibling process first), median and p95 over --starts runs;
//   - per call: median and p95 of one tools/call over --calls calls, through the stdio server
//     vs the same 2.x client straight over Streamable HTTP: the difference is what the bridge
//     adds.
// Each stdio server: `workboard bridge`, and, when --mcp-remote names its proxy script,
// mcp-remote through node (what `npx -y mcp-remote` runs).
//
// Usage: node bench-bridge.mjs --bin WORKBOARD --url MCP_URL --store STORE --token TOKEN
//          [--tool NAME] [--calls N] [--starts N] [--mcp-remote PATH/TO/proxy.js]
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { Client as Client2, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { StdioClientTransport as Stdio2 } from '@modelcontextprotocol/client/stdio';
import { Client as Client1 } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport as Stdio1 } from '@modelcontextprotocol/sdk/client/stdio.js';

const { values: o } = parseArgs({
  options: {
    bin: { type: 'string' },
    url: { type: 'string' },
    store: { type: 'string' },
    token: { type: 'string' },
    tool: { type: 'string', default: 'get_current_user' },
    calls: { type: 'string', default: '200' },
    starts: { type: 'string', default: '10' },
    'mcp-remote': { type: 'string' },
  },
  strict: true,
});
for (const k of ['bin', 'url', 'store', 'token']) {
  if (!o[k]) {
    process.stderr.write(`--${k} is required\n`);
    process.exit(2);
  }
}
const CALLS = Number(o.calls);
const STARTS = Number(o.starts);
const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('WORKBOARD_')));

const servers = [
  { name: 'workboard bridge', params: { command: o.bin, args: ['--server', o.url, '--store', o.store, 'bridge'], env, stderr: 'ignore' } },
];
if (o['mcp-remote']) {
  servers.push({
    name: 'mcp-remote (node)',
    params: {
      command: process.execPath,
      args: [o['mcp-remote'], o.url, '--header', 'Authorization:${AUTH_HEADER}', '--allow-http', '--transport', 'http-only'],
      env: { ...env, AUTH_HEADER: `Bearer ${o.token}` },
      stderr: 'ignore',
    },
  });
}

const stats = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const at = (q) => s[Math.min(s.length - 1, Math.floor(q * s.length))];
  return { median_ms: +at(0.5).toFixed(2), p95_ms: +at(0.95).toFixed(2), n: s.length };
};

async function stdioClient(sdk, params) {
  if (sdk === 2) {
    const c = new Client2({ name: 'bench-2x', version: '1' }, { capabilities: {}, versionNegotiation: { mode: 'auto' } });
    await c.connect(new Stdio2(params));
    return c;
  }
  const c = new Client1({ name: 'bench-1x', version: '1' }, { capabilities: {} });
  await c.connect(new Stdio1(params));
  return c;
}

async function startTimes(sdk, params) {
  const times = [];
  for (let i = 0; i < STARTS; i += 1) {
    const t0 = performance.now();
    const c = await stdioClient(sdk, params);
    await c.listTools();
    times.push(performance.now() - t0);
    await c.close();
  }
  return stats(times);
}

async function callTimes(client) {
  for (let i = 0; i < 5; i += 1) await client.callTool({ name: o.tool, arguments: {} }); // warm-up
  const times = [];
  for (let i = 0; i < CALLS; i += 1) {
    const t0 = performance.now();
    const r = await client.callTool({ name: o.tool, arguments: {} });
    times.push(performance.now() - t0);
    if (r.isError) throw new Error(`${o.tool} failed: ${JSON.stringify(r.content)}`);
  }
  return stats(times);
}

const report = { tool: o.tool, calls: CALLS, starts: STARTS, direct_http: null, stdio: [] };
{
  const c = new Client2({ name: 'bench-direct', version: '1' }, { capabilities: {}, versionNegotiation: { mode: 'auto' } });
  const transport = new StreamableHTTPClientTransport(new URL(o.url), { requestInit: { headers: { Authorization: `Bearer ${o.token}` } } });
  await c.connect(transport);
  report.direct_http = await callTimes(c);
  await c.close();
}
for (const s of servers) {
  const entry = { server: s.name };
  try {
    entry.start_to_first_tools_list_1x = await startTimes(1, s.params);
    entry.start_to_first_tools_list_2x = await startTimes(2, s.params);
    const c = await stdioClient(2, s.params);
    entry.per_call_2x = await callTimes(c);
    entry.added_per_call_median_ms = +(entry.per_call_2x.median_ms - report.direct_http.median_ms).toFixed(2);
    await c.close();
  } catch (e) {
    entry.error = String(e?.message ?? e).slice(0, 300);
  }
  report.stdio.push(entry);
}
process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
