#!/usr/bin/env node
import { loadConfig } from '../config/config';
import { LockstepError } from '../errors';
import { createLogger } from '../log';
import { systemClock } from '../clock';
import { respawn, respawnArgs } from './young-generation';

const io = { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr };

const USAGE = `usage: lockstep <command> [options]

commands:
  run                         the service: Kafka -> Redis windows -> detector -> alerts (embedded demo when KAFKA_BROKERS is unset)
  replay FILE|-               backtest: NDJSON events through the detector over the in-memory store; alerts as NDJSON on stdout
  simulate [options]          seeded synthetic traffic (NDJSON) with campaign labels
  eval --labels F --alerts F  detection quality of alerts against simulator labels
  help                        this text
`;

type Command = (argv: string[]) => Promise<number>;

async function run(): Promise<number> {
  const config = loadConfig();
  const log = createLogger(config.log.level);
  // each command loads only its own modules: replay's first process (young-generation.ts) loads no service code
  const { startService } = await import('../service');
  const service = await startService(config, systemClock, log);
  await new Promise<void>((resolve) => {
    const shutdown = (signal: string): void => {
      log.info({ signal }, 'shutting down: finishing the batch, committing, disconnecting');
      service.stop().then(resolve, (err: unknown) => {
        log.error({ err }, 'shutdown failed');
        resolve();
      });
    };
    process.once('SIGTERM', () => shutdown('SIGTERM'));
    process.once('SIGINT', () => shutdown('SIGINT'));
  });
  return 0;
}

const commands: Record<string, Command> = {
  run,
  replay: async (argv) => {
    const again = respawnArgs(process.execArgv, process.env.NODE_OPTIONS, process.argv[1], ['replay', ...argv]);
    if (again !== null) return respawn(again);
    return (await import('../embedded/replay')).runReplayCommand(argv, io);
  },
  simulate: async (argv) => (await import('../sim/cli')).runSimulateCommand(argv, io),
  eval: async (argv) => (await import('../eval/cli')).runEvalCommand(argv, io),
  help: async () => {
    process.stdout.write(USAGE);
    return 0;
  },
};

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  const cmd = commands[name ?? 'help'];
  if (!cmd) {
    process.stderr.write(`lockstep: unknown command "${name}"\n\n${USAGE}`);
    return 2;
  }
  try {
    return await cmd(rest);
  } catch (err) {
    if (err instanceof LockstepError) {
      process.stderr.write(`lockstep: ${err.message}\n`);
      return err.code === 'CONFIG_INVALID' ? 78 : 1;
    }
    throw err;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`lockstep: fatal: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exit(1);
  },
);
