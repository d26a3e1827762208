//! AI-client configuration files: generation and lint.
