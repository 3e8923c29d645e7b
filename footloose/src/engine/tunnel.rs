//! Engines over ssh: one libssh2 session to the engine's host carries the
//! engine's API (a local unix socket forwarded to the engine's socket there,
//! `direct-streamlocal`) and every machine's ssh port (local tcp ports
//! forwarded to the ports the engine published on its host's loopback,
//! `direct-tcpip`).
//!
//! One thread owns the session, in non-blocking mode, and moves bytes
//! between each local connection and its channel; nothing else touches the
//! session, so libssh2 is never used from two threads at once.

use std::collections::HashMap;
use std::io::{self, ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ssh2::{CheckResult, KnownHostFileKind, Session};

use super::ssh_url::SshUrl;

/// How long connecting, authenticating or opening a channel may take.
const TIMEOUT: Duration = Duration::from_secs(15);
/// How often an idle session says it is alive.
const KEEPALIVE: Duration = Duration::from_secs(20);
/// How long the pump sleeps in `poll` when nothing moves.
const IDLE_POLL_MS: i32 = 50;
/// libssh2's "would block".
const EAGAIN: i32 = -37;
/// The identity files tried after the agent, as OpenSSH tries them.
const IDENTITIES: [&str; 3] = ["id_ed25519", "id_ecdsa", "id_rsa"];

/// An open ssh connection to an engine's host and its forwards; closed
/// (the pump stopped, the local socket removed) when the last clone drops.
#[derive(Debug, Clone)]
pub(crate) struct Tunnel {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    url: SshUrl,
    api_socket: PathBuf,
    dir: PathBuf,
    commands: Mutex<Sender<Listener>>,
    forwards: Mutex<HashMap<SocketAddr, SocketAddr>>,
    stop: Arc<AtomicBool>,
}

impl Tunnel {
    /// Connects to the host of `url`, checks its host key against
    /// `~/.ssh/known_hosts`, logs in with the ssh agent or the default
    /// identity files, and forwards a local socket to the engine's.
    pub fn open(url: &SshUrl) -> Result<Tunnel, String> {
        let session = connect(url)?;
        static OPENED: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "footloose-engine-{}-{}",
            std::process::id(),
            OPENED.fetch_add(1, Ordering::SeqCst)
        ));
        std::fs::create_dir_all(&dir).map_err(|e| format!("cannot make {}: {e}", dir.display()))?;
        restrict(&dir);
        let api_socket = dir.join("engine.sock");
        let api = UnixListener::bind(&api_socket)
            .map_err(|e| format!("cannot listen on {}: {e}", api_socket.display()))?;
        api.set_nonblocking(true).map_err(|e| e.to_string())?;
        let (commands, received) = mpsc::channel();
        let stop = Arc::new(AtomicBool::new(false));
        let pump = Pump {
            session,
            listeners: vec![Listener {
                socket: ListenSocket::Unix(api),
                target: Target::Socket(url.socket.clone()),
            }],
            links: Vec::new(),
            commands: received,
            stop: stop.clone(),
            url: url.to_string(),
        };
        std::thread::Builder::new()
            .name("footloose-ssh-engine".into())
            .spawn(move || pump.run())
            .map_err(|e| format!("cannot start the tunnel thread: {e}"))?;
        Ok(Tunnel {
            shared: Arc::new(Shared {
                url: url.clone(),
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

    /// `user@host:port` of the engine's host.
    pub fn url(&self) -> &SshUrl {
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

/// The ssh handshake, the host key check and the login.
fn connect(url: &SshUrl) -> Result<(Session, RawFd), String> {
    let address = (url.host.as_str(), url.port)
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve {}: {e}", url.host))?
        .next()
        .ok_or_else(|| format!("{} has no address", url.host))?;
    let tcp = TcpStream::connect_timeout(&address, TIMEOUT)
        .map_err(|e| format!("cannot connect to ssh at {address}: {e}"))?;
    tcp.set_nodelay(true).ok();
    let fd = tcp.as_raw_fd();
    let mut session = Session::new().map_err(|e| e.to_string())?;
    session.set_tcp_stream(tcp);
    session.set_timeout(TIMEOUT.as_millis() as u32);
    session
        .handshake()
        .map_err(|e| format!("ssh handshake with {url} failed: {e}"))?;
    check_host_key(&session, url)?;
    authenticate(&session, url)?;
    // Fails early and clearly when the engine's socket cannot be opened.
    let mut probe = session.channel_direct_streamlocal(&url.socket, None).map_err(|e| {
        format!(
            "{url} cannot open the engine's socket {} there ({}): is the engine running, and may {} use its socket?",
            url.socket,
            e.message(),
            url.user
        )
    })?;
    let _ = probe.close();
    session.set_keepalive(false, KEEPALIVE.as_secs() as u32);
    Ok((session, fd))
}

fn home_ssh() -> PathBuf {
    PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".ssh")
}

/// The host key must be in `~/.ssh/known_hosts`, as OpenSSH's
/// `StrictHostKeyChecking=yes` wants it: footloose never trusts on first use.
fn check_host_key(session: &Session, url: &SshUrl) -> Result<(), String> {
    let file = home_ssh().join("known_hosts");
    let (key, _) = session
        .host_key()
        .ok_or_else(|| format!("{url} presented no host key"))?;
    let mut known = session.known_hosts().map_err(|e| e.to_string())?;
    if file.exists() {
        known
            .read_file(&file, KnownHostFileKind::OpenSSH)
            .map_err(|e| format!("cannot read {}: {e}", file.display()))?;
    }
    let keyscan = if url.port == 22 {
        format!("ssh-keyscan {}", url.host)
    } else {
        format!("ssh-keyscan -p {} {}", url.port, url.host)
    };
    match known.check_port(&url.host, url.port, key) {
        CheckResult::Match => Ok(()),
        CheckResult::Mismatch => Err(format!(
            "the host key of {url} does not match the one in {}: someone may be in the middle, or the host was reinstalled",
            file.display()
        )),
        CheckResult::NotFound => Err(format!(
            "the host key of {url} is not in {}: check its fingerprint, then add it (`{keyscan} >> {}`) or log in once with `ssh -p {} {}@{}`",
            file.display(),
            file.display(),
            url.port,
            url.user,
            url.host
        )),
        CheckResult::Failure => Err(format!("cannot check the host key of {url}")),
    }
}

/// The agent's identities first, then the default identity files.
fn authenticate(session: &Session, url: &SshUrl) -> Result<(), String> {
    let mut tried = Vec::new();
    if std::env::var_os("SSH_AUTH_SOCK").is_some() {
        if let Ok(mut agent) = session.agent() {
            if agent.connect().is_ok() && agent.list_identities().is_ok() {
                for identity in agent.identities().unwrap_or_default() {
                    if agent.userauth(&url.user, &identity).is_ok() {
                        return Ok(());
                    }
                    tried.push(format!("agent key {}", identity.comment()));
                }
            }
        }
    }
    for name in IDENTITIES {
        let path = home_ssh().join(name);
        if !path.exists() {
            continue;
        }
        match session.userauth_pubkey_file(&url.user, None, &path, None) {
            Ok(()) => return Ok(()),
            Err(e) => tried.push(format!("{} ({})", path.display(), e.message())),
        }
    }
    Err(if tried.is_empty() {
        format!(
            "no key to log in to {url} with: start an ssh agent with a key, or put one in {}/id_ed25519",
            home_ssh().display()
        )
    } else {
        format!("{url} refused every key tried: {}", tried.join(", "))
    })
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

/// The thread that owns the session.
struct Pump {
    session: (Session, RawFd),
    listeners: Vec<Listener>,
    links: Vec<Link>,
    commands: Receiver<Listener>,
    stop: Arc<AtomicBool>,
    url: String,
}

impl Pump {
    fn run(mut self) {
        let (session, _) = &self.session;
        session.set_blocking(false);
        let mut buf = vec![0u8; 64 * 1024];
        let mut last_keepalive = Instant::now();
        while !self.stop.load(Ordering::SeqCst) {
            while let Ok(listener) = self.commands.try_recv() {
                self.listeners.push(listener);
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
                let _ = self.session.0.keepalive_send();
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
        let session = &self.session.0;
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
            fds.push(pollfd(self.session.1, session));
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
