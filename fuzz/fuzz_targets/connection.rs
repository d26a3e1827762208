//! The connection machine itself (`connection.rs`), driven by arbitrary sequences of app
//! calls, server answers (statuses, headers, SSE fields, JSON-RPC bodies, token responses,
//! transport failures), timer firings and clock jumps with extreme numbers, in any order.
//! The driver and its invariants are shared with the property test of the core's test suite:
//! `crates/workboard-core/tests/conn_driver/mod.rs`.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../crates/workboard-core/tests/conn_driver/mod.rs"]
mod conn_driver;

fuzz_target!(|data: &[u8]| {
    conn_driver::run_bytes(data);
});
