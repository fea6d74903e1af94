/**
 * @file profile.h
 * @brief `weir profile`: the exploratory statistics of a stream before
 *        training — per field counts, missing shares, moments, quantiles,
 *        distinct values, frequent categories, the target's balance and the
 *        correlation of the numeric fields — and a `reference` block that
 *        drops into a bundle (weir.profile/1, docs/reports.md).
 */
#ifndef WEIR_PROFILE_H
#define WEIR_PROFILE_H

/** @brief Runs `weir profile` (argv[0] is "profile"); returns the exit code. */
int weir_profile_main(int argc, char **argv);

#endif
