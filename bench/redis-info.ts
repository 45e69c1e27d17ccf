import type Redis from 'ioredis';

/** The figures of Redis INFO the bench reads: commands executed (scripts' inner calls included), CPU, memory. */
export interface RedisInfo {
  /** sum of calls over INFO commandstats */
  commands: number;
  /** EVALSHA + EVAL calls: the flush writes */
  scripts: number;
  cpuSeconds: number;
  usedMemory: number;
  byCommand: Record<string, number>;
}

export async function redisInfo(client: Redis): Promise<RedisInfo> {
  const text = await client.info('all');
  let commands = 0;
  let scripts = 0;
  const byCommand: Record<string, number> = {};
  for (const m of text.matchAll(/^cmdstat_([a-z|_-]+):calls=(\d+)/gm)) {
    commands += Number(m[2]);
    byCommand[m[1]] = Number(m[2]);
    if (m[1] === 'evalsha' || m[1] === 'eval') scripts += Number(m[2]);
  }
  const num = (name: string): number => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(text)?.[1] ?? NaN);
  return { commands, scripts, cpuSeconds: num('used_cpu_user') + num('used_cpu_sys'), usedMemory: num('used_memory'), byCommand };
}
