"""kill -9 during delivery loses nothing (issue 5, item 7): 1,000 messages
go to one virtual mailbox over several SMTP sessions while qmgr and the
virtual agent are killed with SIGKILL a few times; once the queue is empty
every Message-ID is in the Maildir at least once, and pflogsumm reads the
instance's maillog and counts as many messages received as were sent and
at least as many delivered (a crash may duplicate a delivery, never lose
one)."""
import os
import re
import shutil
import signal
import smtplib
import subprocess
import threading
import time

from conftest import children_of, maildir_messages, wait_for

N = int(os.environ.get("CRASH_MESSAGES", "1000"))
THREADS = 6
KILL_AT = (0.15, 0.25, 0.35, 0.45, 0.55, 0.65)     # fractions of N sent; alternating victims
VICTIMS = ("qmgr", "virtual")
RCPT = "demo@example.test"
SENDER = "sender@example.test"


def mid_of(i):
    return f"<crash-{i:05d}@test.example>"


def sender_thread(inst, indexes, sent, errors, lock):
    """Send the messages of indexes over one session (reconnect on trouble)."""
    todo = list(indexes)
    tries = 0
    while todo and tries < 20:
        try:
            with smtplib.SMTP("127.0.0.1", inst.smtp_port, timeout=60) as s:
                while todo:
                    i = todo[0]
                    body = (f"From: {SENDER}\r\nTo: {RCPT}\r\nSubject: crash test {i}\r\n"
                            f"Message-ID: {mid_of(i)}\r\n\r\nmessage {i}\r\n" + "x" * 1000 + "\r\n")
                    s.sendmail(SENDER, [RCPT], body)
                    todo.pop(0)
                    with lock:
                        sent[0] += 1
        except (smtplib.SMTPException, OSError) as e:
            tries += 1
            errors.append(repr(e))
            time.sleep(0.5)
    if todo:
        errors.append(f"gave up with {len(todo)} messages unsent")


def pids_named(master, name):
    out = []
    for pid in children_of(master):
        try:
            with open(f"/proc/{pid}/comm") as f:
                if f.read().strip() == name:
                    out.append(pid)
        except OSError:
            pass
    return out


def pflogsumm_counts(logfile):
    """(received, delivered) as pflogsumm counts them in the maillog."""
    r = subprocess.run(["pflogsumm", "--syslog-name=postern", logfile], capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    rcvd = re.search(r"^\s*(\d+)\s+received$", r.stdout, re.M)
    dlvd = re.search(r"^\s*(\d+)\s+delivered$", r.stdout, re.M)
    assert rcvd and dlvd, r.stdout
    return int(rcvd[1]), int(dlvd[1]), r.stdout


def test_kill_9_loses_nothing(instances):
    assert shutil.which("pflogsumm"), "needs pflogsumm (scripts/deps installs it)"
    inst = instances("inst", users=("demo:demo",))
    inst.short_retry()
    # A killed service comes back after service_throttle_time at worst.
    inst.set(smtpd_client_connection_count_limit="0", service_throttle_time="2s")
    inst.start()
    master = inst.master_pid()

    sent, errors, lock = [0], [], threading.Lock()
    threads = [threading.Thread(target=sender_thread,
                                args=(inst, range(t, N, THREADS), sent, errors, lock))
               for t in range(THREADS)]
    for t in threads:
        t.start()

    kills = {v: 0 for v in VICTIMS}
    for k, frac in enumerate(KILL_AT):
        victim = VICTIMS[k % 2]
        deadline = time.monotonic() + 120
        while sent[0] < frac * N and time.monotonic() < deadline and any(
                t.is_alive() for t in threads):
            time.sleep(0.02)
        # Wait (bounded) for the victim to be running, then kill it.
        pids = []
        for _ in range(100):
            pids = pids_named(master, victim)
            if pids:
                break
            time.sleep(0.05)
        for pid in pids:
            os.kill(pid, signal.SIGKILL)
            kills[victim] += 1
    for t in threads:
        t.join(timeout=600)
    assert not any(t.is_alive() for t in threads), "senders did not finish"
    assert sent[0] == N, (sent[0], errors[:5])
    assert kills["qmgr"] >= 2 and kills["virtual"] >= 2, kills

    inst.wait_queue_empty(timeout=400)
    maildir = inst.vmaildir("demo")
    wait_for(lambda: len(os.listdir(os.path.join(maildir, "new"))) >= N, 60,
             what=f"{N} files in {maildir}/new")
    mids = [m.get("Message-ID") for m in maildir_messages(maildir)]
    missing = sorted(set(mid_of(i) for i in range(N)) - set(mids))
    assert not missing, f"{len(missing)} messages lost, e.g. {missing[:5]}"
    assert set(mids) <= set(mid_of(i) for i in range(N)) | {None}

    received, delivered, report = pflogsumm_counts(inst.maillog_path)
    print(f"sent {N}, kills {kills}, Maildir files {len(mids)}, "
          f"pflogsumm received {received} delivered {delivered}")
    assert received == N, report
    # Each logged "status=sent" is one file in the Maildir; duplicates come
    # only from deliveries a kill interrupted before they were recorded.
    assert N <= delivered <= len(mids), (delivered, len(mids), report)
