import { parseArgs } from 'node:util';
import * as z from 'zod/mini';
import { ROLES, sha256Of, tokenHashLine, TokenNameSchema } from '../src/admin/tokens';
import { describeIssues } from '../src/config/parse-config';
import { base64UrlEncode } from '../src/encoding';
import { EXIT_CODES, type ExitCode } from './errors';

// `npx rollout token new --name alice --role operator`: makes a named token offline (no URL, no
// admin call) and prints it once, with the line its holder's admin adds to ADMIN_TOKENS.

/** The usage of the token subcommand, as help and usage errors print it. */
export const TOKEN_USAGE = `token new --name NAME --role ${ROLES.join('|')} [--json]`;

const TokenNewSchema = z.strictObject({
  name: TokenNameSchema,
  role: z.enum(ROLES, { error: `--role is one of ${ROLES.join(', ')}` }),
  json: z.optional(z.boolean()),
});

/** Where the token command writes, and where its randomness comes from (tests pin it). */
export interface TokenRuntime {
  stdout(text: string): void;
  stderr(text: string): void;
  randomBytes?: (length: number) => Uint8Array;
}

const HELP = [
  `npx rollout ${TOKEN_USAGE}`,
  '',
  'Makes a new admin token: 32 random bytes, base64url (43 characters). Prints the token once,',
  'and the line name:role:sha256 to add to the control Worker’s ADMIN_TOKENS secret. Only the',
  'hash is stored there; the token goes to its holder (a password manager, never chat).',
  '',
  'Roles: admin (everything), operator (ramp, abort, kill, flags, undo, preview, override links),',
  'viewer (read: state, audit, session, series), events (only POST /__rollout/events).',
  'Rotation and who holds which token: docs/TOKENS.md.',
  '',
  'Examples:',
  '  npx rollout token new --name alice --role operator',
  '  npx rollout token new --name ci-deployer --role operator --json',
].join('\n');

/** A token command line, checked: the input of `token new`, its help, or why it is wrong. */
export type TokenCommandLine =
  { input: z.infer<typeof TokenNewSchema> } | { help: boolean } | { error: string };

/**
 * Checks `npx rollout token …` without running it (the docs checker and `parseCommandLine` use
 * this). `help: false` means no subcommand was given: the help is printed as a usage error.
 *
 * @example
 * parseTokenCommandLine(['new', '--name', 'alice', '--role', 'operator']); // { input: { name: 'alice', role: 'operator' } }
 */
export function parseTokenCommandLine(argv: readonly string[]): TokenCommandLine {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        name: { type: 'string' },
        role: { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    return { error: error instanceof Error ? error.message : String(error) };
  }
  if (parsed.values.help || parsed.positionals.length === 0) return { help: parsed.values.help === true };
  if (parsed.positionals.length !== 1 || parsed.positionals[0] !== 'new')
    return { error: `unknown token command: ${parsed.positionals.join(' ').slice(0, 40)} (only "new")` };
  if (parsed.values.name === undefined) return { error: '--name is required (who holds the token)' };
  if (parsed.values.role === undefined) return { error: `--role is required: ${ROLES.join(', ')}` };
  const input = TokenNewSchema.safeParse(parsed.values);
  if (!input.success) return { error: describeIssues(input.error).join('; ') };
  return { input: input.data };
}

/**
 * Runs `npx rollout token …` and resolves to its exit code. Nothing is sent anywhere; the token
 * is printed once and never written to a file.
 *
 * @example
 * await runTokenCommand(['new', '--name', 'alice', '--role', 'operator'], { stdout, stderr });
 */
export async function runTokenCommand(argv: readonly string[], runtime: TokenRuntime): Promise<ExitCode> {
  const parsed = parseTokenCommandLine(argv);
  if ('error' in parsed) {
    runtime.stderr(`error: ${parsed.error}\nusage: npx rollout ${TOKEN_USAGE}\n`);
    return EXIT_CODES.usage;
  }
  if ('help' in parsed) {
    runtime.stdout(`${HELP}\n`);
    return parsed.help ? EXIT_CODES.ok : EXIT_CODES.usage;
  }
  const input = { data: parsed.input };
  const { name, role, json } = input.data;
  const random = runtime.randomBytes ?? ((length) => crypto.getRandomValues(new Uint8Array(length)));
  const token = base64UrlEncode(random(32));
  const line = tokenHashLine(name, role, await sha256Of(token));
  if (json) runtime.stdout(`${JSON.stringify({ name, role, token, line })}\n`);
  else
    runtime.stdout(
      [
        `New ${role} token for ${name}, shown once: hand it to ${name} through a password manager.`,
        `  ${token}`,
        '',
        'Add this line to the control Worker’s ADMIN_TOKENS secret (keep the old line while rotating):',
        `  ${line}`,
        '',
        'Then: npx wrangler secret put ADMIN_TOKENS -c worker/control/wrangler.toml --env production',
        '(paste every line, the old ones too). docs/TOKENS.md has the whole procedure.',
        '',
      ].join('\n'),
    );
  return EXIT_CODES.ok;
}
