# workboard-connect tasks. `just --list` shows them. (just: `pip install rust-just` or `cargo install just`)

# Run the whole flow against the embedded simulator
demo *ARGS:
    cargo run -p workboard-cli -- demo {{ARGS}}

# Full test suite (installs what it needs)
test:
    bash scripts/test.sh

# Rust tests only
test-rust:
    cargo test --workspace

# Lints
lint:
    cargo clippy --workspace --all-targets -- -D warnings
    cargo fmt --all -- --check

# Build the wasm npm package
wasm:
    bash bindings/wasm/build.sh

# Kotlin binding tests
kotlin:
    bash bindings/kotlin/test.sh

# Python binding tests (the wheel installed into a fresh virtualenv)
python:
    bash bindings/python/test.sh

# The release wheel (maturin) -> $CARGO_TARGET_DIR/wheels/
wheel:
    bash bindings/python/build.sh

# The crates for crates.io: metadata, docs without warnings, cargo publish --dry-run
packaging:
    bash scripts/test-packaging.sh

# Benchmarks
bench:
    cargo bench -p workboard-core
    bash scripts/bench.sh

# Run the simulator on a port
sim PORT="8080":
    cargo run -p workboard-cli -- sim --port {{PORT}}
