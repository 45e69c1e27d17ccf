/** Test infrastructure: real redis-server and an in-memory Kafka-protocol cluster (see docs/testing.md). */
export { freePort, freePortWithCompanion } from './ports';
export { sleep, waitFor, type WaitOptions } from './wait';
export { ping, startRedis, startRedisCluster, waitUntilDown, type RedisClusterServer, type RedisServer, type StartRedisOptions } from './redis';
export {
  consumeAll,
  mockClusterBinary,
  produce,
  startKafka,
  TEST_CONSUMER_TIMINGS,
  type ConsumeAllOptions,
  type ConsumedMessage,
  type KafkaCluster,
  type ProduceMessage,
  type ProduceOptions,
  type StartKafkaOptions,
} from './kafka';
