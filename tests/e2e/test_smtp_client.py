"""The smtp/lmtp delivery agent against fake SMTP and LMTP servers.

Each test runs an instance whose master.cf holds only the smtp, relay and
lmtp services (no qmgr, so nothing else touches the queue), writes a queue
file into active/, sends the agent a delivery request over private/smtp
(or private/lmtp) in the ipc_frame format as qmgr would, and checks the
reply, the log lines and what the fake server saw. The last tests go
through whole instances instead: qmgr hands the mail to smtp by relayhost
or transport_maps, to a fake server (deferred on 4xx, then delivered) or
to a second instance's smtpd and on into its virtual mailbox.
"""
import os
import random
import re
import socket
import struct
import threading
import time

import pytest

from conftest import (SANITIZER_REPORT, Instance, free_port, is_root, maildir_messages,
                      mail_owner_uid, pick_port_base, wait_for)

MASTER_CF = """\
smtp      unix  -       -       y       -       -       smtp
relay     unix  -       -       y       -       -       smtp -o syslog_name=postern/relay
lmtp      unix  -       -       y       -       -       smtp
"""

# ---------------------------------------------------------------- queue file

B52 = "0123456789BCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz"
B51 = B52[:-1]


def digits(n, alphabet, width=None):
    out = ""
    while n:
        out = alphabet[n % len(alphabet)] + out
        n //= len(alphabet)
    out = out or alphabet[0]
    return out.rjust(width, alphabet[0]) if width else out


def queue_id(sec, usec):
    return digits(sec, B52, 6) + digits(usec, B52, 4) + "z" + digits(random.randrange(1, 10**9), B51)


def rec(t, payload):
    return t.encode() + struct.pack(">I", len(payload)) + payload


def make_queue_file(path, sender, rcpts, content, envid=None, ret=None, attrs=()):
    """Write a queue file; rcpts are (address, orcpt, notify) tuples.
    Returns (queue id, [R record offsets])."""
    now = time.time()
    sec, usec = int(now), int((now % 1) * 1e6)
    qid = queue_id(sec, usec)
    body = content.encode() if isinstance(content, str) else content
    out = bytearray()
    out += rec("V", b"\x01")
    out += rec("T", struct.pack(">QI", sec, usec))
    out += rec("I", qid.encode())
    out += rec("S", sender.encode())
    out += rec("W", struct.pack(">Q", 0))
    if envid:
        out += rec("N", envid.encode())
    if ret:
        out += rec("F", ret.encode())
    for name, value in attrs:
        out += rec("A", f"{name}={value}".encode())
    offsets = []
    for addr, orcpt, notify in rcpts:
        offsets.append(len(out))
        a = addr.encode()
        out += rec("R", b"P" + bytes([notify]) + struct.pack(">H", len(a)) + a + orcpt.encode())
    out += rec("Z", struct.pack(">Q", len(body)))
    for i in range(0, len(body), 1000):
        out += rec("B", body[i:i + 1000])
    out += rec("E", b"")
    full = os.path.join(path, qid)
    with open(full, "wb") as f:
        f.write(out)
    os.chmod(full, 0o600)
    if is_root():
        os.chown(full, mail_owner_uid(), -1)
    return qid, offsets


# ---------------------------------------------------------------- ipc frames

def encode_frame(attrs):
    payload = b""
    for name, value in attrs:
        v = value if isinstance(value, bytes) else str(value).encode()
        payload += bytes([len(name)]) + name.encode() + struct.pack(">I", len(v)) + v
    return struct.pack(">BBHI", 1, 0, len(attrs), len(payload)) + payload


def read_frame(sock):
    def exact(n):
        data = b""
        while len(data) < n:
            chunk = sock.recv(n - len(data))
            if not chunk:
                raise AssertionError("agent closed the connection without a reply")
            data += chunk
        return data
    version, _flags, count, length = struct.unpack(">BBHI", exact(8))
    assert version == 1
    payload = exact(length)
    attrs, pos = {}, 0
    for _ in range(count):
        nl = payload[pos]
        name = payload[pos + 1:pos + 1 + nl].decode()
        (vl,) = struct.unpack(">I", payload[pos + 1 + nl:pos + 5 + nl])
        attrs.setdefault(name, payload[pos + 5 + nl:pos + 5 + nl + vl].decode())
        pos += 5 + nl + vl
    return attrs


# ---------------------------------------------------------------- fake server

class FakeServer:
    """A scripted SMTP/LMTP server in a thread, on 127.0.0.1 or a unix socket.

    Replies are strings ("250 Ok"; multi-line with "\\n" between lines) or
    callables taking the command argument; None in dot_per_rcpt hangs up.
    The server records every command line, the DATA content, and whether
    the client pipelined MAIL..DATA."""

    def __init__(self, unix_path=None, greeting="220 fake.example ESMTP", lmtp=False,
                 ehlo=("PIPELINING", "SIZE 10240000", "8BITMIME", "DSN"), ehlo_reply=None,
                 mail="250 2.1.0 Ok", rcpt=lambda arg: "250 2.1.5 Ok", data="354 End data",
                 dot="250 2.0.0 Ok: queued as FAKE1", dot_per_rcpt=None,
                 silent=False, close_after=None):
        self.greeting, self.lmtp, self.ehlo, self.ehlo_reply = greeting, lmtp, ehlo, ehlo_reply
        self.mail, self.rcpt, self.data, self.dot = mail, rcpt, data, dot
        self.dot_per_rcpt, self.silent, self.close_after = dot_per_rcpt, silent, close_after
        self.commands, self.content, self.pipelined, self.sessions = [], b"", None, 0
        if unix_path:
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.sock.bind(unix_path)
            os.chmod(unix_path, 0o777)
            self.port = None
        else:
            self.sock = socket.socket()
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self.port = free_port()
            self.sock.bind(("127.0.0.1", self.port))
        self.sock.listen(5)
        self.sock.settimeout(0.2)
        self.stopping = False
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def close(self):
        self.stopping = True
        self.thread.join(10)
        self.sock.close()

    def serve(self):
        while not self.stopping:
            try:
                conn, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            self.sessions += 1
            with conn:
                conn.settimeout(15)
                try:
                    self.session(conn)
                except (OSError, ConnectionError):
                    pass

    def session(self, conn):
        buf = bytearray()

        def fill(timeout=None):
            if timeout is not None:
                conn.settimeout(timeout)
            try:
                chunk = conn.recv(65536)
            finally:
                conn.settimeout(15)
            if not chunk:
                raise ConnectionError("client closed")
            buf.extend(chunk)

        def line():
            while b"\n" not in buf:
                fill()
            i = buf.index(b"\n")
            out = bytes(buf[:i]).rstrip(b"\r").decode("latin-1")
            del buf[:i + 1]
            return out

        def send(reply, arg=""):
            if callable(reply):
                reply = reply(arg)
            lines = reply.split("\n")
            text = "".join(f"{l[:3]}-{l[4:]}\r\n" for l in lines[:-1]) + lines[-1] + "\r\n"
            conn.sendall(text.encode())

        if self.silent:
            while not self.stopping:
                time.sleep(0.1)
            return
        send(self.greeting)
        accepted = 0
        while True:
            cmd = line()
            self.commands.append(cmd)
            if self.close_after and cmd.upper().startswith(self.close_after):
                return
            verb, _, arg = cmd.partition(" ")
            verb = verb.upper()
            if verb in ("EHLO", "LHLO"):
                if self.ehlo_reply:
                    send(self.ehlo_reply)
                else:
                    send("\n".join(["250 fake.example"] + ["250 " + e for e in self.ehlo]))
            elif verb == "HELO":
                send("250 fake.example")
            elif verb == "MAIL":
                accepted = 0
                if "PIPELINING" in self.ehlo:       # did DATA come without waiting?
                    deadline = time.monotonic() + 1.0
                    while b"DATA\r\n" not in buf and time.monotonic() < deadline:
                        try:
                            fill(0.2)
                        except socket.timeout:
                            pass
                    self.pipelined = b"DATA\r\n" in buf
                send(self.mail, arg)
            elif verb == "RCPT":
                reply = self.rcpt(arg)
                if reply.startswith("2"):
                    accepted += 1
                send(reply)
            elif verb == "DATA":
                send(self.data)
                if not self.data.startswith("354"):
                    continue
                while b"\r\n.\r\n" not in buf and not buf.startswith(b".\r\n"):
                    fill()
                if buf.startswith(b".\r\n"):
                    end = 0
                    self.content = b""
                else:
                    end = buf.index(b"\r\n.\r\n") + 2
                    self.content = bytes(buf[:end])
                del buf[:end + 3]
                if self.lmtp:
                    for i in range(accepted):
                        if self.dot_per_rcpt[i] is None:   # hang up mid-way
                            return
                        send(self.dot_per_rcpt[i])
                else:
                    send(self.dot)
            elif verb == "QUIT":
                send("221 2.0.0 Bye")
                return
            elif verb == "RSET":
                send("250 2.0.0 Ok")
            else:
                send("502 5.5.2 Error: command not recognized")


# ---------------------------------------------------------------- fixtures

class Agent:
    def __init__(self, inst):
        self.inst = inst

    def deliver(self, nexthop, rcpts, sender="sender@example.org", content="Subject: t\n\nbody\n",
                service="smtp", envid=None, ret=None, attrs=()):
        """Queue a message in active/ and ask the agent to deliver it."""
        norm = [(r, "", 0) if isinstance(r, str) else r for r in rcpts]
        qid, offsets = make_queue_file(os.path.join(self.inst.queue, "active"), sender, norm,
                                       content, envid=envid, ret=ret, attrs=attrs)
        now = int(time.time() * 1e6)
        attrs = [("request", "deliver"), ("queue_id", qid), ("queue_name", "active"),
                 ("nexthop", nexthop), ("sender", sender), ("arrival", now), ("active", now),
                 ("dispatch", now), ("rcpt_count", len(offsets))]
        attrs += [(f"rcpt_{i}", off) for i, off in enumerate(offsets)]
        path = os.path.join(self.inst.queue, "private", service)
        wait_for(lambda: os.path.exists(path), what=f"private/{service}")
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(60)
            s.connect(path)
            s.sendall(encode_frame(attrs))
            reply = read_frame(s)
        reply["queue_id"] = qid
        return reply


@pytest.fixture
def agent(instance_dir):
    inst = Instance(os.path.join(instance_dir, "inst"), pick_port_base())
    inst.set_master_cf(MASTER_CF)
    with open(os.path.join(inst.dir, "main.cf"), "a") as f:
        f.write("smtp_helo_name = client.example\n"
                "lmtp_lhlo_name = lmtp-client.example\n"
                "smtp_helo_timeout = 3s\n"
                "lmtp_lhlo_timeout = 3s\n"
                "smtp_connect_timeout = 3s\n")
    inst.postern("start")
    yield Agent(inst)
    left = inst.stop_everything()
    assert not left, f"processes left running: {left}"
    bad = [line for line in inst.log().splitlines() if SANITIZER_REPORT.search(line)]
    assert not bad, "sanitizer reports in the maillog:\n" + "\n".join(bad[:20])


@pytest.fixture
def servers():
    made = []

    def make(**kw):
        srv = FakeServer(**kw)
        made.append(srv)
        return srv
    yield make
    for srv in made:
        srv.close()


def log_line(agent, qid, rcpt, timeout=10):
    m = agent.inst.wait_log(rf"{qid}: to=<{re.escape(rcpt)}>, .*", timeout)
    return m.group(0)


# ---------------------------------------------------------------- tests

def test_sent_with_pipelining_and_esmtp_parameters(agent, servers):
    srv = servers()
    content = "Subject: hi\n\n.leading dot\n..two dots\n.\nlast line without newline"
    r = agent.deliver(f"[127.0.0.1]:{srv.port}", ["a@example.net", "b@example.net"],
                      content=content, attrs=[("encoding", "8bit")])
    assert r["status"] == "ok"
    for i in range(2):
        assert r[f"result_{i}"] == "sent"
        assert r[f"dsn_{i}"] == "2.0.0"
        assert r[f"text_{i}"] == "250 2.0.0 Ok: queued as FAKE1"
        assert r[f"diag_{i}"] == "smtp; 250 2.0.0 Ok: queued as FAKE1"
        assert r[f"mta_{i}"] == "dns; 127.0.0.1"
    assert "dest_failed" not in r
    line = log_line(agent, r["queue_id"], "a@example.net")
    assert f"relay=127.0.0.1[127.0.0.1]:{srv.port}," in line
    assert line.endswith("dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as FAKE1)")
    assert srv.pipelined is True
    assert srv.commands[0] == "EHLO client.example"
    size = len(content.encode())
    assert srv.commands[1] == f"MAIL FROM:<sender@example.org> SIZE={size} BODY=8BITMIME"
    assert srv.commands[2:5] == ["RCPT TO:<a@example.net>", "RCPT TO:<b@example.net>", "DATA"]
    assert srv.commands[-1] == "QUIT"
    assert srv.content == (b"Subject: hi\r\n\r\n..leading dot\r\n...two dots\r\n..\r\n"
                           b"last line without newline\r\n")


def test_per_recipient_results_without_pipelining(agent, servers):
    replies = {"<ok@example.net>": "250 2.1.5 Ok",
               "<later@example.net>": "450 4.2.0 <later@example.net>: Mailbox busy",
               "<gone@example.net>": "550 5.1.1 <gone@example.net>: Recipient address rejected"}
    srv = servers(ehlo=("SIZE 10240000",), rcpt=lambda arg: replies[arg.split()[0][3:]])
    r = agent.deliver(f"[127.0.0.1]:{srv.port}",
                      ["ok@example.net", "later@example.net", "gone@example.net"])
    assert (r["result_0"], r["result_1"], r["result_2"]) == ("sent", "deferred", "bounced")
    assert r["dsn_1"] == "4.2.0" and r["dsn_2"] == "5.1.1"
    assert r["text_1"] == ("host 127.0.0.1[127.0.0.1] said: 450 4.2.0 <later@example.net>: "
                           "Mailbox busy (in reply to RCPT TO command)")
    assert r["diag_2"] == "smtp; 550 5.1.1 <gone@example.net>: Recipient address rejected"
    assert srv.pipelined is None
    assert [c.split()[0] for c in srv.commands] == ["EHLO", "MAIL", "RCPT", "RCPT", "RCPT",
                                                    "DATA", "QUIT"]
    line = log_line(agent, r["queue_id"], "gone@example.net")
    assert "status=bounced (host 127.0.0.1[127.0.0.1] said: 550 5.1.1" in line


def test_multiline_reply_is_joined(agent, servers):
    srv = servers(rcpt=lambda arg: "550 5.7.1 first line\n550 5.7.1 second line\n550 5.7.1 last")
    r = agent.deliver(f"[127.0.0.1]:{srv.port}", ["x@example.net"])
    assert r["result_0"] == "bounced"
    assert r["dsn_0"] == "5.7.1"
    assert r["text_0"] == ("host 127.0.0.1[127.0.0.1] said: 550-5.7.1 first line "
                           "550-5.7.1 second line 550 5.7.1 last (in reply to RCPT TO command)")


def test_mail_from_rejected_applies_to_all(agent, servers):
    srv = servers(mail="553 5.7.1 <sender@example.org>: Sender address rejected")
    r = agent.deliver(f"[127.0.0.1]:{srv.port}", ["a@example.net", "b@example.net"])
    for i in range(2):
        assert r[f"result_{i}"] == "bounced"
        assert r[f"text_{i}"].endswith("(in reply to MAIL FROM command)")
    assert srv.content == b""


def test_2xx_reply_to_data_is_a_protocol_error(agent, servers):
    """A server that says 250 to DATA never got the message: not sent."""
    srv = servers(data="250 2.0.0 Ok")
    r = agent.deliver(f"[127.0.0.1]:{srv.port}", ["a@example.net"])
    assert r["result_0"] == "deferred"
    assert r["dsn_0"] == "4.5.0"
    assert "protocol error" in r["text_0"]


def test_end_of_data_reply_applies_to_accepted(agent, servers):
    srv = servers(rcpt=lambda arg: "550 5.1.1 no" if "bad" in arg else "250 Ok",
                  dot="452 4.3.1 Insufficient system storage")
    r = agent.deliver(f"[127.0.0.1]:{srv.port}", ["a@example.net", "bad@example.net"])
    assert r["result_0"] == "deferred"
    assert r["dsn_0"] == "4.3.1"
    assert r["text_0"].endswith("(in reply to end of DATA command)")
    assert r["result_1"] == "bounced"


def test_dsn_parameters_and_relayed_action(agent, servers):
    rcpts = [("a@example.net", "rfc822;A+1@example.net", 0x01 | 0x02), ("b@example.net", "", 0x08)]
    srv = servers()
    r = agent.deliver(f"[127.0.0.1]:{srv.port}", rcpts, envid="env+id=1", ret="H")
    assert r["result_0"] == "sent" and "action_0" not in r
    mail = srv.commands[1]
    assert " RET=HDRS" in mail and " ENVID=env+2Bid+3D1" in mail
    assert srv.commands[2] == "RCPT TO:<a@example.net> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;A+2B1@example.net"
    assert srv.commands[3] == "RCPT TO:<b@example.net> NOTIFY=NEVER"
    # a server without DSN: no parameters, and NOTIFY=SUCCESS gets "relayed"
    srv2 = servers(ehlo=("PIPELINING",))
    r = agent.deliver(f"[127.0.0.1]:{srv2.port}", rcpts, envid="x", ret="F")
    assert srv2.commands[1] == "MAIL FROM:<sender@example.org>"
    assert srv2.commands[2] == "RCPT TO:<a@example.net>"
    assert r["action_0"] == "relayed"
    assert "action_1" not in r


def test_helo_fallback(agent, servers):
    srv = servers(ehlo_reply="502 5.5.2 Error: command not recognized")
    r = agent.deliver(f"[127.0.0.1]:{srv.port}", ["a@example.net"], sender="")
    assert r["result_0"] == "sent"
    assert srv.commands[:3] == ["EHLO client.example", "HELO client.example", "MAIL FROM:<>"]


def test_size_limit_refused_early(agent, servers):
    srv = servers(ehlo=("SIZE 100",))
    r = agent.deliver(f"[127.0.0.1]:{srv.port}", ["a@example.net"], content="x" * 500 + "\n")
    assert r["result_0"] == "bounced"
    assert r["dsn_0"] == "5.3.4"
    assert r["text_0"] == "message size 501 exceeds size limit 100 of server 127.0.0.1[127.0.0.1]"
    assert not any(c.startswith("MAIL") for c in srv.commands)


def test_long_lines_are_broken(agent, servers):
    srv = servers()
    body = "Subject: long\n\n" + "y" * 2500 + "\n.after\n"
    r = agent.deliver(f"[127.0.0.1]:{srv.port}", ["a@example.net"], content=body)
    assert r["result_0"] == "sent"
    lines = srv.content.split(b"\r\n")
    assert max(len(l) for l in lines) <= 998
    assert b"".join(lines[2:5]) == b"y" * 2500
    assert b"..after" in lines


def test_connection_refused(agent):
    port = free_port()
    r = agent.deliver(f"[127.0.0.1]:{port}", ["a@example.net", "b@example.net"])
    assert r["result_0"] == r["result_1"] == "deferred"
    assert r["dsn_0"] == "4.4.1"
    assert r["text_0"] == f"connect to 127.0.0.1[127.0.0.1]:{port}: Connection refused"
    assert r["dest_failed"] == "1"
    line = log_line(agent, r["queue_id"], "a@example.net")
    assert "relay=none," in line


def test_greeting_421_defers(agent, servers):
    srv = servers(greeting="421 4.3.2 Service shutting down")
    r = agent.deliver(f"[127.0.0.1]:{srv.port}", ["a@example.net"])
    assert r["result_0"] == "deferred"
    assert r["dsn_0"] == "4.3.2"
    assert r["text_0"] == ("host 127.0.0.1[127.0.0.1] refused to talk to me: "
                           "421 4.3.2 Service shutting down")
    assert r["dest_failed"] == "1"


def test_greeting_5xx_is_skipped_as_soft(agent, servers):
    srv = servers(greeting="554 5.3.2 No thanks")
    r = agent.deliver(f"[127.0.0.1]:{srv.port}", ["a@example.net"])
    assert r["result_0"] == "deferred"
    assert r["dsn_0"] == "4.3.2"


def test_greeting_timeout(agent, servers):
    srv = servers(silent=True)
    t0 = time.monotonic()
    r = agent.deliver(f"[127.0.0.1]:{srv.port}", ["a@example.net"])
    assert time.monotonic() - t0 < 20
    assert r["result_0"] == "deferred"
    assert r["text_0"] == ("conversation with 127.0.0.1[127.0.0.1] timed out while "
                           "receiving the initial server greeting")
    assert r["dest_failed"] == "1"


def test_lost_connection_during_rcpt(agent, servers):
    srv = servers(ehlo=("SIZE 1000000",), close_after="RCPT")
    r = agent.deliver(f"[127.0.0.1]:{srv.port}", ["a@example.net", "b@example.net"])
    assert r["result_0"] == r["result_1"] == "deferred"
    assert r["dsn_0"] == "4.4.2"
    assert r["text_0"] == "lost connection with 127.0.0.1[127.0.0.1] while sending RCPT TO"


@pytest.mark.parametrize("greeting,why", [
    ("hello there", "reply without a valid status code"),
    ("220 " + "x" * 5000, "reply line too long"),
    ("220-a\n250 b", "reply code changes within a multi-line reply"),
])
def test_malformed_greeting_is_a_protocol_error(agent, servers, greeting, why):
    srv = servers(greeting=greeting)
    r = agent.deliver(f"[127.0.0.1]:{srv.port}", ["a@example.net"])
    assert r["result_0"] == "deferred"
    assert r["text_0"] == (f"conversation with 127.0.0.1[127.0.0.1] failed: {why} "
                           "while receiving the initial server greeting")


def test_lmtp_lost_after_end_of_data(agent, servers):
    srv = servers(lmtp=True, ehlo=("PIPELINING",), dot_per_rcpt=["250 2.0.0 Saved", None])
    r = agent.deliver(f"inet:127.0.0.1:{srv.port}", ["a@example.net", "b@example.net"],
                      service="lmtp")
    assert r["result_0"] == "sent"
    assert r["result_1"] == "deferred"
    assert r["text_1"] == ("lost connection with 127.0.0.1[127.0.0.1] while sending end of "
                           "data -- message may be sent more than once")


@pytest.mark.parametrize("where", ["greeting", "ehlo"])
def test_server_with_my_hostname_loops_back(agent, servers, where):
    me = agent.inst.param("myhostname")
    if where == "greeting":
        srv = servers(greeting=f"220 {me} ESMTP")
    else:
        srv = servers(ehlo_reply=f"250 {me.upper()}\n250 PIPELINING")
    nexthop = f"[127.0.0.1]:{srv.port}"
    r = agent.deliver(nexthop, ["a@example.net"])
    assert r["result_0"] == "bounced"
    assert r["dsn_0"] == "5.4.6"
    assert r["text_0"] == f"mail for {nexthop} loops back to myself"
    assert not any(c.startswith("MAIL") for c in srv.commands)
    agent.inst.wait_log(rf"warning: host 127\.0\.0\.1\[127\.0\.0\.1\] greeted me with my own "
                        rf"hostname {re.escape(me)}")


def test_relay_service_logs_under_its_name(agent, servers):
    srv = servers()
    r = agent.deliver(f"[127.0.0.1]:{srv.port}", ["a@example.net"], service="relay")
    assert r["result_0"] == "sent"
    agent.inst.wait_log(rf"postern/relay/smtp\[\d+\]: {r['queue_id']}: to=<a@example.net>")


def test_lmtp_per_recipient_replies(agent, servers):
    srv = servers(lmtp=True, ehlo=("PIPELINING", "ENHANCEDSTATUSCODES"),
                  dot_per_rcpt=["250 2.0.0 <a@example.net> Saved",
                                "452 4.2.2 <b@example.net> Mailbox full",
                                "550 5.1.1 <c@example.net> Unknown"])
    r = agent.deliver(f"inet:127.0.0.1:{srv.port}", ["a@example.net", "b@example.net", "c@example.net"],
                      service="lmtp")
    assert srv.commands[0] == "LHLO lmtp-client.example"
    assert (r["result_0"], r["result_1"], r["result_2"]) == ("sent", "deferred", "bounced")
    assert r["text_0"] == "250 2.0.0 <a@example.net> Saved"
    assert r["dsn_1"] == "4.2.2"
    assert r["text_2"].endswith("550 5.1.1 <c@example.net> Unknown (in reply to end of DATA command)")
    agent.inst.wait_log(rf"postern/lmtp\[\d+\]: {r['queue_id']}: to=<a@example.net>")


def test_lmtp_over_unix_socket(agent, servers):
    path = os.path.join(agent.inst.queue, "private", "fake-lmtp")
    srv = servers(unix_path=path, lmtp=True, ehlo=(),
                  dot_per_rcpt=["250 2.0.0 Ok", "250 2.0.0 Ok"])
    r = agent.deliver("unix:private/fake-lmtp", ["a@example.net", "b@example.net"], service="lmtp")
    assert r["result_0"] == r["result_1"] == "sent"
    line = log_line(agent, r["queue_id"], "b@example.net")
    assert "relay=private/fake-lmtp," in line
    assert srv.commands[:4] == ["LHLO lmtp-client.example", "MAIL FROM:<sender@example.org>",
                                "RCPT TO:<a@example.net>", "RCPT TO:<b@example.net>"]


def test_bad_nexthop(agent):
    r = agent.deliver("[127.0.0.1]:99999", ["a@example.net"])
    assert r["result_0"] == "deferred"
    assert r["text_0"] == "bad next-hop syntax: [127.0.0.1]:99999"


# ---------------------------------------------------------------- through qmgr

def full_instance(instance, **params):
    with open(os.path.join(instance.dir, "main.cf"), "a") as f:
        f.write("\n" + "".join(f"{k} = {v}\n" for k, v in params.items()))
    instance.postern("start")
    return instance


def sendmail(inst, *args, content="Subject: through qmgr\n\nhello\n"):
    inst.run("sendmail", "-C", inst.dir, *args, input=content)


def test_relayhost_through_qmgr(instance, servers):
    srv = servers()
    full_instance(instance, relayhost=f"[127.0.0.1]:{srv.port}", smtp_helo_name="out.example")
    sendmail(instance, "-f", "alice@example.test", "bob@remote.example", "carol@remote.example")
    m = instance.wait_log(r"(\w+): to=<bob@remote\.example>, relay=127\.0\.0\.1\[127\.0\.0\.1\]:"
                          rf"{srv.port}, .*status=sent \(250 2\.0\.0 Ok: queued as FAKE1\)", 20)
    instance.wait_log(rf"{m[1]}: removed", 10)
    assert srv.commands[0] == "EHLO out.example"
    assert srv.commands[1].startswith("MAIL FROM:<alice@example.test> SIZE=")
    assert sorted(srv.commands[2:4]) == ["RCPT TO:<bob@remote.example>",
                                         "RCPT TO:<carol@remote.example>"]
    assert b"Subject: through qmgr\r\n" in srv.content
    assert srv.content.endswith(b"hello\r\n")


def test_transport_map_nexthop_and_retry_after_4xx(instance, servers):
    state = {"reply": "451 4.3.0 Try again later"}
    srv = servers(rcpt=lambda arg: state["reply"])
    with open(os.path.join(instance.dir, "transport"), "w") as f:
        f.write(f"remote.example smtp:[127.0.0.1]:{srv.port}\n")
    full_instance(instance, transport_maps=f"texthash:{instance.dir}/transport",
                  minimal_backoff_time="1s", maximal_backoff_time="2s", queue_run_delay="1s")
    sendmail(instance, "-f", "alice@example.test", "dave@remote.example")
    m = instance.wait_log(r"(\w+): to=<dave@remote\.example>, relay=127\.0\.0\.1\[127\.0\.0\.1\]:"
                          r"\d+, .*dsn=4\.3\.0, status=deferred \(host 127\.0\.0\.1\[127\.0\.0\.1\] "
                          r"said: 451 4\.3\.0 Try again later \(in reply to RCPT TO command\)\)", 20)
    state["reply"] = "250 2.1.5 Ok"
    instance.wait_log(rf"{m[1]}: to=<dave@remote\.example>, .*status=sent", 30)
    instance.wait_log(rf"{m[1]}: removed", 10)


@pytest.mark.parametrize("route", ["relayhost", "transport_maps"])
def test_relay_to_second_instance(instances, route):
    """A's smtp client hands mail for b.example to B's smtpd; B puts it in
    a virtual mailbox."""
    b = instances("b", users=("alice:secret",), domain="b.example", hostname="mx.b.example")
    b.postern("start")
    a = instances("a", hostname="mail.a.example")
    nexthop = f"[127.0.0.1]:{b.smtp_port}"
    if route == "relayhost":
        a.set(relayhost=nexthop)
    else:
        with open(os.path.join(a.dir, "transport"), "w") as f:
            f.write(f"b.example smtp:{nexthop}\n")
        a.set(transport_maps=f"texthash:{a.dir}/transport")
    a.postern("start")
    mid = f"<{random.randrange(10**12)}@a.example>"
    a.smtp("carol@a.example", ["alice@b.example"],
           f"From: carol@a.example\nTo: alice@b.example\nSubject: relayed\nMessage-ID: {mid}\n\n"
           ".a line with a leading dot\nbye\n")
    m = a.wait_log(r"(\w+): to=<alice@b\.example>, relay=127\.0\.0\.1\[127\.0\.0\.1\]:"
                   rf"{b.smtp_port}, .*dsn=2\.0\.0, status=sent \(250 2\.0\.0 Ok: queued as (\w+)\)", 30)
    b.wait_log(rf"{m[2]}: to=<alice@b\.example>, .*status=sent", 30)
    msgs = wait_for(lambda: [x for x in maildir_messages(b.vmaildir("alice", "b.example"))
                             if x.get("Message-ID") == mid], 30, interval=0.2, what="the message")
    body = msgs[0].get_payload()
    assert ".a line with a leading dot\n" in body.replace("\r\n", "\n")
    assert "mail.a.example" in " ".join(msgs[0].get_all("Received"))
