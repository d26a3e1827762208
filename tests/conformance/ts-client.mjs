#!/usr/bin/env node
// Reference client for the conformance run ("theirs"): the official TypeScript SDK 2.x client
// (@modelcontextprotocol/client 2.4.0) doing, per client scenario, what the SDK's own conformance
// client (typescript-sdk test/conformance/src/everythingClient.ts) does — written here in plain
// JavaScript, smaller, so the score table has the SDK's number next to ours.
//
// Invoked by the suite as `node ts-client.mjs SERVER_URL`, with MCP_CONFORMANCE_SCENARIO,
// MCP_CONFORMANCE_PROTOCOL_VERSION and MCP_CONFORMANCE_CONTEXT in the environment.
//
// Like the SDK's own fixture, for the four 2026-07-28 mocks that implement neither
// `server/discover` nor a usable `initialize` (http-standard-headers, http-custom-headers,
// http-invalid-tool-headers, sep-2322-client-request-state) the `server/discover` probe is answered
// locally; everything the scenario measures still goes to the real mock. workboard-adapter.mjs
// gives the workboard CLI no such help.
import {
  Client,
  ClientCredentialsProvider,
  PrivateKeyJwtProvider,
  StreamableHTTPClientTransport,
  UnauthorizedError,
  auth,
  computeScopeUnion,
  extractWWWAuthenticateParams,
  isStrictScopeSuperset,
} from '@modelcontextprotocol/client';

const scenario = process.env.MCP_CONFORMANCE_SCENARIO;
const serverUrl = process.argv[2];
const modern = process.env.MCP_CONFORMANCE_PROTOCOL_VERSION === '2026-07-28';
const context = JSON.parse(process.env.MCP_CONFORMANCE_CONTEXT ?? '{}');
const CLIENT_METADATA_URL = 'https://conformance-test.local/client-metadata.json';
const info = { name: 'ts-reference-client', version: '1.0.0' };
const log = (...a) => process.stderr.write(`[ts-client] ${a.join(' ')}\n`);

const negotiation = (auto) => (auto ? { versionNegotiation: { mode: 'auto' } } : {});

async function connect({ capabilities = {}, auto = modern, fetch: fetchFn, authProvider } = {}) {
  const client = new Client(info, { capabilities, ...negotiation(auto) });
  const transport = new StreamableHTTPClientTransport(new URL(serverUrl), { fetch: fetchFn, authProvider });
  await client.connect(transport);
  return client;
}

/** Answers `server/discover` locally (the mocks named above lack it); all else goes to the server. */
const localDiscover = async (input, init) => {
  if (typeof init?.body === 'string') {
    let msg;
    try {
      msg = JSON.parse(init.body);
    } catch {
      msg = null;
    }
    if (msg?.method === 'server/discover') {
      return Response.json({
        jsonrpc: '2.0',
        id: msg.id,
        result: {
          supportedVersions: ['2026-07-28'],
          capabilities: { tools: { listChanged: true }, resources: {}, prompts: {} },
          _meta: { 'io.modelcontextprotocol/serverInfo': info },
        },
      });
    }
  }
  return fetch(input, init);
};

/** An in-memory OAuth client provider whose "browser" follows the authorize redirect at once. */
class HeadlessProvider {
  constructor(clientMetadataUrl) {
    this.clientMetadataUrl = clientMetadataUrl;
    this.redirectUrl = 'http://localhost:3000/callback';
    this.clientMetadata = { client_name: info.name, redirect_uris: [this.redirectUrl] };
    this.saved = {};
  }
  clientInformation() {
    return this.saved.client;
  }
  saveClientInformation(c) {
    this.saved.client = c;
  }
  tokens() {
    return this.saved.tokens;
  }
  saveTokens(t) {
    this.saved.tokens = t;
  }
  discoveryState() {
    return this.saved.discovery;
  }
  saveDiscoveryState(d) {
    this.saved.discovery = d;
  }
  saveCodeVerifier(v) {
    this.saved.verifier = v;
  }
  codeVerifier() {
    if (!this.saved.verifier) throw new Error('no code verifier');
    return this.saved.verifier;
  }
  invalidateCredentials(what) {
    const all = what === 'all';
    if (all || what === 'client') delete this.saved.client;
    if (all || what === 'tokens') delete this.saved.tokens;
    if (all || what === 'verifier') delete this.saved.verifier;
    if (all || what === 'discovery') delete this.saved.discovery;
  }
  async redirectToAuthorization(url) {
    const res = await fetch(url, { redirect: 'manual', signal: AbortSignal.timeout(10000) });
    const location = res.headers.get('location');
    if (!location) throw new Error(`no redirect from the authorization endpoint (HTTP ${res.status})`);
    const back = new URL(location);
    this.code = back.searchParams.get('code') ?? undefined;
    this.iss = back.searchParams.get('iss') ?? undefined;
    if (!this.code) throw new Error('no code in the authorization redirect');
  }
}

/** fetch that signs in on 401 (and steps up on 403 with the union of scopes), then retries once. */
function oauthFetch(provider) {
  return async (input, init) => {
    const send = async () => {
      const headers = new Headers(init?.headers);
      const tokens = await provider.tokens();
      if (tokens) headers.set('Authorization', `Bearer ${tokens.access_token}`);
      return fetch(input, { ...init, headers });
    };
    let res = await send();
    if (res.status === 401 || res.status === 403) {
      const { resourceMetadataUrl, scope: challenged } = extractWWWAuthenticateParams(res);
      const previous = await provider.tokens();
      const scope = res.status === 403 ? computeScopeUnion(previous?.scope, challenged) : challenged;
      if (res.status === 401) provider.invalidateCredentials('discovery');
      const opts = { serverUrl, resourceMetadataUrl, scope, fetchFn: fetch };
      let result = await auth(provider, { ...opts, forceReauthorization: isStrictScopeSuperset(scope, previous?.scope) });
      if (result === 'REDIRECT') {
        result = await auth(provider, { ...opts, authorizationCode: provider.code, iss: provider.iss });
        if (result !== 'AUTHORIZED') throw new UnauthorizedError(`authorization ended with ${result}`);
      }
      res = await send();
      if (res.status === 401 || res.status === 403) throw new UnauthorizedError(`still ${res.status} after signing in`);
    }
    return res;
  };
}

const toolCalls = () => context.toolCalls ?? [];
const handlers = {
  initialize: async () => {
    const c = await connect({ auto: false });
    await c.listTools();
    await c.close();
  },
  tools_call: async () => {
    const c = await connect();
    const { tools } = await c.listTools();
    if (tools.some((t) => t.name === 'add_numbers')) await c.callTool({ name: 'add_numbers', arguments: { a: 5, b: 3 } });
    await c.close();
  },
  'request-metadata': async () => {
    const c = await connect({ capabilities: { roots: { listChanged: true }, sampling: {}, elicitation: {} }, auto: true });
    await c.close();
  },
  'json-schema-ref-no-deref': async () => {
    const c = await connect({ auto: false });
    await c.listTools();
    await c.close();
  },
  'sse-retry': async () => {
    const c = await connect({ auto: false });
    await c.listTools();
    await c.callTool({ name: 'test_reconnection', arguments: {} });
    await c.close();
  },
  'elicitation-sep1034-client-defaults': async () => {
    const c = new Client(info, { capabilities: { elicitation: { form: { applyDefaults: true } } } });
    c.setRequestHandler('elicitation/create', async () => ({ action: 'accept', content: {} }));
    await c.connect(new StreamableHTTPClientTransport(new URL(serverUrl)));
    await c.listTools();
    await c.callTool({ name: 'test_client_elicitation_defaults', arguments: {} });
    await c.close();
  },
  'http-standard-headers': async () => {
    const c = await connect({ auto: true, fetch: localDiscover });
    const [tool] = (await c.listTools()).tools;
    if (tool) await c.callTool({ name: tool.name, arguments: {} });
    const [resource] = (await c.listResources()).resources;
    if (resource) await c.readResource({ uri: resource.uri });
    const [prompt] = (await c.listPrompts()).prompts;
    if (prompt) await c.getPrompt({ name: prompt.name, arguments: {} });
    await c.close();
  },
  'http-custom-headers': async () => {
    const c = await connect({ auto: true, fetch: localDiscover });
    await c.listTools();
    for (const call of toolCalls()) await c.callTool({ name: call.name, arguments: call.arguments });
    await c.close();
  },
  'http-invalid-tool-headers': async () => {
    const c = await connect({ auto: true, fetch: localDiscover });
    for (const t of (await c.listTools()).tools) {
      await c.callTool({ name: t.name, arguments: { region: 'us-west1' } }).catch((e) => log(`call ${t.name}: ${e}`));
    }
    await c.close();
  },
  'sep-2322-client-request-state': async () => {
    const c = new Client(info, { capabilities: { elicitation: {} }, ...negotiation(true) });
    c.setRequestHandler('elicitation/create', async () => ({ action: 'accept', content: { confirmed: true } }));
    await c.connect(new StreamableHTTPClientTransport(new URL(serverUrl), { fetch: localDiscover }));
    for (const name of ['test_mrtr_echo_state', 'test_mrtr_no_state', 'test_mrtr_unrelated', 'test_mrtr_no_result_type']) {
      await c.callTool({ name, arguments: {} }).catch((e) => log(`call ${name}: ${e}`));
    }
    await c.close();
  },
  'auth/client-credentials-basic': async () => {
    const authProvider = new ClientCredentialsProvider({ clientId: context.client_id, clientSecret: context.client_secret });
    const c = await connect({ authProvider });
    await c.listTools();
    await c.close();
  },
  'auth/client-credentials-jwt': async () => {
    const authProvider = new PrivateKeyJwtProvider({
      clientId: context.client_id,
      privateKey: context.private_key_pem,
      algorithm: context.signing_algorithm || 'ES256',
    });
    const c = await connect({ authProvider });
    await c.listTools();
    await c.close();
  },
  'auth/pre-registration': async () => {
    const provider = new HeadlessProvider();
    provider.saveClientInformation({ client_id: context.client_id, client_secret: context.client_secret, redirect_uris: [provider.redirectUrl] });
    const c = await connect({ fetch: oauthFetch(provider) });
    await c.listTools();
    await c.callTool({ name: 'test-tool', arguments: {} });
    await c.close();
  },
};
const oauthScenario = async () => {
  const c = await connect({ auto: true, fetch: oauthFetch(new HeadlessProvider(CLIENT_METADATA_URL)) });
  await c.listTools();
  await c.callTool({ name: 'test-tool', arguments: {} });
  await c.close();
};

const handler = handlers[scenario] ?? (scenario?.startsWith('auth/') ? oauthScenario : null);
if (!handler || !serverUrl) {
  log(`usage: MCP_CONFORMANCE_SCENARIO=… node ts-client.mjs SERVER_URL (no handler for ${scenario})`);
  process.exit(2);
}
try {
  await handler();
  process.exit(0);
} catch (err) {
  log(`error: ${err?.stack ?? err}`);
  process.exit(1);
}
