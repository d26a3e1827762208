// Node entry (18+): reads the .wasm bytes from disk and instantiates them synchronously.
import { readFileSync } from 'node:fs';
import { initSync } from './pkg/workboard_wasm.js';

initSync({ module: readFileSync(new URL('./pkg/workboard_wasm_bg.wasm', import.meta.url)) });

export * from './pkg/workboard_wasm.js';
