//! End-to-end tests and examples for stowage; see `tests/` and `examples/`.
