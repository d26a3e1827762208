//! `uniffi-bindgen generate --library <libworkboard_ffi.so> --language kotlin|python|swift --out-dir <dir>`
fn main() {
    uniffi::uniffi_bindgen_main()
}
