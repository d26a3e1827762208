// Node entry (18+): reads the .wasm bytes from disk and instantiates them synchronously.
import * as glue from './pkg/workboard_wasm.js';
import { initNode } from './node-init.js';

initNode(glue, new URL('./pkg/workboard_wasm_bg.wasm', import.meta.url));

export * from './pkg/workboard_wasm.js';
