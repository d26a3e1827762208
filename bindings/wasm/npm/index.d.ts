// Types of the package: the declarations generated from the Rust crate (via tsify).
// Both entries (index.js, node.js) initialize the module on import.
export * from './pkg/workboard_wasm.js';
