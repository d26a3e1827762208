// Types of `workboard-connect/token`: the declarations generated from the Rust crate built
// without its `sign-in` feature (no startMcpSignIn, completeMcpSignIn, stepUpMcpSignIn or
// WorkBoard v1 sign-in). Both of its entries (token.js, token-node.js) initialize on import.
export * from './pkg-token/workboard_wasm.js';
