/**
 * @file docblocks.h
 * @brief The fenced blocks of README.md and docs/ *.md, and running the shell
 *        ones as a user would: in a fresh copy of the working tree, one after
 *        the other, each with `sh -e`.
 *
 * A block is marked by an HTML comment on the lines before its fence, which
 * a rendered page does not show:
 *
 *     <!-- doctest: broker -->              needs the Kafka broker: the broker suite runs it
 *     <!-- doctest: slow (why) -->          takes minutes: the broker suite runs it
 *     <!-- doctest: skip (why) -->          cannot run here at all; the reason is required
 *     <!-- doctest: exit 2 -->              the block ends with this exit status, not 0
 *     <!-- doctest: output -->              (a text block) lines the block before it prints;
 *                                           "…" in a line stands for any text
 *
 * Items combine with commas (`broker, exit 1`). Shell blocks are fenced
 * ```sh (or shell, bash); a fence without a language must not hold commands.
 */
#ifndef WEIR_TEST_DOCBLOCKS_H
#define WEIR_TEST_DOCBLOCKS_H

#include <stddef.h>

#define WEIR_DOC_MAX_BLOCKS 512

/** @brief One fenced block of a Markdown file. */
typedef struct {
    char file[64];    /**< relative to the source root: "README.md", "docs/drift.md" */
    int line;         /**< line of the opening fence, from 1 */
    char lang[16];    /**< the fence's language ("" when none) */
    int broker;       /**< marked broker */
    int slow;         /**< marked slow */
    int skip;         /**< marked skip */
    int output;       /**< marked output: a sample of the previous shell block's output */
    int exit_code;    /**< the exit status the text gives (0 unless marked exit N) */
    char reason[256]; /**< why skip or slow */
    char *text;       /**< the lines between the fences (malloc'd) */
} weir_doc_block_t;

/** @brief The documentation files: README.md, then docs/ *.md in name order. */
size_t weir_doc_files(char files[][64], size_t max);

/**
 * @brief Appends the fenced blocks of @p relative (under WEIR_SOURCE_DIR) to
 * @p blocks; fails the test on a marker it does not understand.
 * @returns the new count.
 */
size_t weir_doc_parse(const char *relative, weir_doc_block_t *blocks, size_t n, size_t max);

/** @brief Every block of every documentation file, in reading order. */
size_t weir_doc_parse_all(weir_doc_block_t *blocks, size_t max);

void weir_doc_free(weir_doc_block_t *blocks, size_t n);

/** @brief A ```sh, ```shell or ```bash block. */
int weir_doc_is_shell(const weir_doc_block_t *b);

/**
 * @brief Makes @p scratch a fresh copy of the source's working tree (tracked
 * and untracked files that git does not ignore), keeping the build folders
 * (build*) an earlier run left there, and links the source's .venv into it.
 */
void weir_doc_scratch(const char *scratch);

/**
 * @brief Runs the shell blocks in reading order in @p scratch, each with
 * `sh -e`, @p scratch/build first on PATH: the unmarked ones, plus the broker
 * and slow ones when @p with_broker. Checks each exit status and output
 * sample (failing the test with the file and line of the block), and prints
 * a summary.
 * @returns how many blocks ran.
 */
size_t weir_doc_run_all(const char *scratch, int with_broker);

/**
 * @brief The first line of @p sample that no line of @p output matches
 * ("…" matches any text; colour escapes and trailing blanks of the output
 * are ignored), or NULL when every line is there. Static buffer.
 */
const char *weir_doc_sample_missing(const char *sample, const char *output);

#endif
