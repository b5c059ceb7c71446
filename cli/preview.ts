import type * as z from 'zod/mini';
import { PreviewAnswerSchema } from '../src/admin/admin-routes';
import type { AdminClient } from './admin-client';
import type { Connection } from './command-line';
import type { CliCommand } from './commands';
import { ApiError, UnreachableError } from './errors';

/** The answer of `POST /preview`. */
export type PreviewAnswer = z.infer<typeof PreviewAnswerSchema>;

/**
 * The blast-radius preview before a write: `npx rollout set 50` first asks the admin API
 * (`POST /preview`, a dry run that changes nothing) what the write would move, prints it, and on
 * a terminal asks before sending it. `--yes` answers the question in advance; `--preview` prints
 * the preview and stops. Without a terminal (scripts, CI, rollback.sh) nothing is asked and the
 * write goes out as it always did: an emergency abort must never wait for a keystroke.
 *
 * A write sent after a preview carries `If-Match: <the preview's currentVersion>`: what was
 * confirmed is the change to that version. If someone else changed the rollout between the
 * preview and the answer, the API refuses it with `412` and nothing is overwritten.
 */

/** What the command line asked about confirmation. */
export interface ConfirmOptions {
  /** `--yes`: do not ask. */
  yes: boolean;
  /** `--preview`: print the preview and send nothing. */
  previewOnly: boolean;
  /** Whether a person is at a terminal to answer (stdin and stderr are TTYs). */
  interactive: boolean;
  /** Asks a question on the terminal and resolves to the answer. */
  ask?: (question: string) => Promise<string>;
}

/** What to do after the preview. */
export type Confirmation = 'send' | 'stop' | 'declined';

/**
 * The decision, and for a write sent after a preview the version that preview was computed on
 * (to be sent as `If-Match`). Undefined when no preview was shown: a script's write, or a
 * preview that could not be had.
 */
export interface ConfirmedWrite {
  decision: Confirmation;
  previewVersion?: number;
}

/**
 * The `POST /preview` body that stands for a write command, or undefined for reads. A kill adds
 * to what the API kill switch already holds, as the kill command does.
 *
 * @example
 * previewBodyFor({ name: 'set', percent: 20 }); // { percent: 20 }
 */
export function previewBodyFor(command: CliCommand, apiKill?: KillTexts): object | undefined {
  switch (command.name) {
    case 'status':
    case 'health':
    case 'audit':
    case 'verdict':
      return undefined;
    case 'set':
      return { percent: command.percent };
    case 'flag':
      return {
        flag: command.flag,
        enabled: command.enabled,
        ...(command.percent === undefined ? {} : { percent: command.percent }),
        ...(command.create ? { create: true } : {}),
      };
    case 'kill': {
      if (command.targets === 'off') return { kill: 'off' };
      const held = apiKill ?? { canary: false, allFlags: false, flags: [] };
      const flags = [...new Set([...held.flags, ...command.targets.flags])];
      return {
        kill: {
          ...(command.targets.canary || held.canary ? { canary: true } : {}),
          ...(command.targets.allFlags || held.allFlags ? { allFlags: true } : {}),
          ...(flags.length ? { flags } : {}),
        },
      };
    }
    default:
      return { transition: command.name };
  }
}

/** The API kill switch as the CLI merges it. */
export interface KillTexts {
  canary: boolean;
  allFlags: boolean;
  flags: string[];
}

/**
 * Shows the preview of a write and decides whether to send it. Reads are sent at once. Without a
 * terminal and without `--preview`, nothing is fetched or asked (the write goes out as before).
 * On a terminal: the preview goes to stderr (stdout stays the command's answer), then the
 * question, unless `--yes`, or unless the write moves nobody. A preview that cannot be had is
 * said, and the question still asked.
 */
export async function confirmWrite(
  command: CliCommand,
  context: {
    client: AdminClient;
    connection: Pick<Connection, 'url' | 'prefix' | 'token' | 'actor'>;
    fetch?: typeof fetch;
    options: ConfirmOptions;
    out(text: string): void;
    err(text: string): void;
  },
): Promise<ConfirmedWrite> {
  const { options } = context;
  // Reads move nobody: no preview, no question.
  if (previewBodyFor(command) === undefined) return { decision: 'send' };
  if (!options.previewOnly && !(options.interactive && options.ask)) return { decision: 'send' };
  const apiKill =
    command.name === 'kill' && command.targets !== 'off' ? await heldApiKill(context.client) : undefined;
  const body = previewBodyFor(command, apiKill)!;
  const print = options.previewOnly ? context.out : context.err;
  let preview: PreviewAnswer | undefined;
  try {
    preview = await fetchPreview(context.connection, body, context.fetch);
  } catch (error) {
    if (options.previewOnly) throw error;
    print(`Preview unavailable: ${(error as Error).message}`);
  }
  if (preview) for (const line of describePreview(preview)) print(line);
  if (options.previewOnly) return { decision: 'stop' };
  const send: ConfirmedWrite = preview
    ? { decision: 'send', previewVersion: preview.currentVersion }
    : { decision: 'send' };
  if (options.yes) return send;
  if (preview && !preview.preview.movesVisitors) return send;
  const answer = (await options.ask!('Send this change? [y/N] ')).trim().toLowerCase();
  return answer === 'y' || answer === 'yes' ? send : { decision: 'declined' };
}

/** The lines a person reads: the version step, then one line per move. */
export function describePreview(answer: PreviewAnswer): string[] {
  const head = answer.changed
    ? `Preview: version ${answer.currentVersion} → ${answer.version}.`
    : `Preview: this changes nothing (version ${answer.currentVersion} stays).`;
  return [head, ...answer.preview.summary.map((line) => `  ${line}`)];
}

async function heldApiKill(client: AdminClient): Promise<KillTexts> {
  const { kill } = (await client.state()).data;
  const api = (kill as { sources?: { api: string | null } }).sources?.api ?? null;
  const tokens = (api ?? '').split(/[\s,]+/).filter(Boolean);
  return {
    canary: tokens.includes('canary') || tokens.includes('all'),
    allFlags: tokens.includes('flags') || tokens.includes('all'),
    flags: tokens.filter((token) => token.startsWith('flag:')).map((token) => token.slice(5)),
  };
}

/** `POST <prefix>/preview`: a dry run of the write; nothing changes. */
export async function fetchPreview(
  connection: Pick<Connection, 'url' | 'prefix' | 'token' | 'actor'>,
  body: object,
  fetchImpl: typeof fetch = fetch,
  timeoutMs = 15_000,
): Promise<PreviewAnswer> {
  const headers: Record<string, string> = { accept: 'application/json', 'content-type': 'application/json' };
  if (connection.token) headers.authorization = `Bearer ${connection.token}`;
  if (connection.actor) headers['x-rollout-actor'] = connection.actor;
  let response: Response;
  let text: string;
  try {
    response = await fetchImpl(`${connection.url}${connection.prefix}/preview`, {
      method: 'POST',
      headers,
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
    text = await response.text();
  } catch (error) {
    throw new UnreachableError(new URL(connection.url).origin, error);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  if (!response.ok) {
    const error = (json as { error?: unknown } | undefined)?.error;
    const issues = (json as { issues?: unknown } | undefined)?.issues;
    throw new ApiError(
      `POST ${connection.prefix}/preview answered ${response.status}${typeof error === 'string' ? `: ${error}` : ''}`,
      response.status,
      Array.isArray(issues) ? issues.map(String) : [],
    );
  }
  const parsed = PreviewAnswerSchema.safeParse(json);
  if (!parsed.success)
    throw new ApiError(`the answer to POST ${connection.prefix}/preview is not a preview`, response.status);
  return parsed.data;
}
