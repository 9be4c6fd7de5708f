"""postqueue -p/-j (and mailq) and postsuper -d/-h/-H/-r/-s on a queue with
several messages, made by sendmail + pickup and then spread over the
queues by hand as qmgr would (qmgr does not exist yet)."""
import json
import os
import re
import struct
import time

import pytest

from conftest import wait_for
from test_sendmail import queue_files, read_queue_file, sendmail

LINE = re.compile(r"^(\S+?)([*!]?)\s+(\d+) (\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d) (\S+)$")


@pytest.fixture
def instance(instance):
    """The receive path alone: without qmgr, new mail stays in incoming/."""
    instance.without_services("qmgr")
    return instance


def mark_done(path, index):
    """Flip recipient number index to done, as a delivery agent would."""
    with open(path, "r+b") as f:
        data = f.read()
        pos, n = 0, 0
        while pos < len(data):
            t = data[pos]
            (ln,) = struct.unpack(">I", data[pos + 1:pos + 5])
            if t == ord("R"):
                if n == index:
                    f.seek(pos + 5)
                    f.write(b"D")
                    return
                n += 1
            pos += 5 + ln
    raise AssertionError("no such recipient")


def move(inst, path, queue):
    dest = os.path.join(inst.queue, queue, os.path.basename(path))
    os.rename(path, dest)
    return dest


@pytest.fixture
def queued(instance):
    """Four messages: one each in incoming, active, deferred and hold."""
    for i in range(4):
        sendmail(instance, "-f", f"sender{i}@example.org", f"r{i}a@example.test",
                 f"r{i}b@example.test", input=f"Subject: message {i}\n\n" + "x" * 700 * (i + 1) + "\n")
    instance.postern("start")
    wait_for(lambda: len(queue_files(instance, "incoming")) == 4, timeout=15,
             what="four queue files")
    instance.postern("stop")
    files = {}
    for path in queue_files(instance, "incoming"):
        env = read_queue_file(path)
        files[int(env["sender"][6])] = (env["id"], path)
    ids = [files[i][0] for i in range(4)]
    move(instance, files[1][1], "active")
    move(instance, files[2][1], "deferred")
    move(instance, files[3][1], "hold")
    mark_done(os.path.join(instance.queue, "deferred", ids[2]), 0)
    return instance, ids


def parse_listing(out):
    lines = out.splitlines()
    assert lines[0].split() == ["----Queue", "ID-----", "--Size--", "---Arrival",
                                "Time----", "--Sender/Recipient------"]
    msgs, cur = [], None
    for line in lines[1:]:
        m = LINE.match(line)
        if m:
            cur = {"id": m[1], "mark": m[2], "size": int(m[3]), "sender": m[5], "rcpt": []}
            msgs.append(cur)
        elif line.strip() and not line.startswith("--"):
            assert line.startswith(" " * 40), line
            cur["rcpt"].append(line.strip())
    return msgs, lines[-1]


def test_postqueue_p_format(queued):
    inst, ids = queued
    out = inst.run("postqueue", "-c", inst.dir, "-p").stdout
    msgs, summary = parse_listing(out)
    # showq order: incoming, active, deferred, hold
    assert [m["id"] for m in msgs] == ids
    assert [m["mark"] for m in msgs] == ["", "*", "", "!"]
    assert [m["sender"] for m in msgs] == [f"sender{i}@example.org" for i in range(4)]
    assert msgs[0]["rcpt"] == ["r0a@example.test", "r0b@example.test"]
    assert msgs[2]["rcpt"] == ["r2b@example.test"]         # r2a is done
    total = sum(m["size"] for m in msgs)
    assert summary == f"-- {total // 1024} Kbytes in 4 Requests."
    assert out.endswith("\n") and "\n\n-- " in out
    assert inst.run("mailq", "-C", inst.dir).stdout == out


def test_postqueue_j(queued):
    inst, ids = queued
    out = inst.run("postqueue", "-c", inst.dir, "-j").stdout
    objs = [json.loads(line) for line in out.splitlines()]
    assert [o["queue_id"] for o in objs] == ids
    assert [o["queue_name"] for o in objs] == ["incoming", "active", "deferred", "hold"]
    for i, o in enumerate(objs):
        assert o["sender"] == f"sender{i}@example.org"
        assert isinstance(o["arrival_time"], int) and abs(o["arrival_time"] - time.time()) < 300
        assert o["message_size"] > 700 * (i + 1)
        assert o["forced_expire"] is False
    assert objs[2]["recipients"] == [{"address": "r2b@example.test"}]


def test_empty_queue(instance):
    assert instance.run("postqueue", "-c", instance.dir, "-p").stdout == "Mail queue is empty\n"
    assert instance.run("postqueue", "-c", instance.dir, "-j").stdout == ""


def test_flush_without_qmgr(queued):
    inst, ids = queued
    r = inst.run("postqueue", "-c", inst.dir, "-f", check=False)
    assert r.returncode == 69 and "mail system is down" in r.stderr
    path = os.path.join(inst.queue, "deferred", ids[2])
    os.utime(path, (1, 1))
    r = inst.run("postqueue", "-c", inst.dir, "-i", ids[2], check=False)
    assert r.returncode == 69 and "mail system is down" in r.stderr
    assert abs(os.stat(path).st_mtime - time.time()) < 60      # made due now
    r = inst.run("postqueue", "-c", inst.dir, "-i", ids[0], check=False)
    assert r.returncode == 65 and "not found in the deferred queue" in r.stderr


def test_postsuper_hold_release_delete(queued):
    inst, ids = queued
    r = inst.run("postsuper", "-c", inst.dir, "-h", ids[0])
    assert "Placed on hold: 1 message" in r.stderr
    assert os.path.exists(os.path.join(inst.queue, "hold", ids[0]))
    assert not os.path.exists(os.path.join(inst.queue, "incoming", ids[0]))
    inst.wait_log(rf"postern/postsuper\[\d+\]: {ids[0]}: placed on hold")

    r = inst.run("postsuper", "-c", inst.dir, "-H", "ALL")
    assert "Released from hold: 2 messages" in r.stderr
    assert os.listdir(os.path.join(inst.queue, "hold")) == []
    for qid in (ids[0], ids[3]):
        assert os.path.exists(os.path.join(inst.queue, "deferred", qid))
        inst.wait_log(rf"{qid}: released from hold")

    r = inst.run("postsuper", "-c", inst.dir, "-d", ids[2], "-d", "-", input=ids[1] + "\n")
    assert "Deleted: 2 messages" in r.stderr
    inst.wait_log(rf"{ids[2]}: removed")
    inst.wait_log(rf"{ids[1]}: removed")
    left = [o["queue_id"] for o in map(json.loads, inst.run(
        "postqueue", "-c", inst.dir, "-j").stdout.splitlines())]
    assert sorted(left) == sorted([ids[0], ids[3]])

    r = inst.run("postsuper", "-c", inst.dir, "-d", "ALL", "deferred")
    assert "Deleted: 2 messages" in r.stderr
    assert inst.run("postqueue", "-c", inst.dir, "-p").stdout == "Mail queue is empty\n"


def test_postsuper_never_trusts_names(queued):
    inst, ids = queued
    # A file renamed to another valid ID: the I record disagrees.
    wrong = ids[0][:-1] + ("B" if ids[0][-1] != "B" else "C")
    os.rename(os.path.join(inst.queue, "incoming", ids[0]),
              os.path.join(inst.queue, "incoming", wrong))
    r = inst.run("postsuper", "-c", inst.dir, "-d", wrong)
    assert "Deleted" not in r.stderr
    assert os.path.exists(os.path.join(inst.queue, "incoming", wrong))
    assert all(m["id"] != wrong for m in parse_listing(
        inst.run("postqueue", "-c", inst.dir, "-p").stdout)[0])


def test_postsuper_requeue(queued):
    inst, ids = queued
    r = inst.run("postsuper", "-c", inst.dir, "-r", ids[2])
    assert "Requeued: 1 message" in r.stderr
    assert not os.path.exists(os.path.join(inst.queue, "deferred", ids[2]))
    m = inst.wait_log(rf"{ids[2]}: requeued as (\S+)")
    new = m[1]
    env = read_queue_file(os.path.join(inst.queue, "incoming", new))
    assert env["id"] == new
    assert env["sender"] == "sender2@example.org"
    assert [r["address"] for r in env["rcpt"]] == ["r2b@example.test"]
    assert b"Subject: message 2" in env["content"]


def test_postsuper_s_repairs_the_tree(queued):
    inst, ids = queued
    q = inst.queue
    stale = os.path.join(q, "incoming", "tmp.123.4")
    fresh = os.path.join(q, "incoming", "tmp.123.5")
    for p in (stale, fresh):
        with open(p, "wb") as f:
            f.write(b"partial")
    old = time.time() - 2 * 86400
    os.utime(stale, (old, old))
    with open(os.path.join(q, "deferred", "junk"), "wb") as f:
        f.write(b"not a queue file")
    wrong = ids[0][:-1] + ("B" if ids[0][-1] != "B" else "C")
    os.rename(os.path.join(q, "incoming", ids[0]), os.path.join(q, "incoming", wrong))
    with open(os.path.join(q, "hold", ids[3]), "r+b") as f:
        f.truncate(100)

    r = inst.run("postsuper", "-c", inst.dir, "-s")
    assert not os.path.exists(stale) and os.path.exists(fresh)
    corrupt = sorted(os.listdir(os.path.join(q, "corrupt")))
    assert corrupt == sorted(["junk", wrong, ids[3]])
    assert "Moved 3 corrupt files" in r.stderr
    inst.wait_log(rf"warning: {wrong}: corrupt queue file:")
    inst.wait_log(r"incoming/tmp\.123\.4: removed stale temporary file")
    # the healthy messages are untouched
    assert os.path.exists(os.path.join(q, "active", ids[1]))
    assert os.path.exists(os.path.join(q, "deferred", ids[2]))
