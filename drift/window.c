/*
 * window.c — the incremental per-feature windows: what a numeric or
 * categorical series holds so that every test on the current window is exact
 * and costs nothing proportional to the window's size per event.
 *
 * Numeric (see weir_numeric_window_t): the reference ECDF F_r is a step
 * function that is constant between consecutive distinct reference values,
 * so on [u_j, u_j+1) the difference F_w - F_r only moves with F_w, which only
 * rises. Hence:
 *
 *  - KS: sup |F_w - F_r| is reached at a reference point u_j (with the window
 *    values <= u_j counted) or just before u_j+1, i.e. at the last window
 *    value inside the interval, where F_w counts everything up to the end of
 *    the interval. One pass over the 2M+1 slot counts visits exactly the pairs
 *    (window count, reference count) that scipy's ks_2samp evaluates at its
 *    data points, less the dominated ones, with the same divisions: the
 *    statistic is bit-equal.
 *  - Wasserstein-1 = ∫ |F_w - F_r|: on an interval where F_w - F_r keeps its
 *    sign, the integral of the difference is its count and the sum of its
 *    values' distances to the interval's end, both kept per interval. Where
 *    it changes sign (F_w crosses the reference level c inside the
 *    interval), the crossing is at the k-th smallest window value of that
 *    interval, k the smallest count that lifts F_w to c; the evaluation
 *    walks that interval's list, selects the k-th value (quickselect) and
 *    integrates both sides exactly. Crossing intervals are few (a random walk
 *    crosses a level O(√n) times), so an evaluation costs O(M + values in
 *    crossing intervals) and the result is exact, not approximated.
 *  - PSI, JS: counts per reference quantile bin.
 *
 * Categorical: a count per reference category (kept by decreasing reference
 * proportion) plus one for unseen categories; cells are pooled at evaluation.
 */
#include "drift_int.h"

#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Number of elements of the ascending array a[0..n) strictly less than v. */
static size_t lower_bound(const double *a, size_t n, double v)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (a[mid] < v)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Number of elements of the ascending array a[0..n) less than or equal to v. */
static size_t upper_bound(const double *a, size_t n, double v)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (a[mid] <= v)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* ---- numeric ------------------------------------------------------------ */

/* Buckets of the guide table at most (16 KB a series). */
#define GUIDE_MAX_BUCKETS 4096

/* A double's bits as an unsigned key in the same order as the numbers (-0
 * taken as +0, so that equal numbers have equal keys). */
static inline uint64_t key_of(double v)
{
    uint64_t u;
    if (v == 0.0)
        v = 0.0;
    memcpy(&u, &v, sizeof(u));
    return u >> 63 ? ~u : u | (UINT64_C(1) << 63);
}

/* Builds the guide of w->values[0..distinct): guide[b] counts the reference
 * values whose key is below bucket b's first key. */
static int build_guide(weir_numeric_window_t *w)
{
    size_t m = w->distinct, buckets = 2;
    while (buckets < 2 * m && buckets < GUIDE_MAX_BUCKETS)
        buckets <<= 1;
    uint64_t lo = key_of(w->values[0]), span = key_of(w->values[m - 1]) - lo;
    unsigned shift = 0;
    while (shift < 64 && (span >> shift) >= buckets)
        shift++;
    w->guide = malloc((buckets + 1) * sizeof(uint32_t));
    if (!w->guide)
        return WEIR_ENOMEM;
    w->guide_min = lo;
    w->guide_shift = shift;
    w->guide_buckets = buckets;
    size_t j = 0;
    for (size_t b = 0; b <= buckets; b++) {
        /* keys below lo + (b << shift), which may pass the largest key */
        uint64_t offset = shift < 64 ? (uint64_t)b << shift : UINT64_MAX;
        if (b > 0 && (offset >> shift) != b)
            offset = UINT64_MAX;
        while (j < m && key_of(w->values[j]) - lo < offset)
            j++;
        w->guide[b] = (uint32_t)j;
    }
    return 0;
}

/* lower_bound(w->values, w->distinct, v) through the guide. */
static inline size_t values_below(const weir_numeric_window_t *w, double v)
{
    uint64_t k = key_of(v);
    if (k <= w->guide_min)
        return 0;
    uint64_t b = (k - w->guide_min) >> w->guide_shift;
    if (b >= w->guide_buckets)
        return w->distinct;
    size_t lo = w->guide[b], hi = w->guide[b + 1];
    return lo + lower_bound(w->values + lo, hi - lo, v);
}

/* numpy.quantile's default (linear) on a sorted sample. */
static double quantile(const double *x, size_t n, double q)
{
    double h = (double)(n - 1) * q;
    size_t lo = (size_t)floor(h);
    if (lo + 1 >= n)
        return x[n - 1];
    return x[lo] + (h - (double)lo) * (x[lo + 1] - x[lo]);
}

/* Decile bins of the reference sample, for a bundle that has a sample but no bins. */
static int derive_bins(weir_numeric_window_t *w, const weir_reference_t *ref)
{
    double edges[9];
    size_t ne = 0;
    for (int i = 1; i <= 9; i++) {
        double e = quantile(ref->sample, ref->sample_len, i / 10.0);
        if (ne == 0 || e > edges[ne - 1])
            edges[ne++] = e;
    }
    w->bins = ne + 1;
    w->edges = malloc(ne * sizeof(double) + 1);
    w->bin_ref = calloc(w->bins, sizeof(double));
    if (!w->edges || !w->bin_ref)
        return WEIR_ENOMEM;
    memcpy(w->edges, edges, ne * sizeof(double));
    for (size_t i = 0; i < ref->sample_len; i++)
        w->bin_ref[lower_bound(w->edges, ne, ref->sample[i])] += 1.0;
    for (size_t b = 0; b < w->bins; b++)
        w->bin_ref[b] /= (double)ref->sample_len;
    return 0;
}

static double scale_of(const weir_reference_t *ref)
{
    if (isfinite(ref->std) && ref->std > 0.0)
        return ref->std;
    if (ref->sample_len > 1) {
        double mean = 0.0, ss = 0.0;
        for (size_t i = 0; i < ref->sample_len; i++)
            mean += ref->sample[i];
        mean /= (double)ref->sample_len;
        for (size_t i = 0; i < ref->sample_len; i++)
            ss += (ref->sample[i] - mean) * (ref->sample[i] - mean);
        double sd = sqrt(ss / (double)ref->sample_len);
        if (sd > 0.0)
            return sd;
    }
    return 1.0;
}

int weir_numeric_window_init(weir_numeric_window_t *w, const weir_reference_t *ref,
                             uint64_t capacity, int ks, int wasserstein, int binned)
{
    int rc = WEIR_EINVAL;
    memset(w, 0, sizeof(*w));
    w->capacity = capacity;
    w->want_slots = (ks || wasserstein) && ref->sample_len > 0;
    w->want_lists = wasserstein && ref->sample_len > 0;
    w->want_bins = binned && (ref->bin_count > 0 || ref->sample_len > 0);
    if ((!w->want_slots && !w->want_bins) || capacity == 0 || capacity >= WEIR_NONE)
        goto out;
    w->sample_size = ref->sample_len;
    w->reference_n = ref->n ? ref->n : ref->sample_len;
    w->scale = scale_of(ref);

    rc = WEIR_ENOMEM;
    w->value = malloc(capacity * sizeof(double));
    w->slot = malloc(capacity * sizeof(uint32_t));
    if (!w->value || !w->slot)
        goto out;
    for (uint64_t i = 0; i < capacity; i++)
        w->slot[i] = WEIR_NONE;

    if (w->want_slots) {
        size_t m = 0;
        w->values = malloc(ref->sample_len * sizeof(double));
        w->cum = malloc(ref->sample_len * sizeof(uint32_t));
        if (!w->values || !w->cum)
            goto out;
        for (size_t i = 0; i < ref->sample_len; i++) {
            if (m == 0 || ref->sample[i] != w->values[m - 1])
                w->values[m++] = ref->sample[i];
            w->cum[m - 1] = (uint32_t)(i + 1);
        }
        w->distinct = m;
        w->slot_count = calloc(2 * m + 1, sizeof(uint32_t));
        if (!w->slot_count || build_guide(w) != 0)
            goto out;
    }
    if (w->want_lists) {
        size_t intervals = w->distinct + 1;
        w->gap = calloc(intervals, sizeof(weir_ksum_t));
        w->head = malloc(intervals * sizeof(uint32_t));
        w->tail = malloc(intervals * sizeof(uint32_t));
        w->next = malloc(capacity * sizeof(uint32_t));
        w->scratch = malloc(capacity * sizeof(double));
        if (!w->gap || !w->head || !w->tail || !w->next || !w->scratch)
            goto out;
        for (size_t j = 0; j < intervals; j++)
            w->head[j] = w->tail[j] = WEIR_NONE;
    }
    if (w->want_bins) {
        if (ref->bin_count > 0) {
            w->bins = ref->bin_count;
            w->edges = malloc((w->bins - 1) * sizeof(double) + 1);
            w->bin_ref = malloc(w->bins * sizeof(double));
            if (!w->edges || !w->bin_ref)
                goto out;
            memcpy(w->edges, ref->edges, (w->bins - 1) * sizeof(double));
            memcpy(w->bin_ref, ref->bin_proportions, w->bins * sizeof(double));
        } else if (derive_bins(w, ref) != 0) {
            goto out;
        }
        w->bin_count = calloc(w->bins, sizeof(uint32_t));
        if (!w->bin_count)
            goto out;
        /* a value's bin from its slot, saving the second binary search per event */
        if (w->want_slots) {
            size_t slots = 2 * w->distinct + 1, ne = w->bins - 1;
            w->slot_bin = malloc(slots * sizeof(uint32_t));
            if (!w->slot_bin)
                goto out;
            for (size_t sl = 0; sl < slots; sl++) {
                if (sl & 1) {
                    w->slot_bin[sl] = (uint32_t)lower_bound(w->edges, ne, w->values[sl / 2]);
                    continue;
                }
                size_t j = sl / 2; /* the open interval (u_j, u_j+1), 1-based */
                size_t le_lo = j > 0 ? upper_bound(w->edges, ne, w->values[j - 1]) : 0;
                size_t lt_hi = j < w->distinct ? lower_bound(w->edges, ne, w->values[j]) : ne;
                w->slot_bin[sl] = le_lo == lt_hi ? (uint32_t)le_lo : WEIR_NONE;
            }
        }
    }
    rc = 0;
out:
    if (rc != 0)
        weir_numeric_window_dispose(w);
    return rc;
}

void weir_numeric_window_dispose(weir_numeric_window_t *w)
{
    free(w->values);
    free(w->cum);
    free(w->edges);
    free(w->bin_ref);
    free(w->slot_count);
    free(w->gap);
    free(w->head);
    free(w->tail);
    free(w->bin_count);
    free(w->slot_bin);
    free(w->guide);
    free(w->value);
    free(w->slot);
    free(w->next);
    free(w->scratch);
    memset(w, 0, sizeof(*w));
}

/* The bin of v, whose slot is @p slot (meaningful only with slots). */
static size_t bin_of(const weir_numeric_window_t *w, uint32_t slot, double v)
{
    if (w->slot_bin && w->slot_bin[slot] != WEIR_NONE)
        return w->slot_bin[slot];
    return lower_bound(w->edges, w->bins - 1, v);
}

/* A value's distance to the end of its interval j that the gap sum keeps:
 * to u_1 below it, from u_M above it, else to the interval's upper end. */
static double gap_of(const weir_numeric_window_t *w, size_t j, double v)
{
    if (j == w->distinct)
        return v - w->values[w->distinct - 1];
    return w->values[j] - v;
}

void weir_numeric_window_push(weir_numeric_window_t *w, uint32_t pos, double v)
{
    uint32_t slot = 0;
    if (w->want_slots) {
        size_t lo = values_below(w, v);
        slot = (uint32_t)(lo < w->distinct && w->values[lo] == v ? 2 * lo + 1 : 2 * lo);
        w->slot_count[slot]++;
        if (w->want_lists && !(slot & 1)) {
            size_t j = slot / 2;
            weir_ksum_add(&w->gap[j], gap_of(w, j, v));
            w->next[pos] = WEIR_NONE;
            if (w->tail[j] == WEIR_NONE)
                w->head[j] = pos;
            else
                w->next[w->tail[j]] = pos;
            w->tail[j] = pos;
        }
    }
    if (w->want_bins)
        w->bin_count[bin_of(w, slot, v)]++;
    w->value[pos] = v;
    w->slot[pos] = slot;
    w->n++;
}

void weir_numeric_window_evict(weir_numeric_window_t *w, uint32_t pos)
{
    uint32_t slot = w->slot[pos];
    if (slot == WEIR_NONE)
        return;
    double v = w->value[pos];
    if (w->want_slots) {
        w->slot_count[slot]--;
        if (w->want_lists && !(slot & 1)) {
            size_t j = slot / 2;
            /* The window is FIFO, so the oldest value of an interval is its list's head. */
            assert(w->head[j] == pos);
            w->head[j] = w->next[pos];
            if (w->head[j] == WEIR_NONE) {
                w->tail[j] = WEIR_NONE;
                w->gap[j].sum = w->gap[j].error = 0.0;
            } else {
                weir_ksum_add(&w->gap[j], -gap_of(w, j, v));
            }
        }
    }
    if (w->want_bins)
        w->bin_count[bin_of(w, slot, v)]--;
    w->slot[pos] = WEIR_NONE;
    w->n--;
}

double weir_numeric_window_ks(const weir_numeric_window_t *w)
{
    if (!w->want_slots || w->n == 0)
        return NAN;
    double n = (double)w->n, r = (double)w->sample_size, best = 0.0;
    uint64_t below = 0; /* window values in the slots so far */
    size_t slots = 2 * w->distinct + 1;
    for (size_t s = 0; s < slots; s++) {
        below += w->slot_count[s];
        size_t j = (s + 1) / 2;
        uint32_t ref_below = j ? w->cum[j - 1] : 0;
        double diff = fabs((double)below / n - (double)ref_below / r);
        if (diff > best)
            best = diff;
    }
    return best;
}

/* Moves the k-th smallest of a[0..n) (0-based) to a[k], smaller ones before it. */
static void select_kth(double *a, size_t n, size_t k)
{
    size_t lo = 0, hi = n - 1;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        /* median of three as pivot */
        if (a[mid] < a[lo]) {
            double t = a[mid];
            a[mid] = a[lo];
            a[lo] = t;
        }
        if (a[hi] < a[lo]) {
            double t = a[hi];
            a[hi] = a[lo];
            a[lo] = t;
        }
        if (a[hi] < a[mid]) {
            double t = a[hi];
            a[hi] = a[mid];
            a[mid] = t;
        }
        double pivot = a[mid];
        size_t i = lo, j = hi;
        while (i <= j) {
            while (a[i] < pivot)
                i++;
            while (a[j] > pivot)
                j--;
            if (i <= j) {
                double t = a[i];
                a[i] = a[j];
                a[j] = t;
                i++;
                if (j == 0)
                    break;
                j--;
            }
        }
        if (k <= j)
            hi = j;
        else if (k >= i)
            lo = i;
        else
            return;
    }
}

/* ∫ |F_w - c| over [a, b) when F_w crosses the level c inside the open
 * interval j: below is the window count <= a (F_w(a)·n < c·n), and the
 * interval holds cnt values of which the k-th smallest lifts F_w to c. */
static double crossing_integral(weir_numeric_window_t *w, size_t j, uint64_t below,
                                uint64_t ref_below, uint64_t cnt)
{
    double n = (double)w->n, r = (double)w->sample_size;
    double a = w->values[j - 1], b = w->values[j];
    size_t m = 0;
    for (uint32_t p = w->head[j]; p != WEIR_NONE; p = w->next[p])
        w->scratch[m++] = w->value[p];
    assert(m == cnt);
    /* smallest k with (below + k)·R >= ref_below·n */
    uint64_t need = ref_below * w->n - below * w->sample_size;
    uint64_t k = (need + w->sample_size - 1) / w->sample_size;
    select_kth(w->scratch, m, (size_t)(k - 1));
    double x = w->scratch[k - 1];
    double level = (double)below / n - (double)ref_below / r; /* F_w - c at a, < 0 */
    double left_sum = 0.0, right_sum = 0.0;
    for (size_t i = 0; i + 1 < k; i++)
        left_sum += x - w->scratch[i];
    for (size_t i = (size_t)k; i < m; i++)
        right_sum += b - w->scratch[i];
    double left = -(level * (x - a) + left_sum / n);
    double right = level * (b - x) + ((double)k * (b - x) + right_sum) / n;
    return left + right;
}

double weir_numeric_window_wasserstein(weir_numeric_window_t *w)
{
    if (!w->want_lists || w->n == 0)
        return NAN;
    double n = (double)w->n, r = (double)w->sample_size, total = 0.0;
    size_t m = w->distinct;
    uint64_t below = w->slot_count[0];
    total += weir_ksum_value(&w->gap[0]) / n;
    for (size_t j = 1; j <= m; j++) {
        below += w->slot_count[2 * j - 1]; /* now: window values <= u_j */
        uint64_t cnt = w->slot_count[2 * j];
        if (j == m) {
            total += weir_ksum_value(&w->gap[m]) / n;
            break;
        }
        uint64_t ref_below = w->cum[j - 1];
        double len = w->values[j] - w->values[j - 1];
        /* F_w - c over the interval, in exact integers: below·R vs ref_below·n */
        uint64_t lhs = below * w->sample_size, rhs = ref_below * w->n;
        double area =
            ((double)below / n - (double)ref_below / r) * len + weir_ksum_value(&w->gap[j]) / n;
        if (lhs >= rhs)
            total += area;
        else if ((below + cnt) * w->sample_size <= rhs)
            total -= area;
        else
            total += crossing_integral(w, j, below, ref_below, cnt);
        below += cnt;
    }
    return total;
}

void weir_numeric_window_bin_props(const weir_numeric_window_t *w, double *out)
{
    for (size_t b = 0; b < w->bins; b++)
        out[b] = w->n ? (double)w->bin_count[b] / (double)w->n : 0.0;
}

/* ---- categorical -------------------------------------------------------- */

static int build_index(weir_categorical_window_t *w)
{
    size_t slots = 16;
    while (slots < 2 * w->categories)
        slots <<= 1;
    w->index = calloc(slots, sizeof(uint32_t));
    if (!w->index)
        return WEIR_ENOMEM;
    w->mask = slots - 1;
    for (size_t c = 0; c < w->categories; c++) {
        size_t s = weir_hash_fnv1a(w->names + w->name_at[c], w->name_len[c], 0) & w->mask;
        while (w->index[s] != 0)
            s = (s + 1) & w->mask;
        w->index[s] = (uint32_t)(c + 1);
    }
    return 0;
}

/* The proportion of 1s of a boolean reference: its mean (all training rows),
 * else its bins when 0 and 1 fall in different bins, else its sample. */
static double boolean_share(const weir_reference_t *ref)
{
    if (isfinite(ref->mean) && ref->mean >= 0.0 && ref->mean <= 1.0)
        return ref->mean;
    if (ref->bin_count > 0) {
        size_t b0 = lower_bound(ref->edges, ref->bin_count - 1, 0.0);
        size_t b1 = lower_bound(ref->edges, ref->bin_count - 1, 1.0);
        double p0 = ref->bin_proportions[b0], p1 = ref->bin_proportions[b1];
        if (b0 != b1 && p0 + p1 > 0.0)
            return p1 / (p0 + p1);
    }
    if (ref->sample_len > 0) {
        size_t ones = 0;
        for (size_t i = 0; i < ref->sample_len; i++)
            ones += ref->sample[i] != 0.0;
        return (double)ones / (double)ref->sample_len;
    }
    return NAN;
}

int weir_categorical_window_init(weir_categorical_window_t *w, const weir_reference_t *ref,
                                 weir_feature_type_t type, uint64_t capacity)
{
    int rc = WEIR_EINVAL;
    size_t total_len = 0;
    size_t *order = NULL;
    memset(w, 0, sizeof(*w));
    w->capacity = capacity;
    w->boolean = type == WEIR_FEATURE_BOOLEAN;
    w->reference_n = ref->n;
    if (capacity == 0 || capacity >= WEIR_NONE)
        goto out;
    if (w->boolean) {
        double p1 = boolean_share(ref);
        if (isnan(p1))
            goto out;
        w->categories = 2;
        rc = WEIR_ENOMEM;
        w->proportion = malloc(2 * sizeof(double));
        w->names = malloc(4);
        w->name_at = malloc(2 * sizeof(size_t));
        w->name_len = malloc(2 * sizeof(size_t));
        if (!w->proportion || !w->names || !w->name_at || !w->name_len)
            goto out;
        /* the more frequent value first */
        int one_first = p1 > 1.0 - p1;
        w->bool_cat[1] = one_first ? 0 : 1;
        w->bool_cat[0] = one_first ? 1 : 0;
        w->proportion[w->bool_cat[1]] = p1;
        w->proportion[w->bool_cat[0]] = 1.0 - p1;
        memcpy(w->names, one_first ? "1\0000" : "0\0001", 4);
        w->name_at[0] = 0;
        w->name_at[1] = 2;
        w->name_len[0] = w->name_len[1] = 1;
    } else {
        if (ref->category_count == 0)
            goto out;
        w->categories = ref->category_count;
        rc = WEIR_ENOMEM;
        order = malloc(w->categories * sizeof(size_t));
        w->proportion = malloc(w->categories * sizeof(double));
        w->name_at = malloc(w->categories * sizeof(size_t));
        w->name_len = malloc(w->categories * sizeof(size_t));
        if (!order || !w->proportion || !w->name_at || !w->name_len)
            goto out;
        for (size_t c = 0; c < w->categories; c++) {
            order[c] = c;
            total_len += strlen(ref->categories[c]) + 1;
        }
        /* stable insertion by decreasing proportion (bundles usually come sorted) */
        for (size_t i = 1; i < w->categories; i++) {
            size_t v = order[i], k = i;
            while (k > 0 &&
                   ref->category_proportions[order[k - 1]] < ref->category_proportions[v]) {
                order[k] = order[k - 1];
                k--;
            }
            order[k] = v;
        }
        w->names = malloc(total_len);
        if (!w->names)
            goto out;
        size_t at = 0;
        for (size_t c = 0; c < w->categories; c++) {
            const char *name = ref->categories[order[c]];
            size_t len = strlen(name);
            memcpy(w->names + at, name, len + 1);
            w->name_at[c] = at;
            w->name_len[c] = len;
            w->proportion[c] = ref->category_proportions[order[c]];
            at += len + 1;
        }
        if (build_index(w) != 0)
            goto out;
    }
    rc = WEIR_ENOMEM;
    w->count = calloc(w->categories + 1, sizeof(uint32_t));
    w->entry = malloc(capacity * sizeof(uint32_t));
    if (!w->count || !w->entry)
        goto out;
    for (uint64_t i = 0; i < capacity; i++)
        w->entry[i] = WEIR_NONE;
    rc = 0;
out:
    free(order);
    if (rc != 0)
        weir_categorical_window_dispose(w);
    return rc;
}

void weir_categorical_window_dispose(weir_categorical_window_t *w)
{
    free(w->proportion);
    free(w->names);
    free(w->name_at);
    free(w->name_len);
    free(w->index);
    free(w->count);
    free(w->entry);
    memset(w, 0, sizeof(*w));
}

static uint32_t find_name(const weir_categorical_window_t *w, const char *s, size_t len)
{
    size_t slot = weir_hash_fnv1a(s, len, 0) & w->mask;
    while (w->index[slot] != 0) {
        uint32_t c = w->index[slot] - 1;
        if (w->name_len[c] == len && memcmp(w->names + w->name_at[c], s, len) == 0)
            return c;
        slot = (slot + 1) & w->mask;
    }
    return (uint32_t)w->categories; /* unseen */
}

uint32_t weir_categorical_window_lookup(const weir_categorical_window_t *w, const weir_value_t *v)
{
    if (w->boolean) {
        if (v->kind != WEIR_VALUE_NUMBER || !isfinite(v->number))
            return WEIR_NONE;
        return w->bool_cat[v->number != 0.0];
    }
    if (v->kind == WEIR_VALUE_STRING)
        return find_name(w, v->string, v->length);
    if (v->kind == WEIR_VALUE_NUMBER && isfinite(v->number)) {
        /* the bundle's rule for a number given to a categorical feature */
        char text[32];
        int len;
        if (v->number == trunc(v->number) && fabs(v->number) < 0x1p63)
            len = snprintf(text, sizeof(text), "%lld", (long long)v->number);
        else
            len = snprintf(text, sizeof(text), "%.17g", v->number);
        return find_name(w, text, (size_t)len);
    }
    return WEIR_NONE;
}

void weir_categorical_window_push(weir_categorical_window_t *w, uint32_t pos, uint32_t category)
{
    w->entry[pos] = category;
    w->count[category]++;
    w->n++;
}

void weir_categorical_window_evict(weir_categorical_window_t *w, uint32_t pos)
{
    uint32_t c = w->entry[pos];
    if (c == WEIR_NONE)
        return;
    w->count[c]--;
    w->entry[pos] = WEIR_NONE;
    w->n--;
}

void weir_categorical_window_cells(const weir_categorical_window_t *w, double min_expected,
                                   uint32_t max_cells, weir_cells_t *out)
{
    weir_categorical_window_cells_at(w, w->n, min_expected, max_cells, out);
}

void weir_categorical_window_cells_at(const weir_categorical_window_t *w, uint64_t n_values,
                                      double min_expected, uint32_t max_cells, weir_cells_t *out)
{
    double n = (double)n_values;
    size_t own = 0;
    while (own < w->categories && own + 1 < max_cells && w->proportion[own] * n >= min_expected)
        own++;
    double seen = 0.0, pooled = 0.0;
    for (size_t c = 0; c < own; c++) {
        out->observed[c] = (double)w->count[c];
        out->expected[c] = w->proportion[c];
        seen += (double)w->count[c];
    }
    for (size_t c = own; c < w->categories; c++)
        pooled += w->proportion[c];
    double other = (double)w->n - seen;
    out->cells = own;
    if (pooled > 0.0 || other > 0.0) {
        /* half a reference row, so that an unseen category has a finite cost */
        double floor_p = w->reference_n > 0 ? 0.5 / (double)w->reference_n : 1e-6;
        out->observed[own] = other;
        out->expected[own] = pooled > floor_p ? pooled : floor_p;
        out->cells = own + 1;
    }
    double sum = 0.0;
    for (size_t c = 0; c < out->cells; c++)
        sum += out->expected[c];
    for (size_t c = 0; c < out->cells; c++)
        out->expected[c] /= sum;
}
