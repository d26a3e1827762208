#!/usr/bin/env node
// Independent MCP peer, 2026-07-28 edition: a Streamable HTTP server built with the official
// TypeScript SDK 2.x (@modelcontextprotocol/server 2.4.0, `createMcpHandler`), for testing
// workboard-connect's client against a modern (2026-07-28) server written by someone else.
//
// Usage: node server2.mjs [--mode modern|dual] [--port N] [--token T] [--json-response]
//                         [--tools-ttl MS] [--log] [--ignore-stdin]
//   --mode modern  `legacy: 'reject'`: serves 2026-07-28 only (an `initialize` gets HTTP 400,
//                  JSON-RPC -32022 with data.supported = ["2026-07-28"]).
//   --mode dual    (default) the SDK's default: 2026-07-28, and 2025-era clients statelessly
//                  (`initialize` answered; no sessions: legacy GET/DELETE answer 405).
//
//   --tools-ttl MS `ttlMs` of a 2026-07-28 tools/list result (the SDK's `cacheHints`; default:
//                  the SDK's, 0 = not cacheable).
//
// First stdout line: `listening on http://127.0.0.1:PORT/mcp`; nothing else on stdout.
// Exits (status 0) when stdin reaches EOF (unless --ignore-stdin), and on SIGTERM / SIGINT.
// Exit status 2 with a usage line on bad arguments.
import { createServer } from 'node:http';
import { format, parseArgs } from 'node:util';
import { McpServer, completable, createMcpHandler, fromJsonSchema, inputRequired, inputResponse } from '@modelcontextprotocol/server';
import * as z from 'zod/v4';

// stdout carries only the listening line: the SDK's own console notices go to stderr.
console.log = console.info = console.debug = (...a) => process.stderr.write(`${format(...a)}\n`);

const USAGE = 'usage: node server2.mjs [--mode modern|dual] [--port N] [--token T] [--json-response] [--tools-ttl MS] [--log] [--ignore-stdin]';
let args;
try {
  ({ values: args } = parseArgs({
    options: {
      mode: { type: 'string', default: 'dual' },
      port: { type: 'string', default: '0' },
      token: { type: 'string' },
      'json-response': { type: 'boolean', default: false },
      'tools-ttl': { type: 'string' },
      log: { type: 'boolean', default: false },
      'ignore-stdin': { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
    strict: true,
    allowPositionals: false,
  }));
} catch (err) {
  process.stderr.write(`${err.message}\n${USAGE}\n`);
  process.exit(2);
}
if (args.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}
const port = Number(args.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  process.stderr.write(`invalid --port ${JSON.stringify(args.port.slice(0, 20))}\n${USAGE}\n`);
  process.exit(2);
}
if (args.mode !== 'modern' && args.mode !== 'dual') {
  process.stderr.write(`invalid --mode (modern or dual)\n${USAGE}\n`);
  process.exit(2);
}
if (args.token !== undefined && args.token.length === 0) {
  process.stderr.write(`--token must not be empty\n${USAGE}\n`);
  process.exit(2);
}
const toolsTtl = args['tools-ttl'] === undefined ? undefined : Number(args['tools-ttl']);
if (toolsTtl !== undefined && !(Number.isSafeInteger(toolsTtl) && toolsTtl >= 0)) {
  process.stderr.write(`invalid --tools-ttl (milliseconds, an integer >= 0)\n${USAGE}\n`);
  process.exit(2);
}
const token = args.token;
const MCP_PATH = '/mcp';
const MAX_BODY = 4 * 1024 * 1024;
const log = args.log ? (msg) => process.stderr.write(`[ts-sdk2-server] ${msg}\n`) : () => {};

// ---- request counter (GET /__stats; not counted itself, needs no token) ----
const stats = { POST: 0, GET: 0, DELETE: 0, OTHER: 0, unauthorized: 0, rpc: {}, versions: {} };
function resetStats() {
  for (const k of ['POST', 'GET', 'DELETE', 'OTHER', 'unauthorized']) stats[k] = 0;
  stats.rpc = {};
  stats.versions = {};
}

const GREET_NAMES = ['Ann', 'Anna', 'Bob'];

const CONFIRM_SCHEMA = {
  type: 'object',
  properties: { confirm: { type: 'boolean', title: 'Go ahead?' } },
  required: ['confirm'],
};

// ---- one McpServer per request (createMcpHandler's factory), told the request's era ----
function buildServer({ era }) {
  const server = new McpServer({ name: 'workboard-connect-ts-peer-2', version: '2.0.0' }, {
    capabilities: { logging: {} },
    ...(toolsTtl === undefined ? {} : { cacheHints: { 'tools/list': { ttlMs: toolsTtl } } }),
  });
  server.registerTool(
    'echo',
    { description: 'Returns the given text as text content', inputSchema: z.object({ text: z.string() }) },
    async ({ text }) => ({ content: [{ type: 'text', text }] }),
  );
  server.registerTool(
    'add',
    {
      description: 'Adds two numbers; returns text and structuredContent {sum}',
      inputSchema: z.object({ a: z.number(), b: z.number() }),
      outputSchema: z.object({ sum: z.number() }),
    },
    async ({ a, b }) => ({ content: [{ type: 'text', text: String(a + b) }], structuredContent: { sum: a + b } }),
  );
  server.registerTool(
    'fail',
    { description: 'Always returns a tool error (isError: true)', inputSchema: z.object({ message: z.string().optional() }) },
    async ({ message }) => ({ content: [{ type: 'text', text: message ?? 'this tool always fails' }], isError: true }),
  );
  // SEP-2243: `region` is mirrored into the Mcp-Param-Region header by a 2026-07-28 client; the
  // handler rejects a modern tools/call whose header is missing or disagrees (400, -32020).
  server.registerTool(
    'route',
    {
      description: 'Routes a query to a region (region is an x-mcp-header parameter)',
      inputSchema: fromJsonSchema({
        type: 'object',
        properties: { region: { type: 'string', 'x-mcp-header': 'Region' }, query: { type: 'string' } },
        required: ['region'],
      }),
    },
    async ({ region, query }) => ({ content: [{ type: 'text', text: `routed to ${region}${query ? `: ${query}` : ''}` }] }),
  );
  // Elicitation: a 2026-07-28 request gets an input_required result (MRTR) with a form; a
  // 2025-era request gets a server-initiated elicitation/create on the response stream.
  server.registerTool(
    'confirm',
    { description: 'Asks the user to confirm (elicitation), then answers', inputSchema: z.object({ action: z.string() }) },
    async ({ action }, ctx) => {
      let answer;
      if (era === 'modern') {
        const view = inputResponse(ctx.mcpReq.inputResponses, 'confirm');
        if (view.kind === 'missing') {
          return inputRequired({
            inputRequests: { confirm: inputRequired.elicit({ message: `Confirm ${action}?`, requestedSchema: CONFIRM_SCHEMA }) },
          });
        }
        answer = view;
      } else {
        answer = await ctx.mcpReq.elicitInput({ mode: 'form', message: `Confirm ${action}?`, requestedSchema: CONFIRM_SCHEMA });
      }
      const yes = answer.action === 'accept' && answer.content?.confirm === true;
      return { content: [{ type: 'text', text: yes ? `confirmed ${action}` : `not confirmed (${answer.action})` }] };
    },
  );
  server.registerResource(
    'readme',
    'note://readme',
    { title: 'Read me', description: 'A short text resource', mimeType: 'text/plain' },
    async (uri) => ({ contents: [{ uri: uri.href, mimeType: 'text/plain', text: 'hello from the TypeScript SDK 2.x peer' }] }),
  );
  server.registerPrompt(
    'greet',
    {
      description: 'Greets someone by name (the name completes from a fixed list)',
      argsSchema: z.object({ name: completable(z.string(), (value) => GREET_NAMES.filter((n) => n.startsWith(value ?? ''))) }),
    },
    ({ name }) => ({ messages: [{ role: 'user', content: { type: 'text', text: `Say hello to ${name}.` } }] }),
  );
  return server;
}

const handler = createMcpHandler(buildServer, {
  ...(args.mode === 'modern' ? { legacy: 'reject' } : {}),
  ...(args['json-response'] ? { responseMode: 'json' } : {}),
});

// ---- node:http ↔ web Request/Response (the handler is web-standard) ----
function challenge(res, error) {
  const value = error ? `Bearer realm="mcp", error="invalid_token", error_description="${error}"` : 'Bearer realm="mcp"';
  res.writeHead(401, { 'content-type': 'application/json', 'www-authenticate': value });
  res.end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32001, message: 'Unauthorized' }, id: null }));
}

async function readBody(req) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > MAX_BODY) throw new Error('body too large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

function countRpc(body) {
  try {
    const msg = JSON.parse(body.toString('utf8'));
    for (const m of Array.isArray(msg) ? msg : [msg]) {
      const key = m?.method ?? 'response';
      if (typeof key === 'string' && key.length <= 100 && (Object.keys(stats.rpc).length < 50 || key in stats.rpc)) stats.rpc[key] = (stats.rpc[key] ?? 0) + 1;
    }
  } catch {
    /* not JSON: the handler answers it */
  }
}

const http = createServer(async (req, res) => {
  const url = new URL(req.url ?? '/', `http://${req.headers.host ?? '127.0.0.1'}`);
  if (url.pathname === '/__stats' && req.method === 'GET') {
    const snapshot = JSON.stringify(stats);
    if (url.searchParams.get('reset') === '1') resetStats();
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(snapshot);
    return;
  }
  if (url.pathname !== MCP_PATH) {
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('not found');
    return;
  }
  const method = req.method ?? 'OTHER';
  stats[['POST', 'GET', 'DELETE'].includes(method) ? method : 'OTHER']++;
  const version = String(req.headers['mcp-protocol-version'] ?? 'none').slice(0, 40);
  if (Object.keys(stats.versions).length < 50 || version in stats.versions) stats.versions[version] = (stats.versions[version] ?? 0) + 1;
  log(`${method} ${url.pathname} mcp-method=${req.headers['mcp-method'] ?? '-'} version=${req.headers['mcp-protocol-version'] ?? '-'}`);
  if (token !== undefined) {
    const auth = req.headers.authorization ?? '';
    const m = /^bearer\s+(.+)$/i.exec(auth);
    if (!m || m[1] !== token) {
      stats.unauthorized++;
      req.resume();
      challenge(res, auth ? 'The access token is invalid' : undefined);
      return;
    }
  }
  let body;
  try {
    body = method === 'POST' ? await readBody(req) : undefined;
  } catch {
    res.writeHead(413, { 'content-type': 'text/plain' });
    res.end('request body too large');
    return;
  }
  if (body) countRpc(body);
  const abort = new AbortController();
  res.on('close', () => abort.abort());
  const headers = new Headers();
  for (const [k, v] of Object.entries(req.headers)) {
    if (Array.isArray(v)) v.forEach((x) => headers.append(k, x));
    else if (v !== undefined) headers.set(k, v);
  }
  let response;
  try {
    response = await handler.fetch(new Request(url, { method, headers, body, signal: abort.signal }));
  } catch (err) {
    log(`handler error: ${err?.message ?? err}`);
    if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
    res.end('internal error');
    return;
  }
  res.writeHead(response.status, Object.fromEntries(response.headers));
  if (!response.body) {
    res.end();
    return;
  }
  try {
    for await (const chunk of response.body) {
      if (abort.signal.aborted) break;
      res.write(chunk);
    }
  } catch {
    /* client went away */
  }
  res.end();
});

let closing = false;
async function shutdown() {
  if (closing) return;
  closing = true;
  http.closeAllConnections?.();
  http.close();
  await Promise.race([handler.close(), new Promise((r) => setTimeout(r, 2000))]);
  process.exit(0);
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
if (!args['ignore-stdin']) {
  process.stdin.on('end', shutdown);
  process.stdin.on('close', shutdown);
  process.stdin.resume();
}

http.listen(port, '127.0.0.1', () => {
  process.stdout.write(`listening on http://127.0.0.1:${http.address().port}${MCP_PATH}\n`);
});
