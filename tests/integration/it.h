/*
 * it.h — shared steps of the broker tests: a scenario's topics and config,
 * generating events with `weir gen`, running `weir run`, decoding ScoredEvents
 * and the independent expected scores (tests/integration/expected_scores.py).
 */
#ifndef WEIR_IT_H
#define WEIR_IT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "broker.h"
#include "schemas.h"

typedef struct {
    char in[100], out[160], dlq[160], group[160];
    char *dir;
    char *conf;        /* path of the weir.conf written for the scenario */
    const char *model; /* bundle path */
    int http_port;     /* 0: HTTP off */
} it_scenario_t;

/** @brief Creates unique topics (input with @p partitions) and a weir.conf. */
void it_setup(it_scenario_t *s, const char *name, int partitions, const char *model, int http_port,
              const char *extra_conf);

/** @brief Frees what it_setup() allocated (the folder and its logs stay for inspection). */
void it_teardown(it_scenario_t *s);

/** @brief `weir gen` @p count events with @p seed to the input topic (and, if @p file, to a file).
 */
void it_gen(const it_scenario_t *s, uint64_t count, uint64_t seed, const char *file);

/** @brief `weir gen` @p count events with @p seed to the input topic, in the
 *  background, at @p rate events/s; returns its pid. */
pid_t it_gen_background(const it_scenario_t *s, const char *count, const char *rate,
                        const char *seed);

/** @brief One sample of weir's /metrics on @p port (-1 when it does not answer). */
double it_metric(int port, const char *sample);

/** @brief Waits until @p sample reaches @p at_least; 0 at the deadline. */
int it_wait_metric(int port, const char *sample, double at_least, int timeout_ms);

/** @brief Starts `weir run -c conf`; output goes to dir/weir-<n>.log. */
pid_t it_start(const it_scenario_t *s, int n);

/** @brief Sends SIGTERM and returns the exit code (waits up to 60 s). */
int it_stop(pid_t pid);

/** @brief Waits until the group has committed every input partition's high watermark. */
int it_wait_committed_all(const it_scenario_t *s, int partitions, int timeout_ms);

typedef struct {
    char event_id[64];
    double score;
    char label[32];
    char model[64];
} it_scored_t;

/** @brief A reader of the ScoredEvent schema weir writes for Transaction input. */
weir_reader_t *it_scored_reader(void);

/** @brief Decodes a framed ScoredEvent record; asserts on failure. */
void it_decode_scored(weir_reader_t *reader, const weir_it_record_t *r, it_scored_t *out);

typedef struct {
    char event_id[64];
    int dead;
    double score;
    char label_or_reason[64];
} it_expected_t;

/** @brief Runs expected_scores.py on a bundle and an events file; returns the rows. */
it_expected_t *it_expected(const char *model, const char *events_file, size_t *n);

/** @brief Prints the tail of a weir log into the test output (for failures). */
void it_dump_log(const it_scenario_t *s, int n);

#endif
