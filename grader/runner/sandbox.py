"""The operating-system sandbox of a learner's worker, applied after the fork and before the
learner's file is imported. Containment by construction, where the guard only recognises names:

- **Landlock** (filesystem): read the Python installation, the packages imports need and the
  learner's workspace; read and write only the worker's private scratch directory (its ``TMPDIR``
  and ``HOME``); execute only the programs PyTorch and Triton start themselves (the C compiler and
  its helpers, ``ldconfig``, ``ptxas``), so whatever such a child runs stays in the same sandbox.
  The grader's own package, its data, the progress state, the reports and every other process's
  ``/proc`` entries are simply not granted. With Landlock ABI 6 the worker also cannot signal
  processes outside its domain (the grader, the fork server, other workers) nor reach abstract
  unix sockets; its TCP ports are refused too (ABI 4).
- **seccomp** (system calls): no ``socket()`` of any family (a socket pair, which connects only
  to itself, is allowed), no ``ptrace``, no reading or writing other processes' memory, no new
  namespaces, no io_uring (which would reach sockets around the filter), no file handles.
- **An unprivileged user** when the grader runs as root (CI containers, the Gradescope bundle):
  the worker becomes ``nobody`` and keeps one capability, CAP_DAC_READ_SEARCH, because a root
  grader's Python often lives in a root-only directory (pyenv under ``/root``); what it may read
  is decided by Landlock, not by file modes.

Bindings (chosen 2026-11, see docs/architecture.md): ``landlockpy`` 0.2.0, pure Python and
dependency-free, knows every ABI up to 11 (execute right, scoping of signals and abstract sockets,
network ports, TSYNC) and drops what the running kernel lacks; ``landlock`` 1.0.0.dev5 stops at
ABI 5 (no scoping, no network rights) and is a development release. ``pyseccomp`` 0.1.2 is the
ctypes interface to the system's libseccomp with the API of libseccomp's own Python bindings
(which are not on PyPI). Capabilities have no maintained binding: the few calls are ctypes.

Where Landlock or seccomp is missing (macOS, an old kernel, a container that forbids them) the
worker runs with the guard alone, and the run's ``sandbox`` field and ``grader doctor`` say
``unavailable (why)``.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import os
import shutil
import stat
import sys
import sysconfig
import tempfile

# Programs PyTorch and Triton start themselves: inductor's C++ compiler (and gcc's own helpers,
# found below by directory), Triton's `ldconfig -p`, `ptxas` and its C compiler for launchers.
# Nothing else may be executed: not a shell, not Python itself (a second Python would run torch
# outside the worker's op interception).
PROGRAMS = ("cc", "c++", "gcc", "g++", "clang", "clang++", "ld", "ld.bfd", "ld.gold", "as",
            "ldconfig", "ldconfig.real", "ptxas", "cuobjdump", "nvdisasm")
# The C toolchain among them: refused to a worker whose problem forbids library kernels (config
# "compiler": False). Code a learner compiles at run time can call libtorch's own C++ kernels
# (at::native::slow_conv2d_forward_out_cpu...) directly, past every dispatcher refusal; the
# red-team pass did exactly that in p01 and p07 with a 20-line CPython extension.
COMPILERS = frozenset({"cc", "c++", "gcc", "g++", "clang", "clang++", "ld", "ld.bfd", "ld.gold", "as"})
# Directories of compiler internals (cc1, cc1plus, collect2, lto-wrapper, plugins): execute.
PROGRAM_DIRS = ("/usr/lib/gcc", "/usr/libexec/gcc", "/usr/lib/llvm", "/usr/local/cuda/bin")
# Read-only system trees: shared libraries, headers the C compiler includes, loader config.
SYSTEM_READ = ("/usr/lib", "/usr/lib64", "/lib", "/lib64", "/usr/local/lib", "/usr/include",
               "/usr/local/include", "/usr/share/zoneinfo", "/etc/ld.so.cache", "/etc/ld.so.conf",
               "/etc/ld.so.conf.d", "/etc/passwd", "/etc/group", "/etc/nsswitch.conf",
               "/etc/localtime", "/proc/cpuinfo", "/proc/meminfo", "/sys/devices/system/cpu",
               "/sys/devices/system/node")
# Only for --device cuda: the driver's device files and what the CUDA runtime reads at init.
CUDA_READ = ("/proc/driver/nvidia", "/proc/devices", "/sys/bus/pci", "/sys/devices",
             "/sys/module/nvidia", "/usr/local/cuda", "/etc/nvidia")
DEVICES_RW = ("/dev/null", "/dev/zero", "/dev/full")
DEVICES_R = ("/dev/urandom", "/dev/random")

_PR_SET_PDEATHSIG = 1
_PR_SET_DUMPABLE = 4
_PR_SET_KEEPCAPS = 8
_PR_CAPBSET_DROP = 24
_PR_CAP_AMBIENT, _PR_CAP_AMBIENT_RAISE = 47, 2
_CAP_DAC_READ_SEARCH = 2
_NOBODY = "nobody"

_libc = None


def _c():
    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(None, use_errno=True)
    return _libc


def _prctl(option: int, a: int = 0, b: int = 0) -> None:
    if _c().prctl(option, a, b, 0, 0) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"prctl({option}): {os.strerror(err)}")


def undumpable() -> None:
    """Mark this process not dumpable: no core file, and its memory, environment and /proc
    entries are closed to processes of the same user (learner code included) unless they hold
    CAP_SYS_PTRACE. For the grader's own processes: the CLI, the fork server, baseline workers.
    A no-op where prctl does not exist."""
    try:
        _prctl(_PR_SET_DUMPABLE, 0)
    except (OSError, AttributeError):
        pass


# -- availability (parent side: nothing here changes the calling process) ----------------------
_availability: tuple[bool, str] | None = None


def availability() -> tuple[bool, str]:
    """``(True, "Landlock ABI n, seccomp[, workers run as nobody]")`` or ``(False, why)``."""
    global _availability
    if _availability is None:
        _availability = _probe()
    return _availability


def _landlock_abi() -> int:
    import landlockpy

    return landlockpy.abi_version()


SWITCH_ENV = "CONVKATA_SANDBOX"  # "off": for a machine where it misbehaves; the report says so


def _probe() -> tuple[bool, str]:
    if os.environ.get(SWITCH_ENV, "").strip().lower() in ("off", "0", "no", "false"):
        return False, f"turned off with {SWITCH_ENV}={os.environ[SWITCH_ENV]}"
    if not sys.platform.startswith("linux"):
        return False, f"{sys.platform} has neither Landlock nor seccomp"
    try:
        abi = _landlock_abi()
    except ImportError:
        return False, "the landlockpy package is not installed (pip install landlockpy)"
    except OSError as exc:
        return False, f"Landlock cannot be queried: {exc}"
    if abi < 1:
        return False, "the kernel has no Landlock (Linux 5.13+ with lsm=landlock), or it is disabled"
    try:
        import pyseccomp  # noqa: F401  (loads libseccomp)
    except ImportError:
        return False, "the pyseccomp package is not installed (pip install pyseccomp)"
    except (OSError, RuntimeError) as exc:
        return False, f"libseccomp is not usable: {exc}"
    if not os.path.exists("/proc/self/status") or "Seccomp:" not in open("/proc/self/status").read():
        return False, "the kernel has no seccomp filter support"
    parts = [f"Landlock ABI {abi}"]
    if abi < 6:
        parts.append("no signal scoping (ABI < 6)")
    parts.append("seccomp")
    if os.geteuid() == 0:
        parts.append(f"workers run as {_NOBODY}")
    return True, ", ".join(parts)


def describe() -> str:
    """The one line reports and ``grader doctor`` show: ``on (...)`` or ``unavailable (why)``."""
    ok, detail = availability()
    return f"on ({detail})" if ok else f"unavailable ({detail})"


def drop_ids() -> tuple[int, int] | None:
    """(uid, gid) workers drop to, or None when the grader is not root (nothing to drop)."""
    if os.geteuid() != 0:
        return None
    import pwd

    try:
        entry = pwd.getpwnam(_NOBODY)
        return entry.pw_uid, entry.pw_gid
    except KeyError:
        return 65534, 65534


def make_scratch() -> str:
    """A fresh private directory for one worker (parent side): its TMPDIR, HOME and caches.
    Owned by the worker's user; remove it with ``remove_scratch`` once the worker is gone."""
    path = tempfile.mkdtemp(prefix="convkata-worker-")
    ids = drop_ids()
    if ids is not None:
        os.chown(path, *ids)
    return path


def remove_scratch(path: str | None) -> None:
    if path and os.path.basename(path).startswith("convkata-worker-"):
        shutil.rmtree(path, ignore_errors=True)


# -- the plan: computed once in the fork server, before any worker forks -----------------------
_plan: dict | None = None


def _grader_paths() -> list[str]:
    """What of the grader must stay unreadable: its package (in a checkout or in site-packages:
    problems, checks, data, reference solutions), its data and progress directories. (Its
    distribution metadata and an editable install's .pth hold nothing secret; leaving them keeps
    site-packages one rule, not one per entry, where the grader is not installed inside it.)"""
    import grader

    package = os.path.dirname(os.path.realpath(grader.__file__))
    denied = [package]
    from grader import config  # standard library only; dropped from the worker's modules

    for where in (config.state_dir, config.data_dir):
        denied.append(os.path.realpath(where()))
    return denied


def _expand(root: str, denied: list[str]) -> list[tuple[str, bool]]:
    """``[(path, is_dir)]`` covering ``root`` except ``denied``: Landlock rules are allow-only and
    hierarchical, so a directory holding a denied path is granted entry by entry instead."""
    root = os.path.realpath(root)
    if any(root == d or root.startswith(d + os.sep) for d in denied):
        return []
    try:
        st = os.stat(root)
    except OSError:
        return []
    is_dir = stat.S_ISDIR(st.st_mode)
    if not is_dir or not any(d.startswith(root + os.sep) for d in denied):
        return [(root, is_dir)]
    out = []
    for name in sorted(os.listdir(root)):
        out += _expand(os.path.join(root, name), denied)
    return out


def prepare() -> None:
    """Compute what every worker may read and execute (called once in the fork server, so a
    worker only adds its rules: listing site-packages per worker would cost milliseconds)."""
    global _plan
    if not availability()[0]:
        return
    import landlockpy  # noqa: F401  (imported here, so a worker reads no binding after its fork)
    import pyseccomp  # noqa: F401

    denied = _grader_paths()
    paths = sysconfig.get_paths()
    roots = [paths[k] for k in ("stdlib", "platstdlib", "purelib", "platlib", "include", "platinclude")]
    # sys.path entries, except a checkout that holds the grader's package (PYTHONPATH of the fork
    # server, an editable install): its tests and tools are the grader's too.
    checkout = os.path.dirname(denied[0])
    roots += [p for p in sys.path if p and os.path.isabs(p) and os.path.realpath(p) != checkout]
    roots += list(SYSTEM_READ)
    read: dict[str, bool] = {}
    for root in roots:
        for path, is_dir in _expand(root, denied):
            read[path] = is_dir
    programs, compilers = set(), set()
    search = os.pathsep.join([os.environ.get("PATH", ""), "/usr/local/sbin", "/usr/sbin", "/sbin",
                              "/usr/local/bin", "/usr/bin", "/bin"])  # Triton runs /sbin/ldconfig
    for name in PROGRAMS:
        for found in {shutil.which(name, path=search), shutil.which(name, path="/sbin:/usr/sbin")}:
            if found:
                programs.add(os.path.realpath(found))
                if name in COMPILERS:
                    compilers.add(os.path.realpath(found))
    try:
        import triton

        nvidia_bin = os.path.join(os.path.dirname(triton.__file__), "backends", "nvidia", "bin")
        if os.path.isdir(nvidia_bin):
            programs.update(os.path.realpath(os.path.join(nvidia_bin, n)) for n in os.listdir(nvidia_bin))
    except ImportError:
        pass
    # The kernel opens an ELF program's interpreter with exec rights too.
    interpreters = {os.path.realpath(p) for p in ("/lib64/ld-linux-x86-64.so.2", "/lib/ld-linux-aarch64.so.1")
                    if os.path.exists(p)}
    exec_dirs = [os.path.realpath(d) for d in PROGRAM_DIRS if os.path.isdir(d)]
    _plan = {"read": read, "programs": sorted(programs), "compilers": sorted(compilers),
             "interpreters": sorted(interpreters),
             "exec_dirs": exec_dirs, "denied": denied,
             # built once: libseccomp's rule resolution takes ~10 ms, loading it far less
             "seccomp": _seccomp_filter()}


def allowed_programs(compiler: bool = True) -> frozenset[str]:
    """Real paths a sandboxed worker may execute (the guard lets learner-started runs of these
    pass: Landlock already confines them and what they start); without ``compiler``, the C
    toolchain is not among them."""
    if _plan is None:
        return frozenset()
    return frozenset(p for p in _plan["programs"] if compiler or p not in _plan["compilers"])


def refused_compilers(compiler: bool = True) -> frozenset[str]:
    """Real paths of the C toolchain when this worker may not run it (the guard names them)."""
    return frozenset() if compiler or _plan is None else frozenset(_plan["compilers"])


def program_dirs(compiler: bool = True) -> tuple[str, ...]:
    """Directories of compiler internals a worker may execute from (none without ``compiler``)."""
    return tuple(_plan["exec_dirs"]) if _plan and compiler else ()


# -- in the worker, after the fork and before the learner's import ------------------------------
_proc_self = -1  # the worker's own /proc directory, kept open (see _landlock)


class SandboxError(Exception):
    """The sandbox was asked for and could not be set up: the worker must not run learner code."""


def apply(config: dict) -> None:
    """Confine this (single-threaded, freshly forked) worker. ``config``: ``scratch`` (directory),
    ``workspace`` and ``module_path`` (read-only), ``device``. Raises SandboxError."""
    if _plan is None:
        raise SandboxError("the fork server computed no sandbox plan")
    if len(os.listdir("/proc/self/task")) != 1:  # Landlock and seccomp bind this thread's future
        raise SandboxError("the worker already runs threads; the sandbox would miss them")
    scratch = config["scratch"]
    _scratch_environment(scratch)
    try:
        ids = drop_ids()
        if ids is not None:
            _become(*ids)
        _landlock(config, scratch)
        _seccomp()
    except OSError as exc:
        raise SandboxError(f"{type(exc).__name__}: {exc}") from exc


def _scratch_environment(scratch: str) -> None:
    env = {"TMPDIR": scratch, "HOME": scratch, "XDG_CACHE_HOME": os.path.join(scratch, ".cache"),
           "TORCHINDUCTOR_CACHE_DIR": os.path.join(scratch, "inductor"),
           "TRITON_CACHE_DIR": os.path.join(scratch, "triton"),
           # inductor compiles in this process, not in a pool of fresh Pythons (not executable here)
           "TORCHINDUCTOR_COMPILE_THREADS": "1", "USER": _NOBODY, "LOGNAME": _NOBODY}
    os.environ.update(env)
    tempfile.tempdir = None  # gettempdir() may have cached the fork server's answer
    inductor = sys.modules.get("torch._inductor.config")
    if inductor is not None:  # read at import, which the fork server's preload already did
        inductor.compile_threads = 1


def _become(uid: int, gid: int) -> None:
    """Drop root for ``uid``/``gid``, keeping CAP_DAC_READ_SEARCH only (for this process and, as
    an ambient capability, for the compiler it may start); every other capability leaves the
    bounding set."""
    _prctl(_PR_SET_KEEPCAPS, 1)
    for cap in range(64):
        if cap != _CAP_DAC_READ_SEARCH:
            try:
                _prctl(_PR_CAPBSET_DROP, cap)
            except OSError as exc:
                if exc.errno != errno.EINVAL:  # EINVAL: past the kernel's last capability
                    raise
    os.setgroups([])
    os.setgid(gid)
    os.setuid(uid)
    _capset(1 << _CAP_DAC_READ_SEARCH)
    _prctl(_PR_CAP_AMBIENT, _PR_CAP_AMBIENT_RAISE, _CAP_DAC_READ_SEARCH)
    _prctl(_PR_SET_KEEPCAPS, 0)
    _prctl(_PR_SET_PDEATHSIG, 9)  # a change of credentials clears it (limits set it before)


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32),
                ("inheritable", ctypes.c_uint32)]


def _capset(mask: int) -> None:
    header = _CapHeader(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3: two 32-bit words
    data = (_CapData * 2)()
    data[0].effective = data[0].permitted = data[0].inheritable = mask
    if _c().capset(ctypes.byref(header), data) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"capset: {os.strerror(err)}")


def _landlock(config: dict, scratch: str) -> None:
    from landlockpy import AccessFS, AccessNet, Ruleset, Scope, fs_for_abi, net_for_abi

    abi = _landlock_abi()
    handled = fs_for_abi(abi)
    read_file = AccessFS.READ_FILE
    read_dir = AccessFS.READ_FILE | AccessFS.READ_DIR
    run = AccessFS.EXECUTE | AccessFS.READ_FILE
    write_dir = handled & ~AccessFS.EXECUTE & ~AccessFS.MAKE_CHAR & ~AccessFS.MAKE_BLOCK & ~AccessFS.IOCTL_DEV
    device_rw = AccessFS.READ_FILE | AccessFS.WRITE_FILE | (AccessFS.TRUNCATE & handled)

    with Ruleset(handled_fs=handled, handled_net=net_for_abi(abi),
                 scoped=Scope.SIGNAL | Scope.ABSTRACT_UNIX_SOCKET) as rules:
        def allow(path, dir_rights, file_rights=None):
            try:
                is_dir = stat.S_ISDIR(os.stat(path).st_mode)
            except OSError:
                return
            rights = dir_rights if is_dir else (file_rights if file_rights is not None else dir_rights)
            # a rule on a file may carry file rights only
            rights &= (handled if is_dir else (AccessFS.EXECUTE | AccessFS.WRITE_FILE | AccessFS.READ_FILE
                                               | (AccessFS.TRUNCATE | AccessFS.IOCTL_DEV) & handled))
            if rights:
                rules.allow_path(path, rights)

        read_dir_rights, read_file_rights = read_dir & handled, read_file & handled
        for path, is_dir in _plan["read"].items():  # no stat: the plan knows which is which
            try:
                rules.allow_path(path, read_dir_rights if is_dir else read_file_rights)
            except FileNotFoundError:  # removed since the plan was made: nothing to grant
                pass
        compiler = config.get("compiler", True)
        for path in sorted(allowed_programs(compiler)) + _plan["interpreters"]:
            allow(path, run, run)
        for path in program_dirs(compiler):
            allow(path, read_dir | AccessFS.EXECUTE, run)
        for path in (config.get("workspace"), os.path.dirname(config.get("module_path") or "")):
            if path:
                allow(path, read_dir, read_file)
        # This worker's own /proc/<pid> only; no other process's. A rule binds an inode, and
        # procfs makes a new one when a dentry is dropped: holding the directory open pins it.
        global _proc_self
        _proc_self = os.open("/proc/self", os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
        allow("/proc/self", read_dir)
        for path in DEVICES_RW:
            allow(path, device_rw, device_rw)
        for path in DEVICES_R:
            allow(path, read_file, read_file)
        if config.get("device") == "cuda":
            for path in CUDA_READ:
                allow(path, read_dir, read_file)
            for name in sorted(os.listdir("/dev")):
                if name.startswith("nvidia"):
                    full = os.path.join("/dev", name)
                    allow(full, read_dir, device_rw | (AccessFS.IOCTL_DEV & handled))
        allow(scratch, write_dir, write_dir)
        rules.restrict()  # also sets no_new_privs, which seccomp needs too


def _seccomp() -> None:
    _plan["seccomp"].load()


def _seccomp_filter():
    import socket

    import pyseccomp as seccomp

    deny = seccomp.ERRNO(errno.EPERM)
    rules = seccomp.SyscallFilter(seccomp.ALLOW)
    for name in ("socket",  # every family: an AF_UNIX path socket is not covered by Landlock < ABI 9
                 "ptrace", "process_vm_readv", "process_vm_writev", "pidfd_getfd", "kcmp",
                 "perf_event_open", "bpf", "userfaultfd", "io_uring_setup", "io_uring_enter",
                 "io_uring_register", "open_by_handle_at", "unshare", "setns", "mount", "umount2",
                 "pivot_root", "chroot", "keyctl", "add_key", "request_key", "init_module",
                 "finit_module", "delete_module", "kexec_load", "kexec_file_load", "reboot",
                 "swapon", "swapoff", "acct", "mknod", "mknodat"):
        try:
            rules.add_rule(deny, name)
        except (OSError, ValueError, RuntimeError):  # not a system call on this architecture
            pass
    rules.add_rule(deny, "socketpair", seccomp.Arg(0, seccomp.NE, socket.AF_UNIX))
    # clone3 passes its flags in memory, where a filter cannot look: ENOSYS makes the C library
    # fall back to clone, whose flags are checked for new namespaces below.
    rules.add_rule(seccomp.ERRNO(errno.ENOSYS), "clone3")
    for flag in (0x10000000, 0x00020000, 0x04000000, 0x08000000, 0x20000000, 0x40000000, 0x02000000, 0x00000080):
        # CLONE_NEWUSER, NEWNS, NEWUTS, NEWIPC, NEWPID, NEWNET, NEWCGROUP, NEWTIME
        rules.add_rule(deny, "clone", seccomp.Arg(0, seccomp.MASKED_EQ, flag, flag))
    return rules
