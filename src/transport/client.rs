//! The client side: `ws://` and `wss://` (rustls, bundled webpki roots).

use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::error::{Error as WsError, UrlError};
use tokio_tungstenite::tungstenite::http::Uri;
use tokio_tungstenite::{client_async_tls_with_config, Connector, MaybeTlsStream};

use super::direct::SharedTcp;
use super::link::{spawn_with, Link, PeerInfo};
use super::Config;

/// How to reach a server.
#[derive(Clone, Debug, Default)]
pub struct ClientOptions {
    /// Extra certificate authorities to trust for `wss://`, as PEM text
    /// (one or more certificates), on top of the bundled webpki roots.
    pub ca_pem: Option<String>,
    /// Gives up on the TCP, TLS and WebSocket handshakes after this long.
    pub connect_timeout: Option<Duration>,
    /// Extra request headers (e.g. an Origin or an authorization token).
    pub headers: Vec<(String, String)>,
}

/// Connects to `url` (`ws://` or `wss://`) and starts the driver.
/// Errors are sentences for people (they become the JS rejection).
pub async fn connect(url: &str, config: Config, options: ClientOptions) -> Result<Link, String> {
    let mut request = url
        .into_client_request()
        .map_err(|e| format!("invalid WebSocket URL {url:?}: {e}"))?;
    if !matches!(request.uri().scheme_str(), Some("ws" | "wss")) {
        return Err(format!(
            "invalid WebSocket URL {url:?}: the scheme must be ws or wss"
        ));
    }
    for (name, value) in &options.headers {
        let name = tokio_tungstenite::tungstenite::http::HeaderName::from_bytes(name.as_bytes())
            .map_err(|e| format!("invalid header name {name:?}: {e}"))?;
        let value = value
            .parse()
            .map_err(|e| format!("invalid value for header {name}: {e}"))?;
        request.headers_mut().insert(name, value);
    }
    let request_is_plain = request.uri().scheme_str() == Some("ws");
    let connector = Connector::Rustls(Arc::new(tls_config(options.ca_pem.as_deref())?));
    let handshake = async {
        let socket = TcpStream::connect(address(request.uri())?)
            .await
            .map_err(WsError::Io)?;
        socket.set_nodelay(true).map_err(WsError::Io)?;
        client_async_tls_with_config(
            request,
            SharedTcp::new(socket, request_is_plain),
            Some(config.websocket()),
            Some(connector),
        )
        .await
    };
    let timeout = options.connect_timeout.unwrap_or(Duration::from_secs(30));
    let (ws, response) = match tokio::time::timeout(timeout, handshake).await {
        Err(_) => {
            return Err(format!(
                "could not connect to {url}: no answer within {} ms",
                timeout.as_millis()
            ))
        }
        Ok(Err(e)) => return Err(format!("could not connect to {url}: {e}")),
        Ok(Ok(connected)) => connected,
    };
    // On plain TCP the host writes its frames itself (masked: we are the client).
    let (remote_address, direct) = match ws.get_ref() {
        MaybeTlsStream::Plain(s) => (
            s.peer_addr().map(|a| a.to_string()).unwrap_or_default(),
            Some((s.socket().clone(), true)),
        ),
        MaybeTlsStream::Rustls(s) => (
            s.get_ref()
                .0
                .peer_addr()
                .map(|a| a.to_string())
                .unwrap_or_default(),
            None,
        ),
        _ => (String::new(), None),
    };
    let headers = response
        .headers()
        .iter()
        .map(|(name, value)| {
            (
                name.as_str().to_owned(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            )
        })
        .collect();
    Ok(spawn_with(
        ws,
        config,
        PeerInfo {
            remote_address,
            url: url.to_owned(),
            headers,
        },
        None,
        direct,
    ))
}

/// `host:port` to open a TCP connection to (IPv6 hosts without their brackets).
fn address(uri: &Uri) -> Result<(String, u16), WsError> {
    let host = uri.host().ok_or(WsError::Url(UrlError::NoHostName))?;
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    let port = uri
        .port_u16()
        .unwrap_or(if uri.scheme_str() == Some("wss") {
            443
        } else {
            80
        });
    Ok((host.to_owned(), port))
}

/// The bundled webpki roots plus the caller's PEM certificates.
fn tls_config(ca_pem: Option<&str>) -> Result<rustls::ClientConfig, String> {
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    if let Some(pem) = ca_pem {
        let mut added = 0;
        for cert in rustls_pemfile::certs(&mut pem.as_bytes()) {
            let cert = cert.map_err(|e| format!("invalid CA certificate PEM: {e}"))?;
            roots
                .add(cert)
                .map_err(|e| format!("invalid CA certificate: {e}"))?;
            added += 1;
        }
        if added == 0 {
            return Err("the CA option holds no PEM certificate".into());
        }
    }
    // The provider is named rather than taken from a process default, so that
    // nothing depends on which rustls backend another crate installed.
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS set-up failed: {e}"))?
        .with_root_certificates(roots)
        .with_no_client_auth())
}
