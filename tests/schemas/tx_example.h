/*
 * tx_example.h — example Transactions (schemas/transaction.avsc) for the
 * schemas/ tests and the fuzz smoke test: a plain struct, deterministic
 * example values, and an encoder written with weir's own Avro primitives
 * that records where each field starts, so tests can predict the byte
 * offsets that the checker's messages name.
 */
#ifndef WEIR_TEST_TX_EXAMPLE_H
#define WEIR_TEST_TX_EXAMPLE_H

#include <stdio.h>
#include <string.h>

#include "schemas.h"

/** Field indexes of transaction.avsc, in schema order. */
enum {
    TX_EVENT_ID,
    TX_EVENT_TIME,
    TX_CARD_ID,
    TX_MERCHANT_ID,
    TX_MERCHANT_CATEGORY,
    TX_AMOUNT,
    TX_CURRENCY,
    TX_COUNTRY,
    TX_CHANNEL,
    TX_CARD_PRESENT,
    TX_LOCAL_HOUR,
    TX_DAY_OF_WEEK,
    TX_CUSTOMER_AGE,
    TX_ACCOUNT_AGE_DAYS,
    TX_DISTANCE_FROM_HOME_KM,
    TX_DISTANCE_FROM_LAST_TX_KM,
    TX_SECONDS_SINCE_LAST_TX,
    TX_TX_COUNT_1H,
    TX_TX_COUNT_24H,
    TX_AMOUNT_AVG_30D,
    TX_FAILED_PIN_ATTEMPTS,
    TX_IS_FOREIGN,
    TX_DEVICE_TRUST_SCORE,
    TX_IP_RISK_SCORE,
    TX_CHARGEBACKS_90D,
    TX_CREDIT_LIMIT,
    TX_BALANCE_UTILIZATION,
    TX_FIELDS
};

static const char *const tx_channels[] = {"pos", "online", "atm", "moto"};

typedef struct {
    char event_id[32];
    int64_t event_time;
    char card_id[32];
    const char *merchant_id;
    const char *merchant_category;
    double amount;
    const char *currency;
    const char *country;
    int channel;
    int card_present;
    int32_t local_hour;
    int32_t day_of_week;
    int has_customer_age;
    int32_t customer_age;
    int32_t account_age_days;
    double distance_from_home_km;
    int has_distance_from_last_tx_km;
    double distance_from_last_tx_km;
    int has_seconds_since_last_tx;
    int64_t seconds_since_last_tx;
    int32_t tx_count_1h;
    int32_t tx_count_24h;
    double amount_avg_30d;
    int32_t failed_pin_attempts;
    int is_foreign;
    int has_device_trust_score;
    float device_trust_score;
    float ip_risk_score;
    int32_t chargebacks_90d;
    double credit_limit;
    double balance_utilization;
} tx_t;

/** The i-th example: every value a simple function of i; nullables null when i % 3 == 0. */
static inline void tx_example(tx_t *t, int i)
{
    memset(t, 0, sizeof(*t));
    snprintf(t->event_id, sizeof(t->event_id), "tx-%06d", i);
    t->event_time = 1700000000000LL + i * 1000LL;
    snprintf(t->card_id, sizeof(t->card_id), "card-%d", i % 97);
    t->merchant_id = i % 2 ? "m-coffee" : "m-electronics-and-appliances";
    t->merchant_category = i % 2 ? "5814" : "5732";
    t->amount = 12.5 + i * 0.25;
    t->currency = "EUR";
    t->country = i % 5 ? "DE" : "FR";
    t->channel = i % 4;
    t->card_present = i % 2;
    t->local_hour = i % 24;
    t->day_of_week = i % 7;
    t->has_customer_age = i % 3 != 0;
    t->customer_age = 18 + i % 60;
    t->account_age_days = 30 + i;
    t->distance_from_home_km = 1.5 * (i % 40);
    t->has_distance_from_last_tx_km = i % 3 != 0;
    t->distance_from_last_tx_km = 0.5 * (i % 10);
    t->has_seconds_since_last_tx = i % 3 != 0;
    t->seconds_since_last_tx = 60LL * i;
    t->tx_count_1h = i % 5;
    t->tx_count_24h = i % 20;
    t->amount_avg_30d = 40.0 + (i % 13);
    t->failed_pin_attempts = i % 3;
    t->is_foreign = i % 5 == 0;
    t->has_device_trust_score = i % 3 != 0;
    t->device_trust_score = 0.5f + (float)(i % 5) * 0.125f;
    t->ip_risk_score = 0.25f * (float)(i % 4);
    t->chargebacks_90d = i % 2;
    t->credit_limit = 1000.0 * (1 + i % 10);
    t->balance_utilization = 0.125 * (i % 8);
}

static inline int tx_put_string(weir_buf_t *b, const char *s)
{
    return weir_avro_write_string(b, s, strlen(s));
}

/**
 * Appends the Avro body of @p t to @p b; @p offsets (may be NULL) receives the
 * offset of each field from the start of the body.
 */
static inline int tx_encode(weir_buf_t *b, const tx_t *t, size_t offsets[TX_FIELDS])
{
    size_t start = b->len;
    size_t dummy[TX_FIELDS];
    int rc = 0;
    if (!offsets)
        offsets = dummy;
#define AT(field) (offsets[field] = b->len - start)
    AT(TX_EVENT_ID), rc |= tx_put_string(b, t->event_id);
    AT(TX_EVENT_TIME), rc |= weir_avro_write_long(b, t->event_time);
    AT(TX_CARD_ID), rc |= tx_put_string(b, t->card_id);
    AT(TX_MERCHANT_ID), rc |= tx_put_string(b, t->merchant_id);
    AT(TX_MERCHANT_CATEGORY), rc |= tx_put_string(b, t->merchant_category);
    AT(TX_AMOUNT), rc |= weir_avro_write_double(b, t->amount);
    AT(TX_CURRENCY), rc |= tx_put_string(b, t->currency);
    AT(TX_COUNTRY), rc |= tx_put_string(b, t->country);
    AT(TX_CHANNEL), rc |= weir_avro_write_long(b, t->channel);
    AT(TX_CARD_PRESENT), rc |= weir_avro_write_boolean(b, t->card_present);
    AT(TX_LOCAL_HOUR), rc |= weir_avro_write_long(b, t->local_hour);
    AT(TX_DAY_OF_WEEK), rc |= weir_avro_write_long(b, t->day_of_week);
    AT(TX_CUSTOMER_AGE), rc |= weir_avro_write_long(b, t->has_customer_age);
    if (t->has_customer_age)
        rc |= weir_avro_write_long(b, t->customer_age);
    AT(TX_ACCOUNT_AGE_DAYS), rc |= weir_avro_write_long(b, t->account_age_days);
    AT(TX_DISTANCE_FROM_HOME_KM), rc |= weir_avro_write_double(b, t->distance_from_home_km);
    AT(TX_DISTANCE_FROM_LAST_TX_KM), rc |= weir_avro_write_long(b, t->has_distance_from_last_tx_km);
    if (t->has_distance_from_last_tx_km)
        rc |= weir_avro_write_double(b, t->distance_from_last_tx_km);
    AT(TX_SECONDS_SINCE_LAST_TX), rc |= weir_avro_write_long(b, t->has_seconds_since_last_tx);
    if (t->has_seconds_since_last_tx)
        rc |= weir_avro_write_long(b, t->seconds_since_last_tx);
    AT(TX_TX_COUNT_1H), rc |= weir_avro_write_long(b, t->tx_count_1h);
    AT(TX_TX_COUNT_24H), rc |= weir_avro_write_long(b, t->tx_count_24h);
    AT(TX_AMOUNT_AVG_30D), rc |= weir_avro_write_double(b, t->amount_avg_30d);
    AT(TX_FAILED_PIN_ATTEMPTS), rc |= weir_avro_write_long(b, t->failed_pin_attempts);
    AT(TX_IS_FOREIGN), rc |= weir_avro_write_boolean(b, t->is_foreign);
    AT(TX_DEVICE_TRUST_SCORE), rc |= weir_avro_write_long(b, t->has_device_trust_score);
    if (t->has_device_trust_score)
        rc |= weir_avro_write_float(b, t->device_trust_score);
    AT(TX_IP_RISK_SCORE), rc |= weir_avro_write_float(b, t->ip_risk_score);
    AT(TX_CHARGEBACKS_90D), rc |= weir_avro_write_long(b, t->chargebacks_90d);
    AT(TX_CREDIT_LIMIT), rc |= weir_avro_write_double(b, t->credit_limit);
    AT(TX_BALANCE_UTILIZATION), rc |= weir_avro_write_double(b, t->balance_utilization);
#undef AT
    return rc;
}

/** The transaction schema, parsed from the embedded text; the caller decrefs it. */
static inline avro_schema_t tx_schema(void)
{
    avro_schema_t schema = NULL;
    char err[256];
    if (weir_schema_parse(weir_schema_text("transaction"), &schema, err, sizeof(err)) != 0)
        return NULL;
    return schema;
}

#endif
