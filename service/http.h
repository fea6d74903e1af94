/**
 * @file http.h
 * @brief A minimal HTTP/1.1 server on the libuv loop for /metrics, /healthz
 *        and /readyz: GET only, one request per connection, bounded headers.
 */
#ifndef WEIR_HTTP_H
#define WEIR_HTTP_H

#include <uv.h>

#include "common.h"

typedef struct weir_http weir_http_t;

/**
 * @brief Fills @p body for @p path and returns the HTTP status (404 for an
 * unknown path). @p content_type may be set to a static string.
 */
typedef int (*weir_http_handler)(void *opaque, const char *path, weir_buf_t *body,
                                 const char **content_type);

/**
 * @brief Listens on "host:port" (IPv4 or [IPv6]:port).
 * @returns 0, WEIR_ECONFIG for a bad address, WEIR_EIO when bind/listen fails.
 */
int weir_http_start(uv_loop_t *loop, const char *listen, weir_http_handler handler, void *opaque,
                    weir_http_t **out, char *err, size_t errsz);

/** @brief Stops listening and closes open connections; frees after the loop runs once more. */
void weir_http_stop(weir_http_t *h);

#endif
