"""qmgr end to end on a `postern init` instance, with transports that need
no other engineer's program: discard: and error: (decided inside qmgr), a
transport whose socket does not exist, and a fake delivery agent written
here that speaks lib/deliver_proto.h on private/fake.

Covers: Postfix-shaped log lines, bounce/ defer/ logs, retry times as
deferred/ mtimes, postqueue -f and -i, kill -9 recovery of active/,
expiry, and qmgr_message_active_limit."""
import json
import os
import re
import signal
import socket
import struct
import threading
import time

import pytest

from conftest import BUILD, wait_for
from test_sendmail import queue_files, read_queue_file, sendmail

HAVE_BOUNCE = os.path.exists(os.path.join(BUILD, "libexec", "bounce"))
LOGLINE = (r"{id}: to=<{to}>, relay=none, delay=[\d.]+, delays=[\d.]+/[\d.]+/0/0, "
           r"dsn={dsn}, status={status} \({text}\)")


# ------------------------------------------------------------ helpers

def configure(inst, **params):
    """Append parameters and the test's transport table to main.cf."""
    with open(os.path.join(inst.dir, "transport"), "w") as f:
        f.write("gone.test discard:thrown away\n"
                "bad.test error:5.7.1 go away\n"
                "nowhere.test nosuch:\n"
                "fake.test fake:\n")
    lines = [f"transport_maps = texthash:{inst.dir}/transport"]
    lines += [f"{k} = {v}" for k, v in params.items()]
    with open(os.path.join(inst.dir, "main.cf"), "a") as f:
        f.write("\n" + "\n".join(lines) + "\n")


def send(inst, *rcpts, sender="sender@example.org", subject="test"):
    """Queue one message with sendmail; return its queue ID (from the log)."""
    before = set(re.findall(r"(\w+): uid=\d+ from=", inst.log()))
    sendmail(inst, "-f", sender, *rcpts, input=f"Subject: {subject}\n\nhello\n")

    def new_id():
        ids = set(re.findall(r"(\w+): uid=\d+ from=", inst.log())) - before
        return ids.pop() if ids else None
    return wait_for(new_id, timeout=15, what="pickup to queue the message")


def qmgr_pid(inst):
    for line in reversed(inst.log().splitlines()):
        m = re.search(r"postern/qmgr\[(\d+)\]", line)
        if m:
            return int(m[1])
    return 0


def in_queue(inst, queue, qid):
    return os.path.exists(os.path.join(inst.queue, queue, qid))


def encode_frame(attrs):
    body = b""
    for k, v in attrs.items():
        v = v.encode() if isinstance(v, str) else v
        body += bytes([len(k)]) + k.encode() + struct.pack(">I", len(v)) + v
    return struct.pack(">BBHI", 1, 0, len(attrs), len(body)) + body


def read_frame(conn):
    data = b""
    while len(data) < 8:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        data += chunk
    _, _, count, length = struct.unpack(">BBHI", data[:8])
    while len(data) < 8 + length:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        data += chunk
    attrs, p = {}, 8
    for _ in range(count):
        n = data[p]
        name = data[p + 1:p + 1 + n].decode()
        (vl,) = struct.unpack(">I", data[p + 1 + n:p + 5 + n])
        attrs[name] = data[p + 5 + n:p + 5 + n + vl].decode()
        p += 5 + n + vl
    return attrs


class FakeAgent:
    """A delivery agent on private/fake: answers per self.mode
    ("sent"; "destfail": deferred with dest_failed=1; "hold": never answer)."""

    def __init__(self, inst, mode="sent"):
        self.mode = mode
        self.requests = []
        self.held = []
        self.path = os.path.join(inst.queue, "private", "fake")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(self.path)
        os.chmod(self.path, 0o666)
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.stop = False
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        while not self.stop:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            conn.settimeout(5)
            req = read_frame(conn)
            if req is None:
                conn.close()
                continue
            self.requests.append(req)
            if self.mode == "hold":
                self.held.append(conn)
                continue
            reply = {"status": "ok"}
            for i in range(int(req["rcpt_count"])):
                if self.mode == "destfail":
                    reply.update({f"result_{i}": "deferred", f"dsn_{i}": "4.4.1",
                                  f"text_{i}": "connect to fake.test: Connection refused",
                                  "dest_failed": "1"})
                else:
                    reply.update({f"result_{i}": "sent", f"dsn_{i}": "2.0.0",
                                  f"text_{i}": "delivered by the fake agent"})
            conn.sendall(encode_frame(reply))
            conn.close()

    def close(self):
        self.stop = True
        self.thread.join()
        for c in self.held:
            c.close()
        self.sock.close()
        os.unlink(self.path)


# ------------------------------------------------------------ tests

def test_discard_is_sent_and_removed(instance):
    configure(instance)
    instance.postern("start")
    qid = send(instance, "a@gone.test", "b@Gone.Test")
    instance.wait_log(rf"{qid}: from=<sender@example.org>, size=\d+, nrcpt=2 \(queue active\)")
    instance.wait_log(LOGLINE.format(id=qid, to="a@gone.test", dsn=r"2\.0\.0",
                                     status="sent", text="thrown away"))
    instance.wait_log(LOGLINE.format(id=qid, to="b@Gone.Test", dsn=r"2\.0\.0",
                                     status="sent", text="thrown away"))
    instance.wait_log(rf"{qid}: removed")
    assert not any(in_queue(instance, q, qid) for q in ("incoming", "active", "deferred"))
    assert not in_queue(instance, "defer", qid)


def test_error_bounces(instance):
    configure(instance, minimal_backoff_time="300s")
    instance.postern("start")
    qid = send(instance, "x@bad.test", "y@gone.test", sender="me@nowhere.test")
    instance.wait_log(LOGLINE.format(id=qid, to="x@bad.test", dsn=r"5\.7\.1",
                                     status="bounced", text="go away"))
    instance.wait_log(LOGLINE.format(id=qid, to="y@gone.test", dsn=r"2\.0\.0",
                                     status="sent", text="thrown away"))
    if HAVE_BOUNCE:
        # The notice to me@nowhere.test is queued from <> and the original removed.
        instance.wait_log(rf"{qid}: removed", timeout=20)
        instance.wait_log(r": from=<>, size=\d+, nrcpt=1 \(queue active\)", timeout=20)
        instance.wait_log(r"to=<me@nowhere.test>, relay=none, .*status=deferred", timeout=20)
    else:
        # No bounce service: the bounce stays recorded and the message kept.
        instance.wait_log(rf"{qid}: flush notice not sent")
        wait_for(lambda: in_queue(instance, "deferred", qid), what="message in deferred/")
        with open(os.path.join(instance.queue, "bounce", qid), "rb") as f:
            log = f.read()
        assert b"x@bad.test" in log and b"5.7.1" in log and b"go away" in log
        env = read_queue_file(os.path.join(instance.queue, "deferred", qid))
        assert [r["status"] for r in env["rcpt"]] == ["D", "D"]
        assert f"{qid}: removed" not in instance.log()


def test_unreachable_transport_defers_then_flush_and_i(instance):
    configure(instance, minimal_backoff_time="300s", maximal_backoff_time="600s",
              transport_retry_time="1s")
    instance.postern("start")
    qid = send(instance, "c@nowhere.test", "d@fake.test")
    reason = (r"delivery temporarily suspended: connect to transport private/nosuch: "
              r"No such file or directory")
    instance.wait_log(LOGLINE.format(id=qid, to="c@nowhere.test", dsn=r"4\.3\.0",
                                     status="deferred", text=reason))
    instance.wait_log(LOGLINE.format(id=qid, to="d@fake.test", dsn=r"4\.3\.0",
                                     status="deferred", text=reason.replace("nosuch", "fake")))
    path = os.path.join(instance.queue, "deferred", qid)
    wait_for(lambda: os.path.exists(path), what="message in deferred/")
    # The retry time is the file's mtime: now + minimal_backoff_time.
    assert os.stat(path).st_mtime > time.time() + 200
    with open(os.path.join(instance.queue, "defer", qid), "rb") as f:
        assert b"c@nowhere.test" in f.read()
    r = instance.run("postqueue", "-c", instance.dir, "-p")
    assert qid in r.stdout
    # As Postfix's mailq: the reason in parentheses before its recipients.
    lines = r.stdout.splitlines()
    at = lines.index("(delivery temporarily suspended: connect to transport "
                     "private/nosuch: No such file or directory)")
    assert lines[at + 1].strip() == "c@nowhere.test"
    r = instance.run("postqueue", "-c", instance.dir, "-j")
    rcpts = {x["address"]: x.get("delay_reason") for x in json.loads(r.stdout)["recipients"]}
    assert "private/nosuch" in rcpts["c@nowhere.test"]
    assert "private/fake" in rcpts["d@fake.test"]

    # postqueue -f: everything in deferred/ is tried again at once.
    active = rf"{qid}: from=<sender@example.org>, size=\d+, nrcpt=2 \(queue active\)"
    instance.run("postqueue", "-c", instance.dir, "-f")
    wait_for(lambda: len(re.findall(active, instance.log())) == 2, what="second pass")
    wait_for(lambda: os.path.exists(path), what="deferred again")
    assert os.stat(path).st_mtime > time.time() + 200

    # postqueue -i: now the fake agent is there and takes d@fake.test.
    agent = FakeAgent(instance)
    try:
        time.sleep(1.2)             # transport_retry_time: private/fake is dead until then
        instance.run("postqueue", "-c", instance.dir, "-i", qid)
        wait_for(lambda: len(re.findall(active, instance.log())) == 3, what="third pass")
        wait_for(lambda: agent.requests, what="a request to the fake agent")
        req = agent.requests[0]
        assert req["request"] == "deliver" and req["queue_id"] == qid
        assert req["queue_name"] == "active" and req["rcpt_count"] == "1"
        assert req["sender"] == "sender@example.org" and req["nexthop"] == "fake.test"
        wait_for(lambda: os.path.exists(path), what="deferred again (c@nowhere.test)")
        env = read_queue_file(path)
        done = {r["address"]: r["status"] for r in env["rcpt"]}
        assert done == {"c@nowhere.test": "P", "d@fake.test": "D"}
    finally:
        agent.close()


def test_kill9_with_mail_in_active_is_recovered(instance):
    configure(instance)
    agent = FakeAgent(instance, mode="hold")
    try:
        instance.postern("start")
        qid = send(instance, "e@fake.test")
        wait_for(lambda: agent.requests, what="the held request")
        assert in_queue(instance, "active", qid)
        old = qmgr_pid(instance)
        os.kill(old, signal.SIGKILL)
        agent.mode = "sent"
        # master starts a new qmgr at once (wakeup service); it recovers active/.
        instance.wait_log(r"qmgr\[\d+\]: recovered 1 message from the active queue", timeout=20)
        instance.wait_log(rf"{qid}: removed", timeout=20)
        assert qmgr_pid(instance) != old
        assert len(agent.requests) == 2
        assert not queue_files(instance, "active") and not queue_files(instance, "incoming")
    finally:
        agent.close()


def test_expiry_returns_to_sender(instance):
    configure(instance, maximal_queue_lifetime="2s", bounce_queue_lifetime="2s",
              minimal_backoff_time="1s", maximal_backoff_time="1s", queue_run_delay="1s")
    instance.postern("start")
    qid = send(instance, "f@nowhere.test")
    instance.wait_log(rf"{qid}: to=<f@nowhere.test>, relay=none, .*status=deferred")
    instance.wait_log(rf"{qid}: from=<sender@example.org>, status=expired, returned to sender",
                      timeout=20)
    if HAVE_BOUNCE:
        instance.wait_log(rf"{qid}: removed", timeout=20)
    else:
        with open(os.path.join(instance.queue, "bounce", qid), "rb") as f:
            log = f.read()
        # The last defer reason, as a permanent failure.
        assert b"f@nowhere.test" in log and b"5.3.0" in log
        assert b"connect to transport private/nosuch" in log
        path = os.path.join(instance.queue, "deferred", qid)
        wait_for(lambda: os.path.exists(path), what="kept until bounce takes it")
        env = read_queue_file(path)
        assert env["rcpt"][0]["status"] == "D"


def test_active_limit_processes_everything(instance):
    configure(instance, qmgr_message_active_limit="2", qmgr_message_recipient_limit="3")
    sendmail(instance, "-f", "s@example.org", "a@gone.test", input="Subject: first\n\nx\n")
    ids = []
    for i in range(12):
        sendmail(instance, "-f", "s@example.org", *(f"r{j}@gone.test" for j in range(4)),
                 input=f"Subject: {i}\n\nx\n")
    instance.postern("start")
    wait_for(lambda: len(re.findall(r": removed", instance.log())) == 13, timeout=30,
             what="all 13 messages removed")
    log = instance.log()
    ids = re.findall(r"(\w+): removed", log)
    for qid in ids:
        assert len(re.findall(rf"{qid}: to=<r\d@gone.test>, relay=none", log)) in (0, 4)
    assert len(re.findall(r"status=sent \(thrown away\)", log)) == 12 * 4 + 1
    # Never more than qmgr_message_active_limit messages in active/ at once.
    inside, most = 0, 0
    for line in log.splitlines():
        if "(queue active)" in line:
            inside += 1
        elif line.endswith(": removed"):
            inside -= 1
        most = max(most, inside)
    # pickup feeds qmgr one file at a time, so under load qmgr may finish
    # each message before the next arrives: "at most", not "exactly".
    assert 1 <= most <= 2
    assert not queue_files(instance, "active") and not queue_files(instance, "incoming")


def test_delay_warning_time_sets_w_record(instance):
    configure(instance, delay_warning_time="4h")
    qid_path = None
    sendmail(instance, "-f", "s@example.org", "w@nowhere.test", input="Subject: w\n\nx\n")
    instance.postern("start")
    wait_for(lambda: queue_files(instance, "deferred"), what="deferred message")
    qid_path = queue_files(instance, "deferred")[0]
    with open(qid_path, "rb") as f:
        data = f.read()
    # V record (6 bytes), T (17), I (5 + len), then W: 8-byte warn time.
    env = read_queue_file(qid_path)
    pos = 6 + 17 + 5 + len(env["id"])
    assert data[pos] == ord("W")
    (warn,) = struct.unpack(">Q", data[pos + 5:pos + 13])
    assert warn == env["time"][0] + 4 * 3600


def test_dest_failed_defers_the_rest_without_trying(instance):
    configure(instance, fake_destination_concurrency_limit="1",
              fake_initial_destination_concurrency="1",
              fake_destination_recipient_limit="-3")
    agent = FakeAgent(instance, mode="destfail")
    try:
        sendmail(instance, "-f", "s@example.org", "a@fake.test", input="Subject: 1\n\nx\n")
        sendmail(instance, "-f", "s@example.org", "b@fake.test", input="Subject: 2\n\nx\n")
        instance.postern("start")
        wait_for(lambda: len(queue_files(instance, "deferred")) == 2, timeout=15,
                 what="both messages deferred")
        # One request only: the other recipient was deferred by qmgr, same reason.
        assert len(agent.requests) == 1
        log = instance.log()
        lines = re.findall(r"to=<(\w)@fake.test>, relay=none, .*dsn=4.4.1, "
                           r"status=deferred \(connect to fake.test: Connection refused\)", log)
        assert len(lines) == 1, log
        # A bad per-transport value is reported and the default used.
        assert re.search(r"warning: fake_destination_recipient_limit: bad value \"-3\"", log)
    finally:
        agent.close()


def test_corrupt_file_is_quarantined(instance):
    configure(instance)
    instance.postern("start")
    qid = send(instance, "a@gone.test")
    instance.wait_log(rf"{qid}: removed")
    # A truncated file under a valid queue ID goes to corrupt/, untouched.
    path = os.path.join(instance.queue, "incoming", qid)
    with open(path, "wb") as f:
        f.write(b"V\x00\x00\x00\x01\x01T\x00\x00")
    st = os.stat(os.path.join(instance.queue, "incoming"))
    os.chown(path, st.st_uid, st.st_gid)
    instance.run("postqueue", "-c", instance.dir, "-f")
    instance.wait_log(rf"warning: {qid}: corrupt queue file: ")
    wait_for(lambda: in_queue(instance, "corrupt", qid), what="file in corrupt/")
    assert not in_queue(instance, "active", qid) and not in_queue(instance, "incoming", qid)
