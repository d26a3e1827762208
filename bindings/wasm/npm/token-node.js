// Node entry (18+) of `workboard-connect/token`: the build without the sign-in flows (personal
// tokens and saved credentials, the whole MCP surface). See node.js.
import * as glue from './pkg-token/workboard_wasm.js';
import { initNode } from './node-init.js';

initNode(glue, new URL('./pkg-token/workboard_wasm_bg.wasm', import.meta.url));

export * from './pkg-token/workboard_wasm.js';
