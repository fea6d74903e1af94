/*
 * test_http_post.c — request bodies on the HTTP server (POST /score): the
 * request parser reads Content-Length, Transfer-Encoding, Content-Type and
 * Authorization when POST is allowed and is unchanged when it is not; the
 * server hands a whole body to the handler however it arrives, and answers
 * 413, 411 and 501 itself without reading a body it will not take. The loop
 * runs on a thread of its own; clients are plain blocking sockets.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "broker.h"
#include "http.h"
#include "prom.h"

static weir_http_request_t req;

static int parse(const char *text, int allow_post)
{
    return weir_http_parse_request(text, strlen(text), 0, allow_post, &req);
}

Test(http_body_parse, post_is_taken_only_when_allowed_with_the_fields_a_body_needs)
{
    const char *head = "POST /score HTTP/1.1\r\nContent-Length: 12\r\ncontent-type:  "
                       "application/json \r\nAuthorization: Bearer abc\r\n\r\n";
    cr_assert_eq(parse(head, 0), 405, "the /metrics server refuses POST as before");
    cr_assert_eq(weir_http_parse_head(head, strlen(head), 0, &req), 405);
    cr_assert_eq(parse(head, 1), 200);
    cr_assert_str_eq(req.method, "POST");
    cr_assert_str_eq(req.path, "/score");
    cr_assert_eq(req.head_only, 0);
    cr_assert_eq(req.content_length, 12);
    cr_assert_str_eq(req.content_type, "application/json");
    cr_assert_str_eq(req.authorization, "Bearer abc");
    cr_assert_eq(req.chunked, 0);
    cr_assert_eq(parse("GET /metrics HTTP/1.1\r\n\r\n", 1), 200);
    cr_assert_eq(req.content_length, -1);
    cr_assert_eq(parse("HEAD /metrics HTTP/1.1\r\n\r\n", 1), 200);
    cr_assert_eq(req.head_only, 1);
}

Test(http_body_parse, lengths_that_disagree_or_are_not_digits_are_400)
{
    cr_assert_eq(parse("POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", 1),
                 400);
    cr_assert_eq(parse("POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n", 1),
                 200);
    cr_assert_eq(parse("POST / HTTP/1.1\r\nContent-Length: -5\r\n\r\n", 1), 400);
    cr_assert_eq(parse("POST / HTTP/1.1\r\nContent-Length: 5x\r\n\r\n", 1), 400);
    cr_assert_eq(parse("POST / HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n", 1), 400);
    cr_assert_eq(parse("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", 1), 200);
    cr_assert_eq(req.chunked, 1);
    char big[1200];
    snprintf(big, sizeof(big), "POST / HTTP/1.1\r\nAuthorization: Bearer %0900d\r\n\r\n", 0);
    cr_assert_eq(parse(big, 1), 400, "an Authorization value past the cap");
}

/* ---- the server ---------------------------------------------------- */

static uv_loop_t loop;
static uv_async_t stopper;
static weir_http_t *server;
static pthread_t thread;
static int port;
static int calls;
static size_t last_len;

static int handler(void *opaque, const weir_http_call_t *call, weir_buf_t *body, const char **type)
{
    calls++;
    last_len = call->body_len;
    /* the body's length and its bytes summed, so a test sees it arrived whole */
    unsigned sum = 0;
    for (size_t i = 0; i < call->body_len; i++)
        sum += call->body[i];
    weir_buf_printf(body, "%s %s %zu %u\n", call->head->method, call->head->path, call->body_len,
                    sum);
    return 200;
}

static void on_stop(uv_async_t *a)
{
    weir_http_stop(server);
    uv_close((uv_handle_t *)&stopper, NULL);
}

static void *run_loop(void *arg)
{
    uv_run(&loop, UV_RUN_DEFAULT);
    return NULL;
}

static void start(size_t body_max)
{
    char err[256], listen[64];
    weir_http_limits_t l;
    weir_http_limits_default(&l);
    l.body_max = body_max;
    l.header_timeout_ms = 2000;
    port = weir_it_free_port();
    snprintf(listen, sizeof(listen), "127.0.0.1:%d", port);
    cr_assert_eq(uv_loop_init(&loop), 0);
    cr_assert_eq(weir_http_serve(&loop, listen, &l, handler, NULL, &server, err, sizeof(err)), 0,
                 "%s", err);
    uv_async_init(&loop, &stopper, on_stop);
    calls = 0;
    cr_assert_eq(pthread_create(&thread, NULL, run_loop, NULL), 0);
}

static void start_100(void)
{
    start(100);
}

static void start_none(void)
{
    start(0);
}

static void stop(void)
{
    uv_async_send(&stopper);
    pthread_join(thread, NULL);
    uv_loop_close(&loop);
}

TestSuite(http_body, .init = start_100, .fini = stop);
TestSuite(http_no_body, .init = start_none, .fini = stop);

/* Sends the pieces (each written on its own, a pause between), reads the whole answer. */
static char *exchange(const char *const pieces[], size_t n)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    cr_assert_eq(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(pieces[i]);
        cr_assert_eq(write(fd, pieces[i], len), (ssize_t)len);
        struct timespec ts = {0, 20 * 1000000};
        nanosleep(&ts, NULL); /* so that the pieces arrive apart */
    }
    char *buf = calloc(1, 8192);
    size_t got = 0;
    ssize_t k;
    while (got < 8191 && (k = read(fd, buf + got, 8191 - got)) > 0)
        got += (size_t)k;
    close(fd);
    return buf;
}

Test(http_body, a_body_in_pieces_reaches_the_handler_whole)
{
    const char *pieces[] = {"POST /score HTTP/1.1\r\nContent-Length: 10\r\n\r\nab", "cdef", "ghij"};
    char *answer = exchange(pieces, 3);
    unsigned sum = 0;
    for (const char *p = "abcdefghij"; *p; p++)
        sum += (unsigned char)*p;
    char expect[64];
    snprintf(expect, sizeof(expect), "POST /score 10 %u", sum);
    cr_assert(strstr(answer, "HTTP/1.1 200 OK"), "%s", answer);
    cr_assert(strstr(answer, expect), "%s", answer);
    free(answer);
}

Test(http_body, a_body_over_the_cap_is_413_and_never_reaches_the_handler)
{
    const char *pieces[] = {"POST /score HTTP/1.1\r\nContent-Length: 101\r\n\r\n"};
    char *answer = exchange(pieces, 1);
    cr_assert(strstr(answer, "HTTP/1.1 413 "), "%s", answer);
    cr_assert(strstr(answer, "101 bytes") && strstr(answer, "limit is 100"),
              "the reason names the length and the limit: %s", answer);
    free(answer);
    cr_assert_eq(calls, 0);
}

Test(http_body, post_without_a_length_is_411_and_chunked_is_501)
{
    const char *no_length[] = {"POST /score HTTP/1.1\r\n\r\n"};
    char *answer = exchange(no_length, 1);
    cr_assert(strstr(answer, "HTTP/1.1 411 "), "%s", answer);
    cr_assert(strstr(answer, "needs a Content-Length"), "the reason says what is missing: %s",
              answer);
    free(answer);
    const char *chunked[] = {"POST /score HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"};
    answer = exchange(chunked, 1);
    cr_assert(strstr(answer, "HTTP/1.1 501 "), "%s", answer);
    cr_assert(strstr(answer, "chunked"), "the reason names the transfer coding: %s", answer);
    free(answer);
    cr_assert_eq(calls, 0);
}

Test(http_body, an_empty_body_and_a_get_reach_the_handler)
{
    const char *empty[] = {"POST /score HTTP/1.1\r\nContent-Length: 0\r\n\r\n"};
    char *answer = exchange(empty, 1);
    cr_assert(strstr(answer, "POST /score 0 0"), "%s", answer);
    free(answer);
    const char *get[] = {"GET /metrics HTTP/1.1\r\n\r\n"};
    answer = exchange(get, 1);
    cr_assert(strstr(answer, "GET /metrics 0 0"), "%s", answer);
    free(answer);
}

Test(http_no_body, without_a_body_cap_post_is_405_naming_get_and_head)
{
    const char *pieces[] = {"POST /score HTTP/1.1\r\nContent-Length: 2\r\n\r\nhi"};
    char *answer = exchange(pieces, 1);
    cr_assert(strstr(answer, "HTTP/1.1 405 "), "%s", answer);
    cr_assert(strstr(answer, "Allow: GET, HEAD\r\n"), "%s", answer);
    free(answer);
    cr_assert_eq(calls, 0);
}
