"""The bounce service (bounce/, lib/bounce_proto.h) on its own: an instance
without qmgr, a message queued by sendmail + pickup and moved to deferred/,
a bounce/, defer/ or trace/ log written here, and requests sent to
private/bounce the way qmgr sends them. Checks the reply, the notification
queued in incoming/ (envelope and RFC 3464 structure), the log lines, what
happens to the logs, and that the original is never touched."""
import os
import socket
import struct

import pytest

from conftest import wait_for
from test_sendmail import queue_files, read_queue_file, sendmail

SENDER = "alice@example.org"
RCPTS = ["bob@example.test", "carol@example.test"]
MESSAGE = ("From: Alice <alice@example.org>\n"
           "To: bob@example.test, carol@example.test\n"
           "Subject: bounce me\n"
           "\n"
           "The body of the original message.\n")

# ------------------------------------------------------------ ipc_frame.h


def encode_frame(attrs):
    """One frame from (name, value) pairs; values are str, int or bytes."""
    body = b""
    for name, value in attrs:
        if isinstance(value, int):
            value = str(value)
        if isinstance(value, str):
            value = value.encode()
        body += bytes([len(name)]) + name.encode() + struct.pack(">I", len(value)) + value
    return struct.pack(">BBHI", 1, 0, len(attrs), len(body)) + body


def decode_frame(data):
    version, flags, count, length = struct.unpack(">BBHI", data[:8])
    assert version == 1 and flags == 0 and len(data) == 8 + length
    out, pos = {}, 8
    for _ in range(count):
        n = data[pos]
        name = data[pos + 1:pos + 1 + n].decode()
        (vlen,) = struct.unpack(">I", data[pos + 1 + n:pos + 5 + n])
        out.setdefault(name, data[pos + 5 + n:pos + 5 + n + vlen].decode())
        pos += 5 + n + vlen
    return out


def recv_exact(s, n):
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        assert chunk, "bounce service closed the connection without a reply"
        buf += chunk
    return buf


def bounce_request(inst, request, queue_id, queue_name="deferred", service="bounce"):
    """Send one request to private/SERVICE and return the reply as a dict."""
    path = os.path.join(inst.queue, "private", service)
    wait_for(lambda: os.path.exists(path), what=f"private/{service}")
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(30)
        s.connect(path)
        s.sendall(encode_frame([("request", request), ("queue_id", queue_id),
                                ("queue_name", queue_name)]))
        head = recv_exact(s, 8)
        (length,) = struct.unpack(">I", head[4:8])
        return decode_frame(head + recv_exact(s, length))

# ------------------------------------------------------------ queue files


def records(data):
    """A queue file's records as [type, payload, offset]."""
    out, pos = [], 0
    while pos < len(data):
        (n,) = struct.unpack(">I", data[pos + 1:pos + 5])
        out.append([chr(data[pos]), data[pos + 5:pos + 5 + n], pos])
        pos += 5 + n
    return out


def rewrite(path, sender=None, notify=None, ret=None):
    """Change a queue file's sender, every recipient's NOTIFY, or add RET,
    keeping its name, owner and everything else."""
    st = os.stat(path)
    with open(path, "rb") as f:
        recs = records(f.read())
    out = []
    for t, p, _ in recs:
        if t == "S" and sender is not None:
            p = sender.encode()
        if t == "R" and notify is not None:
            p = p[:1] + bytes([notify]) + p[2:]
        if t == "Z" and ret is not None:
            out.append(["F", ret.encode()])
        out.append([t, p])
    with open(path, "wb") as f:
        for t, p in out:
            f.write(t.encode() + struct.pack(">I", len(p)) + p)
    os.chown(path, st.st_uid, st.st_gid)


def rcpt_offsets(path):
    """{address: offset of its R record}."""
    with open(path, "rb") as f:
        recs = records(f.read())
    out = {}
    for t, p, off in recs:
        if t == "R":
            (alen,) = struct.unpack(">H", p[2:4])
            out[p[4:4 + alen].decode()] = off
    return out


def write_log(inst, kind, queue_id, entries, torn=b""):
    """Write KIND/QUEUE_ID (dsn_log.h) owned like the queue directory."""
    d = os.path.join(inst.queue, kind)
    path = os.path.join(d, queue_id)
    with open(path, "ab") as f:
        for e in entries:
            f.write(encode_frame(list(e.items())))
        f.write(torn)
    st = os.stat(d)
    os.chown(path, st.st_uid, st.st_gid)
    os.chmod(path, 0o600)
    return path


def entry(rcpt, offset, action="failed", dsn="5.1.1", text="unknown user", **extra):
    e = {"rcpt": rcpt, "orcpt": "", "notify": 0, "offset": offset, "action": action,
         "dsn": dsn, "text": text, "time": 1790000000}
    e.update(extra)
    return e


def parts(content):
    """The notification's header text and its MIME parts (header, body)."""
    text = content.decode("utf-8", "replace")
    head, body = text.split("\n\n", 1)
    b = head.split('boundary="', 1)[1].split('"', 1)[0]
    assert body.rstrip("\n").endswith(f"--{b}--")
    chunks = body.split(f"\n--{b}")
    out = []
    for c in chunks[1:-1]:
        h, _, bd = c.lstrip("\n").partition("\n\n")
        out.append((h, bd))
    return head, out

# ------------------------------------------------------------ fixtures


def park(instance, **params):
    """(instance, queue id, path in deferred/): start an instance without
    qmgr (main.cf params set first) and park one message from SENDER to
    RCPTS in deferred/."""
    with open(os.path.join(instance.dir, "master.cf")) as f:
        lines = [ln for ln in f if not ln.startswith("qmgr")]
    instance.set_master_cf("".join(lines))
    instance.set(**params)
    instance.start()
    sendmail(instance, "-f", SENDER, *RCPTS, input=MESSAGE)
    files = wait_for(lambda: queue_files(instance, "incoming"), timeout=15,
                     what="the message in incoming/")
    qid = os.path.basename(files[0])
    dst = os.path.join(instance.queue, "deferred", qid)
    os.rename(files[0], dst)
    return instance, qid, dst


@pytest.fixture
def queued(instance):
    return park(instance)


def new_messages(inst, exclude=()):
    return [p for p in queue_files(inst, "incoming") if os.path.basename(p) not in exclude]

# ------------------------------------------------------------ tests


def test_flush_sends_non_delivery_notification(queued):
    inst, qid, path = queued
    off = rcpt_offsets(path)
    with open(path, "rb") as f:
        before = f.read()
    log = write_log(inst, "bounce", qid, [
        entry("bob@example.test", off["bob@example.test"], orcpt="rfc822;bob@example.test"),
        entry("carol@example.test", off["carol@example.test"], dsn="5.0.0",
              text="host mx.example.test said: 550 go away",
              diag="smtp; 550 go away", mta="dns; mx.example.test"),
    ])
    reply = bounce_request(inst, "flush", qid)
    assert reply["status"] == "ok", reply
    newid = reply["queue_id"]
    new = os.path.join(inst.queue, "incoming", newid)
    env = read_queue_file(new)
    assert env["sender"] == ""
    assert [r["address"] for r in env["rcpt"]] == [SENDER]
    head, ps = parts(env["content"])
    assert "From: MAILER-DAEMON@mail.example.test (Mail Delivery System)" in head
    assert "Subject: Undelivered Mail Returned to Sender" in head
    assert f"To: {SENDER}" in head
    assert "Auto-Submitted: auto-replied" in head
    assert "multipart/report; report-type=delivery-status" in head
    assert len(ps) == 3
    assert "text/plain" in ps[0][0]
    assert "This is the mail system at host mail.example.test." in ps[0][1]
    assert "<bob@example.test>: unknown user" in ps[0][1]
    assert "<carol@example.test>: host mx.example.test said: 550 go away" in ps[0][1]
    assert "Content-Type: message/delivery-status" in ps[1][0]
    dsn = ps[1][1]
    assert "Reporting-MTA: dns; mail.example.test" in dsn
    assert f"X-Postern-Queue-ID: {qid}" in dsn
    assert "Final-Recipient: rfc822; bob@example.test\nOriginal-Recipient: " \
           "rfc822;bob@example.test\nAction: failed\nStatus: 5.1.1\n" in dsn
    assert "Remote-MTA: dns; mx.example.test\nDiagnostic-Code: smtp; 550 go away" in dsn
    assert "Content-Type: message/rfc822" in ps[2][0]
    assert "Subject: bounce me" in ps[2][1]
    assert "The body of the original message." in ps[2][1]
    # The log is gone, the original untouched, the shapes logged.
    assert not os.path.exists(log)
    with open(path, "rb") as f:
        assert f.read() == before
    inst.wait_log(rf"postern/bounce\[\d+\]: {qid}: sender non-delivery notification: {newid}")
    assert len(new_messages(inst)) == 1


def test_postmaster_copy_with_notify_classes_bounce(instance):
    inst, qid, path = park(instance, notify_classes="resource, software, bounce")
    off = rcpt_offsets(path)
    write_log(inst, "bounce", qid, [entry("bob@example.test", off["bob@example.test"])])
    reply = bounce_request(inst, "flush", qid)
    assert reply["status"] == "ok", reply
    msgs = [read_queue_file(p) for p in new_messages(inst)]
    assert len(msgs) == 2
    copy = [m for m in msgs if m["sender"] != ""][0]
    assert copy["sender"] == "double-bounce@example.test"
    assert [r["address"] for r in copy["rcpt"]] == ["postmaster@example.test"]
    head, ps = parts(copy["content"])
    assert "Subject: Postmaster Copy: Undelivered Mail" in head
    assert "text/rfc822-headers" in ps[2][0]
    assert "The body of the original message." not in ps[2][1]
    inst.wait_log(rf"{qid}: postmaster non-delivery notification: ")


def test_notify_never_and_success_are_left_out(queued):
    inst, qid, path = queued
    off = rcpt_offsets(path)
    log = write_log(inst, "bounce", qid, [
        entry("bob@example.test", off["bob@example.test"], notify=8),       # NEVER
        entry("carol@example.test", off["carol@example.test"], notify=1),   # SUCCESS only
    ])
    reply = bounce_request(inst, "flush", qid)
    assert reply == {"status": "ok"}
    assert new_messages(inst) == []
    assert not os.path.exists(log)


def test_double_bounce_is_dropped_by_default(queued):
    inst, qid, path = queued
    rewrite(path, sender="")
    off = rcpt_offsets(path)
    log = write_log(inst, "bounce", qid, [entry("bob@example.test", off["bob@example.test"])])
    reply = bounce_request(inst, "flush", qid)
    assert reply == {"status": "ok"}
    assert new_messages(inst) == []
    assert not os.path.exists(log)
    inst.wait_log(rf"{qid}: non-delivery notification for <> discarded")


def test_double_bounce_goes_to_2bounce_notice_recipient(instance):
    inst, qid, path = park(instance, notify_classes="resource, software, 2bounce")
    rewrite(path, sender="")
    off = rcpt_offsets(path)
    write_log(inst, "bounce", qid, [entry("bob@example.test", off["bob@example.test"])])
    reply = bounce_request(inst, "flush", qid)
    assert reply["status"] == "ok"
    env = read_queue_file(os.path.join(inst.queue, "incoming", reply["queue_id"]))
    assert env["sender"] == "double-bounce@example.test"
    assert [r["address"] for r in env["rcpt"]] == ["postmaster@example.test"]
    inst.wait_log(rf"{qid}: postmaster non-delivery notification: {reply['queue_id']}")


def test_mail_from_double_bounce_sender_is_discarded(queued):
    inst, qid, path = queued
    rewrite(path, sender="double-bounce@example.test")
    off = rcpt_offsets(path)
    log = write_log(inst, "bounce", qid, [entry("bob@example.test", off["bob@example.test"])])
    reply = bounce_request(inst, "flush", qid)
    assert reply == {"status": "ok"}
    assert new_messages(inst) == []
    assert not os.path.exists(log)
    inst.wait_log(rf"warning: {qid}: undeliverable postmaster notification discarded")


def test_warn_sends_delay_notification_and_keeps_log(queued):
    inst, qid, path = queued
    off = rcpt_offsets(path)
    log = write_log(inst, "defer", qid, [
        entry("bob@example.test", off["bob@example.test"], "delayed", "4.4.1", "old reason"),
        entry("bob@example.test", off["bob@example.test"], "delayed", "4.4.2", "new reason"),
    ], torn=b"\x01\x00\x00\x03\x00\x00\x01")
    reply = bounce_request(inst, "warn", qid, service="defer")
    assert reply["status"] == "ok", reply
    env = read_queue_file(os.path.join(inst.queue, "incoming", reply["queue_id"]))
    head, ps = parts(env["content"])
    assert "Subject: Delayed Mail (still being retried)" in head
    assert "<bob@example.test>: new reason" in ps[0][1]
    assert "old reason" not in ps[0][1]
    assert "carol" not in ps[0][1]
    assert "Action: delayed\nStatus: 4.4.2" in ps[1][1]
    assert "Will-Retry-Until: " in ps[1][1]
    assert "text/rfc822-headers" in ps[2][0]
    assert os.path.exists(log)
    inst.wait_log(rf"{qid}: sender delay notification: {reply['queue_id']}")


def test_trace_sends_success_notification(queued):
    inst, qid, path = queued
    rewrite(path, notify=1, ret="F")
    off = rcpt_offsets(path)
    log = write_log(inst, "trace", qid, [
        entry("bob@example.test", off["bob@example.test"], "delivered", "2.0.0",
              "delivered to maildir", notify=1)])
    reply = bounce_request(inst, "trace", qid)
    assert reply["status"] == "ok", reply
    env = read_queue_file(os.path.join(inst.queue, "incoming", reply["queue_id"]))
    head, ps = parts(env["content"])
    assert "Subject: Successful Mail Delivery Report" in head
    assert "Action: delivered\nStatus: 2.0.0" in ps[1][1]
    assert "Content-Type: message/rfc822" in ps[2][0]      # RET=FULL
    assert not os.path.exists(log)
    inst.wait_log(rf"{qid}: sender delivery status notification: {reply['queue_id']}")


def test_failures_keep_the_log(queued):
    inst, qid, path = queued
    off = rcpt_offsets(path)
    log = write_log(inst, "bounce", qid, [entry("bob@example.test", off["bob@example.test"])])
    reply = bounce_request(inst, "flush", qid, queue_name="active")     # not there
    assert reply["status"] == "fail" and reply["reason"], reply
    assert os.path.exists(log)
    assert bounce_request(inst, "flush", "../../etc")["status"] == "fail"
    assert bounce_request(inst, "explode", qid)["status"] == "fail"
    assert bounce_request(inst, "flush", qid, queue_name="../x")["status"] == "fail"
    assert new_messages(inst) == []
    # A message without any log: nothing to do.
    os.unlink(log)
    assert bounce_request(inst, "flush", qid) == {"status": "ok"}
    assert new_messages(inst) == []
