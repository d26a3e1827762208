//! Host capabilities for native code: [`SystemClock`] (wall clock + tokio sleep) and
//! [`OsEntropy`] (the operating system's RNG).

use std::time::{SystemTime, UNIX_EPOCH};

use workboard_core::{Clock, Entropy};

/// Wall-clock time and tokio timers.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0)
    }

    async fn sleep_ms(&self, ms: u64) {
        tokio::time::sleep(std::time::Duration::from_millis(ms)).await
    }
}

/// The operating system's cryptographic RNG.
#[derive(Clone, Copy, Debug, Default)]
pub struct OsEntropy;

impl Entropy for OsEntropy {
    fn fill_bytes(&mut self, buf: &mut [u8]) {
        if getrandom::fill(buf).is_err() {
            // The OS RNG does not fail on supported platforms; if it ever does, refuse to
            // hand out predictable bytes.
            #[allow(clippy::panic)]
            {
                panic!("the operating system's random number generator failed");
            }
        }
    }
}
