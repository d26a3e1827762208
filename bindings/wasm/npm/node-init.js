// What both Node entries (node.js, token-node.js) do before exporting their module's API.
import { readFileSync } from 'node:fs';
import { webcrypto } from 'node:crypto';

/** Web Crypto as a global where Node has it only as `node:crypto`'s `webcrypto` (Node 18; the
 * global came in Node 19): the SDK draws `state`, PKCE verifiers and seeds from
 * `crypto.getRandomValues`. Then the module instantiated synchronously from the bytes at
 * `wasmUrl`, and its notification streams made async iterables (`for await`), which
 * wasm-bindgen cannot declare. */
export function initNode(glue, wasmUrl) {
  if (typeof globalThis.crypto?.getRandomValues !== 'function') {
    Object.defineProperty(globalThis, 'crypto', { value: webcrypto, configurable: true, writable: true });
  }
  glue.initSync({ module: readFileSync(wasmUrl) });
  glue.NotificationStream.prototype[Symbol.asyncIterator] = function () { return this; };
}
