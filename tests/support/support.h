/**
 * @file support.h
 * @brief Helpers for weir's tests: reading files and golden vectors, paths of
 *        the source tree and the built binary.
 */
#ifndef WEIR_TEST_SUPPORT_H
#define WEIR_TEST_SUPPORT_H

#include <jansson.h>
#include <stddef.h>

/** @brief Path of a file under tests/ (static buffer per call site is not kept: copy it). */
const char *weir_test_path(const char *relative);

/** @brief Loads a JSON file under tests/; aborts the test with a message on failure. */
json_t *weir_test_load_json(const char *relative);

/** @brief Reads a whole file into a malloc'd buffer (NUL-terminated); NULL on failure. */
char *weir_test_read_file(const char *path, size_t *len);

/** @brief Writes @p len bytes to a fresh temporary file and returns its path (malloc'd). */
char *weir_test_write_temp(const char *suffix, const void *data, size_t len);

#endif
