// Browser / bundler entry: instantiates the WebAssembly module (fetched next to this file;
// Vite and other bundlers follow the `new URL(..., import.meta.url)` in the glue), then
// re-exports the API. Top-level await: importing this module waits for the instance.
import init from './pkg/workboard_wasm.js';

await init();

export * from './pkg/workboard_wasm.js';
