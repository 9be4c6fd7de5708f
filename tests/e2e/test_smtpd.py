"""End-to-end tests of smtpd: real instances, real SMTP clients.

Each test starts a `postern init` instance (with a mailbox user bob in the
virtual domain example.test), talks SMTP to it with smtplib, swaks or a raw
socket, and checks what reached incoming/ by parsing the queue file format
that lib/queue_file.h describes.
"""
import os
import re
import shutil
import signal
import smtplib
import socket
import struct
import subprocess
import time

import pytest

from conftest import Instance, alive, children_of, connect, pick_port_base, wait_for

DOMAIN = "example.test"
BOB = "bob@" + DOMAIN
ENH = re.compile(r"^\d{3}[ -][245]\.\d{1,3}\.\d{1,3} ")


# ------------------------------------------------------------- queue files

def parse_queue_file(path):
    """Parse a queue file (lib/queue_file.h, version 1); assert it is valid."""
    with open(path, "rb") as f:
        data = f.read()
    recs = []
    off = 0
    while off < len(data):
        assert off + 5 <= len(data), "truncated record header"
        rtype = chr(data[off])
        (length,) = struct.unpack(">I", data[off + 1:off + 5])
        payload = data[off + 5:off + 5 + length]
        assert len(payload) == length, "truncated record"
        recs.append((rtype, payload))
        off += 5 + length
    types = [t for t, _ in recs]
    assert types[0] == "V" and recs[0][1] == b"\x01"
    assert types[-1] == "E" and types.count("E") == 1
    z = types.index("Z")
    assert all(t in "TISWNFCAR" for t in types[1:z]), types
    assert all(t == "B" for t in types[z + 1:-1]), types
    msg = {"rcpt": [], "attrs": {}, "content": b""}
    for t, p in recs:
        if t == "I":
            msg["id"] = p.decode()
        elif t == "S":
            msg["sender"] = p.decode()
        elif t == "C":
            fields, o = [], 0
            for _ in range(4):
                (n,) = struct.unpack(">H", p[o:o + 2])
                fields.append(p[o + 2:o + 2 + n].decode())
                o += 2 + n
            msg["client"] = fields
        elif t == "R":
            status, notify, alen = p[0], p[1], struct.unpack(">H", p[2:4])[0]
            msg["rcpt"].append({"status": chr(status), "notify": notify,
                                "address": p[4:4 + alen].decode(),
                                "orcpt": p[4 + alen:].decode()})
        elif t == "A":
            name, _, value = p.decode().partition("=")
            msg["attrs"][name] = value
        elif t == "N":
            msg["envid"] = p.decode()
        elif t == "F":
            msg["ret"] = p.decode()
        elif t == "Z":
            (msg["size"],) = struct.unpack(">Q", p)
        elif t == "B":
            msg["content"] += p
    assert msg["size"] == len(msg["content"])
    assert msg["rcpt"], "no recipient"
    assert msg["id"] == os.path.basename(path)
    return msg


def queued(inst):
    d = os.path.join(inst.queue, "incoming")
    return sorted(n for n in os.listdir(d) if not n.startswith("tmp."))


def queue_file(inst, qid):
    return parse_queue_file(os.path.join(inst.queue, "incoming", qid))


# ------------------------------------------------------------- instances

@pytest.fixture
def make(instance_dir):
    """make(**main_cf) -> a started instance with those main.cf settings."""
    made = []

    def _make(**params):
        inst = Instance(os.path.join(instance_dir, f"inst{len(made)}"), pick_port_base(),
                        users=("bob:secret",))
        made.append(inst)
        # The receive path alone: without qmgr, new mail stays in incoming/.
        inst.without_services("qmgr")
        if params:
            inst.postconf("-e", *[f"{k}={v}" for k, v in params.items()])
        inst.postern("start")
        inst.smtp_port = inst.port_base + 25
        connect(inst.smtp_port).close()
        return inst

    yield _make
    for inst in made:
        left = inst.stop_everything()
        assert not left, f"processes left running after postern stop: {left}"
        bad = [l for l in inst.log().splitlines()
               if "ERROR: AddressSanitizer" in l or "runtime error:" in l
               or "LeakSanitizer: detected memory leaks" in l]
        if bad:
            log = inst.log()
            pytest.fail(log[log.index(bad[0]):][:8000])


class Raw:
    """A raw SMTP session: send bytes, read whole replies."""

    def __init__(self, port, timeout=10.0):
        self.sock = connect(port, timeout)
        self.sock.settimeout(timeout)
        self.buf = b""

    def send(self, data):
        self.sock.sendall(data if isinstance(data, bytes) else data.encode())

    def reply(self):
        """One reply: list of lines (without CRLF); [] at end of file."""
        lines = []
        while True:
            while b"\r\n" not in self.buf:
                chunk = self.sock.recv(65536)
                if not chunk:
                    assert not self.buf, f"partial line at EOF: {self.buf!r}"
                    return lines
                self.buf += chunk
            line, self.buf = self.buf.split(b"\r\n", 1)
            lines.append(line.decode("utf-8", "replace"))
            if len(line) < 4 or line[3:4] == b" ":
                return lines

    def code(self):
        r = self.reply()
        assert r, "connection closed"
        return int(r[-1][:3]), r[-1]

    def cmd(self, line):
        self.send(line + "\r\n")
        return self.code()

    def closed(self):
        try:
            return self.sock.recv(1) == b""
        except ConnectionResetError:
            return True

    def close(self):
        self.sock.close()


def session(inst, ehlo=True):
    r = Raw(inst.smtp_port)
    code, _ = r.code()
    assert code == 220
    if ehlo:
        r.send("EHLO client.example\r\n")
        assert r.reply()[-1].startswith("250 ")
    return r


MSG = "From: a@example.org\r\nTo: bob@example.test\r\nSubject: test\r\n\r\nHello Bob.\r\n"


# ------------------------------------------------------------- tests

def test_smtplib_message_is_a_valid_queue_file(make):
    inst = make()
    with smtplib.SMTP("127.0.0.1", inst.smtp_port, timeout=10) as s:
        code, _ = s.ehlo("client.example")
        assert code == 250
        s.mail("alice@example.org")
        s.rcpt(BOB)
        code, resp = s.data(MSG)
        assert code == 250
        m = re.match(rb"2\.0\.0 Ok: queued as (\S+)", resp)
        assert m, resp
        qid = m[1].decode()
    assert qid in queued(inst)
    msg = queue_file(inst, qid)
    assert msg["sender"] == "alice@example.org"
    assert [r["address"] for r in msg["rcpt"]] == [BOB]
    assert all(r["status"] == "P" for r in msg["rcpt"])
    assert b"Hello Bob.\n" in msg["content"]
    assert b"\r" not in msg["content"]
    assert msg["client"][1] == "127.0.0.1"
    assert msg["client"][2] == "client.example"
    assert msg["client"][3] == "ESMTP"
    inst.wait_log(r"smtpd\[\d+\]: connect from \S+\[127\.0\.0\.1\]")
    inst.wait_log(rf"smtpd\[\d+\]: {qid}: client=\S+\[127\.0\.0\.1\]")
    inst.wait_log(r"smtpd\[\d+\]: disconnect from \S+\[127\.0\.0\.1\] ehlo=1 mail=1 rcpt=1 "
                  r"data=1 quit=1 commands=5")


def test_file_is_in_incoming_before_the_250(make):
    inst = make()
    r = session(inst)
    assert r.cmd("MAIL FROM:<a@example.org>")[0] == 250
    assert r.cmd(f"RCPT TO:<{BOB}>")[0] == 250
    assert r.cmd("DATA")[0] == 354
    r.send(MSG + ".\r\n")
    code, line = r.code()
    # Look at the directory the moment the reply arrives.
    names = queued(inst)
    assert code == 250
    qid = line.split()[-1]
    assert qid in names
    queue_file(inst, qid)
    assert not [n for n in os.listdir(os.path.join(inst.queue, "incoming"))
                if n.startswith("tmp.")]
    r.cmd("QUIT")


def test_ehlo_extensions_and_simple_commands(make):
    inst = make()
    r = session(inst, ehlo=False)
    r.send("EHLO client.example\r\n")
    lines = r.reply()
    exts = [l[4:] for l in lines[1:]]
    assert "PIPELINING" in exts and "ENHANCEDSTATUSCODES" in exts
    assert "8BITMIME" in exts and "DSN" in exts and "SMTPUTF8" in exts
    assert "CHUNKING" in exts and "SIZE 10240000" in exts
    assert "VRFY" in exts                       # disable_vrfy_command = no
    assert not any(e.startswith("ETRN") or e.startswith("STARTTLS") for e in exts)
    for c, want in (("NOOP", 250), ("RSET", 250), ("HELP", 214), ("VRFY bob", 252),
                    ("STARTTLS", 502), ("EXPN staff", 502), ("FOO", 502),
                    ("RCPT TO:<bob@example.test>", 503), ("DATA", 503),
                    ("MAIL FROM:<a@example.org>", 250), ("MAIL FROM:<a@example.org>", 503),
                    ("DATA", 554), ("RSET", 250),
                    ("MAIL FROM:<a@>", 501), ("QUIT", 221)):
        code, line = r.cmd(c)
        assert code == want, (c, line)
        assert ENH.match(line), f"no RFC 3463 code in {line!r}"
    assert r.closed()


def test_vrfy_disabled(make):
    inst = make(disable_vrfy_command="yes")
    r = session(inst, ehlo=False)
    r.send("EHLO client.example\r\n")
    assert "250-VRFY" not in r.reply()
    code, line = r.cmd("VRFY bob")
    assert line == "502 5.5.1 VRFY command is disabled"


def test_pipelining_everything_in_one_write(make):
    inst = make()
    r = session(inst)
    r.send("MAIL FROM:<a@example.org>\r\nRCPT TO:<bob@example.test>\r\nDATA\r\n"
           + MSG + ".\r\n"
           # pipelined after the end of data: the next commands, not message text
           + "MAIL FROM:<second@example.org>\r\nRCPT TO:<bob@example.test>\r\nDATA\r\n"
           + "Subject: two\r\n\r\nsecond\r\n.\r\nQUIT\r\n")
    codes = [r.code()[0] for _ in range(9)]
    assert codes == [250, 250, 354, 250, 250, 250, 354, 250, 221]
    assert r.closed()
    ids = queued(inst)
    assert len(ids) == 2
    msgs = sorted((queue_file(inst, i) for i in ids), key=lambda m: m["sender"])
    assert msgs[0]["sender"] == "a@example.org"
    assert b"MAIL FROM" not in msgs[0]["content"]
    assert msgs[1]["sender"] == "second@example.org"
    inst.wait_log(r"disconnect from \S+ ehlo=1 mail=2 rcpt=2 data=2 quit=1 commands=8")


def test_8bitmime(make):
    inst = make()
    body = "Subject: caf\u00e9\r\n\r\nD\u00e9j\u00e0 vu \u2014 \u00fcber.\r\n"
    with smtplib.SMTP("127.0.0.1", inst.smtp_port, timeout=10) as s:
        s.ehlo("client.example")
        assert s.has_extn("8bitmime")
        s.sendmail("a@example.org", [BOB], body.encode(), mail_options=["BODY=8BITMIME"])
    (qid,) = queued(inst)
    msg = queue_file(inst, qid)
    assert "D\u00e9j\u00e0 vu \u2014 \u00fcber.\n".encode() in msg["content"]
    # Kept for the smtp client, which then sends BODY=8BITMIME onwards.
    assert msg["attrs"].get("encoding") == "8bit", msg["attrs"]


def test_bdat_chunks(make):
    inst = make()
    r = session(inst)
    assert r.cmd("MAIL FROM:<a@example.org>")[0] == 250
    assert r.cmd(f"RCPT TO:<{BOB}>")[0] == 250
    part1 = b"Subject: chunks\r\n\r\nline one\r\n.\r\nMAIL FROM:<x@y>\r\n"
    part2 = b"line two\r\n"
    r.send(b"BDAT %d\r\n" % len(part1) + part1)
    code, line = r.code()
    assert code == 250 and ENH.match(line)
    # Last chunk, with a command pipelined behind it.
    r.send(b"BDAT %d LAST\r\n" % len(part2) + part2 + b"NOOP\r\n")
    code, line = r.code()
    assert code == 250 and "queued as" in line
    assert r.code()[0] == 250          # the NOOP
    qid = line.split()[-1]
    content = queue_file(inst, qid)["content"]
    # The dot line and "MAIL FROM" are message text inside a chunk.
    assert b"line one\n.\nMAIL FROM:<x@y>\nline two\n" in content
    assert r.cmd("QUIT")[0] == 221
    inst.wait_log(r"disconnect from \S+ ehlo=1 mail=1 rcpt=1 bdat=2 noop=1 quit=1 commands=7")


def test_bdat_without_transaction_and_empty_last(make):
    inst = make()
    r = session(inst)
    r.send(b"BDAT 5\r\nhello")
    assert r.code()[0] == 503
    assert r.cmd("MAIL FROM:<a@example.org>")[0] == 250
    assert r.cmd(f"RCPT TO:<{BOB}>")[0] == 250
    r.send(b"BDAT 12\r\nSubject: x\r\n")
    assert r.code()[0] == 250
    code, line = r.cmd("BDAT 0 LAST")
    assert code == 250 and "queued as" in line


def test_message_size_limit(make):
    inst = make(message_size_limit="2000")
    r = session(inst)
    code, line = r.cmd("MAIL FROM:<a@example.org> SIZE=5000")
    assert (code, line) == (552, "552 5.3.4 Message size exceeds fixed limit")
    assert r.cmd("MAIL FROM:<a@example.org> SIZE=1000")[0] == 250
    assert r.cmd(f"RCPT TO:<{BOB}>")[0] == 250
    assert r.cmd("DATA")[0] == 354
    r.send("Subject: big\r\n\r\n" + ("x" * 70 + "\r\n") * 60 + ".\r\n")
    code, line = r.code()
    assert code == 552 and line.startswith("552 5.3.4 ")
    # BDAT: counted against the limit too.
    assert r.cmd("MAIL FROM:<a@example.org>")[0] == 250
    assert r.cmd(f"RCPT TO:<{BOB}>")[0] == 250
    chunk = b"y" * 3000
    r.send(b"BDAT %d LAST\r\n" % len(chunk) + chunk)
    code, line = r.code()
    assert code == 552 and line.startswith("552 5.3.4 ")
    assert r.cmd("NOOP")[0] == 250        # still in sync
    assert queued(inst) == []


def test_recipient_limit(make):
    inst = make(smtpd_recipient_limit="1")
    r = session(inst)
    assert r.cmd("MAIL FROM:<a@example.org>")[0] == 250
    assert r.cmd(f"RCPT TO:<{BOB}>")[0] == 250
    assert r.cmd("RCPT TO:<postmaster@example.test>") == (
        452, "452 4.5.3 Error: too many recipients")


RELAY_TRICKS = [
    "user@other.example",                       # plain relaying
    "user%other.example@example.test",          # percent hack
    "other.example!user@example.test",          # bang path
    "@example.test:user@other.example",         # source route
    "@other.example:bob@example.test",          # source route to our own domain
    '"user@other.example"@example.test',        # quoted local part hiding @
    "user@other.example.",                      # trailing dot
    "bob@example.test.",                        # trailing dot on our own domain
    "user@[192.0.2.1]",                         # IP literal
    "bob@[127.0.0.1]",                          # IP literal of this host
]


def test_no_open_relay_outside_mynetworks(make):
    inst = make(mynetworks="192.0.2.0/24")
    for rcpt in RELAY_TRICKS:
        r = session(inst)
        assert r.cmd("MAIL FROM:<a@example.org>")[0] == 250
        code, line = r.cmd(f"RCPT TO:<{rcpt}>")
        assert 500 <= code < 600, (rcpt, line)
        assert ENH.match(line)
        r.cmd("QUIT")
        r.close()
    # Our own domain is still reachable from outside.
    r = session(inst)
    assert r.cmd("MAIL FROM:<a@example.org>")[0] == 250
    assert r.cmd(f"RCPT TO:<{BOB}>")[0] == 250
    inst.wait_log(r"NOQUEUE: reject: RCPT from \S+\[127\.0\.0\.1\]: 5\d\d 5\.\d\.\d+ .*; "
                  r"from=<a@example\.org> to=<user@other\.example> proto=ESMTP "
                  r"helo=<client\.example>")


def test_relay_allowed_inside_mynetworks(make):
    inst = make()
    with smtplib.SMTP("127.0.0.1", inst.smtp_port, timeout=10) as s:
        s.ehlo("client.example")
        refused = s.sendmail("a@example.org", ["user@other.example"], MSG)
        assert refused == {}
    (qid,) = queued(inst)
    assert [r["address"] for r in queue_file(inst, qid)["rcpt"]] == ["user@other.example"]


SMUGGLE_ENDS = [b"\n.\n", b"\n.\r\n", b"\r\n.\n", b"\r.\r", b"\r\n.\r", b"\r.\r\n",
                b"\r\n.\r\r\n", b"\n.\r"]
SMUGGLED = (b"MAIL FROM:<evil@example.org>\r\nRCPT TO:<bob@example.test>\r\nDATA\r\n"
            b"Subject: smuggled\r\n\r\nsmuggled\r\n.\r\n")


@pytest.mark.parametrize("end", SMUGGLE_ENDS, ids=lambda e: e.decode().encode("unicode_escape").decode())
def test_smuggling_refused(make, end):
    inst = make(smtpd_forbid_bare_newline_exclusions="")
    r = session(inst)
    assert r.cmd("MAIL FROM:<a@example.org>")[0] == 250
    assert r.cmd(f"RCPT TO:<{BOB}>")[0] == 250
    assert r.cmd("DATA")[0] == 354
    r.send(b"Subject: real\r\n\r\nreal" + end + SMUGGLED + b"QUIT\r\n")
    code, line = r.code()
    assert code == 521 and "bare <LF> received" in line and line.startswith("521 5.5.2 ")
    assert r.closed()
    assert queued(inst) == []


@pytest.mark.parametrize("end", SMUGGLE_ENDS[:4], ids=lambda e: e.decode().encode("unicode_escape").decode())
def test_smuggling_normalized_stays_one_message(make, end):
    inst = make(smtpd_forbid_bare_newline="normalize")
    r = session(inst)
    assert r.cmd("MAIL FROM:<a@example.org>")[0] == 250
    assert r.cmd(f"RCPT TO:<{BOB}>")[0] == 250
    assert r.cmd("DATA")[0] == 354
    r.send(b"Subject: real\r\n\r\nreal" + end + SMUGGLED + b"QUIT\r\n")
    # SMUGGLED ends in CRLF.CRLF: that is the one real end of data.
    code, line = r.code()
    assert code == 250, line
    assert r.code()[0] == 221
    (qid,) = queued(inst)
    msg = queue_file(inst, qid)
    assert msg["sender"] == "a@example.org"
    assert b"MAIL FROM:<evil@example.org>" in msg["content"]


def test_bare_lf_in_command_line_rejected(make):
    inst = make(smtpd_forbid_bare_newline_exclusions="")
    r = session(inst)
    r.send("NOOP\n")
    code, line = r.code()
    assert code == 521
    assert r.closed()


def test_mynetworks_clients_may_send_bare_lf(make):
    # smtpd_forbid_bare_newline_exclusions = $mynetworks (Postfix's default)
    inst = make()
    r = session(inst)
    assert r.cmd("MAIL FROM:<a@example.org>")[0] == 250
    assert r.cmd(f"RCPT TO:<{BOB}>")[0] == 250
    assert r.cmd("DATA")[0] == 354
    r.send(b"Subject: lf\n\nbody\n.\r\n.\r\n")
    assert r.code()[0] == 250


def test_line_length_limit(make):
    inst = make(line_length_limit="200")
    r = session(inst)
    r.send("NOOP " + "x" * 500 + "\r\nNOOP\r\n")
    assert r.code() == (500, "500 5.5.0 Error: line too long")
    assert r.code()[0] == 250            # the session goes on after the line end
    # A line longer than the input buffer, in several writes.
    r.send("NOOP " + "y" * 40000)
    time.sleep(0.2)
    r.send("y" * 40000 + "\r\nRSET\r\n")
    assert r.code()[0] == 500
    assert r.code()[0] == 250


def test_hard_error_limit(make):
    inst = make(smtpd_hard_error_limit="3", smtpd_soft_error_limit="100")
    r = session(inst)
    for _ in range(3):
        assert r.cmd("BOGUS")[0] == 502
    code, line = r.cmd("NOOP")
    assert code == 421 and line.startswith("421 4.7.0 ") and "too many errors" in line
    assert r.closed()


def test_soft_error_limit_slows_replies(make):
    inst = make(smtpd_soft_error_limit="2", smtpd_hard_error_limit="100")
    r = session(inst)
    t0 = time.monotonic()
    r.cmd("BOGUS")
    assert time.monotonic() - t0 < 0.8
    t0 = time.monotonic()
    r.cmd("BOGUS")                       # the second error: at the limit
    assert time.monotonic() - t0 >= 0.9


def test_timeout(make):
    inst = make(smtpd_timeout="2s")
    r = session(inst)
    t0 = time.monotonic()
    code, line = r.code()
    assert code == 421 and line.startswith("421 4.4.2 ")
    assert 1.5 < time.monotonic() - t0 < 10
    inst.wait_log(r"timeout after EHLO from \S+\[127\.0\.0\.1\]")


def test_connection_count_limit(make):
    inst = make(mynetworks="192.0.2.0/24", smtpd_client_connection_count_limit="2")
    a, b = session(inst, ehlo=False), session(inst, ehlo=False)
    c = Raw(inst.smtp_port)
    code, line = c.code()
    assert code == 421 and line.startswith("421 4.7.0 ")
    a.cmd("QUIT")
    a.close()
    time.sleep(0.3)
    d = Raw(inst.smtp_port)
    assert d.code()[0] == 220


def test_dsn_parameters_kept(make):
    inst = make()
    r = session(inst)
    assert r.cmd("MAIL FROM:<a@example.org> RET=HDRS ENVID=abc123")[0] == 250
    assert r.cmd(f"RCPT TO:<{BOB}> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;bob@example.test")[0] == 250
    assert r.cmd("DATA")[0] == 354
    r.send(MSG + ".\r\n")
    code, line = r.code()
    assert code == 250
    msg = queue_file(inst, line.split()[-1])
    assert msg.get("envid") == "abc123"
    assert msg.get("ret") == "H"
    assert msg["rcpt"][0]["notify"] == 0x03
    assert msg["rcpt"][0]["orcpt"] == "rfc822;bob@example.test"


@pytest.mark.skipif(shutil.which("swaks") is None, reason="swaks is not installed")
def test_swaks(make):
    inst = make()
    r = subprocess.run(["swaks", "--server", f"127.0.0.1:{inst.smtp_port}", "--to", BOB,
                        "--from", "swaks@example.org", "--helo", "swaks.example",
                        "--pipeline"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "queued as" in r.stdout
    r = subprocess.run(["swaks", "--server", f"127.0.0.1:{inst.smtp_port}", "--to", BOB,
                        "--from", "swaks@example.org", "--helo", "swaks.example"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    wait_for(lambda: len(queued(inst)) == 2, what="two queue files")
    for qid in queued(inst):
        assert queue_file(inst, qid)["sender"] == "swaks@example.org"


def test_submission_service(make):
    inst = make()
    with smtplib.SMTP("127.0.0.1", inst.port_base + 587, timeout=10) as s:
        s.ehlo("client.example")
        s.sendmail("a@example.org", [BOB], MSG)
    inst.wait_log(r"postern/submission/smtpd\[\d+\]: \S+: client=")


def smtpd_pids(inst):
    pids = []
    for pid in children_of(inst.master_pid()):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if b"smtpd" in f.read().split(b"\0")[0]:
                    pids.append(pid)
        except OSError:
            pass
    return pids


def test_kill_9_never_leaves_a_partial_queue_file(make):
    """kill -9 of smtpd around the end of data: whatever is under a queue ID
    in incoming/ is complete and valid, and every 250 has its file."""
    inst = make(service_throttle_time="1s")
    acknowledged = []
    body = "Subject: kill\r\n\r\n" + ("z" * 998 + "\r\n") * 300
    for delay in (0, 0.001, 0.005, 0.01, 0.02, 0.05, 0.1):
        r = session(inst)
        assert r.cmd("MAIL FROM:<a@example.org>")[0] == 250
        assert r.cmd(f"RCPT TO:<{BOB}>")[0] == 250
        assert r.cmd("DATA")[0] == 354
        r.send(body + ".\r\n")
        time.sleep(delay)
        for pid in smtpd_pids(inst):
            os.kill(pid, signal.SIGKILL)
        try:
            lines = r.reply()
        except (ConnectionResetError, socket.timeout):
            lines = []
        if lines and lines[-1].startswith("250 "):
            acknowledged.append(lines[-1].split()[-1])
        r.close()
        wait_for(lambda: not any(alive(p) for p in smtpd_pids(inst)) or True)
    names = queued(inst)
    for qid in names:
        queue_file(inst, qid)           # asserts the file is complete
    assert set(acknowledged) <= set(names)


def test_delay_reject_no_rejects_at_mail(make):
    inst = make(smtpd_delay_reject="no",
                smtpd_sender_restrictions="check_sender_access inline:{spam@example.org=REJECT}")
    r = session(inst)
    code, line = r.cmd("MAIL FROM:<spam@example.org>")
    assert code == 554 and ENH.match(line), line
    assert r.cmd("MAIL FROM:<ham@example.org>")[0] == 250
    inst.wait_log(r"NOQUEUE: reject: MAIL from \S+: 554 5\.7\.1 .*; from=<spam@example\.org> "
                  r"proto=ESMTP helo=<client\.example>")


def test_hold_and_discard_actions(make):
    inst = make(smtpd_recipient_restrictions="check_sender_access "
                "inline:{held@example.org=HOLD, gone@example.org=DISCARD}")
    for sender in ("held@example.org", "gone@example.org", "plain@example.org"):
        with smtplib.SMTP("127.0.0.1", inst.smtp_port, timeout=10) as s:
            s.ehlo("client.example")
            code, resp = s.docmd(f"MAIL FROM:<{sender}>")
            assert code == 250
            assert s.docmd(f"RCPT TO:<{BOB}>")[0] == 250
            code, resp = s.data(MSG)
            assert code == 250 and b"queued as" in resp
    (qid,) = queued(inst)
    assert queue_file(inst, qid)["sender"] == "plain@example.org"
    held = os.listdir(os.path.join(inst.queue, "hold"))
    assert len(held) == 1
    assert parse_queue_file(os.path.join(inst.queue, "hold", held[0]))["sender"] == \
        "held@example.org"


def test_smtputf8(make):
    inst = make()
    r = session(inst)
    code, line = r.cmd("MAIL FROM:<\u00e5lice@example.org>")
    assert (code, line[:9]) == (553, "553 5.6.7")
    assert r.cmd("MAIL FROM:<\u00e5lice@example.org> SMTPUTF8")[0] == 250
    assert r.cmd(f"RCPT TO:<{BOB}>")[0] == 250
    assert r.cmd("DATA")[0] == 354
    r.send("Subject: \u00e5\r\n\r\nhej\r\n.\r\n")
    code, line = r.code()
    assert code == 250
    assert queue_file(inst, line.split()[-1])["sender"] == "\u00e5lice@example.org"


def test_line_length_limit_counts_the_line_not_the_crlf(make):
    inst = make(line_length_limit="100")
    r = session(inst)
    assert r.cmd("NOOP " + "x" * 95)[0] == 250      # exactly 100 octets before CRLF
    assert r.cmd("NOOP " + "x" * 96)[0] == 500


def test_garbage_does_not_hurt(make):
    """Random bytes in every state; afterwards the server still takes mail."""
    import random
    rnd = random.Random(4711)
    inst = make(smtpd_hard_error_limit="1000", smtpd_soft_error_limit="1000",
                smtpd_forbid_bare_newline="normalize")
    prefixes = [b"", b"EHLO x\r\n", b"EHLO x\r\nMAIL FROM:<a@b>\r\nRCPT TO:<bob@example.test>\r\nDATA\r\n",
                b"EHLO x\r\nMAIL FROM:<a@b>\r\nRCPT TO:<bob@example.test>\r\nBDAT 70000\r\n",
                b"EHLO x\r\nBDAT 1x\r\n"]
    for prefix in prefixes:
        for _ in range(3):
            r = Raw(inst.smtp_port)
            r.code()
            junk = bytes(rnd.getrandbits(8) for _ in range(rnd.randrange(1, 60000)))
            try:
                r.send(prefix + junk + b"\r\n.\r\nQUIT\r\n")
                r.sock.settimeout(3)
                while r.sock.recv(65536):
                    pass
            except (ConnectionResetError, BrokenPipeError, socket.timeout):
                pass
            r.close()
    with smtplib.SMTP("127.0.0.1", inst.smtp_port, timeout=10) as s:
        s.ehlo("client.example")
        assert s.sendmail("a@example.org", [BOB], MSG) == {}


def test_log_improper_pipelining_and_lost_connection(make):
    inst = make()
    r = Raw(inst.smtp_port)
    assert r.code()[0] == 220
    r.send("EHLO client.example\r\nMAIL FROM:<a@example.org>\r\n")
    assert r.reply()[-1].startswith("250 ")
    assert r.code()[0] == 250
    assert r.cmd(f"RCPT TO:<{BOB}>")[0] == 250
    assert r.cmd("DATA")[0] == 354
    r.send("Subject: cut\r\n\r\n12345")
    time.sleep(0.2)
    r.close()
    inst.wait_log(r"improper command pipelining after EHLO from \S+\[127\.0\.0\.1\]: "
                  r"MAIL FROM:<a@example\.org>")
    inst.wait_log(r"lost connection after DATA \(\d+ bytes\) from \S+\[127\.0\.0\.1\]")
    inst.wait_log(r"disconnect from \S+ ehlo=1 mail=1 rcpt=1 data=0/1 commands=3/4")
    assert queued(inst) == []
    assert not [n for n in os.listdir(os.path.join(inst.queue, "incoming"))]
