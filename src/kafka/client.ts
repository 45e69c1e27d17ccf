import { Kafka, logLevel, type KafkaConfig, type SASLOptions } from 'kafkajs';
import type { Config } from '../config/config';
import type { Logger } from '../log';

const levelName: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
};

/** One kafkajs client for the process, logging through pino. */
export function createKafka(cfg: Config['kafka'], log: Logger): Kafka {
  const kafkaLog = log.child({ component: 'kafkajs' });
  const opts: KafkaConfig = {
    clientId: cfg.clientId,
    brokers: cfg.brokers,
    ssl: cfg.ssl,
    connectionTimeout: cfg.connectionTimeoutMs,
    // broker outages must heal by themselves: keep retrying with capped backoff
    retry: { initialRetryTime: 300, maxRetryTime: 5000, retries: 10 },
    logLevel: logLevel.WARN,
    logCreator: () => ({ namespace, level, log }) => {
      const { message, ...extra } = log;
      kafkaLog[levelName[level] ?? 'info']({ ...extra, namespace }, message);
    },
  };
  if (cfg.sasl) opts.sasl = { mechanism: cfg.sasl.mechanism, username: cfg.sasl.username, password: cfg.sasl.password } as SASLOptions;
  return new Kafka(opts);
}
