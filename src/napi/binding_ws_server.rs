//! The native WebSocket server as JS sees it (`WsServer`, `wsListen`).

use std::sync::Arc;

use napi::bindgen_prelude::*;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi_derive::napi;

use super::binding_ws::{close_code, config, BindingWsConnection, BindingWsOptions};
use crate::transport::{self, Server};

/// Where and how to listen.
#[napi(object)]
pub struct BindingWsListenOptions {
    /// Default "127.0.0.1".
    pub host: Option<String>,
    /// Default 0: any free port (see `address`).
    pub port: Option<u32>,
    /// When given, upgrade requests for another path are answered 404.
    pub path: Option<String>,
    pub connection: Option<BindingWsOptions>,
}

#[napi(object)]
pub struct BindingWsAddress {
    pub host: String,
    pub port: u32,
}

#[napi(js_name = "WsServer")]
pub struct BindingWsServer {
    server: Arc<Server>,
}

/// Listens; `onConnection` receives each accepted `WsConnection` (not yet
/// started). The callback keeps the process alive until `close` has
/// finished, as a listening socket does; it must not throw.
#[napi]
pub async fn ws_listen(
    options: BindingWsListenOptions,
    on_connection: ThreadsafeFunction<BindingWsConnection, (), BindingWsConnection, Status, false>,
) -> Result<BindingWsServer> {
    let host = options.host.unwrap_or_else(|| "127.0.0.1".to_owned());
    let port = u16::try_from(options.port.unwrap_or(0))
        .map_err(|_| Error::from_reason("port must be 0-65535"))?;
    let config = config(options.connection.as_ref());
    let on_accept = Box::new(move |link| {
        on_connection.call(
            BindingWsConnection::new(link),
            ThreadsafeFunctionCallMode::NonBlocking,
        );
    });
    let server = transport::listen(&host, port, options.path, config, on_accept)
        .await
        .map_err(|e| Error::from_reason(format!("could not listen on {host}:{port}: {e}")))?;
    Ok(BindingWsServer {
        server: Arc::new(server),
    })
}

#[napi]
impl BindingWsServer {
    #[napi]
    pub fn address(&self) -> BindingWsAddress {
        let address = self.server.local_addr();
        BindingWsAddress {
            host: address.ip().to_string(),
            port: address.port() as u32,
        }
    }

    /// Connections whose socket is still open.
    #[napi(getter)]
    pub fn connections(&self) -> u32 {
        self.server.connections() as u32
    }

    /// Stops listening and closes every connection (code 1001 unless given);
    /// settles once their sockets are closed or the close timeout passed.
    #[napi]
    pub async fn close(&self, code: Option<u32>, reason: Option<String>) {
        self.server
            .close(
                close_code(code, 1001),
                reason.as_deref().unwrap_or("server shutting down"),
            )
            .await;
    }
}
