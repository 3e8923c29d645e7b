//! The seccomp profile footloose sends to Docker for a machine whose plan
//! says [`allow_user_namespaces`](crate::container_spec::ContainerPlan::allow_user_namespaces):
//! the rules of Docker's default profile, plus the system calls that
//! create and fill namespaces, unconditionally.
//!
//! Why: Docker's default allows `unshare`, `setns`, `mount` and `clone`
//! with namespace flags only to a container holding `CAP_SYS_ADMIN`, so
//! systemd in a machine cannot give a unit `PrivateUsers=true` (it fails
//! with `217/USER`), nor, inside such a user namespace, the mount, network
//! and UTS namespaces of `PrivateTmp=`, `ProtectSystem=`,
//! `PrivateNetwork=`, `ProtectHostname=` …. Allowing the calls grants no
//! privilege: the kernel checks each against the caller's capabilities in
//! the user namespace that owns its target, so without `CAP_SYS_ADMIN` a
//! machine's root may do with them what an unprivileged user of the host
//! may, inside user namespaces it made itself. What is given up is the
//! defence in depth: the kernel code that user namespaces expose becomes
//! reachable from the machine (a reason some distributions restrict them,
//! see the README).
//!
//! Everything else follows Docker's default: an allow list (anything
//! unlisted fails with `EPERM`), the keyring, `kexec`, swap, `userfaultfd`,
//! `bpf`, `perf_event_open` and obsolete calls refused, the calls that
//! need a capability allowed only to a container given it (Docker
//! evaluates `includes.caps` against the container's capabilities, so
//! `capAdd` keeps its meaning), `personality` limited to the harmless
//! personas and `socket` refusing `AF_VSOCK`. Names a kernel or libseccomp
//! does not know are skipped by runc, so one list serves every
//! architecture and engine version.
//!
//! Podman needs none of this: its default profile (containers-common's)
//! allows these calls already (see
//! [`Capabilities::user_namespaces_by_default`](crate::host::Capabilities::user_namespaces_by_default)).
//! That matters, as Podman 4's Docker API reads `seccomp=` as a path on
//! the engine's host, not as the profile itself.

use std::sync::OnceLock;

use serde_json::{json, Value};

/// The security option carrying the profile: `seccomp=<JSON>`, the form
/// Docker's API takes (the `docker` CLI reads a profile file and sends
/// this).
pub(super) fn security_opt() -> &'static str {
    static OPT: OnceLock<String> = OnceLock::new();
    OPT.get_or_init(|| format!("seccomp={}", profile()))
}

/// What footloose adds to Docker's default: namespaces (`clone` with
/// namespace flags, `clone3`, `unshare`, `setns`), mounts in them, the old
/// and the new mount API, and a hostname for a UTS namespace of one's own.
pub(super) const NAMESPACES: &[&str] = &[
    "clone",
    "clone3",
    "unshare",
    "setns",
    "mount",
    "umount",
    "umount2",
    "pivot_root",
    "mount_setattr",
    "move_mount",
    "open_tree",
    "open_tree_attr",
    "fsopen",
    "fsconfig",
    "fsmount",
    "fspick",
    "sethostname",
    "setdomainname",
];

/// Calls allowed only to a container holding one of the capabilities, as
/// in Docker's default.
const WITH_CAPABILITY: &[(&[&str], &[&str])] = &[
    (
        &["CAP_SYS_ADMIN"],
        &[
            "bpf",
            "fanotify_init",
            "lookup_dcookie",
            "perf_event_open",
            "quotactl",
            "quotactl_fd",
            "syslog",
        ],
    ),
    (&["CAP_BPF"], &["bpf"]),
    (&["CAP_PERFMON"], &["perf_event_open"]),
    (&["CAP_SYSLOG"], &["syslog"]),
    (&["CAP_DAC_READ_SEARCH"], &["open_by_handle_at"]),
    (&["CAP_SYS_BOOT"], &["reboot"]),
    (&["CAP_SYS_CHROOT"], &["chroot"]),
    (
        &["CAP_SYS_MODULE"],
        &["delete_module", "init_module", "finit_module"],
    ),
    (&["CAP_SYS_PACCT"], &["acct"]),
    (
        &["CAP_SYS_PTRACE"],
        &["kcmp", "pidfd_getfd", "process_madvise"],
    ),
    (&["CAP_SYS_RAWIO"], &["iopl", "ioperm"]),
    (
        &["CAP_SYS_TIME"],
        &["settimeofday", "stime", "clock_settime", "clock_settime64"],
    ),
    (&["CAP_SYS_TTY_CONFIG"], &["vhangup"]),
    (
        &["CAP_SYS_NICE"],
        &[
            "get_mempolicy",
            "mbind",
            "set_mempolicy",
            "set_mempolicy_home_node",
        ],
    ),
];

/// The personas `personality(2)` may set: Linux, 32-bit Linux, and each
/// with `UNAME26`; `0xffffffff` only reads the current one.
const PERSONAS: &[u64] = &[0x0, 0x8, 0x20000, 0x20008, 0xffff_ffff];

/// `AF_VSOCK`, refused to `socket(2)` as by Docker.
const AF_VSOCK: u64 = 40;

/// Calls of one architecture (x86, Arm), skipped elsewhere.
const ARCHITECTURE: &[&str] = &[
    "arch_prctl",
    "modify_ldt",
    "arm_fadvise64_64",
    "arm_sync_file_range",
    "sync_file_range2",
    "breakpoint",
    "cacheflush",
    "set_tls",
    "riscv_flush_icache",
];

/// Everything else a program may call: the system calls of Linux's
/// headers (x86-64, x86 and the generic table of Arm64 and RISC-V) that
/// Docker's default allows without conditions.
const GENERAL: &[&str] = &[
    "_llseek",
    "_newselect",
    "accept",
    "accept4",
    "access",
    "adjtimex",
    "alarm",
    "bind",
    "brk",
    "cachestat",
    "capget",
    "capset",
    "chdir",
    "chmod",
    "chown",
    "chown32",
    "clock_adjtime",
    "clock_adjtime64",
    "clock_getres",
    "clock_getres_time64",
    "clock_gettime",
    "clock_gettime64",
    "clock_nanosleep",
    "clock_nanosleep_time64",
    "close",
    "close_range",
    "connect",
    "copy_file_range",
    "creat",
    "dup",
    "dup2",
    "dup3",
    "epoll_create",
    "epoll_create1",
    "epoll_ctl",
    "epoll_ctl_old",
    "epoll_pwait",
    "epoll_pwait2",
    "epoll_wait",
    "epoll_wait_old",
    "eventfd",
    "eventfd2",
    "execve",
    "execveat",
    "exit",
    "exit_group",
    "faccessat",
    "faccessat2",
    "fadvise64",
    "fadvise64_64",
    "fallocate",
    "fanotify_mark",
    "fchdir",
    "fchmod",
    "fchmodat",
    "fchmodat2",
    "fchown",
    "fchown32",
    "fchownat",
    "fcntl",
    "fcntl64",
    "fdatasync",
    "fgetxattr",
    "flistxattr",
    "flock",
    "fork",
    "fremovexattr",
    "fsetxattr",
    "fstat",
    "fstat64",
    "fstatat64",
    "fstatfs",
    "fstatfs64",
    "fsync",
    "ftruncate",
    "ftruncate64",
    "futex",
    "futex_requeue",
    "futex_time64",
    "futex_wait",
    "futex_waitv",
    "futex_wake",
    "futimesat",
    "get_robust_list",
    "get_thread_area",
    "getcpu",
    "getcwd",
    "getdents",
    "getdents64",
    "getegid",
    "getegid32",
    "geteuid",
    "geteuid32",
    "getgid",
    "getgid32",
    "getgroups",
    "getgroups32",
    "getitimer",
    "getpeername",
    "getpgid",
    "getpgrp",
    "getpid",
    "getppid",
    "getpriority",
    "getrandom",
    "getresgid",
    "getresgid32",
    "getresuid",
    "getresuid32",
    "getrlimit",
    "getrusage",
    "getsid",
    "getsockname",
    "getsockopt",
    "gettid",
    "gettimeofday",
    "getuid",
    "getuid32",
    "getxattr",
    "getxattrat",
    "inotify_add_watch",
    "inotify_init",
    "inotify_init1",
    "inotify_rm_watch",
    "io_cancel",
    "io_destroy",
    "io_getevents",
    "io_pgetevents",
    "io_pgetevents_time64",
    "io_setup",
    "io_submit",
    "io_uring_enter",
    "io_uring_register",
    "io_uring_setup",
    "ioctl",
    "ioprio_get",
    "ioprio_set",
    "ipc",
    "kill",
    "landlock_add_rule",
    "landlock_create_ruleset",
    "landlock_restrict_self",
    "lchown",
    "lchown32",
    "lgetxattr",
    "link",
    "linkat",
    "listen",
    "listmount",
    "listxattr",
    "listxattrat",
    "llistxattr",
    "lremovexattr",
    "lseek",
    "lsetxattr",
    "lsm_get_self_attr",
    "lsm_list_modules",
    "lstat",
    "lstat64",
    "madvise",
    "map_shadow_stack",
    "membarrier",
    "memfd_create",
    "memfd_secret",
    "mincore",
    "mkdir",
    "mkdirat",
    "mknod",
    "mknodat",
    "mlock",
    "mlock2",
    "mlockall",
    "mmap",
    "mmap2",
    "mprotect",
    "mq_getsetattr",
    "mq_notify",
    "mq_open",
    "mq_timedreceive",
    "mq_timedreceive_time64",
    "mq_timedsend",
    "mq_timedsend_time64",
    "mq_unlink",
    "mremap",
    "mseal",
    "msgctl",
    "msgget",
    "msgrcv",
    "msgsnd",
    "msync",
    "munlock",
    "munlockall",
    "munmap",
    "name_to_handle_at",
    "nanosleep",
    "newfstatat",
    "open",
    "openat",
    "openat2",
    "pause",
    "pidfd_open",
    "pidfd_send_signal",
    "pipe",
    "pipe2",
    "pkey_alloc",
    "pkey_free",
    "pkey_mprotect",
    "poll",
    "ppoll",
    "ppoll_time64",
    "prctl",
    "pread64",
    "preadv",
    "preadv2",
    "prlimit64",
    "process_mrelease",
    "process_vm_readv",
    "process_vm_writev",
    "pselect6",
    "pselect6_time64",
    "ptrace",
    "pwrite64",
    "pwritev",
    "pwritev2",
    "read",
    "readahead",
    "readdir",
    "readlink",
    "readlinkat",
    "readv",
    "recvfrom",
    "recvmmsg",
    "recvmmsg_time64",
    "recvmsg",
    "remap_file_pages",
    "removexattr",
    "removexattrat",
    "rename",
    "renameat",
    "renameat2",
    "restart_syscall",
    "rmdir",
    "rseq",
    "rt_sigaction",
    "rt_sigpending",
    "rt_sigprocmask",
    "rt_sigqueueinfo",
    "rt_sigreturn",
    "rt_sigsuspend",
    "rt_sigtimedwait",
    "rt_sigtimedwait_time64",
    "rt_tgsigqueueinfo",
    "sched_get_priority_max",
    "sched_get_priority_min",
    "sched_getaffinity",
    "sched_getattr",
    "sched_getparam",
    "sched_getscheduler",
    "sched_rr_get_interval",
    "sched_rr_get_interval_time64",
    "sched_setaffinity",
    "sched_setattr",
    "sched_setparam",
    "sched_setscheduler",
    "sched_yield",
    "seccomp",
    "select",
    "semctl",
    "semget",
    "semop",
    "semtimedop",
    "semtimedop_time64",
    "sendfile",
    "sendfile64",
    "sendmmsg",
    "sendmsg",
    "sendto",
    "set_robust_list",
    "set_thread_area",
    "set_tid_address",
    "setfsgid",
    "setfsgid32",
    "setfsuid",
    "setfsuid32",
    "setgid",
    "setgid32",
    "setgroups",
    "setgroups32",
    "setitimer",
    "setpgid",
    "setpriority",
    "setregid",
    "setregid32",
    "setresgid",
    "setresgid32",
    "setresuid",
    "setresuid32",
    "setreuid",
    "setreuid32",
    "setrlimit",
    "setsid",
    "setsockopt",
    "setuid",
    "setuid32",
    "setxattr",
    "setxattrat",
    "shmat",
    "shmctl",
    "shmdt",
    "shmget",
    "shutdown",
    "sigaction",
    "sigaltstack",
    "signal",
    "signalfd",
    "signalfd4",
    "sigpending",
    "sigprocmask",
    "sigreturn",
    "sigsuspend",
    "socketcall",
    "socketpair",
    "splice",
    "stat",
    "stat64",
    "statfs",
    "statfs64",
    "statmount",
    "statx",
    "symlink",
    "symlinkat",
    "sync",
    "sync_file_range",
    "syncfs",
    "sysinfo",
    "tee",
    "tgkill",
    "time",
    "timer_create",
    "timer_delete",
    "timer_getoverrun",
    "timer_gettime",
    "timer_gettime64",
    "timer_settime",
    "timer_settime64",
    "timerfd_create",
    "timerfd_gettime",
    "timerfd_gettime64",
    "timerfd_settime",
    "timerfd_settime64",
    "times",
    "tkill",
    "truncate",
    "truncate64",
    "ugetrlimit",
    "umask",
    "uname",
    "unlink",
    "unlinkat",
    "utime",
    "utimensat",
    "utimensat_time64",
    "utimes",
    "vfork",
    "vmsplice",
    "wait4",
    "waitid",
    "waitpid",
    "write",
    "writev",
];

/// The profile, as JSON.
fn profile() -> String {
    let allow = |names: &[&str]| json!({"names": names, "action": "SCMP_ACT_ALLOW"});
    let mut syscalls: Vec<Value> = vec![allow(GENERAL), allow(ARCHITECTURE), allow(NAMESPACES)];
    syscalls.push(json!({
        "names": ["socket"],
        "action": "SCMP_ACT_ALLOW",
        "args": [{"index": 0, "value": AF_VSOCK, "op": "SCMP_CMP_NE"}],
    }));
    for persona in PERSONAS {
        syscalls.push(json!({
            "names": ["personality"],
            "action": "SCMP_ACT_ALLOW",
            "args": [{"index": 0, "value": persona, "op": "SCMP_CMP_EQ"}],
        }));
    }
    for (caps, names) in WITH_CAPABILITY {
        syscalls.push(json!({
            "names": names,
            "action": "SCMP_ACT_ALLOW",
            "includes": {"caps": caps},
        }));
    }
    json!({
        "defaultAction": "SCMP_ACT_ERRNO",
        "defaultErrnoRet": 1,
        "archMap": [
            {"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86", "SCMP_ARCH_X32"]},
            {"architecture": "SCMP_ARCH_AARCH64", "subArchitectures": ["SCMP_ARCH_ARM"]},
            {"architecture": "SCMP_ARCH_RISCV64", "subArchitectures": []},
            {"architecture": "SCMP_ARCH_S390X", "subArchitectures": ["SCMP_ARCH_S390"]},
            {"architecture": "SCMP_ARCH_PPC64LE", "subArchitectures": []},
        ],
        "syscalls": syscalls,
    })
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules() -> Vec<Value> {
        let opt = security_opt();
        let json = opt.strip_prefix("seccomp=").expect("a seccomp option");
        let profile: Value = serde_json::from_str(json).expect("valid JSON");
        assert_eq!(profile["defaultAction"], "SCMP_ACT_ERRNO");
        profile["syscalls"].as_array().unwrap().clone()
    }

    /// The rules naming `name`, as (unconditional, capabilities).
    fn rules_for(name: &str) -> Vec<(bool, Vec<String>)> {
        rules()
            .iter()
            .filter(|r| r["names"].as_array().unwrap().iter().any(|n| n == name))
            .map(|r| {
                let caps = r["includes"]["caps"]
                    .as_array()
                    .map(|c| c.iter().map(|c| c.as_str().unwrap().to_owned()).collect())
                    .unwrap_or_default();
                let unconditional = r.get("args").is_none() && r.get("includes").is_none();
                (unconditional, caps)
            })
            .collect()
    }

    #[test]
    fn namespaces_are_allowed_without_a_capability() {
        for name in ["unshare", "clone", "clone3", "setns", "mount", "umount2"] {
            assert_eq!(rules_for(name), [(true, vec![])], "{name}");
        }
    }

    #[test]
    fn the_rest_keeps_dockers_rules() {
        for refused in [
            "keyctl",
            "add_key",
            "kexec_load",
            "swapon",
            "userfaultfd",
            "nice",
        ] {
            assert!(rules_for(refused).is_empty(), "{refused} is allowed");
        }
        assert_eq!(
            rules_for("reboot"),
            [(false, vec!["CAP_SYS_BOOT".to_owned()])]
        );
        assert_eq!(rules_for("bpf").len(), 2);
        assert!(rules_for("bpf")
            .iter()
            .all(|(free, caps)| !free && !caps.is_empty()));
        assert!(rules_for("socket").iter().all(|(free, _)| !free));
        assert_eq!(rules_for("personality").len(), PERSONAS.len());
        for common in [
            "read",
            "openat",
            "execve",
            "ptrace",
            "io_uring_setup",
            "fchmodat2",
        ] {
            assert_eq!(rules_for(common), [(true, vec![])], "{common}");
        }
    }

    #[test]
    fn no_call_is_listed_twice_without_a_reason() {
        let mut seen = std::collections::BTreeSet::new();
        for list in [GENERAL, ARCHITECTURE, NAMESPACES] {
            for name in list {
                assert!(seen.insert(*name), "{name} twice");
            }
        }
        for (_, names) in WITH_CAPABILITY {
            for name in *names {
                assert!(!seen.contains(name), "{name} both free and conditional");
            }
        }
    }
}
