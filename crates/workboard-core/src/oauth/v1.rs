//! v1 (in progress).
