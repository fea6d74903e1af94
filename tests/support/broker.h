/**
 * @file broker.h
 * @brief Integration-test helpers: the real local broker (started through
 *        scripts/kafka.sh), unique topics, running weir as a child process,
 *        reading topics back, committed offsets and HTTP scrapes.
 *
 * Every wait has a deadline and polls a condition; nothing sleeps to
 * synchronise.
 */
#ifndef WEIR_TEST_BROKER_H
#define WEIR_TEST_BROKER_H

#include <librdkafka/rdkafka.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/** @brief Starts (or reuses) the local broker; returns its bootstrap address. */
const char *weir_it_bootstrap(void);

/** @brief A topic name unique to this process and call: "<prefix>-<pid>-<n>-<time>". */
void weir_it_unique(const char *prefix, char *out, size_t outsz);

/** @brief Creates a topic and waits until its metadata shows every partition. */
void weir_it_create_topic(const char *name, int partitions);

/** @brief Sets one config of a topic (e.g. "max.message.bytes") and waits for the answer. */
void weir_it_topic_config(const char *topic, const char *key, const char *value);

/** @brief Deletes a topic (the test waits on its own for what it expects next). */
void weir_it_delete_topic(const char *name);

/**
 * @brief Runs `scripts/kafka.sh CMD` for the broker the tests use (stop, kill,
 * start...); returns its exit status. start also re-reads the bootstrap.
 */
int weir_it_broker(const char *cmd);

/** @brief A producer for the test itself (acks=all). */
rd_kafka_t *weir_it_producer(void);
/** @brief Produces one record (value copied) and serves delivery; aborts the test on error. */
void weir_it_produce(rd_kafka_t *p, const char *topic, int32_t partition, const void *key,
                     size_t key_len, const void *value, size_t len);
/** @brief Flushes a producer and destroys it. */
void weir_it_producer_close(rd_kafka_t *p);

/** @brief Runs a command to completion (argv[0] resolved by PATH unless absolute); returns its exit
 * status. */
int weir_it_run(const char *const argv[], const char *log_path, int timeout_ms);

/** @brief Starts a command in the background with stdout+stderr appended to @p log_path. */
pid_t weir_it_spawn(const char *const argv[], const char *log_path);

/**
 * @brief Waits for a child to exit; returns its exit code, 128+signal when
 * killed, or -1 at the deadline (the child is then killed).
 */
int weir_it_wait(pid_t pid, int timeout_ms);

/** @brief Like weir_it_wait(), but a child still running at the deadline is left running. */
int weir_it_exited(pid_t pid, int timeout_ms);

/** @brief A record read back from a topic (all owned by the caller's list). */
typedef struct {
    int32_t partition;
    int64_t offset;
    char *key;
    size_t key_len;
    uint8_t *value;
    size_t len;
    rd_kafka_headers_t *headers;
} weir_it_record_t;

typedef struct {
    weir_it_record_t *records;
    size_t count, cap;
} weir_it_records_t;

/**
 * @brief Reads a topic from the beginning (no group) until @p expected records
 * were read or @p timeout_ms passed; returns what was read.
 */
void weir_it_read(const char *topic, size_t expected, int timeout_ms, weir_it_records_t *out);

/** @brief Number of records in a topic (sum of high - low watermarks). */
int64_t weir_it_count(const char *topic);

/** @brief Waits until the topic holds at least @p n records; returns the last count seen. */
int64_t weir_it_wait_count(const char *topic, int64_t n, int timeout_ms);

void weir_it_records_free(weir_it_records_t *r);

/** @brief A header's value as a NUL-terminated static-per-call string, or NULL. */
const char *weir_it_header(const weir_it_record_t *r, const char *name);

/** @brief Committed offset of a group on one partition (-1001 when none). */
int64_t weir_it_committed(const char *group, const char *topic, int32_t partition);
/** @brief High watermark of one partition. */
int64_t weir_it_high(const char *topic, int32_t partition);

/** @brief GET http://127.0.0.1:port/path; returns the status, body into @p body (malloc'd). */
int weir_it_http_get(int port, const char *path, char **body);

/** @brief Reads one sample "name{labels} value" from a metrics page (0 when absent). */
double weir_it_metric(const char *page, const char *sample);

/** @brief A free TCP port on loopback (bound, read, released). */
int weir_it_free_port(void);

/** @brief A fresh temporary directory (malloc'd path). */
char *weir_it_tmpdir(void);

/** @brief Writes @p text to @p dir/@p name and returns the path (malloc'd). */
char *weir_it_write(const char *dir, const char *name, const char *text);

#endif
