/*
 * mock-cluster: an in-memory Kafka-protocol cluster for tests and the dev stack,
 * built on librdkafka's mock cluster (librdkafka/rdkafka_mock.h).
 *
 * Why a C helper and not `kcat -X test.mock.num.brokers=N`: kcat cannot create
 * topics with a fixed partition count (auto-created topics always get 4) and
 * cannot inject broker faults; both are reachable only through the C API.
 *
 * Usage:
 *   mock-cluster [--brokers N] [--topic NAME:PARTITIONS]... [--no-stdin]
 *
 * Prints one line `bootstrap.servers=HOST:PORT,...` on stdout once ready, then
 * reads commands from stdin, one per line, and answers each with one line
 * starting `ok` or `err`:
 *   down <brokerId|-1>          disconnect a broker (-1: all) and refuse new connections
 *   up <brokerId|-1>            accept connections again
 *   create <topic> <partitions> create a topic
 *   leader <topic> <partition> <brokerId>   move a partition's leadership
 *   rtt <brokerId|-1> <ms>      add round-trip delay to a broker's responses
 *   quit                        exit
 * End of stdin also exits, so the cluster never outlives the process that started it.
 * With --no-stdin (the dev stack, which runs it in the background) stdin is ignored
 * and the process runs until SIGTERM/SIGINT.
 */
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_TOPICS 128

static void quiet_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf) {
        (void)rk;
        /* Warnings and worse still matter when debugging a failing test. */
        if (level <= 4)
                fprintf(stderr, "mock-cluster: %s: %s\n", fac, buf);
}

static int parse_int(const char *text, long min, long max, long *out) {
        char *end;
        long v;
        if (text == NULL || *text == '\0')
                return -1;
        v = strtol(text, &end, 10);
        if (*end != '\0' || v < min || v > max)
                return -1;
        *out = v;
        return 0;
}

static int create_topic(rd_kafka_mock_cluster_t *mc, const char *name, long partitions, long brokers) {
        /* Replication factor = broker count (capped at 3) so a downed broker leaves
         * followers, as in a real cluster; the mock does not fail over leaders itself. */
        int rf = (int)(brokers < 3 ? brokers : 3);
        return rd_kafka_mock_topic_create(mc, name, (int)partitions, rf) == RD_KAFKA_RESP_ERR_NO_ERROR ? 0 : -1;
}

/* Splits "name:partitions" (a copy: argv stays intact for ps); returns -1 when malformed. */
static int parse_topic_spec(const char *spec, char **name, long *partitions) {
        const char *colon = strrchr(spec, ':');
        if (colon == NULL || colon == spec)
                return -1;
        *name = strndup(spec, (size_t)(colon - spec));
        return *name == NULL ? -1 : parse_int(colon + 1, 1, 100000, partitions);
}

static void usage(void) {
        fprintf(stderr, "usage: mock-cluster [--brokers N] [--topic NAME:PARTITIONS]... [--no-stdin]\n");
        exit(2);
}

static int is_known_command(const char *name) {
        static const char *const known[] = {"down", "up", "create", "leader", "rtt"};
        for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
                if (strcmp(name, known[i]) == 0)
                        return 1;
        return 0;
}

static int run_command(rd_kafka_mock_cluster_t *mc, long brokers, char *line) {
        char *argv[5];
        int argc = 0;
        char *save = NULL;
        for (char *tok = strtok_r(line, " \t\r\n", &save); tok != NULL && argc < 5; tok = strtok_r(NULL, " \t\r\n", &save))
                argv[argc++] = tok;
        if (argc == 0)
                return 0;

        long a, b, c;
        if ((strcmp(argv[0], "down") == 0 || strcmp(argv[0], "up") == 0) && argc == 2 &&
            parse_int(argv[1], -1, brokers, &a) == 0 && a != 0) {
                rd_kafka_resp_err_t err = argv[0][0] == 'd' ? rd_kafka_mock_broker_set_down(mc, (int32_t)a)
                                                             : rd_kafka_mock_broker_set_up(mc, (int32_t)a);
                if (err)
                        printf("err %s %s: %s\n", argv[0], argv[1], rd_kafka_err2str(err));
                else
                        printf("ok %s %s\n", argv[0], argv[1]);
        } else if (strcmp(argv[0], "create") == 0 && argc == 3 && parse_int(argv[2], 1, 100000, &a) == 0) {
                if (create_topic(mc, argv[1], a, brokers) == 0)
                        printf("ok create %s %ld\n", argv[1], a);
                else
                        printf("err create %s: failed (exists?)\n", argv[1]);
        } else if (strcmp(argv[0], "leader") == 0 && argc == 4 && parse_int(argv[2], 0, 100000, &b) == 0 &&
                   parse_int(argv[3], 1, brokers, &c) == 0) {
                rd_kafka_resp_err_t err = rd_kafka_mock_partition_set_leader(mc, argv[1], (int32_t)b, (int32_t)c);
                if (err)
                        printf("err leader: %s\n", rd_kafka_err2str(err));
                else
                        printf("ok leader %s %ld %ld\n", argv[1], b, c);
        } else if (strcmp(argv[0], "rtt") == 0 && argc == 3 && parse_int(argv[1], -1, brokers, &a) == 0 && a != 0 &&
                   parse_int(argv[2], 0, 600000, &b) == 0) {
                rd_kafka_resp_err_t err = rd_kafka_mock_broker_set_rtt(mc, (int32_t)a, (int)b);
                if (err)
                        printf("err rtt: %s\n", rd_kafka_err2str(err));
                else
                        printf("ok rtt %ld %ld\n", a, b);
        } else if (strcmp(argv[0], "quit") == 0) {
                printf("ok quit\n");
                return 1;
        } else if (is_known_command(argv[0])) {
                printf("err bad arguments for %s\n", argv[0]);
        } else {
                printf("err unknown command: %s\n", argv[0]);
        }
        return 0;
}

int main(int argc, char **argv) {
        long brokers = 3;
        int use_stdin = 1;
        char *topic_names[MAX_TOPICS];
        long topic_partitions[MAX_TOPICS];
        int topic_cnt = 0;

        for (int i = 1; i < argc; i++) {
                if (strcmp(argv[i], "--brokers") == 0 && i + 1 < argc) {
                        if (parse_int(argv[++i], 1, 64, &brokers) != 0)
                                usage();
                } else if (strcmp(argv[i], "--topic") == 0 && i + 1 < argc) {
                        if (topic_cnt == MAX_TOPICS ||
                            parse_topic_spec(argv[++i], &topic_names[topic_cnt], &topic_partitions[topic_cnt]) != 0)
                                usage();
                        topic_cnt++;
                } else if (strcmp(argv[i], "--no-stdin") == 0) {
                        use_stdin = 0;
                } else {
                        usage();
                }
        }

        /* Blocked before librdkafka starts its threads (they inherit the mask), so
         * only the sigwait below receives them and shutdown is orderly. */
        sigset_t stop_signals;
        sigemptyset(&stop_signals);
        sigaddset(&stop_signals, SIGTERM);
        sigaddset(&stop_signals, SIGINT);
        if (!use_stdin)
                pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);

        /* The mock cluster is owned by a (never used) client handle. */
        char errstr[512];
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        rd_kafka_conf_set_log_cb(conf, quiet_log);
        rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
        if (rk == NULL) {
                fprintf(stderr, "mock-cluster: rd_kafka_new: %s\n", errstr);
                return 1;
        }
        rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(rk, (int)brokers);
        if (mc == NULL) {
                fprintf(stderr, "mock-cluster: failed to create mock cluster\n");
                return 1;
        }
        for (int i = 0; i < topic_cnt; i++) {
                if (create_topic(mc, topic_names[i], topic_partitions[i], brokers) != 0) {
                        fprintf(stderr, "mock-cluster: failed to create topic %s\n", topic_names[i]);
                        return 1;
                }
        }

        setvbuf(stdout, NULL, _IOLBF, 0);
        printf("bootstrap.servers=%s\n", rd_kafka_mock_cluster_bootstraps(mc));

        if (use_stdin) {
                char line[1024];
                while (fgets(line, sizeof(line), stdin) != NULL) {
                        if (run_command(mc, brokers, line))
                                break;
                }
        } else {
                int sig;
                sigwait(&stop_signals, &sig);
        }

        rd_kafka_mock_cluster_destroy(mc);
        rd_kafka_destroy(rk);
        return 0;
}
