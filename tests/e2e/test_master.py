"""master and the postern tool on a real instance, with the test service."""
import os
import re
import signal
import socket
import subprocess
import time

import pytest

from conftest import (BIN, BUILD, TESTSVC, alive, children_of, connect, free_port, greet, is_root,
                      mail_owner_uid, proc_status, read_line, wait_for)


def echo_service(port, extra="", chroot="y"):
    return f"127.0.0.1:{port} inet n - {chroot} - - {TESTSVC} {extra}".rstrip()


@pytest.fixture
def instance(instance):
    """An instance that runs only the services each test adds: these tests
    are about master, not about the mail programs init enables."""
    instance.set_master_cf("# test services only\n")
    return instance


def listen_inode(port):
    """Inode of the socket listening on 127.0.0.1:port (from /proc/net/tcp)."""
    want = "0100007F:%04X" % port
    with open("/proc/net/tcp") as f:
        for line in f.readlines()[1:]:
            fields = line.split()
            if fields[1] == want and fields[3] == "0A":
                return int(fields[9])
    return None


def holds_socket(pid, inode):
    """Does process pid have the socket with this inode open?"""
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return False
    for fd in fds:
        try:
            if os.readlink(f"/proc/{pid}/fd/{fd}") == f"socket:[{inode}]":
                return True
        except OSError:
            pass
    return False


def log_times(instance, pattern):
    """Seconds of the day of each log line matching pattern."""
    out = []
    for line in instance.log().splitlines():
        if re.search(pattern, line):
            h, m, sec = line.split()[2].split(":")
            out.append(int(h) * 3600 + int(m) * 60 + int(sec))
    return out


def test_start_status_stop_leaves_nothing(instance):
    port = free_port()
    instance.add_service(echo_service(port))
    instance.add_service(f"ticker unix n - y 60 1 {TESTSVC} trigger")
    assert instance.postern("status", check=False).returncode == 1
    instance.postern("start")
    assert instance.postern("status").returncode == 0
    master = instance.master_pid()
    assert master
    s, info = greet(port)
    instance.wait_log(r"testsvc: wakeup 1")
    kids = children_of(master)
    assert info["pid"] in kids and len(kids) == 2
    sock = os.stat(os.path.join(instance.queue, "public", "ticker"))
    assert oct(sock.st_mode & 0o777) == oct(0o666)
    assert sock.st_uid == (mail_owner_uid() if is_root() else os.getuid())
    instance.postern("stop")
    assert instance.postern("status", check=False).returncode == 1
    for pid in [master, *kids]:
        assert not alive(pid), f"pid {pid} still running after stop"
    s.close()
    assert "daemon started" in instance.log()


def test_killed_child_comes_back(instance):
    port = free_port()
    instance.add_service(echo_service(port))
    instance.add_service(f"ticker unix n - y 60 1 {TESTSVC} trigger")
    instance.postern("start")
    s, info = greet(port)
    os.kill(info["pid"], signal.SIGKILL)
    instance.wait_log(rf"process \S+testsvc pid {info['pid']} killed by signal 9")
    s.close()
    # On-demand service: the next client gets a new process within seconds.
    s2, info2 = greet(port)
    assert info2["pid"] != info["pid"]
    s2.sendall(b"hello\r\n")
    assert read_line(s2) == "echo hello"
    s2.close()

    # Wakeup service: it is restarted by itself, without a client.
    master = instance.master_pid()
    ticker = wait_for(lambda: [p for p in children_of(master) if p != info2["pid"]],
                      what="the wakeup service")[0]
    os.kill(ticker, signal.SIGKILL)
    instance.wait_log(rf"pid {ticker} killed by signal 9")
    wait_for(lambda: [p for p in children_of(master) if p not in (ticker, info2["pid"])],
             timeout=10, what="wakeup service restart")


def test_crashing_service_is_throttled(instance):
    instance.add_service(f"broken unix n - n 60 1 {TESTSVC} crash")
    instance.postern("start")
    instance.wait_log(r"exit status 3")
    # Back-off 1+2+4+8 s between the five crashes, then throttling.
    instance.wait_log(r"testsvc: bad command startup -- throttling", timeout=40)
    assert instance.postern("status").returncode == 0
    # Five crashes, spaced by the back-off (1+2+4+8 s), then silence.
    times = log_times(instance, r"exit status 3")
    assert len(times) == 5 and (times[-1] - times[0]) % 86400 >= 12, times
    time.sleep(3)
    assert len(log_times(instance, r"exit status 3")) == 5


def test_reload_keeps_sockets_and_lets_children_finish(instance):
    port_a, port_b = free_port(), free_port()
    instance.add_service(echo_service(port_a))
    instance.postern("start")
    old, info = greet(port_a)
    inode = listen_inode(port_a)

    instance.add_service(echo_service(port_b))
    instance.postern("reload")
    instance.wait_log(r"reload -- version")
    assert listen_inode(port_a) == inode, "reload re-created a socket it should keep"
    # The old child finishes its session ...
    old.sendall(b"still there\r\n")
    assert read_line(old) == "echo still there"
    # ... while new clients on the kept socket get a new process.
    new, info_new = greet(port_a)
    assert info_new["pid"] != info["pid"]
    b, _ = greet(port_b)
    old.sendall(b"QUIT\r\n")
    assert read_line(old) == "bye"
    old.close()
    wait_for(lambda: not alive(info["pid"]), what="old child to exit")
    new.close()
    b.close()

    # A removed service stops listening.
    lines = open(os.path.join(instance.dir, "master.cf")).read().splitlines()
    instance.set_master_cf("\n".join(l for l in lines if str(port_b) not in l) + "\n")
    instance.postern("reload")
    def refused():
        try:
            socket.create_connection(("127.0.0.1", port_b), timeout=1).close()
            return False
        except ConnectionRefusedError:
            return True
    wait_for(refused, what="removed service to stop listening")
    s, _ = greet(port_a)
    s.close()


def test_reload_with_broken_master_cf_keeps_running(instance):
    port = free_port()
    instance.add_service(echo_service(port))
    instance.postern("start")
    master = instance.master_pid()
    instance.add_service("bogus inet")
    r = instance.postern("reload", check=False)
    assert r.returncode != 0 and "master.cf, line" in r.stderr
    os.kill(master, signal.SIGHUP)    # behind the tool's back: master must refuse too
    instance.wait_log(r"not reloaded")
    s, _ = greet(port)
    s.close()
    assert instance.master_pid() == master


def test_second_master_is_refused(instance):
    instance.postern("start")
    r = instance.postern("start", check=False)
    assert r.returncode != 0 and "already running" in r.stderr
    master = os.path.join(BUILD, "libexec", "master")
    r = subprocess.run([master, "-c", instance.dir, "-f"], capture_output=True, text=True,
                       timeout=10)
    assert r.returncode != 0 and "already running" in r.stderr


def test_config_error_prevents_start(instance):
    with open(os.path.join(instance.dir, "main.cf"), "a") as f:
        f.write("mydomian = typo.example\n")
    lineno = sum(1 for _ in open(os.path.join(instance.dir, "main.cf")))
    r = instance.postern("check", check=False)
    assert r.returncode != 0
    assert f"main.cf, line {lineno}" in r.stderr and "mydomian" in r.stderr
    r = instance.postern("start", check=False)
    assert r.returncode != 0 and f"main.cf, line {lineno}" in r.stderr
    assert instance.postern("status", check=False).returncode == 1


def test_check_reports_queue_tree_problems(instance):
    assert instance.postern("check").returncode == 0
    os.chmod(os.path.join(instance.queue, "incoming"), 0o777)
    r = instance.postern("check", check=False)
    assert r.returncode != 0 and "incoming: mode 0777, should be 0700" in r.stderr


def test_foreground_mode_stops_on_interrupt(instance):
    port = free_port()
    instance.add_service(echo_service(port))
    postern = os.path.join(BIN, "postern")
    fg = subprocess.Popen([postern, "-c", instance.dir, "start-fg"],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        s, info = greet(port)
        s.close()
        fg.send_signal(signal.SIGINT)
        _, err = fg.communicate(timeout=30)
    finally:
        if fg.poll() is None:
            fg.kill()
    assert fg.returncode == 0
    assert "daemon started" in err and "postern/master[" in err
    assert not alive(info["pid"])


def test_service_privileges(instance):
    port = free_port()
    instance.add_service(echo_service(port))
    instance.postern("start")
    s, info = greet(port)
    status = proc_status(info["pid"])
    if is_root():
        # Chrooted, as mail_owner, with no capabilities and no way back.
        uid = mail_owner_uid()
        assert info["uid"] == uid
        assert status["Uid"].split() == [str(uid)] * 4
        assert os.readlink(f"/proc/{info['pid']}/root") == os.path.realpath(instance.queue)
        assert int(status["CapEff"], 16) == 0
        assert int(status["CapPrm"], 16) == 0
        assert status["NoNewPrivs"] == "1"
    else:
        assert info["uid"] == os.getuid()
        assert os.readlink(f"/proc/{info['pid']}/root") == "/"
        assert "running unprivileged" in instance.log()
    s.close()


def test_reload_hands_over_a_socket_to_a_renamed_service(instance):
    port = free_port()
    instance.add_service(echo_service(port))
    instance.postern("start")
    s, _ = greet(port)
    s.close()
    inode = listen_inode(port)
    # Same address written differently (inet_interfaces = loopback-only).
    lines = open(os.path.join(instance.dir, "master.cf")).read()
    instance.set_master_cf(lines.replace(f"127.0.0.1:{port} ", f"{port} "))
    instance.postern("reload")
    instance.wait_log(r"reload -- version")
    assert listen_inode(port) == inode
    s, _ = greet(port)
    s.close()
    assert "will retry" not in instance.log() and "not started" not in instance.log()


def test_maxproc_holds_across_reload(instance):
    port = free_port()
    instance.add_service(f"127.0.0.1:{port} inet n - n - 1 {TESTSVC}")
    instance.postern("start")
    old, info = greet(port)
    inode = listen_inode(port)
    instance.postern("reload")
    instance.wait_log(r"reload -- version")
    # The old process has let go of the listening socket (it retired);
    # a client that came in before that may rightly still be its.
    wait_for(lambda: not holds_socket(info["pid"], inode), what="old process to retire")
    waiting = connect(port)
    waiting.settimeout(1.5)
    with pytest.raises(socket.timeout):
        waiting.recv(100)       # one process at a time: the old one still works
    old.sendall(b"QUIT\r\n")
    assert read_line(old) == "bye"
    waiting.settimeout(10)
    line = read_line(waiting)
    assert line.startswith("testsvc pid=") and f"pid={info['pid']} " not in line
    old.close()
    waiting.close()


def test_max_use_replaces_a_process_without_waiting(instance):
    port = free_port()
    instance.add_service(echo_service(port, "-o max_use=2"))
    instance.postern("start")
    s1, i1 = greet(port)
    s2, i2 = greet(port)
    assert i1["pid"] == i2["pid"] and i1["max_use"] == 2
    # The process is retiring with two open sessions; a third client is
    # served by a new one at once.
    s3, i3 = greet(port)
    assert i3["pid"] != i1["pid"]
    s1.sendall(b"ping\r\n")
    assert read_line(s1) == "echo ping"
    for s in (s1, s2, s3):
        s.close()
    wait_for(lambda: not alive(i1["pid"]), what="retired process to exit")


def test_reload_that_cannot_log_is_refused(instance):
    port = free_port()
    instance.add_service(echo_service(port))
    instance.postern("start")
    master = instance.master_pid()
    good = instance.postconf("-h", "maillog_file").stdout.strip()
    instance.postconf("-e", f"maillog_file = {instance.dir}/no/such/dir/maillog")
    r = instance.postern("check", check=False)
    assert r.returncode != 0 and "cannot open maillog_file" in r.stderr
    os.kill(master, signal.SIGHUP)
    instance.wait_log(r"not reloaded")
    assert instance.master_pid() == master
    # A process started now reads the broken main.cf and cannot start; why
    # reaches the log through master, although the process could not log.
    try:
        connect(port).close()
    except OSError:
        pass
    instance.wait_log(r"warning: \S+testsvc: testsvc: fatal: open maillog_file")
    instance.postconf("-e", f"maillog_file = {good}")
    s, _ = greet(port, timeout=20)
    s.close()


def test_relative_config_directory(instance):
    port = free_port()
    instance.add_service(echo_service(port))
    parent, name = os.path.split(instance.dir)
    r = subprocess.run([os.path.join(BIN, "postern"), "-c", name, "start"], cwd=parent,
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    s, _ = greet(port)
    s.close()
    os.kill(instance.master_pid(), signal.SIGHUP)
    instance.wait_log(r"reload -- version")
    assert "not reloaded" not in instance.log()
