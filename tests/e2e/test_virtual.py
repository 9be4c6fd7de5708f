"""The virtual delivery agent end to end: mail sent over SMTP to a
`postern init` instance goes through smtpd, qmgr and virtual into the
virtual mailboxes under virtual_mailbox_base: Maildirs (made when
missing) and mbox files, owned by the uid that virtual_uid_maps names;
unknown users and Delivered-To: loops bounce, with Postfix's log lines.
"""
import os
import re
import smtplib
import stat

import pytest

from conftest import is_root, maildir_messages, mail_owner_uid, mbox_messages, wait_messages

TIMEOUT = 30.0


def vuid():
    """The uid that owns virtual mailboxes: postern init's virtual_uid_maps."""
    return mail_owner_uid() if is_root() else os.geteuid()


def add_mailboxes(inst, lines):
    """Append lines to the instance's virtual_mailbox_maps (texthash:, read at start)."""
    with open(os.path.join(inst.dir, "vmailbox"), "a") as f:
        f.write("".join(line + "\n" for line in lines))


def send(inst, sender, rcpt, text):
    with smtplib.SMTP("127.0.0.1", inst.smtp_port, timeout=30) as s:
        s.sendmail(sender, [rcpt], text.replace("\n", "\r\n"))


def make(instances, extra_mailboxes=(), **params):
    """An instance with the virtual user bob (and extra vmailbox lines); started."""
    inst = instances("inst", users=("bob:secret",))
    if extra_mailboxes:
        add_mailboxes(inst, extra_mailboxes)
    inst.set(**params)
    inst.start()
    return inst


def test_maildir_delivery(instances):
    instance = make(instances)
    send(instance, "alice@example.org", "bob@example.test",
         "Subject: to maildir\n\nFrom the first line\nbye\n")
    msgs = wait_messages(maildir_messages, instance.vmaildir("bob"), timeout=TIMEOUT)
    m = msgs[0]
    assert m["Subject"] == "to maildir"
    assert m["Return-Path"] == "<alice@example.org>"
    assert m["Delivered-To"] == "bob@example.test"
    assert m["X-Original-To"] == "bob@example.test"
    # Maildir keeps "From " lines as they are.
    assert m.get_payload() == "From the first line\nbye\n"

    new = os.path.join(instance.vmaildir("bob"), "new")
    (name,) = os.listdir(new)
    assert re.fullmatch(r"\d+\.M\d+P\d+Q\d+\.[^/:]+,S=\d+", name), name
    st = os.lstat(os.path.join(new, name))
    assert stat.S_IMODE(st.st_mode) == 0o600
    assert st.st_uid == vuid()
    assert int(name.rsplit("S=", 1)[1]) == st.st_size
    assert os.listdir(os.path.join(instance.vmaildir("bob"), "tmp")) == []
    instance.wait_log(r"postern/virtual\[\d+\]: \w+: to=<bob@example\.test>, relay=virtual, "
                      r"delay=[\d.]+, delays=[\d.]+/[\d.]+/[\d.]+/[\d.]+, dsn=2\.0\.0, "
                      r"status=sent \(delivered to maildir\)")
    instance.wait_queue_empty()


def test_mbox_and_new_maildir(instances):
    # carol: an mbox file; dave: a Maildir that does not exist yet.
    instance = make(instances, ["carol@example.test example.test/carol",
                                "dave@example.test example.test/dave/"])
    send(instance, "alice@example.org", "carol@example.test",
         "Subject: to mbox\n\nFrom me, quoted\nbye\n")
    send(instance, "alice@example.org", "dave@example.test", "Subject: to dave\n\nhi\n")

    path = os.path.join(instance.dir, "mail", "example.test", "carol")
    (m,) = wait_messages(mbox_messages, path, timeout=TIMEOUT)
    assert m.get_from().startswith("alice@example.org ")
    assert m["Delivered-To"] == "carol@example.test"
    assert m.get_payload() == ">From me, quoted\nbye\n"
    st = os.lstat(path)
    assert stat.S_IMODE(st.st_mode) == 0o600 and st.st_uid == vuid()
    assert not os.path.exists(path + ".lock")

    (d,) = wait_messages(maildir_messages, instance.vmaildir("dave"), timeout=TIMEOUT)
    assert d["Subject"] == "to dave"
    for sub in ("cur", "new", "tmp"):
        assert os.path.isdir(os.path.join(instance.vmaildir("dave"), sub))
    instance.wait_log(r"to=<carol@example\.test>, relay=virtual, .*"
                      r"status=sent \(delivered to mailbox\)")
    instance.wait_queue_empty()


def test_unknown_user_rejected_by_smtpd(instances):
    """smtpd_reject_unlisted_recipient (default yes): no backscatter."""
    instance = make(instances)
    with pytest.raises(smtplib.SMTPRecipientsRefused) as e:
        send(instance, "alice@example.org", "nobody@example.test", "Subject: lost\n\nx\n")
    code, text = e.value.recipients["nobody@example.test"]
    assert code == 550 and b"User unknown in virtual mailbox table" in text


def test_unknown_user_bounces(instances):
    # A bare-user key is never tried for a virtual address. smtpd lets the
    # unknown user through here, so that virtual's own check is tested.
    instance = make(instances, ["nobody example.test/wrong/"],
                    smtpd_reject_unlisted_recipient="no")
    # The bounce goes back to bob, a virtual mailbox of the same instance.
    send(instance, "bob@example.test", "nobody@example.test", "Subject: lost\n\nx\n")
    instance.wait_log(r"to=<nobody@example\.test>, relay=virtual, .*dsn=5\.1\.1, "
                      r"status=bounced \(unknown user: \"nobody@example\.test\"\)",
                      timeout=TIMEOUT)
    (dsn,) = wait_messages(maildir_messages, instance.vmaildir("bob"), timeout=TIMEOUT)
    assert dsn.get_content_type() == "multipart/report"
    assert not os.path.exists(os.path.join(instance.dir, "mail", "example.test", "wrong"))
    instance.wait_queue_empty(timeout=TIMEOUT)


def test_delivered_to_loop_bounces(instances):
    instance = make(instances)
    send(instance, "alice@example.org", "bob@example.test",
         "Delivered-To: Bob@Example.Test\nSubject: looping\n\nx\n")
    instance.wait_log(r"to=<bob@example\.test>, relay=virtual, .*dsn=5\.4\.6, "
                      r"status=bounced \(mail forwarding loop for bob@example\.test\)",
                      timeout=TIMEOUT)
    assert maildir_messages(instance.vmaildir("bob")) == []
