//! pending (in progress).
