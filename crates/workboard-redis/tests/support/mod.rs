//! The Redis the tests run against: [`workboard_redis::testing`] (`WORKBOARD_TEST_REDIS_URL`,
//! else a `redis-server` from PATH of the test's own; neither: the test fails with a hint).
#![allow(dead_code)]

pub mod fleet;

pub use workboard_redis::testing::*;
