import { COMMAND_SPECS } from '../../../cli/commands';
import type { Invocation, Tool } from './invocations';
import type { ShellWord } from './shell-words';

/**
 * The value put in place of a placeholder, by the slot it fills: an option (`reason`), a
 * positional of a CLI command (`flag <name>`) or an environment variable (`ROLLOUT_TOKEN`).
 * Each is a valid value for that slot, so a documented command fails the check only when the
 * command itself is wrong. A placeholder in a slot missing here fails the check too.
 */
export const SAMPLE_VALUES: Readonly<Record<string, string>> = {
  // Connection, for the CLI and the scripts alike.
  url: 'https://app.example.com',
  token: 'sample-admin-token-0123456789abcdef',
  actor: 'release-lead',
  prefix: '/__rollout',
  env: 'production',
  ROLLOUT_URL: 'https://app.example.com',
  ROLLOUT_TOKEN: 'sample-admin-token-0123456789abcdef',
  ADMIN_TOKEN: 'sample-admin-token-0123456789abcdef',
  ROLLOUT_ACTOR: 'release-lead',
  ROLLOUT_ENV: 'production',
  ROLLOUT_PREFIX: '/__rollout',
  // npx rollout
  reason: 'sample reason',
  percent: '25',
  limit: '20',
  cursor: 'YXVkaXQ6MTIz',
  since: '24h',
  'set <percent>': '10',
  'flag <name>': 'fileStorage',
  'flag <state>': 'on',
  'kill <target>': 'flag:fileStorage',
  // The scripts.
  'stable-health': 'https://stable.app.example.com/healthz',
  'canary-health': 'https://canary.app.example.com/healthz',
  STABLE_HEALTH_URL: 'https://stable.app.example.com/healthz',
  CANARY_HEALTH_URL: 'https://canary.app.example.com/healthz',
  bake: '900',
  steps: '10 50 100',
  'max-error-rate': '1',
  version: '0a0a0a0a-1b1b-4c4c-8d8d-2e2e2e2e2e2e',
  'check-path': '/',
  // The stand-in Cloudflare API's zone (test/support/fake-cloudflare-api), for rollback.sh --detach.
  zone: '0123456789abcdef0123456789abcdef',
  'verify-timeout': '120',
  'expect-percent': '100',
  'max-verdict-age': '15',
  phase: '1',
};

/** Options that take a value, per command; a word after one of them fills that option. */
const VALUE_OPTIONS: Record<Tool, readonly string[]> = {
  'npx rollout': ['url', 'token', 'actor', 'prefix', 'env', 'reason', 'percent', 'limit', 'cursor', 'since'],
  'scripts/production-deploy.sh': [
    'env',
    'url',
    'stable-health',
    'canary-health',
    'bake',
    'steps',
    'max-error-rate',
  ],
  'scripts/rollback.sh': [
    'env',
    'url',
    'version',
    'reason',
    'check-path',
    'verify-timeout',
    'zone',
    'worker',
    'stable-origin',
  ],
  'scripts/post-launch-check.sh': ['url', 'expect-percent', 'since', 'max-verdict-age'],
  'scripts/feature-flags.ts': ['phase', 'url', 'actor'],
};

/**
 * Whether a word is left for the reader to fill in. The rules, in order:
 * 1. it expands a `$VAR` the doc never set (or set to a placeholder), or a `$( … )`;
 * 2. it contains `…` (`ROLLOUT_TOKEN=…`, `--version 0a0a…`);
 * 3. it contains an angle-bracket name (`<version-id>`, `flag:<name>`);
 * 4. it is an unquoted ALL-CAPS word, a synopsis's metavariable (`--url URL`, `--phase N`).
 *
 * @example
 * isPlaceholder({ text: 'URL', quoted: false, placeholder: false }); // true
 */
export function isPlaceholder(word: ShellWord): boolean {
  return (
    word.placeholder ||
    word.text.includes('…') ||
    /<[^<>\s]+>/.test(word.text) ||
    (!word.quoted && /^[A-Z][A-Z0-9_]*$/.test(word.text))
  );
}

/** A documented command made runnable: its argv, environment and what was substituted. */
export interface ResolvedRun {
  argv: string[];
  /** The environment the doc sets up for it: its variables and the command's own assignments. */
  env: Record<string, string>;
  substitutions: string[];
}

/**
 * Turns an invocation into argv and env: drops synopsis brackets (`[--dry-run]` is checked as
 * `--dry-run`, i.e. every optional part included) and replaces each placeholder by the sample
 * value of its slot. Throws when a placeholder fills a slot that has no sample value.
 *
 * @example
 * resolveRun(invocation); // { argv: ['set', '10', '--reason', 'sample reason'], env: { … }, substitutions: […] }
 */
export function resolveRun(invocation: Invocation): ResolvedRun {
  const substitutions: string[] = [];
  const where = `${invocation.source.file}:${invocation.source.line}`;
  const fill = (word: ShellWord, slot: string): string => {
    if (!isPlaceholder(word)) return word.text;
    const sample = SAMPLE_VALUES[slot];
    if (sample === undefined)
      throw new Error(`${where}: no sample value for the placeholder "${word.text}" (slot ${slot})`);
    substitutions.push(`${word.text} → ${sample}`);
    return sample;
  };

  const env: Record<string, string> = {};
  for (const [name, word] of [...invocation.variables, ...invocation.assignments]) {
    // A placeholder variable none of our commands reads (e.g. a curl header) is left out.
    if (isPlaceholder(word) && SAMPLE_VALUES[name] === undefined) continue;
    env[name] = fill(word, name);
  }

  const valueOptions = VALUE_OPTIONS[invocation.tool];
  const argv: string[] = [];
  const positionals: string[] = [];
  let pendingOption: string | undefined;
  for (const original of invocation.args) {
    const word = original.quoted ? original : { ...original, text: original.text.replace(/^\[|\]$/g, '') };
    if (word.text === '' && !original.quoted) continue;
    if (pendingOption !== undefined) {
      argv.push(fill(word, pendingOption));
      pendingOption = undefined;
      continue;
    }
    const option = /^--([a-z][a-z-]*)(=(.*))?$/s.exec(word.text);
    if (option && !isPlaceholder({ ...word, text: option[1]! })) {
      const [, name, inline, value] = option;
      if (inline !== undefined) argv.push(`--${name}=${fill({ ...word, text: value! }, name!)}`);
      else {
        argv.push(word.text);
        if (valueOptions.includes(name!)) pendingOption = name;
      }
      continue;
    }
    if (word.text.startsWith('-')) {
      argv.push(word.text);
      continue;
    }
    const slot = positionalSlot(invocation.tool, positionals);
    positionals.push(word.text);
    argv.push(fill(word, slot));
  }
  return { argv, env, substitutions };
}

// `npx rollout`'s positionals are the command, then the command's own (COMMAND_SPECS).
function positionalSlot(tool: Tool, before: readonly string[]): string {
  if (tool !== 'npx rollout') return `${tool} positional ${before.length + 1}`;
  if (before.length === 0) return 'the command name';
  const spec = COMMAND_SPECS.find((candidate) => candidate.name === before[0]);
  const names = spec?.positionals ?? [];
  const name = names[Math.min(before.length - 1, names.length - 1)]?.replace(/\.\.\.$/, '');
  return name ? `${before[0]} <${name}>` : `${before[0]} (no positionals)`;
}
