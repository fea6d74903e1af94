/*
 * http.c — a small HTTP server for the observability endpoints, on the loop.
 *
 * Two parts. The request-head parser, weir_http_parse_head(), is pure: it
 * finds the blank line that ends a head (scanning only new bytes), refuses
 * bytes no head may hold as soon as they arrive, then parses the request line
 * and header fields once. The server around it owns the connections: each
 * reads one request head (at most WEIR_HTTP_HEAD_MAX bytes) and, on a server
 * that takes bodies (POST /score), a body of Content-Length bytes up to
 * body_max — refused with 413, 411 or 501 before a byte of it is read —
 * answers it, shuts its side down and lingers until the client closes, so a
 * response is never cut by a reset.
 *
 * What a client may cost is bounded: the head (and body) must arrive within
 * the header timeout, a connection that makes no progress (no bytes in, or none of its
 * response taken) is closed after the idle timeout, and connections beyond the
 * cap — max_connections, lowered so that RLIMIT_NOFILE minus fd_reserve
 * descriptors stay free for the Kafka clients — are answered 503 and closed at
 * once. A connection owns a TCP handle and a timer; it is freed when both
 * close callbacks have run, and the server when its last handle has closed.
 */
#include "http.h"
#include "prom.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#define BODY_MAX ((size_t)16 << 20)
#define BACKLOG 128

/* ---- the request-head parser (pure) -------------------------------- */

/* A byte no request head may hold: a control other than HTAB, CR and LF, or DEL. */
static int forbidden(unsigned char c)
{
    return (c < 0x20 && c != '\t' && c != '\r' && c != '\n') || c == 0x7f;
}

/* RFC 9110 tchar: the characters of a method or a field name. */
static int is_tchar(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/*
 * Scans [from, limit) for the end of the head: the LF of an empty line that is
 * not the first line (one empty line before the request line is ignored, as
 * RFC 9112 2.2 asks). Returns the head's length, 0 when it is not there yet,
 * -1 when a forbidden byte or a CR not followed by LF comes first.
 */
static long find_head_end(const unsigned char *d, size_t limit, size_t from)
{
    for (size_t i = from; i < limit; i++) {
        unsigned char c = d[i];
        if (forbidden(c) || (c == '\r' && i + 1 < limit && d[i + 1] != '\n'))
            return -1;
        if (c != '\n')
            continue;
        if ((i >= 1 && d[i - 1] == '\n') || (i >= 2 && d[i - 1] == '\r' && d[i - 2] == '\n'))
            return (long)(i + 1);
    }
    return 0;
}

/* The end of the line that starts at @p at (before its CR LF or LF), and in
 * @p next where the next line starts. The head holds a LF after @p at. */
static size_t line_end(const char *d, size_t at, size_t end, size_t *next)
{
    const char *lf = memchr(d + at, '\n', end - at);
    size_t stop = (size_t)(lf - d);
    *next = stop + 1;
    return stop > at && d[stop - 1] == '\r' ? stop - 1 : stop;
}

static int ascii_prefix(const char *d, size_t at, size_t end, const char *prefix)
{
    size_t n = strlen(prefix);
    if (end - at < n)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = d[at + i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (c != prefix[i])
            return 0;
    }
    return 1;
}

/* Whether the field name [at, at+n) is @p name (case-insensitive). */
static int field_is(const char *d, size_t at, size_t n, const char *name)
{
    return strlen(name) == n && ascii_prefix(d, at, at + n, name);
}

/* Copies a field value [v, e) without its surrounding whitespace; 400 when it
 * does not fit. */
static int copy_value(const char *d, size_t v, size_t e, char *out, size_t outsz)
{
    while (v < e && (d[v] == ' ' || d[v] == '\t'))
        v++;
    while (e > v && (d[e - 1] == ' ' || d[e - 1] == '\t'))
        e--;
    if (e - v >= outsz)
        return 400;
    memcpy(out, d + v, e - v);
    out[e - v] = '\0';
    return 0;
}

/* Reads the fields a body needs from one field line; 400 for a bad one. */
static int body_field(const char *d, size_t name, size_t colon, size_t end,
                      weir_http_request_t *req)
{
    size_t n = colon - name;
    char value[WEIR_HTTP_FIELD_MAX + 1];
    if (field_is(d, name, n, "content-length")) {
        if (copy_value(d, colon + 1, end, value, sizeof(value)) != 0 || !value[0] ||
            strlen(value) > 15 || strspn(value, "0123456789") != strlen(value))
            return 400;
        int64_t len = (int64_t)strtoll(value, NULL, 10);
        if (req->content_length >= 0 && req->content_length != len)
            return 400; /* two lengths that differ: request smuggling */
        req->content_length = len;
    } else if (field_is(d, name, n, "transfer-encoding")) {
        req->chunked = 1;
    } else if (field_is(d, name, n, "content-type")) {
        return copy_value(d, colon + 1, end, req->content_type, sizeof(req->content_type));
    } else if (field_is(d, name, n, "authorization")) {
        return copy_value(d, colon + 1, end, req->authorization, sizeof(req->authorization));
    }
    return 0;
}

/* Parses the complete head [0, end); every CR in it is followed by a LF and
 * it holds no forbidden byte. */
static int parse_complete(const char *d, size_t end, int allow_post, weir_http_request_t *req)
{
    size_t p = 0, next;
    if (d[0] == '\n')
        p = 1;
    else if (d[0] == '\r' && d[1] == '\n')
        p = 2;

    /* request-line = method SP request-target SP HTTP-version */
    size_t stop = line_end(d, p, end, &next);
    size_t m = p;
    while (m < stop && is_tchar((unsigned char)d[m]))
        m++;
    if (m == p || m >= stop || d[m] != ' ')
        return 400;
    size_t t = m + 1, te = t;
    while (te < stop && (unsigned char)d[te] > 0x20 && (unsigned char)d[te] < 0x7f)
        te++;
    if (te == t || te >= stop || d[te] != ' ')
        return 400;
    size_t v = te + 1;
    if (stop - v != 8 || memcmp(d + v, "HTTP/", 5) != 0 || d[v + 5] < '0' || d[v + 5] > '9' ||
        d[v + 6] != '.' || d[v + 7] < '0' || d[v + 7] > '9')
        return 400;

    /* field-line = field-name ":" OWS field-value OWS; no obs-fold */
    for (size_t q = next; q < end; q = next) {
        size_t s = line_end(d, q, end, &next);
        if (s == q)
            break; /* the blank line */
        size_t n = q;
        while (n < s && is_tchar((unsigned char)d[n]))
            n++;
        if (n == q || n >= s || d[n] != ':')
            return 400;
        /* the value: HTAB, SP, visible ASCII, obs-text; forbidden bytes are
         * already refused */
        if (allow_post && body_field(d, q, n, s, req) != 0)
            return 400;
    }

    if (d[v + 5] != '1')
        return 505;
    size_t method_len = m - p;
    if (!((method_len == 3 && !memcmp(d + p, "GET", 3)) ||
          (method_len == 4 && !memcmp(d + p, "HEAD", 4)) ||
          (allow_post && method_len == 4 && !memcmp(d + p, "POST", 4))))
        return 405;

    /* origin-form "/path?query", or absolute-form "http://host/path?query" */
    size_t path = t;
    if (d[t] != '/') {
        size_t scheme = ascii_prefix(d, t, te, "http://")    ? 7
                        : ascii_prefix(d, t, te, "https://") ? 8
                                                             : 0;
        if (!scheme)
            return 400;
        path = t + scheme;
        while (path < te && d[path] != '/' && d[path] != '?')
            path++;
        if (path == t + scheme)
            return 400; /* no authority */
    }
    size_t path_end = path;
    while (path_end < te && d[path_end] != '?' && d[path_end] != '#')
        path_end++;
    if (path_end - path > WEIR_HTTP_PATH_MAX)
        return 414;
    memcpy(req->method, d + p, method_len);
    req->method[method_len] = '\0';
    req->head_only = method_len == 4 && d[p] == 'H';
    if (path_end == path) {
        snprintf(req->path, sizeof(req->path), "/");
    } else {
        memcpy(req->path, d + path, path_end - path);
        req->path[path_end - path] = '\0';
    }
    return 200;
}

int weir_http_parse_head(const char *data, size_t len, size_t seen, weir_http_request_t *req)
{
    return weir_http_parse_request(data, len, seen, 0, req);
}

int weir_http_parse_request(const char *data, size_t len, size_t seen, int allow_post,
                            weir_http_request_t *req)
{
    const unsigned char *d = (const unsigned char *)data;
    size_t limit = len < WEIR_HTTP_HEAD_MAX ? len : WEIR_HTTP_HEAD_MAX;
    if (seen > len)
        seen = len;
    /* the byte before the new ones may be a CR whose LF had not come */
    size_t from = seen > 0 ? seen - 1 : 0;
    req->method[0] = '\0';
    req->path[0] = '\0';
    req->head_only = 0;
    req->head_len = 0;
    req->content_length = -1;
    req->chunked = 0;
    req->content_type[0] = '\0';
    req->authorization[0] = '\0';
    long end = find_head_end(d, limit, from);
    if (end < 0)
        return 400;
    if (end == 0)
        return len < WEIR_HTTP_HEAD_MAX ? 0 : 431;
    int status = parse_complete(data, (size_t)end, allow_post, req);
    req->head_len = (size_t)end;
    return status;
}

/* ---- the server ---------------------------------------------------- */

typedef struct conn conn_t;

typedef enum {
    PHASE_HEAD,    /* reading the request head */
    PHASE_BODY,    /* reading a POST body */
    PHASE_WRITING, /* the response is being sent */
    PHASE_LINGER,  /* sent and shut down; draining until the client closes */
} phase_t;

struct weir_http {
    uv_tcp_t server;
    weir_http_handler handler;   /* a handler of paths, or */
    weir_http_call_handler call; /* one of whole requests */
    void *opaque;
    weir_http_limits_t limits;
    weir_http_stats_t stats; /* stats.open counts the connections not closing */
    int open_handles;        /* the server, connections and refusals not yet freed */
    int stopping;
    conn_t *conns; /* every connection not yet freed */
};

struct conn {
    uv_tcp_t tcp;
    uv_timer_t timer;
    uv_write_t write;
    uv_shutdown_t shutdown;
    weir_http_t *http;
    conn_t *prev, *next;
    phase_t phase;
    int closing;
    int handles;          /* of tcp and timer, not yet closed */
    uint64_t accepted_at; /* loop time (ms) */
    uint64_t progress_at; /* loop time of the last byte in or out */
    size_t queued;        /* response bytes still queued at progress_at */
    weir_buf_t response;
    weir_http_request_t req; /* the parsed head, kept while its body arrives */
    uint8_t *body;           /* Content-Length bytes, when the request has a body */
    size_t body_len, body_got;
    size_t head_len;
    char head[WEIR_HTTP_HEAD_MAX]; /* the request head; then scratch for discarded bytes */
};

void weir_http_limits_default(weir_http_limits_t *limits)
{
    limits->header_timeout_ms = 10000;
    limits->idle_timeout_ms = 30000;
    limits->max_connections = 64;
    limits->fd_reserve = 256;
    limits->body_max = 0;
}

void weir_http_stats(const weir_http_t *h, weir_http_stats_t *out)
{
    *out = h->stats;
}

static void release(weir_http_t *h)
{
    if (--h->open_handles == 0 && h->stopping)
        free(h);
}

static void on_conn_handle_closed(uv_handle_t *handle)
{
    conn_t *c = handle->data;
    weir_http_t *h = c->http;
    if (--c->handles > 0)
        return;
    if (c->prev)
        c->prev->next = c->next;
    else
        h->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    weir_buf_dispose(&c->response);
    free(c->body);
    free(c);
    release(h);
}

static void close_conn(conn_t *c)
{
    if (c->closing)
        return;
    c->closing = 1;
    c->http->stats.open--;
    uv_close((uv_handle_t *)&c->tcp, on_conn_handle_closed);
    uv_close((uv_handle_t *)&c->timer, on_conn_handle_closed);
}

static const char *status_text(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 408:
        return "Request Timeout";
    case 411:
        return "Length Required";
    case 413:
        return "Content Too Large";
    case 414:
        return "URI Too Long";
    case 415:
        return "Unsupported Media Type";
    case 422:
        return "Unprocessable Content";
    case 431:
        return "Request Header Fields Too Large";
    case 501:
        return "Not Implemented";
    case 503:
        return "Service Unavailable";
    case 505:
        return "HTTP Version Not Supported";
    default:
        return "Internal Server Error";
    }
}

static void on_timer(uv_timer_t *timer);

/* How often a response in flight is checked for progress. */
static uint64_t progress_interval(const weir_http_limits_t *l)
{
    return l->idle_timeout_ms >= 8 ? (uint64_t)l->idle_timeout_ms / 8 : 1;
}

static void on_alloc(uv_handle_t *handle, size_t suggested, uv_buf_t *buf);
static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf);

static void on_shutdown(uv_shutdown_t *req, int status)
{
    conn_t *c = req->data;
    if (status < 0 || c->closing) {
        close_conn(c);
        return;
    }
    /* Drain what the client still sends until it closes, so that closing
     * with unread bytes never resets the connection under the response. */
    c->phase = PHASE_LINGER;
    uv_timer_start(&c->timer, on_timer, (uint64_t)c->http->limits.idle_timeout_ms, 0);
}

static void on_written(uv_write_t *req, int status)
{
    conn_t *c = req->data;
    if (status < 0 || c->closing) {
        close_conn(c);
        return;
    }
    c->shutdown.data = c;
    if (uv_shutdown(&c->shutdown, (uv_stream_t *)&c->tcp, on_shutdown) != 0 ||
        uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) != 0)
        close_conn(c);
}

/* Sends the status, headers and (unless @p head_only, for HEAD) the body. */
static void respond(conn_t *c, int status, const char *content_type, const weir_buf_t *body,
                    int head_only)
{
    char head[384];
    size_t body_len = body ? body->len : 0;
    const char *extra = "";
    if (status == 405)
        extra = c->http->limits.body_max ? "Allow: GET, HEAD, POST\r\n" : "Allow: GET, HEAD\r\n";
    else if (status == 401)
        extra = "WWW-Authenticate: Bearer\r\n";
    int n = snprintf(head, sizeof(head),
                     "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
                     "%sConnection: close\r\n\r\n",
                     status, status_text(status), content_type, body_len, extra);
    uv_read_stop((uv_stream_t *)&c->tcp);
    c->phase = PHASE_WRITING;
    if (n < 0 || (size_t)n >= sizeof(head) || weir_buf_append(&c->response, head, (size_t)n) != 0 ||
        (body_len && !head_only && weir_buf_append(&c->response, body->data, body_len) != 0)) {
        close_conn(c);
        return;
    }
    uv_buf_t buf = uv_buf_init((char *)c->response.data, (unsigned)c->response.len);
    c->write.data = c;
    if (uv_write(&c->write, (uv_stream_t *)&c->tcp, &buf, 1, on_written) != 0) {
        close_conn(c);
        return;
    }
    c->progress_at = uv_now(c->tcp.loop);
    c->queued = c->tcp.write_queue_size;
    uv_timer_start(&c->timer, on_timer, progress_interval(&c->http->limits), 0);
}

/* An answer of the server itself (not of the handler), with a one-line body. */
/* Answers @p status with its text and, when @p reason is not NULL, why. */
static void respond_why(conn_t *c, int status, const char *reason)
{
    weir_buf_t body;
    weir_buf_init(&body, 256);
    weir_buf_printf(&body, "%s%s%s\n", status_text(status), reason ? ": " : "",
                    reason ? reason : "");
    respond(c, status, "text/plain; charset=utf-8", &body, 0);
    weir_buf_dispose(&body);
}

static void respond_error(conn_t *c, int status)
{
    respond_why(c, status, NULL);
}

static void handle_request(conn_t *c, const weir_http_request_t *req)
{
    weir_buf_t body;
    weir_buf_init(&body, BODY_MAX);
    const char *type = "text/plain; charset=utf-8";
    int status;
    if (c->http->call) {
        weir_http_call_t call = {req, c->body, c->body_len};
        status = c->http->call(c->http->opaque, &call, &body, &type);
    } else {
        status = c->http->handler(c->http->opaque, req->path, &body, &type);
    }
    respond(c, status, type, &body, req->head_only);
    weir_buf_dispose(&body);
}

/* A head that announces a body: refuse it, or make room and take the bytes
 * that came with the head. Returns 1 when the body is complete. */
static int begin_body(conn_t *c)
{
    const weir_http_request_t *req = &c->req;
    weir_http_t *h = c->http;
    int status = 0;
    char why[128] = "";
    if (req->chunked) {
        status = 501;
        snprintf(why, sizeof(why), "a chunked body is not taken; send a Content-Length");
    } else if (req->content_length < 0) {
        status = 411;
        snprintf(why, sizeof(why), "a POST needs a Content-Length");
    } else if ((uint64_t)req->content_length > h->limits.body_max) {
        status = 413;
        snprintf(why, sizeof(why), "a body of %" PRId64 " bytes; the limit is %zu",
                 req->content_length, h->limits.body_max);
    } else if (req->content_length > 0 && !(c->body = malloc((size_t)req->content_length))) {
        status = 503;
        snprintf(why, sizeof(why), "out of memory for the body");
    }
    if (status) {
        h->stats.bad_requests++;
        respond_why(c, status, why);
        return -1;
    }
    c->body_len = (size_t)req->content_length;
    size_t extra = c->head_len - req->head_len;
    if (extra > c->body_len)
        extra = c->body_len; /* more than the body: pipelining is not served */
    if (extra)
        memcpy(c->body, c->head + req->head_len, extra);
    c->body_got = extra;
    c->phase = PHASE_BODY;
    return c->body_got == c->body_len;
}

static void on_timer(uv_timer_t *timer)
{
    conn_t *c = timer->data;
    weir_http_t *h = c->http;
    const weir_http_limits_t *l = &h->limits;
    uint64_t now = uv_now(timer->loop);
    if (c->closing)
        return;
    if (c->phase == PHASE_HEAD || c->phase == PHASE_BODY) {
        uint64_t head_by = c->accepted_at + (uint64_t)l->header_timeout_ms;
        uint64_t idle_by = c->progress_at + (uint64_t)l->idle_timeout_ms;
        if (now < head_by && now < idle_by) {
            uv_timer_start(timer, on_timer, (head_by < idle_by ? head_by : idle_by) - now, 0);
            return;
        }
        if (now >= head_by)
            h->stats.head_timeouts++;
        else
            h->stats.idle_timeouts++;
        /* a client that sent part of a head is told why; a silent one is not */
        if (c->head_len)
            respond_error(c, 408);
        else
            close_conn(c);
        return;
    }
    if (c->phase == PHASE_WRITING) {
        size_t queued = c->tcp.write_queue_size;
        if (queued < c->queued) {
            c->queued = queued;
            c->progress_at = now;
        }
        if (now - c->progress_at < (uint64_t)l->idle_timeout_ms) {
            uv_timer_start(timer, on_timer, progress_interval(l), 0);
            return;
        }
        h->stats.idle_timeouts++;
    }
    close_conn(c); /* idle while writing, or done lingering */
}

static void on_alloc(uv_handle_t *handle, size_t suggested, uv_buf_t *buf)
{
    conn_t *c = handle->data;
    if (c->phase == PHASE_HEAD)
        *buf = uv_buf_init(c->head + c->head_len, (unsigned)(sizeof(c->head) - c->head_len));
    else if (c->phase == PHASE_BODY)
        *buf = uv_buf_init((char *)c->body + c->body_got, (unsigned)(c->body_len - c->body_got));
    else
        *buf = uv_buf_init(c->head, (unsigned)sizeof(c->head)); /* discarded */
}

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
    conn_t *c = stream->data;
    if (c->closing || nread == 0)
        return;
    if (nread < 0) {
        close_conn(c); /* the client closed or reset: nothing more to answer */
        return;
    }
    if (c->phase == PHASE_BODY) {
        c->body_got += (size_t)nread;
        c->progress_at = uv_now(stream->loop);
        if (c->body_got == c->body_len)
            handle_request(c, &c->req);
        return;
    }
    if (c->phase != PHASE_HEAD)
        return;
    size_t seen = c->head_len;
    c->head_len += (size_t)nread;
    c->progress_at = uv_now(stream->loop);
    int allow_post = c->http->limits.body_max > 0;
    int status = weir_http_parse_request(c->head, c->head_len, seen, allow_post, &c->req);
    if (status == 0)
        return;
    if (status != 200) {
        c->http->stats.bad_requests++;
        respond_error(c, status);
        return;
    }
    if (!strcmp(c->req.method, "POST") || c->req.content_length > 0) {
        /* a GET with a body is read whole too, so its bytes never reset the answer */
        if (begin_body(c) != 1)
            return;
    }
    handle_request(c, &c->req);
}

static void on_refused_closed(uv_handle_t *handle)
{
    weir_http_t *h = handle->data;
    free(handle);
    release(h);
}

/* Past the cap: accept, say 503 if the socket takes it at once, close. */
static void refuse(weir_http_t *h, uv_stream_t *server)
{
    static const char answer[] = "HTTP/1.1 503 Service Unavailable\r\n"
                                 "Content-Type: text/plain; charset=utf-8\r\n"
                                 "Content-Length: 21\r\nConnection: close\r\n\r\n"
                                 "too many connections\n";
    uv_tcp_t *t = malloc(sizeof(*t));
    if (!t)
        return; /* out of memory: libuv keeps the connection pending */
    uv_tcp_init(server->loop, t);
    t->data = h;
    h->open_handles++;
    h->stats.refused++;
    if (uv_accept(server, (uv_stream_t *)t) == 0) {
        uv_buf_t buf = uv_buf_init((char *)answer, sizeof(answer) - 1);
        uv_try_write((uv_stream_t *)t, &buf, 1);
    }
    uv_close((uv_handle_t *)t, on_refused_closed);
}

static void on_connection(uv_stream_t *server, int status)
{
    weir_http_t *h = server->data;
    if (status < 0 || h->stopping)
        return;
    conn_t *c = NULL;
    if (h->stats.open >= h->stats.max_open || !(c = calloc(1, sizeof(*c)))) {
        refuse(h, server);
        return;
    }
    c->http = h;
    c->handles = 2;
    weir_buf_init(&c->response, BODY_MAX + 512);
    uv_tcp_init(server->loop, &c->tcp);
    uv_timer_init(server->loop, &c->timer);
    c->tcp.data = c;
    c->timer.data = c;
    c->accepted_at = c->progress_at = uv_now(server->loop);
    h->open_handles++;
    h->stats.open++;
    h->stats.accepted++;
    c->next = h->conns;
    if (h->conns)
        h->conns->prev = c;
    h->conns = c;
    const weir_http_limits_t *l = &h->limits;
    int first =
        l->header_timeout_ms < l->idle_timeout_ms ? l->header_timeout_ms : l->idle_timeout_ms;
    if (uv_accept(server, (uv_stream_t *)&c->tcp) != 0 ||
        uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) != 0 ||
        uv_timer_start(&c->timer, on_timer, (uint64_t)first, 0) != 0)
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

/* max_connections, lowered so that fd_reserve descriptors stay under
 * RLIMIT_NOFILE for the rest of the process; never below one. */
static size_t connection_cap(const weir_http_limits_t *l)
{
    size_t cap = (size_t)l->max_connections;
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
        rlim_t reserve = (rlim_t)l->fd_reserve;
        size_t room = rl.rlim_cur > reserve ? (size_t)(rl.rlim_cur - reserve) : 1;
        if (room < cap)
            cap = room;
    }
    return cap ? cap : 1;
}

static void on_server_closed(uv_handle_t *handle)
{
    release(handle->data);
}

int weir_http_start(uv_loop_t *loop, const char *listen, weir_http_handler handler, void *opaque,
                    weir_http_t **out, char *err, size_t errsz)
{
    return weir_http_start_limited(loop, listen, NULL, handler, opaque, out, err, errsz);
}

static int start_server(uv_loop_t *loop, const char *listen, const weir_http_limits_t *limits,
                        weir_http_handler handler, weir_http_call_handler call, void *opaque,
                        weir_http_t **out, char *err, size_t errsz);

int weir_http_start_limited(uv_loop_t *loop, const char *listen, const weir_http_limits_t *limits,
                            weir_http_handler handler, void *opaque, weir_http_t **out, char *err,
                            size_t errsz)
{
    weir_http_limits_t l;
    if (limits)
        l = *limits;
    else
        weir_http_limits_default(&l);
    l.body_max = 0; /* a handler of paths never sees a body */
    return start_server(loop, listen, &l, handler, NULL, opaque, out, err, errsz);
}

int weir_http_serve(uv_loop_t *loop, const char *listen, const weir_http_limits_t *limits,
                    weir_http_call_handler handler, void *opaque, weir_http_t **out, char *err,
                    size_t errsz)
{
    return start_server(loop, listen, limits, NULL, handler, opaque, out, err, errsz);
}

static int start_server(uv_loop_t *loop, const char *listen, const weir_http_limits_t *limits,
                        weir_http_handler handler, weir_http_call_handler call, void *opaque,
                        weir_http_t **out, char *err, size_t errsz)
{
    struct sockaddr_storage addr;
    weir_http_limits_t l;
    *out = NULL;
    if (limits)
        l = *limits;
    else
        weir_http_limits_default(&l);
    if (l.header_timeout_ms < 1 || l.idle_timeout_ms < 1 || l.max_connections < 1 ||
        l.fd_reserve < 0)
        return weir_seterr(err, errsz, WEIR_ECONFIG,
                           "http: timeouts and the connection cap must be at least 1");
    memset(&addr, 0, sizeof(addr));
    if (parse_listen(listen, &addr) != 0)
        return weir_seterr(err, errsz, WEIR_ECONFIG,
                           "http.listen: expected host:port (e.g. 127.0.0.1:9464), got \"%s\"",
                           listen);
    weir_http_t *h = calloc(1, sizeof(*h));
    if (!h)
        return weir_seterr(err, errsz, WEIR_ENOMEM, "http: out of memory");
    h->handler = handler;
    h->call = call;
    h->opaque = opaque;
    h->limits = l;
    h->stats.max_open = connection_cap(&l);
    uv_tcp_init(loop, &h->server);
    h->server.data = h;
    h->open_handles = 1;
    int uerr = uv_tcp_bind(&h->server, (const struct sockaddr *)&addr, 0);
    if (uerr == 0)
        uerr = uv_listen((uv_stream_t *)&h->server, BACKLOG, on_connection);
    if (uerr != 0) {
        h->stopping = 1;
        uv_close((uv_handle_t *)&h->server, on_server_closed);
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
