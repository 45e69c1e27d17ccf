import pino from 'pino';

export type Logger = pino.Logger;

/** JSON logs to stdout (or a given stream: tests and the CLI's stderr). */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino({ level, base: { service: 'lockstep' }, timestamp: pino.stdTimeFunctions.isoTime }, destination);
}
