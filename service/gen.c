/*
 * gen.c — `weir gen`: the example event source.
 *
 * Card transactions follow a small generative story: a pool of cards, each
 * with a home country, a spending level and an account age; each event picks a
 * card and is legitimate or (with probability --fraud-rate) fraud. Fraud before
 * --concept-change-at looks like card-not-present spending: online, foreign,
 * at night, large amounts, risky IPs, bursts. After it, fraud moves to small,
 * card-present, daytime purchases at home with a maxed-out balance — what a
 * model trained on the first pattern misses, so its errors change (concept
 * drift) while the inputs barely move. --shift scales a numeric field or
 * pushes half of a categorical field to one value from an index on
 * (covariate shift), drawing from a separate random stream so that the rest
 * of the stream is the same event for event. Fraud after the concept change
 * also draws from a stream of its own, while the main stream moves on as if
 * the event had followed the old pattern, so that every other event (and
 * which events are fraud) stays what it is without the change.
 *
 * Everything derives from --seed through xoshiro256**, and event times from
 * --start-time, so the same arguments give the same events (the same record
 * values on a topic and the same records in a file, whose container sync
 * marker alone is random).
 */
#include "gen.h"
#include "bridge.h"
#include "cli.h"
#include "common.h"
#include "clock.h"
#include "config.h"
#include "log.h"
#include "schema_ids.h"
#include "schemas.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CARDS 20000
#define MERCHANTS 5000
#define MAX_SHIFTS 32
#define MAX_LABEL_DELAY UINT64_C(1000000000)
#define DEFAULT_START_MS INT64_C(1767225600000) /* 2026-01-01T00:00:00Z */

/* ---- randomness ---------------------------------------------------- */

typedef struct {
    uint64_t s[4];
} rng_t;

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

static void rng_seed(rng_t *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&seed);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static uint64_t rng_next(rng_t *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

static double uniform(rng_t *r) /* [0, 1) */
{
    return (double)(rng_next(r) >> 11) * 0x1.0p-53;
}

static double normal(rng_t *r, double mean, double sd)
{
    double u1 = uniform(r), u2 = uniform(r);
    return mean + sd * sqrt(-2.0 * log(1.0 - u1)) * cos(2.0 * M_PI * u2);
}

static double expo(rng_t *r, double mean)
{
    return -mean * log(1.0 - uniform(r));
}

static int poisson(rng_t *r, double lambda)
{
    double l = exp(-lambda), p = 1.0;
    int k = 0;
    do {
        k++;
        p *= uniform(r);
    } while (p > l && k < 100);
    return k - 1;
}

static int bernoulli(rng_t *r, double p)
{
    return uniform(r) < p;
}

static size_t pick(rng_t *r, const double *weights, size_t n)
{
    double total = 0, u;
    for (size_t i = 0; i < n; i++)
        total += weights[i];
    u = uniform(r) * total;
    for (size_t i = 0; i < n; i++) {
        if (u < weights[i])
            return i;
        u -= weights[i];
    }
    return n - 1;
}

static double clampd(double v, double lo, double hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* ---- the domain ---------------------------------------------------- */

static const char *countries[] = {"US", "GB", "DE", "FR", "CA", "NL", "ES",
                                  "IT", "BR", "IN", "MX", "NG", "RU", "CN"};
static const double country_w[] = {0.55, 0.10, 0.08, 0.07, 0.06, 0.04, 0.04,
                                   0.03, 0.02, 0.01, 0.0,  0.0,  0.0,  0.0};
static const double foreign_w[] = {0.2,  0.1,  0.1,  0.1,  0.05, 0.05, 0.05,
                                   0.05, 0.05, 0.05, 0.05, 0.05, 0.05, 0.05};
#define NCOUNTRIES (sizeof(countries) / sizeof(countries[0]))

static const char *categories[] = {"grocery",   "restaurant",  "gas",           "online_retail",
                                   "travel",    "electronics", "entertainment", "health",
                                   "utilities", "jewelry",     "clothing"};
static const double legit_cat_w[] = {0.22, 0.15, 0.10, 0.15, 0.04, 0.05,
                                     0.07, 0.06, 0.08, 0.01, 0.07};
static const double fraud_a_cat_w[] = {0.03, 0.03, 0.02, 0.25, 0.15, 0.25,
                                       0.05, 0.01, 0.01, 0.15, 0.05};
static const double fraud_b_cat_w[] = {0.40, 0.25, 0.25, 0.02, 0.0, 0.0,
                                       0.03, 0.02, 0.0,  0.0,  0.03};
static const double cat_amount[] = {0.8, 1.0, 0.7, 1.2, 4.0, 3.0, 1.0, 1.3, 1.5, 6.0, 1.4};
#define NCATEGORIES (sizeof(categories) / sizeof(categories[0]))

enum { CH_POS = 0, CH_ONLINE, CH_ATM, CH_MOTO };
static const char *channels[] = {"pos", "online", "atm", "moto"};
static const double legit_ch_w[] = {0.62, 0.30, 0.05, 0.03};
static const double fraud_a_ch_w[] = {0.15, 0.60, 0.10, 0.15};
static const double fraud_b_ch_w[] = {0.95, 0.03, 0.02, 0.0};

typedef struct {
    int home;
    double spend; /* typical amount */
    int age;      /* -1: unknown */
    int account_age_days;
    double credit_limit;
    double utilization;
} card_t;

typedef struct {
    char event_id[40];
    int64_t event_time;
    char card_id[16];
    char merchant_id[16];
    const char *merchant_category;
    double amount;
    const char *currency;
    const char *country;
    int channel;
    int card_present;
    int local_hour;
    int day_of_week;
    int customer_age; /* -1 null */
    int account_age_days;
    double distance_from_home_km;
    double distance_from_last_tx_km; /* <0 null */
    int64_t seconds_since_last_tx;   /* <0 null */
    int tx_count_1h;
    int tx_count_24h;
    double amount_avg_30d;
    int failed_pin_attempts;
    int is_foreign;
    float device_trust_score; /* <0 null */
    float ip_risk_score;
    int chargebacks_90d;
    double credit_limit;
    double balance_utilization;
    int is_fraud;
} txn_t;

static const char *currency_of(int country)
{
    const char *c = countries[country];
    if (!strcmp(c, "US"))
        return "USD";
    if (!strcmp(c, "GB"))
        return "GBP";
    if (!strcmp(c, "CA"))
        return "CAD";
    if (!strcmp(c, "BR"))
        return "BRL";
    if (!strcmp(c, "IN"))
        return "INR";
    if (!strcmp(c, "MX"))
        return "MXN";
    if (!strcmp(c, "CN"))
        return "CNY";
    if (!strcmp(c, "RU"))
        return "RUB";
    if (!strcmp(c, "NG"))
        return "NGN";
    return "EUR";
}

static void make_cards(card_t *cards, uint64_t seed)
{
    rng_t r;
    rng_seed(&r, seed ^ UINT64_C(0xC0FFEE));
    for (size_t i = 0; i < CARDS; i++) {
        card_t *c = &cards[i];
        c->home = (int)pick(&r, country_w, NCOUNTRIES);
        c->spend = exp(normal(&r, log(45.0), 0.6));
        c->age = bernoulli(&r, 0.03) ? -1 : (int)clampd(normal(&r, 42, 14), 18, 90);
        c->account_age_days = 1 + (int)expo(&r, 1200);
        c->credit_limit = round(exp(normal(&r, log(5000.0), 0.5)) / 100.0) * 100.0;
        c->utilization = clampd(normal(&r, 0.35, 0.2), 0.0, 0.95);
    }
}

/* One transaction. `pattern` 0 legit, 1 fraud before the concept change, 2 after.
 * Each fraud signal shows up independently with some probability, and a few
 * legitimate events show some of them too (travellers, night owls), so the
 * classes overlap the way real ones do. */
static void make_txn(rng_t *r, const card_t *cards, uint64_t index, int64_t time_ms, int pattern,
                     uint64_t seed, txn_t *t)
{
    size_t ci = (size_t)(rng_next(r) % CARDS);
    const card_t *c = &cards[ci];
    memset(t, 0, sizeof(*t));
    snprintf(t->event_id, sizeof(t->event_id), "tx-%" PRIu64 "-%" PRIu64, seed, index);
    t->event_time = time_ms;
    snprintf(t->card_id, sizeof(t->card_id), "card-%06zu", ci);
    /* Merchants are skewed: a few take most of the traffic. */
    snprintf(t->merchant_id, sizeof(t->merchant_id), "m-%05d",
             (int)(MERCHANTS * pow(uniform(r), 2.5)));
    t->is_fraud = pattern != 0;

    /* Which of the card-not-present fraud signals this event shows. */
    enum { S_CHANNEL, S_CATEGORY, S_AMOUNT, S_FOREIGN, S_NIGHT, S_VELOCITY, S_DEVICE, S_PIN, S_N };
    int sig[S_N];
    int unusual = pattern == 0 && bernoulli(r, 0.05);
    for (int k = 0; k < S_N; k++)
        sig[k] = pattern == 1 ? bernoulli(r, 0.6) : unusual ? bernoulli(r, 0.35) : 0;

    const double *cat_w = pattern == 2      ? fraud_b_cat_w
                          : sig[S_CATEGORY] ? fraud_a_cat_w
                                            : legit_cat_w;
    const double *ch_w = pattern == 2 ? fraud_b_ch_w : sig[S_CHANNEL] ? fraud_a_ch_w : legit_ch_w;
    size_t cat = pick(r, cat_w, NCATEGORIES);
    t->merchant_category = categories[cat];
    t->channel = (int)pick(r, ch_w, 4);
    t->card_present = t->channel == CH_POS || t->channel == CH_ATM;

    double spend_shift = sig[S_AMOUNT] ? 1.0 : pattern == 2 ? 0.1 : 0.0;
    t->amount = round(c->spend * cat_amount[cat] * exp(normal(r, spend_shift, 0.8)) * 100) / 100.0;
    if (t->amount < 0.5)
        t->amount = 0.5;

    double foreign_p = sig[S_FOREIGN] ? 0.6 : pattern == 2 ? 0.02 : 0.07;
    int country = c->home;
    if (bernoulli(r, foreign_p)) {
        country = (int)pick(r, foreign_w, NCOUNTRIES);
        if (country == c->home)
            country = (country + 1) % (int)NCOUNTRIES;
    }
    t->country = countries[country];
    t->currency = currency_of(t->card_present ? country : c->home);
    t->is_foreign = country != c->home;

    double hour = sig[S_NIGHT] ? normal(r, 3, 3) : normal(r, 14, 4);
    t->local_hour = ((int)floor(hour) % 24 + 24) % 24;
    t->day_of_week = (int)(((time_ms / 86400000) + 3) % 7); /* 1970-01-01 was a Thursday */

    t->customer_age = c->age;
    t->account_age_days = c->account_age_days + (int)(index / 200000);
    t->distance_from_home_km = round(expo(r, t->card_present ? 8 : 25) * 10) / 10;
    if (t->is_foreign)
        t->distance_from_home_km += round(500 + uniform(r) * 7500);
    t->distance_from_last_tx_km =
        bernoulli(r, 0.04) ? -1 : round(expo(r, sig[S_VELOCITY] ? 150 : 10) * 10) / 10;
    t->seconds_since_last_tx =
        bernoulli(r, 0.04) ? -1 : (int64_t)expo(r, sig[S_VELOCITY] ? 1800 : 40000);
    t->tx_count_1h = poisson(r, sig[S_VELOCITY] ? 1.5 : 0.3);
    t->tx_count_24h = t->tx_count_1h + poisson(r, sig[S_VELOCITY] ? 6 : pattern == 2 ? 4 : 3);
    t->amount_avg_30d = round(c->spend * (0.9 + 0.2 * uniform(r)) * 100) / 100;
    t->failed_pin_attempts =
        t->card_present ? (bernoulli(r, sig[S_PIN] ? 0.3 : 0.03) ? 1 + poisson(r, 0.3) : 0) : 0;
    if (t->channel == CH_ONLINE || t->channel == CH_MOTO) {
        t->device_trust_score =
            bernoulli(r, 0.1) ? -1.0f
                              : (float)(sig[S_DEVICE] ? uniform(r) * 0.7 : 0.4 + uniform(r) * 0.6);
        t->ip_risk_score =
            (float)(sig[S_DEVICE] ? 0.2 + uniform(r) * 0.8 : clampd(expo(r, 0.12), 0, 1));
    } else {
        t->device_trust_score = -1.0f;
        t->ip_risk_score = 0.0f;
    }
    t->chargebacks_90d = poisson(r, pattern == 1 ? 0.2 : pattern == 2 ? 0.4 : 0.05);
    t->credit_limit = c->credit_limit;
    t->balance_utilization =
        pattern == 2 ? clampd(normal(r, 0.8, 0.12), 0, 1)
                     : clampd(c->utilization + normal(r, pattern == 1 ? 0.1 : 0, 0.08), 0, 1);
}

/* ---- covariate shift ----------------------------------------------- */

typedef struct {
    char field[64];
    int numeric;
    double factor;  /* numeric: multiply */
    char value[64]; /* categorical: the value pushed */
    uint64_t from;  /* first event index affected */
} shift_t;

static double *numeric_field(txn_t *t, const char *name, int *is_int)
{
    static const struct {
        const char *name;
        size_t offset;
    } dbl[] = {
        {"amount", offsetof(txn_t, amount)},
        {"distance_from_home_km", offsetof(txn_t, distance_from_home_km)},
        {"distance_from_last_tx_km", offsetof(txn_t, distance_from_last_tx_km)},
        {"amount_avg_30d", offsetof(txn_t, amount_avg_30d)},
        {"credit_limit", offsetof(txn_t, credit_limit)},
        {"balance_utilization", offsetof(txn_t, balance_utilization)},
    };
    *is_int = 0;
    for (size_t i = 0; i < sizeof(dbl) / sizeof(dbl[0]); i++)
        if (!strcmp(name, dbl[i].name))
            return (double *)((char *)t + dbl[i].offset);
    return NULL;
}

static int *int_field(txn_t *t, const char *name)
{
    static const struct {
        const char *name;
        size_t offset;
    } ints[] = {
        {"local_hour", offsetof(txn_t, local_hour)},
        {"customer_age", offsetof(txn_t, customer_age)},
        {"account_age_days", offsetof(txn_t, account_age_days)},
        {"tx_count_1h", offsetof(txn_t, tx_count_1h)},
        {"tx_count_24h", offsetof(txn_t, tx_count_24h)},
        {"failed_pin_attempts", offsetof(txn_t, failed_pin_attempts)},
        {"chargebacks_90d", offsetof(txn_t, chargebacks_90d)},
    };
    for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]); i++)
        if (!strcmp(name, ints[i].name))
            return (int *)((char *)t + ints[i].offset);
    return NULL;
}

static const char **string_field(txn_t *t, const char *name)
{
    if (!strcmp(name, "merchant_category"))
        return &t->merchant_category;
    if (!strcmp(name, "country"))
        return &t->country;
    if (!strcmp(name, "currency"))
        return &t->currency;
    return NULL;
}

static int parse_shift(const char *arg, shift_t *s, char *err, size_t errsz)
{
    /* FIELD=FACTOR@INDEX (numeric) or FIELD=VALUE@INDEX (categorical) */
    const char *eq = strchr(arg, '='), *at = strrchr(arg, '@');
    memset(s, 0, sizeof(*s));
    if (!eq || (size_t)(eq - arg) >= sizeof(s->field) || eq == arg)
        return weir_seterr(err, errsz, WEIR_EINVAL, "--shift %s: expected FIELD=FACTOR[@INDEX]",
                           arg);
    memcpy(s->field, arg, (size_t)(eq - arg));
    const char *value = eq + 1;
    size_t vlen = at && at > eq ? (size_t)(at - value) : strlen(value);
    if (vlen == 0 || vlen >= sizeof(s->value))
        return weir_seterr(err, errsz, WEIR_EINVAL, "--shift %s: missing value", arg);
    memcpy(s->value, value, vlen);
    if (at && at > eq) {
        char *end;
        errno = 0;
        unsigned long long from = strtoull(at + 1, &end, 10);
        if (errno || *end || end == at + 1)
            return weir_seterr(err, errsz, WEIR_EINVAL, "--shift %s: bad index after @", arg);
        s->from = from;
    }
    txn_t probe;
    int is_int;
    if (numeric_field(&probe, s->field, &is_int) || int_field(&probe, s->field) ||
        !strcmp(s->field, "ip_risk_score") || !strcmp(s->field, "device_trust_score")) {
        char *end;
        s->numeric = 1;
        s->factor = strtod(s->value, &end);
        if (*end || !isfinite(s->factor))
            return weir_seterr(err, errsz, WEIR_EINVAL,
                               "--shift %s: %s is numeric: FACTOR must "
                               "be a number",
                               arg, s->field);
        return 0;
    }
    if (string_field(&probe, s->field) || !strcmp(s->field, "channel")) {
        if (!strcmp(s->field, "channel")) {
            int ok = 0;
            for (int i = 0; i < 4; i++)
                ok |= !strcmp(s->value, channels[i]);
            if (!ok)
                return weir_seterr(err, errsz, WEIR_EINVAL,
                                   "--shift %s: channel must be pos, online, atm or moto", arg);
        }
        return 0;
    }
    return weir_seterr(err, errsz, WEIR_EINVAL,
                       "--shift %s: unknown field \"%s\" (see weir gen -h for the fields)", arg,
                       s->field);
}

static void apply_shift(rng_t *r, const shift_t *s, uint64_t index, txn_t *t)
{
    if (index < s->from)
        return;
    int is_int;
    double *d = numeric_field(t, s->field, &is_int);
    int *i = int_field(t, s->field);
    if (d) {
        if (*d >= 0 || strcmp(s->field, "distance_from_last_tx_km") != 0)
            *d = round(*d * s->factor * 100) / 100;
        if (!strcmp(s->field, "balance_utilization"))
            *d = clampd(*d, 0, 1);
    } else if (i) {
        if (*i >= 0)
            *i = (int)lround(*i * s->factor);
        if (!strcmp(s->field, "local_hour"))
            *i = ((*i % 24) + 24) % 24;
    } else if (!strcmp(s->field, "ip_risk_score")) {
        t->ip_risk_score = (float)clampd(t->ip_risk_score * s->factor, 0, 1);
    } else if (!strcmp(s->field, "device_trust_score")) {
        if (t->device_trust_score >= 0)
            t->device_trust_score = (float)clampd(t->device_trust_score * s->factor, 0, 1);
    } else if (!strcmp(s->field, "channel")) {
        if (bernoulli(r, 0.5))
            for (int k = 0; k < 4; k++)
                if (!strcmp(s->value, channels[k]))
                    t->channel = k;
        t->card_present = t->channel == CH_POS || t->channel == CH_ATM;
    } else {
        const char **str = string_field(t, s->field);
        if (str && bernoulli(r, 0.5))
            *str = s->value;
    }
}

/* ---- encoding ------------------------------------------------------ */

static int put_string(weir_buf_t *b, const char *s)
{
    return weir_avro_write_string(b, s, strlen(s));
}

/* A ["null", T] union: branch 0 when absent, else branch 1 and the value. */
static int put_optional_long(weir_buf_t *b, int present, int64_t v)
{
    return present ? weir_avro_write_long(b, 1) | weir_avro_write_long(b, v)
                   : weir_avro_write_long(b, 0);
}

static int put_optional_double(weir_buf_t *b, int present, double v)
{
    return present ? weir_avro_write_long(b, 1) | weir_avro_write_double(b, v)
                   : weir_avro_write_long(b, 0);
}

static int put_optional_float(weir_buf_t *b, int present, float v)
{
    return present ? weir_avro_write_long(b, 1) | weir_avro_write_float(b, v)
                   : weir_avro_write_long(b, 0);
}

/* The Avro body of a Transaction, in the field order of transaction.avsc. */
static int encode_txn(weir_buf_t *b, const txn_t *t)
{
    int rc = 0;
    rc |= put_string(b, t->event_id);
    rc |= weir_avro_write_long(b, t->event_time);
    rc |= put_string(b, t->card_id);
    rc |= put_string(b, t->merchant_id);
    rc |= put_string(b, t->merchant_category);
    rc |= weir_avro_write_double(b, t->amount);
    rc |= put_string(b, t->currency);
    rc |= put_string(b, t->country);
    rc |= weir_avro_write_long(b, t->channel); /* enum index */
    rc |= weir_avro_write_boolean(b, t->card_present);
    rc |= weir_avro_write_long(b, t->local_hour);
    rc |= weir_avro_write_long(b, t->day_of_week);
    rc |= put_optional_long(b, t->customer_age >= 0, t->customer_age);
    rc |= weir_avro_write_long(b, t->account_age_days);
    rc |= weir_avro_write_double(b, t->distance_from_home_km);
    rc |= put_optional_double(b, t->distance_from_last_tx_km >= 0, t->distance_from_last_tx_km);
    rc |= put_optional_long(b, t->seconds_since_last_tx >= 0, t->seconds_since_last_tx);
    rc |= weir_avro_write_long(b, t->tx_count_1h);
    rc |= weir_avro_write_long(b, t->tx_count_24h);
    rc |= weir_avro_write_double(b, t->amount_avg_30d);
    rc |= weir_avro_write_long(b, t->failed_pin_attempts);
    rc |= weir_avro_write_boolean(b, t->is_foreign);
    rc |= put_optional_float(b, t->device_trust_score >= 0, t->device_trust_score);
    rc |= weir_avro_write_float(b, t->ip_risk_score);
    rc |= weir_avro_write_long(b, t->chargebacks_90d);
    rc |= weir_avro_write_double(b, t->credit_limit);
    rc |= weir_avro_write_double(b, t->balance_utilization);
    return rc ? WEIR_ELIMIT : 0;
}

/* ---- sinks --------------------------------------------------------- */

typedef struct {
    int is_topic;
    char name[512];
    rd_kafka_t *rk;
    rd_kafka_topic_t *rkt;
    weir_container_writer_t *file;
    weir_framing_t framing;
    int32_t schema_id;
    uint64_t written;
    uint64_t failed;
} sink_t;

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    if (m->err) {
        sink_t *s = m->_private;
        s->failed++;
        if (s->failed == 1)
            weir_log(WEIR_LOG_ERROR, "gen: delivery failed", "topic", s->name, "error",
                     rd_kafka_err2str(m->err), NULL);
    }
}

static void gen_error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    weir_bridge_log_error(rk, err, reason, "gen: producer error");
}

/* Opens a sink for a spec gen_parse() accepted. Error codes: WEIR_ECONFIG
 * when librdkafka refuses the configuration, WEIR_EINVAL for a path too
 * long, WEIR_EIO when the file cannot be created. */
static int sink_open(sink_t *s, const char *spec, const char *schema_name, const weir_config_t *cfg,
                     char *err, size_t errsz)
{
    memset(s, 0, sizeof(*s));
    s->is_topic = !strncmp(spec, "topic:", 6);
    const char *name = spec + (s->is_topic ? 6 : 5);
    if (strlen(name) >= sizeof(s->name))
        return weir_seterr(err, errsz, WEIR_EINVAL, "%.40s...: longer than %zu bytes", spec,
                           sizeof(s->name) - 1);
    snprintf(s->name, sizeof(s->name), "%s", name);
    if (s->is_topic) {
        rd_kafka_conf_t *conf;
        int rc = weir_config_kafka(cfg, 0, &conf, err, errsz);
        if (rc)
            return rc;
        char errstr[512];
        rd_kafka_conf_set_dr_msg_cb(conf, dr_cb);
        rd_kafka_conf_set_error_cb(conf, gen_error_cb);
        rd_kafka_conf_set(conf, "linger.ms", "20", errstr, sizeof(errstr));
        /* librdkafka's logs as weir's: served by the rd_kafka_poll calls below */
        if ((rc = weir_bridge_conf(conf, err, errsz)) != 0) {
            rd_kafka_conf_destroy(conf);
            return rc;
        }
        s->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
        if (!s->rk) {
            rd_kafka_conf_destroy(conf);
            /* librdkafka's reason may quote a secret value (ssl.key.pem) */
            weir_config_redact(cfg, errstr, sizeof(errstr));
            return weir_seterr(err, errsz, WEIR_ECONFIG, "%s: cannot create the producer: %s", spec,
                               errstr);
        }
        s->rkt = rd_kafka_topic_new(s->rk, s->name, NULL);
        return 0;
    }
    avro_schema_t schema;
    int rc = weir_schema_parse(weir_schema_text(schema_name), &schema, err, errsz);
    if (rc)
        return rc;
    rc = weir_container_writer_open(s->name, schema, "deflate", &s->file, err, errsz);
    avro_schema_decref(schema);
    return rc;
}

/* Registers each topic sink's schema under <topic>-value and frames with its id. */
static int register_sinks(const weir_config_t *cfg, sink_t *events, sink_t *labels, char *err,
                          size_t errsz)
{
    weir_registry_t *reg = NULL;
    int rc = weir_schema_registry_open(cfg, &reg, err, errsz);
    if (rc || !reg)
        return rc;
    if (events->is_topic)
        rc = weir_schema_register_topic(reg, events->name, weir_schema_text("transaction"),
                                        &events->schema_id, err, errsz);
    if (rc == 0 && labels && labels->is_topic)
        rc = weir_schema_register_topic(reg, labels->name, weir_schema_text("label"),
                                        &labels->schema_id, err, errsz);
    weir_registry_destroy(reg);
    return rc;
}

static int sink_write(sink_t *s, const char *key, weir_buf_t *framed, const weir_buf_t *body)
{
    if (!s->is_topic) {
        int rc = weir_container_writer_append(s->file, body->data, body->len);
        if (rc == 0)
            s->written++;
        return rc;
    }
    weir_buf_reset(framed);
    if (weir_framing_write(framed, s->framing, s->schema_id) != 0 ||
        weir_buf_append(framed, body->data, body->len) != 0)
        return WEIR_ELIMIT;
    for (;;) {
        rd_kafka_resp_err_t err = rd_kafka_producev(
            s->rk, RD_KAFKA_V_RKT(s->rkt), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
            RD_KAFKA_V_KEY(key, strlen(key)), RD_KAFKA_V_VALUE(framed->data, framed->len),
            RD_KAFKA_V_OPAQUE(s), RD_KAFKA_V_END);
        if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            rd_kafka_poll(s->rk, 50);
            continue;
        }
        if (err) {
            weir_log(WEIR_LOG_ERROR, "gen: produce failed", "topic", s->name, "error",
                     rd_kafka_err2str(err), NULL);
            return WEIR_EKAFKA;
        }
        s->written++;
        rd_kafka_poll(s->rk, 0);
        return 0;
    }
}

static int sink_close(sink_t *s, char *err, size_t errsz)
{
    int rc = 0;
    if (s->rk) {
        rd_kafka_resp_err_t kerr = rd_kafka_flush(s->rk, 60000);
        if (kerr)
            rc = weir_seterr(err, errsz, WEIR_ETIMEDOUT, "%s: flush: %s", s->name,
                             rd_kafka_err2str(kerr));
        else if (s->failed)
            rc = weir_seterr(err, errsz, WEIR_EKAFKA, "%s: %" PRIu64 " records not delivered",
                             s->name, s->failed);
        rd_kafka_topic_destroy(s->rkt);
        rd_kafka_destroy(s->rk);
        s->rk = NULL;
    }
    if (s->file) {
        rc = weir_container_writer_close(s->file, err, errsz);
        s->file = NULL;
    }
    return rc;
}

/* ---- the command --------------------------------------------------- */

static volatile sig_atomic_t interrupted;

static void on_interrupt(int sig)
{
    interrupted = 1;
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: weir gen --out topic:NAME|file:PATH --count N [options]\n"
            "\n"
            "Synthetic card transactions (schemas/transaction.avsc), about 1%% fraud, and their\n"
            "labels (schemas/label.avsc). The same arguments give the same events.\n"
            "\n"
            "  --out topic:NAME|file:PATH   where events go (Avro container file, or a topic\n"
            "                               with Confluent framing, key = card_id)\n"
            "  --count N                    number of events (required)\n"
            "  --seed S                     random seed [1]\n"
            "  --rate R                     events per second, 0 = as fast as possible [0]\n"
            "  --start-time MS              event_time of the first event, ms since epoch\n"
            "                               [1767225600000 = 2026-01-01T00:00:00Z]\n"
            "  --interval MS                mean ms between event times [50]\n"
            "  --fraud-rate P               probability that an event is fraud [0.01]\n"
            "  --labels topic:NAME|file:PATH   also write a Label per event (key = event_id)\n"
            "  --label-delay N              a label follows its event by N events [1000]\n"
            "  --shift FIELD=FACTOR[@I]     from event I on, multiply numeric FIELD by FACTOR;\n"
            "  --shift FIELD=VALUE[@I]      or set categorical FIELD (merchant_category, country,\n"
            "                               currency, channel) to VALUE in half of the events\n"
            "  --concept-change-at I        from event I on, fraud follows a new pattern\n"
            "  --schema-id ID               Confluent schema id of events [1]\n"
            "  --labels-schema-id ID        Confluent schema id of labels [4]\n"
            "  -b, --bootstrap HOST:PORT    Kafka bootstrap servers (or -c weir.conf)\n"
            "  -c, --config FILE            take kafka.* settings from a weir.conf\n"
            "  -X key=value                 a weir.conf setting (kafka.* for the producer)\n"
            "  -q, --quiet                  no progress lines\n"
            "  -h, --help                   this help\n"
            "\n"
            "Numeric fields for --shift: amount, distance_from_home_km, distance_from_last_tx_km,\n"
            "amount_avg_30d, credit_limit, balance_utilization, local_hour, customer_age,\n"
            "account_age_days, tx_count_1h, tx_count_24h, failed_pin_attempts, chargebacks_90d,\n"
            "ip_risk_score, device_trust_score.\n");
}

typedef struct {
    char event_id[40];
    int is_fraud;
    int64_t time;
    uint64_t due; /* index of the event after which it is written */
} pending_label_t;

/* Writes the label at the head of the pending ring. */
static int write_label(sink_t *sink, const pending_label_t *l, int64_t delay_ms, weir_buf_t *body,
                       weir_buf_t *framed)
{
    weir_label_t label = {.event_id = l->event_id,
                          .event_id_len = strlen(l->event_id),
                          .value = (double)l->is_fraud,
                          .label_time_ms = l->time + delay_ms};
    weir_buf_reset(body);
    if (weir_label_encode(body, &label) != 0 || sink_write(sink, l->event_id, framed, body) != 0) {
        fprintf(stderr, "weir gen: writing a label failed\n");
        return -1;
    }
    return 0;
}

/* Everything `weir gen` takes from its command line, parsed. */
typedef struct {
    weir_config_args_t config; /* -c FILE, -X key=value */
    const char *bootstrap;     /* -b: kafka.bootstrap.servers */
    const char *out, *labels;  /* topic:NAME or file:PATH */
    uint64_t count, seed, label_delay, concept_at, start_ms;
    int32_t schema_id, labels_schema_id;
    double rate, interval, fraud_rate;
    shift_t shifts[MAX_SHIFTS];
    size_t nshifts;
    int quiet, help;
} gen_options_t;

/* topic:NAME with a valid topic name, or file:PATH. */
static int check_sink_spec(const char *opt, const char *spec, char *err, size_t errsz)
{
    char quoted[600];
    weir_config_quote(quoted, sizeof(quoted), spec, strlen(spec));
    if (!strncmp(spec, "topic:", 6)) {
        if (!weir_config_topic_ok(spec + 6))
            return weir_seterr(err, errsz, WEIR_EINVAL,
                               "%s %s: a topic name is 1 to 249 of a-z, A-Z, 0-9, '.', '_', '-'",
                               opt, quoted);
        return 0;
    }
    if (!strncmp(spec, "file:", 5) && spec[5])
        return 0;
    return weir_seterr(err, errsz, WEIR_EINVAL, "%s %s: expected topic:NAME or file:PATH", opt,
                       quoted);
}

static int gen_parse(int argc, char **argv, gen_options_t *o, char *err, size_t errsz)
{
    static const struct option long_opts[] = {
        {"out", required_argument, NULL, 'o'},
        {"count", required_argument, NULL, 'n'},
        {"seed", required_argument, NULL, 's'},
        {"rate", required_argument, NULL, 'r'},
        {"start-time", required_argument, NULL, 'T'},
        {"interval", required_argument, NULL, 'I'},
        {"fraud-rate", required_argument, NULL, 'f'},
        {"labels", required_argument, NULL, 'l'},
        {"label-delay", required_argument, NULL, 'd'},
        {"shift", required_argument, NULL, 'S'},
        {"concept-change-at", required_argument, NULL, 'C'},
        {"schema-id", required_argument, NULL, 'i'},
        {"labels-schema-id", required_argument, NULL, 'L'},
        {"bootstrap", required_argument, NULL, 'b'},
        {"config", required_argument, NULL, 'c'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    /* The values are read first and converted after: -h answers even next
     * to a bad value, an unknown option is refused at once. */
    const char *count = NULL, *seed = NULL, *rate = NULL, *start = NULL, *interval = NULL;
    const char *fraud = NULL, *delay = NULL, *concept = NULL, *schema = NULL, *lschema = NULL;
    const char *shifts[MAX_SHIFTS + 1];
    size_t nshifts = 0;
    int opt, rc = 0;
    memset(o, 0, sizeof(*o));
    optind = 1;
    opterr = 0;
    while (rc == 0 && (opt = getopt_long(argc, argv, ":b:c:X:qh", long_opts, NULL)) != -1) {
        switch (opt) {
        case 'o':
            o->out = optarg;
            break;
        case 'n':
            count = optarg;
            break;
        case 's':
            seed = optarg;
            break;
        case 'r':
            rate = optarg;
            break;
        case 'T':
            start = optarg;
            break;
        case 'I':
            interval = optarg;
            break;
        case 'f':
            fraud = optarg;
            break;
        case 'l':
            o->labels = optarg;
            break;
        case 'd':
            delay = optarg;
            break;
        case 'C':
            concept
            = optarg;
            break;
        case 'i':
            schema = optarg;
            break;
        case 'L':
            lschema = optarg;
            break;
        case 'S':
            if (nshifts == MAX_SHIFTS)
                rc = weir_seterr(err, errsz, WEIR_EINVAL, "at most %d --shift options", MAX_SHIFTS);
            else
                shifts[nshifts++] = optarg;
            break;
        case 'b':
            o->bootstrap = optarg;
            break;
        case 'c':
            rc = weir_cli_config_file(&o->config, optarg, err, errsz);
            break;
        case 'X':
            rc = weir_cli_config_override(&o->config, optarg, err, errsz);
            break;
        case 'q':
            o->quiet = 1;
            break;
        case 'h':
            o->help = 1;
            break;
        default:
            rc = weir_cli_option_error("gen", opt, argc, argv, err, errsz);
            break;
        }
    }
    if (rc || o->help)
        return rc;
    if (optind < argc)
        return weir_cli_stray_argument("gen", argv[optind], err, errsz);
    if (!o->out || !count)
        return weir_seterr(err, errsz, WEIR_EINVAL,
                           "--out and --count are required (see weir gen -h)");
    uint64_t schema_id = 1, labels_schema_id = 4;
    o->seed = 1;
    o->label_delay = 1000;
    o->concept_at = UINT64_MAX;
    o->start_ms = (uint64_t)DEFAULT_START_MS;
    o->interval = 50;
    o->fraud_rate = 0.01;
    if ((rc = check_sink_spec("--out", o->out, err, errsz)) != 0 ||
        (o->labels && (rc = check_sink_spec("--labels", o->labels, err, errsz)) != 0) ||
        (rc = weir_cli_parse_u64("--count", count, UINT64_MAX, &o->count, err, errsz)) != 0 ||
        (seed && (rc = weir_cli_parse_u64("--seed", seed, UINT64_MAX, &o->seed, err, errsz))) ||
        (rate && (rc = weir_cli_parse_double("--rate", rate, 0, 1e9, &o->rate, err, errsz))) ||
        (start && (rc = weir_cli_parse_u64("--start-time", start, INT64_MAX / 2, &o->start_ms, err,
                                           errsz))) ||
        (interval &&
         (rc = weir_cli_parse_double("--interval", interval, 0, 1e9, &o->interval, err, errsz))) ||
        (fraud &&
         (rc = weir_cli_parse_double("--fraud-rate", fraud, 0, 1, &o->fraud_rate, err, errsz))) ||
        (delay && (rc = weir_cli_parse_u64("--label-delay", delay, UINT64_MAX, &o->label_delay, err,
                                           errsz))) ||
        (concept && (rc = weir_cli_parse_u64("--concept-change-at", concept, UINT64_MAX,
                                             &o->concept_at, err, errsz))) ||
        (schema &&
         (rc = weir_cli_parse_u64("--schema-id", schema, INT32_MAX, &schema_id, err, errsz))) ||
        (lschema && (rc = weir_cli_parse_u64("--labels-schema-id", lschema, INT32_MAX,
                                             &labels_schema_id, err, errsz))))
        return rc;
    if (o->label_delay > MAX_LABEL_DELAY)
        return weir_seterr(err, errsz, WEIR_EINVAL,
                           "--label-delay: at most %" PRIu64 " events, got %s", MAX_LABEL_DELAY,
                           delay);
    o->schema_id = (int32_t)schema_id;
    o->labels_schema_id = (int32_t)labels_schema_id;
    for (size_t i = 0; i < nshifts; i++)
        if ((rc = parse_shift(shifts[i], &o->shifts[i], err, errsz)) != 0)
            return rc;
    o->nshifts = nshifts;
    return 0;
}

/* The -c file, -X, then -b; a topic needs a broker address from one of them. */
static int gen_config(const gen_options_t *o, weir_config_t *cfg, char *err, size_t errsz)
{
    int rc = weir_config_apply_args(cfg, &o->config, err, errsz);
    if (rc == 0 && o->bootstrap)
        rc = weir_config_set_from(cfg, "kafka.bootstrap.servers", o->bootstrap, "-b", err, errsz);
    if (rc)
        return rc;
    int to_topic = !strncmp(o->out, "topic:", 6) || (o->labels && !strncmp(o->labels, "topic:", 6));
    int has_bootstrap = 0;
    for (size_t i = 0; i < cfg->kafka_count; i++)
        if (!strcmp(cfg->kafka_keys[i], "bootstrap.servers") ||
            !strcmp(cfg->kafka_keys[i], "metadata.broker.list"))
            has_bootstrap = 1;
    if (to_topic && !has_bootstrap)
        return weir_seterr(err, errsz, WEIR_EINVAL,
                           "writing to a topic needs a broker: -b HOST:PORT, or -c weir.conf (or "
                           "-X) with kafka.bootstrap.servers");
    return 0;
}

/* Generates o->count events (and labels); returns the exit code. */
static int gen_run(const gen_options_t *o)
{
    const char *out = o->out, *labels = o->labels;
    const uint64_t count = o->count, seed = o->seed, label_delay = o->label_delay;
    const uint64_t concept_at = o->concept_at;
    const double rate = o->rate, interval = o->interval, fraud_rate = o->fraud_rate;
    char err[1024];
    int code = 2, rc;
    weir_config_t cfg;
    weir_config_init(&cfg);
    sink_t events, label_sink;
    memset(&events, 0, sizeof(events));
    memset(&label_sink, 0, sizeof(label_sink));
    card_t *cards = NULL;
    pending_label_t *pending = NULL;
    weir_buf_t body, framed;
    weir_buf_init(&body, 1 << 20);
    weir_buf_init(&framed, 1 << 20);

    if (gen_config(o, &cfg, err, sizeof(err)) != 0) {
        fprintf(stderr, "weir gen: %s\n", err);
        goto out;
    }
    weir_log_set_level(cfg.log_level);

    if ((rc = sink_open(&events, out, "transaction", &cfg, err, sizeof(err))) != 0 ||
        (labels && (rc = sink_open(&label_sink, labels, "label", &cfg, err, sizeof(err))) != 0)) {
        fprintf(stderr, "weir gen: %s\n", err);
        code = weir_cli_exit_code(rc);
        goto out;
    }
    code = 1;
    events.schema_id = o->schema_id;
    label_sink.schema_id = o->labels_schema_id;
    /* with a schema registry, topics are framed with the registered ids */
    if ((rc = register_sinks(&cfg, &events, labels ? &label_sink : NULL, err, sizeof(err))) != 0) {
        fprintf(stderr, "weir gen: %s\n", err);
        code = weir_cli_exit_code(rc);
        goto out;
    }

    cards = malloc(CARDS * sizeof(*cards));
    /* At most min(delay, count) labels wait at once. */
    size_t ring = (size_t)((label_delay < count ? label_delay : count) + 1);
    if (labels)
        pending = malloc(ring * sizeof(*pending));
    if (!cards || (labels && !pending)) {
        fprintf(stderr, "weir gen: out of memory\n");
        goto out;
    }
    make_cards(cards, seed);
    rng_t rng, shift_rng, time_rng, concept_rng;
    rng_seed(&rng, seed);
    rng_seed(&shift_rng, seed ^ UINT64_C(0x5EED5EED));
    rng_seed(&time_rng, seed ^ UINT64_C(0x71AE));
    rng_seed(&concept_rng, seed ^ UINT64_C(0xC0C0C0C0));

    signal(SIGINT, on_interrupt);
    signal(SIGTERM, on_interrupt);
    double t0 = weir_clock_mono_s(), last_progress = t0;
    double time_ms = (double)o->start_ms;
    int64_t label_delay_ms = (int64_t)((double)label_delay * interval);
    uint64_t frauds = 0, labels_written = 0;
    size_t pending_head = 0, pending_len = 0;
    uint64_t i;
    for (i = 0; i < count && !interrupted; i++) {
        txn_t t;
        int fraud = bernoulli(&rng, fraud_rate);
        make_txn(&rng, cards, i, (int64_t)time_ms, fraud, seed, &t);
        if (fraud && i >= concept_at)
            make_txn(&concept_rng, cards, i, (int64_t)time_ms, 2, seed, &t);
        time_ms += expo(&time_rng, interval);
        for (size_t k = 0; k < o->nshifts; k++)
            apply_shift(&shift_rng, &o->shifts[k], i, &t);
        frauds += (uint64_t)fraud;
        weir_buf_reset(&body);
        if (encode_txn(&body, &t) != 0 || sink_write(&events, t.card_id, &framed, &body) != 0) {
            fprintf(stderr, "weir gen: writing event %" PRIu64 " failed\n", i);
            goto out;
        }
        if (labels) {
            pending_label_t *p = &pending[(pending_head + pending_len) % ring];
            memcpy(p->event_id, t.event_id, sizeof(p->event_id));
            p->is_fraud = t.is_fraud;
            p->time = t.event_time;
            p->due = i + label_delay;
            pending_len++;
            while (pending_len > 0 && (pending[pending_head].due <= i || pending_len == ring)) {
                if (write_label(&label_sink, &pending[pending_head], label_delay_ms, &body,
                                &framed) != 0)
                    goto out;
                labels_written++;
                pending_head = (pending_head + 1) % ring;
                pending_len--;
            }
        }
        if (rate > 0) {
            double due = t0 + (double)(i + 1) / rate, now = weir_clock_mono_s();
            if (due > now)
                usleep((useconds_t)((due - now) * 1e6));
        }
        double now = weir_clock_mono_s();
        if (!o->quiet && now - last_progress >= 2.0) {
            char n[32], r[32], f[32];
            snprintf(n, sizeof(n), "%" PRIu64, i + 1);
            snprintf(r, sizeof(r), "%.0f", (double)(i + 1) / (now - t0));
            snprintf(f, sizeof(f), "%" PRIu64, frauds);
            weir_log(WEIR_LOG_INFO, "gen progress", "events", n, "events_per_s", r, "fraud", f,
                     NULL);
            last_progress = now;
        }
    }
    /* The labels still waiting are written at the end. */
    while (labels && pending_len > 0) {
        if (write_label(&label_sink, &pending[pending_head], label_delay_ms, &body, &framed) != 0)
            goto out;
        labels_written++;
        pending_head = (pending_head + 1) % ring;
        pending_len--;
    }
    if (sink_close(&events, err, sizeof(err)) != 0 ||
        (labels && sink_close(&label_sink, err, sizeof(err)) != 0)) {
        fprintf(stderr, "weir gen: %s\n", err);
        goto out;
    }
    {
        char n[32], f[32], l[32], s[32];
        snprintf(n, sizeof(n), "%" PRIu64, i);
        snprintf(f, sizeof(f), "%" PRIu64, frauds);
        snprintf(l, sizeof(l), "%" PRIu64, labels_written);
        snprintf(s, sizeof(s), "%.2f", weir_clock_mono_s() - t0);
        if (!o->quiet)
            weir_log(WEIR_LOG_INFO, "gen done", "events", n, "fraud", f, "labels", l, "seconds", s,
                     "out", out, NULL);
    }
    code = interrupted ? 1 : 0;

out:
    if (events.rk || events.file)
        sink_close(&events, err, sizeof(err));
    if (label_sink.rk || label_sink.file)
        sink_close(&label_sink, err, sizeof(err));
    free(cards);
    free(pending);
    weir_buf_dispose(&body);
    weir_buf_dispose(&framed);
    weir_config_dispose(&cfg);
    return code;
}

int weir_gen_main(int argc, char **argv)
{
    gen_options_t o;
    char err[1024];
    if (gen_parse(argc, argv, &o, err, sizeof(err)) != 0) {
        fprintf(stderr, "weir gen: %s\n", err);
        return 2;
    }
    if (o.help) {
        usage(stdout);
        return 0;
    }
    return gen_run(&o);
}
