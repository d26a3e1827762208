// Browser / bundler entry: instantiates the WebAssembly module (fetched next to this file;
// Vite and other bundlers follow the `new URL(..., import.meta.url)` in the glue), then
// re-exports the API. Top-level await: importing this module waits for the instance.
import init, { NotificationStream } from './pkg/workboard_wasm.js';

await init();
// Notification streams are async iterables (`for await`); wasm-bindgen cannot declare it.
NotificationStream.prototype[Symbol.asyncIterator] = function () { return this; };

export * from './pkg/workboard_wasm.js';
