import fs from 'node:fs';
import { LockstepError } from '../errors';
import type { Labels } from '../sim/labels';
import type { AlertMessage } from './metrics';

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function bad(what: string, field?: string): LockstepError {
  return new LockstepError('CONFIG_INVALID', what, field === undefined ? {} : { field });
}

/** Reads and checks a labels file written by `lockstep simulate --labels`. */
export function readLabels(file: string): Labels {
  let parsed: unknown;
  try {
    parsed = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (cause) {
    throw new LockstepError('CONFIG_INVALID', `cannot read labels ${file}: ${(cause as Error).message}`, { cause });
  }
  if (!isRecord(parsed)) throw bad(`labels ${file} is not a JSON object`);
  for (const k of ['start', 'end'] as const) if (typeof parsed[k] !== 'number') throw bad(`labels ${file}: "${k}" must be a number`, k);
  if (!isRecord(parsed.accounts)) throw bad(`labels ${file}: "accounts" must be an object`, 'accounts');
  for (const [id, l] of Object.entries(parsed.accounts)) {
    if (!isRecord(l) || !['benign', 'campaign', 'confounder'].includes(String(l.label)) || typeof l.group !== 'string') {
      throw bad(`labels ${file}: account ${id} needs label benign|campaign|confounder and a group`, `accounts.${id}`);
    }
  }
  if (!Array.isArray(parsed.campaigns) || !parsed.campaigns.every((c) => isRecord(c) && typeof c.id === 'string' && typeof c.kind === 'string' && typeof c.start === 'number')) {
    throw bad(`labels ${file}: "campaigns" must list {id, kind, start, end, accounts}`, 'campaigns');
  }
  if (!Array.isArray(parsed.confounders) || !parsed.confounders.every((c) => isRecord(c) && typeof c.id === 'string' && typeof c.kind === 'string')) {
    throw bad(`labels ${file}: "confounders" must list {id, kind, accounts}`, 'confounders');
  }
  return parsed as unknown as Labels;
}

/** Parses alert NDJSON (blank lines skipped); names the line that is wrong. */
export function parseAlerts(text: string, source: string): AlertMessage[] {
  const out: AlertMessage[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === '') continue;
    let m: unknown;
    try {
      m = JSON.parse(line);
    } catch (cause) {
      throw new LockstepError('CONFIG_INVALID', `${source}:${i + 1}: not JSON: ${(cause as Error).message}`, { cause });
    }
    if (!isRecord(m) || typeof m.alertId !== 'string' || (m.status !== 'firing' && m.status !== 'resolved') ||
      !Array.isArray(m.accounts) || !m.accounts.every((a) => typeof a === 'string') || typeof m.detectedAt !== 'number') {
      throw bad(`${source}:${i + 1}: not an alert (needs alertId, status firing|resolved, accounts[], detectedAt)`);
    }
    out.push({ alertId: m.alertId, status: m.status, accounts: m.accounts as string[], detectedAt: m.detectedAt });
  }
  return out;
}

export function readAlerts(file: string): AlertMessage[] {
  let text: string;
  try {
    text = fs.readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (cause) {
    throw new LockstepError('CONFIG_INVALID', `cannot read alerts ${file}: ${(cause as Error).message}`, { cause });
  }
  return parseAlerts(text, file === '-' ? 'stdin' : file);
}
