#!/usr/bin/env node
// Independent MCP peer: a Streamable HTTP server built with the official
// TypeScript SDK (@modelcontextprotocol/sdk), for testing workboard-connect's
// Rust client against something other than itself.
//
// Usage: node server.mjs [--port N] [--token T] [--json-response] [--resumable]
//                        [--resource-metadata] [--log] [--ignore-stdin]
//
// First stdout line: `listening on http://127.0.0.1:PORT/mcp`. Nothing else is
// written to stdout; diagnostics go to stderr.
// Exits (status 0) when stdin reaches EOF (unless --ignore-stdin), and on
// SIGTERM / SIGINT.
import { createServer } from 'node:http';
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import { InMemoryEventStore } from '@modelcontextprotocol/sdk/examples/shared/inMemoryEventStore.js';
import * as z from 'zod/v4';

const USAGE =
  'usage: node server.mjs [--port N] [--token T] [--json-response] [--resumable] [--resource-metadata] [--log] [--ignore-stdin]';

let args;
try {
  ({ values: args } = parseArgs({
    options: {
      port: { type: 'string', default: '0' },
      token: { type: 'string' },
      'json-response': { type: 'boolean', default: false },
      resumable: { type: 'boolean', default: false },
      'resource-metadata': { type: 'boolean', default: false },
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
  process.stderr.write(`invalid --port ${JSON.stringify(args.port)}\n${USAGE}\n`);
  process.exit(2);
}
const token = args.token;
if (token !== undefined && token.length === 0) {
  process.stderr.write(`--token must not be empty\n${USAGE}\n`);
  process.exit(2);
}
const jsonResponse = args['json-response'];
const MCP_PATH = '/mcp';
const PRM_PATH = '/.well-known/oauth-protected-resource';
const MAX_BODY = 4 * 1024 * 1024;

const log = args.log ? (msg) => process.stderr.write(`[ts-sdk-server] ${msg}\n`) : () => {};

// ---- request counter (served at GET /__stats; not counted itself) ----
const stats = { POST: 0, GET: 0, DELETE: 0, OTHER: 0, unauthorized: 0, sessions_opened: 0, sessions_active: 0 };
function resetStats() {
  for (const k of ['POST', 'GET', 'DELETE', 'OTHER', 'unauthorized', 'sessions_opened']) stats[k] = 0;
}

// ---- MCP server (one McpServer per session, as the SDK examples do) ----
function buildServer() {
  const server = new McpServer(
    { name: 'workboard-connect-ts-peer', version: '1.0.0' },
    { capabilities: { logging: {} } },
  );
  server.registerTool(
    'echo',
    {
      description: 'Returns the given text as text content',
      inputSchema: { text: z.string().describe('Text to echo') },
    },
    async ({ text }) => ({ content: [{ type: 'text', text }] }),
  );
  server.registerTool(
    'add',
    {
      description: 'Adds two numbers; returns text and structuredContent {sum}',
      inputSchema: { a: z.number(), b: z.number() },
      outputSchema: { sum: z.number() },
    },
    async ({ a, b }) => {
      const structuredContent = { sum: a + b };
      return { content: [{ type: 'text', text: String(a + b) }], structuredContent };
    },
  );
  server.registerTool(
    'fail',
    {
      description: 'Always returns a tool error (isError: true)',
      inputSchema: { message: z.string().optional() },
    },
    async ({ message }) => ({
      content: [{ type: 'text', text: message ?? 'this tool always fails' }],
      isError: true,
    }),
  );
  server.registerTool(
    'notify',
    {
      description: 'Sends `count` logging notifications on the response stream, then returns "done"',
      inputSchema: { count: z.number().int().min(0).max(100) },
    },
    async ({ count }, extra) => {
      for (let i = 0; i < count; i++) {
        await extra.sendNotification({
          method: 'notifications/message',
          params: { level: 'info', data: `notification ${i + 1} of ${count}` },
        });
      }
      return { content: [{ type: 'text', text: 'done' }] };
    },
  );
  return server;
}

/** sessionId -> StreamableHTTPServerTransport */
const sessions = new Map();

// ---- HTTP helpers ----
function sendJson(res, status, body, headers = {}) {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}
function jsonRpcError(res, status, code, message, headers) {
  sendJson(res, status, { jsonrpc: '2.0', error: { code, message }, id: null }, headers);
}
function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (c) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(Object.assign(new Error('body too large'), { status: 413 }));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

let baseUrl = '';

/** Returns true when the request may proceed; otherwise has answered 401. */
function checkAuth(req, res) {
  if (token === undefined) return true;
  const header = req.headers.authorization;
  const m = typeof header === 'string' ? /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header) : null;
  if (m && m[1] === token) return true;
  stats.unauthorized++;
  // RFC 6750 §3: no error code when the request carried no credentials.
  const params = ['realm="mcp"'];
  if (args['resource-metadata']) params.push(`resource_metadata="${baseUrl}${PRM_PATH}"`);
  if (header !== undefined) params.push('error="invalid_token"', 'error_description="The access token is invalid"');
  jsonRpcError(res, 401, -32001, header === undefined ? 'Unauthorized: missing bearer token' : 'Unauthorized: invalid bearer token', {
    'www-authenticate': `Bearer ${params.join(', ')}`,
  });
  return false;
}

async function handleMcp(req, res) {
  const sessionId = req.headers['mcp-session-id'];
  if (req.method === 'POST') {
    let parsed;
    try {
      const raw = await readBody(req);
      parsed = JSON.parse(raw);
    } catch (err) {
      if (err.status === 413) return jsonRpcError(res, 413, -32600, 'Request body too large');
      return jsonRpcError(res, 400, -32700, 'Parse error: invalid JSON');
    }
    if (typeof sessionId === 'string') {
      const transport = sessions.get(sessionId);
      if (!transport) return jsonRpcError(res, 404, -32001, 'Session not found');
      return transport.handleRequest(req, res, parsed);
    }
    if (!isInitializeRequest(parsed)) {
      return jsonRpcError(res, 400, -32000, 'Bad Request: No valid session ID provided');
    }
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      enableJsonResponse: jsonResponse,
      // --resumable: SSE events carry `id:`; protocol >= 2025-11-25 streams start with a
      // priming event `id: ..\nretry: 1000\ndata: \n\n` (empty data).
      ...(args.resumable ? { eventStore: new InMemoryEventStore(), retryInterval: 1000 } : {}),
      onsessioninitialized: (sid) => {
        sessions.set(sid, transport);
        stats.sessions_opened++;
        stats.sessions_active = sessions.size;
        log(`session ${sid} opened`);
      },
      onsessionclosed: (sid) => {
        sessions.delete(sid);
        stats.sessions_active = sessions.size;
        log(`session ${sid} closed`);
      },
    });
    transport.onclose = () => {
      const sid = transport.sessionId;
      if (sid && sessions.delete(sid)) stats.sessions_active = sessions.size;
    };
    await buildServer().connect(transport);
    return transport.handleRequest(req, res, parsed);
  }
  if (req.method === 'GET' || req.method === 'DELETE') {
    if (typeof sessionId !== 'string') return jsonRpcError(res, 400, -32000, 'Bad Request: No valid session ID provided');
    const transport = sessions.get(sessionId);
    if (!transport) return jsonRpcError(res, 404, -32001, 'Session not found');
    return transport.handleRequest(req, res);
  }
  return jsonRpcError(res, 405, -32000, 'Method not allowed', { allow: 'GET, POST, DELETE' });
}

const httpServer = createServer(async (req, res) => {
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  try {
    if (url.pathname === '/__stats') {
      if (req.method !== 'GET') return jsonRpcError(res, 405, -32000, 'Method not allowed', { allow: 'GET' });
      const snapshot = { ...stats };
      if (url.searchParams.get('reset') === '1') resetStats();
      return sendJson(res, 200, snapshot);
    }
    if (url.pathname === PRM_PATH && args['resource-metadata']) {
      return sendJson(res, 200, {
        resource: `${baseUrl}${MCP_PATH}`,
        authorization_servers: [`${baseUrl}/oauth`],
        scopes_supported: ['all'],
        bearer_methods_supported: ['header'],
      });
    }
    if (url.pathname !== MCP_PATH) return sendJson(res, 404, { error: 'not_found' });
    if (req.method === 'POST' || req.method === 'GET' || req.method === 'DELETE') stats[req.method]++;
    else stats.OTHER++;
    log(`${req.method} ${url.pathname} session=${req.headers['mcp-session-id'] ?? '-'}`);
    if (!checkAuth(req, res)) return;
    await handleMcp(req, res);
  } catch (err) {
    process.stderr.write(`[ts-sdk-server] error: ${err?.stack ?? err}\n`);
    if (!res.headersSent) jsonRpcError(res, 500, -32603, 'Internal server error');
    else res.end();
  }
});

let shuttingDown = false;
async function shutdown(reason) {
  if (shuttingDown) return;
  shuttingDown = true;
  log(`shutting down (${reason})`);
  for (const t of sessions.values()) await t.close().catch(() => {});
  httpServer.close();
  httpServer.closeAllConnections?.();
  process.exit(0);
}
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));
if (!args['ignore-stdin']) {
  process.stdin.on('end', () => shutdown('stdin closed'));
  process.stdin.on('close', () => shutdown('stdin closed'));
  process.stdin.on('error', () => shutdown('stdin error'));
  process.stdin.resume();
}

httpServer.listen(port, '127.0.0.1', () => {
  const addr = httpServer.address();
  baseUrl = `http://127.0.0.1:${addr.port}`;
  process.stdout.write(`listening on ${baseUrl}${MCP_PATH}\n`);
});
httpServer.on('error', (err) => {
  process.stderr.write(`[ts-sdk-server] listen failed: ${err.message}\n`);
  process.exit(1);
});
