/*
 * test_http.c — the observability HTTP server on a libuv loop driven by the
 * test itself: GET answers with the handler's status, body and content type;
 * other methods, oversized heads and garbage get their 4xx; bad listen
 * addresses and busy ports are refused with messages naming http.listen;
 * stopping closes what is open. Clients are non-blocking sockets; every wait
 * drives uv_run(UV_RUN_NOWAIT) until a condition holds or a deadline passes.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "broker.h"
#include "http.h"
#include "metrics.h"

#define DEADLINE_MS 5000

typedef struct {
    int calls;
    char path[1100];
} handler_state_t;

static uv_loop_t loop;
static weir_http_t *server;
static handler_state_t state;
static int port;
static char err[512];

static int handler(void *opaque, const char *path, weir_buf_t *body, const char **content_type)
{
    handler_state_t *st = opaque;
    st->calls++;
    snprintf(st->path, sizeof(st->path), "%s", path);
    if (!strcmp(path, "/metrics")) {
        *content_type = "text/plain; version=0.0.4; charset=utf-8";
        weir_buf_printf(body, "weir_up 1\n");
        return 200;
    }
    if (!strcmp(path, "/readyz")) {
        weir_buf_printf(body, "no partitions assigned\n");
        return 503;
    }
    if (!strcmp(path, "/big")) {
        for (int i = 0; i < 20000; i++)
            weir_buf_printf(body, "line %05d of a large body\n", i);
        return 200;
    }
    if (!strcmp(path, "/huge")) {
        /* more than the socket buffers of both ends hold */
        size_t n = (size_t)12 << 20;
        cr_assert_eq(weir_buf_reserve(body, n), 0);
        memset(body->data, 'x', n);
        body->len = n;
        return 200;
    }
    weir_buf_printf(body, "not found\n");
    return 404;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Starts the server on a free port with @p limits (NULL: weir_http_start()). */
static void start_with(const weir_http_limits_t *limits)
{
    cr_assert_eq(uv_loop_init(&loop), 0);
    memset(&state, 0, sizeof(state));
    if (!port)
        port = weir_it_free_port();
    char listen[64];
    snprintf(listen, sizeof(listen), "127.0.0.1:%d", port);
    int rc = limits ? weir_http_start_limited(&loop, listen, limits, handler, &state, &server, err,
                                              sizeof(err))
                    : weir_http_start(&loop, listen, handler, &state, &server, err, sizeof(err));
    cr_assert_eq(rc, 0, "%s", err);
    cr_assert_not_null(server);
}

static void start_server(void)
{
    start_with(NULL);
}

/* Runs the loop until nothing is left on it; asserts it got there in time. */
static void drain_loop(void)
{
    int64_t deadline = now_ms() + DEADLINE_MS;
    while (uv_run(&loop, UV_RUN_NOWAIT) != 0 && now_ms() < deadline)
        ;
    cr_assert_eq(uv_loop_alive(&loop), 0, "handles left open on the loop");
    cr_assert_eq(uv_loop_close(&loop), 0);
}

static void stop_server(void)
{
    weir_http_stop(server);
    server = NULL;
    drain_loop();
}

static int client_connect(void)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    cr_assert_geq(fd, 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int rc = connect(fd, (struct sockaddr *)&addr, sizeof(addr));
    cr_assert(rc == 0 || errno == EINPROGRESS, "connect: %s", strerror(errno));
    return fd;
}

/* Waits a little for the socket (the wait is bounded, the loop runs between). */
static void wait_fd(int fd, short events)
{
    struct pollfd p = {.fd = fd, .events = events};
    poll(&p, 1, 1);
}

static void client_send(int fd, const char *data, size_t len)
{
    size_t sent = 0;
    int64_t deadline = now_ms() + DEADLINE_MS;
    while (sent < len) {
        ssize_t n = send(fd, data + sent, len - sent, MSG_NOSIGNAL);
        if (n > 0) {
            sent += (size_t)n;
            continue;
        }
        cr_assert(n < 0 && (errno == EAGAIN || errno == EINPROGRESS || errno == ENOTCONN),
                  "send: %s", strerror(errno));
        cr_assert_lt(now_ms(), deadline, "send timed out");
        uv_run(&loop, UV_RUN_NOWAIT);
        wait_fd(fd, POLLOUT);
    }
}

typedef struct {
    int status;
    char reason[64];
    char content_type[128];
    long content_length;
    char *text; /* the whole response */
    const char *body;
    size_t body_len;
    int reset; /* the connection was reset instead of closed */
} response_t;

/* Reads until the server closes the connection, driving the loop meanwhile. */
static void client_read(int fd, response_t *r)
{
    size_t cap = 1 << 16, len = 0;
    memset(r, 0, sizeof(*r));
    r->content_length = -1;
    r->text = malloc(cap + 1);
    int64_t deadline = now_ms() + DEADLINE_MS;
    for (;;) {
        if (len == cap) {
            cap *= 2;
            r->text = realloc(r->text, cap + 1);
        }
        ssize_t n = recv(fd, r->text + len, cap - len, 0);
        if (n > 0) {
            len += (size_t)n;
            continue;
        }
        if (n == 0)
            break;
        if (errno == ECONNRESET) {
            r->reset = 1;
            break;
        }
        cr_assert(errno == EAGAIN, "recv: %s", strerror(errno));
        cr_assert_lt(now_ms(), deadline, "no complete response in time (%zu bytes so far)", len);
        uv_run(&loop, UV_RUN_NOWAIT);
        wait_fd(fd, POLLIN);
    }
    close(fd);
    r->text[len] = '\0';
    sscanf(r->text, "HTTP/1.1 %d %63[^\r\n]", &r->status, r->reason);
    const char *ct = strstr(r->text, "\r\nContent-Type: ");
    if (ct)
        sscanf(ct + 16, "%127[^\r\n]", r->content_type);
    const char *cl = strstr(r->text, "\r\nContent-Length: ");
    if (cl)
        r->content_length = strtol(cl + 18, NULL, 10);
    const char *end = strstr(r->text, "\r\n\r\n");
    if (end) {
        r->body = end + 4;
        r->body_len = len - (size_t)(r->body - r->text);
    }
}

static void request(const char *raw, response_t *r)
{
    int fd = client_connect();
    client_send(fd, raw, strlen(raw));
    client_read(fd, r);
}

TestSuite(http, .init = start_server, .fini = stop_server);

Test(http, get_returns_the_handlers_status_body_and_content_type)
{
    response_t r;
    request("GET /metrics HTTP/1.1\r\nHost: localhost\r\nAccept: */*\r\n\r\n", &r);
    cr_assert_eq(r.status, 200, "%s", r.text);
    cr_assert_str_eq(r.reason, "OK");
    cr_assert_str_eq(r.content_type, "text/plain; version=0.0.4; charset=utf-8");
    cr_assert_eq(r.content_length, (long)strlen("weir_up 1\n"));
    cr_assert_eq(r.body_len, (size_t)r.content_length, "the body is as long as announced");
    cr_assert_str_eq(r.body, "weir_up 1\n");
    cr_assert(strstr(r.text, "\r\nConnection: close\r\n"), "%s", r.text);
    cr_assert_eq(state.calls, 1);
    cr_assert_str_eq(state.path, "/metrics");
    free(r.text);
}

Test(http, handler_status_and_default_content_type_pass_through)
{
    response_t r;
    request("GET /readyz HTTP/1.1\r\n\r\n", &r);
    cr_assert_eq(r.status, 503);
    cr_assert_str_eq(r.reason, "Service Unavailable");
    cr_assert_str_eq(r.content_type, "text/plain; charset=utf-8");
    cr_assert_str_eq(r.body, "no partitions assigned\n");
    free(r.text);
}

Test(http, unknown_path_is_the_handlers_404)
{
    response_t r;
    request("GET /nope HTTP/1.1\r\n\r\n", &r);
    cr_assert_eq(r.status, 404);
    cr_assert_str_eq(r.reason, "Not Found");
    cr_assert_str_eq(r.body, "not found\n");
    cr_assert_str_eq(state.path, "/nope");
    free(r.text);
}

Test(http, query_string_is_not_part_of_the_path)
{
    response_t r;
    request("GET /metrics?name[]=weir_up HTTP/1.1\r\n\r\n", &r);
    cr_assert_eq(r.status, 200);
    cr_assert_str_eq(state.path, "/metrics");
    free(r.text);
}

Test(http, large_bodies_arrive_whole)
{
    response_t r;
    request("GET /big HTTP/1.1\r\n\r\n", &r);
    cr_assert_eq(r.status, 200);
    cr_assert_eq(r.body_len, (size_t)20000 * strlen("line 00000 of a large body\n"));
    cr_assert_eq(r.body_len, (size_t)r.content_length);
    cr_assert(!strncmp(r.body + r.body_len - 27, "line 19999 of a large body\n", 27));
    free(r.text);
}

Test(http, post_is_405_and_never_reaches_the_handler)
{
    response_t r;
    request("POST /metrics HTTP/1.1\r\nContent-Length: 2\r\n\r\nhi", &r);
    cr_assert_eq(r.status, 405, "%s", r.text);
    cr_assert_str_eq(r.reason, "Method Not Allowed");
    cr_assert(strstr(r.text, "\r\nAllow: GET, HEAD\r\n"), "405 names the methods: %s", r.text);
    cr_assert_eq(r.body_len, (size_t)r.content_length);
    cr_assert_eq(state.calls, 0);
    free(r.text);
}

Test(http, head_answers_the_get_headers_without_a_body)
{
    response_t r;
    request("GET /metrics HTTP/1.1\r\n\r\n", &r);
    long get_length = r.content_length;
    free(r.text);
    cr_assert_gt(get_length, 0);
    request("HEAD /metrics HTTP/1.1\r\n\r\n", &r);
    cr_assert_eq(r.status, 200);
    cr_assert_eq(r.body_len, 0);
    cr_assert_eq(r.content_length, get_length, "the length GET would send");
    cr_assert_eq(state.calls, 2);
    free(r.text);
}

Test(http, garbage_request_is_400)
{
    response_t r;
    request("\r\n\r\n", &r);
    cr_assert_eq(r.status, 400, "%s", r.text);
    cr_assert_eq(state.calls, 0);
    free(r.text);
}

Test(http, head_larger_than_8_kib_is_431)
{
    /* A request line, then a header that never ends within 8 KiB. */
    size_t len = 8192 + 2048;
    char *raw = malloc(len + 1);
    int n = snprintf(raw, len + 1, "GET /metrics HTTP/1.1\r\nX-Padding: ");
    memset(raw + n, 'a', len - (size_t)n);
    raw[len] = '\0';
    response_t r;
    int fd = client_connect();
    client_send(fd, raw, len);
    client_read(fd, &r);
    cr_assert_eq(r.status, 431, "got \"%.80s\"%s", r.text, r.reset ? " (reset)" : "");
    cr_assert_str_eq(r.reason, "Request Header Fields Too Large");
    cr_assert_eq(state.calls, 0);
    free(raw);
    free(r.text);
}

Test(http, head_sent_in_small_pieces_is_answered_once_complete)
{
    const char *raw = "GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n";
    int fd = client_connect();
    for (size_t i = 0; raw[i]; i++) {
        client_send(fd, raw + i, 1);
        for (int k = 0; k < 3; k++)
            uv_run(&loop, UV_RUN_NOWAIT);
    }
    response_t r;
    client_read(fd, &r);
    cr_assert_eq(r.status, 200);
    cr_assert_eq(state.calls, 1);
    free(r.text);
}

Test(http, concurrent_connections_are_each_answered)
{
    enum { N = 16 };
    int fds[N];
    for (int i = 0; i < N; i++)
        fds[i] = client_connect();
    for (int i = 0; i < N; i++) {
        const char *raw = i % 2 ? "GET /metrics HTTP/1.1\r\n\r\n" : "GET /other HTTP/1.1\r\n\r\n";
        client_send(fds[i], raw, strlen(raw));
    }
    for (int i = N - 1; i >= 0; i--) {
        response_t r;
        client_read(fds[i], &r);
        cr_assert_eq(r.status, i % 2 ? 200 : 404, "connection %d", i);
        free(r.text);
    }
    cr_assert_eq(state.calls, N);
}

Test(http, stop_closes_connections_still_open)
{
    /* A client that connected and sent half a request, then went quiet. */
    int fd = client_connect();
    client_send(fd, "GET /metr", 9);
    weir_http_stats_t st = {0};
    int64_t deadline = now_ms() + DEADLINE_MS;
    while (st.open < 1 && now_ms() < deadline) {
        uv_run(&loop, UV_RUN_NOWAIT);
        wait_fd(fd, POLLIN);
        weir_http_stats(server, &st);
    }
    cr_assert_eq(st.open, 1, "the connection was accepted");
    weir_http_stop(server);
    server = NULL;
    deadline = now_ms() + DEADLINE_MS;
    while (uv_run(&loop, UV_RUN_NOWAIT) != 0 && now_ms() < deadline)
        wait_fd(fd, POLLIN);
    cr_assert_eq(uv_loop_alive(&loop), 0, "an idle connection kept the loop alive after stop");
    char byte;
    ssize_t got = recv(fd, &byte, 1, 0);
    cr_assert(got == 0 || (got < 0 && errno == ECONNRESET),
              "the client sees the connection closed (recv %zd: %s)", got,
              got < 0 ? strerror(errno) : "data");
    close(fd);
    cr_assert_eq(state.calls, 0);
}

/* Without the fixture: addresses that cannot be listened on. */

Test(http_listen, bad_addresses_are_config_errors_naming_http_listen)
{
    const char *bad[] = {"",
                         "9464",
                         ":9464",
                         "127.0.0.1:",
                         "127.0.0.1:http",
                         "127.0.0.1:65536",
                         "127.0.0.1:-1",
                         "localhost:9464",
                         "300.1.1.1:80",
                         "[::1:80",
                         "[]:80",
                         "127.0.0.1:80x"};
    uv_loop_t l;
    cr_assert_eq(uv_loop_init(&l), 0);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        weir_http_t *h = NULL;
        char e[512] = "";
        int rc = weir_http_start(&l, bad[i], handler, &state, &h, e, sizeof(e));
        cr_assert_eq(rc, WEIR_ECONFIG, "\"%s\" gives %d (%s)", bad[i], rc, e);
        cr_assert_null(h);
        cr_assert(!strncmp(e, "http.listen: ", 13), "\"%s\": %s", bad[i], e);
        char quoted[64];
        snprintf(quoted, sizeof(quoted), "\"%s\"", bad[i]);
        cr_assert(strstr(e, quoted), "the message quotes the value: %s", e);
    }
    cr_assert_eq(uv_run(&l, UV_RUN_NOWAIT), 0, "nothing was left on the loop");
    cr_assert_eq(uv_loop_close(&l), 0);
}

Test(http_listen, port_in_use_is_an_io_error_naming_http_listen)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = 0};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    cr_assert_eq(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
    cr_assert_eq(listen(fd, 1), 0);
    socklen_t alen = sizeof(addr);
    getsockname(fd, (struct sockaddr *)&addr, &alen);
    char listen_at[64];
    snprintf(listen_at, sizeof(listen_at), "127.0.0.1:%d", ntohs(addr.sin_port));

    uv_loop_t l;
    cr_assert_eq(uv_loop_init(&l), 0);
    weir_http_t *h = (weir_http_t *)&l; /* must be overwritten */
    char e[512] = "";
    int rc = weir_http_start(&l, listen_at, handler, &state, &h, e, sizeof(e));
    cr_assert_eq(rc, WEIR_EIO, "%d: %s", rc, e);
    cr_assert_null(h);
    cr_assert(!strncmp(e, "http.listen: cannot listen on ", 30), "%s", e);
    cr_assert(strstr(e, listen_at), "%s", e);
    cr_assert(strstr(e, "address already in use"), "%s", e);
    /* the half-made server is released on the next loop turn */
    int64_t deadline = now_ms() + DEADLINE_MS;
    while (uv_run(&l, UV_RUN_NOWAIT) != 0 && now_ms() < deadline)
        ;
    cr_assert_eq(uv_loop_close(&l), 0);
    close(fd);
}

Test(http_listen, ipv6_addresses_are_accepted_in_brackets)
{
    uv_loop_t l;
    cr_assert_eq(uv_loop_init(&l), 0);
    weir_http_t *h = NULL;
    char e[512] = "";
    int rc = weir_http_start(&l, "[::1]:0", handler, &state, &h, e, sizeof(e));
    /* EIO where the machine has no IPv6 loopback; never a parse error */
    cr_assert(rc == 0 || rc == WEIR_EIO, "%d: %s", rc, e);
    if (rc == 0)
        weir_http_stop(h);
    int64_t deadline = now_ms() + DEADLINE_MS;
    while (uv_run(&l, UV_RUN_NOWAIT) != 0 && now_ms() < deadline)
        ;
    cr_assert_eq(uv_loop_close(&l), 0);
}

/* ---- the request-head parser, without a socket ---------------------- */

static int parse(const char *head, weir_http_request_t *req)
{
    return weir_http_parse_head(head, strlen(head), 0, req);
}

Test(http_parse, a_get_gives_200_its_path_without_query_and_the_head_length)
{
    weir_http_request_t req;
    const char *head = "GET /metrics?name[]=up#frag HTTP/1.1\r\nHost: a\r\nAccept: */*\r\n\r\n";
    cr_assert_eq(parse(head, &req), 200);
    cr_assert_str_eq(req.method, "GET");
    cr_assert_str_eq(req.path, "/metrics");
    cr_assert_eq(req.head_only, 0);
    cr_assert_eq(req.head_len, strlen(head));
    cr_assert_eq(parse("HEAD / HTTP/1.0\n\n", &req), 200, "bare LF line ends, HTTP/1.0");
    cr_assert_str_eq(req.path, "/");
    cr_assert_eq(req.head_only, 1);
}

Test(http_parse, bytes_after_the_head_are_not_its_business)
{
    weir_http_request_t req;
    const char data[] = "GET /metrics HTTP/1.1\r\n\r\nbody\0\x01\x7f";
    cr_assert_eq(weir_http_parse_head(data, sizeof(data) - 1, 0, &req), 200);
    cr_assert_eq(req.head_len, 25);
}

Test(http_parse, absolute_form_targets_give_their_path)
{
    weir_http_request_t req;
    cr_assert_eq(parse("GET http://127.0.0.1:9464/metrics?x HTTP/1.1\r\n\r\n", &req), 200);
    cr_assert_str_eq(req.path, "/metrics");
    cr_assert_eq(parse("GET HTTPS://host HTTP/1.1\r\n\r\n", &req), 200);
    cr_assert_str_eq(req.path, "/");
    cr_assert_eq(parse("GET http:///metrics HTTP/1.1\r\n\r\n", &req), 400, "no authority");
    cr_assert_eq(parse("GET * HTTP/1.1\r\n\r\n", &req), 400);
    cr_assert_eq(parse("GET metrics HTTP/1.1\r\n\r\n", &req), 400);
}

Test(http_parse, an_incomplete_head_asks_for_more)
{
    weir_http_request_t req;
    const char *partial[] = {"",
                             "G",
                             "GET /metrics HTTP/1.1",
                             "GET / HTTP/1.1\r\n",
                             "GET / HTTP/1.1\r\nHost: a\r\n",
                             "GET / HTTP/1.1\r\n\r",
                             "\r\n"};
    for (size_t i = 0; i < sizeof(partial) / sizeof(partial[0]); i++)
        cr_assert_eq(parse(partial[i], &req), 0, "\"%s\"", partial[i]);
}

Test(http_parse, one_empty_line_before_the_request_line_is_ignored)
{
    weir_http_request_t req;
    cr_assert_eq(parse("\r\nGET /metrics HTTP/1.1\r\n\r\n", &req), 200);
    cr_assert_str_eq(req.path, "/metrics");
    cr_assert_eq(parse("\r\n\r\n", &req), 400, "an empty request line");
    cr_assert_eq(parse("\n\n", &req), 400);
}

Test(http_parse, a_nul_or_control_byte_is_400_as_soon_as_it_arrives)
{
    weir_http_request_t req;
    struct {
        const char *data;
        size_t len;
    } bad[] = {
        {"GET /metrics HTTP/1.1\r\nHost: a\0b\r\n\r\n", 37},
        {"GET /me\0", 8}, /* no blank line yet: answered at once */
        {"\0", 1},
        {"GET / HTTP/1.1\r\nX: \x01\r\n\r\n", 24},
        {"GET / HTTP/1.1\r\nX: \x7f\r\n\r\n", 24},
        {"GET / HTTP/1.1\r\nX: \x1b[31m\r\n\r\n", 28},
        {"GET / HTTP/1.1\rX: a\r\n\r\n", 23}, /* a CR without its LF */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        cr_assert_eq(weir_http_parse_head(bad[i].data, bad[i].len, 0, &req), 400, "case %zu", i);
    cr_assert_eq(parse("GET / HTTP/1.1\r\nX: \ttab and caf\xC3\xA9\r\n\r\n", &req), 200,
                 "HTAB and obs-text are fine in a field value");
}

Test(http_parse, malformed_request_lines_and_fields_are_400)
{
    weir_http_request_t req;
    const char *bad[] = {
        "GET  / HTTP/1.1\r\n\r\n",
        "GET /  HTTP/1.1\r\n\r\n",
        "GET / HTTP/1.1 \r\n\r\n",
        "GET /\r\n\r\n",
        "GET / HTTP/1\r\n\r\n",
        "GET / http/1.1\r\n\r\n",
        "GET / HTTP/1.10\r\n\r\n",
        " GET / HTTP/1.1\r\n\r\n",
        "G(T / HTTP/1.1\r\n\r\n",
        "GET /\xC3\xA9 HTTP/1.1\r\n\r\n",
        "GET / HTTP/1.1\r\nHost a\r\n\r\n",
        "GET / HTTP/1.1\r\nHost : a\r\n\r\n",
        "GET / HTTP/1.1\r\n: a\r\n\r\n",
        "GET / HTTP/1.1\r\nX: a\r\n folded\r\n\r\n",
        "GET / HTTP/1.1\r\nX(: a\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        cr_assert_eq(parse(bad[i], &req), 400, "\"%s\"", bad[i]);
}

Test(http_parse, other_methods_versions_and_long_paths_get_their_status)
{
    weir_http_request_t req;
    cr_assert_eq(parse("POST /metrics HTTP/1.1\r\nContent-Length: 2\r\n\r\n", &req), 405);
    cr_assert_eq(parse("get /metrics HTTP/1.1\r\n\r\n", &req), 405, "methods are case-sensitive");
    cr_assert_eq(parse("OPTIONS * HTTP/1.1\r\n\r\n", &req), 405);
    cr_assert_eq(parse("GET / HTTP/2.0\r\n\r\n", &req), 505);
    cr_assert_eq(parse("GET / HTTP/0.9\r\n\r\n", &req), 505);
    char head[WEIR_HTTP_PATH_MAX + 64];
    char path[WEIR_HTTP_PATH_MAX + 2];
    memset(path, 'a', sizeof(path) - 1);
    path[0] = '/';
    path[WEIR_HTTP_PATH_MAX] = '\0';
    snprintf(head, sizeof(head), "GET %s?q=1 HTTP/1.1\r\n\r\n", path);
    cr_assert_eq(parse(head, &req), 200, "a path of the longest length");
    cr_assert_eq(strlen(req.path), WEIR_HTTP_PATH_MAX);
    path[WEIR_HTTP_PATH_MAX] = 'a';
    path[WEIR_HTTP_PATH_MAX + 1] = '\0';
    snprintf(head, sizeof(head), "GET %s HTTP/1.1\r\n\r\n", path);
    cr_assert_eq(parse(head, &req), 414);
}

Test(http_parse, a_head_without_its_end_in_8_kib_is_431)
{
    weir_http_request_t req;
    char *head = malloc(WEIR_HTTP_HEAD_MAX + 16);
    int n = snprintf(head, WEIR_HTTP_HEAD_MAX, "GET / HTTP/1.1\r\nX: ");
    memset(head + n, 'a', WEIR_HTTP_HEAD_MAX + 16 - (size_t)n);
    cr_assert_eq(weir_http_parse_head(head, WEIR_HTTP_HEAD_MAX - 1, 0, &req), 0);
    cr_assert_eq(weir_http_parse_head(head, WEIR_HTTP_HEAD_MAX, 0, &req), 431);
    cr_assert_eq(weir_http_parse_head(head, WEIR_HTTP_HEAD_MAX + 16, 0, &req), 431);
    /* a head that ends exactly at the limit is whole */
    memcpy(head + WEIR_HTTP_HEAD_MAX - 4, "\r\n\r\n", 4);
    cr_assert_eq(weir_http_parse_head(head, WEIR_HTTP_HEAD_MAX, 0, &req), 200);
    cr_assert_eq(req.head_len, WEIR_HTTP_HEAD_MAX);
    /* one byte more is not */
    memcpy(head + WEIR_HTTP_HEAD_MAX - 4, "a\r\n\r", 4);
    head[WEIR_HTTP_HEAD_MAX] = '\n';
    cr_assert_eq(weir_http_parse_head(head, WEIR_HTTP_HEAD_MAX + 1, 0, &req), 431);
    free(head);
}

Test(http_parse, bytes_past_the_8_kib_cap_never_change_the_answer)
{
    /* A CR as the last byte under the cap: whether a LF follows it is beyond
     * the cap, so the head is too large (431), whole or in pieces; looking
     * past the cap once made the whole parse a 400 (found by fuzz_http). */
    weir_http_request_t req;
    size_t len = WEIR_HTTP_HEAD_MAX + 16;
    char *head = malloc(len);
    int n = snprintf(head, len, "GET / HTTP/1.1\r\nX: ");
    memset(head + n, 'b', len - (size_t)n);
    head[WEIR_HTTP_HEAD_MAX - 1] = '\r';
    cr_assert_eq(weir_http_parse_head(head, len, 0, &req), 431);
    cr_assert_eq(weir_http_parse_head(head, WEIR_HTTP_HEAD_MAX, 0, &req), 431);
    cr_assert_eq(weir_http_parse_head(head, len, WEIR_HTTP_HEAD_MAX, &req), 431);
    head[WEIR_HTTP_HEAD_MAX] = '\n';
    cr_assert_eq(weir_http_parse_head(head, len, 0, &req), 431, "the LF past the cap too");
    free(head);
}

Test(http_parse, a_head_fed_a_byte_at_a_time_gives_what_it_gives_whole)
{
    struct {
        const char *data;
        size_t len;
    } heads[] = {
        {"GET /metrics HTTP/1.1\r\nHost: a\r\n\r\n", 35},
        {"\r\nHEAD /x HTTP/1.1\n\n", 20},
        {"GET /metrics HTTP/1.1\r\nHost: a\0b\r\n\r\n", 37},
        {"GET / HTTP/1.1\rX\r\n\r\n", 20},
        {"GET / HTTP/1.1\r\n\r", 17},
        {"POST / HTTP/1.1\r\n\r\n", 19},
    };
    for (size_t i = 0; i < sizeof(heads) / sizeof(heads[0]); i++) {
        weir_http_request_t whole, piece;
        int expect = weir_http_parse_head(heads[i].data, heads[i].len, 0, &whole);
        int got = 0;
        size_t at = 0;
        for (size_t len = 1; len <= heads[i].len && got == 0; len++) {
            got = weir_http_parse_head(heads[i].data, len, at, &piece);
            at = len;
        }
        cr_assert_eq(got, expect, "case %zu: %d a byte at a time, %d whole", i, got, expect);
        if (expect == 200) {
            cr_assert_str_eq(piece.path, whole.path);
            cr_assert_eq(piece.head_len, whole.head_len);
        }
    }
}

/* ---- malformed requests over the socket ----------------------------- */

Test(http, a_nul_byte_before_the_blank_line_is_answered_400)
{
    const char raw[] = "GET /metrics HTTP/1.1\r\nHost: a\0b\r\n\r\n";
    response_t r;
    int fd = client_connect();
    client_send(fd, raw, sizeof(raw) - 1);
    client_read(fd, &r);
    cr_assert_eq(r.status, 400, "got \"%.40s\"", r.text);
    cr_assert_str_eq(r.reason, "Bad Request");
    cr_assert_eq(state.calls, 0);
    free(r.text);
}

Test(http, a_nul_byte_is_answered_without_waiting_for_the_rest)
{
    response_t r;
    int fd = client_connect();
    client_send(fd, "GET /me\0", 8); /* and never the rest */
    client_read(fd, &r);
    cr_assert_eq(r.status, 400, "got \"%.40s\"", r.text);
    free(r.text);
}

Test(http, other_http_versions_are_505_and_long_paths_414)
{
    response_t r;
    request("GET /metrics HTTP/2.0\r\n\r\n", &r);
    cr_assert_eq(r.status, 505, "%s", r.text);
    free(r.text);
    char raw[2048];
    char path[1100];
    memset(path, 'a', sizeof(path) - 1);
    path[0] = '/';
    path[sizeof(path) - 1] = '\0';
    snprintf(raw, sizeof(raw), "GET %s HTTP/1.1\r\n\r\n", path);
    request(raw, &r);
    cr_assert_eq(r.status, 414, "%s", r.text);
    cr_assert_eq(state.calls, 0);
    weir_http_stats_t st;
    weir_http_stats(server, &st);
    cr_assert_eq(st.bad_requests, 2);
    free(r.text);
}

Test(http, a_client_that_sends_more_than_the_head_still_gets_the_whole_response)
{
    /* The client reads slowly (a small receive buffer) and sent bytes after
     * the head: closing with those unread would reset the connection and
     * drop the end of the response still queued. */
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    int small = 4096;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int rc = connect(fd, (struct sockaddr *)&addr, sizeof(addr));
    cr_assert(rc == 0 || errno == EINPROGRESS);
    char extra[32768];
    memset(extra, 'z', sizeof(extra));
    const char *head = "GET /big HTTP/1.1\r\n\r\n";
    client_send(fd, head, strlen(head));
    client_send(fd, extra, sizeof(extra));
    response_t r;
    client_read(fd, &r);
    cr_assert_eq(r.status, 200);
    cr_assert_eq(r.reset, 0, "the connection was closed, not reset");
    cr_assert_eq(r.body_len, (size_t)20000 * strlen("line 00000 of a large body\n"));
    free(r.text);
}

/* ---- limits: timeouts and the connection cap ------------------------ */

static weir_http_stats_t stats_now(void)
{
    weir_http_stats_t st;
    weir_http_stats(server, &st);
    return st;
}

/* Drives the loop until @p cond holds; fails the test at the deadline. */
#define WAIT_UNTIL(cond, deadline_ms, ...)                                                         \
    do {                                                                                           \
        int64_t until_ = now_ms() + (deadline_ms);                                                 \
        while (!(cond)) {                                                                          \
            cr_assert_lt(now_ms(), until_, __VA_ARGS__);                                           \
            uv_run(&loop, UV_RUN_NOWAIT);                                                          \
            poll(NULL, 0, 1);                                                                      \
        }                                                                                          \
    } while (0)

static weir_http_limits_t limits(int header_ms, int idle_ms, int max_connections)
{
    weir_http_limits_t l;
    weir_http_limits_default(&l);
    l.header_timeout_ms = header_ms;
    l.idle_timeout_ms = idle_ms;
    l.max_connections = max_connections;
    return l;
}

TestSuite(http_limits, .fini = stop_server);

Test(http_limits, the_defaults_bound_every_client)
{
    weir_http_limits_t l;
    weir_http_limits_default(&l);
    cr_assert_eq(l.header_timeout_ms, 10000);
    cr_assert_eq(l.idle_timeout_ms, 30000);
    cr_assert_eq(l.max_connections, 64);
    cr_assert_eq(l.fd_reserve, 256);
    start_with(NULL);
    cr_assert_leq(stats_now().max_open, 64);
    cr_assert_geq(stats_now().max_open, 1);
}

Test(http_limits, limits_below_one_are_config_errors)
{
    uv_loop_t l;
    cr_assert_eq(uv_loop_init(&l), 0);
    weir_http_limits_t bad[] = {limits(0, 1000, 4), limits(1000, 0, 4), limits(1000, 1000, 0),
                                limits(1000, 1000, 4)};
    bad[3].fd_reserve = -1;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        weir_http_t *h = (weir_http_t *)&l;
        cr_assert_eq(weir_http_start_limited(&l, "127.0.0.1:0", &bad[i], handler, &state, &h, err,
                                             sizeof(err)),
                     WEIR_ECONFIG, "case %zu", i);
        cr_assert_null(h);
    }
    cr_assert_eq(uv_run(&l, UV_RUN_NOWAIT), 0);
    cr_assert_eq(uv_loop_close(&l), 0);
    start_with(NULL); /* for the fixture's stop */
}

Test(http_limits, a_head_that_does_not_arrive_in_time_is_answered_408)
{
    weir_http_limits_t l = limits(100, 60000, 64);
    start_with(&l);
    int fd = client_connect();
    client_send(fd, "GET /metrics HTTP/1.1\r\nHost: a\r\n", 32); /* no blank line, ever */
    response_t r;
    client_read(fd, &r);
    cr_assert_eq(r.status, 408, "got \"%.40s\"", r.text);
    cr_assert_str_eq(r.reason, "Request Timeout");
    cr_assert_eq(stats_now().head_timeouts, 1);
    cr_assert_eq(state.calls, 0);
    free(r.text);
}

Test(http_limits, a_silent_connection_is_closed_at_the_header_timeout_without_an_answer)
{
    weir_http_limits_t l = limits(100, 60000, 64);
    start_with(&l);
    int fd = client_connect();
    response_t r;
    client_read(fd, &r);
    cr_assert_eq(r.text[0], '\0', "nothing is sent to a client that sent nothing");
    cr_assert_eq(stats_now().head_timeouts, 1);
    cr_assert_eq(stats_now().open, 0);
    free(r.text);
}

Test(http_limits, a_head_trickled_in_bytes_still_ends_at_the_header_timeout)
{
    /* each byte is progress for the idle timeout, never for the header one */
    weir_http_limits_t l = limits(200, 60000, 64);
    start_with(&l);
    int fd = client_connect();
    char byte;
    ssize_t got = -1;
    int64_t deadline = now_ms() + DEADLINE_MS;
    while (got != 0 && !(got < 0 && errno == ECONNRESET)) {
        cr_assert_lt(now_ms(), deadline, "the trickling client was never cut off");
        send(fd, "a", 1, MSG_NOSIGNAL);
        uv_run(&loop, UV_RUN_NOWAIT);
        wait_fd(fd, POLLIN);
        while ((got = recv(fd, &byte, 1, 0)) > 0)
            ;
    }
    close(fd);
    WAIT_UNTIL(stats_now().open == 0, DEADLINE_MS, "closed on the server side");
    cr_assert_eq(stats_now().head_timeouts, 1);
    cr_assert_eq(stats_now().idle_timeouts, 0);
}

Test(http_limits, a_connection_quiet_for_the_idle_timeout_is_closed)
{
    weir_http_limits_t l = limits(60000, 100, 64);
    start_with(&l);
    int fd = client_connect();
    client_send(fd, "GET /metr", 9);
    response_t r;
    client_read(fd, &r);
    cr_assert_eq(r.status, 408, "got \"%.40s\"", r.text);
    cr_assert_eq(stats_now().idle_timeouts, 1);
    cr_assert_eq(stats_now().head_timeouts, 0);
    free(r.text);
}

Test(http_limits, a_client_that_stops_taking_its_response_is_closed_after_the_idle_timeout)
{
    weir_http_limits_t l = limits(60000, 200, 64);
    start_with(&l);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    int small = 4096;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int rc = connect(fd, (struct sockaddr *)&addr, sizeof(addr));
    cr_assert(rc == 0 || errno == EINPROGRESS);
    const char *head = "GET /huge HTTP/1.1\r\n\r\n";
    client_send(fd, head, strlen(head));
    /* the client never reads */
    WAIT_UNTIL(stats_now().idle_timeouts == 1 && stats_now().open == 0, DEADLINE_MS,
               "the stalled response was never given up (idle timeouts %llu, open %zu)",
               (unsigned long long)stats_now().idle_timeouts, stats_now().open);
    cr_assert_eq(state.calls, 1);
    close(fd);
}

Test(http_limits, an_open_connection_under_a_long_timeout_stays_while_others_are_served)
{
    weir_http_limits_t l = limits(60000, 60000, 64);
    start_with(&l);
    int quiet = client_connect();
    client_send(quiet, "GET /me", 7);
    WAIT_UNTIL(stats_now().open == 1, DEADLINE_MS, "accepted");
    for (int i = 0; i < 3; i++) {
        response_t r;
        request("GET /metrics HTTP/1.1\r\n\r\n", &r);
        cr_assert_eq(r.status, 200);
        free(r.text);
    }
    WAIT_UNTIL(stats_now().open == 1, DEADLINE_MS, "the served connections are closed");
    char byte;
    cr_assert_eq(recv(quiet, &byte, 1, 0), -1, "still open");
    cr_assert_eq(errno, EAGAIN);
    close(quiet);
}

Test(http_limits, connections_past_the_cap_are_answered_503_and_closed)
{
    enum { CAP = 4 };
    weir_http_limits_t l = limits(60000, 60000, CAP);
    start_with(&l);
    cr_assert_eq(stats_now().max_open, CAP);
    int quiet[CAP];
    for (int i = 0; i < CAP; i++)
        quiet[i] = client_connect();
    WAIT_UNTIL(stats_now().open == CAP, DEADLINE_MS, "the first %d are accepted", CAP);
    response_t r;
    int fd = client_connect();
    client_read(fd, &r);
    cr_assert_eq(r.status, 503, "got \"%.40s\"", r.text);
    cr_assert_str_eq(r.body, "too many connections\n");
    cr_assert_eq(stats_now().refused, 1);
    cr_assert_eq(stats_now().open, CAP);
    free(r.text);

    close(quiet[0]);
    WAIT_UNTIL(stats_now().open == CAP - 1, DEADLINE_MS, "a closed client frees its slot");
    request("GET /metrics HTTP/1.1\r\n\r\n", &r);
    cr_assert_eq(r.status, 200);
    cr_assert_eq(state.calls, 1);
    free(r.text);
    for (int i = 1; i < CAP; i++)
        close(quiet[i]);
}

/* The child: opens @p n connections to the server and holds them, idle, until
 * the parent closes @p hold. It keeps at most 32 connections that the server
 * has not yet taken (the parent writes a byte to @p taken for each one it
 * accepted or refused, after a first one once it listens), so no connection
 * is refused and the listen backlog never overflows (no SYN waits for a
 * retransmission). Exits 0, or 1 when it could not connect. No Criterion
 * here: it is a plain process. */
static int hold_connections(int n, int taken_fd, int hold)
{
    int *fds = calloc((size_t)n, sizeof(*fds));
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int taken = 0, started = 0;
    char bytes[64];
    if (read(taken_fd, bytes, 1) != 1) /* the server listens */
        return 1;
    while (taken < n) {
        while (started < n && started - taken < 32) {
            fds[started] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
            if (fds[started] < 0)
                return 1;
            if (connect(fds[started], (struct sockaddr *)&addr, sizeof(addr)) != 0 &&
                errno != EINPROGRESS)
                return 1;
            started++;
        }
        ssize_t got = read(taken_fd, bytes, sizeof(bytes));
        if (got <= 0)
            return 1;
        taken += (int)got;
    }
    while (read(hold, bytes, 1) > 0)
        ;
    for (int i = 0; i < n; i++)
        close(fds[i]);
    free(fds);
    return 0;
}

Test(http_limits, two_thousand_idle_connections_leave_descriptors_for_kafka, .timeout = 120)
{
    enum { CLIENTS = 2000, FD_LIMIT = 1024, RESERVE = 256, KAFKA_SOCKETS = 200 };
    int hold[2], taken[2];
    cr_assert_eq(pipe(hold), 0);
    cr_assert_eq(pipe(taken), 0);
    port = weir_it_free_port();
    pid_t child = fork();
    cr_assert_geq(child, 0);
    if (child == 0) {
        close(hold[1]);
        close(taken[1]);
        _exit(hold_connections(CLIENTS, taken[0], hold[0]));
    }
    close(hold[0]);
    close(taken[0]);

    /* this process, like `weir run` under `ulimit -n 1024` */
    struct rlimit was, low;
    cr_assert_eq(getrlimit(RLIMIT_NOFILE, &was), 0);
    cr_assert_geq(was.rlim_max, FD_LIMIT);
    low.rlim_cur = FD_LIMIT;
    low.rlim_max = was.rlim_max;
    cr_assert_eq(setrlimit(RLIMIT_NOFILE, &low), 0);
    weir_http_limits_t l = limits(600000, 600000, 100000);
    l.fd_reserve = RESERVE;
    start_with(&l);
    cr_assert_eq(stats_now().max_open, FD_LIMIT - RESERVE);

    /* run the server, telling the child how many connections it took */
    cr_assert_eq(write(taken[1], "g", 1), 1);
    uint64_t told = 0;
    int64_t until = now_ms() + 90000;
    for (;;) {
        weir_http_stats_t st = stats_now();
        for (; told < st.accepted + st.refused; told++)
            cr_assert_eq(write(taken[1], "t", 1), 1);
        if (told == CLIENTS)
            break;
        cr_assert_lt(now_ms(), until,
                     "every connection was taken or refused (accepted %llu, refused %llu)",
                     (unsigned long long)st.accepted, (unsigned long long)st.refused);
        uv_run(&loop, UV_RUN_NOWAIT);
        poll(NULL, 0, 1);
    }
    cr_assert_eq(stats_now().open, FD_LIMIT - RESERVE);
    cr_assert_eq(stats_now().refused, CLIENTS - (FD_LIMIT - RESERVE));

    /* what librdkafka needs when it connects to brokers: sockets */
    int sockets[KAFKA_SOCKETS];
    for (int i = 0; i < KAFKA_SOCKETS; i++) {
        sockets[i] = socket(AF_INET, SOCK_STREAM, 0);
        cr_assert_geq(sockets[i], 0, "socket %d of %d for Kafka: %s", i, KAFKA_SOCKETS,
                      strerror(errno));
    }
    for (int i = 0; i < KAFKA_SOCKETS; i++)
        close(sockets[i]);

    close(hold[1]);
    close(taken[1]);
    int status = 0;
    cr_assert_eq(waitpid(child, &status, 0), child);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the client process failed");
    WAIT_UNTIL(stats_now().open == 0, DEADLINE_MS, "the clients' closes are seen");
    setrlimit(RLIMIT_NOFILE, &was);
}

Test(http_limits, stop_while_a_response_is_stuck_frees_everything)
{
    weir_http_limits_t l = limits(60000, 60000, 64);
    start_with(&l);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    int small = 4096;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int rc = connect(fd, (struct sockaddr *)&addr, sizeof(addr));
    cr_assert(rc == 0 || errno == EINPROGRESS);
    const char *head = "GET /huge HTTP/1.1\r\n\r\n";
    client_send(fd, head, strlen(head));
    WAIT_UNTIL(state.calls == 1, DEADLINE_MS, "the handler ran");
    for (int i = 0; i < 10; i++)
        uv_run(&loop, UV_RUN_NOWAIT);
    /* the fixture stops the server: the loop must end with nothing left */
    close(fd);
}
