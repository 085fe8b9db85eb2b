//! Every `#[napi]` item lives in this folder. JS sees one class, `Engine`,
//! that wraps the sans-IO [`crate::protocol::Connection`] and is called
//! synchronously from the JS thread: an in-process port (MessagePort, worker)
//! delivers on that thread anyway, and a sync napi call (~0.1 µs) is far
//! cheaper than a hop to another thread and back (~55 µs here). The
//! crossings of every message are plain functions taking the engine's
//! handle (binding_engine_handle.rs says why).

mod binding_engine;
mod binding_engine_fast;
mod binding_engine_handle;
// Holds the crate's #[napi(module_exports)] hook: napi-rs keeps only one, so
// another one would silently replace it (add to that function instead).
mod binding_engine_raw;
mod binding_engine_text;
mod binding_memory;
mod binding_ws;
mod binding_ws_server;
mod uv_reader;

/// The tokio runtime of the native transport (napi-rs runs `async fn`s and
/// our socket drivers on it): one worker thread instead of one per core.
/// The work per message on that side is small (read, frame, hand over); what
/// costs is waking threads, and a second worker adds wake-ups (work stealing,
/// parked workers notified) without adding throughput, since the JS thread is
/// the bottleneck. Measured with bare echo round trips over ws:// on 2 cores:
/// mean RTT 85 -> 73 us, client CPU per round trip 42 -> 39 us.
#[napi_derive::module_init]
fn init_runtime() {
    // Once per process: every worker thread loading the addon runs this too,
    // and napi-rs keeps the first runtime it was given.
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // If the build fails, napi-rs builds its default runtime on first use.
        if let Ok(runtime) = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
        {
            napi::bindgen_prelude::create_custom_tokio_runtime(runtime);
        }
    });
}
