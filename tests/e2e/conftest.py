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
QUEUES = ("maildrop", "incoming", "active", "deferred", "hold")


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


# Per user: a claim file can only be cleared by whoever made it, and the
# unprivileged runs (as nobody) must not be blocked by root's claims.
PORT_CLAIMS = f"/tmp/postern-test-ports-{os.getuid()}"
CLAIM_SECONDS = 60
_swept = False


def _sweep_claims():
    """Once per test process: drop claims older than CLAIM_SECONDS."""
    global _swept
    if _swept:
        return
    _swept = True
    now = time.time()
    for name in os.listdir(PORT_CLAIMS):
        path = os.path.join(PORT_CLAIMS, name)
        try:
            if now - os.stat(path).st_mtime > CLAIM_SECONDS:
                os.unlink(path)
        except OSError:
            pass


def claim_ports(ports):
    """Claim ports for this test process. Tests run side by side (ctest -j2)
    and an instance binds its ports only when it starts, so a port that
    looks free may already be another test's choice. A claim lasts a
    minute, long enough for the instance to start and hold the ports."""
    os.makedirs(PORT_CLAIMS, mode=0o700, exist_ok=True)
    _sweep_claims()
    made = []
    for port in ports:
        path = os.path.join(PORT_CLAIMS, str(port))
        try:
            if time.time() - os.stat(path).st_mtime > CLAIM_SECONDS:
                os.unlink(path)
        except OSError:
            pass
        try:
            os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
            made.append(path)
        except OSError:
            for m in made:
                os.unlink(m)
            return False
    return True


def pick_port_base():
    for _ in range(500):
        base = random.randrange(10000, 19000)    # base+995 stays below free_port's range
        ports = [base + p for p in PORTS]
        if all(port_free(p) for p in ports) and claim_ports(ports):
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
    def __init__(self, path, port_base, users=(), domain=None, hostname=None):
        self.dir = str(path)
        self.port_base = port_base
        self.smtp_port = port_base + 25
        self.env = {}       # extra environment for every command (system_users)
        args = ["init", self.dir, "--port-base", str(port_base)]
        for u in users:
            args += ["--user", u]
        if domain:
            args += ["--domain", domain]
        if hostname:
            args += ["--hostname", hostname]
        r = self.postern(*args, check=False)
        assert r.returncode == 0, r.stderr

    # -- commands
    def run(self, prog, *args, check=True, timeout=60, input=None):
        env = {**os.environ, **self.env} if self.env else None
        r = subprocess.run([os.path.join(BIN, prog), *args], capture_output=True,
                           text=True, timeout=timeout, input=input, env=env)
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

    def without_services(self, *names):
        """Drop master.cf entries (and their continuation lines) by name."""
        out, skip = [], False
        with open(os.path.join(self.dir, "master.cf")) as f:
            for ln in f:
                if ln[:1] not in (" ", "\t"):
                    skip = bool(ln.split()) and ln.split()[0] in names
                if not skip:
                    out.append(ln)
        self.set_master_cf("".join(out))

    # -- delivery (issue 5)
    @property
    def maillog_path(self):
        return os.path.join(self.dir, "log", "maillog")

    def set(self, **params):
        """Set main.cf parameters with postconf -e (name=value, value as text)."""
        if params:
            self.postconf("-e", *[f"{k} = {v}" for k, v in params.items()])

    def param(self, name):
        return self.postconf("-h", name).stdout.strip()

    def start(self):
        self.postern("start")
        wait_for(self.master_pid, 10, what="master.pid")

    def import_env(self, *names):
        """Add names to import_environment, so master passes them to children."""
        have = self.param("import_environment").split()
        self.set(import_environment=" ".join(have + [n for n in names if n not in have]))

    def short_retry(self, backoff=1, max_backoff=2, run_delay=1):
        """Retry deferred mail within seconds (TIME values accept 1s)."""
        self.set(minimal_backoff_time=f"{backoff}s", maximal_backoff_time=f"{max_backoff}s",
                 queue_run_delay=f"{run_delay}s")

    def queue_count(self):
        """Messages in maildrop/, incoming/, active/, deferred/ and hold/."""
        n = 0
        for q in QUEUES:
            try:
                n += sum(1 for e in os.listdir(os.path.join(self.queue, q))
                         if not e.startswith("."))
            except FileNotFoundError:
                pass
        return n

    def wait_queue_empty(self, timeout=30.0):
        wait_for(lambda: self.queue_count() == 0, timeout, interval=0.2, what="an empty queue")

    def smtp(self, sender, rcpts, msg, port=None):
        """Send one message with smtplib; msg is text (headers, blank line, body)."""
        import smtplib
        with smtplib.SMTP("127.0.0.1", port or self.smtp_port, timeout=30) as s:
            return s.sendmail(sender, rcpts, msg.replace("\r\n", "\n").replace("\n", "\r\n"))

    def vmaildir(self, user, domain="example.test"):
        """The Maildir of a `postern init --user` mailbox."""
        return os.path.join(self.dir, "mail", domain, user)

    def spool(self, user):
        """user's mbox in the instance's mail_spool_directory."""
        return os.path.join(self.dir, "spool", user)

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


# ------------------------------------------------------------------ delivery
#
# Helpers for the delivery tests (issue 5): instances that talk to each
# other, system users that exist only for the instance (nss_wrapper), a
# scriptable SMTP peer, and readers for what lands in mailboxes.

NSS_WRAPPER = "/usr/lib/x86_64-linux-gnu/libnss_wrapper.so"
# NSS_WRAPPER_DISABLE_DEEPBIND: ASan aborts on a dlopen(RTLD_DEEPBIND) of libc.
NSS_ENV = ("LD_PRELOAD", "NSS_WRAPPER_PASSWD", "NSS_WRAPPER_GROUP", "NSS_WRAPPER_DISABLE_DEEPBIND")
SANITIZER_REPORT = re.compile(r"ERROR: AddressSanitizer|runtime error:|"
                              r"LeakSanitizer: detected memory leaks|postern/\S+\[\d+\]: panic:")


def pick_other_port_base(*taken):
    """A port base whose ports are free and differ from the taken bases'."""
    for _ in range(200):
        base = pick_port_base()
        if base not in taken:
            return base
    raise RuntimeError("no second free port range")


@pytest.fixture
def instances(instance_dir):
    """Factory: instances(name, users=..., domain=...) makes one more
    instance under the test directory, on its own port base; all are
    stopped at the end."""
    made = []

    def make(name="inst", users=(), domain=None, hostname=None):
        inst = Instance(os.path.join(instance_dir, name),
                        pick_other_port_base(*[m.port_base for m in made]),
                        users=users, domain=domain, hostname=hostname)
        made.append(inst)
        return inst

    yield make
    left, bad = [], []
    for inst in made:
        left += inst.stop_everything()
        log = inst.log()
        print(f"---- {inst.dir}/log/maillog (last 60 lines)\n" + "\n".join(log.splitlines()[-60:]))
        bad += [line for line in log.splitlines() if SANITIZER_REPORT.search(line)]
    assert not left, f"processes left running after postern stop: {left}"
    assert not bad, "sanitizer reports in the maillog:\n" + "\n".join(bad[:20])


class SystemUsers:
    """System users that exist only for the programs of one instance.

    Writes passwd and group files under base and points nss_wrapper at
    them: every program the instance starts sees these users (plus root,
    nobody and the mail owner, copied from the real databases) and nothing
    touches /etc/passwd. Run as root, user i gets uid 60001+i and a home
    base/home/NAME owned by it; run as a normal user, every user is that
    user's uid (an unprivileged instance cannot switch uids).
    """

    def __init__(self, base, names):
        import grp
        self.base = str(base)
        self.users = {}
        os.makedirs(os.path.join(self.base, "home"), exist_ok=True)
        os.chmod(self.base, 0o755)
        os.chmod(os.path.join(self.base, "home"), 0o755)
        passwd, group = [], []
        keep = ["root", "nobody", "postern"]
        me = pwd.getpwuid(os.geteuid()).pw_name
        if me not in keep:
            keep.append(me)
        groups = {}
        for name in keep:
            try:
                pw = pwd.getpwnam(name)
            except KeyError:
                continue
            passwd.append(f"{pw.pw_name}:x:{pw.pw_uid}:{pw.pw_gid}:{pw.pw_gecos}:"
                          f"{pw.pw_dir}:{pw.pw_shell}")
            try:
                groups[pw.pw_gid] = grp.getgrgid(pw.pw_gid).gr_name
            except KeyError:
                pass
        for name in ("postdrop", "nogroup", "root"):
            try:
                g = grp.getgrnam(name)
                groups[g.gr_gid] = g.gr_name
            except KeyError:
                pass
        for i, name in enumerate(names):
            uid = 60001 + i if is_root() else os.getuid()
            gid = 60001 + i if is_root() else os.getgid()
            home = os.path.join(self.base, "home", name)
            os.makedirs(home, exist_ok=True)
            os.chmod(home, 0o755)
            if is_root():
                os.chown(home, uid, gid)
                groups[gid] = name
            passwd.append(f"{name}:x:{uid}:{gid}:{name} test user:{home}:/bin/sh")
            self.users[name] = (uid, gid, home)
        group += [f"{n}:x:{g}:" for g, n in sorted(groups.items())]
        self.passwd = os.path.join(self.base, "nss-passwd")
        self.group = os.path.join(self.base, "nss-group")
        for path, lines in ((self.passwd, passwd), (self.group, group)):
            with open(path, "w") as f:
                f.write("\n".join(lines) + "\n")
            os.chmod(path, 0o644)

    def env(self):
        e = {"LD_PRELOAD": NSS_WRAPPER, "NSS_WRAPPER_PASSWD": self.passwd,
             "NSS_WRAPPER_GROUP": self.group, "NSS_WRAPPER_DISABLE_DEEPBIND": "1"}
        # ASan insists on being first in the preload list; nss_wrapper is.
        asan = os.environ.get("ASAN_OPTIONS", "")
        if "verify_asan_link_order" not in asan:
            e["ASAN_OPTIONS"] = (asan + ":" if asan else "") + "verify_asan_link_order=0"
        return e

    def home(self, name):
        return self.users[name][2]

    def uid(self, name):
        return self.users[name][0]

    def write_home_file(self, name, rel, text, mode=0o644):
        """A file in the user's home, owned by the user (e.g. .forward)."""
        path = os.path.join(self.home(name), rel)
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, mode)
        if is_root():
            os.chown(path, *self.users[name][:2])
        return path


def system_users(inst, names, base=None):
    """Give inst the system users names (see SystemUsers); call before start."""
    users = SystemUsers(base or os.path.dirname(inst.dir), names)
    inst.env.update(users.env())
    inst.import_env(*NSS_ENV)
    return users


def add_aliases(inst, text):
    """Append aliases(5) lines to the instance's aliases and rebuild them."""
    path = os.path.join(inst.dir, "aliases")
    with open(path, "a") as f:
        f.write(text.rstrip("\n") + "\n")
    inst.run("postalias", "-c", inst.dir, path)


def wait_files(directory, count=1, timeout=30.0):
    """Wait until directory holds at least count files; return their paths."""
    def files():
        try:
            names = [n for n in os.listdir(directory) if not n.startswith(".")]
        except FileNotFoundError:
            return None
        return sorted(os.path.join(directory, n) for n in names) if len(names) >= count else None
    return wait_for(files, timeout, interval=0.1,
                    what=f"{count} file(s) in {directory}")


def wait_path(path, timeout=30.0):
    return wait_for(lambda: os.path.exists(path) and os.path.getsize(path) > 0,
                    timeout, what=f"{path}")


def maildir_messages(maildir):
    """email.message.Message objects for every file in MAILDIR/new and cur."""
    import email
    import email.policy
    out = []
    for sub in ("new", "cur"):
        d = os.path.join(maildir, sub)
        try:
            names = sorted(os.listdir(d))
        except FileNotFoundError:
            continue
        for n in names:
            with open(os.path.join(d, n), "rb") as f:
                out.append(email.message_from_bytes(f.read(), policy=email.policy.compat32))
    return out


def mbox_messages(path):
    """The messages of an mbox file (mailbox.mboxMessage: get_from() is the From_ line)."""
    import mailbox
    if not os.path.exists(path):
        return []
    box = mailbox.mbox(path, create=False)
    try:
        return list(box)
    finally:
        box.close()


def wait_messages(reader, path, count=1, timeout=30.0):
    """Wait until reader(path) returns at least count messages; return them."""
    return wait_for(lambda: (lambda m: m if len(m) >= count else None)(reader(path)),
                    timeout, interval=0.2, what=f"{count} message(s) in {path}")


class FakeSMTPPeer:
    """A scriptable SMTP server on 127.0.0.1 for postern's smtp client.

    Replies come from the attributes greeting, mail_reply, rcpt_reply and
    data_reply (full reply lines such as "451 4.3.0 try again later"); change
    them while it runs (e.g. 4xx first, then 250 to let mail through).
    Accepted messages are appended to messages as dicts with keys sender,
    rcpts and data (bytes, dot-unstuffed, CRLF kept); attempts counts RCPT
    commands seen. Use as a context manager.
    """

    MAX_LINE = 4096
    MAX_DATA = 64 * 1024 * 1024

    def __init__(self, port=None):
        import socketserver
        import threading
        self.port = port or free_port()
        self.greeting = "220 peer.test ESMTP fake"
        self.mail_reply = "250 2.1.0 Ok"
        self.rcpt_reply = "250 2.1.5 Ok"
        self.data_reply = "250 2.0.0 Ok: queued"
        self.messages = []
        self.attempts = 0
        self.lock = threading.Lock()
        peer = self

        class Handler(socketserver.StreamRequestHandler):
            timeout = 60

            def handle(self):
                peer._session(self.rfile, self.wfile)

        class Server(socketserver.ThreadingTCPServer):
            allow_reuse_address = True
            daemon_threads = True

        self.server = Server(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    def _session(self, rfile, wfile):
        def say(line):
            wfile.write(line.encode() + b"\r\n")
            wfile.flush()

        say(self.greeting)
        if not self.greeting.startswith("2"):
            return
        sender, rcpts = None, []
        while True:
            line = rfile.readline(self.MAX_LINE)
            if not line:
                return
            cmd = line.decode("latin-1").rstrip("\r\n")
            verb = cmd.split(" ", 1)[0].upper()
            if verb in ("EHLO", "LHLO"):
                say("250-peer.test\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250 8BITMIME")
            elif verb == "HELO":
                say("250 peer.test")
            elif verb == "MAIL":
                sender, rcpts = cmd[cmd.find("<") + 1:cmd.find(">")], []
                say(self.mail_reply)
            elif verb == "RCPT":
                with self.lock:
                    self.attempts += 1
                reply = self.rcpt_reply
                if reply.startswith("2"):
                    rcpts.append(cmd[cmd.find("<") + 1:cmd.find(">")])
                say(reply)
            elif verb == "DATA":
                if not rcpts:
                    say("554 5.5.1 Error: no valid recipients")
                    continue
                say("354 End data with <CR><LF>.<CR><LF>")
                data, size = [], 0
                while True:
                    chunk = rfile.readline(self.MAX_LINE)
                    if not chunk:
                        return
                    if chunk in (b".\r\n", b".\n"):
                        break
                    if chunk.startswith(b"."):
                        chunk = chunk[1:]
                    size += len(chunk)
                    if size > self.MAX_DATA:
                        say("552 5.3.4 too big")
                        return
                    data.append(chunk)
                reply = self.data_reply
                if reply.startswith("2"):
                    with self.lock:
                        self.messages.append({"sender": sender, "rcpts": rcpts,
                                              "data": b"".join(data)})
                say(reply)
            elif verb == "RSET":
                sender, rcpts = None, []
                say("250 2.0.0 Ok")
            elif verb == "NOOP":
                say("250 2.0.0 Ok")
            elif verb == "QUIT":
                say("221 2.0.0 Bye")
                return
            else:
                say("502 5.5.2 Error: command not recognized")
