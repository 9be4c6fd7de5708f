/*
 * virtual - the virtual(8) delivery agent's main program: the agent
 * skeleton (deliver_agent.h) with the tables opened once per process.
 */
#include "deliver_agent.h"
#include "log.h"
#include "virtual.h"

static struct virtual_ctx *ctx;

/* Open the tables once the skeleton has settled the process. */
static void virtual_post_jail(const struct config *cfg)
{
    struct buf err = BUF_INIT;

    if ((ctx = virtual_open(cfg, &err)) == NULL)
        msg_fatal("%s", buf_str(&err));
    buf_free(&err);
}

/* struct deliver_agent.deliver */
static void virtual_deliver(struct delivery_request *req, const struct config *cfg)
{
    (void)cfg;
    virtual_deliver_request(ctx, req);
}

/* The virtual agent under the delivery agent skeleton. */
int main(int argc, char **argv)
{
    static const struct deliver_agent agent = {
        .program = "virtual",
        .post_jail = virtual_post_jail,
        .deliver = virtual_deliver,
    };

    deliver_agent_main(argc, argv, &agent);
}
