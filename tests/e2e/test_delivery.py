"""The delivery path end to end (issue 5, item 7): mail that smtpd or
sendmail queued reaches a local system user's mbox or Maildir, aliases
(users, a file, a command), a .forward, a virtual mailbox, a second postern
instance through postern's smtp client, or comes back as a DSN; a peer that
answers 4xx makes mail wait and retry, one that answers 5xx makes a bounce.

Local users exist only for the instance (nss_wrapper, see conftest's
SystemUsers); nothing here touches /etc, /var/mail or port 25.
"""
import os
import re
import smtplib
import stat
import uuid

import pytest

from conftest import (FakeSMTPPeer, add_aliases, maildir_messages, mbox_messages,
                      system_users, wait_for, wait_messages, wait_path)

HOST = "mail.example.test"          # postern init's myhostname: in mydestination
LOCAL_USERS = ("alice", "bob", "carol", "dave")
TIMEOUT = 30.0


def make_local(instances, name="inst", **params):
    """An instance with local users alice..dave and virtual user demo,
    short retry times and params; started."""
    inst = instances(name, users=("demo:demo",))
    users = system_users(inst, LOCAL_USERS, base=os.path.join(os.path.dirname(inst.dir),
                                                              name + "-sys"))
    inst.short_retry()
    inst.set(**params)
    inst.start()
    return inst, users


def message(subject, sender, rcpt, body="Hello from the delivery tests.\n"):
    """A message with its own Message-ID; returns (text, message_id)."""
    mid = f"<{uuid.uuid4().hex}@test.example>"
    text = (f"From: {sender}\nTo: {rcpt}\nSubject: {subject}\nMessage-ID: {mid}\n"
            f"\n{body}")
    return text, mid


def submit(inst, sender, rcpts, subject, body="Hello from the delivery tests.\n"):
    """Send over SMTP; return (message_id, queue_id) once smtpd said 250."""
    text, mid = message(subject, sender, ", ".join(rcpts), body)
    with smtplib.SMTP("127.0.0.1", inst.smtp_port, timeout=30) as s:
        s.ehlo("client.test")
        code, resp = s.mail(sender)
        assert code == 250, resp
        for r in rcpts:
            code, resp = s.rcpt(r)
            assert code == 250, (r, code, resp)
        code, resp = s.data(text.replace("\n", "\r\n").encode())
        assert code == 250, resp
    m = re.search(r"queued as (\S+)", resp.decode())
    assert m, resp
    return mid, m[1]


def find(messages, mid):
    return [m for m in messages if m.get("Message-ID") == mid]


def wait_for_mid(reader, path, mid, timeout=TIMEOUT):
    """Wait until the message with mid is in the mailbox at path; return it."""
    found = wait_for(lambda: find(reader(path), mid), timeout, interval=0.2,
                     what=f"message {mid} in {path}")
    return found[0]


def assert_delivery_log(inst, qid, sender, rcpt, relay=None, timeout=TIMEOUT):
    """Postfix's log lines for one delivered message, as pflogsumm reads them."""
    inst.wait_log(rf"{qid}: from=<{re.escape(sender)}>, size=\d+, nrcpt=\d+ \(queue active\)",
                  timeout)
    line = inst.wait_log(rf"{qid}: to=<{re.escape(rcpt)}>, (?:orig_to=<[^>]*>, )?relay=([^,]+), "
                         rf"delay=[\d.]+, delays=[\d.]+/[\d.]+/[\d.]+/[\d.]+, "
                         rf"dsn=2\.\d+\.\d+, status=sent \(.+\)", timeout)
    if relay:
        assert re.match(relay, line[1]), line[0]
    inst.wait_log(rf"{qid}: removed", timeout)


def forwarded_as(inst, qid, rcpt):
    """The queue ID of the new message that local made for an alias or
    .forward expansion of rcpt (Postfix: "status=sent (forwarded as ID)")."""
    m = inst.wait_log(rf"{qid}: to=<{re.escape(rcpt)}>, relay=local, .*status=sent "
                      r"\(.*forwarded as (\w+)\)", TIMEOUT)
    return m[1]


def assert_local_headers(msg, sender, rcpt):
    assert msg["Return-Path"] == f"<{sender}>", msg["Return-Path"]
    assert msg["Delivered-To"] == rcpt, msg["Delivered-To"]
    received = msg.get_all("Received") or []
    assert received and HOST in received[0], received


def test_local_user_mbox(instances):
    """A local system user without home_mailbox: mbox in mail_spool_directory."""
    inst, users = make_local(instances, smtpd_recipient_restrictions="reject_unlisted_recipient")
    sender, rcpt = f"bob@{HOST}", f"alice@{HOST}"
    mid, qid = submit(inst, sender, [rcpt], "to mbox", body="From the start\n.dot\nend\n")
    msg = wait_for_mid(mbox_messages, inst.spool("alice"), mid)
    assert msg.get_from().startswith(sender + " "), msg.get_from()
    assert_local_headers(msg, sender, rcpt)
    body = msg.get_payload()
    assert ">From the start\n.dot\nend\n" in body, body     # From_ quoting, dot unstuffed
    st = os.stat(inst.spool("alice"))
    assert st.st_uid == users.uid("alice") and stat.S_IMODE(st.st_mode) & 0o077 == 0
    assert_delivery_log(inst, qid, sender, rcpt, relay=r"local$")

    # smtpd knows the users through the same passwd (local_recipient_maps,
    # proxy:unix:passwd.byname through lookupd).
    with smtplib.SMTP("127.0.0.1", inst.smtp_port, timeout=30) as s:
        s.mail(sender)
        code, _ = s.rcpt(f"nosuchuser@{HOST}")
        assert code == 550


def test_local_user_maildir(instances):
    """home_mailbox = Maildir/: delivery into ~/Maildir/new as the user."""
    inst, users = make_local(instances, home_mailbox="Maildir/")
    sender, rcpt = f"bob@{HOST}", f"alice@{HOST}"
    mid, qid = submit(inst, sender, [rcpt], "to Maildir")
    maildir = os.path.join(users.home("alice"), "Maildir")
    msg = wait_for_mid(maildir_messages, maildir, mid)
    assert_local_headers(msg, sender, rcpt)
    files = os.listdir(os.path.join(maildir, "new"))
    assert len(files) == 1 and os.stat(os.path.join(maildir, "new", files[0])).st_uid \
        == users.uid("alice")
    assert os.listdir(os.path.join(maildir, "tmp")) == []
    assert_delivery_log(inst, qid, sender, rcpt, relay=r"local$")


def test_alias_to_users_file_and_command(instances):
    """aliases: a list of users, a file, a |command."""
    inst, users = make_local(instances)
    out = os.path.join(os.path.dirname(inst.dir), "out")
    os.makedirs(out)
    os.chmod(out, 0o1777)           # file and command deliveries run as default_privs
    script = os.path.join(out, "save.sh")
    with open(script, "w") as f:
        f.write('#!/bin/sh\n{ echo "SENDER=$SENDER RECIPIENT=$RECIPIENT"; cat; } > "$1"\n')
    os.chmod(script, 0o755)
    saved, cmd_out = os.path.join(out, "saved.mbox"), os.path.join(out, "cmd.out")
    add_aliases(inst, f"team: alice, bob\nsavefile: {saved}\nruncmd: \"|{script} {cmd_out}\"\n")
    sender = f"carol@{HOST}"

    mid, qid = submit(inst, sender, [f"team@{HOST}"], "to the team")
    for u in ("alice", "bob"):
        msg = wait_for_mid(mbox_messages, inst.spool(u), mid)
        assert msg["Return-Path"] == f"<{sender}>"
    new = forwarded_as(inst, qid, f"team@{HOST}")
    for u in ("alice", "bob"):
        inst.wait_log(rf"{new}: to=<{u}@{HOST}>, orig_to=<team@{HOST}>, relay=local, .*"
                      r"status=sent", TIMEOUT)

    mid, qid = submit(inst, sender, [f"savefile@{HOST}"], "to a file")
    msg = wait_for_mid(mbox_messages, saved, mid)
    assert msg.get_from().startswith(sender + " ")
    assert msg["Delivered-To"] == f"savefile@{HOST}"
    inst.wait_log(rf"{qid}: to=<savefile@{HOST}>, .*status=sent", TIMEOUT)

    mid, qid = submit(inst, sender, [f"runcmd@{HOST}"], "to a command", body="piped body\n")
    wait_path(cmd_out, TIMEOUT)
    inst.wait_log(rf"{qid}: to=<runcmd@{HOST}>, .*status=sent", TIMEOUT)
    with open(cmd_out) as f:
        text = f.read()
    assert f"SENDER={sender} " in text, text
    assert mid in text and "piped body" in text, text


def test_forward_file(instances):
    """~/.forward sends dave's mail to alice and to a file in dave's home."""
    inst, users = make_local(instances)
    kept = os.path.join(users.home("dave"), "kept.mbox")
    users.write_home_file("dave", ".forward", f"alice, {kept}\n")
    sender = f"bob@{HOST}"
    mid, qid = submit(inst, sender, [f"dave@{HOST}"], "forwarded")
    msg = wait_for_mid(mbox_messages, inst.spool("alice"), mid)
    assert f"dave@{HOST}" in (msg.get_all("Delivered-To") or []), msg.get_all("Delivered-To")
    msg = wait_for_mid(mbox_messages, kept, mid)
    assert os.stat(kept).st_uid == users.uid("dave")
    assert not os.path.exists(inst.spool("dave"))
    new = forwarded_as(inst, qid, f"dave@{HOST}")
    inst.wait_log(rf"{new}: to=<alice@{HOST}>, orig_to=<dave@{HOST}>, .*status=sent", TIMEOUT)


def test_unknown_local_user_rejected_at_rcpt(instances):
    """Postfix's default smtpd_reject_unlisted_recipient: an unknown local
    user is refused during SMTP (no backscatter); a known one, found
    through proxy:unix:passwd.byname and lookupd, is accepted."""
    inst, users = make_local(instances)
    with pytest.raises(smtplib.SMTPRecipientsRefused) as e:
        inst.smtp(f"bob@{HOST}", [f"nosuchuser@{HOST}"], "Subject: x\n\nx\n")
    code, text = e.value.recipients[f"nosuchuser@{HOST}"]
    assert code == 550 and b"User unknown in local recipient table" in text, text
    assert inst.smtp(f"bob@{HOST}", [f"alice@{HOST}"], "Subject: x\n\nx\n") == {}


def test_unknown_local_user_bounces_to_local_sender(instances):
    """With local_recipient_maps empty smtpd accepts anyone; local bounces
    the unknown user with 5.1.1 and the DSN lands in the sender's mbox."""
    inst, users = make_local(instances, local_recipient_maps="")
    sender, rcpt = f"bob@{HOST}", f"nosuchuser@{HOST}"
    mid, qid = submit(inst, sender, [rcpt], "to nobody")
    inst.wait_log(rf"{qid}: to=<{rcpt}>, relay=local, .*dsn=5\.1\.1, status=bounced", TIMEOUT)
    dsn = wait_messages(mbox_messages, inst.spool("bob"), 1, TIMEOUT)[0]
    assert_dsn(dsn, rcpt, mid, "5.1.1")
    assert dsn.get_from().startswith("MAILER-DAEMON "), dsn.get_from()


def assert_dsn(dsn, rcpt, mid, status):
    """An RFC 3464 report about rcpt that quotes the original message."""
    assert dsn["Return-Path"] in ("<>", None), dsn["Return-Path"]
    assert dsn.get_content_type() == "multipart/report", dsn.get_content_type()
    assert dsn.get_param("report-type") == "delivery-status"
    parts = dsn.get_payload()
    assert parts[1].get_content_type() == "message/delivery-status"
    text = dsn.as_string()
    assert re.search(rf"Final-Recipient: rfc822; ?{re.escape(rcpt)}", text), text
    assert "Action: failed" in text and f"Status: {status}" in text, text
    assert mid in text, text        # the original headers come back


def test_virtual_user_maildir(instances):
    inst, _ = make_local(instances)
    sender, rcpt = f"bob@{HOST}", "demo@example.test"
    mid, qid = submit(inst, sender, [rcpt], "to a virtual mailbox")
    msg = wait_for_mid(maildir_messages, inst.vmaildir("demo"), mid)
    assert msg["Return-Path"] == f"<{sender}>"
    assert msg["Delivered-To"] == rcpt
    assert_delivery_log(inst, qid, sender, rcpt, relay=r"virtual$")


def two_instances(instances, **params):
    """a relays remote.test mail to b (params configure a); both started."""
    b = instances("b", users=("carol:pw",), domain="remote.test")
    a = instances("a", users=("demo:demo",))
    a.short_retry()
    a.set(**{k: v.replace("@B@", str(b.smtp_port)).replace("@A@", a.dir)
             for k, v in params.items()})
    b.start()
    a.start()
    return a, b


@pytest.mark.parametrize("how", ["relayhost", "transport_maps"])
def test_relay_to_second_instance(instances, how):
    if how == "relayhost":
        a, b = two_instances(instances, relayhost="[127.0.0.1]:@B@")
    else:
        a, b = two_instances(instances, transport_maps="texthash:@A@/transport")
        with open(os.path.join(a.dir, "transport"), "w") as f:
            f.write(f"remote.test smtp:[127.0.0.1]:{b.smtp_port}\n")
    sender, rcpt = "demo@example.test", "carol@remote.test"
    mid, qid = submit(a, sender, [rcpt], f"relayed by {how}")
    msg = wait_for_mid(maildir_messages, b.vmaildir("carol", "remote.test"), mid)
    assert msg["Return-Path"] == f"<{sender}>"
    received = msg.get_all("Received")
    assert len(received) >= 2 and "mail.remote.test" in received[0] \
        and "mail.example.test" in received[1], received
    assert_delivery_log(a, qid, sender, rcpt,
                        relay=rf"127\.0\.0\.1\[127\.0\.0\.1\]:{b.smtp_port}$")


def with_peer(instances, peer):
    """An instance whose mail for peer.test goes to the fake peer."""
    return make_local(instances,
                      transport_maps=f"inline:{{peer.test=smtp:[127.0.0.1]:{peer.port}}}")


def test_peer_4xx_defers_then_delivers(instances):
    with FakeSMTPPeer() as peer:
        peer.rcpt_reply = "451 4.3.0 Try again later"
        inst, _ = with_peer(instances, peer)
        sender, rcpt = "demo@example.test", "someone@peer.test"
        mid, qid = submit(inst, sender, [rcpt], "deferred first")
        inst.wait_log(rf"{qid}: to=<{rcpt}>, relay=127\.0\.0\.1\[127\.0\.0\.1\]:{peer.port}, "
                      r".*dsn=4\.3\.0, status=deferred \(.*451.*\)", TIMEOUT)
        assert os.path.exists(os.path.join(inst.queue, "deferred", qid))
        wait_for(lambda: peer.attempts >= 2, TIMEOUT, what="a retry after the short backoff")
        assert peer.messages == []
        peer.rcpt_reply = "250 2.1.5 Ok"
        wait_for(lambda: peer.messages, TIMEOUT, what="delivery once the peer recovered")
        got = peer.messages[0]
        assert got["sender"] == sender and got["rcpts"] == [rcpt]
        assert mid.encode() in got["data"]
        assert_delivery_log(inst, qid, sender, rcpt)
        inst.wait_queue_empty(TIMEOUT)


def test_peer_5xx_bounces_to_virtual_sender(instances):
    with FakeSMTPPeer() as peer:
        peer.rcpt_reply = "550 5.1.1 No such user here"
        inst, _ = with_peer(instances, peer)
        sender, rcpt = "demo@example.test", "someone@peer.test"
        mid, qid = submit(inst, sender, [rcpt], "will bounce")
        inst.wait_log(rf"{qid}: to=<{rcpt}>, relay=127\.0\.0\.1\[127\.0\.0\.1\]:{peer.port}, "
                      r".*dsn=5\.1\.1, status=bounced \(.*550.*\)", TIMEOUT)
        dsn = wait_messages(maildir_messages, inst.vmaildir("demo"), 1, TIMEOUT)[0]
        assert_dsn(dsn, rcpt, mid, "5.1.1")
        assert peer.messages == []
        inst.wait_log(rf"{qid}: removed", TIMEOUT)
        inst.wait_queue_empty(TIMEOUT)


def test_sendmail_submission_is_delivered(instances):
    inst, _ = make_local(instances)
    text, mid = message("by sendmail", f"bob@{HOST}", f"alice@{HOST}")
    inst.run("sendmail", "-C", inst.dir, "-f", f"bob@{HOST}", f"alice@{HOST}", input=text)
    msg = wait_for_mid(mbox_messages, inst.spool("alice"), mid)
    assert msg["Return-Path"] == f"<bob@{HOST}>"
    assert msg["Delivered-To"] == f"alice@{HOST}"
    m = inst.wait_log(rf"(\w+): message-id={re.escape(mid)}", TIMEOUT)
    assert re.search(rf"postern/pickup\[\d+\]: {m[1]}: (uid|sender)=", inst.log())
    assert_delivery_log(inst, m[1], f"bob@{HOST}", f"alice@{HOST}", relay=r"local$")


def test_init_keeps_local_delivery_inside_the_instance(instances):
    """postern init: own aliases (built), own mbox spool, and check accepts it."""
    inst = instances("inst", users=("demo:demo", "other:pw"))
    assert inst.param("alias_maps") == f"lmdb:{inst.dir}/aliases"
    assert inst.param("alias_database") == f"lmdb:{inst.dir}/aliases"
    assert inst.param("mail_spool_directory") == f"{inst.dir}/spool"
    st = os.stat(os.path.join(inst.dir, "spool"))
    assert stat.S_IMODE(st.st_mode) == 0o1777
    assert os.path.exists(os.path.join(inst.dir, "aliases.lmdb"))
    q = inst.run("postalias", "-c", inst.dir, "-q", "postmaster", f"lmdb:{inst.dir}/aliases")
    assert q.stdout.strip() == "demo@example.test"
    q = inst.run("postalias", "-c", inst.dir, "-q", "mailer-daemon", f"lmdb:{inst.dir}/aliases")
    assert q.stdout.strip() == "postmaster"
    inst.postern("check")
    # newaliases rebuilds the same table from the instance's alias_database.
    add_aliases(inst, "extra: demo@example.test")
    inst.run("newaliases", "-c", inst.dir)
    q = inst.run("postalias", "-c", inst.dir, "-q", "extra", f"lmdb:{inst.dir}/aliases")
    assert q.stdout.strip() == "demo@example.test"
