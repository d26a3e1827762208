//! Test support shared by the native end-to-end tests.
#![allow(dead_code)]

pub mod hostile;
