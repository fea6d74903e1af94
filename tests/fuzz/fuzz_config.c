/*
 * fuzz_config.c — a libFuzzer target for the weir.conf reader: any bytes as
 * the text of a config file (weir_config_load_text()), then the checks made
 * after loading (weir_config_check_run(), and weir_config_check_model()
 * against the example bundle), the first line again as a -X override, and
 * weir_config_quote() and weir_config_redact() on the same bytes.
 *
 * What it holds to, by abort():
 * - a refusal carries a message that names "fuzz.conf:LINE: " (or "-X: ");
 * - no message holds a byte a terminal acts on (C0, DEL, C1), nor invalid
 *   UTF-8: what it echoes is escaped;
 * - the value of a secret key on the refused line is not in the message;
 * - a file that loads gives a drift configuration the drift monitor accepts,
 *   topics Kafka accepts and librdkafka configurations for both clients;
 * - a quoted or redacted text fits its buffer, escaped.
 *
 * Inputs that name librdkafka's `plugin.library.paths` are skipped: setting
 * it loads shared libraries into the process.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "scoring.h"

#define NAME "fuzz.conf"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static weir_model_t *example_model(void)
{
    static weir_model_t *m;
    static int tried;
    if (!tried) {
        char err[512];
        tried = 1;
        if (weir_model_load(WEIR_SOURCE_DIR "/examples/model.json", &m, err, sizeof(err)) != 0) {
            fprintf(stderr, "fuzz_config: %s\n", err);
            abort();
        }
    }
    return m;
}

/* No C0 or DEL byte, well-formed UTF-8, no C1 control. */
static void assert_printable(const char *msg)
{
    const unsigned char *p = (const unsigned char *)msg;
    while (*p) {
        if (*p < 0x20 || *p == 0x7f)
            abort();
        if (*p < 0x80) {
            p++;
            continue;
        }
        size_t n = *p >= 0xF0 ? 4 : *p >= 0xE0 ? 3 : *p >= 0xC2 ? 2 : 0;
        if (n == 0)
            abort();
        for (size_t i = 1; i < n; i++)
            if ((p[i] & 0xC0) != 0x80)
                abort();
        if (p[0] == 0xC2 && p[1] < 0xA0)
            abort(); /* U+0080..U+009F */
        p += n;
    }
}

static int has_case(const char *hay, size_t n, const char *needle)
{
    size_t k = strlen(needle);
    for (size_t i = 0; i + k <= n; i++)
        if (!strncasecmp(hay + i, needle, k))
            return 1;
    return 0;
}

/* Line @p lineno (1-based) of @p text, without its newline, in @p out. */
static int nth_line(const char *text, size_t len, unsigned long lineno, char *out, size_t outsz)
{
    size_t pos = 0;
    if (len >= 3 && !memcmp(text, "\xEF\xBB\xBF", 3))
        pos = 3;
    for (unsigned long l = 1; pos <= len; l++) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;
        if (l == lineno) {
            if (n >= outsz)
                return -1;
            memcpy(out, text + pos, n);
            out[n] = '\0';
            return 0;
        }
        if (!nl)
            break;
        pos += n + 1;
    }
    return -1;
}

static char *trim(char *s)
{
    while (*s == ' ' || (*s >= '\t' && *s <= '\r'))
        s++;
    char *end = s + strlen(s);
    while (end > s && (end[-1] == ' ' || (end[-1] >= '\t' && end[-1] <= '\r')))
        *--end = '\0';
    return s;
}

/* The refused line's value must not be in @p err when its key is a secret. */
static void assert_secret_kept(const char *text, size_t len, const char *err)
{
    static char line[WEIR_CONFIG_LINE_MAX + 1];
    const char *colon = err + strlen(NAME ":");
    char *end;
    unsigned long lineno = strtoul(colon, &end, 10);
    if (end == colon || nth_line(text, len, lineno, line, sizeof(line)) != 0)
        return;
    char *eq = strchr(line, '=');
    if (!eq)
        return;
    *eq = '\0';
    char *key = trim(line), *value = trim(eq + 1);
    /* Only values that cannot be words of the message itself: letters and
     * digits, both, at least 6 ("S3CRET1"), not part of the key. */
    if (!weir_config_is_secret(key) || strlen(value) < 6 || strstr(key, value))
        return;
    int digit = 0, alpha = 0;
    for (const char *v = value; *v; v++) {
        if (*v >= '0' && *v <= '9')
            digit = 1;
        else if ((*v >= 'a' && *v <= 'z') || (*v >= 'A' && *v <= 'Z'))
            alpha = 1;
        else
            return;
    }
    if (!digit || !alpha)
        return;
    if (strstr(err, value)) {
        fprintf(stderr, "secret value of %s in: %s\n", key, err);
        abort();
    }
}

static void check_refusal(int rc, const char *err, const char *prefix)
{
    if (rc >= 0)
        abort();
    if (rc == WEIR_ENOMEM)
        return;
    if (strncmp(err, prefix, strlen(prefix)) != 0) {
        fprintf(stderr, "refusal without its origin: %s\n", err);
        abort();
    }
    assert_printable(err);
}

static void check_loaded(weir_config_t *c)
{
    char err[1024];
    if (weir_drift_config_check(&c->drift, err, sizeof(err)) != 0) {
        fprintf(stderr, "loaded, but the drift monitor refuses it: %s\n", err);
        abort();
    }
    for (size_t i = 0; i < c->input_topic_count; i++)
        if (!weir_config_topic_ok(c->input_topics[i]))
            abort();
    if (c->input_topics[c->input_topic_count] != NULL)
        abort();
    const char *topics[] = {c->output_topic, c->dlq_topic, c->alerts_topic, c->labels_topic};
    for (size_t i = 0; i < 4; i++)
        if (*topics[i] && !weir_config_topic_ok(topics[i]))
            abort();
    for (int consumer = 0; consumer < 2; consumer++) {
        rd_kafka_conf_t *conf;
        if (weir_config_kafka(c, consumer, &conf, err, sizeof(err)) != 0) {
            fprintf(stderr, "loaded, but no librdkafka conf: %s\n", err);
            abort();
        }
        rd_kafka_conf_destroy(conf);
    }
    /* later checks may refuse; their messages are held to the same rules */
    err[0] = '\0';
    if (weir_config_check_run(c, err, sizeof(err)) != 0)
        assert_printable(err);
    err[0] = '\0';
    if (weir_config_check_model(c, example_model(), err, sizeof(err)) != 0) {
        if (!*err)
            abort();
        assert_printable(err);
    }
}

static void check_quote(const uint8_t *data, size_t size)
{
    static const size_t sizes[] = {8, 64, 1024};
    char out[1024];
    if (size > 512)
        size = 512;
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        memset(out, 'Z', sizeof(out));
        weir_config_quote(out, sizes[i], (const char *)data, size);
        if (!memchr(out, '\0', sizes[i]))
            abort();
        if (out[0] != '"')
            abort();
        assert_printable(out);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    char err[1024];
    if (has_case(text, size, "plugin"))
        return 0;
    weir_config_t c;
    weir_config_init(&c);
    err[0] = '\0';
    int rc = weir_config_load_text(&c, NAME, NULL, text, size, err, sizeof(err));
    if (rc != 0) {
        check_refusal(rc, err, NAME ":");
        assert_secret_kept(text, size, err);
    } else {
        check_loaded(&c);
    }

    /* the first line as -X */
    char first[512];
    size_t n = 0;
    while (n < size && n < sizeof(first) - 1 && data[n] != '\n' && data[n] != '\0')
        n++;
    memcpy(first, data, n);
    first[n] = '\0';
    err[0] = '\0';
    rc = weir_config_set(&c, first, err, sizeof(err));
    if (rc != 0)
        check_refusal(rc, err, "-X");

    /* the bytes through the message escapes */
    check_quote(data, size);
    char message[512];
    n = size < sizeof(message) - 1 ? size : sizeof(message) - 1;
    memcpy(message, data, n);
    message[n] = '\0';
    int plain = 1; /* escapes could spell a value out of other bytes */
    for (size_t i = 0; i < n; i++)
        plain &= message[i] >= 0x20 && message[i] < 0x7f;
    weir_config_redact(&c, message, sizeof(message));
    assert_printable(message);
    for (size_t i = 0; i < c.kafka_count && plain; i++) {
        const char *v = c.kafka_values[i];
        if (weir_config_is_secret(c.kafka_keys[i]) && strlen(v) >= 9 && !strpbrk(v, "()\\") &&
            strstr(message, v)) {
            fprintf(stderr, "redact left the value of %s\n", c.kafka_keys[i]);
            abort();
        }
    }
    weir_config_dispose(&c);
    return 0;
}
