/*
 * container.c — Avro object container files, read and written by weir itself
 * (weir batch reads them, weir gen --out file: writes them).
 *
 * A file is the magic "Obj\x01", a metadata map (avro.schema, avro.codec),
 * a 16-byte sync marker, then blocks of (datum count, byte size, datums,
 * sync marker). avro_file_reader would trust the counts and lengths inside a
 * block the way avro_value_read does, so the reader here frames blocks
 * itself with caps on every size and count and hands each datum to the
 * bounded checker. A datum that fails the checker loses the rest of its
 * block (datums carry no length, so the next one cannot be found) but not the
 * file: reading resumes at the next block, whose sync marker proves where it
 * starts. A wrong sync marker or a header that cannot be read means the
 * framing itself is lost, and reading stops.
 *
 * A block's datum count is a claim the reader checks before it believes it,
 * because every datum it counts becomes an event (scored or dead) for the
 * caller: a file must not turn a few bytes into millions of dead letters. The
 * count must fit the block's bytes at the smallest encoding the schema allows
 * (a schema whose datums take no bytes gets a fixed cap instead), a block of
 * no datums must hold no bytes, and the deflate data must inflate cleanly
 * within the block cap. A block that fails any of these is a broken file, not
 * a bad datum: reading stops there. So does a block that runs out of bytes
 * before its count, and one whose malformed datum would take down more datums
 * than one per LOST_DATUM_BYTES of the block as stored. The events a block
 * yields are thus bounded by its inflated size (and the dead letters of a
 * malformed block by its stored size), and the work by a small multiple of
 * the bytes inflated, which MAX_BLOCK caps.
 *
 * Codecs: null and deflate (raw deflate, RFC 1951). Blocks are read into two
 * buffers that are kept and reused, so a steady read allocates nothing.
 */
#include "schemas_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <zlib.h>

#define SYNC_SIZE 16
#define MAX_BLOCK (64u << 20)       /* bytes of a block, compressed or not */
#define MAX_BLOCK_COUNT (64u << 20) /* datums in a block */
/* Datums in a block when the schema's datums take no bytes (null, records of
 * nulls or of no fields): such a datum carries nothing to score, and a block
 * of them costs 18 bytes of file. */
#define MAX_EMPTY_DATUMS 1024
/* A malformed datum may take down at most one datum per this many bytes of
 * its block as stored; a block that claims more is not believed. */
#define LOST_DATUM_BYTES 16
#define MAX_HEADER_ENTRIES 1024
#define MAX_HEADER_KEY 4096
#define MAX_HEADER_VALUE (4u << 20)
#define WRITER_BLOCK_TARGET (64u << 10)
#define INFLATE_STEP (256u << 10)

static const uint8_t magic[4] = {'O', 'b', 'j', 1};
static const uint8_t no_bytes[1];

struct weir_container_reader {
    FILE *f;
    char *path;
    uint64_t offset; /* of the next byte in the file */
    avro_schema_t schema;
    weir_reader_t *reader;
    int deflate;
    uint8_t sync[SYNC_SIZE];
    weir_buf_t raw;      /* the block as stored */
    weir_buf_t inflated; /* the block after deflate */
    z_stream z;
    int z_ready;
    const uint8_t *data; /* the current block's datums */
    size_t data_len;
    size_t pos;
    uint64_t remaining; /* datums left in the current block */
    uint64_t block_offset;
    uint64_t next_index;
    uint64_t index;
    int stopped;
};

struct weir_container_writer {
    FILE *f;
    char *path;
    avro_schema_t schema;
    weir_plan_t plan;
    int deflate;
    uint8_t sync[SYNC_SIZE];
    weir_buf_t block; /* datums of the block being filled */
    weir_buf_t out;   /* header and compressed block */
    int64_t count;
    z_stream z;
    int z_ready;
    int rc; /* first error; later calls return it */
    char err[256];
};

/* ------------------------------------------------------------------ */
/* Reading                                                             */

static int read_exact(weir_container_reader_t *r, void *p, size_t n)
{
    size_t got = n ? fread(p, 1, n, r->f) : 0;
    r->offset += got;
    return got == n ? 0 : WEIR_EIO;
}

/* A varint from the file. *eof is set (and 0 returned) when the file ends
 * before its first byte and @p eof is not NULL. */
static int read_varint(weir_container_reader_t *r, int64_t *v, int *eof)
{
    uint8_t bytes[WEIR_VARINT_MAX];
    size_t n = 0;
    int rc = 0;
    if (eof)
        *eof = 0;
    for (;;) {
        int c = getc(r->f);
        if (c == EOF) {
            if (n == 0 && eof)
                *eof = 1;
            else
                rc = WEIR_EIO;
            goto out;
        }
        r->offset++;
        bytes[n++] = (uint8_t)c;
        if (!(c & 0x80) || n == WEIR_VARINT_MAX)
            break;
    }
    if (weir_varint_decode(bytes, n, v) != (int)n)
        rc = WEIR_EIO;
out:
    return rc;
}

/* A length-prefixed header string of at most @p max bytes, NUL-terminated. */
static int read_header_bytes(weir_container_reader_t *r, size_t max, char **out, size_t *len,
                             char *err, size_t errsz)
{
    int64_t n = 0;
    char *p = NULL;
    int rc = read_varint(r, &n, NULL);
    if (rc) {
        rc = weir_seterr(err, errsz, WEIR_EIO, "%s: truncated or malformed header", r->path);
        goto out;
    }
    if (n < 0 || (uint64_t)n > max) {
        rc = weir_seterr(err, errsz, WEIR_EIO, "%s: header entry of %" PRId64 " bytes (cap %zu)",
                         r->path, n, max);
        goto out;
    }
    p = malloc((size_t)n + 1);
    if (!p) {
        rc = weir_seterr(err, errsz, WEIR_ENOMEM, "%s: out of memory", r->path);
        goto out;
    }
    if (read_exact(r, p, (size_t)n)) {
        rc = weir_seterr(err, errsz, WEIR_EIO, "%s: truncated header", r->path);
        goto out;
    }
    p[n] = '\0';
    *out = p;
    *len = (size_t)n;
    p = NULL;
out:
    free(p);
    return rc;
}

/* The codec name is file-borne: quote a printable prefix of it. */
static void printable(char *dst, size_t dstsz, const char *src, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len && n + 1 < dstsz; i++)
        dst[n++] = (src[i] >= 0x20 && src[i] < 0x7f) ? src[i] : '?';
    dst[n] = '\0';
}

static int read_header(weir_container_reader_t *r, char **schema_json, size_t *schema_len,
                       char *err, size_t errsz)
{
    uint8_t head[sizeof(magic)];
    char *key = NULL;
    char *value = NULL;
    char *codec = NULL;
    size_t codec_len = 0;
    size_t entries = 0;
    int rc = 0;
    if (read_exact(r, head, sizeof(head)) || memcmp(head, magic, sizeof(magic))) {
        rc = weir_seterr(err, errsz, WEIR_EIO, "%s: not an Avro object container file", r->path);
        goto out;
    }
    for (;;) {
        int64_t count = 0;
        int64_t size = 0;
        if (read_varint(r, &count, NULL)) {
            rc = weir_seterr(err, errsz, WEIR_EIO, "%s: truncated or malformed header", r->path);
            goto out;
        }
        if (count == 0)
            break;
        if (count < 0) {
            if (count == INT64_MIN || read_varint(r, &size, NULL) || size < 0) {
                rc = weir_seterr(err, errsz, WEIR_EIO, "%s: malformed header", r->path);
                goto out;
            }
            count = -count;
        }
        if ((uint64_t)count > MAX_HEADER_ENTRIES - entries) {
            rc = weir_seterr(err, errsz, WEIR_EIO, "%s: more than %d header entries", r->path,
                             MAX_HEADER_ENTRIES);
            goto out;
        }
        entries += (size_t)count;
        for (int64_t i = 0; i < count; i++) {
            size_t key_len = 0;
            size_t value_len = 0;
            rc = read_header_bytes(r, MAX_HEADER_KEY, &key, &key_len, err, errsz);
            if (rc)
                goto out;
            rc = read_header_bytes(r, MAX_HEADER_VALUE, &value, &value_len, err, errsz);
            if (rc)
                goto out;
            if (!strcmp(key, "avro.schema")) {
                free(*schema_json);
                *schema_json = value;
                *schema_len = value_len;
                value = NULL;
            } else if (!strcmp(key, "avro.codec")) {
                free(codec);
                codec = value;
                codec_len = value_len;
                value = NULL;
            }
            free(key);
            free(value);
            key = value = NULL;
        }
    }
    if (read_exact(r, r->sync, SYNC_SIZE)) {
        rc = weir_seterr(err, errsz, WEIR_EIO, "%s: truncated header", r->path);
        goto out;
    }
    if (!*schema_json) {
        rc = weir_seterr(err, errsz, WEIR_EIO, "%s: no avro.schema in the header", r->path);
        goto out;
    }
    if (codec && !(codec_len == 4 && !memcmp(codec, "null", 4))) {
        if (codec_len == 7 && !memcmp(codec, "deflate", 7)) {
            r->deflate = 1;
        } else {
            char name[64];
            printable(name, sizeof(name), codec, codec_len);
            rc = weir_seterr(err, errsz, WEIR_EINVAL,
                             "%s: unsupported codec \"%s\" (weir reads null and deflate)", r->path,
                             name);
            goto out;
        }
    }
out:
    free(key);
    free(value);
    free(codec);
    return rc;
}

int weir_container_reader_open(const char *path, weir_container_reader_t **out, char *err,
                               size_t errsz)
{
    weir_container_reader_t *r = NULL;
    char *schema_json = NULL;
    size_t schema_len = 0;
    int rc = 0;
    *out = NULL;
    r = calloc(1, sizeof(*r));
    if (!r || !(r->path = strdup(path))) {
        rc = weir_seterr(err, errsz, WEIR_ENOMEM, "%s: out of memory", path);
        goto out;
    }
    weir_buf_init(&r->raw, MAX_BLOCK);
    weir_buf_init(&r->inflated, MAX_BLOCK);
    r->f = fopen(path, "rb");
    if (!r->f) {
        rc = weir_seterr(err, errsz, WEIR_EIO, "%s: %s", path, strerror(errno));
        goto out;
    }
    rc = read_header(r, &schema_json, &schema_len, err, errsz);
    if (rc)
        goto out;
    char why[256];
    rc = weir_schema_from_json(schema_json, schema_len, &r->schema, why, sizeof(why));
    if (rc) {
        weir_seterr(err, errsz, rc, "%s: bad avro.schema in the header: %s", path, why);
        goto out;
    }
    rc = weir_reader_new(r->schema, &r->reader, why, sizeof(why));
    if (rc) {
        weir_seterr(err, errsz, rc, "%s: %s", path, why);
        goto out;
    }
    if (r->deflate) {
        if (inflateInit2(&r->z, -15) != Z_OK) {
            rc = weir_seterr(err, errsz, WEIR_ENOMEM, "%s: cannot set up inflate", path);
            goto out;
        }
        r->z_ready = 1;
    }
    *out = r;
    r = NULL;
out:
    free(schema_json);
    weir_container_reader_close(r);
    return rc;
}

avro_schema_t weir_container_reader_schema(const weir_container_reader_t *r)
{
    return r->schema;
}

uint64_t weir_container_reader_index(const weir_container_reader_t *r)
{
    return r->index;
}

void weir_container_reader_close(weir_container_reader_t *r)
{
    if (!r)
        return;
    if (r->f)
        fclose(r->f);
    if (r->z_ready)
        inflateEnd(&r->z);
    weir_reader_destroy(r->reader);
    if (r->schema)
        avro_schema_decref(r->schema);
    weir_buf_dispose(&r->raw);
    weir_buf_dispose(&r->inflated);
    free(r->path);
    free(r);
}

/* Raw deflate into r->inflated, refusing output past MAX_BLOCK: WEIR_EIO,
 * since a block that cannot be inflated holds no datum that can be counted.
 * Bytes after the end of the deflate stream are ignored: python's avro writes
 * three (the remains of a zlib trailer). */
static int inflate_block(weir_container_reader_t *r, weir_reason_t *reason, char *detail,
                         size_t detailsz)
{
    weir_buf_t *out = &r->inflated;
    int rc = 0;
    weir_buf_reset(out);
    inflateReset(&r->z);
    r->z.next_in = r->raw.data;
    r->z.avail_in = (uInt)r->raw.len;
    for (;;) {
        if (out->len == out->max) {
            *reason = WEIR_REASON_TOO_LARGE;
            rc = weir_seterr(detail, detailsz, WEIR_EIO,
                             "%s: block at file byte %" PRIu64 " inflates past %u bytes", r->path,
                             r->block_offset, MAX_BLOCK);
            goto out;
        }
        if (out->cap - out->len < INFLATE_STEP) {
            size_t room = out->max - out->len;
            if (weir_buf_reserve(out, room < INFLATE_STEP ? room : INFLATE_STEP)) {
                *reason = WEIR_REASON_TOO_LARGE;
                rc = weir_seterr(detail, detailsz, WEIR_EIO,
                                 "%s: block at file byte %" PRIu64 ": out of memory inflating",
                                 r->path, r->block_offset);
                goto out;
            }
        }
        r->z.next_out = out->data + out->len;
        r->z.avail_out = (uInt)(out->cap - out->len);
        int zr = inflate(&r->z, Z_NO_FLUSH);
        out->len = out->cap - r->z.avail_out;
        if (zr == Z_STREAM_END)
            break;
        if ((zr != Z_OK && zr != Z_BUF_ERROR) || (zr == Z_BUF_ERROR && r->z.avail_in == 0)) {
            *reason = WEIR_REASON_DECODE;
            rc = weir_seterr(detail, detailsz, WEIR_EIO,
                             "%s: block at file byte %" PRIu64 ": bad deflate data (%s)", r->path,
                             r->block_offset, r->z.msg ? r->z.msg : "truncated");
            goto out;
        }
    }
out:
    return rc;
}

/* Whether @p n datums can fit in @p bytes at the schema's smallest encoding. */
static int datums_fit(const weir_container_reader_t *r, uint64_t n, size_t bytes)
{
    size_t min = weir_reader_plan(r->reader)->nodes[0].min_size;
    return min > 0 ? n <= bytes / min : n <= MAX_EMPTY_DATUMS;
}

/* Reads the next block. Returns 1 with a block (possibly of no datums), 0 at
 * the end of the file, WEIR_EIO when the framing is lost or the block cannot
 * be believed (see the top of the file). */
static int load_block(weir_container_reader_t *r, weir_reason_t *reason, char *detail,
                      size_t detailsz)
{
    uint8_t sync[SYNC_SIZE];
    int64_t count = 0;
    int64_t size = 0;
    int eof = 0;
    int rc = 0;
    r->block_offset = r->offset;
    if (read_varint(r, &count, &eof)) {
        *reason = WEIR_REASON_TRUNCATED;
        rc = weir_seterr(detail, detailsz, WEIR_EIO,
                         "%s: truncated or malformed block count at file byte %" PRIu64, r->path,
                         r->block_offset);
        goto out;
    }
    if (eof)
        goto out;
    if (count < 0 || (uint64_t)count > MAX_BLOCK_COUNT) {
        *reason = WEIR_REASON_BAD_LENGTH;
        rc = weir_seterr(detail, detailsz, WEIR_EIO,
                         "%s: block at file byte %" PRIu64 " claims %" PRId64 " datums", r->path,
                         r->block_offset, count);
        goto out;
    }
    if (read_varint(r, &size, NULL) || size < 0 || (uint64_t)size > MAX_BLOCK) {
        *reason = WEIR_REASON_BAD_LENGTH;
        rc = weir_seterr(detail, detailsz, WEIR_EIO,
                         "%s: block at file byte %" PRIu64 " has a bad size (cap %u bytes)",
                         r->path, r->block_offset, MAX_BLOCK);
        goto out;
    }
    weir_buf_reset(&r->raw);
    if (weir_buf_reserve(&r->raw, (size_t)size)) {
        *reason = WEIR_REASON_TOO_LARGE;
        rc = weir_seterr(detail, detailsz, WEIR_EIO,
                         "%s: out of memory for a block of %" PRId64 " bytes", r->path, size);
        goto out;
    }
    if (read_exact(r, r->raw.data, (size_t)size) || read_exact(r, sync, SYNC_SIZE)) {
        *reason = WEIR_REASON_TRUNCATED;
        rc = weir_seterr(detail, detailsz, WEIR_EIO,
                         "%s: block at file byte %" PRIu64 " is truncated", r->path,
                         r->block_offset);
        goto out;
    }
    r->raw.len = (size_t)size;
    if (memcmp(sync, r->sync, SYNC_SIZE)) {
        *reason = WEIR_REASON_BAD_FRAMING;
        rc = weir_seterr(detail, detailsz, WEIR_EIO,
                         "%s: bad sync marker after the block at file byte %" PRIu64, r->path,
                         r->block_offset);
        goto out;
    }
    r->pos = 0;
    r->remaining = 0;
    /* An empty block may have no buffer yet: point at something all the same. */
    r->data = r->raw.len > 0 ? r->raw.data : no_bytes;
    r->data_len = r->raw.len;
    if (r->deflate && r->raw.len > 0) {
        rc = inflate_block(r, reason, detail, detailsz);
        if (rc)
            goto out;
        r->data = r->inflated.data;
        r->data_len = r->inflated.len;
    }
    if (count == 0 && r->data_len > 0) {
        *reason = WEIR_REASON_BAD_LENGTH;
        rc = weir_seterr(detail, detailsz, WEIR_EIO,
                         "%s: block at file byte %" PRIu64 " holds %zu bytes but no datums",
                         r->path, r->block_offset, r->data_len);
        goto out;
    }
    if (!datums_fit(r, (uint64_t)count, r->data_len)) {
        *reason = WEIR_REASON_BAD_LENGTH;
        rc = weir_seterr(detail, detailsz, WEIR_EIO,
                         "%s: block at file byte %" PRIu64 ": %" PRId64
                         " datums cannot fit in its %zu bytes",
                         r->path, r->block_offset, count, r->data_len);
        goto out;
    }
    r->remaining = (uint64_t)count;
    rc = 1;
out:
    return rc;
}

int weir_container_reader_next(weir_container_reader_t *r, avro_value_t **value,
                               const uint8_t **body, size_t *body_len, size_t *skipped,
                               weir_reason_t *reason, char *detail, size_t detailsz)
{
    weir_reason_t why = WEIR_REASON_NONE;
    size_t lost = 0;
    int rc = 0;
    if (detail && detailsz)
        detail[0] = '\0';
    if (r->stopped) {
        why = WEIR_REASON_NONE;
        rc = weir_seterr(detail, detailsz, WEIR_EIO, "%s: reading stopped after an earlier error",
                         r->path);
        goto out;
    }
    while (r->remaining == 0) {
        rc = load_block(r, &why, detail, detailsz);
        if (rc == 1)
            continue;
        if (rc == WEIR_EIO)
            r->stopped = 1;
        goto out;
    }
    /* Earlier datums may have been longer than the smallest: the rest of the
     * count must still fit what is left. */
    if (!datums_fit(r, r->remaining, r->data_len - r->pos)) {
        why = WEIR_REASON_BAD_LENGTH;
        r->stopped = 1;
        rc = weir_seterr(detail, detailsz, WEIR_EIO,
                         "%s: block at file byte %" PRIu64 " runs out of bytes: %" PRIu64
                         " more datums cannot fit in %zu bytes",
                         r->path, r->block_offset, r->remaining, r->data_len - r->pos);
        goto out;
    }
    char inner[256];
    size_t used = 0;
    avro_value_t *v = NULL;
    /* The last datum must end where the block does. */
    rc = weir_reader_read_at(r->reader, r->data + r->pos, r->data_len - r->pos, r->remaining == 1,
                             r->pos, &v, &used, &why, inner, sizeof(inner));
    r->index = r->next_index;
    if (rc) {
        uint64_t after = r->remaining - 1;
        if (after > r->raw.len / LOST_DATUM_BYTES) {
            /* Too many to believe: the count, not this datum, is what is wrong. */
            r->stopped = 1;
            rc = weir_seterr(detail, detailsz, WEIR_EIO,
                             "%s: datum %" PRIu64 " (block at file byte %" PRIu64
                             "): %s; the %" PRIu64
                             " datums the block claims after it are not believable in %zu "
                             "stored bytes",
                             r->path, r->index, r->block_offset, inner, after, r->raw.len);
            goto out;
        }
        weir_seterr(detail, detailsz, rc, "datum %" PRIu64 " (block at file byte %" PRIu64 "): %s",
                    r->index, r->block_offset, inner);
        lost = (size_t)after;
        r->next_index += r->remaining;
        r->remaining = 0;
        goto out;
    }
    r->next_index++;
    r->remaining--;
    if (value)
        *value = v;
    if (body)
        *body = r->data + r->pos;
    if (body_len)
        *body_len = used;
    r->pos += used;
    rc = 1;
out:
    if (skipped)
        *skipped = lost;
    if (reason)
        *reason = why;
    return rc;
}

/* ------------------------------------------------------------------ */
/* Writing                                                             */

static int writer_fail(weir_container_writer_t *w, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Keeps the first error: the caller sees it from weir_container_writer_close(). */
static int writer_fail(weir_container_writer_t *w, int rc, const char *fmt, ...)
{
    if (w->rc == 0) {
        va_list ap;
        char msg[200];
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        w->rc = rc;
        snprintf(w->err, sizeof(w->err), "%s: %s", w->path, msg);
    }
    return w->rc;
}

static int write_all(weir_container_writer_t *w, const void *p, size_t n)
{
    int rc = 0;
    if (n && fwrite(p, 1, n, w->f) != n)
        rc = writer_fail(w, WEIR_EIO, "write failed: %s", strerror(errno));
    return rc;
}

static int random_sync(uint8_t sync[SYNC_SIZE])
{
    int rc = 0;
    if (getrandom(sync, SYNC_SIZE, 0) != SYNC_SIZE) {
        FILE *f = fopen("/dev/urandom", "rb");
        if (!f || fread(sync, 1, SYNC_SIZE, f) != SYNC_SIZE)
            rc = WEIR_EIO;
        if (f)
            fclose(f);
    }
    return rc;
}

static int flush_block(weir_container_writer_t *w)
{
    const uint8_t *data = w->block.data;
    size_t len = w->block.len;
    int rc = w->rc;
    if (rc || w->count == 0)
        goto out;
    if (w->deflate) {
        weir_buf_reset(&w->out);
        if (weir_buf_reserve(&w->out, deflateBound(&w->z, (uLong)len))) {
            rc = writer_fail(w, WEIR_ENOMEM, "out of memory compressing a block");
            goto out;
        }
        deflateReset(&w->z);
        w->z.next_in = (Bytef *)w->block.data;
        w->z.avail_in = (uInt)len;
        w->z.next_out = w->out.data;
        w->z.avail_out = (uInt)w->out.cap;
        if (deflate(&w->z, Z_FINISH) != Z_STREAM_END) {
            rc = writer_fail(w, WEIR_EIO, "deflate failed");
            goto out;
        }
        w->out.len = w->out.cap - w->z.avail_out;
        data = w->out.data;
        len = w->out.len;
    }
    uint8_t head[2 * WEIR_VARINT_MAX];
    size_t head_len = weir_varint_encode(w->count, head);
    head_len += weir_varint_encode((int64_t)len, head + head_len);
    rc = write_all(w, head, head_len);
    if (rc == 0)
        rc = write_all(w, data, len);
    if (rc == 0)
        rc = write_all(w, w->sync, SYNC_SIZE);
    weir_buf_reset(&w->block);
    w->count = 0;
out:
    return rc;
}

static void writer_free(weir_container_writer_t *w)
{
    if (!w)
        return;
    if (w->f)
        fclose(w->f);
    if (w->z_ready)
        deflateEnd(&w->z);
    weir_plan_dispose(&w->plan);
    if (w->schema)
        avro_schema_decref(w->schema);
    weir_buf_dispose(&w->block);
    weir_buf_dispose(&w->out);
    free(w->path);
    free(w);
}

static int write_header_entry(weir_buf_t *b, const char *key, const char *value, size_t len)
{
    int rc = weir_avro_write_string(b, key, strlen(key));
    if (rc == 0)
        rc = weir_avro_write_string(b, value, len);
    return rc;
}

int weir_container_codec_parse(const char *codec, int *deflate_level)
{
    int rc = 0;
    if (!strcmp(codec, "null"))
        *deflate_level = 0;
    else if (!strcmp(codec, "deflate"))
        *deflate_level = WEIR_CONTAINER_DEFLATE_LEVEL;
    else if (!strncmp(codec, "deflate:", 8) && codec[8] >= '1' && codec[8] <= '9' && !codec[9])
        *deflate_level = codec[8] - '0';
    else
        rc = -1;
    return rc;
}

int weir_container_writer_open(const char *path, avro_schema_t schema, const char *codec,
                               weir_container_writer_t **out, char *err, size_t errsz)
{
    return weir_container_writer_open_sync(path, schema, codec, NULL, out, err, errsz);
}

int weir_container_writer_open_sync(const char *path, avro_schema_t schema, const char *codec,
                                    const uint8_t *sync, weir_container_writer_t **out, char *err,
                                    size_t errsz)
{
    weir_container_writer_t *w = NULL;
    char *json = NULL;
    size_t json_len = 0;
    int rc = 0;
    *out = NULL;
    int level = 0;
    if (!codec)
        codec = "null";
    if (weir_container_codec_parse(codec, &level) != 0) {
        rc = weir_seterr(err, errsz, WEIR_EINVAL,
                         "%s: unsupported codec \"%s\" (weir writes null, deflate and deflate:1 "
                         "to deflate:9)",
                         path, codec);
        goto out;
    }
    w = calloc(1, sizeof(*w));
    if (!w || !(w->path = strdup(path))) {
        rc = weir_seterr(err, errsz, WEIR_ENOMEM, "%s: out of memory", path);
        goto out;
    }
    weir_buf_init(&w->block, MAX_BLOCK);
    weir_buf_init(&w->out, MAX_BLOCK + MAX_HEADER_VALUE);
    w->schema = avro_schema_incref(schema);
    w->deflate = level > 0;
    char why[256];
    rc = weir_plan_compile(schema, &w->plan, why, sizeof(why));
    if (rc == 0)
        rc = weir_schema_json(schema, &json, &json_len, why, sizeof(why));
    if (rc) {
        weir_seterr(err, errsz, rc, "%s: %s", path, why);
        goto out;
    }
    if (sync)
        memcpy(w->sync, sync, SYNC_SIZE);
    else if (random_sync(w->sync)) {
        rc = weir_seterr(err, errsz, WEIR_EIO, "%s: no random bytes for the sync marker", path);
        goto out;
    }
    if (w->deflate) {
        if (deflateInit2(&w->z, level, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
            rc = weir_seterr(err, errsz, WEIR_ENOMEM, "%s: cannot set up deflate", path);
            goto out;
        }
        w->z_ready = 1;
    }
    rc = weir_buf_append(&w->out, magic, sizeof(magic));
    if (rc == 0)
        rc = weir_avro_write_long(&w->out, 2);
    if (rc == 0)
        /* the level is the writer's business: readers see "deflate" */
        rc = write_header_entry(&w->out, "avro.codec", w->deflate ? "deflate" : "null",
                                w->deflate ? 7 : 4);
    if (rc == 0)
        rc = write_header_entry(&w->out, "avro.schema", json, json_len);
    if (rc == 0)
        rc = weir_avro_write_long(&w->out, 0);
    if (rc == 0)
        rc = weir_buf_append(&w->out, w->sync, SYNC_SIZE);
    if (rc) {
        rc = weir_seterr(err, errsz, rc, "%s: header too large", path);
        goto out;
    }
    w->f = fopen(path, "wb");
    if (!w->f) {
        rc = weir_seterr(err, errsz, WEIR_EIO, "%s: %s", path, strerror(errno));
        goto out;
    }
    rc = write_all(w, w->out.data, w->out.len);
    if (rc) {
        weir_seterr(err, errsz, rc, "%s", w->err);
        goto out;
    }
    *out = w;
    w = NULL;
out:
    free(json);
    writer_free(w);
    return rc;
}

int weir_container_writer_append(weir_container_writer_t *w, const uint8_t *datum, size_t len)
{
    weir_reason_t reason = WEIR_REASON_NONE;
    char detail[256];
    int rc = w->rc;
    if (rc)
        goto out;
    /* A datum that is not of the file's schema would make the file unreadable. */
    rc = weir_plan_check(&w->plan, datum, len, 1, 0, NULL, &reason, detail, sizeof(detail));
    if (rc)
        goto out;
    rc = weir_buf_append(&w->block, datum, len);
    if (rc) {
        rc = writer_fail(w, rc, "block buffer full");
        goto out;
    }
    w->count++;
    /* Datums of no bytes never fill a block: end it where the reader's cap is. */
    if (w->block.len >= WRITER_BLOCK_TARGET ||
        (w->plan.nodes[0].min_size == 0 && w->count >= MAX_EMPTY_DATUMS))
        rc = flush_block(w);
out:
    return rc;
}

int weir_container_writer_close(weir_container_writer_t *w, char *err, size_t errsz)
{
    int rc = 0;
    if (!w)
        goto out;
    flush_block(w);
    if (w->f && fflush(w->f) != 0)
        writer_fail(w, WEIR_EIO, "flush failed: %s", strerror(errno));
    if (w->f && fclose(w->f) != 0)
        writer_fail(w, WEIR_EIO, "close failed: %s", strerror(errno));
    w->f = NULL;
    rc = w->rc;
    if (rc)
        weir_seterr(err, errsz, rc, "%s", w->err);
    writer_free(w);
out:
    return rc;
}
