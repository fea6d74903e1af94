/**
 * @file report.h
 * @brief Reports a person would rather look at: one self-contained HTML page
 *        (inline SVG and CSS; no script, no font, nothing fetched) of a
 *        weir.backtest/1, weir.batch-report/1 or weir.profile/1 report, and
 *        `weir report R.json -o R.html`.
 *
 * The page carries a Content-Security-Policy that forbids every fetch, so a
 * browser shows it offline exactly as written. docs/reports.md lists what
 * each kind of report shows.
 */
#ifndef WEIR_REPORT_H
#define WEIR_REPORT_H

#include <jansson.h>
#include <stddef.h>

#include "common.h"

/**
 * @brief Renders @p report (any of the three formats) into @p out.
 * @returns 0, WEIR_EINVAL (not a report weir knows; @p err says why) or
 *          WEIR_ELIMIT / WEIR_ENOMEM.
 */
int weir_report_html(const json_t *report, weir_buf_t *out, char *err, size_t errsz);

/** @brief weir_report_html() into the file @p path (created or truncated). */
int weir_report_html_file(const json_t *report, const char *path, char *err, size_t errsz);

/** @brief Runs `weir report` (argv[0] is "report"); returns the exit code. */
int weir_report_main(int argc, char **argv);

#endif
