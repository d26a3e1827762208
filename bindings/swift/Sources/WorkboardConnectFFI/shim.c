/* SwiftPM needs one source file in a C target; the declarations are in include/ and the
   implementation is the Rust static library libworkboard_ffi.a (see ../../README.md). */
