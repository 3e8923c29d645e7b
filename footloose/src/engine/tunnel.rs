//! Engines over ssh: one libssh2 session to the engine's host carries the
//! engine's API (a local unix socket forwarded to the engine's socket there,
//! `direct-streamlocal`) and every machine's ssh port (local tcp ports
//! forwarded to the ports the engine published on its host's loopback,
//! `direct-tcpip`).
//!
//! The host is reached as `~/.ssh/config` says (see [`super::ssh_config`]):
//! straight over tcp, through jump hosts (`ProxyJump`: a session to the
//! jump host opens a `direct-tcpip` channel to the next host, and a pump
//! thread moves its bytes to one end of a socket pair whose other end
//! carries the next session), or over a `ProxyCommand`'s stdin and stdout.
//!
//! One thread owns each session, in non-blocking mode, and moves bytes
//! between each local connection and its channel; nothing else touches the
//! session, so libssh2 is never used from two threads at once.

use std::collections::HashMap;
use std::io::{self, ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ssh2::{MethodType, Session};

use super::ssh_config::known_hosts::{self, Verdict};
use super::ssh_config::{self, Agent, Destination, Proxy, SshConfigError};
use super::ssh_url::SshUrl;

/// How long connecting, authenticating or opening a channel may take.
const TIMEOUT: Duration = Duration::from_secs(15);
/// How often an idle session says it is alive.
const KEEPALIVE: Duration = Duration::from_secs(20);
/// How long the pump sleeps in `poll` when nothing moves.
const IDLE_POLL_MS: i32 = 50;
/// libssh2's "would block".
const EAGAIN: i32 = -37;

/// Why the ssh connection to an engine's host cannot be made. Hosts are
/// written `user@host:port`, as [`Destination`] prints them.
#[derive(Debug, thiserror::Error)]
pub(crate) enum TunnelError {
    /// The ssh configuration cannot be used for the host.
    #[error(transparent)]
    Config(#[from] SshConfigError),
    /// The host's name does not resolve.
    #[error("cannot resolve {host}")]
    Resolve {
        host: String,
        #[source]
        source: io::Error,
    },
    /// The host's name resolves to no address.
    #[error("{host} has no address")]
    NoAddress { host: String },
    /// No address of the host takes the connection.
    #[error("cannot connect to ssh at {address}")]
    Connect {
        address: SocketAddr,
        #[source]
        source: io::Error,
    },
    /// libssh2 cannot make a session.
    #[error("cannot start an ssh session")]
    Session(#[source] ssh2::Error),
    /// The ssh handshake failed.
    #[error("ssh handshake with {destination} failed")]
    Handshake {
        destination: String,
        #[source]
        source: ssh2::Error,
    },
    /// The host showed no host key.
    #[error("{destination} presented no host key")]
    NoHostKey { destination: String },
    /// The host's key is revoked in a known-hosts file.
    #[error("the host key of {destination} ({fingerprint}) is revoked in {at}: footloose does not log in there")]
    HostKeyRevoked {
        destination: String,
        fingerprint: String,
        /// `file:line`.
        at: String,
    },
    /// The host's key is another than the known one.
    #[error("the host key of {destination} ({fingerprint}) does not match the one for {name} in {at}: someone may be in the middle, or the host was reinstalled (then remove that line)")]
    HostKeyChanged {
        destination: String,
        fingerprint: String,
        /// The name it was looked up by.
        name: String,
        /// `file:line`.
        at: String,
    },
    /// The host's key is in no known-hosts file; `advice` says how to
    /// check and add it.
    #[error(
        "the host key of {destination} ({fingerprint}), looked up as {name}, is not in {advice}"
    )]
    HostKeyUnknown {
        destination: String,
        fingerprint: String,
        name: String,
        /// The files looked in, and what to do.
        advice: String,
    },
    /// There is no key to log in with.
    #[error("no key to log in to {destination} with{}", missing_files(missing))]
    NoKey {
        destination: String,
        /// `IdentityFile`s named but missing.
        missing: Vec<String>,
    },
    /// There is no key at all: no agent, no default key file.
    #[error("no key to log in to {destination} with: start an ssh agent with a key, put one in {default}, or name one with IdentityFile in ~/.ssh/config")]
    NoDefaultKey {
        destination: String,
        /// The first default identity file.
        default: String,
    },
    /// The host refused every key offered.
    #[error("{destination} refused every key tried: {}{}", tried.join(", "), missing_files(missing))]
    KeysRefused {
        destination: String,
        /// Each key, with the reason it was refused.
        tried: Vec<String>,
        /// `IdentityFile`s named but missing.
        missing: Vec<String>,
    },
    /// The engine's socket cannot be opened on the host.
    #[error("{destination} cannot open the engine's socket {socket} there ({}): is the engine running, and may {user} use its socket?", error.message())]
    EngineSocket {
        destination: String,
        socket: String,
        user: String,
        error: ssh2::Error,
    },
    /// A jump host on the way cannot be reached.
    #[error("cannot reach the jump host {hop} on the way to {destination}")]
    Jump {
        hop: String,
        destination: String,
        #[source]
        source: Box<TunnelError>,
    },
    /// A jump host cannot connect on to the next host.
    #[error("the jump host {hop} cannot connect to {host}:{port} for {destination} ({})", error.message())]
    JumpChannel {
        hop: String,
        host: String,
        port: u16,
        destination: String,
        error: ssh2::Error,
    },
    /// The `ProxyCommand` does not start.
    #[error("cannot run the ProxyCommand `{command}`")]
    ProxyCommand {
        command: String,
        #[source]
        source: io::Error,
    },
    /// Something of this process footloose needs failed: a directory, a
    /// socket, a thread.
    #[error("{what}")]
    Local {
        /// What footloose was doing.
        what: String,
        #[source]
        source: io::Error,
    },
}

/// `; the IdentityFile … does not exist`, when some are missing.
fn missing_files(missing: &[String]) -> String {
    if missing.is_empty() {
        String::new()
    } else {
        format!("; the IdentityFile {} does not exist", missing.join(", "))
    }
}

/// A failure of this process's own `what`.
fn local(what: impl Into<String>) -> impl FnOnce(io::Error) -> TunnelError {
    let what = what.into();
    move |source| TunnelError::Local { what, source }
}

/// An open ssh connection to an engine's host and its forwards; closed
/// (the pump stopped, the local socket removed) when the last clone drops.
#[derive(Debug, Clone)]
pub(crate) struct Tunnel {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    url: Destination,
    api_socket: PathBuf,
    dir: PathBuf,
    commands: Mutex<Sender<Listener>>,
    forwards: Mutex<HashMap<SocketAddr, SocketAddr>>,
    stop: Arc<AtomicBool>,
}

impl Tunnel {
    /// Connects to the host of `url` as the ssh configuration says, checks
    /// its host key against the known-hosts files, logs in with the ssh
    /// agent or the identity files, and forwards a local socket to the
    /// engine's.
    pub fn open(url: &SshUrl) -> Result<Tunnel, TunnelError> {
        let destination = ssh_config::resolve(url)?;
        tracing::debug!("reaching the engine's host {}", destination.describe());
        let connection = connect(&destination)?;
        probe_engine_socket(&connection.session, &destination, &url.socket)?;
        static OPENED: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "footloose-engine-{}-{}",
            std::process::id(),
            OPENED.fetch_add(1, Ordering::SeqCst)
        ));
        std::fs::create_dir_all(&dir).map_err(local(format!("cannot make {}", dir.display())))?;
        restrict(&dir);
        let api_socket = dir.join("engine.sock");
        let api = UnixListener::bind(&api_socket)
            .map_err(local(format!("cannot listen on {}", api_socket.display())))?;
        api.set_nonblocking(true)
            .map_err(local("cannot make the engine's socket non-blocking"))?;
        let (commands, received) = mpsc::channel();
        let stop = Arc::new(AtomicBool::new(false));
        let pump = Pump {
            connection,
            listeners: vec![Listener {
                socket: ListenSocket::Unix(api),
                target: Target::Socket(url.socket.clone()),
            }],
            links: Vec::new(),
            commands: received,
            stop: stop.clone(),
            url: destination.to_string(),
        };
        std::thread::Builder::new()
            .name("footloose-ssh-engine".into())
            .spawn(move || pump.run())
            .map_err(local("cannot start the tunnel thread"))?;
        Ok(Tunnel {
            shared: Arc::new(Shared {
                url: destination,
                api_socket,
                dir,
                commands: Mutex::new(commands),
                forwards: Mutex::new(HashMap::new()),
                stop,
            }),
        })
    }

    /// The local unix socket that reaches the engine's API.
    pub fn api_socket(&self) -> &Path {
        &self.shared.api_socket
    }

    /// A local address that reaches `remote` as the engine's host sees it
    /// (`127.0.0.1:32768` being a port published there); one per address.
    pub fn forward(&self, remote: SocketAddr) -> io::Result<SocketAddr> {
        let mut forwards = self.shared.forwards.lock().unwrap();
        if let Some(local) = forwards.get(&remote) {
            return Ok(*local);
        }
        let listener = TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let local = listener.local_addr()?;
        self.shared
            .commands
            .lock()
            .unwrap()
            .send(Listener {
                socket: ListenSocket::Tcp(listener),
                target: Target::Tcp(remote),
            })
            .map_err(|_| {
                io::Error::new(
                    ErrorKind::BrokenPipe,
                    format!("the ssh connection to {} is closed", self.shared.url),
                )
            })?;
        forwards.insert(remote, local);
        Ok(local)
    }

    /// The engine's host as it was reached: `user@host:port`, `host` as the
    /// URL wrote it (an alias of `~/.ssh/config` stays one, so that
    /// OpenSSH's `ProxyJump` reaches it through the same configuration).
    pub fn url(&self) -> &Destination {
        &self.shared.url
    }
}

impl Drop for Shared {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Only this user may reach the forwarded engine socket.
fn restrict(dir: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700));
}

/// Fails early and clearly when the engine's socket cannot be opened.
fn probe_engine_socket(
    session: &Session,
    destination: &Destination,
    socket: &str,
) -> Result<(), TunnelError> {
    let mut probe = session
        .channel_direct_streamlocal(socket, None)
        .map_err(|error| TunnelError::EngineSocket {
            destination: destination.to_string(),
            socket: socket.to_owned(),
            user: destination.user.clone(),
            error,
        })?;
    let _ = probe.close();
    Ok(())
}

/// A logged-in session and what carries its bytes.
struct Connection {
    session: Session,
    /// The session's socket, for `poll`.
    fd: RawFd,
    /// Dropped after the session: a jump host's pump, a proxy command.
    _transport: Transport,
}

/// What a session's socket is joined to besides the network.
enum Transport {
    Direct,
    /// The pump of the jump host's session; stopped on drop.
    Jump {
        _pump: Bridge,
    },
    /// The `ProxyCommand`; killed on drop.
    Command {
        _child: ProxyChild,
    },
}

/// Stops a jump host's pump when dropped.
struct Bridge {
    stop: Arc<AtomicBool>,
}

impl Drop for Bridge {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

/// A running `ProxyCommand`, killed and reaped when dropped.
struct ProxyChild(Child);

impl Drop for ProxyChild {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The socket a session talks over.
enum Stream {
    Tcp(TcpStream),
    Unix(UnixStream),
}

impl Stream {
    /// Hands the socket to `session`, returning its descriptor.
    fn attach(self, session: &mut Session) -> RawFd {
        match self {
            Stream::Tcp(tcp) => {
                let fd = tcp.as_raw_fd();
                session.set_tcp_stream(tcp);
                fd
            }
            Stream::Unix(unix) => {
                let fd = unix.as_raw_fd();
                session.set_tcp_stream(unix);
                fd
            }
        }
    }
}

/// The ssh handshake, the host key check and the login.
fn connect(destination: &Destination) -> Result<Connection, TunnelError> {
    let (stream, transport) = open_stream(destination)?;
    let mut session = Session::new().map_err(TunnelError::Session)?;
    let fd = stream.attach(&mut session);
    session.set_timeout(TIMEOUT.as_millis() as u32);
    prefer_known_key_types(&session, destination);
    session
        .handshake()
        .map_err(|source| TunnelError::Handshake {
            destination: destination.to_string(),
            source,
        })?;
    check_host_key(&session, destination)?;
    authenticate(&session, destination)?;
    session.set_keepalive(false, KEEPALIVE.as_secs() as u32);
    Ok(Connection {
        session,
        fd,
        _transport: transport,
    })
}

/// The socket to `destination`'s sshd, as its `ProxyJump` or
/// `ProxyCommand` says.
fn open_stream(destination: &Destination) -> Result<(Stream, Transport), TunnelError> {
    match &destination.proxy {
        Proxy::Direct => Ok((
            Stream::Tcp(tcp_connect(&destination.host_name, destination.port)?),
            Transport::Direct,
        )),
        Proxy::Jump(hop) => through_jump(hop, destination),
        Proxy::Command(command) => proxy_command(command),
    }
}

/// A tcp connection to `host:port`, trying each of its addresses.
fn tcp_connect(host: &str, port: u16) -> Result<TcpStream, TunnelError> {
    let addresses = (host, port)
        .to_socket_addrs()
        .map_err(|source| TunnelError::Resolve {
            host: host.to_owned(),
            source,
        })?;
    let mut failure = TunnelError::NoAddress {
        host: host.to_owned(),
    };
    for address in addresses {
        match TcpStream::connect_timeout(&address, TIMEOUT) {
            Ok(tcp) => {
                tcp.set_nodelay(true).ok();
                return Ok(tcp);
            }
            Err(source) => failure = TunnelError::Connect { address, source },
        }
    }
    Err(failure)
}

/// A socket that reaches `destination`'s sshd through a session to `hop`:
/// a `direct-tcpip` channel (the jump host resolves the name) pumped to
/// one end of a socket pair by a thread of its own.
fn through_jump(
    hop: &Destination,
    destination: &Destination,
) -> Result<(Stream, Transport), TunnelError> {
    let outer = connect(hop).map_err(|source| TunnelError::Jump {
        hop: hop.to_string(),
        destination: destination.to_string(),
        source: Box::new(source),
    })?;
    let channel = outer
        .session
        .channel_direct_tcpip(&destination.host_name, destination.port, None)
        .map_err(|error| TunnelError::JumpChannel {
            hop: hop.to_string(),
            host: destination.host_name.clone(),
            port: destination.port,
            destination: destination.to_string(),
            error,
        })?;
    let (ours, theirs) = UnixStream::pair().map_err(local("cannot make a socket pair"))?;
    let theirs = Local::Unix(theirs);
    theirs
        .set_nonblocking()
        .map_err(local("cannot make the jump host's socket non-blocking"))?;
    let stop = Arc::new(AtomicBool::new(false));
    let pump = Pump {
        connection: outer,
        listeners: Vec::new(),
        links: vec![Link::new(theirs, channel)],
        // No forwards are ever added to a jump host's session.
        commands: mpsc::channel().1,
        stop: stop.clone(),
        url: hop.to_string(),
    };
    std::thread::Builder::new()
        .name("footloose-ssh-jump".into())
        .spawn(move || pump.run())
        .map_err(local("cannot start the jump host's thread"))?;
    Ok((
        Stream::Unix(ours),
        Transport::Jump {
            _pump: Bridge { stop },
        },
    ))
}

/// A socket joined to `command`'s stdin and stdout, run as OpenSSH runs
/// a `ProxyCommand`: `$SHELL -c 'exec COMMAND'`.
fn proxy_command(command: &str) -> Result<(Stream, Transport), TunnelError> {
    let (ours, theirs) = UnixStream::pair().map_err(local("cannot make a socket pair"))?;
    let input = theirs
        .try_clone()
        .map_err(local("cannot make a socket pair"))?;
    let shell = std::env::var_os("SHELL")
        .filter(|shell| !shell.is_empty())
        .unwrap_or_else(|| "/bin/sh".into());
    let child = std::process::Command::new(shell)
        .arg("-c")
        .arg(format!("exec {command}"))
        .stdin(Stdio::from(OwnedFd::from(input)))
        .stdout(Stdio::from(OwnedFd::from(theirs)))
        .spawn()
        .map_err(|source| TunnelError::ProxyCommand {
            command: command.to_owned(),
            source,
        })?;
    Ok((
        Stream::Unix(ours),
        Transport::Command {
            _child: ProxyChild(child),
        },
    ))
}

/// Asks first for the host key types the known-hosts files hold for the
/// host, as OpenSSH does, so that a host with several keys shows the
/// known one.
fn prefer_known_key_types(session: &Session, destination: &Destination) {
    let known =
        known_hosts::known_types(&destination.known_hosts.files, &destination.host_key_name());
    if known.is_empty() {
        return;
    }
    let supported = session
        .supported_algs(MethodType::HostKey)
        .unwrap_or_default();
    let mut preferred: Vec<&str> = Vec::new();
    for key_type in &known {
        let algorithms: &[&str] = match key_type.as_str() {
            "ssh-rsa" => &["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"],
            other => &[other],
        };
        for algorithm in algorithms {
            if let Some(name) = supported.iter().find(|s| *s == algorithm) {
                if !preferred.contains(name) {
                    preferred.push(name);
                }
            }
        }
    }
    for name in &supported {
        if !preferred.contains(name) {
            preferred.push(name);
        }
    }
    if let Err(e) = session.method_pref(MethodType::HostKey, &preferred.join(",")) {
        tracing::debug!("cannot prefer the known host key types {known:?}: {e}");
    }
}

/// The host key must be in a known-hosts file, as OpenSSH's
/// `StrictHostKeyChecking=yes` wants it: footloose never trusts on first
/// use, whatever the configuration says.
fn check_host_key(session: &Session, destination: &Destination) -> Result<(), TunnelError> {
    let (key, _) = session.host_key().ok_or_else(|| TunnelError::NoHostKey {
        destination: destination.to_string(),
    })?;
    let name = destination.host_key_name();
    let fingerprint = known_hosts::fingerprint(key);
    match known_hosts::check(&destination.known_hosts.files, &name, key) {
        Verdict::Known => Ok(()),
        Verdict::Revoked(at) => Err(TunnelError::HostKeyRevoked {
            destination: destination.to_string(),
            fingerprint,
            at,
        }),
        Verdict::Changed(at) => Err(TunnelError::HostKeyChanged {
            destination: destination.to_string(),
            fingerprint,
            name,
            at,
        }),
        Verdict::Unknown { other_types } => Err(TunnelError::HostKeyUnknown {
            destination: destination.to_string(),
            fingerprint,
            advice: unknown_host_key(destination, &name, key, &other_types),
            name,
        }),
    }
}

/// Where an unknown host key was looked for, and how to make it known.
fn unknown_host_key(
    destination: &Destination,
    name: &str,
    key: &[u8],
    other_types: &[String],
) -> String {
    let files = &destination.known_hosts;
    let mut message = looked_in(&files.files);
    if !other_types.is_empty() {
        message += &format!(
            "; that host is known by a key of another type ({})",
            other_types.join(", ")
        );
    }
    let line = known_hosts::line_for(name, key);
    match &files.add_to {
        Some(file) => {
            message += &format!(
                ": check that fingerprint against the host's own (`ssh-keygen -lf` of its host key), then add `{line}` to {}",
                file.display()
            );
            if destination.proxy == Proxy::Direct && destination.host_key_alias.is_none() {
                let keyscan = if destination.port == 22 {
                    format!("ssh-keyscan {}", destination.host_name)
                } else {
                    format!(
                        "ssh-keyscan -p {} {}",
                        destination.port, destination.host_name
                    )
                };
                message += &format!(
                    " (or run `{keyscan} >> {}`, which trusts whatever answers now)",
                    file.display()
                );
            }
        }
        None => {
            let at = files
                .set_at
                .as_ref()
                .map(|origin| format!(" ({origin})"))
                .unwrap_or_default();
            message += &format!(
                ": UserKnownHostsFile{at} leaves no file for host keys (only none or /dev/null); name one there, check the fingerprint and add `{line}` to it"
            );
        }
    }
    if let Some(relaxed) = &destination.relaxed_checking {
        message += &format!(
            " ({relaxed} is not followed: footloose never trusts a host key it has not seen)"
        );
    }
    message
}

/// The known-hosts files that exist, or those looked for.
fn looked_in(files: &[PathBuf]) -> String {
    let existing: Vec<String> = files
        .iter()
        .filter(|f| f.exists() && f.as_path() != Path::new("/dev/null"))
        .map(|f| f.display().to_string())
        .collect();
    if existing.is_empty() {
        let wanted: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
        format!("any known_hosts file (looked for {})", wanted.join(", "))
    } else {
        existing.join(", ")
    }
}

/// The agent's identities first, then the identity files (the config's,
/// else the default ones), as OpenSSH tries them.
fn authenticate(session: &Session, destination: &Destination) -> Result<(), TunnelError> {
    let mut tried = Vec::new();
    if agent_login(session, destination, &mut tried) {
        return Ok(());
    }
    let identities = &destination.identities;
    let mut missing = Vec::new();
    for path in &identities.files {
        if !path.exists() {
            missing.push(path.display().to_string());
            continue;
        }
        match session.userauth_pubkey_file(&destination.user, None, path, None) {
            Ok(()) => return Ok(()),
            Err(e) => tried.push(format!("{} ({})", path.display(), e.message())),
        }
    }
    if !identities.configured {
        // Only named IdentityFiles are missed: the defaults are optional.
        missing.clear();
    }
    let host = destination.to_string();
    Err(if tried.is_empty() && !identities.configured {
        TunnelError::NoDefaultKey {
            destination: host,
            default: identities
                .files
                .first()
                .map(|f| f.display().to_string())
                .unwrap_or_default(),
        }
    } else if tried.is_empty() {
        TunnelError::NoKey {
            destination: host,
            missing,
        }
    } else {
        TunnelError::KeysRefused {
            destination: host,
            tried,
            missing,
        }
    })
}

/// Logs in with the agent's keys (with `IdentitiesOnly`, only those of the
/// identity files); true when one was accepted.
fn agent_login(session: &Session, destination: &Destination, tried: &mut Vec<String>) -> bool {
    let socket = match &destination.agent {
        Agent::Off => return false,
        Agent::Environment => {
            if std::env::var_os("SSH_AUTH_SOCK").is_none_or(|s| s.is_empty()) {
                return false;
            }
            None
        }
        Agent::Socket(path) => Some(path),
    };
    let Ok(mut agent) = session.agent() else {
        return false;
    };
    if let Some(path) = socket {
        if agent.set_identity_path(path).is_err() {
            return false;
        }
    }
    if let Err(e) = agent.connect().and_then(|()| agent.list_identities()) {
        tracing::debug!("the ssh agent cannot be used: {e}");
        return false;
    }
    let wanted: Option<Vec<Vec<u8>>> = destination.identities.only.then(|| {
        destination
            .identities
            .files
            .iter()
            .filter_map(|f| public_blob(f))
            .collect()
    });
    for identity in agent.identities().unwrap_or_default() {
        if wanted
            .as_ref()
            .is_some_and(|blobs| !blobs.iter().any(|b| b == identity.blob()))
        {
            continue;
        }
        if agent.userauth(&destination.user, &identity).is_ok() {
            return true;
        }
        tried.push(format!("agent key {}", identity.comment()));
    }
    false
}

/// The public key of an identity file, as the agent lists it: from
/// `FILE.pub`, else from the key file itself.
fn public_blob(path: &Path) -> Option<Vec<u8>> {
    let mut public = path.as_os_str().to_owned();
    public.push(".pub");
    let key = ssh_key::PublicKey::read_openssh_file(Path::new(&public))
        .ok()
        .or_else(|| {
            ssh_key::PrivateKey::read_openssh_file(path)
                .ok()
                .map(|k| k.public_key().clone())
        })?;
    key.to_bytes().ok()
}

/// Where a listener's connections go on the engine's host.
#[derive(Debug)]
enum Target {
    Socket(String),
    Tcp(SocketAddr),
}

#[derive(Debug)]
enum ListenSocket {
    Unix(UnixListener),
    Tcp(TcpListener),
}

/// A local listening socket and where its connections are forwarded.
#[derive(Debug)]
struct Listener {
    socket: ListenSocket,
    target: Target,
}

impl Listener {
    fn accept(&self) -> io::Result<Local> {
        let local = match &self.socket {
            ListenSocket::Unix(l) => Local::Unix(l.accept()?.0),
            ListenSocket::Tcp(l) => {
                let (stream, _) = l.accept()?;
                stream.set_nodelay(true).ok();
                Local::Tcp(stream)
            }
        };
        local.set_nonblocking()?;
        Ok(local)
    }

    fn fd(&self) -> RawFd {
        match &self.socket {
            ListenSocket::Unix(l) => l.as_raw_fd(),
            ListenSocket::Tcp(l) => l.as_raw_fd(),
        }
    }
}

/// A local connection being forwarded.
enum Local {
    Unix(UnixStream),
    Tcp(TcpStream),
}

impl Local {
    fn set_nonblocking(&self) -> io::Result<()> {
        match self {
            Local::Unix(s) => s.set_nonblocking(true),
            Local::Tcp(s) => s.set_nonblocking(true),
        }
    }

    fn shutdown_write(&self) {
        let _ = match self {
            Local::Unix(s) => s.shutdown(Shutdown::Write),
            Local::Tcp(s) => s.shutdown(Shutdown::Write),
        };
    }

    fn fd(&self) -> RawFd {
        match self {
            Local::Unix(s) => s.as_raw_fd(),
            Local::Tcp(s) => s.as_raw_fd(),
        }
    }
}

impl Read for Local {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Local::Unix(s) => s.read(buf),
            Local::Tcp(s) => s.read(buf),
        }
    }
}

impl Write for Local {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Local::Unix(s) => s.write(buf),
            Local::Tcp(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// One local connection joined to one channel, with what is read from a
/// side and not yet written to the other.
struct Link {
    local: Local,
    channel: ssh2::Channel,
    up: Vec<u8>,
    down: Vec<u8>,
    local_eof: bool,
    eof_sent: bool,
    remote_eof: bool,
    local_shut: bool,
}

/// What one turn of a link did.
struct Turn {
    moved: bool,
    finished: bool,
}

impl Link {
    fn new(local: Local, channel: ssh2::Channel) -> Link {
        Link {
            local,
            channel,
            up: Vec::new(),
            down: Vec::new(),
            local_eof: false,
            eof_sent: false,
            remote_eof: false,
            local_shut: false,
        }
    }

    /// Moves what can move without blocking, both ways.
    fn turn(&mut self, buf: &mut [u8]) -> Turn {
        let mut moved = false;
        let broken = Turn {
            moved: true,
            finished: true,
        };
        // Local to remote.
        if self.up.is_empty() && !self.local_eof {
            match self.local.read(buf) {
                Ok(0) => self.local_eof = true,
                Ok(n) => self.up.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => return broken,
            }
            moved |= self.local_eof || !self.up.is_empty();
        }
        if !self.up.is_empty() {
            match self.channel.write(&self.up) {
                Ok(n) => {
                    self.up.drain(..n);
                    moved |= n > 0;
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                Err(_) => return broken,
            }
        }
        if self.local_eof && self.up.is_empty() && !self.eof_sent {
            match self.channel.send_eof() {
                Ok(()) => {
                    self.eof_sent = true;
                    moved = true;
                }
                Err(e) if e.code() == ssh2::ErrorCode::Session(EAGAIN) => {}
                Err(_) => return broken,
            }
        }
        // Remote to local.
        if self.down.is_empty() && !self.remote_eof {
            match self.channel.read(buf) {
                Ok(0) => {
                    if self.channel.eof() {
                        self.remote_eof = true;
                        moved = true;
                    }
                }
                Ok(n) => {
                    self.down.extend_from_slice(&buf[..n]);
                    moved = true;
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                Err(_) => return broken,
            }
        }
        if !self.down.is_empty() {
            match self.local.write(&self.down) {
                Ok(n) => {
                    self.down.drain(..n);
                    moved |= n > 0;
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                Err(_) => return broken,
            }
        }
        if self.remote_eof && self.down.is_empty() && !self.local_shut {
            self.local.shutdown_write();
            self.local_shut = true;
            moved = true;
        }
        Turn {
            moved,
            finished: self.eof_sent && self.local_shut,
        }
    }

    /// The `poll` events this link waits for on its local socket and on
    /// the session's.
    fn interest(&self) -> (i16, i16) {
        let (mut local, mut session) = (0, 0);
        if self.up.is_empty() && !self.local_eof {
            local |= libc::POLLIN;
        }
        if !self.down.is_empty() {
            local |= libc::POLLOUT;
        }
        if self.down.is_empty() && !self.remote_eof {
            session |= libc::POLLIN;
        }
        if !self.up.is_empty() {
            session |= libc::POLLOUT;
        }
        (local, session)
    }
}

/// The thread that owns a session: the engine host's, with its forwards,
/// or a jump host's, with the one channel to the next host.
struct Pump {
    connection: Connection,
    listeners: Vec<Listener>,
    links: Vec<Link>,
    commands: Receiver<Listener>,
    stop: Arc<AtomicBool>,
    url: String,
}

impl Pump {
    fn run(mut self) {
        self.connection.session.set_blocking(false);
        let mut buf = vec![0u8; 64 * 1024];
        let mut last_keepalive = Instant::now();
        while !self.stop.load(Ordering::SeqCst) {
            while let Ok(listener) = self.commands.try_recv() {
                self.listeners.push(listener);
            }
            if self.listeners.is_empty() && self.links.is_empty() {
                // A jump host whose one channel has closed.
                break;
            }
            let mut moved = self.accept();
            let mut finished = Vec::new();
            for (i, link) in self.links.iter_mut().enumerate() {
                let turn = link.turn(&mut buf);
                moved |= turn.moved;
                if turn.finished {
                    finished.push(i);
                }
            }
            for i in finished.into_iter().rev() {
                let mut link = self.links.swap_remove(i);
                let _ = link.channel.close();
            }
            if last_keepalive.elapsed() >= KEEPALIVE {
                let _ = self.connection.session.keepalive_send();
                last_keepalive = Instant::now();
            }
            if !moved {
                self.wait();
            }
        }
    }

    /// Opens a channel for every waiting local connection.
    fn accept(&mut self) -> bool {
        let mut moved = false;
        let session = &self.connection.session;
        for listener in &self.listeners {
            while let Ok(local) = listener.accept() {
                moved = true;
                // Opening is one round trip; the session blocks for it.
                session.set_blocking(true);
                let channel = match &listener.target {
                    Target::Socket(path) => session.channel_direct_streamlocal(path, None),
                    Target::Tcp(addr) => {
                        session.channel_direct_tcpip(&addr.ip().to_string(), addr.port(), None)
                    }
                };
                session.set_blocking(false);
                match channel {
                    Ok(channel) => self.links.push(Link::new(local, channel)),
                    Err(e) => {
                        tracing::warn!("{}: cannot forward to {:?}: {e}", self.url, listener.target)
                    }
                }
            }
        }
        moved
    }

    /// Sleeps until a socket is ready or a little while has passed.
    fn wait(&self) {
        let mut fds: Vec<libc::pollfd> = self
            .listeners
            .iter()
            .map(|l| pollfd(l.fd(), libc::POLLIN))
            .collect();
        let mut session = 0;
        for link in &self.links {
            let (local, remote) = link.interest();
            session |= remote;
            if local != 0 {
                fds.push(pollfd(link.local.fd(), local));
            }
        }
        if session != 0 {
            fds.push(pollfd(self.connection.fd, session));
        }
        // SAFETY: `fds` is a valid, exclusively borrowed array of pollfd.
        unsafe {
            libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, IDLE_POLL_MS);
        }
    }
}

fn pollfd(fd: RawFd, events: i16) -> libc::pollfd {
    libc::pollfd {
        fd,
        events,
        revents: 0,
    }
}
