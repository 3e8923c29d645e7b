//! A small client of Incus's REST API: requests over the daemon's unix
//! socket, answers read from Incus's envelope (`sync`, `async`, `error`),
//! background operations awaited. No maintained Rust crate speaks this
//! API (the `incus` Go client is the reference), and the part footloose
//! needs is a few verbs on a handful of paths, so it is written here on
//! hyper, which the Docker backend already brings in.
//!
//! Each request has a connection of its own, opened when it is sent.
//! Incus's listener reads the first bytes of each connection it accepts
//! before it accepts the next (to tell TLS from plain HTTP): a connection
//! opened ahead and left silent, as a pooling client opens one when
//! requests race, stops the daemon from answering anyone else until it
//! closes. (Seen here with hyper's pooled client: `footloose delete`'s
//! parallel removals hung every `incus` command on the host.)

use std::path::{Path, PathBuf};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::Frame;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::Value;

use super::super::seam::RootfsStream;

/// A request body: whole, or streamed (an image upload).
type Body = http_body_util::combinators::UnsyncBoxBody<Bytes, std::io::Error>;

/// How a request failed: no answer, or Incus's refusal.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ApiError {
    /// The daemon did not answer, or the answer was not Incus's.
    #[error("{0}")]
    Transport(String),
    /// Incus refused, with its status code and words.
    #[error("{message}")]
    Refused {
        /// The HTTP status of the refusal (404, 409, …).
        status: u16,
        /// Incus's message.
        message: String,
    },
}

impl ApiError {
    /// The refusal's status, `None` when the daemon did not answer.
    pub(crate) fn status(&self) -> Option<u16> {
        match self {
            ApiError::Refused { status, .. } => Some(*status),
            ApiError::Transport(_) => None,
        }
    }
}

/// Incus's answer envelope.
#[derive(Debug, Deserialize)]
struct Envelope {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    error: String,
    #[serde(default)]
    error_code: u16,
    #[serde(default)]
    operation: String,
    #[serde(default)]
    metadata: Value,
}

/// A background operation as Incus reports it once it ended.
#[derive(Debug, Deserialize)]
struct Operation {
    #[serde(default)]
    status_code: u16,
    #[serde(default)]
    err: String,
    #[serde(default)]
    metadata: Value,
}

/// How the daemon is reached.
#[derive(Debug, Clone)]
enum Transport {
    /// Its unix socket.
    Unix(PathBuf),
    /// Its https address (`host:port`), as a remote of the client's
    /// configuration (see `tls.rs`).
    Https {
        authority: String,
        host: String,
        tls: std::sync::Arc<rustls::ClientConfig>,
    },
}

/// A connection to one Incus daemon, in one project.
#[derive(Debug, Clone)]
pub(crate) struct Client {
    transport: Transport,
    project: Option<String>,
}

impl Client {
    /// A client of the daemon listening on `socket`, working in `project`
    /// (the daemon's default project when `None`).
    pub(crate) fn unix(socket: &Path, project: Option<String>) -> Client {
        Client {
            transport: Transport::Unix(socket.to_owned()),
            project,
        }
    }

    /// A client of the daemon at `authority` (`host:port`) over https,
    /// with the client configuration `tls`, working in `project`.
    pub(crate) fn https(
        authority: &str,
        tls: std::sync::Arc<rustls::ClientConfig>,
        project: Option<String>,
    ) -> Client {
        let host = match authority.rsplit_once(':') {
            Some((host, port)) if port.chars().all(|c| c.is_ascii_digit()) => host,
            _ => authority,
        };
        Client {
            transport: Transport::Https {
                authority: authority.to_owned(),
                host: host.trim_matches(['[', ']']).to_owned(),
                tls,
            },
            project,
        }
    }

    /// What the `Host` header says.
    fn host_header(&self) -> &str {
        match &self.transport {
            Transport::Unix(_) => "incus",
            Transport::Https { authority, .. } => authority,
        }
    }

    /// Sends `request` on a connection of its own (see the module
    /// documentation), which closes once the answer is read.
    async fn exchange(
        &self,
        request: Request<Body>,
    ) -> Result<Response<hyper::body::Incoming>, ApiError> {
        match &self.transport {
            Transport::Unix(socket) => {
                let stream = tokio::net::UnixStream::connect(socket).await.map_err(|e| {
                    ApiError::Transport(format!("cannot connect to {}: {e}", socket.display()))
                })?;
                send_over(stream, request).await
            }
            Transport::Https {
                authority,
                host,
                tls,
            } => {
                let cannot = |e: &dyn std::fmt::Display| {
                    ApiError::Transport(format!("cannot connect to https://{authority}: {e}"))
                };
                let stream = tokio::net::TcpStream::connect(authority.as_str())
                    .await
                    .map_err(|e| cannot(&e))?;
                let name = rustls::pki_types::ServerName::try_from(host.clone())
                    .map_err(|e| cannot(&e))?;
                let stream = tokio_rustls::TlsConnector::from(tls.clone())
                    .connect(name, stream)
                    .await
                    .map_err(|e| cannot(&e))?;
                send_over(stream, request).await
            }
        }
    }

    /// The project requests are made in.
    pub(crate) fn project(&self) -> Option<&str> {
        self.project.as_deref()
    }

    /// The URI of `path` (with its query), in this client's project, in
    /// origin form (the connection is the daemon's).
    fn uri(&self, path: &str) -> hyper::Uri {
        let mut path = path.to_owned();
        if let Some(project) = &self.project {
            path.push(if path.contains('?') { '&' } else { '?' });
            path.push_str("project=");
            path.push_str(&encode(project));
        }
        path.parse().expect("footloose's paths are valid URIs")
    }

    /// Sends a request and reads Incus's envelope; an `async` answer is
    /// awaited until its operation ends.
    async fn send(&self, request: Request<Body>) -> Result<Value, ApiError> {
        let (method, uri) = (
            request.method().clone(),
            request.uri().path_and_query().cloned(),
        );
        let answer = self.send_unlogged(request).await;
        if let Err(e) = &answer {
            tracing::debug!("Incus refused {method} {uri:?}: {e}");
        }
        answer
    }

    async fn send_unlogged(&self, request: Request<Body>) -> Result<Value, ApiError> {
        let response = self.exchange(request).await?;
        let status = response.status();
        let bytes = response
            .into_body()
            .collect()
            .await
            .map_err(|e| ApiError::Transport(e.to_string()))?
            .to_bytes();
        let envelope: Envelope = serde_json::from_slice(&bytes).map_err(|_| {
            ApiError::Transport(format!(
                "the answer ({status}) is not Incus's: {}",
                String::from_utf8_lossy(&bytes[..bytes.len().min(200)])
            ))
        })?;
        match envelope.kind.as_str() {
            "error" => Err(ApiError::Refused {
                status: if envelope.error_code != 0 {
                    envelope.error_code
                } else {
                    status.as_u16()
                },
                message: envelope.error,
            }),
            "async" => self.wait(&envelope.operation).await,
            _ if status == StatusCode::OK || status == StatusCode::CREATED => Ok(envelope.metadata),
            _ => Err(ApiError::Refused {
                status: status.as_u16(),
                message: envelope.error,
            }),
        }
    }

    /// Waits until the operation at `path` ends; its metadata, or its
    /// error as a refusal.
    async fn wait(&self, path: &str) -> Result<Value, ApiError> {
        // A clustered daemon names the operation with its project
        // (`/1.0/operations/ID?project=default`).
        let (operation, query) = path.split_once('?').unwrap_or((path, ""));
        let mut wait = format!("{operation}/wait?timeout=-1");
        if !query.is_empty() && self.project.is_none() {
            wait.push('&');
            wait.push_str(query);
        }
        let request = self.request(Method::GET, &wait, empty());
        let answer = Box::pin(self.send(request)).await?;
        let operation: Operation = serde_json::from_value(answer)
            .map_err(|e| ApiError::Transport(format!("unreadable operation {path}: {e}")))?;
        if operation.status_code == 200 {
            Ok(operation.metadata)
        } else {
            Err(ApiError::Refused {
                status: operation_status(&operation.err),
                message: operation.err,
            })
        }
    }

    fn request(&self, method: Method, path: &str, body: Body) -> Request<Body> {
        Request::builder()
            .method(method)
            .uri(self.uri(path))
            .header("host", self.host_header())
            .header("content-type", "application/json")
            .body(body)
            .expect("method, URI and header are valid")
    }

    /// `GET path`, its metadata read as `T`.
    pub(crate) async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, ApiError> {
        let value = self.send(self.request(Method::GET, path, empty())).await?;
        serde_json::from_value(value)
            .map_err(|e| ApiError::Transport(format!("unreadable answer to GET {path}: {e}")))
    }

    /// `GET path`, `None` when Incus says it does not exist.
    pub(crate) async fn find<T: DeserializeOwned>(
        &self,
        path: &str,
    ) -> Result<Option<T>, ApiError> {
        match self.get(path).await {
            Ok(found) => Ok(Some(found)),
            Err(e) if e.status() == Some(404) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// `GET path` with the object's ETag, for a change that must not
    /// undo another's ([`call_if_match`](Self::call_if_match)).
    pub(crate) async fn get_tagged(&self, path: &str) -> Result<(Value, String), ApiError> {
        let response = self
            .exchange(self.request(Method::GET, path, empty()))
            .await?;
        let etag = response
            .headers()
            .get("etag")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let bytes = response
            .into_body()
            .collect()
            .await
            .map_err(|e| ApiError::Transport(e.to_string()))?
            .to_bytes();
        let envelope: Envelope = serde_json::from_slice(&bytes)
            .map_err(|e| ApiError::Transport(format!("unreadable answer to GET {path}: {e}")))?;
        match envelope.kind.as_str() {
            "error" => Err(ApiError::Refused {
                status: envelope.error_code,
                message: envelope.error,
            }),
            _ => Ok((envelope.metadata, etag)),
        }
    }

    /// A request with a JSON body that Incus applies only while the
    /// object is still as `etag` says (else a refusal of status 412).
    pub(crate) async fn call_if_match(
        &self,
        method: Method,
        path: &str,
        body: &Value,
        etag: &str,
    ) -> Result<Value, ApiError> {
        let mut request = self.request(method, path, full(Bytes::from(body.to_string())));
        if let Ok(value) = etag.parse() {
            request.headers_mut().insert("if-match", value);
        }
        self.send(request).await
    }

    /// A request with a JSON body, awaited to its end.
    pub(crate) async fn call(
        &self,
        method: Method,
        path: &str,
        body: &Value,
    ) -> Result<Value, ApiError> {
        let body = full(Bytes::from(body.to_string()));
        self.send(self.request(method, path, body)).await
    }

    /// `DELETE path`, awaited to its end.
    pub(crate) async fn delete(&self, path: &str) -> Result<(), ApiError> {
        self.send(self.request(Method::DELETE, path, empty()))
            .await
            .map(drop)
    }

    /// Writes a file (or makes a directory or link) in an instance, as
    /// its `headers` say (`X-Incus-type`, `-uid`, `-gid`, `-mode`).
    pub(crate) async fn push_file(
        &self,
        instance: &str,
        path: &str,
        headers: &[(&str, String)],
        content: Bytes,
    ) -> Result<(), ApiError> {
        let uri = format!("/1.0/instances/{instance}/files?path={}", encode(path));
        let mut attempt = 0;
        loop {
            let mut request = Request::builder()
                .method(Method::POST)
                .uri(self.uri(&uri))
                .header("host", self.host_header())
                .header("content-type", "application/octet-stream");
            for (name, value) in headers {
                request = request.header(*name, value);
            }
            let request = request
                .body(full(content.clone()))
                .map_err(|e| ApiError::Transport(e.to_string()))?;
            match self.send(request).await {
                Err(e) if file_helper_lost(&e) && attempt < FILE_HELPER_TRIES => {
                    attempt += 1;
                    tokio::time::sleep(FILE_HELPER_WAIT * attempt).await;
                }
                answer => return answer.map(drop),
            }
        }
    }

    /// Reads a path of an instance: its bytes and Incus's headers about it
    /// (type, mode, uid, gid), `None` when there is no such path. A
    /// directory comes as its JSON list of entries.
    pub(crate) async fn pull_file(
        &self,
        instance: &str,
        path: &str,
    ) -> Result<Option<(Bytes, hyper::HeaderMap)>, ApiError> {
        let mut attempt = 0;
        loop {
            match self.pull_file_once(instance, path).await {
                Err(e) if file_helper_lost(&e) && attempt < FILE_HELPER_TRIES => {
                    attempt += 1;
                    tokio::time::sleep(FILE_HELPER_WAIT * attempt).await;
                }
                answer => return answer,
            }
        }
    }

    async fn pull_file_once(
        &self,
        instance: &str,
        path: &str,
    ) -> Result<Option<(Bytes, hyper::HeaderMap)>, ApiError> {
        let uri = format!("/1.0/instances/{instance}/files?path={}", encode(path));
        let response = self
            .exchange(self.request(Method::GET, &uri, empty()))
            .await?;
        let (parts, body) = response.into_parts();
        let bytes = body
            .collect()
            .await
            .map_err(|e| ApiError::Transport(e.to_string()))?
            .to_bytes();
        match parts.status {
            StatusCode::OK => Ok(Some((bytes, parts.headers))),
            StatusCode::NOT_FOUND => Ok(None),
            status => {
                let message = serde_json::from_slice::<Envelope>(&bytes)
                    .map(|e| e.error)
                    .unwrap_or_else(|_| String::from_utf8_lossy(&bytes).into_owned());
                Err(ApiError::Refused {
                    status: status.as_u16(),
                    message,
                })
            }
        }
    }

    /// `GET path` as raw bytes (a console log).
    pub(crate) async fn get_raw(&self, path: &str) -> Result<Bytes, ApiError> {
        let response = self
            .exchange(self.request(Method::GET, path, empty()))
            .await?;
        let status = response.status();
        let bytes = response
            .into_body()
            .collect()
            .await
            .map_err(|e| ApiError::Transport(e.to_string()))?
            .to_bytes();
        if status.is_success() {
            Ok(bytes)
        } else {
            Err(ApiError::Refused {
                status: status.as_u16(),
                message: String::from_utf8_lossy(&bytes).into_owned(),
            })
        }
    }

    /// Uploads an image from a streamed body with `headers`
    /// (`POST /1.0/images`), awaited to its end.
    pub(crate) async fn upload_image(
        &self,
        content_type: &str,
        headers: &[(&str, String)],
        body: RootfsStream,
    ) -> Result<Value, ApiError> {
        use futures_util::StreamExt;
        let frames = body.map(|chunk| chunk.map(Frame::data));
        let body: Body = BodyExt::boxed_unsync(StreamBody::new(frames));
        let mut request = Request::builder()
            .method(Method::POST)
            .uri(self.uri("/1.0/images"))
            .header("host", self.host_header())
            .header("content-type", content_type);
        for (name, value) in headers {
            request = request.header(*name, value);
        }
        let request = request
            .body(body)
            .map_err(|e| ApiError::Transport(e.to_string()))?;
        self.send(request).await
    }
}

/// How often, and how far apart (growing), a file request is tried again
/// when Incus lost its file helper.
const FILE_HELPER_TRIES: u32 = 8;
const FILE_HELPER_WAIT: std::time::Duration = std::time::Duration::from_millis(100);

/// Incus reaches a stopped instance's files through a helper process
/// (`forkfile`) it starts and shares between requests; under concurrent
/// requests Incus 6.0 may hand one a helper that has just gone ("dial unix
/// /proc/self/fd/N/forkfile.sock: connect: no such file or directory",
/// seen in the bench). Nothing was written then: the request is tried
/// again.
fn file_helper_lost(e: &ApiError) -> bool {
    e.to_string().contains("forkfile")
}

/// Sends `request` over `io`, a connection of its own.
async fn send_over<IO>(
    io: IO,
    request: Request<Body>,
) -> Result<Response<hyper::body::Incoming>, ApiError>
where
    IO: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(io))
        .await
        .map_err(|e| ApiError::Transport(crate::error::chain(&e)))?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    sender
        .send_request(request)
        .await
        .map_err(|e| ApiError::Transport(crate::error::chain(&e)))
}

fn full(bytes: Bytes) -> Body {
    Full::new(bytes)
        .map_err(|never| match never {})
        .boxed_unsync()
}

fn empty() -> Body {
    full(Bytes::new())
}

/// The status a failed operation's message stands for: Incus reports
/// them as text only.
fn operation_status(err: &str) -> u16 {
    let lower = err.to_lowercase();
    if lower.contains("already exists") {
        409
    } else if lower.contains("not found") {
        404
    } else {
        500
    }
}

/// Percent-encodes a query value.
pub(crate) fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                out.push(byte as char)
            }
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_values_are_encoded_but_paths_stay_readable() {
        assert_eq!(encode("/etc/ssh/key file"), "/etc/ssh/key%20file");
        assert_eq!(encode("a&b=c"), "a%26b%3Dc");
    }

    #[test]
    fn a_lost_file_helper_is_told_from_other_refusals() {
        let lost = ApiError::Refused {
            status: 500,
            message: "dial unix /proc/self/fd/34/forkfile.sock: connect: no such file or directory"
                .to_owned(),
        };
        assert!(file_helper_lost(&lost));
        let missing = ApiError::Refused {
            status: 404,
            message: "no such file or directory".to_owned(),
        };
        assert!(!file_helper_lost(&missing));
    }

    #[test]
    fn a_failed_operation_says_which_kind_of_refusal() {
        assert_eq!(operation_status("Instance \"x\" already exists"), 409);
        assert_eq!(
            operation_status("Failed getting instance: Instance not found"),
            404
        );
        assert_eq!(operation_status("Failed to start"), 500);
    }
}
