//! Diagnostics: map failures to the troubleshooting table.
