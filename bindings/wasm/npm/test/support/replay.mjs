// Replays tests/vectors/*.json through the package API with a scripted fetch
// (format: tests/vectors/README.md). Each op maps to one public call of the package.
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { WorkboardClient } from '../../node.js';

// WORKBOARD_VECTOR_DIR: for a copy of these tests run against another build (test.sh's
// second wasm route).
export const VECTOR_DIR =
  process.env.WORKBOARD_VECTOR_DIR ?? fileURLToPath(new URL('../../../../../tests/vectors/', import.meta.url));

export function loadVectors() {
  return readdirSync(VECTOR_DIR)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => ({ file: f, vector: JSON.parse(readFileSync(VECTOR_DIR + f, 'utf8')) }));
}

/** JSON match where "*" in `expected` matches anything. */
export function jsonMatches(expected, actual) {
  if (expected === '*') return true;
  if (Array.isArray(expected)) {
    return Array.isArray(actual) && expected.length === actual.length &&
      expected.every((e, i) => jsonMatches(e, actual[i]));
  }
  if (expected !== null && typeof expected === 'object') {
    if (actual === null || typeof actual !== 'object' || Array.isArray(actual)) return false;
    const ek = Object.keys(expected);
    return ek.length === Object.keys(actual).length &&
      ek.every((k) => k in actual && jsonMatches(expected[k], actual[k]));
  }
  return expected === actual;
}

const NULL_BODY = new Set([101, 103, 204, 205, 304]);

/** A fetch that checks each request against the script and answers from it. */
export class ScriptedFetch {
  constructor() { this.script = []; this.failures = []; this.fetch = this.fetch.bind(this); }
  load(exchanges) { this.script = [...(exchanges ?? [])]; this.failures = []; }
  async fetch(url, init = {}) {
    const body = init.body == null ? '' : new TextDecoder().decode(init.body);
    const got = { method: init.method ?? 'GET', url: String(url), headers: (init.headers ?? []).map(([n, v]) => [n, v]), body };
    const next = this.script.shift();
    if (!next) {
      this.failures.push(`unexpected extra request: ${JSON.stringify(got)}`);
      throw new TypeError('fetch failed: no scripted response');
    }
    if (JSON.stringify(next.request) !== JSON.stringify(got)) {
      this.failures.push(`request mismatch\n  expected: ${JSON.stringify(next.request)}\n  got:      ${JSON.stringify(got)}`);
    }
    const r = next.response;
    switch (r.transport_error) {
      case undefined: break;
      case 'timeout': throw new DOMException('The operation was aborted due to timeout', 'TimeoutError');
      case 'interrupted':
        return new Response(new ReadableStream({ start(c) { c.error(new TypeError('terminated')); } }), { status: 200 });
      default: throw new TypeError('fetch failed', { cause: new Error('connect ECONNREFUSED (scripted)') });
    }
    const headers = new Headers();
    for (const [n, v] of r.headers ?? []) headers.append(n, v);
    return new Response(NULL_BODY.has(r.status) ? null : (r.body ?? ''), { status: r.status, headers });
  }
}

function tokenSummary(client) {
  const json = client.credentialsJson();
  if (!json) return null;
  const c = JSON.parse(json);
  return {
    access_token: c.access_token,
    refresh_token: c.refresh_token ?? null,
    token_type: c.token_type,
    scope: c.scope ?? null,
    expires_at_ms: c.expires_at_ms ?? null,
  };
}

const drop = (o) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && v !== null));

/** op name → async (state, args) => ok value. `state.client` is the per-file client. */
export const OPS = {
  async mcp_oauth_start(s, a) {
    // A client signs in to its own MCP server (the credentials are bound to it).
    if (a.server_url && s.client.mcpUrl !== new URL(a.server_url).href) {
      s.client = new WorkboardClient({ ...s.hostOptions, mcpUrl: a.server_url });
    }
    const r = await s.client.startMcpSignIn(drop({
      serverUrl: a.server_url, redirectUri: a.redirect_uri, clientId: a.client_id,
      clientSecret: a.client_secret, clientMetadataUrl: a.client_metadata_url,
      wwwAuthenticate: a.www_authenticate, workboardEnvironment: a.workboard_environment,
    }));
    return { authorize_url: r.url, client_id: r.clientId, token_endpoint_auth: r.tokenEndpointAuth, allowance: r.allowance ?? null };
  },
  async mcp_oauth_redirect(s, a) {
    await s.client.completeMcpSignIn(null, a.input);
    return tokenSummary(s.client);
  },
  async mcp_refresh(s) {
    await s.client.refreshMcpCredentials();
    return tokenSummary(s.client);
  },
  async mcp_step_up(s, a) {
    const r = s.client.stepUpMcpSignIn(a.scope);
    return { authorize_url: r.url };
  },
  async mcp_revoke(s) {
    return { requests: await s.client.revokeMcpCredentials() };
  },
  async v1_authorize(s, a) {
    const r = s.client.startV1SignIn(drop({
      environment: a.environment, clientId: a.client_id, redirectUri: a.redirect_uri,
      scopes: a.scopes, jsonCode: a.json_code,
    }));
    return { url: r.url };
  },
  async v1_handle_redirect(s, a) {
    s.code = s.client.handleV1Redirect(null, a.input);
    return { code_received: true };
  },
  async v1_exchange_code(s, a) {
    const r = await s.client.exchangeV1Code(s.code, a.client_hash);
    return { token_type: r.tokenType, scope: r.scope ?? null, expires_at_ms: r.expiresAtMs ?? null, has_refresh: r.hasRefreshToken };
  },
  async v1_revoke(s) {
    return { outcome: await s.client.revokeV1Credentials() };
  },
  async connect(s, a) {
    const opts = {
      ...s.hostOptions,
      mcpUrl: a.server_url,
      clientInfo: { name: 'workboard-vectors', version: '1.0' },
    };
    if (a.token !== undefined) {
      opts.token = a.token;
    } else if (a.access_token !== undefined) {
      opts.credentials = JSON.stringify(drop({
        kind: 'oauth', access_token: a.access_token, refresh_token: a.refresh_token, token_type: 'Bearer',
        issued_at_ms: s.now(), expires_at_ms: a.expires_at_ms, dialect: 'o_auth2',
      }));
      // A public client's saved OAuth context (the package's authContextJson format).
      opts.authContext = JSON.stringify({
        server_url: a.server_url, resource: a.server_url, issuer: 'https://auth.example.com',
        authorization_endpoint: 'https://auth.example.com/authorize', token_endpoint: a.token_endpoint,
        token_endpoint_auth: 'none', client_id: a.client_id, identity_source: 'pre_registered',
        redirect_uri: 'https://app.example/cb', iss_parameter_supported: false, legacy_defaults: false,
      });
    }
    // The app's input handlers: each answers with the vector's answer for its kind (and
    // declares that capability).
    const kinds = { elicitation: 'elicitation', elicitation_url: 'elicitationUrl', sampling: 'sampling', roots: 'roots' };
    if (a.input) {
      opts.inputHandlers = Object.fromEntries(Object.entries(a.input).map(([k, answer]) => [kinds[k], async () => answer]));
    }
    s.client = new WorkboardClient(opts);
    return {};
  },
  async subscribe(s, a) {
    const f = a.filter ?? {};
    const stream = s.client.subscribe(drop({
      toolsListChanged: f.tools_list_changed, promptsListChanged: f.prompts_list_changed,
      resourcesListChanged: f.resources_list_changed, resourceSubscriptions: f.resource_subscriptions,
    }));
    const notifications = [];
    for await (const n of stream) notifications.push({ method: n.method, params: n.params });
    return { notifications };
  },
  async request(s, a) {
    return { result: await s.client.request(a.method, a.params) };
  },
  async list_tools(s) {
    return { names: (await s.client.listTools()).map((t) => t.name) };
  },
  async call_tool(s, a) {
    const r = await s.client.callTool(a.name, a.arguments);
    return {
      is_error: r.isError,
      text: r.content.filter((b) => b.type === 'text').map((b) => b.text).join('\n'),
      structured: r.structuredContent ?? null,
    };
  },
  async ping(s) {
    await s.client.ping();
    return {};
  },
  async discover(s) {
    const d = await s.client.discover();
    return {
      modern: d.modern, supported_versions: d.supportedVersions, protocol_version: d.protocolVersion,
      server_info: d.serverInfo ?? null, capabilities: d.capabilities,
    };
  },
  async list_resources(s) {
    return { uris: (await s.client.listResources()).map((r) => r.uri) };
  },
  async list_resource_templates(s) {
    return { uri_templates: (await s.client.listResourceTemplates()).map((t) => t.uriTemplate) };
  },
  async read_resource(s, a) {
    const contents = await s.client.readResource(a.uri);
    return {
      contents: contents.map((c) => ({ uri: c.uri, mime_type: c.mimeType ?? null, text: c.text ?? null, blob: c.blob ?? null })),
    };
  },
  async list_prompts(s) {
    return { names: (await s.client.listPrompts()).map((p) => p.name) };
  },
  async get_prompt(s, a) {
    const p = await s.client.getPrompt(a.name, a.arguments);
    return { description: p.description ?? null, messages: p.messages.map((m) => ({ role: m.role, content: m.content })) };
  },
  async complete(s, a) {
    const c = await s.client.complete(a.ref, a.argument, a.value, a.context);
    return { values: c.values, total: c.total ?? null, has_more: c.hasMore };
  },
  async close(s) {
    await s.client.close();
    return {};
  },
};

/** Ops of the transcript format that this package cannot express, with the reason. */
export const UNSUPPORTED = {};

/** Replays one vector; returns a list of failure strings (empty = pass). */
export async function replay(file, v) {
  const failures = [];
  const scripted = new ScriptedFetch();
  let now = v.start_ms;
  const hostOptions = {
    fetch: scripted.fetch,
    now: () => now,
    sleep: async (ms) => { now += ms; },
    simulatedClock: true,
    entropySeedHex: v.seed,
    dangerouslyAllowClientSecretInBrowser: true,
  };
  const client = new WorkboardClient(hostOptions);
  const state = { client, vector: v, hostOptions, now: () => now };
  for (const [i, step] of v.steps.entries()) {
    const where = `${file} step ${i} (${step.op})`;
    now += step.advance_ms ?? 0;
    scripted.load(step.exchanges);
    const op = OPS[step.op];
    if (!op) {
      failures.push(`${where}: op not implemented by the package${UNSUPPORTED[step.op] ? `: ${UNSUPPORTED[step.op]}` : ''}`);
      continue;
    }
    let actual;
    try {
      actual = { ok: await op(state, step.args ?? {}) };
    } catch (e) {
      if (typeof e?.code !== 'string' || e.name !== 'WorkboardError') {
        failures.push(`${where}: threw a non-WorkboardError: ${e?.stack ?? e}`);
        continue;
      }
      actual = { error: e.code, message: e.message };
    }
    // An answer to a server's request may still be on its way when the call's result is
    // in: wait for the scripted exchanges a little (bounded), never longer.
    for (const deadline = Date.now() + 2000; scripted.script.length && Date.now() < deadline;) {
      await new Promise((r) => setTimeout(r, 5));
    }
    for (const f of scripted.failures) failures.push(`${where}: ${f}`);
    if (scripted.script.length) failures.push(`${where}: ${scripted.script.length} scripted exchange(s) never requested`);
    const cmp = 'error' in actual ? { error: actual.error } : actual;
    if (!jsonMatches(step.expect, cmp)) {
      failures.push(`${where}: expected ${JSON.stringify(step.expect)} got ${JSON.stringify(actual)}`);
    }
  }
  return failures;
}
