/**
 * @file batch.h
 * @brief `weir batch`: batch prediction over Avro object container files,
 *        through the same decode/transform/score code as `weir run`.
 */
#ifndef WEIR_BATCH_H
#define WEIR_BATCH_H

/** @brief Runs `weir batch` (argv[0] is "batch"); returns the exit code. */
int weir_batch_main(int argc, char **argv);

#endif
