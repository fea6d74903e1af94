/*
 * http.c — a small HTTP server for the observability endpoints. Each
 * connection reads up to 8 KiB of request head, answers one GET and closes.
 * The server keeps its open connections in a list, so that stopping closes
 * them too; it is freed when its last handle's close callback has run.
 */
#include "http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HEAD_MAX 8192
#define BODY_MAX ((size_t)16 << 20)

typedef struct conn conn_t;

struct weir_http {
    uv_tcp_t server;
    weir_http_handler handler;
    void *opaque;
    int open_handles;
    int stopping;
    conn_t *conns; /* open connections, closed by weir_http_stop() */
};

struct conn {
    uv_tcp_t tcp;
    weir_http_t *http;
    conn_t *prev, *next;
    char head[HEAD_MAX];
    size_t head_len;
    uv_write_t write;
    weir_buf_t response;
    int responded;
};

static void release(weir_http_t *h)
{
    if (--h->open_handles == 0 && h->stopping)
        free(h);
}

static void on_conn_closed(uv_handle_t *handle)
{
    conn_t *c = handle->data;
    weir_http_t *h = c->http;
    if (c->prev)
        c->prev->next = c->next;
    else
        h->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    weir_buf_dispose(&c->response);
    free(c);
    release(h);
}

static void close_conn(conn_t *c)
{
    if (!uv_is_closing((uv_handle_t *)&c->tcp))
        uv_close((uv_handle_t *)&c->tcp, on_conn_closed);
}

static void on_written(uv_write_t *req, int status)
{
    close_conn(req->data);
}

static const char *status_text(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 400:
        return "Bad Request";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 431:
        return "Request Header Fields Too Large";
    case 503:
        return "Service Unavailable";
    default:
        return "Internal Server Error";
    }
}

/* Sends the status, headers and (unless @p head_only, for HEAD) the body. */
static void respond(conn_t *c, int status, const char *content_type, const weir_buf_t *body,
                    int head_only)
{
    char head[256];
    size_t body_len = body ? body->len : 0;
    int n = snprintf(head, sizeof(head),
                     "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
                     "Connection: close\r\n\r\n",
                     status, status_text(status), content_type, body_len);
    c->responded = 1;
    if (weir_buf_append(&c->response, head, (size_t)n) != 0 ||
        (body_len && !head_only && weir_buf_append(&c->response, body->data, body_len) != 0)) {
        close_conn(c);
        return;
    }
    uv_buf_t buf = uv_buf_init((char *)c->response.data, (unsigned)c->response.len);
    c->write.data = c;
    if (uv_write(&c->write, (uv_stream_t *)&c->tcp, &buf, 1, on_written) != 0)
        close_conn(c);
}

static void handle_request(conn_t *c)
{
    char method[16], target[1024];
    if (sscanf(c->head, "%15s %1023s", method, target) != 2) {
        respond(c, 400, "text/plain", NULL, 0);
        return;
    }
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
        respond(c, 405, "text/plain", NULL, 0);
        return;
    }
    char *query = strchr(target, '?');
    if (query)
        *query = '\0';
    weir_buf_t body;
    weir_buf_init(&body, BODY_MAX);
    const char *type = "text/plain; charset=utf-8";
    int status = c->http->handler(c->http->opaque, target, &body, &type);
    respond(c, status, type, &body, !strcmp(method, "HEAD"));
    weir_buf_dispose(&body);
}

static void on_alloc(uv_handle_t *handle, size_t suggested, uv_buf_t *buf)
{
    conn_t *c = handle->data;
    size_t room = HEAD_MAX - 1 - c->head_len;
    *buf = uv_buf_init(c->head + c->head_len, (unsigned)room);
}

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
    conn_t *c = stream->data;
    if (nread < 0) {
        close_conn(c);
        return;
    }
    if (c->responded)
        return;
    c->head_len += (size_t)nread;
    c->head[c->head_len] = '\0';
    if (strstr(c->head, "\r\n\r\n") || strstr(c->head, "\n\n")) {
        uv_read_stop(stream);
        handle_request(c);
    } else if (c->head_len >= HEAD_MAX - 1) {
        uv_read_stop(stream);
        respond(c, 431, "text/plain", NULL, 0);
    }
}

static void on_connection(uv_stream_t *server, int status)
{
    weir_http_t *h = server->data;
    if (status < 0 || h->stopping)
        return;
    conn_t *c = calloc(1, sizeof(*c));
    if (!c)
        return;
    c->http = h;
    weir_buf_init(&c->response, BODY_MAX + 512);
    uv_tcp_init(server->loop, &c->tcp);
    c->tcp.data = c;
    h->open_handles++;
    c->next = h->conns;
    if (h->conns)
        h->conns->prev = c;
    h->conns = c;
    if (uv_accept(server, (uv_stream_t *)&c->tcp) != 0 ||
        uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) != 0)
        close_conn(c);
}

static int parse_listen(const char *listen, struct sockaddr_storage *addr)
{
    char host[256];
    const char *colon = strrchr(listen, ':');
    if (!colon || colon == listen || !colon[1])
        return WEIR_ECONFIG;
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (*end || port < 0 || port > 65535)
        return WEIR_ECONFIG;
    size_t n = (size_t)(colon - listen);
    if (n >= sizeof(host))
        return WEIR_ECONFIG;
    memcpy(host, listen, n);
    host[n] = '\0';
    if (host[0] == '[' && n > 2 && host[n - 1] == ']') {
        host[n - 1] = '\0';
        return uv_ip6_addr(host + 1, (int)port, (struct sockaddr_in6 *)addr) ? WEIR_ECONFIG : 0;
    }
    return uv_ip4_addr(host, (int)port, (struct sockaddr_in *)addr) ? WEIR_ECONFIG : 0;
}

static void on_server_closed(uv_handle_t *handle)
{
    release(handle->data);
}

int weir_http_start(uv_loop_t *loop, const char *listen, weir_http_handler handler, void *opaque,
                    weir_http_t **out, char *err, size_t errsz)
{
    struct sockaddr_storage addr;
    memset(&addr, 0, sizeof(addr));
    if (parse_listen(listen, &addr) != 0)
        return weir_seterr(err, errsz, WEIR_ECONFIG,
                           "http.listen: expected host:port (e.g. 127.0.0.1:9464), got \"%s\"",
                           listen);
    weir_http_t *h = calloc(1, sizeof(*h));
    if (!h)
        return WEIR_ENOMEM;
    h->handler = handler;
    h->opaque = opaque;
    uv_tcp_init(loop, &h->server);
    h->server.data = h;
    h->open_handles = 1;
    int uerr = uv_tcp_bind(&h->server, (const struct sockaddr *)&addr, 0);
    if (uerr == 0)
        uerr = uv_listen((uv_stream_t *)&h->server, 64, on_connection);
    if (uerr != 0) {
        h->stopping = 1;
        uv_close((uv_handle_t *)&h->server, on_server_closed);
        *out = NULL;
        return weir_seterr(err, errsz, WEIR_EIO, "http.listen: cannot listen on %s: %s", listen,
                           uv_strerror(uerr));
    }
    *out = h;
    return 0;
}

void weir_http_stop(weir_http_t *h)
{
    if (!h || h->stopping)
        return;
    h->stopping = 1;
    for (conn_t *c = h->conns; c; c = c->next)
        close_conn(c);
    uv_close((uv_handle_t *)&h->server, on_server_closed);
}
