"""sendmail, postdrop and pickup: local submission works with the daemons
down, and pickup turns maildrop files into valid queue files in incoming/."""
import os
import pwd
import struct
import subprocess

import pytest

from conftest import BIN, wait_for

# ------------------------------------------------------------ queue files

QF_TYPES = set(b"VTISWNFCARZBE")


@pytest.fixture
def instance(instance):
    """The receive path alone: without qmgr, new mail stays in incoming/."""
    instance.without_services("qmgr")
    return instance


def read_queue_file(path):
    """Parse a queue file (lib/queue_file.h); fail on anything malformed."""
    with open(path, "rb") as f:
        data = f.read()
    env = {"rcpt": [], "attrs": {}, "content": b""}
    pos = 0
    types = []
    while pos < len(data):
        assert pos + 5 <= len(data), "truncated record header"
        t = data[pos]
        (n,) = struct.unpack(">I", data[pos + 1:pos + 5])
        payload = data[pos + 5:pos + 5 + n]
        assert len(payload) == n, "truncated payload"
        assert t in QF_TYPES, f"unknown record type {t!r}"
        pos += 5 + n
        c = chr(t)
        types.append(c)
        if c == "V":
            env["version"] = payload[0]
        elif c == "T":
            env["time"] = struct.unpack(">QI", payload)
        elif c == "I":
            env["id"] = payload.decode()
        elif c == "S":
            env["sender"] = payload.decode()
        elif c == "A":
            k, _, v = payload.decode().partition("=")
            env["attrs"][k] = v
        elif c == "C":
            fields, p = [], 0
            for _ in range(4):
                (ln,) = struct.unpack(">H", payload[p:p + 2])
                fields.append(payload[p + 2:p + 2 + ln].decode())
                p += 2 + ln
            env["client"] = fields
        elif c == "R":
            status, notify, alen = struct.unpack(">BBH", payload[:4])
            env["rcpt"].append({"status": chr(status), "notify": notify,
                                "address": payload[4:4 + alen].decode(),
                                "orcpt": payload[4 + alen:].decode()})
        elif c == "Z":
            (env["size"],) = struct.unpack(">Q", payload)
        elif c == "B":
            env["content"] += payload
    assert types[0] == "V" and types[-1] == "E" and types.count("E") == 1
    assert env["size"] == len(env["content"])
    return env


def queue_files(inst, queue):
    out = []
    for root, _, files in os.walk(os.path.join(inst.queue, queue)):
        # tmp.* is a file being written: not in the queue until renamed.
        out += [os.path.join(root, f) for f in files if not f.startswith("tmp.")]
    return sorted(out)


def headers(content):
    head = content.split(b"\n\n", 1)[0].decode()
    return head


def sendmail(inst, *args, input="", check=True, prog="sendmail"):
    return inst.run(prog, "-C", inst.dir, *args, input=input, check=check)


def me():
    return pwd.getpwuid(os.getuid()).pw_name


# ------------------------------------------------------------ tests


def test_sendmail_t_with_daemons_down_then_pickup(instance):
    msg = ("To: Bob <bob@example.test>\n"
           "Cc: carol@example.test\n"
           "Bcc: dave@example.test\n"
           "Subject: local submission\n"
           "\n"
           "hello\n")
    assert not instance.master_pid()
    sendmail(instance, "-t", "-oi", "-odi", "-oem", input=msg)
    drops = queue_files(instance, "maildrop")
    assert len(drops) == 1
    name = os.path.basename(drops[0])
    with open(drops[0], "rb") as f:
        assert f.readline() == b"POSTERN-MAILDROP 1\n"
    assert not [f for f in os.listdir(os.path.join(instance.queue, "maildrop"))
                if f.startswith("tmp.")]
    assert queue_files(instance, "incoming") == []

    instance.postern("start")
    files = wait_for(lambda: queue_files(instance, "incoming"), timeout=15,
                     what="a queue file in incoming/")
    assert len(files) == 1
    wait_for(lambda: not queue_files(instance, "maildrop"), what="maildrop/ empty")
    env = read_queue_file(files[0])
    assert env["id"] == os.path.basename(files[0])
    assert env["id"] != name
    assert env["sender"] == f"{me()}@mail.example.test" or env["sender"].startswith(me() + "@")
    assert sorted(r["address"] for r in env["rcpt"]) == [
        "bob@example.test", "carol@example.test", "dave@example.test"]
    assert all(r["status"] == "P" for r in env["rcpt"])
    head = headers(env["content"])
    assert "Subject: local submission" in head
    assert "\nbcc:" not in "\n" + head.lower()
    for h in ("received:", "message-id:", "date:", "from:"):
        assert ("\n" + h) in ("\n" + head.lower()), f"{h} missing in\n{head}"
    assert env["content"].endswith(b"\n\nhello\n")
    instance.wait_log(rf"postern/pickup\[\d+\]: {env['id']}: uid={os.getuid()} "
                      rf"from=<{me()}>")


def test_sendmail_f_F_i(instance):
    instance.postern("start")
    body = "Subject: dots\n\nline one\n.\nline after the dot\n"
    sendmail(instance, "-f", "<sender@example.org>", "-F", "Ann Other", "-i",
             "rcpt@example.test", input=body)
    files = wait_for(lambda: queue_files(instance, "incoming"), timeout=15,
                     what="a queue file")
    env = read_queue_file(files[0])
    assert env["sender"] == "sender@example.org"
    assert [r["address"] for r in env["rcpt"]] == ["rcpt@example.test"]
    assert b"\n.\nline after the dot\n" in env["content"]
    head = headers(env["content"])
    assert "Ann Other" in head and "sender@example.org" in head


def test_sendmail_dot_ends_input_and_crlf(instance):
    sendmail(instance, "a@example.test", input="Subject: x\r\n\r\nkept\r\n.\r\ndropped\r\n")
    sendmail(instance, "-f", "<>", "-N", "success,delay", "b@example.test",
             input="Subject: y\n\nbody\n")
    instance.postern("start")
    files = wait_for(lambda: len(queue_files(instance, "incoming")) == 2
                     and queue_files(instance, "incoming"), timeout=15, what="two files")
    envs = sorted((read_queue_file(f) for f in files), key=lambda e: e["rcpt"][0]["address"])
    a, b = envs
    assert a["content"].endswith(b"\n\nkept\n") and b"dropped" not in a["content"]
    assert b"\r" not in a["content"]
    assert b["sender"] == ""
    assert b["rcpt"][0]["notify"] == 0x01 | 0x04


def test_sendmail_usage_errors(instance):
    r = sendmail(instance, input="Subject: x\n\n", check=False)
    assert r.returncode == 64 and "Recipient addresses must be specified" in r.stderr
    r = sendmail(instance, "-bv", "a@example.test", check=False)
    assert r.returncode == 69 and "not supported" in r.stderr
    r = sendmail(instance, "-N", "bogus", "a@example.test", input="x\n", check=False)
    assert r.returncode == 64
    assert queue_files(instance, "maildrop") == []


def test_postdrop_is_atomic_and_checks_the_envelope(instance):
    # A recipient with a line break never reaches maildrop/.
    r = instance.run("postdrop", "-c", instance.dir, "-f", "a", "--", "x\ny@example.test",
                     input="Subject: x\n\n", check=False)
    assert r.returncode != 0
    r = instance.run("postdrop", "-c", instance.dir, "-f", "a", input="x\n", check=False)
    assert r.returncode != 0 and "no recipients" in r.stderr
    assert os.listdir(os.path.join(instance.queue, "maildrop")) == []
    r = instance.run("postdrop", "-c", instance.dir, "-v", "-f", "a", "--", "b@example.test",
                     input="Subject: x\n\nbody\n")
    qid = r.stdout.strip()
    assert os.listdir(os.path.join(instance.queue, "maildrop")) == [qid]


def test_corrupt_maildrop_file_is_quarantined(instance):
    sendmail(instance, "good@example.test", input="Subject: good\n\n")
    good = queue_files(instance, "maildrop")[0]
    # A copy under another valid queue ID with its size record broken.
    bad_name = os.path.basename(good)[:-1] + ("B" if not good.endswith("B") else "C")
    with open(good, "rb") as f:
        data = f.read()
    with open(os.path.join(instance.queue, "maildrop", bad_name), "wb") as f:
        f.write(data.replace(b"\nZ0", b"\nZ9", 1))
    instance.postern("start")
    wait_for(lambda: len(queue_files(instance, "incoming")) == 1, timeout=15,
             what="the good message queued")
    wait_for(lambda: os.path.exists(os.path.join(instance.queue, "corrupt", bad_name)),
             what="the bad file in corrupt/")
    instance.wait_log(rf"warning: {bad_name}: corrupt queue file: .*size")
    assert queue_files(instance, "maildrop") == []


def test_mailq_and_bp(instance):
    sendmail(instance, "-f", "s@example.org", "r@example.test", input="Subject: q\n\nx\n")
    out1 = sendmail(instance, prog="mailq").stdout
    out2 = sendmail(instance, "-bp").stdout
    assert out1 == out2
    assert "s@example.org" in out1 and "r@example.test" in out1
    assert "-- 0 Kbytes in 1 Request." in out1


def test_sendmail_C_main_cf_file(instance):
    instance.run("sendmail", "-C", os.path.join(instance.dir, "main.cf"), "x@example.test",
                 input="Subject: c\n\n")
    assert len(queue_files(instance, "maildrop")) == 1


def test_sendmail_bi_and_newaliases_mode(instance):
    aliases = os.path.join(instance.dir, "aliases")
    with open(aliases, "w") as f:
        f.write("postmaster: root\n")
    with open(os.path.join(instance.dir, "main.cf"), "a") as f:
        f.write(f"alias_database = hash:{aliases}\nalias_maps = hash:{aliases}\n")
    sendmail(instance, "-bi")
    assert os.path.exists(aliases + ".lmdb")
    r = instance.run("postalias", "-c", instance.dir, "-q", "postmaster", f"hash:{aliases}")
    assert r.stdout.strip() == "root"


def test_sendmail_bs_speaks_smtp_on_stdin(instance):
    # Pipelined, CRLF and LF-only lines mixed, two messages, the null
    # sender, a dot-stuffed line, errors answered in sequence.
    dialogue = ("EHLO client.example\r\n"
                "RCPT TO:<early@example.test>\r\n"
                "MAIL FROM:<me@example.test>\r\n"
                "RCPT TO:<a@example.test>\r\n"
                "RCPT TO:<b@example.test>\r\n"
                "DATA\r\n"
                "Subject: one\r\n\r\n..dotted\r\nbody\r\n.\r\n"
                "MAIL FROM:<>\n"
                "RCPT TO:<c@example.test>\n"
                "DATA\n"
                "Subject: two\n\nlf only\n.\n"
                "BDAT 10 LAST\r\n"
                "QUIT\r\n")
    r = sendmail(instance, "-bs", input=dialogue)
    codes = [line[:3] for line in r.stdout.splitlines() if line[3:4] == " "]
    assert codes == ["220", "250", "503", "250", "250", "250", "354", "250",
                     "250", "250", "354", "250", "502", "221"], r.stdout
    drops = queue_files(instance, "maildrop")
    assert len(drops) == 2
    instance.postern("start")
    files = wait_for(lambda: len(queue_files(instance, "incoming")) == 2 and
                     queue_files(instance, "incoming"), timeout=15, what="two queue files")
    envs = sorted((read_queue_file(f) for f in files), key=lambda e: e["sender"])
    assert envs[0]["sender"] == "" and [x["address"] for x in envs[0]["rcpt"]] == ["c@example.test"]
    assert envs[0]["content"].endswith(b"\n\nlf only\n")
    assert envs[1]["sender"] == "me@example.test"
    assert sorted(x["address"] for x in envs[1]["rcpt"]) == ["a@example.test", "b@example.test"]
    assert envs[1]["content"].endswith(b"\n\n.dotted\nbody\n")


def test_sendmail_bs_end_of_input_queues_nothing(instance):
    # The client goes away in the middle of a message: nothing is queued.
    r = sendmail(instance, "-bs", input="MAIL FROM:<me@example.test>\r\n"
                                        "RCPT TO:<a@example.test>\r\nDATA\r\npartial\r\n")
    assert r.returncode == 0 and "354" in r.stdout and "queued" not in r.stdout
    assert queue_files(instance, "maildrop") == []
