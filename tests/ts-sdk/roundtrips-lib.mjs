// Shared by client-roundtrips.mjs (SDK 1.x) and client-roundtrips2.mjs (SDK 2.x): a fetch that
// records every HTTP request a client makes, and the report both scripts print.

/** A recording fetch: pass `recorder.fetch` to the SDK transport; stop with `recorder.stop()`. */
export function recordingFetch() {
  const requests = [];
  const t0 = performance.now();
  let recording = true;
  const fetchFn = (input, init) => {
    const headers = new Headers(init?.headers);
    const entry = {
      method: (init?.method ?? 'GET').toUpperCase(),
      start: performance.now() - t0,
      end: null,
      status: null,
      version: headers.get('mcp-protocol-version') ?? undefined,
    };
    if (entry.method === 'POST' && typeof init?.body === 'string') {
      try {
        const msg = JSON.parse(init.body);
        entry.rpc = Array.isArray(msg) ? msg.map((m) => m.method ?? 'response').join(',') : (msg.method ?? 'response');
      } catch {
        /* not JSON: leave rpc unset */
      }
    }
    if (recording) requests.push(entry);
    const done = (async () => {
      const response = await fetch(input, init);
      entry.end = performance.now() - t0;
      entry.status = response.status;
      return response;
    })();
    // Settles once this request's response headers are in (or it failed): the report waits
    // for every request it lists, e.g. a GET stream opened in the background.
    entry.settled = done.then(
      () => {},
      () => {},
    );
    return done;
  };
  return {
    fetch: fetchFn,
    requests,
    async stop() {
      recording = false;
      await Promise.all(requests.map((r) => r.settled));
    },
  };
}

/** Longest chain where each request started after the previous one's response arrived. */
export function sequentialRoundTrips(reqs) {
  const depth = [];
  let best = 0;
  for (let i = 0; i < reqs.length; i++) {
    let d = 1;
    for (let j = 0; j < i; j++) {
      if (reqs[j].end !== null && reqs[j].end <= reqs[i].start) d = Math.max(d, depth[j] + 1);
    }
    depth.push(d);
    best = Math.max(best, d);
  }
  return best;
}

/** The one-line JSON report. */
export function report(requests, { ms, protocolVersion, tools, call }) {
  const out = {
    http_requests: requests.length,
    sequential_round_trips: sequentialRoundTrips(requests),
    ms: Math.round(ms * 10) / 10,
    protocol_version: protocolVersion ?? null,
    tools,
    requests: requests.map((r) => ({ method: r.method, rpc: r.rpc, status: r.status, ...(r.version ? { version: r.version } : {}) })),
  };
  if (call) out.call = call;
  return out;
}
