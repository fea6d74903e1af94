/**
 * @file clock.h
 * @brief The two clocks weir reads: monotonic (deadlines, durations) and wall
 *        (event, scored-at and alert times). Not for scoring/ or drift/, which
 *        take times as arguments.
 */
#ifndef WEIR_CLOCK_H
#define WEIR_CLOCK_H

#include <stdint.h>

/** @brief Monotonic time in seconds (for durations). */
double weir_clock_mono_s(void);
/** @brief Monotonic time in milliseconds (for deadlines). */
int64_t weir_clock_mono_ms(void);
/** @brief Wall-clock time in milliseconds since the Unix epoch. */
int64_t weir_clock_wall_ms(void);

#endif
