// A scripted 2026-07-28 MCP server behind the `fetch` option, for the tests of the input
// handlers, subscriptions and notifications (surface.test.mjs, hostile.test.mjs). It records
// every request (method, headers, JSON body) and whether its stream was aborted.
//
// tools/call `ask` (arguments `{method, params}`): `input_required` with one input request
// under the key `q` and requestState `st-1`; the retry (with `inputResponses`) completes with
// the answer as text. tools/call `logged`: an event stream with two `notifications/message`
// before the result. tools/call other: a text result. subscriptions/listen: an event stream
// with the acknowledgment, `notifications/tools/list_changed` and, unless `openListen`, the
// closing result; with `openListen` it stays open until aborted. `failListen`: a JSON-RPC
// error instead. `x/echo` (a method the SDK does not model): its params back.

const enc = new TextEncoder();
const sse = (msgs) => msgs.map((m) => `event: message\ndata: ${JSON.stringify(m)}\n\n`).join('');

export class ModernServer {
  constructor({ openListen = false, failListen = false } = {}) {
    this.requests = [];
    this.aborted = [];
    this.openListen = openListen;
    this.failListen = failListen;
    this.fetch = this.fetch.bind(this);
  }

  /** The requests with this JSON-RPC method. */
  of(method) {
    return this.requests.filter((r) => r.body?.method === method);
  }

  async fetch(url, init = {}) {
    const body = init.body == null ? null : JSON.parse(new TextDecoder().decode(init.body));
    const headers = Object.fromEntries((init.headers ?? []).map(([n, v]) => [n.toLowerCase(), v]));
    const req = { method: init.method ?? 'GET', url: String(url), headers, body, signal: init.signal };
    this.requests.push(req);
    init.signal?.addEventListener('abort', () => this.aborted.push(body?.method ?? req.method));
    if (!body?.id) return new Response(null, { status: 202 });
    const reply = (result) => ({ jsonrpc: '2.0', id: body.id, result: { resultType: 'complete', ...result } });
    const p = body.params ?? {};
    switch (body.method) {
      case 'tools/list':
        return json(reply({ tools: [{ name: 'ask', inputSchema: { type: 'object' } }, { name: 'logged', inputSchema: { type: 'object' } }] }));
      case 'server/discover':
        return json(reply({ supportedVersions: ['2026-07-28'], capabilities: { tools: {} }, serverInfo: { name: 'scripted', version: '1' } }));
      case 'tools/call':
        if (p.name === 'ask' && !p.inputResponses) {
          return json({ jsonrpc: '2.0', id: body.id, result: {
            resultType: 'input_required', requestState: 'st-1',
            inputRequests: { q: { method: p.arguments.method, params: p.arguments.params } } } });
        }
        if (p.name === 'ask') {
          return json(reply({ content: [{ type: 'text', text: JSON.stringify({ answers: p.inputResponses, state: p.requestState }) }] }));
        }
        if (p.name === 'logged') {
          return stream(sse([
            { jsonrpc: '2.0', method: 'notifications/message', params: { level: 'info', data: 'step 1' } },
            { jsonrpc: '2.0', method: 'notifications/message', params: { level: 'debug', data: 'step 2' } },
            reply({ content: [{ type: 'text', text: 'logged' }] }),
          ]), init.signal, false);
        }
        return json(reply({ content: [{ type: 'text', text: 'ok' }] }));
      case 'x/echo':
        return json(reply({ echo: p }));
      case 'subscriptions/listen': {
        if (this.failListen) {
          return json({ jsonrpc: '2.0', id: body.id, error: { code: -32603, message: 'too many subscriptions' } });
        }
        const meta = { 'io.modelcontextprotocol/subscriptionId': body.id };
        const events = [
          { jsonrpc: '2.0', method: 'notifications/subscriptions/acknowledged', params: { _meta: meta, notifications: p.notifications ?? {} } },
          { jsonrpc: '2.0', method: 'notifications/tools/list_changed', params: { _meta: meta } },
        ];
        if (!this.openListen) events.push(reply({}));
        return stream(sse(events), init.signal, this.openListen);
      }
      default:
        return json({ jsonrpc: '2.0', id: body.id, error: { code: -32601, message: 'Method not found' } });
    }
  }
}

function json(v) {
  return new Response(JSON.stringify(v), { status: 200, headers: { 'Content-Type': 'application/json' } });
}

/** An event stream with `text`, left open (until `signal` aborts) when `open`. */
function stream(text, signal, open) {
  return new Response(new ReadableStream({
    start(c) {
      c.enqueue(enc.encode(text));
      if (!open) { c.close(); return; }
      signal?.addEventListener('abort', () => c.error(signal.reason ?? new DOMException('aborted', 'AbortError')));
    },
  }), { status: 200, headers: { 'Content-Type': 'text/event-stream' } });
}
