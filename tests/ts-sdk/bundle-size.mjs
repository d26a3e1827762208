#!/usr/bin/env node
// Bundle-size reference for the official TypeScript MCP SDK client, for
// comparison with workboard-connect's wasm/npm package.
// Bundles with esbuild (browser platform, ESM, minified, tree-shaken) and
// prints one JSON line per variant: {"variant","minified_bytes","gzip_bytes","brotli_bytes"}.
// gzip is zlib level 9 (what `gzip -9` gives, minus the header bytes).
import { build } from 'esbuild';
import { gzipSync, brotliCompressSync, constants } from 'node:zlib';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { dirname } from 'node:path';

const HERE = dirname(fileURLToPath(import.meta.url));
const sdkVersion = createRequire(import.meta.url)('@modelcontextprotocol/sdk/package.json').version;

const VARIANTS = {
  // What a browser app needs to talk to an OAuth-protected MCP server.
  'client+streamable-http+auth': `
    export { Client } from '@modelcontextprotocol/sdk/client/index.js';
    export { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
    export { auth } from '@modelcontextprotocol/sdk/client/auth.js';
  `,
  // Same without importing the OAuth helper explicitly (the transport still references it).
  'client+streamable-http': `
    export { Client } from '@modelcontextprotocol/sdk/client/index.js';
    export { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
  `,
};

for (const [variant, contents] of Object.entries(VARIANTS)) {
  const result = await build({
    stdin: { contents, resolveDir: HERE, loader: 'js', sourcefile: `${variant}.js` },
    bundle: true,
    minify: true,
    treeShaking: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    logLevel: 'error',
    legalComments: 'none',
    metafile: true,
  });
  const code = result.outputFiles[0].contents;
  const inputs = Object.entries(result.metafile.outputs[Object.keys(result.metafile.outputs)[0]].inputs)
    .map(([path, v]) => [path.replace(/^.*node_modules\//, ''), v.bytesInOutput])
    .sort((a, b) => b[1] - a[1]);
  const byPackage = {};
  for (const [path, bytes] of inputs) {
    const pkg = path.startsWith('@') ? path.split('/').slice(0, 2).join('/') : path.split('/')[0];
    byPackage[pkg] = (byPackage[pkg] ?? 0) + bytes;
  }
  process.stdout.write(
    `${JSON.stringify({
      variant,
      sdk_version: sdkVersion,
      minified_bytes: code.length,
      gzip_bytes: gzipSync(code, { level: 9 }).length,
      brotli_bytes: brotliCompressSync(code, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length,
      minified_bytes_by_package: byPackage,
    })}\n`,
  );
}
