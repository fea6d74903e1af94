/*
 * fuzz_http.c — a libFuzzer target for weir_http_parse_head(), the request-head
 * parser of the observability endpoint. The input is what a client sent. The
 * target parses it whole, then again in pieces (sizes drawn from the input),
 * the way the server calls it as bytes arrive, and aborts when an invariant
 * breaks:
 *
 * - the result is 0 (incomplete) or one of the statuses the parser documents,
 *   and 0 only while fewer than WEIR_HTTP_HEAD_MAX bytes came;
 * - fed in pieces, the first non-zero answer is the whole parse's answer, with
 *   the same head length, method and path;
 * - a 200 names GET or HEAD, a head that ends with a LF within the input and
 *   the size cap, and a path that starts with '/', fits its cap and holds only
 *   visible ASCII with no query.
 *
 * Its seed corpus is tests/fuzz/corpus/http/.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_request(int status, const weir_http_request_t *req, const uint8_t *data,
                          size_t size)
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
    if (strcmp(req->method, "GET") != 0 && strcmp(req->method, "HEAD") != 0)
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
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    weir_http_request_t whole, piece;
    int status = weir_http_parse_head(text, size, 0, &whole);
    check_request(status, &whole, data, size);

    /* In pieces: sizes cycle through the input's own bytes (1..16). */
    int got = 0;
    size_t seen = 0, k = 0;
    while (got == 0 && seen < size) {
        size_t step = size ? (size_t)(data[k++ % size] & 15) + 1 : 1;
        size_t len = seen + step < size ? seen + step : size;
        got = weir_http_parse_head(text, len, seen, &piece);
        check_request(got, &piece, data, len);
        seen = len;
    }
    if (size == 0)
        got = weir_http_parse_head(text, 0, 0, &piece);
    if (got != status || (got != 0 && piece.head_len != whole.head_len))
        abort();
    if (got == 200 &&
        (strcmp(piece.path, whole.path) != 0 || strcmp(piece.method, whole.method) != 0))
        abort();
    return 0;
}
