// Browser / bundler entry of `workboard-connect/token`: the build without the sign-in flows
// (personal tokens and saved credentials, the whole MCP surface). See index.js.
import init, { NotificationStream } from './pkg-token/workboard_wasm.js';

await init();
// Notification streams are async iterables (`for await`); wasm-bindgen cannot declare it.
NotificationStream.prototype[Symbol.asyncIterator] = function () { return this; };

export * from './pkg-token/workboard_wasm.js';
