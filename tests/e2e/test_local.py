"""local(8) end to end: mbox and Maildir delivery with Postfix's headers
and log texts, recipient_delimiter extensions, aliases to users, a file and
a command (re-queued addresses are "forwarded as NEWID"), alias loops,
.forward, unknown users (5.1.1), restricted commands (5.7.1), a mailbox
that is a symlink, and mailbox_command with procmail and sysexits codes.

System users exist only for the instance (nss_wrapper, conftest's
SystemUsers); nothing here touches /etc, /var/mail or port 25.
"""
import os
import pwd
import re
import shutil
import smtplib
import stat
import uuid

import pytest

from conftest import (add_aliases, is_root, maildir_messages, mbox_messages, system_users,
                      wait_for, wait_path)

HOST = "mail.example.test"          # postern init's myhostname: in mydestination
TIMEOUT = 30.0
USERS = ("alice", "bob", "carol")

pytestmark = pytest.mark.skipif(not os.path.exists("/usr/lib/x86_64-linux-gnu/libnss_wrapper.so"),
                                reason="libnss-wrapper is not installed (scripts/deps)")


def make(instances, name="inst", **params):
    """A started instance with system users alice, bob, carol and params."""
    inst = instances(name)
    users = system_users(inst, USERS, base=os.path.join(os.path.dirname(inst.dir), name + "-sys"))
    inst.short_retry()
    inst.set(**params)
    return inst, users


def send(inst, rcpt, subject, body="Hello from the local tests.\n", sender=f"bob@{HOST}"):
    """Send one message over SMTP; return (message_id, queue_id)."""
    mid = f"<{uuid.uuid4().hex}@test.example>"
    text = f"From: {sender}\nTo: {rcpt}\nSubject: {subject}\nMessage-ID: {mid}\n\n{body}"
    with smtplib.SMTP("127.0.0.1", inst.smtp_port, timeout=30) as s:
        code, resp = s.mail(sender)
        assert code == 250, resp
        code, resp = s.rcpt(rcpt)
        assert code == 250, resp
        code, resp = s.data(text.replace("\n", "\r\n").encode())
        assert code == 250, resp
    m = re.search(r"queued as (\S+)", resp.decode())
    assert m, resp
    return mid, m[1]


def result(inst, qid, rcpt, status="sent"):
    """Wait for local's result line for rcpt; return (dsn, text)."""
    m = inst.wait_log(rf"{qid}: to=<{re.escape(rcpt)}>, (?:orig_to=<[^>]*>, )?relay=local, "
                      rf"delay=[\d.]+, delays=[\d./]+, dsn=(\d\.\d+\.\d+), "
                      rf"status={status} \((.*)\)", TIMEOUT)
    return m[1], m[2]


def with_mid(reader, path, mid):
    found = wait_for(lambda: [m for m in reader(path) if m.get("Message-ID") == mid],
                     TIMEOUT, interval=0.2, what=f"{mid} in {path}")
    return found[0]


def test_mbox_with_extension_and_headers(instances):
    inst, users = make(instances, recipient_delimiter="+")
    inst.start()
    rcpt = f"Alice+News@{HOST}"
    mid, qid = send(inst, rcpt, "mbox", body="From here\n.dot\nlast line")
    dsn, text = result(inst, qid, rcpt)
    assert (dsn, text) == ("2.0.0", "delivered to mailbox")
    msg = with_mid(mbox_messages, inst.spool("alice"), mid)
    assert msg.get_from().startswith(f"bob@{HOST} "), msg.get_from()
    assert msg["Return-Path"] == f"<bob@{HOST}>"
    assert msg["Delivered-To"] == f"alice+news@{HOST}"
    assert msg["X-Original-To"] == rcpt
    assert msg.get_payload() == ">From here\n.dot\nlast line\n", repr(msg.get_payload())
    st = os.stat(inst.spool("alice"))
    assert st.st_uid == users.uid("alice") and stat.S_IMODE(st.st_mode) == 0o600


def test_maildir(instances):
    inst, users = make(instances, home_mailbox="Maildir/")
    inst.start()
    mid, qid = send(inst, f"carol@{HOST}", "maildir")
    assert result(inst, qid, f"carol@{HOST}") == ("2.0.0", "delivered to maildir")
    maildir = os.path.join(users.home("carol"), "Maildir")
    msg = with_mid(maildir_messages, maildir, mid)
    assert msg["Delivered-To"] == f"carol@{HOST}" and msg["Return-Path"] == f"<bob@{HOST}>"
    name = os.listdir(os.path.join(maildir, "new"))[0]
    assert os.stat(os.path.join(maildir, "new", name)).st_uid == users.uid("carol")
    assert not os.path.exists(inst.spool("carol"))


def test_alias_to_users_file_and_command(instances):
    inst, users = make(instances)
    out = os.path.join(os.path.dirname(inst.dir), "out")
    os.makedirs(out)
    os.chmod(out, 0o1777)           # alias files and commands run as default_privs
    saved, cmd_out = os.path.join(out, "saved.mbox"), os.path.join(out, "cmd.out")
    add_aliases(inst, f'team: alice, bob@{HOST}, {saved}, '
                f'"|{{ echo RECIPIENT=$RECIPIENT USER=$USER; id -u; cat; }} > {cmd_out}"\n'
                'owner-team: carol\n')
    inst.start()
    mid, qid = send(inst, f"team@{HOST}", "to the team")
    dsn, text = result(inst, qid, f"team@{HOST}")
    m = re.fullmatch(rf"delivered to file: {re.escape(saved)}, delivered to command: .*, "
                     r"forwarded as (\w+)", text)
    assert m, text
    newid = m[1]
    for u in ("alice", "bob"):
        msg = with_mid(mbox_messages, inst.spool(u), mid)
        assert msg["Return-Path"] == f"<owner-team@{HOST}>"         # owner- alias
        assert msg.get_all("Delivered-To") == [f"{u}@{HOST}", f"team@{HOST}"]
        inst.wait_log(rf"{newid}: to=<{u}@{HOST}>, orig_to=<team@{HOST}>, relay=local, "
                      r".*status=sent \(delivered to mailbox\)", TIMEOUT)
    msg = with_mid(mbox_messages, saved, mid)
    assert msg["Delivered-To"] == f"team@{HOST}"
    wait_path(cmd_out)
    with open(cmd_out) as f:
        lines = f.read().splitlines()
    # default_privs (root-run instance), or the instance's own user
    me = "nobody" if is_root() else pwd.getpwuid(os.getuid()).pw_name
    assert lines[0] == f"RECIPIENT=team@{HOST} USER={me}", lines
    assert lines[1] == str(pwd.getpwnam(me).pw_uid)
    assert mid in "\n".join(lines)


def test_alias_loop_and_self_reference(instances):
    inst, users = make(instances)
    add_aliases(inst, "ping: pong\npong: ping\ncarol: carol, bob\n")
    inst.start()
    mid, qid = send(inst, f"ping@{HOST}", "loop")
    # ping -> pong (re-queued with Delivered-To: ping) -> ping: loop
    inst.wait_log(rf"to=<ping@{HOST}>, relay=local, .*dsn=5\.4\.6, "
                  rf"status=bounced \(mail forwarding loop for ping@{HOST}\)", TIMEOUT)
    # carol: carol, bob -> carol's own mailbox and bob
    mid, qid = send(inst, f"carol@{HOST}", "self")
    with_mid(mbox_messages, inst.spool("carol"), mid)
    with_mid(mbox_messages, inst.spool("bob"), mid)
    dsn, text = result(inst, qid, f"carol@{HOST}")
    assert re.fullmatch(r"delivered to mailbox, forwarded as \w+", text), text


def test_forward_file(instances):
    inst, users = make(instances, recipient_delimiter="+")
    kept = os.path.join(users.home("carol"), "kept.mbox")
    users.write_home_file("carol", ".forward", f"# keep a copy\n\\carol, alice\n{kept}\n")
    users.write_home_file("carol", ".forward+lists", "bob\n")
    users.write_home_file("alice", ".forward", "bob\n", mode=0o666)     # ignored: writable
    inst.start()
    mid, qid = send(inst, f"carol@{HOST}", "forwarded")
    dsn, text = result(inst, qid, f"carol@{HOST}")
    assert re.fullmatch(rf"delivered to file: {re.escape(kept)}, delivered to mailbox, "
                        r"forwarded as \w+", text), text
    with_mid(mbox_messages, inst.spool("carol"), mid)
    with_mid(mbox_messages, kept, mid)
    assert os.stat(kept).st_uid == users.uid("carol")
    msg = with_mid(mbox_messages, inst.spool("alice"), mid)    # alice's .forward ignored
    assert f"carol@{HOST}" in msg.get_all("Delivered-To")
    assert "is not a regular file owned by alice" in inst.log()

    # carol+lists uses .forward+lists
    mid, qid = send(inst, f"carol+lists@{HOST}", "to the extension")
    dsn, text = result(inst, qid, f"carol+lists@{HOST}")
    assert re.fullmatch(r"forwarded as \w+", text), text
    with_mid(mbox_messages, inst.spool("bob"), mid)


def test_unknown_user_and_restrictions(instances):
    inst, users = make(instances, local_recipient_maps="", allow_mail_to_commands="forward",
                       allow_mail_to_files="forward")
    add_aliases(inst, 'runit: "|/bin/true"\nsaveit: /tmp/never-written-by-postern\n')
    inst.start()
    mid, qid = send(inst, f"nosuchuser@{HOST}", "nobody")
    assert result(inst, qid, f"nosuchuser@{HOST}", "bounced") \
        == ("5.1.1", 'unknown user: "nosuchuser"')
    mid, qid = send(inst, f"runit@{HOST}", "command")
    assert result(inst, qid, f"runit@{HOST}", "bounced") \
        == ("5.7.1", "mail to command is restricted")
    mid, qid = send(inst, f"saveit@{HOST}", "file")
    assert result(inst, qid, f"saveit@{HOST}", "bounced") \
        == ("5.7.1", "mail to file is restricted")
    assert not os.path.exists("/tmp/never-written-by-postern")


def test_luser_relay(instances):
    inst, users = make(instances, local_recipient_maps="", luser_relay=f"alice+$user@{HOST}",
                       recipient_delimiter="+")
    inst.start()
    mid, qid = send(inst, f"Stranger@{HOST}", "lost")
    dsn, text = result(inst, qid, f"Stranger@{HOST}")
    assert re.fullmatch(r"forwarded as \w+", text), text
    msg = with_mid(mbox_messages, inst.spool("alice"), mid)
    assert msg["Delivered-To"] == f"alice+stranger@{HOST}"


def test_symlinked_mailbox_refused(instances):
    inst, users = make(instances)
    target = os.path.join(os.path.dirname(inst.dir), "target")
    with open(target, "w") as f:
        f.write("untouched\n")
    os.chmod(target, 0o666)
    inst.start()
    os.symlink(target, inst.spool("bob"))
    mid, qid = send(inst, f"bob@{HOST}", "symlink")
    inst.wait_log(rf"{qid}: to=<bob@{HOST}>, relay=local, .*status=(bounced|deferred)", TIMEOUT)
    with open(target) as f:
        assert f.read() == "untouched\n"
    assert os.path.islink(inst.spool("bob"))


def test_mailbox_command_procmail(instances):
    procmail = shutil.which("procmail")
    if not procmail:
        pytest.skip("procmail is not installed (scripts/deps)")
    inst, users = make(instances)
    # A copy without the set-uid bit (still named procmail: it looks at its
    # name), so that it sees nss_wrapper's users. No .procmailrc: procmail
    # 3.22 on this platform fails to read one ("Exceeded LINEBUF") and
    # exits 0; the delivery target comes from the command line, and $HOME
    # shows that the environment is the user's.
    pm = os.path.join(os.path.dirname(inst.dir), "procmail")
    shutil.copy(procmail, pm)
    os.chmod(pm, 0o755)
    command = f'{pm} -a "$EXTENSION" DEFAULT=$HOME/procmail.mbox'
    inst.set(mailbox_command=command,
             export_environment="TZ MAIL_CONFIG LANG LD_PRELOAD NSS_WRAPPER_PASSWD "
                                "NSS_WRAPPER_GROUP")
    inst.start()
    mid, qid = send(inst, f"alice@{HOST}", "through procmail", body="From me\nbody\n")
    dsn, text = result(inst, qid, f"alice@{HOST}")
    assert text == f"delivered to command: {command}", text
    path = os.path.join(users.home("alice"), "procmail.mbox")
    msg = with_mid(mbox_messages, path, mid)
    assert msg["Delivered-To"] == f"alice@{HOST}" and msg["Return-Path"] == f"<bob@{HOST}>"
    assert msg["X-Original-To"] == f"alice@{HOST}"
    assert msg.get_from().startswith(f"bob@{HOST} ")
    assert ">From me\nbody\n" in msg.get_payload()     # procmail quotes From_ itself
    assert os.stat(path).st_uid == users.uid("alice")
    assert not os.path.exists(inst.spool("alice"))


@pytest.mark.parametrize("code,status,dsn", [(75, "deferred", "4.3.0"), (67, "bounced", "5.1.1"),
                                             (1, "bounced", "5.3.0")])
def test_mailbox_command_exit_status(instances, code, status, dsn):
    inst, users = make(instances, mailbox_command=f"echo 'no luck here'; exit {code}")
    inst.start()
    mid, qid = send(inst, f"bob@{HOST}", "exit")
    got_dsn, text = result(inst, qid, f"bob@{HOST}", status)
    assert got_dsn == dsn
    assert text == (f"Command died with status {code}: \"echo 'no luck here'; exit {code}\". "
                    "Command output: no luck here"), text


@pytest.mark.skipif(is_root(), reason="an unprivileged instance only (run-unprivileged)")
def test_unprivileged_instance_defers_other_uids(instances):
    """An instance that runs as a normal user can deliver only as itself:
    mail for root waits with a clear reason instead of failing or bouncing."""
    inst, users = make(instances)
    inst.start()
    mid, qid = send(inst, f"root@{HOST}", "to root")
    dsn, text = result(inst, qid, f"root@{HOST}", "deferred")
    assert dsn == "4.3.0"
    assert text == (f"cannot deliver as user root (uid 0): this unprivileged instance runs "
                    f"as uid {os.getuid()} and can deliver only as itself"), text


def test_include_forward_command_and_size_limit(instances):
    inst, users = make(instances, mailbox_size_limit="2000")
    listfile = os.path.join(os.path.dirname(inst.dir), "staff.list")
    with open(listfile, "w") as f:
        f.write("# the staff\nalice\n\n  bob  \n")
    os.chmod(listfile, 0o644)
    add_aliases(inst, f"staff: :include:{listfile}\n")
    out = os.path.join(users.home("carol"), "cmd.out")
    users.write_home_file("carol", ".forward", f'"|id -u > {out}; cat >> {out}"\n')
    inst.start()

    mid, qid = send(inst, f"staff@{HOST}", "to the list")
    dsn, text = result(inst, qid, f"staff@{HOST}")
    assert re.fullmatch(r"forwarded as \w+", text), text
    for u in ("alice", "bob"):
        with_mid(mbox_messages, inst.spool(u), mid)

    # a .forward command runs as the user, in the user's home
    mid, qid = send(inst, f"carol@{HOST}", "to carol's command")
    dsn, text = result(inst, qid, f"carol@{HOST}")
    assert text == f"delivered to command: id -u > {out}; cat >> {out}", text
    wait_path(out)
    with open(out) as f:
        got = f.read()
    assert got.splitlines()[0] == str(users.uid("carol")) and mid in got, got
    assert f"Delivered-To: carol@{HOST}" in got and got.splitlines()[1].startswith("From ")

    # over mailbox_size_limit: bounced with 5.2.2, the mailbox left as it was
    size = os.path.getsize(inst.spool("alice"))
    mid, qid = send(inst, f"alice@{HOST}", "too big", body="x" * 3000 + "\n")
    dsn, text = result(inst, qid, f"alice@{HOST}", "bounced")
    assert dsn == "5.2.2", (dsn, text)
    assert os.path.getsize(inst.spool("alice")) == size


def test_expand_owner_alias(instances):
    """expand_owner_alias = yes: the owner- alias's address becomes the sender."""
    inst, users = make(instances, expand_owner_alias="yes")
    add_aliases(inst, f"list: alice\nowner-list: carol@{HOST}\n")
    inst.start()
    mid, qid = send(inst, f"list@{HOST}", "to the list")
    msg = with_mid(mbox_messages, inst.spool("alice"), mid)
    assert msg["Return-Path"] == f"<carol@{HOST}>"


def test_include_safety(instances):
    """:include: files: world-writable ones bounce 5.3.5; a file that
    includes itself is read once and a repeated command runs once; the
    file owner's identity is used only under default_privs (root-owned
    aliases), never for a .forward."""
    inst, users = make(instances, allow_mail_to_commands="alias, forward, include",
                       allow_mail_to_files="alias, forward, include")
    top = os.path.dirname(inst.dir)
    out = os.path.join(top, "incl-out")
    os.makedirs(out)
    os.chmod(out, 0o1777)
    ww = os.path.join(top, "ww.list")
    with open(ww, "w") as f:
        f.write("alice\n")
    os.chmod(ww, 0o666)
    dup = os.path.join(out, "dup.out")
    selfl = os.path.join(top, "self.list")
    with open(selfl, "w") as f:
        f.write(f":include:{selfl}\n" * 50 + "alice\n" + f'"|id -u >> {dup}; cat >> {dup}"\n' * 3)
    bobl = os.path.join(top, "bob.list")
    fwd_out = os.path.join(out, "fwd.out")
    with open(bobl, "w") as f:
        f.write(f'"|id -u > {fwd_out}"\n')
    for p in (selfl, bobl):
        os.chmod(p, 0o644)
    if is_root():
        os.chown(selfl, users.uid("alice"), -1)
        os.chown(bobl, users.uid("bob"), -1)
    users.write_home_file("carol", ".forward", f":include:{bobl}\n")
    add_aliases(inst, f"ww: :include:{ww}\nselfish: :include:{selfl}\n")
    inst.start()

    mid, qid = send(inst, f"ww@{HOST}", "world writable")
    dsn, text = result(inst, qid, f"ww@{HOST}", "bounced")
    assert (dsn, text) == ("5.3.5", f":include: file {ww} is world writable"), (dsn, text)

    mid, qid = send(inst, f"selfish@{HOST}", "self include")
    dsn, text = result(inst, qid, f"selfish@{HOST}")
    assert re.fullmatch(r"delivered to command: .*, forwarded as \w+", text), text
    with_mid(mbox_messages, inst.spool("alice"), mid)
    with open(dup) as f:
        got = f.read()
    assert got.count(f"Message-ID: {mid}") == 1, got
    assert got.splitlines()[0] == str(users.uid("alice")), got   # file owner under default_privs

    mid, qid = send(inst, f"carol@{HOST}", "forward include")
    dsn, text = result(inst, qid, f"carol@{HOST}")
    wait_path(fwd_out)
    with open(fwd_out) as f:
        assert f.read().strip() == str(users.uid("carol"))        # not bob: a .forward


def test_command_time_limit(instances):
    """A command over command_time_limit is killed and deferred (Postfix's text)."""
    inst, users = make(instances, mailbox_command="sleep 30", command_time_limit="2s")
    inst.start()
    mid, qid = send(inst, f"bob@{HOST}", "slow")
    dsn, text = result(inst, qid, f"bob@{HOST}", "deferred")
    assert (dsn, text) == ("4.3.0", 'Command time limit exceeded: "sleep 30"'), (dsn, text)
