/*
 * qmgr_message - messages in active/: open one and log it, load its
 * pending recipients in slices that keep all messages together under
 * qmgr_message_recipient_limit, mark results done in the queue file,
 * and notice when a message has no work left.
 *
 * Final results (sent, bounced) are marked done at once while the
 * message still has other work; the last ones are marked only if the
 * message stays (qmgr_active.c), since a removed file needs no marks.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "mem.h"
#include "qmgr.h"
#include "queue_file.h"

/* The queue file path of a message in active/. */
static void active_path(char out[64], const char *id)
{
    snprintf(out, 64, "%s/%s", QMGR_ACTIVE, id);
}

struct qmgr_message *qmgr_message_open(const char *id)
{
    struct buf why = BUF_INIT;
    struct queue_file *qf;
    const struct qf_envelope *env;
    struct qmgr_message *m;
    char path[64];
    int corrupt = 0;

    active_path(path, id);
    if (queue_file_open(path, QF_OPEN_RDONLY, &qf, &corrupt, &why) < 0) {
        if (!corrupt)
            msg_warn("%s: %s", id, buf_str(&why));
        /* Never strand it in active/: a file that stays is tried again later. */
        if (!corrupt || queue_file_quarantine(path, QMGR_CORRUPT, buf_str(&why)) < 0)
            qmgr_active_putback(id, 60);
        buf_free(&why);
        return NULL;
    }
    env = queue_file_envelope(qf);
    m = xcalloc(1, sizeof(*m));
    snprintf(m->id, sizeof(m->id), "%s", id);
    m->sender = xstrdup(env->sender);
    m->arrival = env->arrival;
    gettimeofday(&m->active, NULL);
    m->warn_time = env->warn_time;
    m->nrcpt = env->nrcpt;
    m->more = env->ndone < env->nrcpt;
    msg_info("%s: from=<%s>, size=%llu, nrcpt=%zu (queue active)", id, env->sender,
             (unsigned long long)env->size, env->nrcpt);
    m->next = qmgr.messages;
    if (qmgr.messages)
        qmgr.messages->prev = m;
    qmgr.messages = m;
    qmgr.nmessages++;
    buf_free(&why);
    /* The first slice of recipients comes from the same open file. */
    qmgr_message_load(m, qf);
    return m;
}

/* Put a message on the list of those waiting for room for recipients. */
static void wait_for_room(struct qmgr_message *m)
{
    if (m->waiting)
        return;
    m->waiting = 1;
    m->wait_next = NULL;
    if (qmgr.wait_tail)
        qmgr.wait_tail->wait_next = m;
    else
        qmgr.wait_head = m;
    qmgr.wait_tail = m;
}

void qmgr_message_load(struct qmgr_message *m, struct queue_file *qf)
{
    struct buf why = BUF_INIT;
    struct qf_rcpt qr;
    struct qmgr_rcpt **batch = NULL;
    size_t n = 0, cap = 0;
    long budget = qmgr.set.rcpt_limit - qmgr.nrcpt;
    char path[64];
    int corrupt = 0, rc;

    if (!m->more || (budget <= 0 && qmgr.nrcpt > 0)) {
        if (qf)
            queue_file_close(qf);
        if (m->more)
            wait_for_room(m);
        else
            qmgr_message_settle(m);
        return;
    }
    if (budget <= 0)
        budget = qmgr.set.rcpt_limit;
    active_path(path, m->id);
    if (qf == NULL && queue_file_open(path, QF_OPEN_RDONLY, &qf, &corrupt, &why) < 0) {
        msg_warn("%s: cannot read recipients: %s", m->id, buf_str(&why));
        m->more = 0;
        m->trouble = 1;
        buf_free(&why);
        qmgr_message_settle(m);
        return;
    }
    m->more = 0;
    queue_file_rcpt_rewind(qf);
    while ((rc = queue_file_rcpt_next(qf, &qr, &why)) == 1) {
        struct qmgr_rcpt *r;

        if (qr.index < m->next_index || qr.done)
            continue;
        if ((long)n >= budget) {
            m->more = 1;
            break;
        }
        r = xcalloc(1, sizeof(*r));
        r->msg = m;
        r->address = xstrdup(qr.address);
        r->orcpt = xstrdup(qr.orcpt);
        r->notify = qr.notify;
        r->offset = qr.offset;
        if (n == cap) {
            cap = cap ? 2 * cap : 16;
            batch = xreallocarray(batch, cap, sizeof(*batch));
        }
        batch[n++] = r;
        m->next_index = qr.index + 1;
    }
    if (rc < 0) {
        msg_warn("%s: reading recipients: %s", m->id, buf_str(&why));
        m->trouble = 1;
        m->more = 0;
    }
    queue_file_close(qf);
    m->unfinished += n;
    qmgr.nrcpt += (long)n;
    for (size_t i = 0; i < n; i++)
        qmgr_assign(batch[i]);
    free(batch);
    buf_free(&why);
    qmgr_message_settle(m);
}

/* From the loop: a message without unfinished recipients goes on or ends. */
static void settle_now(void *arg)
{
    struct qmgr_message *m = arg;

    m->settle_pending = 0;
    if (m->unfinished > 0 || m->fin != QMGR_FIN_NONE)
        return;
    if (m->more) {
        qmgr_message_sync_marks(m);
        qmgr_message_load(m, NULL);
        qmgr_schedule();        /* the new slice's recipients go out now */
    } else {
        qmgr_active_finish(m);
    }
}

void qmgr_message_settle(struct qmgr_message *m)
{
    if (m->unfinished > 0 || m->fin != QMGR_FIN_NONE || m->settle_pending)
        return;
    m->settle_pending = 1;
    ev_timer(qmgr.loop, 0, settle_now, m);
}

void qmgr_message_sync_marks(struct qmgr_message *m)
{
    struct buf why = BUF_INIT;
    struct queue_file *qf;
    struct qf_rcpt *rv;
    const struct qf_rcpt **pv;
    char path[64];
    int corrupt = 0;

    if (m->nunmarked == 0)
        return;
    active_path(path, m->id);
    if (queue_file_open(path, QF_OPEN_RDWR, &qf, &corrupt, &why) < 0) {
        msg_warn("%s: cannot mark recipients done: %s", m->id, buf_str(&why));
        m->trouble = 1;
        m->nunmarked = 0;
        buf_free(&why);
        return;
    }
    rv = xcalloc(m->nunmarked, sizeof(*rv));
    pv = xcalloc(m->nunmarked, sizeof(*pv));
    for (size_t i = 0; i < m->nunmarked; i++) {
        rv[i].offset = m->unmarked[i];
        pv[i] = &rv[i];
    }
    if (queue_file_mark_done_many(qf, pv, m->nunmarked, &why) < 0) {
        msg_warn("%s: cannot mark recipients done: %s", m->id, buf_str(&why));
        m->trouble = 1;
    }
    queue_file_close(qf);
    m->nunmarked = 0;
    free(rv);
    free(pv);
    buf_free(&why);
}

void qmgr_message_wake_waiting(void)
{
    while (qmgr.wait_head && qmgr.nrcpt < qmgr.set.rcpt_limit) {
        struct qmgr_message *m = qmgr.wait_head;

        qmgr.wait_head = m->wait_next;
        if (qmgr.wait_head == NULL)
            qmgr.wait_tail = NULL;
        m->waiting = 0;
        qmgr_message_load(m, NULL);
    }
}

void qmgr_message_free(struct qmgr_message *m)
{
    if (m->waiting) {
        struct qmgr_message **pp = &qmgr.wait_head, *prev = NULL;

        while (*pp && *pp != m) {
            prev = *pp;
            pp = &(*pp)->wait_next;
        }
        if (*pp)
            *pp = m->wait_next;
        if (qmgr.wait_tail == m)
            qmgr.wait_tail = prev;
    }
    if (m->settle_pending)
        msg_panic("%s: freed with a settle pending", m->id);
    if (m->prev)
        m->prev->next = m->next;
    else
        qmgr.messages = m->next;
    if (m->next)
        m->next->prev = m->prev;
    qmgr.nmessages--;
    free(m->sender);
    free(m->unmarked);
    free(m);
    qmgr_message_wake_waiting();
    qmgr_scan_run();
}
