/**
 * @file http.h
 * @brief A minimal HTTP/1.1 server on the libuv loop for /metrics, /healthz
 *        and /readyz (GET and HEAD) and POST /score (a bounded body): one
 *        request per connection, a bounded request head, timeouts, and a cap
 *        on open connections that leaves file descriptors to the Kafka clients.
 *
 * The request-head parser is a pure function (weir_http_parse_head()), so it
 * can be tested and fuzzed without a socket.
 */
#ifndef WEIR_HTTP_H
#define WEIR_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "common.h"

/** @brief Largest request head (request line, header fields, blank line), in bytes. */
#define WEIR_HTTP_HEAD_MAX 8192
/** @brief Longest request path (the target without its query), in bytes. */
#define WEIR_HTTP_PATH_MAX 1023

/** @brief Longest Content-Type and Authorization values kept, in bytes (longer: 400). */
#define WEIR_HTTP_FIELD_MAX 511

/** @brief A parsed request head: what the server needs of it. */
typedef struct {
    char method[16];                   /**< "GET" or "HEAD" (or "POST", when allowed) on 200 */
    char path[WEIR_HTTP_PATH_MAX + 1]; /**< the target's path, without query, NUL-terminated */
    int head_only;                     /**< a HEAD request: headers, no body */
    size_t head_len;                   /**< bytes of the head, its blank line included */
    /* filled by weir_http_parse_request() on 200 */
    int64_t content_length;                      /**< -1 when the head has none */
    int chunked;                                 /**< a Transfer-Encoding field is present */
    char content_type[WEIR_HTTP_FIELD_MAX + 1];  /**< "" when absent */
    char authorization[WEIR_HTTP_FIELD_MAX + 1]; /**< "" when absent */
} weir_http_request_t;

/**
 * @brief Parses an HTTP/1.1 request head (RFC 9112: request line, header
 * fields, the blank line that ends them). Pure: no I/O, no allocation.
 *
 * Called again as more bytes arrive, it scans only the bytes it has not seen
 * (plus the two before them), so a head that arrives a byte at a time costs
 * linear time; the whole head is parsed once, when its end is there.
 *
 * @param data the bytes received so far (not NUL-terminated; may hold NULs)
 * @param len their count
 * @param seen how many of them an earlier call saw and found incomplete
 *        (0 on the first call; clamped to @p len)
 * @param req filled when the result is 200; its head_len is also set for
 *        the other statuses found once the head's end was there (405, 414,
 *        505, and 400 for a malformed line), and 0 otherwise
 * @returns 0 while the head is incomplete (read more); otherwise the HTTP
 *          status to answer: 200 for a well-formed GET or HEAD; 400 for a NUL
 *          or other control byte, a bare CR, a bad request line or header
 *          field; 405 for another method; 414 for a path over
 *          WEIR_HTTP_PATH_MAX bytes; 431 when no blank line comes within
 *          WEIR_HTTP_HEAD_MAX bytes; 505 for an HTTP version other than 1.x.
 */
int weir_http_parse_head(const char *data, size_t len, size_t seen, weir_http_request_t *req);

/**
 * @brief weir_http_parse_head() that, with @p allow_post, also takes POST and
 * reads the fields a request body needs: Content-Length (digits only; two
 * that differ are 400), Transfer-Encoding, Content-Type and Authorization
 * (values past WEIR_HTTP_FIELD_MAX bytes are 400). Without @p allow_post it
 * is weir_http_parse_head().
 */
int weir_http_parse_request(const char *data, size_t len, size_t seen, int allow_post,
                            weir_http_request_t *req);

typedef struct weir_http weir_http_t;

/**
 * @brief Fills @p body for @p path and returns the HTTP status (404 for an
 * unknown path). @p content_type may be set to a static string.
 */
typedef int (*weir_http_handler)(void *opaque, const char *path, weir_buf_t *body,
                                 const char **content_type);

/** @brief One whole request, as a weir_http_call_handler sees it (borrowed for the call). */
typedef struct {
    const weir_http_request_t *head;
    const uint8_t *body; /**< the request body (POST), not NUL-terminated; NULL when none */
    size_t body_len;
} weir_http_call_t;

/**
 * @brief Answers one request: fills @p body, returns the HTTP status, may set
 * @p content_type to a static string. Runs on the loop.
 */
typedef int (*weir_http_call_handler)(void *opaque, const weir_http_call_t *call, weir_buf_t *body,
                                      const char **content_type);

/** @brief What the server tolerates of its clients. */
typedef struct {
    /** The whole request head must arrive within this many ms of the accept
     *  (slow or silent clients are answered 408 and closed) [10000]. */
    int header_timeout_ms;
    /** A connection that neither sends nor takes a byte of its response for
     *  this many ms is closed [30000]. */
    int idle_timeout_ms;
    /** Open connections at most; more are answered 503 and closed [64]. */
    int max_connections;
    /** File descriptors left to the rest of the process (the Kafka clients'
     *  sockets): open connections stay below RLIMIT_NOFILE minus this [256]. */
    int fd_reserve;
    /** Largest request body taken (POST, with a Content-Length); larger ones
     *  are answered 413 before a byte of them is read. 0: no POST at all,
     *  answered 405 [0]. A body must arrive within the header timeout too. */
    size_t body_max;
} weir_http_limits_t;

/** @brief The defaults above. */
void weir_http_limits_default(weir_http_limits_t *limits);

/** @brief Counters of the server, for its own metrics. */
typedef struct {
    size_t open;            /**< connections open now */
    size_t max_open;        /**< the cap in force: max_connections, lowered by RLIMIT_NOFILE */
    uint64_t accepted;      /**< connections taken (under the cap) */
    uint64_t refused;       /**< connections answered 503 at the cap */
    uint64_t head_timeouts; /**< heads that did not arrive in time */
    uint64_t idle_timeouts; /**< connections closed for making no progress */
    uint64_t bad_requests;  /**< heads answered 4xx/5xx by the parser */
} weir_http_stats_t;

/**
 * @brief Listens on "host:port" (IPv4 or [IPv6]:port) with the default limits.
 * @returns 0, WEIR_ECONFIG for a bad address, WEIR_EIO when bind/listen fails.
 */
int weir_http_start(uv_loop_t *loop, const char *listen, weir_http_handler handler, void *opaque,
                    weir_http_t **out, char *err, size_t errsz);

/**
 * @brief weir_http_start() with @p limits (NULL: the defaults).
 * @returns as weir_http_start(); WEIR_ECONFIG also for a limit below 1.
 */
int weir_http_start_limited(uv_loop_t *loop, const char *listen, const weir_http_limits_t *limits,
                            weir_http_handler handler, void *opaque, weir_http_t **out, char *err,
                            size_t errsz);

/**
 * @brief weir_http_start_limited() with a handler of whole requests: with
 * limits->body_max > 0 it takes POST bodies of up to that many bytes
 * (Content-Length required: 411 without one, 501 for a Transfer-Encoding).
 */
int weir_http_serve(uv_loop_t *loop, const char *listen, const weir_http_limits_t *limits,
                    weir_http_call_handler handler, void *opaque, weir_http_t **out, char *err,
                    size_t errsz);

/** @brief Copies the server's counters (loop thread). */
void weir_http_stats(const weir_http_t *h, weir_http_stats_t *out);

/** @brief Stops listening and closes open connections; frees after the loop runs once more. */
void weir_http_stop(weir_http_t *h);

#endif
