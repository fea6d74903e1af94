/*
 * score_rows.c — embedding weir's engine in a C program of your own: the
 * bundle's transforms and model, exactly as `weir run` applies them, through
 * the row interface of libweir_row.a (engine/row.h). No Kafka, no Avro.
 *
 *   score_rows MODEL.json < rows.csv > scores.csv
 *   score_rows MODEL.json --time N < rows.csv     per-row cost, one row per call
 *
 * Reads a CSV whose header names input fields (the bundle's feature sources;
 * other columns are ignored, an empty cell is a missing value), and prints
 * one line per row: the score and the predicted label, or the reason the row
 * cannot be scored (what would be a dead letter in weir run). Quoted cells
 * are not supported: an example, not a CSV library.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "row.h"

#define MAX_FIELDS 256
#define MAX_ROWS 1000000

typedef struct {
    char *name;
    int is_text; /* a categorical feature reads it as text */
    double *numbers;
    char **strings;
} column_t;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Splits a line at commas in place; returns the number of cells. */
static size_t split(char *line, char **cells, size_t max)
{
    size_t n = 0;
    line[strcspn(line, "\r\n")] = '\0';
    for (char *p = line; n < max;) {
        cells[n++] = p;
        char *comma = strchr(p, ',');
        if (!comma)
            break;
        *comma = '\0';
        p = comma + 1;
    }
    return n;
}

int main(int argc, char **argv)
{
    int code = 1;
    char err[512], line[65536];
    char *cells[MAX_FIELDS];
    column_t cols[MAX_FIELDS];
    weir_column_t wcols[MAX_FIELDS];
    size_t n_cols = 0, rows = 0, cap = 1024;
    float *outputs = NULL;
    double *scores = NULL;
    int *classes = NULL, *reasons = NULL;
    size_t *bad = NULL;
    weir_model_t *model = NULL;
    long repeat = argc == 4 && !strcmp(argv[2], "--time") ? atol(argv[3]) : 0;

    memset(cols, 0, sizeof(cols));
    if (argc != 2 && !(argc == 4 && repeat > 0)) {
        fprintf(stderr, "usage: score_rows MODEL.json [--time N] < rows.csv\n");
        return 2;
    }
    if (weir_model_load(argv[1], &model, err, sizeof(err)) != 0) {
        fprintf(stderr, "score_rows: %s\n", err);
        return 2;
    }
    if (!fgets(line, sizeof(line), stdin)) {
        fprintf(stderr, "score_rows: no header line on stdin\n");
        goto out;
    }
    n_cols = split(line, cells, MAX_FIELDS);
    for (size_t c = 0; c < n_cols; c++) {
        cols[c].name = strdup(cells[c]);
        for (size_t f = 0; f < weir_model_feature_count(model); f++) {
            const weir_feature_info_t *fi = weir_model_feature(model, f);
            if (!strcmp(fi->source, cells[c]) && fi->type == WEIR_FEATURE_CATEGORICAL)
                cols[c].is_text = 1;
        }
        cols[c].numbers = calloc(cap, sizeof(double));
        cols[c].strings = calloc(cap, sizeof(char *));
    }
    while (fgets(line, sizeof(line), stdin) && rows < MAX_ROWS) {
        size_t n = split(line, cells, MAX_FIELDS);
        if (rows == cap) {
            cap *= 2;
            for (size_t c = 0; c < n_cols; c++) {
                cols[c].numbers = realloc(cols[c].numbers, cap * sizeof(double));
                cols[c].strings = realloc(cols[c].strings, cap * sizeof(char *));
            }
        }
        for (size_t c = 0; c < n_cols; c++) {
            const char *cell = c < n ? cells[c] : "";
            char *end;
            cols[c].strings[rows] = *cell ? strdup(cell) : NULL;
            cols[c].numbers[rows] = *cell ? strtod(cell, &end) : NAN;
            if (*cell && *end) /* "true"/"false" for booleans */
                cols[c].numbers[rows] = !strcmp(cell, "true")    ? 1.0
                                        : !strcmp(cell, "false") ? 0.0
                                                                 : NAN;
        }
        rows++;
    }
    /* A feature whose field the CSV lacks reads missing values. */
    for (size_t f = 0; f < weir_model_feature_count(model) && n_cols < MAX_FIELDS; f++) {
        const weir_feature_info_t *fi = weir_model_feature(model, f);
        size_t c = 0;
        while (c < n_cols && strcmp(cols[c].name, fi->source) != 0)
            c++;
        if (c < n_cols)
            continue;
        cols[c].name = strdup(fi->source);
        cols[c].is_text = fi->type == WEIR_FEATURE_CATEGORICAL;
        cols[c].numbers = malloc((rows + 1) * sizeof(double));
        cols[c].strings = calloc(rows + 1, sizeof(char *));
        for (size_t r = 0; r < rows; r++)
            cols[c].numbers[r] = NAN;
        n_cols++;
    }
    for (size_t c = 0; c < n_cols; c++) {
        wcols[c].name = cols[c].name;
        wcols[c].numbers = cols[c].is_text ? NULL : cols[c].numbers;
        wcols[c].strings = cols[c].is_text ? (const char *const *)cols[c].strings : NULL;
    }
    size_t outs = weir_model_outputs(model);
    outputs = calloc(rows * outs + 1, sizeof(float));
    scores = calloc(rows + 1, sizeof(double));
    classes = calloc(rows + 1, sizeof(int));
    reasons = calloc(rows + 1, sizeof(int));
    bad = calloc(rows + 1, sizeof(size_t));
    if (repeat > 0) {
        /* One row per call, as a device scores what just happened. */
        weir_column_t one[MAX_FIELDS];
        double t0 = now_s();
        for (long r = 0; r < repeat; r++) {
            size_t row = (size_t)r % rows;
            for (size_t c = 0; c < n_cols; c++) {
                one[c] = wcols[c];
                if (one[c].numbers)
                    one[c].numbers += row;
                if (one[c].strings)
                    one[c].strings += row;
            }
            if (weir_engine_score_columns(model, one, n_cols, 1, outputs, scores, classes, reasons,
                                          bad, err, sizeof(err)) != 0) {
                fprintf(stderr, "score_rows: %s\n", err);
                goto out;
            }
        }
        double one_s = now_s() - t0;
        t0 = now_s();
        if (weir_engine_score_columns(model, wcols, n_cols, rows, outputs, scores, classes, reasons,
                                      bad, err, sizeof(err)) != 0) {
            fprintf(stderr, "score_rows: %s\n", err);
            goto out;
        }
        double all_s = now_s() - t0;
        printf("one row per call: %.0f ns/row; %zu rows in one call: %.0f ns/row\n",
               one_s / (double)repeat * 1e9, rows, all_s / (double)rows * 1e9);
        code = 0;
        goto out;
    }
    if (weir_engine_score_columns(model, wcols, n_cols, rows, outputs, scores, classes, reasons,
                                  bad, err, sizeof(err)) != 0) {
        fprintf(stderr, "score_rows: %s\n", err);
        goto out;
    }
    printf("score,label\n");
    for (size_t r = 0; r < rows; r++) {
        if (reasons[r] != WEIR_REASON_NONE)
            printf(",%s: %s\n", weir_reason_name((weir_reason_t)reasons[r]),
                   weir_model_feature(model, bad[r])->name);
        else
            printf("%.9g,%s\n", scores[r],
                   classes[r] >= 0 ? weir_model_class(model, (size_t)classes[r]) : "");
    }
    code = 0;
out:
    for (size_t c = 0; c < n_cols; c++) {
        for (size_t r = 0; r < rows; r++)
            free(cols[c].strings[r]);
        free(cols[c].name);
        free(cols[c].numbers);
        free(cols[c].strings);
    }
    free(outputs);
    free(scores);
    free(classes);
    free(reasons);
    free(bad);
    weir_model_destroy(model);
    return code;
}
