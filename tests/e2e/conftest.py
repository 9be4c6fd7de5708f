"""Shared fixtures for end-to-end tests: real postern instances.

Every test gets its own instance made by `postern init` in a temporary
directory, on ports nobody else uses, and stops it (and anything it left
running) at the end. Run as root, the instance runs privileged: services
switch to mail_owner "postern" and chroot; run as a normal user, it runs
unprivileged as that user.
"""
import os
import pwd
import random
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import pytest

BUILD = os.environ.get("POSTERN_BUILD", os.path.join(os.path.dirname(__file__), "../../build"))
BIN = os.path.join(BUILD, "bin")
TESTSVC = os.path.join(BUILD, "tests", "testsvc")
PORTS = (24, 25, 110, 143, 465, 587, 993, 995)


def port_free(port):
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port():
    """A free port, chosen at random below the kernel's ephemeral range.

    bind(0) would be simpler, but the kernel hands out ephemeral ports in
    sequence, so two test processes running side by side (ctest -j2) get
    each other's just-released ports and one instance ends up talking to
    the other's service.
    """
    for _ in range(500):
        port = random.randrange(20000, 32000)
        if port_free(port):
            return port
    raise RuntimeError("no free port")


def pick_port_base():
    for _ in range(200):
        base = random.randrange(10000, 19000, 1000)    # base+995 stays below free_port's range
        if all(port_free(base + p) for p in PORTS):
            return base
    raise RuntimeError("no free port range")


def wait_for(predicate, timeout=10.0, interval=0.1, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
        return state != "Z"
    except OSError:     # gone between open() and read(): ENOENT or ESRCH
        return False


def children_of(ppid):
    kids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == ppid and fields[0] != "Z":
            kids.append(int(entry))
    return kids


def proc_status(pid):
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            out[key] = value.strip()
    return out


class Instance:
    def __init__(self, path, port_base, users=()):
        self.dir = str(path)
        self.port_base = port_base
        args = ["init", self.dir, "--port-base", str(port_base)]
        for u in users:
            args += ["--user", u]
        r = self.postern(*args, check=False)
        assert r.returncode == 0, r.stderr

    # -- commands
    def run(self, prog, *args, check=True, timeout=60, input=None):
        r = subprocess.run([os.path.join(BIN, prog), *args], capture_output=True,
                           text=True, timeout=timeout, input=input)
        if check and r.returncode != 0:
            raise AssertionError(f"{prog} {' '.join(args)} exited {r.returncode}:\n{r.stderr}")
        return r

    def postern(self, *args, check=True):
        if args and args[0] == "init":
            return self.run("postern", *args, check=check)
        return self.run("postern", "-c", self.dir, *args, check=check)

    def postconf(self, *args, check=True):
        return self.run("postconf", "-c", self.dir, *args, check=check)

    # -- state
    @property
    def queue(self):
        return os.path.join(self.dir, "queue")

    def master_pid(self):
        try:
            with open(os.path.join(self.queue, "pid", "master.pid")) as f:
                pid = int(f.read().strip() or 0)
        except (FileNotFoundError, ValueError):
            return 0
        return pid if pid and alive(pid) else 0

    def log(self):
        try:
            with open(os.path.join(self.dir, "log", "maillog")) as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def wait_log(self, pattern, timeout=10.0):
        rx = re.compile(pattern)
        return wait_for(lambda: rx.search(self.log()), timeout, what=f"log line /{pattern}/")

    # -- configuration
    def add_service(self, line):
        with open(os.path.join(self.dir, "master.cf"), "a") as f:
            f.write(line.rstrip("\n") + "\n")

    def set_master_cf(self, text):
        with open(os.path.join(self.dir, "master.cf"), "w") as f:
            f.write(text)

    def stop_everything(self):
        """Stop the instance; complain about any process that outlived stop."""
        pid = self.master_pid()
        if not pid:
            return []
        kids = children_of(pid)
        self.postern("stop", check=False)
        left = [p for p in [pid, *kids] if alive(p)]
        for p in left:
            os.kill(p, signal.SIGKILL)
        return left


@pytest.fixture
def instance_dir():
    """A directory every user can traverse: a root-run instance's services
    run as mail_owner, and pytest's own tmp_path (under a 0700 directory)
    is out of their reach."""
    path = tempfile.mkdtemp(prefix="postern-test-", dir="/tmp")
    os.chmod(path, 0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def instance(instance_dir):
    inst = Instance(os.path.join(instance_dir, "inst"), pick_port_base())
    yield inst
    left = inst.stop_everything()
    assert not left, f"processes left running after postern stop: {left}"


def connect(port, timeout=5.0):
    """Connect to a local port, retrying while master brings it up."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
            return s
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def read_line(sock):
    data = b""
    while not data.endswith(b"\n"):
        chunk = sock.recv(1)
        if not chunk:
            break
        data += chunk
    return data.decode().rstrip("\r\n")


def greet(port, timeout=5.0):
    """Open a testsvc session; return (socket, {pid, uid, gid, service, max_use})."""
    s = connect(port, timeout)
    line = read_line(s)
    m = re.match(r"testsvc pid=(\d+) uid=(\d+) gid=(\d+) service=(\S+) max_use=(\d+)", line)
    assert m, f"unexpected greeting {line!r}"
    return s, {"pid": int(m[1]), "uid": int(m[2]), "gid": int(m[3]), "service": m[4],
               "max_use": int(m[5])}


def is_root():
    return os.geteuid() == 0


def mail_owner_uid():
    return pwd.getpwnam("postern").pw_uid
