/**
 * @file gen.h
 * @brief `weir gen`: synthetic card transactions (about 1% fraud) and their
 *        labels, deterministic for a seed, to a topic or an Avro file, with
 *        injectable covariate shift and concept change.
 */
#ifndef WEIR_GEN_H
#define WEIR_GEN_H

/** @brief Runs `weir gen` with its arguments (argv[0] is "gen"); returns the exit code. */
int weir_gen_main(int argc, char **argv);

#endif
