/*
 * real_data.c — see real_data.h. Shared by tests/drift/test_false_alarms.c
 * and bench/drift_real.c, so that the CI bound and the benchmark's table
 * come from the same code.
 */
#include "real_data.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "prom.h"

#define LINE_MAX_BYTES 65536

/* LAPACK's symmetric eigensolver, from OpenBLAS (no LAPACKE header needed). */
extern void dsyev_(const char *jobz, const char *uplo, const int *n, double *a, const int *lda,
                   double *w, double *work, const int *lwork, int *info);

static uint64_t next(uint64_t *s)
{
    uint64_t z = (*s += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

void real_shuffle(size_t *idx, size_t n, uint64_t seed)
{
    for (size_t i = 0; i < n; i++)
        idx[i] = i;
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)(next(&seed) % i), t = idx[i - 1];
        idx[i - 1] = idx[j];
        idx[j] = t;
    }
}

int real_table_load(const char *path, real_table_t *t)
{
    FILE *f = fopen(path, "r");
    char *line = malloc(LINE_MAX_BYTES);
    size_t cap = 0;
    memset(t, 0, sizeof(*t));
    if (!f || !line) {
        fprintf(stderr, "%s: cannot read\n", path);
        free(line);
        if (f)
            fclose(f);
        return -1;
    }
    while (fgets(line, LINE_MAX_BYTES, f)) {
        line[strcspn(line, "\r\n")] = '\0';
        if (line[0] == '#' || line[0] == '\0')
            continue;
        if (!t->names) { /* the header: name:type,... */
            for (char *p = line; p; p = strchr(p, ','), p = p ? p + 1 : p)
                t->cols++;
            t->names = calloc(t->cols, sizeof(char *));
            t->categorical = calloc(t->cols, sizeof(int));
            char *save = NULL, *tok = strtok_r(line, ",", &save);
            for (size_t c = 0; tok && c < t->cols; c++, tok = strtok_r(NULL, ",", &save)) {
                char *colon = strchr(tok, ':');
                t->categorical[c] = colon && !strcmp(colon + 1, "categorical");
                if (colon)
                    *colon = '\0';
                t->names[c] = strdup(tok);
            }
            continue;
        }
        if (t->rows == cap) {
            cap = cap ? cap * 2 : 1024;
            t->num = realloc(t->num, cap * t->cols * sizeof(double));
            t->cat = realloc(t->cat, cap * t->cols * sizeof(char *));
        }
        char *p = line;
        for (size_t c = 0; c < t->cols; c++) {
            char *end = strchr(p, ',');
            if (end)
                *end = '\0';
            size_t at = t->rows * t->cols + c;
            t->num[at] = NAN;
            t->cat[at] = NULL;
            if (*p && t->categorical[c])
                t->cat[at] = strdup(p);
            else if (*p)
                t->num[at] = strtod(p, NULL);
            p = end ? end + 1 : p + strlen(p);
        }
        t->rows++;
    }
    fclose(f);
    free(line);
    return t->rows > 0 ? 0 : -1;
}

void real_table_free(real_table_t *t)
{
    for (size_t i = 0; t->cat && i < t->rows * t->cols; i++)
        free(t->cat[i]);
    for (size_t c = 0; t->names && c < t->cols; c++)
        free(t->names[c]);
    free(t->names);
    free(t->categorical);
    free(t->num);
    free(t->cat);
    memset(t, 0, sizeof(*t));
}

void real_table_values(const real_table_t *t, size_t row, weir_value_t *out)
{
    for (size_t c = 0; c < t->cols; c++) {
        size_t at = row * t->cols + c;
        out[c].kind = WEIR_VALUE_MISSING;
        if (t->categorical[c] && t->cat[at]) {
            out[c].kind = WEIR_VALUE_STRING;
            out[c].string = t->cat[at];
            out[c].length = strlen(t->cat[at]);
        } else if (!t->categorical[c] && !isnan(t->num[at])) {
            out[c].kind = WEIR_VALUE_NUMBER;
            out[c].number = t->num[at];
        }
    }
}

static int compare_strings(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The PCA of the numeric columns over the given rows: components (k x d)
 * from the eigenvectors of the correlation matrix; @returns k (0: none). */
static size_t fit_pca(const real_table_t *t, const size_t *cols, size_t d, const size_t *rows,
                      size_t r, const double *center, const double *scale, double *w)
{
    int n = (int)d, lwork = (int)(64 * d), info = 0;
    double *a = calloc(d * d, sizeof(double)), *ev = malloc(d * sizeof(double));
    double *work = malloc((size_t)lwork * sizeof(double)), *z = malloc(d * sizeof(double));
    size_t k = 0;
    for (size_t i = 0; i < r; i++) {
        for (size_t j = 0; j < d; j++) {
            double v = t->num[rows[i] * t->cols + cols[j]];
            z[j] = isnan(v) ? 0.0 : (v - center[j]) / scale[j];
        }
        for (size_t p = 0; p < d; p++)
            for (size_t q = 0; q < d; q++)
                a[p * d + q] += z[p] * z[q] / (double)r;
    }
    dsyev_("V", "U", &n, a, &n, ev, work, &lwork, &info);
    if (info == 0) {
        double total = 0.0, kept = 0.0;
        for (size_t j = 0; j < d; j++)
            total += ev[j] > 0 ? ev[j] : 0;
        /* eigenvalues ascending: take from the top until 65% of the variance */
        for (size_t j = d; j-- > 0 && k + 1 < d && kept < 0.65 * total;) {
            kept += ev[j];
            for (size_t q = 0; q < d; q++)
                w[k * d + q] = a[j * d + q]; /* column j of a column-major matrix */
            k++;
        }
    }
    free(a);
    free(ev);
    free(work);
    free(z);
    return k;
}

static double pca_error(const real_table_t *t, const size_t *cols, size_t d, size_t row,
                        const double *center, const double *scale, const double *w, size_t k)
{
    double norm2 = 0.0, kept = 0.0, z[256];
    for (size_t j = 0; j < d; j++) {
        double v = t->num[row * t->cols + cols[j]];
        z[j] = isnan(v) ? 0.0 : (v - center[j]) / scale[j];
        norm2 += z[j] * z[j];
    }
    for (size_t c = 0; c < k; c++) {
        double y = 0.0;
        for (size_t j = 0; j < d; j++)
            y += w[c * d + j] * z[j];
        kept += y * y;
    }
    return norm2 > kept ? sqrt(norm2 - kept) : 0.0;
}

static void add_pca(weir_buf_t *b, const real_table_t *t, const size_t *rows, size_t r)
{
    size_t cols[256], d = 0;
    double center[256], scale[256];
    for (size_t c = 0; c < t->cols && d < 256; c++) {
        if (t->categorical[c])
            continue;
        double sum = 0, ss = 0;
        size_t n = 0;
        for (size_t i = 0; i < r; i++) {
            double v = t->num[rows[i] * t->cols + c];
            if (!isnan(v)) {
                sum += v;
                n++;
            }
        }
        if (n < 2)
            continue;
        double mean = sum / (double)n;
        for (size_t i = 0; i < r; i++) {
            double v = t->num[rows[i] * t->cols + c];
            if (!isnan(v))
                ss += (v - mean) * (v - mean);
        }
        double sd = sqrt(ss / (double)n);
        if (!(sd > 0))
            continue;
        cols[d] = c;
        center[d] = mean;
        scale[d++] = sd;
    }
    if (d < 3)
        return;
    double *w = malloc(d * d * sizeof(double)), *wf = malloc(d * d * sizeof(double));
    size_t k = fit_pca(t, cols, d, rows, r, center, scale, w);
    /* the error on rows the components were not fitted on: two folds */
    double sum = 0, ss = 0;
    size_t half = r / 2, used = 0;
    for (int fold = 0; fold < 2 && k > 0; fold++) {
        const size_t *fit_rows = fold ? rows + half : rows, *test_rows = fold ? rows : rows + half;
        size_t nf = fold ? r - half : half, nt = fold ? half : r - half;
        size_t kf = fit_pca(t, cols, d, fit_rows, nf, center, scale, wf);
        for (size_t i = 0; i < nt && kf; i++) {
            double e = pca_error(t, cols, d, test_rows[i], center, scale, wf, kf < k ? kf : k);
            sum += e;
            ss += e * e;
            used++;
        }
    }
    if (k > 0 && used > 2) {
        double mean = sum / (double)used, sd = sqrt((ss - sum * mean) / (double)(used - 1));
        weir_buf_printf(b, ",'pca':{'features':[");
        for (size_t j = 0; j < d; j++)
            weir_buf_printf(b, "%s'%s'", j ? "," : "", t->names[cols[j]]);
        weir_buf_printf(b, "],'center':[");
        for (size_t j = 0; j < d; j++)
            weir_buf_printf(b, "%s%.17g", j ? "," : "", center[j]);
        weir_buf_printf(b, "],'scale':[");
        for (size_t j = 0; j < d; j++)
            weir_buf_printf(b, "%s%.17g", j ? "," : "", scale[j]);
        weir_buf_printf(b, "],'components':[");
        for (size_t c = 0; c < k; c++) {
            weir_buf_printf(b, "%s[", c ? "," : "");
            for (size_t j = 0; j < d; j++)
                weir_buf_printf(b, "%s%.17g", j ? "," : "", w[c * d + j]);
            weir_buf_printf(b, "]");
        }
        weir_buf_printf(b, "],'error':{'n':%zu,'mean':%.17g,'std':%.17g}}", used, mean, sd);
    }
    free(w);
    free(wf);
}

weir_model_t *real_table_bundle(const real_table_t *t, const size_t *rows, size_t r, int pca)
{
    weir_buf_t b;
    weir_buf_init(&b, (size_t)64 << 20);
    weir_buf_printf(&b, "{'format':'weir.model/1','name':'real','version':'1','task':'binary',"
                        "'features':[");
    size_t width = 0;
    for (size_t c = 0; c < t->cols; c++) {
        weir_buf_printf(&b, "%s{'name':'%s','source':'%s','type':'%s','transform':[%s]}",
                        c ? "," : "", t->names[c], t->names[c],
                        t->categorical[c] ? "categorical" : "numeric",
                        t->categorical[c] ? "{'op':'hash','buckets':2,'seed':0}" : "");
        width += t->categorical[c] ? 2 : 1;
    }
    weir_buf_printf(&b, "],'model':{'kind':'logistic','weights':[");
    for (size_t i = 0; i < width; i++)
        weir_buf_printf(&b, "%s0", i ? "," : "");
    weir_buf_printf(&b, "],'bias':0},'reference':{'features':{");
    char **strings = malloc(r * sizeof(char *));
    int first = 1;
    for (size_t c = 0; c < t->cols; c++) {
        size_t present = 0;
        if (t->categorical[c]) {
            for (size_t i = 0; i < r; i++)
                if (t->cat[rows[i] * t->cols + c])
                    strings[present++] = t->cat[rows[i] * t->cols + c];
            if (!present)
                continue;
            qsort(strings, present, sizeof(char *), compare_strings);
            weir_buf_printf(&b, "%s'%s':{'n':%zu,'missing_rate':%.17g,'categories':{",
                            first ? "" : ",", t->names[c], r, 1.0 - (double)present / (double)r);
            for (size_t i = 0; i < present;) {
                size_t j = i;
                while (j < present && !strcmp(strings[j], strings[i]))
                    j++;
                weir_buf_printf(&b, "%s'%s':%.17g", i ? "," : "", strings[i],
                                (double)(j - i) / (double)present);
                i = j;
            }
            weir_buf_printf(&b, "}}");
        } else {
            for (size_t i = 0; i < r; i++)
                present += !isnan(t->num[rows[i] * t->cols + c]);
            if (!present)
                continue;
            weir_buf_printf(&b, "%s'%s':{'n':%zu,'missing_rate':%.17g,'sample':[", first ? "" : ",",
                            t->names[c], r, 1.0 - (double)present / (double)r);
            int f = 1;
            for (size_t i = 0; i < r; i++) {
                double v = t->num[rows[i] * t->cols + c];
                if (!isnan(v)) {
                    weir_buf_printf(&b, "%s%.17g", f ? "" : ",", v);
                    f = 0;
                }
            }
            weir_buf_printf(&b, "]}");
        }
        first = 0;
    }
    free(strings);
    weir_buf_printf(&b, "}");
    if (pca)
        add_pca(&b, t, rows, r);
    weir_buf_printf(&b, "}}");
    for (size_t i = 0; i < b.len; i++)
        if (b.data[i] == '\'')
            b.data[i] = '"';
    char err[512];
    weir_model_t *m = NULL;
    if (weir_model_parse((const char *)b.data, b.len, "<real>", &m, err, sizeof(err)) != 0)
        fprintf(stderr, "real_table_bundle: %s\n", err);
    weir_buf_dispose(&b);
    return m;
}

double real_column_std(const real_table_t *t, size_t c, const size_t *rows, size_t n)
{
    double sum = 0, ss = 0;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        double v = t->num[rows[i] * t->cols + c];
        if (!isnan(v)) {
            sum += v;
            ss += v * v;
            k++;
        }
    }
    return k > 1 ? sqrt((ss - sum * sum / (double)k) / (double)(k - 1)) : 0.0;
}

void real_window(weir_drift_t *d, const real_table_t *t, const size_t *rows, size_t n,
                 const double *shift, weir_value_t *scratch, real_verdict_t *out)
{
    const weir_drift_change_t *changes;
    size_t n_changes;
    memset(out, 0, sizeof(*out));
    for (size_t i = 0; i < n; i++) {
        real_table_values(t, rows[i], scratch);
        for (size_t c = 0; shift && c < t->cols; c++)
            if (scratch[c].kind == WEIR_VALUE_NUMBER)
                scratch[c].number += shift[c];
        weir_drift_observe(d, scratch, NAN, (int64_t)i);
    }
    weir_drift_evaluate(d, (int64_t)n, &changes, &n_changes);
    /* a feature's keys are consecutive; with k_fail 1, consecutive_fails > 0
       means it failed at this evaluation (the same in every version) */
    const char *current = NULL;
    int evaluated = 0, drifted = 0;
    for (size_t i = 0; i <= weir_drift_stat_count(d); i++) {
        const weir_drift_stat_t *s = weir_drift_stat(d, i);
        const char *feature = s ? s->feature : NULL;
        if (current && (!feature || strcmp(feature, current) != 0)) {
            out->features += evaluated;
            out->drifted += drifted;
            evaluated = drifted = 0;
        }
        current = feature;
        if (!s)
            break;
        int failed = s->consecutive_fails > 0;
        if (!s->feature) {
#ifndef REAL_DATA_BEFORE /* built against the library before the pca test, for the table */
            if (failed && s->test == WEIR_DRIFT_PCA)
                out->pca = 1;
#endif
            continue; /* the score, the feature set's keys */
        }
        evaluated |= s->evaluated;
        drifted |= failed;
        if (failed) {
            out->any = 1;
            out->failing_tests |= WEIR_DRIFT_BIT(s->test);
        }
    }
    out->dataset = out->features > 0 && (double)out->drifted >= 0.5 * (double)out->features;
}
