/*
 * redis.c: a blocking Redis client over hiredis, with reconnection.
 *
 * One client is one hiredis context and what it takes to make it again:
 * the address, the timeouts, the retry policy. Every command goes out
 * as an argument vector with lengths (binary-safe, never formatted
 * through a printf-like template), and a batch of commands goes out in
 * one write and comes back in one read (pipelining), which is what makes
 * loading a stream fast.
 *
 * Connection loss: when a batch fails on the connection (refused, reset,
 * closed by the server, a reply that does not come within the timeout),
 * the client drops the context, waits and connects again, the waits
 * doubling from backoff_min to backoff_max with +-25% jitter (so a group
 * of workers that lost the same server do not all come back in the same
 * millisecond), for at most retry_for seconds, logging one line per
 * attempt through the caller's log function. Then it sends the whole
 * batch again. A batch may therefore run twice: callers send commands
 * that tolerate it (the stream worker's commit script is idempotent).
 *
 * Invariants:
 * - r->ctx is NULL or a context without an error: a failed context is
 *   freed at once, so every entry point either has a usable connection or
 *   makes one.
 * - Replies are handed to the caller whole, or not at all.
 * - No global state: the jitter's generator lives in the client.
 *
 * Memory: hiredis allocates with malloc (0.14 has no allocator hooks), so
 * a client's buffers are outside the runtime's accounting; they hold one
 * batch at a time.
 */
#include "net/redis.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct mw_redis {
    redisContext *ctx;
    mw_redis_options opts;
    char host[200];
    char address[220];         /* "host:port" */
    char error[1024];
    unsigned long reconnects;
    double timeout_set;        /* the socket timeout ctx has now */
    uint64_t rng;              /* xorshift64 state, for the jitter */
};

static double redis_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void redis_sleep(double seconds)
{
    if (seconds <= 0)
        return;
    struct timespec ts;
    ts.tv_sec = (time_t)seconds;
    ts.tv_nsec = (long)((seconds - (double)ts.tv_sec) * 1e9);
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static struct timeval redis_timeval(double seconds)
{
    struct timeval tv;
    tv.tv_sec = (time_t)seconds;
    tv.tv_usec = (long)((seconds - (double)tv.tv_sec) * 1e6);
    return tv;
}

/* A factor in [0.75, 1.25). */
static double redis_jitter(mw_redis *r)
{
    r->rng ^= r->rng << 13;
    r->rng ^= r->rng >> 7;
    r->rng ^= r->rng << 17;
    return 0.75 + (double)(r->rng >> 11) / (double)(UINT64_C(1) << 53) * 0.5;
}

static void redis_log(mw_redis *r, const char *line)
{
    if (r->opts.log != NULL)
        r->opts.log(r->opts.log_ud, line);
}

/* Drops the context, keeping its error as the client's. */
static void redis_drop(mw_redis *r, const char *why)
{
    if (r->ctx != NULL) {
        snprintf(r->error, sizeof r->error, "%s", r->ctx->errstr[0] ? r->ctx->errstr : why);
        redisFree(r->ctx);
        r->ctx = NULL;
    } else if (why != NULL) {
        snprintf(r->error, sizeof r->error, "%s", why);
    }
}

/* One attempt at connecting. Returns 1 with r->ctx set, or 0 with
 * r->error set. */
static int redis_try_connect(mw_redis *r)
{
    redisContext *c = redisConnectWithTimeout(r->host, r->opts.port, redis_timeval(r->opts.timeout));
    if (c == NULL) {
        snprintf(r->error, sizeof r->error, "out of memory");
        return 0;
    }
    if (c->err) {
        snprintf(r->error, sizeof r->error, "%s", c->errstr);
        redisFree(c);
        return 0;
    }
    if (redisSetTimeout(c, redis_timeval(r->opts.timeout)) != REDIS_OK) {
        snprintf(r->error, sizeof r->error, "%s", c->errstr[0] ? c->errstr : "cannot set timeout");
        redisFree(c);
        return 0;
    }
    redisEnableKeepAlive(c);
    r->ctx = c;
    r->timeout_set = r->opts.timeout;
    return 1;
}

/* Connects again after a loss (r->error says what was lost), waiting
 * between attempts, until deadline. Returns 1 when connected, 0 with
 * the last attempt's reason in r->error. */
static int redis_reconnect(mw_redis *r, double deadline, double *wait)
{
    char line[1400];
    for (;;) {
        double now = redis_now();
        if (now >= deadline)
            return 0;   /* r->error keeps the last reason */
        double pause = *wait * redis_jitter(r);
        if (now + pause > deadline)
            pause = deadline - now;
        snprintf(line, sizeof line, "lost connection to %s (%s), retrying in %.1f s", r->address,
                 r->error, pause);
        redis_log(r, line);
        redis_sleep(pause);
        *wait = *wait * 2 < r->opts.backoff_max ? *wait * 2 : r->opts.backoff_max;
        if (redis_try_connect(r)) {
            r->reconnects++;
            snprintf(line, sizeof line, "reconnected to %s", r->address);
            redis_log(r, line);
            return 1;
        }
    }
}

mw_redis *mw_redis_connect(const mw_redis_options *opts, char *err, size_t errlen)
{
    mw_redis *r = calloc(1, sizeof *r);
    if (r == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    r->opts = *opts;
    if (r->opts.timeout <= 0)
        r->opts.timeout = 5;
    if (r->opts.backoff_min <= 0)
        r->opts.backoff_min = 0.1;
    if (r->opts.backoff_max < r->opts.backoff_min)
        r->opts.backoff_max = r->opts.backoff_min;
    snprintf(r->host, sizeof r->host, "%s", opts->host != NULL ? opts->host : "127.0.0.1");
    r->opts.host = r->host;
    snprintf(r->address, sizeof r->address, "%s:%d", r->host, r->opts.port);
    r->rng = (uint64_t)time(NULL) * UINT64_C(0x9E3779B97F4A7C15) ^ (uint64_t)(uintptr_t)r;
    if (r->rng == 0)
        r->rng = 1;
    if (!redis_try_connect(r)) {
        double wait = r->opts.backoff_min;
        if (r->opts.retry_for <= 0 || !redis_reconnect(r, redis_now() + r->opts.retry_for, &wait)) {
            if (r->opts.retry_for > 0)
                snprintf(err, errlen, "cannot connect to %s (%s), gave up after %.3g s", r->address,
                         r->error, r->opts.retry_for);
            else
                snprintf(err, errlen, "cannot connect to %s (%s)", r->address, r->error);
            free(r);
            return NULL;
        }
        r->reconnects = 0;
    }
    return r;
}

void mw_redis_free(mw_redis *r)
{
    if (r == NULL)
        return;
    if (r->ctx != NULL)
        redisFree(r->ctx);
    free(r);
}

/* One round trip of the batch on the current context. Returns 1 with
 * every reply stored, or 0 (the context dropped, the replies got so far
 * freed). */
static int redis_round_trip(mw_redis *r, size_t n, const int *argc, const char *const *const *argv,
                            const size_t *const *lens, redisReply **replies, double extra_timeout)
{
    double want = r->opts.timeout + (extra_timeout > 0 ? extra_timeout : 0);
    if (want != r->timeout_set) {
        if (redisSetTimeout(r->ctx, redis_timeval(want)) != REDIS_OK) {
            redis_drop(r, "cannot set timeout");
            return 0;
        }
        r->timeout_set = want;
    }
    for (size_t i = 0; i < n; i++) {
        if (redisAppendCommandArgv(r->ctx, argc[i], (const char **)argv[i], lens[i]) != REDIS_OK) {
            redis_drop(r, "cannot send");
            return 0;
        }
    }
    for (size_t i = 0; i < n; i++) {
        void *reply = NULL;
        if (redisGetReply(r->ctx, &reply) != REDIS_OK || reply == NULL) {
            for (size_t j = 0; j < i; j++) {
                freeReplyObject(replies[j]);
                replies[j] = NULL;
            }
            redis_drop(r, "no reply");
            return 0;
        }
        replies[i] = reply;
    }
    return 1;
}

/* Whether a reply says the server is still loading its data (-LOADING,
 * after a restart): then the replies are freed, the connection dropped
 * and the batch retried like after a loss. */
static int redis_loading(mw_redis *r, size_t n, redisReply **replies)
{
    int loading = 0;
    for (size_t i = 0; i < n && !loading; i++)
        loading = replies[i]->type == REDIS_REPLY_ERROR && strncmp(replies[i]->str, "LOADING", 7) == 0;
    if (!loading)
        return 0;
    for (size_t i = 0; i < n; i++) {
        freeReplyObject(replies[i]);
        replies[i] = NULL;
    }
    redis_drop(r, "the server is loading its data");
    return 1;
}

int mw_redis_run(mw_redis *r, size_t n, const int *argc, const char *const *const *argv,
                 const size_t *const *lens, redisReply **replies, double extra_timeout)
{
    double deadline = 0, wait = r->opts.backoff_min;
    int lost = 0;
    for (;;) {
        if (r->ctx == NULL) {
            if (!lost) {
                lost = 1;
                deadline = redis_now() + r->opts.retry_for;
            }
            if (r->opts.retry_for <= 0 || !redis_reconnect(r, deadline, &wait)) {
                char reason[400];
                snprintf(reason, sizeof reason, "%.399s", r->error);
                if (r->opts.retry_for > 0)
                    snprintf(r->error, sizeof r->error, "lost connection to %s (%s), gave up after %.3g s",
                             r->address, reason, r->opts.retry_for);
                else
                    snprintf(r->error, sizeof r->error, "lost connection to %s (%s)", r->address, reason);
                return MW_REDIS_ECONN;
            }
        }
        if (redis_round_trip(r, n, argc, argv, lens, replies, extra_timeout)) {
            if (!redis_loading(r, n, replies))
                return MW_REDIS_OK;
            /* A server loading its data after a restart: wait as for a
             * lost connection, then send the batch again. */
        }
        if (strstr(r->error, "ut of memory") != NULL)
            return MW_REDIS_ENOMEM;
        if (!lost) {
            lost = 1;
            deadline = redis_now() + r->opts.retry_for;
        }
    }
}

int mw_redis_command(mw_redis *r, int argc, const char *const *argv, const size_t *lens,
                     redisReply **reply, double extra_timeout)
{
    const char *const *argvs[1] = {argv};
    const size_t *lenss[1] = {lens};
    return mw_redis_run(r, 1, &argc, argvs, lenss, reply, extra_timeout);
}

const char *mw_redis_error(const mw_redis *r)
{
    return r->error;
}

unsigned long mw_redis_reconnects(const mw_redis *r)
{
    return r->reconnects;
}

const char *mw_redis_address(const mw_redis *r)
{
    return r->address;
}
