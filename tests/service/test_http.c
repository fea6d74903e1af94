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
#include <sys/socket.h>
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
    weir_buf_printf(body, "not found\n");
    return 404;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void start_server(void)
{
    cr_assert_eq(uv_loop_init(&loop), 0);
    memset(&state, 0, sizeof(state));
    port = weir_it_free_port();
    char listen[64];
    snprintf(listen, sizeof(listen), "127.0.0.1:%d", port);
    int rc = weir_http_start(&loop, listen, handler, &state, &server, err, sizeof(err));
    cr_assert_eq(rc, 0, "%s", err);
    cr_assert_not_null(server);
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
    cr_assert_eq(r.content_length, 0);
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

/* Counts the handles on the loop (the server, plus one per open connection). */
static void count_handle(uv_handle_t *h, void *arg)
{
    if (!uv_is_closing(h))
        ++*(int *)arg;
}

Test(http, stop_closes_connections_still_open)
{
    /* A client that connected and sent half a request, then went quiet. */
    int fd = client_connect();
    client_send(fd, "GET /metr", 9);
    int handles = 0;
    int64_t deadline = now_ms() + DEADLINE_MS;
    while (handles < 2 && now_ms() < deadline) {
        uv_run(&loop, UV_RUN_NOWAIT);
        wait_fd(fd, POLLIN);
        handles = 0;
        uv_walk(&loop, count_handle, &handles);
    }
    cr_assert_eq(handles, 2, "the connection was accepted");
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
