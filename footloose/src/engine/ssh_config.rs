//! OpenSSH's client configuration for engines over ssh
//! (`DOCKER_HOST=ssh://HOST`): `~/.ssh/config`, then `/etc/ssh/ssh_config`,
//! read as `ssh` reads them, so that footloose reaches the host the `docker`
//! CLI (which runs `ssh`) reaches, as the same user, with the same keys.
//!
//! How it is read, as ssh_config(5) says:
//!
//! - A section applies when one of its `Host` patterns (`*`, `?`, several
//!   per line) matches the host as written in the URL and no `!pattern`
//!   does; options before the first `Host` apply to every host. Matching is
//!   case-sensitive, as OpenSSH's `Host` is.
//! - For each option the first value obtained wins; `IdentityFile`s add up.
//! - `Include` (glob patterns, relative to `~/.ssh` or `/etc/ssh`) reads
//!   files in place; under a section that does not apply they apply to
//!   nothing, and after them the including section goes on.
//! - A user (`ssh://USER@HOST`) or port (`ssh://HOST:PORT`) in the URL beats
//!   `User` and `Port`, as on OpenSSH's command line.
//! - The user's file must be owned by the user (or root) and writable by
//!   no one else, as OpenSSH demands.
//!
//! What footloose honours:
//!
//! | option | how |
//! |---|---|
//! | `HostName` | `%h` and `%%` expanded |
//! | `User`, `Port` | the URL's win |
//! | `IdentityFile` | several; `~`, `${VAR}` and `%d %u %h %r %p %n %k %l %L %i %%` expanded; tried after the agent; when none is given, `~/.ssh/id_ed25519`, `id_ecdsa`, `id_rsa` (as OpenSSH, the defaults are tried only when no `IdentityFile` is given) |
//! | `IdentitiesOnly` | only the agent's keys whose public key is an identity file's (`FILE.pub`, else the key file's public part) |
//! | `IdentityAgent` | `none`, `SSH_AUTH_SOCK`, `$VAR` or a socket path |
//! | `UserKnownHostsFile`, `GlobalKnownHostsFile` | several files; `~`, `${VAR}` and tokens expanded; `none` means no file |
//! | `HostKeyAlias` | the name host keys are looked up by (with no `[..]:port`) |
//! | `StrictHostKeyChecking` | read, but never relaxed: see below |
//! | `ProxyJump` | hops of `[user@]host[:port]` or `ssh://…`, each resolved with its own section (its own `ProxyJump` when it is the first hop); `none` |
//! | `ProxyCommand` | run by `$SHELL -c exec …` with `%h %p %r %n %%`; `none` |
//! | `Match all` | as `Host *` |
//!
//! Host keys are looked up by `HostKeyAlias`, else by the resolved
//! `HostName` (`[name]:port` when the port is not 22), in the
//! `UserKnownHostsFile`s and `GlobalKnownHostsFile`s (see
//! [`known_hosts`]). footloose never trusts a host key it has not seen:
//! `StrictHostKeyChecking no`, `off` or `accept-new` would have OpenSSH add
//! an unknown key (and `no` even accept a changed one), and a bare
//! `UserKnownHostsFile /dev/null` (or `none`) has OpenSSH ask every time,
//! or fail without a terminal. footloose has no terminal to ask on, so it
//! behaves as `StrictHostKeyChecking yes` always: an unknown key is
//! refused with its fingerprint and the line to add, and the refusal names
//! the setting footloose did not follow.
//!
//! Left out, and why:
//!
//! - `Match` other than `Match all`: its criteria (`exec`, `host` after
//!   canonicalisation, `final`, `localnetwork`, …) need OpenSSH's passes
//!   and commands; the options under it are left out, with a warning when
//!   footloose would have read one of them.
//! - `CanonicalizeHostname` and its family: footloose matches `Host` to
//!   the name as written, as OpenSSH does by default (`no`).
//! - `CertificateFile` and certificate host keys (`@cert-authority`):
//!   libssh2 cannot log in with, or check, certificates.
//! - `%C`, `%j` and `%T` tokens: rare in these options; an error names them.
//! - `~user/` paths: only `~` and `~/` (the home `HOME` names) are expanded.
//! - `KnownHostsCommand`, `VerifyHostKeyDNS`, `CheckHostIP`,
//!   `UpdateHostKeys`, `HashKnownHosts`: footloose reads host keys from
//!   files only and never writes them.
//! - `Ciphers`, `KexAlgorithms`, `MACs`, `HostKeyAlgorithms`,
//!   `PubkeyAcceptedAlgorithms`: libssh2's own lists apply (footloose does
//!   prefer host key types already in known_hosts, as OpenSSH does).
//! - `ConnectTimeout`, `ServerAliveInterval`, `ConnectionAttempts`:
//!   footloose's own 15 s timeout and 20 s keepalive apply.
//! - `ControlMaster` and `ControlPath`: footloose keeps one connection per
//!   engine for as long as it runs.
//! - Password, keyboard-interactive and GSSAPI logins, and passphrases:
//!   footloose cannot ask; use the agent for encrypted keys.
//! - Forwardings, `SendEnv`, `SetEnv`, `RequestTTY`, `RemoteCommand`,
//!   `BindAddress`, `AddressFamily` and the rest: they have no meaning for
//!   the engine's tunnel, or OpenSSH's defaults are what footloose does.
//!
//! footloose reads `$HOME/.ssh`, where OpenSSH reads the home of the
//! password database; both are the same unless `HOME` is changed.

pub(crate) mod known_hosts;
mod pattern;

use std::fmt;
use std::path::{Path, PathBuf};

use super::ssh_url::{self, bracketed, SshUrl};

/// How deeply `Include`s may nest (OpenSSH's limit).
const MAX_INCLUDE_DEPTH: usize = 16;
/// How many `ProxyJump` hops may lead to one host.
const MAX_JUMPS: usize = 8;
/// The identity files tried when the config names none, as footloose
/// always tried them.
const DEFAULT_IDENTITIES: [&str; 3] = ["id_ed25519", "id_ecdsa", "id_rsa"];
/// The system-wide configuration.
const SYSTEM_CONFIG: &str = "/etc/ssh/ssh_config";
/// The system-wide host keys when `GlobalKnownHostsFile` says nothing.
const GLOBAL_KNOWN_HOSTS: [&str; 2] = ["/etc/ssh/ssh_known_hosts", "/etc/ssh/ssh_known_hosts2"];
/// The options footloose reads; the others are skipped quietly.
const HONOURED: [&str; 12] = [
    "hostname",
    "user",
    "port",
    "identityfile",
    "identitiesonly",
    "identityagent",
    "userknownhostsfile",
    "globalknownhostsfile",
    "hostkeyalias",
    "stricthostkeychecking",
    "proxyjump",
    "proxycommand",
];

/// Why the ssh configuration cannot be used for a host. Each prints where
/// it was read; the reason is its source.
#[derive(Debug, thiserror::Error)]
pub(crate) enum SshConfigError {
    /// A configuration file exists but cannot be read.
    #[error("cannot read the ssh configuration {}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The user's file's owner and mode cannot be read.
    #[error("cannot read {}", path.display())]
    Metadata {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The user's file may be written by others: OpenSSH refuses it too.
    #[error("bad owner or permissions on {0}: it must belong to you and be writable by no one else, or OpenSSH refuses it too (`chmod go-w {0}`)", path.display())]
    Permissions { path: PathBuf },
    /// A line is wrong.
    #[error("{origin}")]
    Line {
        origin: Origin,
        #[source]
        source: LineError,
    },
    /// An option's value cannot be expanded.
    #[error("{origin}: {option} `{text}`")]
    Value {
        origin: Origin,
        option: &'static str,
        text: String,
        #[source]
        source: ExpandError,
    },
    /// A `ProxyCommand` cannot be expanded for the host.
    #[error("ProxyCommand `{command}` of {host}")]
    ProxyCommand {
        command: String,
        host: String,
        #[source]
        source: ExpandError,
    },
    /// `ProxyJump`s that lead back to a host on the way.
    #[error("ProxyJump goes around in a circle: {} (give the jump host `ProxyJump none` in its own Host section)", hosts.join(" -> "))]
    Circle { hosts: Vec<String> },
}

/// What is wrong with one line of a configuration file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum LineError {
    #[error("a quote is not closed")]
    OpenQuote,
    #[error("Host needs at least one pattern")]
    HostWithoutPattern,
    #[error("Match needs a criterion (such as `all`)")]
    MatchWithoutCriterion,
    #[error("Include needs a file")]
    IncludeWithoutFile,
    #[error("Include nests deeper than {MAX_INCLUDE_DEPTH} files (does a file include itself?)")]
    IncludeTooDeep,
    #[error("Include `{pattern}`")]
    Include {
        pattern: String,
        #[source]
        source: ExpandError,
    },
    #[error("{option} needs a value")]
    NoValue { option: String },
    #[error("{option} takes one value, not `{}` (one per line for several)", values.join(" "))]
    SeveralValues { option: String, values: Vec<String> },
    #[error("{option} `{text}` is not a number from 1 to 65535")]
    Port { option: String, text: String },
    #[error("{option} `{text}` is neither yes nor no")]
    YesNo { option: String, text: String },
    #[error("{option} `{text}` is none of yes, accept-new, no, off, ask")]
    StrictHostKeyChecking { option: String, text: String },
    #[error("{option} needs a command (or `none`)")]
    NoCommand { option: String },
    #[error("ProxyJump `{hop}`: the port is not a number from 1 to 65535")]
    JumpPort { hop: String },
    #[error("ProxyJump `{hop}` is not [user@]host[:port] or ssh://[user@]host[:port]")]
    Jump { hop: String },
}

/// Why `~`, `%` tokens or `${VAR}` in a value cannot be expanded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum ExpandError {
    #[error("footloose expands `~` and `~/` only, not `~user`")]
    TildeUser,
    #[error("footloose does not expand %{0} here")]
    Token(char),
    #[error("a `%` ends it (write `%%` for a percent sign)")]
    TrailingPercent,
    #[error("the environment variable {0} is not set")]
    Unset(String),
}

/// Where a setting was read: `file:line`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Origin {
    pub file: PathBuf,
    pub line: usize,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file.display(), self.line)
    }
}

/// Who runs footloose, and where: what `~` and the local tokens stand for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Local {
    /// `HOME`: `~` and `%d`.
    pub home: PathBuf,
    /// The login name: `%u`, and the remote user when nothing names one.
    pub user: String,
    /// `%i`.
    pub uid: u32,
    /// `%l`; `%L` is its first label.
    pub hostname: String,
}

impl Local {
    /// This process's user and host.
    pub fn current() -> Local {
        Local {
            home: PathBuf::from(std::env::var_os("HOME").unwrap_or_default()),
            user: ssh_url::local_user(),
            // SAFETY: getuid has no preconditions and cannot fail.
            uid: unsafe { libc::getuid() },
            hostname: local_hostname(),
        }
    }

    /// `~/.ssh`.
    pub fn ssh_dir(&self) -> PathBuf {
        self.home.join(".ssh")
    }
}

/// The host's name, as `gethostname` says it.
fn local_hostname() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: `buf` is valid for writes of its length.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    if rc != 0 {
        return "localhost".to_owned();
    }
    let end = buf.iter().position(|b| *b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..end]).into_owned()
}

/// The configuration files, in the order OpenSSH reads them.
#[derive(Debug, Clone)]
pub(crate) struct ConfigFiles {
    /// `~/.ssh/config`: checked for its owner and mode, `~` expanded in
    /// its `Include`s.
    pub user: PathBuf,
    /// `/etc/ssh/ssh_config`.
    pub system: PathBuf,
}

impl ConfigFiles {
    /// `~/.ssh/config` and `/etc/ssh/ssh_config`.
    pub fn standard(local: &Local) -> ConfigFiles {
        ConfigFiles {
            user: local.ssh_dir().join("config"),
            system: PathBuf::from(SYSTEM_CONFIG),
        }
    }
}

/// A host to reach and what its caller says about it: the `ssh://` URL,
/// or one hop of a `ProxyJump`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Request {
    /// As written: matched against `Host` patterns.
    pub host: String,
    /// Beats the config's `User`.
    pub user: Option<String>,
    /// Beats the config's `Port`.
    pub port: Option<u16>,
}

impl From<&SshUrl> for Request {
    fn from(url: &SshUrl) -> Request {
        Request {
            host: url.host.clone(),
            user: url.user.clone(),
            port: url.port,
        }
    }
}

/// Where footloose logs in, everything resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Destination {
    /// The host as written (a `Host` alias, or a name or address).
    pub alias: String,
    /// What to connect to (`HostName`, else the alias).
    pub host_name: String,
    pub user: String,
    pub port: u16,
    pub identities: Identities,
    pub agent: Agent,
    pub known_hosts: KnownHostsFiles,
    /// `HostKeyAlias`: the name host keys are looked up by instead.
    pub host_key_alias: Option<String>,
    /// A `StrictHostKeyChecking` that would trust unknown keys, which
    /// footloose does not follow, and where it was read.
    pub relaxed_checking: Option<String>,
    pub proxy: Proxy,
}

impl fmt::Display for Destination {
    /// `USER@ALIAS:PORT`: what OpenSSH's `ProxyJump` takes to reach the
    /// same host through the same configuration.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}:{}", self.user, bracketed(&self.alias), self.port)
    }
}

impl Destination {
    /// The name host keys are looked up by: `HostKeyAlias` as written, else
    /// the host name, as `[name]:port` when the port is not 22.
    pub fn host_key_name(&self) -> String {
        known_hosts::lookup_name(&self.host_name, self.port, self.host_key_alias.as_deref())
    }

    /// One line on how it is reached, for debug logs.
    pub fn describe(&self) -> String {
        let route = match &self.proxy {
            Proxy::Direct => String::new(),
            Proxy::Jump(hop) => format!(" through {}", hop.describe()),
            Proxy::Command(command) => format!(" through `{command}`"),
        };
        format!(
            "{self} (at {}:{}, keys {:?}, known hosts {:?}){route}",
            self.host_name, self.port, self.identities.files, self.known_hosts.files
        )
    }
}

/// The identity files to log in with, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Identities {
    pub files: Vec<PathBuf>,
    /// True when `IdentityFile` named them (else they are the defaults).
    pub configured: bool,
    /// `IdentitiesOnly`: of the agent's keys, only these files'.
    pub only: bool,
}

/// Which ssh agent to ask for keys (`IdentityAgent`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Agent {
    /// `SSH_AUTH_SOCK`'s, if it is set.
    Environment,
    /// The agent at this socket.
    Socket(PathBuf),
    /// No agent (`IdentityAgent none`).
    Off,
}

/// The files the host key is looked up in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct KnownHostsFiles {
    /// The user's files, then the system's, `none` left out.
    pub files: Vec<PathBuf>,
    /// Where a new host key belongs: the first user file that can keep
    /// one (OpenSSH adds keys there); `None` when every user file is
    /// `none` or `/dev/null`.
    pub add_to: Option<PathBuf>,
    /// Where `UserKnownHostsFile` was read, when the config sets it.
    pub set_at: Option<Origin>,
}

/// How the connection to the host is made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Proxy {
    /// Over tcp, straight to `host_name:port`.
    Direct,
    /// Through an ssh connection to this host (`ProxyJump`).
    Jump(Box<Destination>),
    /// Over this command's stdin and stdout (`ProxyCommand`), tokens
    /// expanded.
    Command(String),
}

/// Resolves the host of `url` with the user's and the system's ssh
/// configuration.
pub(crate) fn resolve(url: &SshUrl) -> Result<Destination, SshConfigError> {
    let local = Local::current();
    let files = ConfigFiles::standard(&local);
    resolve_with(&Request::from(url), &files, &local)
}

/// Resolves `request` with the configuration in `files` for `local`.
pub(crate) fn resolve_with(
    request: &Request,
    files: &ConfigFiles,
    local: &Local,
) -> Result<Destination, SshConfigError> {
    resolve_hop(request, None, files, local, &mut Vec::new())
}

/// Resolves one host; `jumps`, when given, replaces its `ProxyJump` (the
/// hops before it, as `ssh -J` passes them on). `chain` holds the hosts
/// that lead here, to stop a `ProxyJump` that goes around in circles.
fn resolve_hop(
    request: &Request,
    jumps: Option<&[Request]>,
    files: &ConfigFiles,
    local: &Local,
    chain: &mut Vec<String>,
) -> Result<Destination, SshConfigError> {
    if chain.len() > MAX_JUMPS {
        chain.push(request.host.clone());
        return Err(SshConfigError::Circle {
            hosts: chain.clone(),
        });
    }
    let settings = read_settings(files, &request.host, local)?;
    let host_name = match &settings.host_name {
        Some(value) => expand(
            &value.text,
            "h",
            &Tokens::before_host_name(local, request),
            false,
        )
        .map_err(|source| value.error("HostName", source))?,
        None => request.host.clone(),
    };
    let user = request
        .user
        .clone()
        .or_else(|| settings.user.as_ref().map(|v| v.text.clone()))
        .unwrap_or_else(|| local.user.clone());
    let port = request
        .port
        .or(settings.port.as_ref().map(|(port, _)| *port))
        .unwrap_or(22);
    let host_key_alias = settings.host_key_alias.as_ref().map(|v| v.text.clone());
    let tokens = Tokens {
        local,
        original: &request.host,
        host_name: &host_name,
        user: &user,
        port,
        key_alias: host_key_alias.as_deref().unwrap_or(&request.host),
    };
    let identities = identities(&settings, &tokens)?;
    let agent = agent(&settings, &tokens)?;
    let known_hosts = known_hosts_files(&settings, &tokens)?;
    let relaxed_checking = settings
        .strict
        .as_ref()
        .filter(|v| matches!(v.text.as_str(), "no" | "off" | "false" | "accept-new"))
        .map(|v| format!("StrictHostKeyChecking {} ({})", v.text, v.origin));
    let setting = match jumps {
        Some(hops) => ProxySetting::Jump(hops.to_vec()),
        None => settings.proxy.map(|(p, _)| p).unwrap_or(ProxySetting::None),
    };
    let proxy = match setting {
        ProxySetting::None => Proxy::Direct,
        ProxySetting::Command(command) => {
            Proxy::Command(expand(&command, "hnpr", &tokens, false).map_err(|source| {
                SshConfigError::ProxyCommand {
                    command: command.clone(),
                    host: request.host.clone(),
                    source,
                }
            })?)
        }
        ProxySetting::Jump(hops) => {
            let (last, before) = hops.split_last().expect("a ProxyJump has a hop");
            chain.push(request.host.clone());
            let hop = resolve_hop(
                last,
                (!before.is_empty()).then_some(before),
                files,
                local,
                chain,
            )?;
            chain.pop();
            Proxy::Jump(Box::new(hop))
        }
    };
    Ok(Destination {
        alias: request.host.clone(),
        host_name,
        user,
        port,
        identities,
        agent,
        known_hosts,
        host_key_alias,
        relaxed_checking,
        proxy,
    })
}

/// The identity files, expanded, or the defaults when none is named.
fn identities(settings: &Settings, tokens: &Tokens) -> Result<Identities, SshConfigError> {
    let configured = !settings.identity_files.is_empty();
    let mut files = Vec::new();
    for value in &settings.identity_files {
        let path = expand_path(&value.text, tokens)
            .map_err(|source| value.error("IdentityFile", source))?;
        if !files.contains(&path) {
            files.push(path);
        }
    }
    if !configured {
        let dir = tokens.local.ssh_dir();
        files = DEFAULT_IDENTITIES
            .iter()
            .map(|name| dir.join(name))
            .collect();
    }
    Ok(Identities {
        files,
        configured,
        only: settings.identities_only.unwrap_or(false),
    })
}

/// The agent `IdentityAgent` names.
fn agent(settings: &Settings, tokens: &Tokens) -> Result<Agent, SshConfigError> {
    let Some(value) = &settings.identity_agent else {
        return Ok(Agent::Environment);
    };
    let text = value.text.as_str();
    if text.eq_ignore_ascii_case("none") {
        return Ok(Agent::Off);
    }
    if text == "SSH_AUTH_SOCK" {
        return Ok(Agent::Environment);
    }
    let path = match text.strip_prefix('$').filter(|name| !name.starts_with('{')) {
        Some(name) => std::env::var_os(name)
            .map(PathBuf::from)
            .ok_or_else(|| value.error("IdentityAgent", ExpandError::Unset(name.to_owned())))?,
        None => expand_path(text, tokens).map_err(|source| value.error("IdentityAgent", source))?,
    };
    Ok(Agent::Socket(path))
}

/// The known-hosts files: the user's (or `~/.ssh/known_hosts` and
/// `known_hosts2`), then the system's; `none` names no file.
fn known_hosts_files(
    settings: &Settings,
    tokens: &Tokens,
) -> Result<KnownHostsFiles, SshConfigError> {
    let ssh = tokens.local.ssh_dir();
    let user = match &settings.user_known_hosts {
        Some(values) => expand_all(values, "UserKnownHostsFile", tokens)?,
        None => vec![ssh.join("known_hosts"), ssh.join("known_hosts2")],
    };
    let global = match &settings.global_known_hosts {
        Some(values) => expand_all(values, "GlobalKnownHostsFile", tokens)?,
        None => GLOBAL_KNOWN_HOSTS.iter().map(PathBuf::from).collect(),
    };
    let add_to = user
        .iter()
        .find(|path| path.as_path() != Path::new("/dev/null"))
        .cloned();
    Ok(KnownHostsFiles {
        files: user.into_iter().chain(global).collect(),
        add_to,
        set_at: settings.user_known_hosts.as_ref().map(|v| v.origin.clone()),
    })
}

/// Each file of a known-hosts option, expanded, `none` left out.
fn expand_all(
    values: &Values,
    option: &'static str,
    tokens: &Tokens,
) -> Result<Vec<PathBuf>, SshConfigError> {
    let mut files = Vec::new();
    for text in &values.list {
        if text.eq_ignore_ascii_case("none") {
            continue;
        }
        files.push(
            expand_path(text, tokens).map_err(|source| SshConfigError::Value {
                origin: values.origin.clone(),
                option,
                text: text.clone(),
                source,
            })?,
        );
    }
    Ok(files)
}

/// A value with where it was read.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Value {
    text: String,
    origin: Origin,
}

impl Value {
    /// The value of `option` cannot be expanded, for `source`.
    fn error(&self, option: &'static str, source: ExpandError) -> SshConfigError {
        SshConfigError::Value {
            origin: self.origin.clone(),
            option,
            text: self.text.clone(),
            source,
        }
    }
}

/// A list of values with where it was read.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Values {
    list: Vec<String>,
    origin: Origin,
}

/// `ProxyJump` or `ProxyCommand`, whichever came first.
#[derive(Debug, Clone, PartialEq, Eq)]
enum ProxySetting {
    /// `none`.
    None,
    Jump(Vec<Request>),
    Command(String),
}

/// The options read for one host: the first value of each, as written.
#[derive(Debug, Default)]
struct Settings {
    host_name: Option<Value>,
    user: Option<Value>,
    port: Option<(u16, Origin)>,
    identity_files: Vec<Value>,
    identities_only: Option<bool>,
    identity_agent: Option<Value>,
    user_known_hosts: Option<Values>,
    global_known_hosts: Option<Values>,
    host_key_alias: Option<Value>,
    strict: Option<Value>,
    proxy: Option<(ProxySetting, Origin)>,
}

/// One honoured option of a line, its value checked.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Opt {
    HostName(String),
    User(String),
    Port(u16),
    IdentityFile(String),
    IdentitiesOnly(bool),
    IdentityAgent(String),
    UserKnownHostsFile(Vec<String>),
    GlobalKnownHostsFile(Vec<String>),
    HostKeyAlias(String),
    StrictHostKeyChecking(String),
    Proxy(ProxySetting),
}

impl Settings {
    /// Keeps `option` unless an earlier line set it; identity files add up.
    fn take(&mut self, option: Opt, origin: &Origin) {
        let value = |text: String| {
            Some(Value {
                text,
                origin: origin.clone(),
            })
        };
        let values = |list: Vec<String>| {
            Some(Values {
                list,
                origin: origin.clone(),
            })
        };
        match option {
            Opt::HostName(text) if self.host_name.is_none() => self.host_name = value(text),
            Opt::User(text) if self.user.is_none() => self.user = value(text),
            Opt::Port(port) if self.port.is_none() => self.port = Some((port, origin.clone())),
            Opt::IdentityFile(text) => self.identity_files.extend(value(text)),
            Opt::IdentitiesOnly(only) if self.identities_only.is_none() => {
                self.identities_only = Some(only)
            }
            Opt::IdentityAgent(text) if self.identity_agent.is_none() => {
                self.identity_agent = value(text)
            }
            Opt::UserKnownHostsFile(list) if self.user_known_hosts.is_none() => {
                self.user_known_hosts = values(list)
            }
            Opt::GlobalKnownHostsFile(list) if self.global_known_hosts.is_none() => {
                self.global_known_hosts = values(list)
            }
            Opt::HostKeyAlias(text) if self.host_key_alias.is_none() => {
                self.host_key_alias = value(text)
            }
            Opt::StrictHostKeyChecking(text) if self.strict.is_none() => self.strict = value(text),
            Opt::Proxy(proxy) if self.proxy.is_none() => self.proxy = Some((proxy, origin.clone())),
            _ => {}
        }
    }
}

/// Reads the user's, then the system's configuration for `host`.
fn read_settings(
    files: &ConfigFiles,
    host: &str,
    local: &Local,
) -> Result<Settings, SshConfigError> {
    let mut reader = Reader {
        host,
        local,
        settings: Settings::default(),
    };
    reader.read_file(&files.user, Kind::User, 0, Block::Applies)?;
    reader.read_file(&files.system, Kind::System, 0, Block::Applies)?;
    Ok(reader.settings)
}

/// Whose file a line is in: `~` and relative `Include`s differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    User,
    System,
}

/// Whether the lines of the current section apply to the host.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Block {
    Applies,
    /// A `Host` that does not match, or anything in a file included
    /// under one.
    Other,
    /// A `Match` footloose does not evaluate, with where it is.
    Unsupported(Origin, String),
}

/// Reads configuration files for one host.
struct Reader<'a> {
    host: &'a str,
    local: &'a Local,
    settings: Settings,
}

impl Reader<'_> {
    /// Reads `path` (nothing when it does not exist), starting in `block`;
    /// a file included where nothing applies never applies.
    fn read_file(
        &mut self,
        path: &Path,
        kind: Kind,
        depth: usize,
        start: Block,
    ) -> Result<(), SshConfigError> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(source) => {
                return Err(SshConfigError::Read {
                    path: path.to_owned(),
                    source,
                })
            }
        };
        if kind == Kind::User {
            check_owner_and_mode(path, self.local.uid)?;
        }
        let never = start != Block::Applies;
        let mut block = start;
        for (index, line) in text.lines().enumerate() {
            let origin = Origin {
                file: path.to_owned(),
                line: index + 1,
            };
            let line = match split_line(line) {
                Ok(Some(line)) => line,
                Ok(None) => continue,
                Err(source) => return Err(SshConfigError::Line { origin, source }),
            };
            self.line(&line, &origin, &mut block, never, kind, depth)?;
        }
        Ok(())
    }

    /// One line: a section, an include or an option.
    fn line(
        &mut self,
        line: &Line,
        origin: &Origin,
        block: &mut Block,
        never: bool,
        kind: Kind,
        depth: usize,
    ) -> Result<(), SshConfigError> {
        let wrong = |source: LineError| SshConfigError::Line {
            origin: origin.clone(),
            source,
        };
        match line.keyword.to_ascii_lowercase().as_str() {
            "host" => {
                if line.args.is_empty() {
                    return Err(wrong(LineError::HostWithoutPattern));
                }
                *block = if !never && host_matches(&line.args, self.host) {
                    tracing::debug!(
                        "{origin}: Host {} applies to {}",
                        line.args.join(" "),
                        self.host
                    );
                    Block::Applies
                } else {
                    Block::Other
                };
            }
            "match" => *block = match_block(&line.args, origin, never).map_err(wrong)?,
            "include" => self.include(&line.args, origin, block, kind, depth)?,
            keyword => {
                let Some(option) = parse_option(keyword, line).map_err(wrong)? else {
                    return Ok(());
                };
                match block {
                    Block::Applies => self.settings.take(option, origin),
                    Block::Other => {}
                    Block::Unsupported(at, criteria) => tracing::warn!(
                        "{origin}: {} is under `Match {criteria}` ({at}), which footloose does not evaluate: it is left out",
                        line.keyword
                    ),
                }
            }
        }
        Ok(())
    }

    /// `Include`: each file its patterns name, in order, read in `block`.
    fn include(
        &mut self,
        patterns: &[String],
        origin: &Origin,
        block: &Block,
        kind: Kind,
        depth: usize,
    ) -> Result<(), SshConfigError> {
        let wrong = |source: LineError| SshConfigError::Line {
            origin: origin.clone(),
            source,
        };
        if patterns.is_empty() {
            return Err(wrong(LineError::IncludeWithoutFile));
        }
        if depth + 1 >= MAX_INCLUDE_DEPTH {
            return Err(wrong(LineError::IncludeTooDeep));
        }
        for pattern in patterns {
            let path = match kind {
                Kind::User => expand_tilde(pattern, &self.local.home).map_err(|source| {
                    wrong(LineError::Include {
                        pattern: pattern.clone(),
                        source,
                    })
                })?,
                Kind::System => PathBuf::from(pattern),
            };
            let path = if path.is_relative() {
                match kind {
                    Kind::User => self.local.ssh_dir().join(path),
                    Kind::System => Path::new("/etc/ssh").join(path),
                }
            } else {
                path
            };
            for file in glob(&path) {
                if !file.is_dir() {
                    self.read_file(&file, kind, depth + 1, block.clone())?;
                }
            }
        }
        Ok(())
    }
}

/// The section a `Match` line opens: `Match all` applies; other criteria
/// are not evaluated.
fn match_block(args: &[String], origin: &Origin, never: bool) -> Result<Block, LineError> {
    if args.is_empty() {
        return Err(LineError::MatchWithoutCriterion);
    }
    if never {
        return Ok(Block::Other);
    }
    if args.len() == 1 && args[0].eq_ignore_ascii_case("all") {
        return Ok(Block::Applies);
    }
    let criteria = args.join(" ");
    tracing::debug!(
        "{origin}: footloose does not evaluate `Match {criteria}`; its options are left out"
    );
    Ok(Block::Unsupported(origin.clone(), criteria))
}

/// The option of a line, its value checked; `None` for options footloose
/// does not read.
fn parse_option(keyword: &str, line: &Line) -> Result<Option<Opt>, LineError> {
    if !HONOURED.contains(&keyword) {
        tracing::trace!("ssh option {} is not read by footloose", line.keyword);
        return Ok(None);
    }
    let name = line.keyword.as_str();
    let option = match keyword {
        "hostname" => Opt::HostName(one(name, &line.args)?),
        "user" => Opt::User(one(name, &line.args)?),
        "port" => {
            let text = one(name, &line.args)?;
            Opt::Port(
                text.parse::<u16>()
                    .ok()
                    .filter(|p| *p != 0)
                    .ok_or_else(|| LineError::Port {
                        option: name.to_owned(),
                        text: text.clone(),
                    })?,
            )
        }
        "identityfile" => Opt::IdentityFile(one(name, &line.args)?),
        "identitiesonly" => Opt::IdentitiesOnly(yes_no(name, &one(name, &line.args)?)?),
        "identityagent" => Opt::IdentityAgent(one(name, &line.args)?),
        "userknownhostsfile" => Opt::UserKnownHostsFile(some(name, &line.args)?),
        "globalknownhostsfile" => Opt::GlobalKnownHostsFile(some(name, &line.args)?),
        "hostkeyalias" => Opt::HostKeyAlias(one(name, &line.args)?),
        "stricthostkeychecking" => {
            let text = one(name, &line.args)?.to_ascii_lowercase();
            let known = ["yes", "no", "ask", "accept-new", "off", "true", "false"];
            if !known.contains(&text.as_str()) {
                return Err(LineError::StrictHostKeyChecking {
                    option: name.to_owned(),
                    text,
                });
            }
            Opt::StrictHostKeyChecking(text)
        }
        "proxyjump" => {
            let text = one(name, &line.args)?;
            Opt::Proxy(if text.eq_ignore_ascii_case("none") {
                ProxySetting::None
            } else {
                ProxySetting::Jump(parse_jumps(&text)?)
            })
        }
        "proxycommand" => {
            if line.rest.is_empty() {
                return Err(LineError::NoCommand {
                    option: name.to_owned(),
                });
            }
            Opt::Proxy(if line.rest.eq_ignore_ascii_case("none") {
                ProxySetting::None
            } else {
                ProxySetting::Command(line.rest.clone())
            })
        }
        _ => return Ok(None),
    };
    Ok(Some(option))
}

/// The one value of an option.
fn one(name: &str, args: &[String]) -> Result<String, LineError> {
    match args {
        [value] => Ok(value.clone()),
        [] => Err(LineError::NoValue {
            option: name.to_owned(),
        }),
        _ => Err(LineError::SeveralValues {
            option: name.to_owned(),
            values: args.to_vec(),
        }),
    }
}

/// The values of an option that takes one or more.
fn some(name: &str, args: &[String]) -> Result<Vec<String>, LineError> {
    if args.is_empty() {
        return Err(LineError::NoValue {
            option: name.to_owned(),
        });
    }
    Ok(args.to_vec())
}

/// `yes` or `no`.
fn yes_no(name: &str, text: &str) -> Result<bool, LineError> {
    match text.to_ascii_lowercase().as_str() {
        "yes" | "true" => Ok(true),
        "no" | "false" => Ok(false),
        _ => Err(LineError::YesNo {
            option: name.to_owned(),
            text: text.to_owned(),
        }),
    }
}

/// The hops of a `ProxyJump`: `[user@]host[:port]` or
/// `ssh://[user@]host[:port]`, separated by commas, the first hop first.
fn parse_jumps(text: &str) -> Result<Vec<Request>, LineError> {
    text.split(',').map(parse_jump).collect()
}

/// One hop of a `ProxyJump`.
fn parse_jump(hop: &str) -> Result<Request, LineError> {
    let bare = hop.strip_prefix("ssh://").unwrap_or(hop);
    let bare = bare.strip_suffix('/').unwrap_or(bare);
    let (user, hostport) = match bare.rsplit_once('@') {
        Some((user, rest)) => (Some(user.to_owned()), rest),
        None => (None, bare),
    };
    let (host, port) = ssh_url::split_port(hostport).ok_or_else(|| LineError::JumpPort {
        hop: hop.to_owned(),
    })?;
    if host.is_empty() || user.as_deref() == Some("") || host.contains('/') {
        return Err(LineError::Jump {
            hop: hop.to_owned(),
        });
    }
    Ok(Request {
        host: host.to_owned(),
        user,
        port,
    })
}

/// Whether a `Host` line's patterns take in `host`.
fn host_matches(patterns: &[String], host: &str) -> bool {
    pattern::list_matches(patterns.iter().map(String::as_str), host)
}

/// The paths `pattern` names: `*` and `?` in any component, each level
/// sorted; names starting with `.` only when the pattern's does.
fn glob(pattern: &Path) -> Vec<PathBuf> {
    let mut found = vec![PathBuf::new()];
    for component in pattern.components() {
        let part = component.as_os_str().to_string_lossy();
        if !part.contains(['*', '?']) {
            for path in &mut found {
                path.push(component);
            }
            continue;
        }
        let mut next = Vec::new();
        for dir in &found {
            let Ok(entries) = std::fs::read_dir(dir) else {
                continue;
            };
            let mut names: Vec<String> = entries
                .filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|name| !name.starts_with('.') || part.starts_with('.'))
                .filter(|name| pattern::wildcard(&part, name))
                .collect();
            names.sort();
            next.extend(names.into_iter().map(|name| dir.join(name)));
        }
        found = next;
    }
    found.into_iter().filter(|path| path.exists()).collect()
}

/// The user's configuration must be theirs (or root's) and writable by no
/// one else, or OpenSSH refuses it; so does footloose.
fn check_owner_and_mode(path: &Path, uid: u32) -> Result<(), SshConfigError> {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(path).map_err(|source| SshConfigError::Metadata {
        path: path.to_owned(),
        source,
    })?;
    if (meta.uid() != 0 && meta.uid() != uid) || meta.mode() & 0o022 != 0 {
        return Err(SshConfigError::Permissions {
            path: path.to_owned(),
        });
    }
    Ok(())
}

/// A configuration line split into words.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Line {
    keyword: String,
    /// The words after the keyword, quotes and escapes resolved, a
    /// trailing `# comment` left out.
    args: Vec<String>,
    /// Everything after the keyword as written (`ProxyCommand` takes it).
    rest: String,
}

/// Splits a line as OpenSSH does: `Keyword value`, `Keyword=value` or
/// `Keyword = value`; `None` for blank lines and comments.
fn split_line(text: &str) -> Result<Option<Line>, LineError> {
    let text = text.trim();
    if text.is_empty() || text.starts_with('#') {
        return Ok(None);
    }
    let end = text
        .find(|c: char| c.is_whitespace() || c == '=')
        .unwrap_or(text.len());
    let keyword = text[..end].to_owned();
    let mut rest = text[end..].trim_start();
    if let Some(after) = rest.strip_prefix('=') {
        rest = after.trim_start();
    }
    Ok(Some(Line {
        keyword,
        args: split_words(rest)?,
        rest: rest.to_owned(),
    }))
}

/// The words of `text`: `"…"` and `'…'` quote (also inside a word), `\`
/// escapes a quote, a backslash or (unquoted) a space, and a word that
/// starts with `#` begins a comment.
fn split_words(text: &str) -> Result<Vec<String>, LineError> {
    let mut words = Vec::new();
    let mut chars = text.chars().peekable();
    loop {
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        match chars.peek() {
            None | Some('#') => return Ok(words),
            Some(_) => {}
        }
        let mut word = String::new();
        let mut quote: Option<char> = None;
        while let Some(c) = chars.next() {
            match (c, quote) {
                (c, None) if c.is_whitespace() => break,
                ('\\', _) => match chars.peek().copied() {
                    Some(next @ ('\'' | '"' | '\\')) => {
                        word.push(next);
                        chars.next();
                    }
                    Some(' ') if quote.is_none() => {
                        word.push(' ');
                        chars.next();
                    }
                    _ => word.push('\\'),
                },
                ('"' | '\'', None) => quote = Some(c),
                (c, Some(q)) if c == q => quote = None,
                (c, _) => word.push(c),
            }
        }
        if quote.is_some() {
            return Err(LineError::OpenQuote);
        }
        words.push(word);
    }
}

/// What the `%` tokens stand for in one host's options.
struct Tokens<'a> {
    local: &'a Local,
    /// `%n`: the host as written.
    original: &'a str,
    /// `%h`: the host name connected to.
    host_name: &'a str,
    /// `%r`.
    user: &'a str,
    /// `%p`.
    port: u16,
    /// `%k`: `HostKeyAlias`, else the host as written.
    key_alias: &'a str,
}

impl<'a> Tokens<'a> {
    /// For `HostName` itself, where `%h` is still the host as written
    /// (and only `%h` is allowed).
    fn before_host_name(local: &'a Local, request: &'a Request) -> Tokens<'a> {
        Tokens {
            local,
            original: &request.host,
            host_name: &request.host,
            user: "",
            port: 0,
            key_alias: &request.host,
        }
    }

    /// The value of `%token`, when it is one of `allowed`.
    fn value(&self, token: char, allowed: &str) -> Option<String> {
        if !allowed.contains(token) {
            return None;
        }
        Some(match token {
            'd' => self.local.home.display().to_string(),
            'h' => self.host_name.to_owned(),
            'i' => self.local.uid.to_string(),
            'k' => self.key_alias.to_owned(),
            'l' => self.local.hostname.clone(),
            'L' => self
                .local
                .hostname
                .split('.')
                .next()
                .unwrap_or_default()
                .to_owned(),
            'n' => self.original.to_owned(),
            'p' => self.port.to_string(),
            'r' => self.user.to_owned(),
            'u' => self.local.user.clone(),
            _ => return None,
        })
    }
}

/// The tokens of paths (`IdentityFile`, `UserKnownHostsFile`, …).
const PATH_TOKENS: &str = "dhiklLnpru";

/// A path option's value: `~` first, then `${VAR}` and `%` tokens.
fn expand_path(text: &str, tokens: &Tokens) -> Result<PathBuf, ExpandError> {
    let tilde = expand_tilde(text, &tokens.local.home)?;
    Ok(PathBuf::from(expand(
        &tilde.to_string_lossy(),
        PATH_TOKENS,
        tokens,
        true,
    )?))
}

/// `~` and `~/…` as `home`; `~user` is refused.
fn expand_tilde(text: &str, home: &Path) -> Result<PathBuf, ExpandError> {
    match text.strip_prefix('~') {
        None => Ok(PathBuf::from(text)),
        Some("") => Ok(home.to_owned()),
        Some(rest) if rest.starts_with('/') => Ok(home.join(rest.trim_start_matches('/'))),
        Some(_) => Err(ExpandError::TildeUser),
    }
}

/// `text` with `%%` and the `allowed` `%` tokens replaced, and with
/// `env`, `${VAR}` too; another token is an error.
fn expand(text: &str, allowed: &str, tokens: &Tokens, env: bool) -> Result<String, ExpandError> {
    let mut out = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '%' => match chars.next() {
                Some('%') => out.push('%'),
                Some(token) => out.push_str(
                    &tokens
                        .value(token, allowed)
                        .ok_or(ExpandError::Token(token))?,
                ),
                None => return Err(ExpandError::TrailingPercent),
            },
            '$' if env && chars.peek() == Some(&'{') => {
                chars.next();
                let name: String = chars.by_ref().take_while(|c| *c != '}').collect();
                let value = std::env::var(&name).map_err(|_| ExpandError::Unset(name.clone()))?;
                out.push_str(&value);
            }
            c => out.push(c),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A home whose `~/.ssh/config` is `user`; no system configuration.
    struct Setup {
        _dir: tempfile::TempDir,
        local: Local,
        files: ConfigFiles,
    }

    fn home_with(user: &str) -> Setup {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().join("home");
        std::fs::create_dir_all(home.join(".ssh")).unwrap();
        std::fs::write(home.join(".ssh/config"), user).unwrap();
        let local = Local {
            home: home.clone(),
            user: "me".to_owned(),
            uid: unsafe { libc::getuid() },
            hostname: "laptop.example.org".to_owned(),
        };
        let files = ConfigFiles {
            user: home.join(".ssh/config"),
            system: dir.path().join("ssh_config"),
        };
        Setup {
            _dir: dir,
            local,
            files,
        }
    }

    impl Setup {
        fn home(&self) -> &Path {
            &self.local.home
        }

        /// The destination, or the error's whole message.
        fn resolve(&self, url: &str) -> Result<Destination, String> {
            let url = SshUrl::parse(url).unwrap();
            resolve_with(&Request::from(&url), &self.files, &self.local)
                .map_err(|e| crate::error::chain(&e))
        }
    }

    fn resolve(config: &str, url: &str) -> Destination {
        home_with(config).resolve(url).unwrap()
    }

    #[test]
    fn a_host_alias_names_the_host_user_and_port() {
        let dest = resolve(
            "Host fl-engine\n  HostName 10.250.3.2\n  User ops\n  Port 2222\n",
            "ssh://fl-engine",
        );
        assert_eq!(
            (
                dest.alias.as_str(),
                dest.host_name.as_str(),
                dest.user.as_str(),
                dest.port
            ),
            ("fl-engine", "10.250.3.2", "ops", 2222)
        );
        assert_eq!(dest.to_string(), "ops@fl-engine:2222");
        assert_eq!(dest.host_key_name(), "[10.250.3.2]:2222");
        assert_eq!(dest.proxy, Proxy::Direct);
    }

    #[test]
    fn without_a_config_the_url_and_openssh_defaults_hold() {
        let dest = resolve("", "ssh://10.0.0.5");
        assert_eq!(
            (dest.host_name.as_str(), dest.user.as_str(), dest.port),
            ("10.0.0.5", "me", 22)
        );
        assert_eq!(dest.host_key_name(), "10.0.0.5");
    }

    #[test]
    fn the_urls_user_and_port_beat_the_configs() {
        let config = "Host engine\n  User ops\n  Port 2222\n";
        let dest = resolve(config, "ssh://root@engine:2200");
        assert_eq!((dest.user.as_str(), dest.port), ("root", 2200));
        let dest = resolve(config, "ssh://root@engine");
        assert_eq!((dest.user.as_str(), dest.port), ("root", 2222));
    }

    #[test]
    fn patterns_wildcards_and_several_per_line_select_sections() {
        let config = "Host web-? db*.example.com\n  User matched\nHost *\n  User fallback\n";
        assert_eq!(resolve(config, "ssh://web-1").user, "matched");
        assert_eq!(resolve(config, "ssh://db7.example.com").user, "matched");
        assert_eq!(resolve(config, "ssh://web-12").user, "fallback");
        // `Host` matching is case-sensitive, as OpenSSH's is.
        assert_eq!(resolve(config, "ssh://WEB-1").user, "fallback");
    }

    #[test]
    fn a_negated_pattern_keeps_a_host_out_of_the_section() {
        let config = "Host *.corp !bastion.corp\n  ProxyJump bastion.corp\n  User staff\n";
        let inner = resolve(config, "ssh://db.corp");
        assert_eq!(inner.user, "staff");
        let Proxy::Jump(hop) = &inner.proxy else {
            panic!("no jump: {inner:?}");
        };
        assert_eq!(hop.alias, "bastion.corp");
        // The jump host itself is kept out, so there is no circle.
        assert_eq!(hop.proxy, Proxy::Direct);
        assert_eq!(hop.user, "me");
        // A line of negations only matches nothing.
        assert_eq!(resolve("Host !x\n  User no\n", "ssh://y").user, "me");
    }

    #[test]
    fn the_first_value_obtained_wins_also_within_a_section() {
        let config = "Port 1000\nHost engine\n  User first\n  User second\n  Port 2000\nHost *\n  User last\n";
        let dest = resolve(config, "ssh://engine");
        assert_eq!((dest.user.as_str(), dest.port), ("first", 1000));
    }

    #[test]
    fn equals_signs_quotes_and_comments_are_read_as_openssh_reads_them() {
        let config = "Host=engine # the engine\n  User = ops\n  IdentityFile \"~/my keys/engine\" # quoted\n  HostName='10.0.0.9'\n";
        let setup = home_with(config);
        let dest = setup.resolve("ssh://engine").unwrap();
        assert_eq!(
            (dest.user.as_str(), dest.host_name.as_str()),
            ("ops", "10.0.0.9")
        );
        assert_eq!(
            dest.identities.files,
            vec![setup.home().join("my keys/engine")]
        );
        assert_eq!(
            split_words(r"a\ b 'c d' e\'f #x").unwrap(),
            vec!["a b", "c d", "e'f"]
        );
        assert_eq!(split_words("\"open"), Err(LineError::OpenQuote));
    }

    #[test]
    fn tokens_tilde_and_environment_variables_are_expanded() {
        std::env::set_var("FOOTLOOSE_TEST_KEYS", "/keys");
        let config = "Host fl-*\n  HostName %h.internal\n  User ops\n  Port 2222\n  IdentityFile ~/.ssh/%r@%h-%p\n  IdentityFile %d/%u/%n/%L/%l\n  IdentityFile ${FOOTLOOSE_TEST_KEYS}/%%k-%k\n";
        let setup = home_with(config);
        let dest = setup.resolve("ssh://fl-engine").unwrap();
        assert_eq!(dest.host_name, "fl-engine.internal");
        let home = setup.home().display().to_string();
        assert_eq!(
            dest.identities.files,
            vec![
                PathBuf::from(format!("{home}/.ssh/ops@fl-engine.internal-2222")),
                PathBuf::from(format!("{home}/me/fl-engine/laptop/laptop.example.org")),
                PathBuf::from("/keys/%k-fl-engine"),
            ]
        );
        let bad = home_with("Host *\n  IdentityFile ~/%C\n")
            .resolve("ssh://x")
            .unwrap_err();
        assert!(bad.contains("config:2") && bad.contains("%C"), "{bad}");
        let unset = home_with("IdentityFile ${FOOTLOOSE_TEST_UNSET}/k\n")
            .resolve("ssh://x")
            .unwrap_err();
        assert!(unset.contains("FOOTLOOSE_TEST_UNSET is not set"), "{unset}");
    }

    #[test]
    fn identity_files_add_up_and_replace_the_defaults() {
        let config = "Host engine\n  IdentityFile ~/.ssh/engine\n  IdentitiesOnly yes\nHost *\n  IdentityFile ~/.ssh/all\n  IdentityFile ~/.ssh/engine\n";
        let setup = home_with(config);
        let dest = setup.resolve("ssh://engine").unwrap();
        let ssh = setup.home().join(".ssh");
        assert_eq!(
            dest.identities.files,
            vec![ssh.join("engine"), ssh.join("all")]
        );
        assert!(dest.identities.configured && dest.identities.only);
        let other = setup.resolve("ssh://other").unwrap();
        assert_eq!(
            other.identities.files,
            vec![ssh.join("all"), ssh.join("engine")]
        );
        assert!(!other.identities.only);
        let plain = resolve("", "ssh://other");
        assert!(!plain.identities.configured);
        assert_eq!(plain.identities.files.len(), 3);
        assert!(plain.identities.files[0].ends_with(".ssh/id_ed25519"));
    }

    #[test]
    fn known_hosts_files_are_a_list_with_none_left_out() {
        let config = "Host engine\n  UserKnownHostsFile ~/.ssh/engine_hosts /dev/null none /etc/%h_hosts\n  GlobalKnownHostsFile none\n  HostKeyAlias engine-key\nHost *\n  UserKnownHostsFile ~/ignored\n";
        let setup = home_with(config);
        let dest = setup.resolve("ssh://engine").unwrap();
        let ssh = setup.home().join(".ssh");
        assert_eq!(
            dest.known_hosts.files,
            vec![
                ssh.join("engine_hosts"),
                PathBuf::from("/dev/null"),
                PathBuf::from("/etc/engine_hosts"),
            ]
        );
        assert_eq!(dest.known_hosts.add_to, Some(ssh.join("engine_hosts")));
        assert!(dest
            .known_hosts
            .set_at
            .as_ref()
            .unwrap()
            .to_string()
            .ends_with("config:2"));
        assert_eq!(dest.host_key_name(), "engine-key");
        // The defaults: the user's two files, then the system's.
        let plain = setup.resolve("ssh://root@10.0.0.5:2200").unwrap();
        assert_eq!(plain.known_hosts.files.len(), 3);
        assert_eq!(plain.known_hosts.files[0], setup.home().join("ignored"));
        let none = resolve("UserKnownHostsFile /dev/null\n", "ssh://x");
        assert_eq!(none.known_hosts.add_to, None);
        assert_eq!(
            none.known_hosts.files[1..],
            [
                PathBuf::from("/etc/ssh/ssh_known_hosts"),
                PathBuf::from("/etc/ssh/ssh_known_hosts2")
            ]
        );
    }

    #[test]
    fn relaxed_host_key_checking_is_noted_never_followed() {
        let dest = resolve("StrictHostKeyChecking accept-new\n", "ssh://x");
        assert!(dest
            .relaxed_checking
            .unwrap()
            .starts_with("StrictHostKeyChecking accept-new ("));
        assert_eq!(
            resolve("StrictHostKeyChecking yes\n", "ssh://x").relaxed_checking,
            None
        );
        let bad = home_with("StrictHostKeyChecking maybe\n")
            .resolve("ssh://x")
            .unwrap_err();
        assert!(
            bad.contains("config:1: StrictHostKeyChecking `maybe`"),
            "{bad}"
        );
    }

    #[test]
    fn proxy_jump_hops_are_parsed_and_resolved_with_their_own_sections() {
        assert_eq!(
            parse_jumps("ops@gw:2200,ssh://root@[fd00::1]:22/,inner").unwrap(),
            vec![
                Request {
                    host: "gw".into(),
                    user: Some("ops".into()),
                    port: Some(2200)
                },
                Request {
                    host: "fd00::1".into(),
                    user: Some("root".into()),
                    port: Some(22)
                },
                Request {
                    host: "inner".into(),
                    user: None,
                    port: None
                },
            ]
        );
        assert!(parse_jumps("gw:port")
            .unwrap_err()
            .to_string()
            .contains("port"));
        assert!(parse_jumps("gw,,x").is_err());
        let config = "Host target\n  ProxyJump first,ops@second:2200\nHost second\n  HostName 10.0.0.2\n  ProxyJump ignored\nHost first\n  User jumper\n  IdentityFile ~/.ssh/jump\n";
        let dest = resolve(config, "ssh://target");
        // The last hop is the nearest; the hops before it replace its own
        // ProxyJump, as `ssh -J` passes them on.
        let Proxy::Jump(second) = &dest.proxy else {
            panic!("{dest:?}")
        };
        assert_eq!(second.to_string(), "ops@second:2200");
        assert_eq!(second.host_name, "10.0.0.2");
        let Proxy::Jump(first) = &second.proxy else {
            panic!("{second:?}")
        };
        assert_eq!(first.to_string(), "jumper@first:22");
        assert!(first.identities.files[0].ends_with(".ssh/jump"));
        assert_eq!(first.proxy, Proxy::Direct);
    }

    #[test]
    fn proxy_jump_none_and_the_first_of_jump_or_command_win() {
        let config = "Host bastion\n  ProxyJump none\nHost *\n  ProxyJump bastion\n";
        assert_eq!(resolve(config, "ssh://bastion").proxy, Proxy::Direct);
        assert!(matches!(resolve(config, "ssh://db").proxy, Proxy::Jump(_)));
        let config =
            "Host db\n  ProxyCommand nc -X 5 %h %p # not a comment\nHost *\n  ProxyJump bastion\n";
        assert_eq!(
            resolve(config, "ssh://ops@db").proxy,
            Proxy::Command("nc -X 5 db 22 # not a comment".into())
        );
        let circle = home_with("Host *\n  ProxyJump bastion\n")
            .resolve("ssh://db")
            .unwrap_err();
        assert!(
            circle.contains("circle") && circle.contains("ProxyJump none"),
            "{circle}"
        );
    }

    #[test]
    fn include_reads_files_in_place_and_only_where_it_applies() {
        let setup = home_with("Host engine\n  Include conf.d/*.conf\n  User after\nHost other\n  Include conf.d/*.conf\n");
        let dir = setup.home().join(".ssh/conf.d");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("b.conf"), "Port 2000\n").unwrap();
        std::fs::write(
            dir.join("a.conf"),
            "Host eng*\n  Port 1000\nHost none\n  HostName x\n",
        )
        .unwrap();
        std::fs::write(dir.join(".hidden.conf"), "Port 3\n").unwrap();
        let dest = setup.resolve("ssh://engine").unwrap();
        // a.conf before b.conf; the including section goes on after it.
        assert_eq!(
            (dest.port, dest.user.as_str(), dest.host_name.as_str()),
            (1000, "after", "engine")
        );
        // Under a section that does not apply, an included Host never does.
        let dest = setup.resolve("ssh://engine2").unwrap();
        assert_eq!(dest.port, 22);
    }

    #[test]
    fn match_all_applies_and_other_matches_are_left_out() {
        let config =
            "Match host engine\n  User skipped\nMatch all\n  Port 2200\nHost engine\n  User kept\n";
        let dest = resolve(config, "ssh://engine");
        assert_eq!((dest.user.as_str(), dest.port), ("kept", 2200));
    }

    #[test]
    fn a_bad_value_names_the_file_line_and_option() {
        let error = home_with("Host engine\n  Port twenty\n")
            .resolve("ssh://other")
            .unwrap_err();
        assert!(
            error.ends_with(".ssh/config:2: Port `twenty` is not a number from 1 to 65535"),
            "{error}"
        );
        let error = home_with("IdentityFile a b\n")
            .resolve("ssh://x")
            .unwrap_err();
        assert!(
            error.contains("config:1: IdentityFile takes one value"),
            "{error}"
        );
        let error = home_with("Host\n").resolve("ssh://x").unwrap_err();
        assert!(error.contains("config:1: Host needs"), "{error}");
    }

    #[test]
    fn a_config_others_may_write_is_refused_as_openssh_refuses_it() {
        use std::os::unix::fs::PermissionsExt;
        let setup = home_with("User ops\n");
        std::fs::set_permissions(&setup.files.user, std::fs::Permissions::from_mode(0o666))
            .unwrap();
        let error = setup.resolve("ssh://x").unwrap_err();
        assert!(error.contains("bad owner or permissions"), "{error}");
    }

    #[test]
    fn identity_agent_none_a_variable_or_a_socket() {
        assert_eq!(resolve("", "ssh://x").agent, Agent::Environment);
        assert_eq!(resolve("IdentityAgent none\n", "ssh://x").agent, Agent::Off);
        std::env::set_var("FOOTLOOSE_TEST_AGENT", "/run/agent.sock");
        assert_eq!(
            resolve("IdentityAgent $FOOTLOOSE_TEST_AGENT\n", "ssh://x").agent,
            Agent::Socket("/run/agent.sock".into())
        );
        let setup = home_with("IdentityAgent ~/agent-%h\n");
        assert_eq!(
            setup.resolve("ssh://x").unwrap().agent,
            Agent::Socket(setup.home().join("agent-x"))
        );
    }
}
