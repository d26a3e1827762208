// Node entry (18+): reads the .wasm bytes from disk and instantiates them synchronously.
import { readFileSync } from 'node:fs';
import { webcrypto } from 'node:crypto';
import { initSync, NotificationStream } from './pkg/workboard_wasm.js';

// Node 18 has Web Crypto only as `node:crypto`'s `webcrypto` (the global came in Node 19);
// the SDK draws `state`, PKCE verifiers and seeds from `crypto.getRandomValues`.
if (typeof globalThis.crypto?.getRandomValues !== 'function') {
  Object.defineProperty(globalThis, 'crypto', { value: webcrypto, configurable: true, writable: true });
}

initSync({ module: readFileSync(new URL('./pkg/workboard_wasm_bg.wasm', import.meta.url)) });
// Notification streams are async iterables (`for await`); wasm-bindgen cannot declare it.
NotificationStream.prototype[Symbol.asyncIterator] = function () { return this; };

export * from './pkg/workboard_wasm.js';
