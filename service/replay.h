/**
 * @file replay.h
 * @brief `weir replay`: a backtest — a bounded range of the input topics (or
 *        an Avro file) scored by a champion and challengers with the code of
 *        `weir run`, labels joined as production would have seen them, and a
 *        weir.backtest/1 report (docs/reports.md).
 */
#ifndef WEIR_REPLAY_H
#define WEIR_REPLAY_H

#include <stddef.h>
#include <stdint.h>

/** @brief Runs `weir replay` (argv[0] is "replay"); returns the exit code. */
int weir_replay_main(int argc, char **argv);

/**
 * @brief The progress of a read: on a terminal (@p bar nonzero) a bar with
 * the events done, the rate and the time left; otherwise one plain line.
 * @param total records expected, 0 when unknown (no bar fraction, no ETA).
 * @param seconds since the start.
 */
void weir_replay_progress(char *out, size_t outsz, uint64_t done, uint64_t total, double seconds,
                          int bar);

#endif
