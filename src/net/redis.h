/*
 * redis.h: a blocking Redis client over hiredis (mw_redis_*), for the
 * stream workers and mw.redis. See redis.c for the design.
 *
 * The net layer sits beside src/iter: plain C, no Lua, no native heap.
 * It talks to outside servers and nothing else.
 */
#ifndef MW_NET_REDIS_H
#define MW_NET_REDIS_H

#include <stddef.h>

#include <hiredis/hiredis.h>

typedef struct mw_redis mw_redis;

/* Results of the functions below. */
enum {
    MW_REDIS_OK = 0,
    MW_REDIS_ECONN,     /* no connection, and retrying did not bring it back */
    MW_REDIS_ENOMEM,    /* hiredis or malloc failed */
    MW_REDIS_EPROTO     /* the server's reply could not be parsed */
};

/* Called with one line of text (no newline) when the connection is lost
 * and a retry is scheduled, and when it is back. */
typedef void (*mw_redis_log_fn)(void *ud, const char *line);

typedef struct mw_redis_options {
    const char *host;        /* an IPv4/IPv6 address or a name */
    int port;
    double timeout;          /* seconds, for connecting and for each reply */
    double retry_for;        /* seconds to keep retrying a lost connection (0: never) */
    double backoff_min;      /* the first wait, doubled each attempt ... */
    double backoff_max;      /* ... up to this (each with +-25% jitter) */
    mw_redis_log_fn log;     /* NULL: no log */
    void *log_ud;
} mw_redis_options;

/* Connects (retrying as opts says). Returns a new client, or NULL with
 * the reason in err (size errlen) when it cannot. The caller owns the
 * client and frees it with mw_redis_free. */
mw_redis *mw_redis_connect(const mw_redis_options *opts, char *err, size_t errlen);

void mw_redis_free(mw_redis *r);

/* Sends the commands (n of them, command i being argc[i] arguments at
 * argv[i] with lengths lens[i]: binary-safe) in one round trip and
 * stores their replies in replies[0..n), which the caller frees with
 * freeReplyObject. A lost connection is retried (the whole batch is sent
 * again: commands must tolerate being run twice). extra_timeout adds
 * seconds to the reply timeout (for XREADGROUP ... BLOCK). Returns
 * MW_REDIS_OK, or an error (mw_redis_error says why) with replies
 * all NULL (the caller passes them NULL). */
int mw_redis_run(mw_redis *r, size_t n, const int *argc, const char *const *const *argv,
                 const size_t *const *lens, redisReply **replies, double extra_timeout);

/* One command: mw_redis_run with n = 1. */
int mw_redis_command(mw_redis *r, int argc, const char *const *argv, const size_t *lens,
                     redisReply **reply, double extra_timeout);

/* The reason of the last failure: static until the next call. */
const char *mw_redis_error(const mw_redis *r);

/* How many times the connection was made again after a loss: a caller
 * that keeps state tied to the connection compares it before and after. */
unsigned long mw_redis_reconnects(const mw_redis *r);

/* "host:port" */
const char *mw_redis_address(const mw_redis *r);

#endif /* MW_NET_REDIS_H */
