/**
 * @file log.h
 * @brief logfmt lines on stderr: `ts=… level=… msg=… key=value`.
 *
 * One line per event of note. Values with spaces, quotes or '=' are quoted.
 * Not for scoring/ or drift/, which do no I/O.
 */
#ifndef WEIR_LOG_H
#define WEIR_LOG_H

#include <stddef.h>

typedef enum {
    WEIR_LOG_DEBUG = 0,
    WEIR_LOG_INFO,
    WEIR_LOG_WARN,
    WEIR_LOG_ERROR,
    WEIR_LOG_OFF
} weir_log_level_t;

/** @brief Sets the minimum level printed (process-wide; default info). */
void weir_log_set_level(weir_log_level_t level);
/** @brief Parses "debug", "info", "warn", "error" or "off". Returns 0 or WEIR_EINVAL. */
int weir_log_parse_level(const char *s, weir_log_level_t *out);
int weir_log_enabled(weir_log_level_t level);

/**
 * @brief Logs @p msg with key/value pairs given as alternating `const char *`
 * arguments, terminated by NULL: `weir_log(WEIR_LOG_INFO, "assigned",
 * "topic", t, "partition", p, NULL)`.
 */
void weir_log(weir_log_level_t level, const char *msg, ...);

/** @brief The level of a syslog severity (0 emergency .. 7 debug), as librdkafka logs. */
weir_log_level_t weir_log_from_syslog(int severity);

/**
 * @brief Registers a secret (a password, a key): from now on every occurrence
 * of it in any logged message or value, whoever logs it (librdkafka's own
 * lines included), is written as `[redacted]`. Call it while setting up,
 * before other threads log; up to 64 secrets; values shorter than
 * WEIR_LOG_SECRET_MIN bytes are ignored (they would blank out ordinary words).
 */
void weir_log_add_secret(const char *value);

#define WEIR_LOG_SECRET_MIN 4

/** @brief Forgets every registered secret (tests). */
void weir_log_clear_secrets(void);

/** @brief Quotes @p s for logfmt into @p out (always NUL-terminated). */
void weir_log_quote(char *out, size_t outsz, const char *s);

#endif
