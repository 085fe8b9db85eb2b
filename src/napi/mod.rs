//! Every `#[napi]` item lives in this folder. JS sees one class, `Engine`,
//! that wraps the sans-IO [`crate::protocol::Connection`] and is called
//! synchronously from the JS thread: an in-process port (MessagePort, worker)
//! delivers on that thread anyway, and a sync napi call (~0.1 µs) is far
//! cheaper than a hop to another thread and back (~55 µs here).

mod binding_engine;
mod binding_engine_fast;
mod binding_engine_text;
mod binding_memory;
mod binding_ws;
mod binding_ws_server;
