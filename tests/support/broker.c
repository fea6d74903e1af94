/*
 * broker.c — integration-test plumbing around the real local Kafka broker.
 * The broker is started once per test process through scripts/kafka.sh, the
 * same script the demo and CI use.
 */
#include "broker.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char bootstrap[512];

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

const char *weir_it_bootstrap(void)
{
    if (bootstrap[0])
        return bootstrap;
    char cmd[4096];
    snprintf(cmd, sizeof(cmd), "%s/scripts/kafka.sh start", WEIR_SOURCE_DIR);
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p, "cannot run %s", cmd);
    char line[512] = "";
    while (fgets(line, sizeof(line), p)) {
        if (!strncmp(line, "running ", 8)) {
            snprintf(bootstrap, sizeof(bootstrap), "%s", line + 8);
            bootstrap[strcspn(bootstrap, "\r\n")] = '\0';
        }
    }
    int status = pclose(p);
    cr_assert(status == 0 && bootstrap[0], "scripts/kafka.sh start failed (status %d)", status);
    return bootstrap;
}

void weir_it_unique(const char *prefix, char *out, size_t outsz)
{
    static int counter;
    snprintf(out, outsz, "%s-%d-%d-%lld", prefix, (int)getpid(), ++counter,
             (long long)(time(NULL) % 1000000));
}

static rd_kafka_conf_t *base_conf(void)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    char errstr[256];
    rd_kafka_conf_set(conf, "bootstrap.servers", weir_it_bootstrap(), errstr, sizeof(errstr));
    rd_kafka_conf_set(conf, "log_level", "3", errstr, sizeof(errstr));
    return conf;
}

void weir_it_create_topic(const char *name, int partitions)
{
    char errstr[512];
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, base_conf(), errstr, sizeof(errstr));
    cr_assert_not_null(rk, "%s", errstr);
    rd_kafka_NewTopic_t *nt = rd_kafka_NewTopic_new(name, partitions, 1, errstr, sizeof(errstr));
    cr_assert_not_null(nt, "%s", errstr);
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_CreateTopics(rk, &nt, 1, NULL, q);
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, 30000);
    cr_assert_not_null(ev, "CreateTopics timed out");
    const rd_kafka_CreateTopics_result_t *res = rd_kafka_event_CreateTopics_result(ev);
    size_t n;
    const rd_kafka_topic_result_t **results = rd_kafka_CreateTopics_result_topics(res, &n);
    cr_assert_eq(n, 1);
    rd_kafka_resp_err_t err = rd_kafka_topic_result_error(results[0]);
    cr_assert(err == RD_KAFKA_RESP_ERR_NO_ERROR || err == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS,
              "create %s: %s", name, rd_kafka_err2str(err));
    rd_kafka_event_destroy(ev);
    rd_kafka_NewTopic_destroy(nt);

    /* Wait until every partition has a leader in metadata. */
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, name, NULL);
    int64_t deadline = now_ms() + 30000;
    for (;;) {
        const struct rd_kafka_metadata *md = NULL;
        int ready = 0;
        if (rd_kafka_metadata(rk, 0, rkt, &md, 5000) == RD_KAFKA_RESP_ERR_NO_ERROR) {
            if (md->topic_cnt == 1 && md->topics[0].err == 0 &&
                md->topics[0].partition_cnt == partitions) {
                ready = 1;
                for (int i = 0; i < partitions; i++)
                    if (md->topics[0].partitions[i].leader < 0)
                        ready = 0;
            }
            rd_kafka_metadata_destroy(md);
        }
        if (ready)
            break;
        cr_assert(now_ms() < deadline, "topic %s never became ready", name);
        rd_kafka_poll(rk, 100);
    }
    rd_kafka_topic_destroy(rkt);
    rd_kafka_queue_destroy(q);
    rd_kafka_destroy(rk);
}

static rd_kafka_event_t *admin_wait(rd_kafka_t *rk, rd_kafka_queue_t *q)
{
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, 30000);
    cr_assert_not_null(ev, "admin request timed out");
    cr_assert_eq(rd_kafka_event_error(ev), RD_KAFKA_RESP_ERR_NO_ERROR, "admin request: %s",
                 rd_kafka_event_error_string(ev));
    return ev;
}

void weir_it_topic_config(const char *topic, const char *key, const char *value)
{
    char errstr[512];
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, base_conf(), errstr, sizeof(errstr));
    cr_assert_not_null(rk, "%s", errstr);
    rd_kafka_ConfigResource_t *res = rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, topic);
    rd_kafka_ConfigResource_set_config(res, key, value);
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_AlterConfigs(rk, &res, 1, NULL, q);
    rd_kafka_event_t *ev = admin_wait(rk, q);
    size_t n;
    const rd_kafka_ConfigResource_t **out =
        rd_kafka_AlterConfigs_result_resources(rd_kafka_event_AlterConfigs_result(ev), &n);
    cr_assert_eq(n, 1);
    cr_assert_eq(rd_kafka_ConfigResource_error(out[0]), RD_KAFKA_RESP_ERR_NO_ERROR,
                 "alter %s %s=%s: %s", topic, key, value,
                 rd_kafka_ConfigResource_error_string(out[0]));
    rd_kafka_event_destroy(ev);
    rd_kafka_ConfigResource_destroy(res);
    rd_kafka_queue_destroy(q);
    rd_kafka_destroy(rk);
}

void weir_it_delete_topic(const char *name)
{
    char errstr[512];
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, base_conf(), errstr, sizeof(errstr));
    cr_assert_not_null(rk, "%s", errstr);
    rd_kafka_DeleteTopic_t *dt = rd_kafka_DeleteTopic_new(name);
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_DeleteTopics(rk, &dt, 1, NULL, q);
    rd_kafka_event_t *ev = admin_wait(rk, q);
    size_t n;
    const rd_kafka_topic_result_t **res =
        rd_kafka_DeleteTopics_result_topics(rd_kafka_event_DeleteTopics_result(ev), &n);
    cr_assert_eq(n, 1);
    cr_assert_eq(rd_kafka_topic_result_error(res[0]), RD_KAFKA_RESP_ERR_NO_ERROR, "delete %s: %s",
                 name, rd_kafka_topic_result_error_string(res[0]));
    rd_kafka_event_destroy(ev);
    rd_kafka_DeleteTopic_destroy(dt);
    rd_kafka_queue_destroy(q);
    rd_kafka_destroy(rk);
}

int weir_it_broker(const char *cmd)
{
    char line[4096];
    snprintf(line, sizeof(line), "%s/scripts/kafka.sh %s >/dev/null", WEIR_SOURCE_DIR, cmd);
    int status = system(line);
    if (!strcmp(cmd, "start"))
        bootstrap[0] = '\0';
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void test_dr(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    if (m->err)
        cr_log_error("test producer: %s", rd_kafka_err2str(m->err));
}

rd_kafka_t *weir_it_producer(void)
{
    char errstr[512];
    rd_kafka_conf_t *conf = base_conf();
    rd_kafka_conf_set(conf, "acks", "all", errstr, sizeof(errstr));
    rd_kafka_conf_set(conf, "linger.ms", "5", errstr, sizeof(errstr));
    rd_kafka_conf_set_dr_msg_cb(conf, test_dr);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
    cr_assert_not_null(rk, "%s", errstr);
    return rk;
}

void weir_it_produce(rd_kafka_t *p, const char *topic, int32_t partition, const void *key,
                     size_t key_len, const void *value, size_t len)
{
    rd_kafka_resp_err_t err;
    do {
        err = rd_kafka_producev(p, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(partition),
                                RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                RD_KAFKA_V_KEY(key, key_len), RD_KAFKA_V_VALUE((void *)value, len),
                                RD_KAFKA_V_END);
        if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL)
            rd_kafka_poll(p, 50);
    } while (err == RD_KAFKA_RESP_ERR__QUEUE_FULL);
    cr_assert_eq(err, RD_KAFKA_RESP_ERR_NO_ERROR, "produce: %s", rd_kafka_err2str(err));
    rd_kafka_poll(p, 0);
}

void weir_it_producer_close(rd_kafka_t *p)
{
    cr_assert_eq(rd_kafka_flush(p, 60000), RD_KAFKA_RESP_ERR_NO_ERROR, "flush timed out");
    rd_kafka_destroy(p);
}

pid_t weir_it_spawn(const char *const argv[], const char *log_path)
{
    pid_t pid = fork();
    cr_assert(pid >= 0, "fork: %s", strerror(errno));
    if (pid == 0) {
        /* a test that fails midway takes its children with it */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        int fd = open(log_path ? log_path : "/dev/null", O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
            close(fd);
        }
        execvp(argv[0], (char *const *)argv);
        _exit(127);
    }
    return pid;
}

static int wait_child(pid_t pid, int timeout_ms, int kill_at_deadline)
{
    int64_t deadline = now_ms() + timeout_ms;
    for (;;) {
        int status;
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid)
            return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        if (now_ms() >= deadline) {
            if (kill_at_deadline) {
                kill(pid, SIGKILL);
                waitpid(pid, &status, 0);
            }
            return -1;
        }
        /* waitpid has no timeout; poll at a short interval until the deadline */
        struct timespec ts = {0, 20 * 1000000};
        nanosleep(&ts, NULL);
    }
}

int weir_it_wait(pid_t pid, int timeout_ms)
{
    return wait_child(pid, timeout_ms, 1);
}

int weir_it_exited(pid_t pid, int timeout_ms)
{
    return wait_child(pid, timeout_ms, 0);
}

int weir_it_run(const char *const argv[], const char *log_path, int timeout_ms)
{
    return weir_it_wait(weir_it_spawn(argv, log_path), timeout_ms);
}

static rd_kafka_t *reader_for(const char *topic, rd_kafka_topic_partition_list_t **assignment)
{
    char errstr[512];
    rd_kafka_conf_t *conf = base_conf();
    rd_kafka_conf_set(conf, "group.id", "weir-test-reader", errstr, sizeof(errstr));
    rd_kafka_conf_set(conf, "enable.auto.commit", "false", errstr, sizeof(errstr));
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr));
    cr_assert_not_null(rk, "%s", errstr);
    rd_kafka_poll_set_consumer(rk);
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    const struct rd_kafka_metadata *md = NULL;
    cr_assert_eq(rd_kafka_metadata(rk, 0, rkt, &md, 10000), RD_KAFKA_RESP_ERR_NO_ERROR);
    cr_assert_eq(md->topic_cnt, 1);
    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(8);
    for (int i = 0; i < md->topics[0].partition_cnt; i++)
        rd_kafka_topic_partition_list_add(parts, topic, md->topics[0].partitions[i].id)->offset =
            RD_KAFKA_OFFSET_BEGINNING;
    rd_kafka_metadata_destroy(md);
    rd_kafka_topic_destroy(rkt);
    *assignment = parts;
    return rk;
}

void weir_it_read(const char *topic, size_t expected, int timeout_ms, weir_it_records_t *out)
{
    rd_kafka_topic_partition_list_t *parts;
    rd_kafka_t *rk = reader_for(topic, &parts);
    cr_assert_eq(rd_kafka_assign(rk, parts), RD_KAFKA_RESP_ERR_NO_ERROR);
    rd_kafka_topic_partition_list_destroy(parts);
    memset(out, 0, sizeof(*out));
    int64_t deadline = now_ms() + timeout_ms;
    while (out->count < expected && now_ms() < deadline) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 200);
        if (!m)
            continue;
        if (!m->err) {
            if (out->count == out->cap) {
                out->cap = out->cap ? out->cap * 2 : 1024;
                out->records = realloc(out->records, out->cap * sizeof(*out->records));
            }
            weir_it_record_t *r = &out->records[out->count++];
            memset(r, 0, sizeof(*r));
            r->partition = m->partition;
            r->offset = m->offset;
            r->key = malloc(m->key_len + 1);
            memcpy(r->key, m->key ? m->key : "", m->key_len);
            r->key[m->key_len] = '\0';
            r->key_len = m->key_len;
            r->value = malloc(m->len ? m->len : 1);
            memcpy(r->value, m->payload ? m->payload : "", m->len);
            r->len = m->len;
            rd_kafka_headers_t *h = NULL;
            if (rd_kafka_message_headers(m, &h) == RD_KAFKA_RESP_ERR_NO_ERROR && h)
                r->headers = rd_kafka_headers_copy(h);
        }
        rd_kafka_message_destroy(m);
    }
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
}

int64_t weir_it_count(const char *topic)
{
    rd_kafka_topic_partition_list_t *parts;
    rd_kafka_t *rk = reader_for(topic, &parts);
    int64_t total = 0;
    for (int i = 0; i < parts->cnt; i++) {
        int64_t lo, hi;
        if (rd_kafka_query_watermark_offsets(rk, topic, parts->elems[i].partition, &lo, &hi,
                                             10000) == RD_KAFKA_RESP_ERR_NO_ERROR)
            total += hi - lo;
    }
    rd_kafka_topic_partition_list_destroy(parts);
    rd_kafka_destroy(rk);
    return total;
}

int64_t weir_it_wait_count(const char *topic, int64_t n, int timeout_ms)
{
    int64_t deadline = now_ms() + timeout_ms, seen = 0;
    while ((seen = weir_it_count(topic)) < n && now_ms() < deadline) {
        struct timespec ts = {0, 200 * 1000000};
        nanosleep(&ts, NULL);
    }
    return seen;
}

void weir_it_records_free(weir_it_records_t *r)
{
    for (size_t i = 0; i < r->count; i++) {
        free(r->records[i].key);
        free(r->records[i].value);
        if (r->records[i].headers)
            rd_kafka_headers_destroy(r->records[i].headers);
    }
    free(r->records);
    memset(r, 0, sizeof(*r));
}

const char *weir_it_header(const weir_it_record_t *r, const char *name)
{
    static __thread char value[1024];
    const void *v;
    size_t n;
    if (!r->headers || rd_kafka_header_get_last(r->headers, name, &v, &n) != 0)
        return NULL;
    if (n >= sizeof(value))
        n = sizeof(value) - 1;
    memcpy(value, v, n);
    value[n] = '\0';
    return value;
}

int64_t weir_it_committed(const char *group, const char *topic, int32_t partition)
{
    char errstr[512];
    rd_kafka_conf_t *conf = base_conf();
    rd_kafka_conf_set(conf, "group.id", group, errstr, sizeof(errstr));
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr));
    cr_assert_not_null(rk, "%s", errstr);
    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(parts, topic, partition);
    /* right after a broker restart the group coordinator may still be loading */
    int64_t deadline = now_ms() + 60000;
    rd_kafka_resp_err_t err;
    while ((err = rd_kafka_committed(rk, parts, 10000)) != RD_KAFKA_RESP_ERR_NO_ERROR &&
           now_ms() < deadline) {
        struct timespec ts = {0, 200 * 1000000};
        nanosleep(&ts, NULL);
    }
    cr_assert_eq(err, RD_KAFKA_RESP_ERR_NO_ERROR, "committed: %s", rd_kafka_err2str(err));
    int64_t offset = parts->elems[0].offset;
    rd_kafka_topic_partition_list_destroy(parts);
    rd_kafka_destroy(rk);
    return offset;
}

int64_t weir_it_high(const char *topic, int32_t partition)
{
    char errstr[512];
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, base_conf(), errstr, sizeof(errstr));
    int64_t lo = 0, hi = -1;
    rd_kafka_query_watermark_offsets(rk, topic, partition, &lo, &hi, 10000);
    rd_kafka_destroy(rk);
    return hi;
}

int weir_it_http_get(int port, const char *path, char **body)
{
    *body = NULL;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0) {
        close(fd);
        return -1;
    }
    char req[512];
    int n = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: localhost\r\n\r\n", path);
    if (write(fd, req, (size_t)n) != n) {
        close(fd);
        return -1;
    }
    size_t cap = 65536, len = 0;
    char *buf = malloc(cap + 1);
    ssize_t got;
    while ((got = read(fd, buf + len, cap - len)) > 0) {
        len += (size_t)got;
        if (len == cap) {
            cap *= 2;
            buf = realloc(buf, cap + 1);
        }
    }
    close(fd);
    buf[len] = '\0';
    int status = 0;
    sscanf(buf, "HTTP/1.1 %d", &status);
    char *start = strstr(buf, "\r\n\r\n");
    *body = strdup(start ? start + 4 : "");
    free(buf);
    return status;
}

double weir_it_metric(const char *page, const char *sample)
{
    size_t n = strlen(sample);
    for (const char *p = page; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
        if (!strncmp(p, sample, n) && p[n] == ' ')
            return strtod(p + n + 1, NULL);
    }
    return 0;
}

int weir_it_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = 0};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    cr_assert_eq(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
    socklen_t len = sizeof(addr);
    getsockname(fd, (struct sockaddr *)&addr, &len);
    close(fd);
    return ntohs(addr.sin_port);
}

char *weir_it_tmpdir(void)
{
    char *dir = strdup("/tmp/weir-it-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    return dir;
}

char *weir_it_write(const char *dir, const char *name, const char *text)
{
    char *path = malloc(strlen(dir) + strlen(name) + 2);
    sprintf(path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f, "%s", path);
    fputs(text, f);
    fclose(f);
    return path;
}
