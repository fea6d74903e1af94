/*
 * fuzz_http.c — a libFuzzer target for the HTTP request-head parser of the
 * observability and scoring endpoints: weir_http_parse_head() (GET and HEAD)
 * and weir_http_parse_request() with POST allowed (what POST /score parses).
 * The input is what a client sent. The target parses it whole, then again in
 * pieces (sizes drawn from the input), the way the server calls it as bytes
 * arrive, both ways, and aborts when an invariant breaks:
 *
 * - the result is 0 (incomplete) or one of the statuses the parser documents,
 *   and 0 only while fewer than WEIR_HTTP_HEAD_MAX bytes came;
 * - fed in pieces, the first non-zero answer is the whole parse's answer, with
 *   the same head length, method and path (and, with POST allowed, the same
 *   body fields);
 * - a 200 names GET or HEAD (or POST, when allowed), a head that ends with a
 *   LF within the input and the size cap, and a path that starts with '/',
 *   fits its cap and holds only visible ASCII with no query; with POST
 *   allowed, a Content-Length of digits only (or -1 when absent) and
 *   Content-Type and Authorization values within their caps;
 * - allowing POST changes nothing for a GET or HEAD the plain parser takes,
 *   but refusing a malformed body field (400).
 *
 * Its seed corpus is tests/fuzz/corpus/http/.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_request(int status, const weir_http_request_t *req, const uint8_t *data,
                          size_t size, int allow_post)
{
    switch (status) {
    case 0:
        if (size >= WEIR_HTTP_HEAD_MAX || req->head_len != 0)
            abort();
        return;
    case 400:
    case 405:
    case 414:
    case 431:
    case 505:
        if (req->head_len > size || req->head_len > WEIR_HTTP_HEAD_MAX ||
            (req->head_len && data[req->head_len - 1] != '\n'))
            abort();
        return;
    case 200:
        break;
    default:
        abort();
    }
    int post = !strcmp(req->method, "POST");
    if (strcmp(req->method, "GET") != 0 && strcmp(req->method, "HEAD") != 0 &&
        !(allow_post && post))
        abort();
    if (req->head_only != !strcmp(req->method, "HEAD"))
        abort();
    if (req->head_len < 2 || req->head_len > size || req->head_len > WEIR_HTTP_HEAD_MAX ||
        data[req->head_len - 1] != '\n')
        abort();
    size_t n = strnlen(req->path, sizeof(req->path));
    if (n == 0 || n > WEIR_HTTP_PATH_MAX || req->path[0] != '/')
        abort();
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)req->path[i] <= 0x20 || (unsigned char)req->path[i] >= 0x7f ||
            req->path[i] == '?')
            abort();
    if (!allow_post)
        return;
    if (req->content_length < -1 || req->content_length > 999999999999999LL ||
        (req->chunked != 0 && req->chunked != 1) ||
        strnlen(req->content_type, sizeof(req->content_type)) > WEIR_HTTP_FIELD_MAX ||
        strnlen(req->authorization, sizeof(req->authorization)) > WEIR_HTTP_FIELD_MAX)
        abort();
}

/* Parses whole, then in pieces; returns the status and fills @p whole. */
static int parse_both_ways(const uint8_t *data, size_t size, int allow_post,
                           weir_http_request_t *whole)
{
    const char *text = (const char *)data;
    weir_http_request_t piece;
    int status = weir_http_parse_request(text, size, 0, allow_post, whole);
    check_request(status, whole, data, size, allow_post);

    /* In pieces: sizes cycle through the input's own bytes (1..16). */
    int got = 0;
    size_t seen = 0, k = 0;
    while (got == 0 && seen < size) {
        size_t step = size ? (size_t)(data[k++ % size] & 15) + 1 : 1;
        size_t len = seen + step < size ? seen + step : size;
        got = weir_http_parse_request(text, len, seen, allow_post, &piece);
        check_request(got, &piece, data, len, allow_post);
        seen = len;
    }
    if (size == 0)
        got = weir_http_parse_request(text, 0, 0, allow_post, &piece);
    if (got != status || (got != 0 && piece.head_len != whole->head_len))
        abort();
    if (got == 200 &&
        (strcmp(piece.path, whole->path) != 0 || strcmp(piece.method, whole->method) != 0))
        abort();
    if (got == 200 && allow_post &&
        (piece.content_length != whole->content_length || piece.chunked != whole->chunked ||
         strcmp(piece.content_type, whole->content_type) != 0 ||
         strcmp(piece.authorization, whole->authorization) != 0))
        abort();
    return status;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    weir_http_request_t plain, post;
    int a = parse_both_ways(data, size, 0, &plain);
    int b = parse_both_ways(data, size, 1, &post);
    if (weir_http_parse_head((const char *)data, size, 0, &plain) != a)
        abort();
    /* GET and HEAD mean the same to both; only a bad body field differs */
    if (a == 200 && !(b == 200 || b == 400))
        abort();
    if (a == 200 && b == 200 &&
        (strcmp(plain.method, post.method) != 0 || strcmp(plain.path, post.path) != 0 ||
         plain.head_len != post.head_len))
        abort();
    if (b == 200 && strcmp(post.method, "POST") != 0 && a != 200)
        abort();
    return 0;
}
