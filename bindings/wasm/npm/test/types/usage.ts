// Type-checked (not run) by test/types.test.mjs: the published .d.ts must describe the API as
// an app uses it, resolved through the package name and its `exports` map.
import {
  WorkboardClient,
  startV1SignIn,
  handleV1Redirect,
  type McpTool,
  type McpToolResult,
  type CredentialsSummary,
  type V1Code,
  type ErrorKind,
  type WorkboardError,
  type WorkboardStore,
  type ServerInfo,
  type McpResource,
  type McpResourceTemplate,
  type McpResourceContents,
  type McpPrompt,
  type McpPromptResult,
  type McpCompletion,
  type McpDiscovery,
  type McpNotification,
  type McpSubscriptionFilter,
  type NotificationStream,
  type InputHandlers,
  type ElicitationRequest,
  type ElicitResult,
  type SamplingRequest,
  type SamplingResult,
  type RootsResult,
} from 'workboard-connect';

async function app(): Promise<void> {
  const client = new WorkboardClient({
    environment: 'eu',
    token: 'wbp_x',
    clientInfo: { name: 'my-app', version: '1.2.3' },
    fetch: (input, init) => fetch(input, init),
    now: () => Date.now(),
    timeoutMs: 10_000,
  });
  const store: WorkboardStore = {
    load: (key) => localStorage.getItem(key),
    save: (key, value) => localStorage.setItem(key, value),
    remove: (key) => localStorage.removeItem(key),
  };
  const stored = new WorkboardClient({ store });
  const info: ServerInfo | undefined = await stored.connect();
  await stored.connect({ signal: AbortSignal.timeout(1000) });
  console.log(info?.name, info?.protocolVersion);
  const failure: WorkboardError | undefined = stored.storeError();
  console.log(failure?.code);
  stored.cancelAll();
  await stored.ping({ signal: AbortSignal.timeout(1000) });
  client.onCredentialsChanged((json: string | null) => { if (json) sessionStorage.setItem('c', json); });
  const tools: McpTool[] = await client.listTools();
  const first: string = tools[0].name;
  const result: McpToolResult = await client.callTool(first, { team_id: 1 });
  const noArgs: McpToolResult = await client.callTool(first);
  const ac = new AbortController();
  await client.callTool(first, { x: 1 }, { signal: ac.signal });
  await client.listTools({ signal: AbortSignal.timeout(1000) });
  for (const block of [...result.content, ...noArgs.content]) {
    if (block.type === 'text') console.log(block.text);
  }
  const discovery: McpDiscovery = await client.discover();
  const resources: McpResource[] = await client.listResources();
  const templates: McpResourceTemplate[] = await client.listResourceTemplates({ signal: ac.signal });
  const contents: McpResourceContents[] = await client.readResource(resources[0].uri);
  const prompts: McpPrompt[] = await client.listPrompts();
  const prompt: McpPromptResult = await client.getPrompt(prompts[0].name, { team: 'Platform' });
  await client.getPrompt(prompts[0].name);
  const completion: McpCompletion = await client.complete({ type: 'ref/prompt', name: prompts[0].name }, 'team', 'Pl', { quarter: 'Q3' });
  await client.complete({ type: 'ref/resource', uri: templates[0].uriTemplate }, 'id', '4');
  console.log(discovery.modern, discovery.serverInfo?.name, contents[0].text ?? contents[0].blob,
    prompts[0].arguments[0]?.required, prompt.messages[0].content.type, completion.values, completion.hasMore);
  const summary: CredentialsSummary | undefined = client.credentialsSummary();
  const kind: 'personal' | 'oauth' | undefined = summary?.kind;
  console.log(kind, result.isError);

  // Input handlers: the app renders the elicitation form and resolves with the answer.
  const handlers: InputHandlers = {
    elicitation: async (request: ElicitationRequest): Promise<ElicitResult> => {
      const fields = Object.entries(request.requestedSchema.properties).map(([name, p]) => `${name}: ${p.title ?? p.type}`);
      console.log(request.message, fields, request.requestedSchema.required);
      return { action: 'accept', content: { confidence: 7, note: 'on track' } };
    },
    elicitationUrl: (request) => { window.open(request.url); return { action: 'accept' }; },
    sampling: async (request: SamplingRequest): Promise<SamplingResult> =>
      ({ role: 'assistant', content: { type: 'text', text: `${request.messages.length}` }, model: 'my-llm' }),
    roots: (): RootsResult => ({ roots: [{ uri: 'file:///work', name: 'work' }] }),
  };
  const asking = new WorkboardClient({ token: 'wbp_x', inputHandlers: handlers, era: 'modern', logLevel: 'info' });
  new WorkboardClient({ era: 'legacy', inputHandlers: { elicitation: () => ({ action: 'decline' }) } });
  await asking.callTool('draft_check_in', { key_result_id: 401 }, { signal: ac.signal });
  await asking.ping();
  const raw: unknown = await asking.request('x/custom', { a: 1 }, { signal: ac.signal });
  await asking.request('x/custom');
  // A proxy's own client runs the input rounds: the input_required result comes back as sent.
  const round: unknown = await asking.requestWithClientInput('tools/call',
    { name: 'draft_check_in', inputResponses: { q: { action: 'decline' } }, requestState: 's' }, { signal: ac.signal });
  await asking.requestWithClientInput('tools/call');
  console.log(round);
  console.log(raw);
  // Notifications (a call's log and progress messages) and subscriptions: async iterables.
  const notes: NotificationStream = asking.notifications();
  for await (const n of notes) {
    const m: McpNotification = n;
    if (m.method === 'notifications/message') console.log(m.params.level, m.params.data);
    break;
  }
  const next: IteratorResult<McpNotification, undefined> = await notes.next();
  if (!next.done) console.log(next.value.method);
  const filter: McpSubscriptionFilter = { toolsListChanged: true, resourceSubscriptions: [resources[0].uri] };
  const sub = asking.subscribe(filter, { signal: ac.signal });
  for await (const n of sub) {
    if (n.method === 'notifications/resources/updated') console.log(await asking.readResource(String(n.params.uri)));
  }
  const graceful: boolean | undefined = await sub.ended;
  await sub.return();
  sub.close();
  {
    using scoped = asking.subscribe({ promptsListChanged: true, resourcesListChanged: true });
    await scoped.next();
  }
  console.log(graceful);
  asking.free();

  const { url, pendingJson } = startV1SignIn({ clientId: 'cid', redirectUri: 'https://app.example/cb', scopes: ['all'] });
  const code: V1Code = handleV1Redirect(pendingJson, url);
  const start = await client.startMcpSignIn({ redirectUri: 'https://app.example/cb' });
  await client.completeMcpSignIn(start.pendingJson, 'https://app.example/cb?code=x&state=y');
  await client.completeMcpSignIn(null, 'https://app.example/cb?code=x&state=y');
  const outcome: 'revoked' | 'already_invalid' = await client.revokeV1Credentials();
  console.log(code.redirectUri, outcome);
  await client.close();
}

// A caught error: branch on its kind (an exhaustive switch over the union).
function action(e: unknown): string {
  const err = e as WorkboardError;
  const code: string = err.code;
  const hint: string | null = err.hint;
  const kind: ErrorKind = err.kind;
  switch (kind) {
    case 'needs_sign_in': case 'step_up_required': case 'sign_in_failed': return 'sign in';
    case 'network': case 'timeout': case 'rate_limited': case 'server': return 'retry later';
    case 'invalid_input': case 'wrong_state': return 'fix the call';
    case 'unauthorized': case 'protocol': case 'cancelled': case 'stopped': case 'storage': case 'internal':
      return `report ${code} ${hint ?? ''}`;
    default: {
      const never: never = kind;
      return never;
    }
  }
}
// @ts-expect-error: not a kind
const notAKind: ErrorKind = 'needs_signin';

// @ts-expect-error: redirectUri is required
startV1SignIn({ clientId: 'cid' });
// @ts-expect-error: the options object has no such field
new WorkboardClient({ enviroment: 'us' });
// @ts-expect-error: a signal must be an AbortSignal
new WorkboardClient().listTools({ signal: 5 });
// @ts-expect-error: a store needs load, save and remove
new WorkboardClient({ store: { load: () => null } });
// @ts-expect-error: an elicitation answer needs an action
new WorkboardClient({ inputHandlers: { elicitation: () => ({ content: {} }) } });
// @ts-expect-error: not an era
new WorkboardClient({ era: 'future' });
// @ts-expect-error: not a log level
new WorkboardClient({ logLevel: 'verbose' });
// @ts-expect-error: the filter has no such field
new WorkboardClient().subscribe({ toolListChanged: true });

void app;
void action;
void notAKind;
