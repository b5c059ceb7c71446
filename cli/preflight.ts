import { execFile } from 'node:child_process';
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { delimiter, isAbsolute, join, relative } from 'node:path';
import { parse as parseToml } from 'smol-toml';

/**
 * Phase A's read-only checks of the production deploy, as `npx rollout preflight`: no
 * `REPLACE_WITH…` placeholder left in either Worker's wrangler config for the environment, and
 * every secret a Worker requires either in the secrets file (`.env.production`) or already in
 * that Worker's `wrangler secret list`. Names are printed, values never: the file's values only
 * ever leave through `npx rollout secrets-bulk`, on stdout into `wrangler secret bulk`.
 */

/** The two Workers: the edge (in front of the app) and the control plane. */
export type Plane = 'edge' | 'control';

/** One `REPLACE_WITH…` left in an environment's tables of a wrangler config. */
export interface Placeholder {
  line: number;
  text: string;
}

/**
 * The placeholders of environment `env` in a wrangler config: lines in `[env.<env>]` or its
 * sub-tables (`[[env.<env>.kv_namespaces]]`, …) that hold `REPLACE_WITH` and are not comments.
 * Read line by line, not parsed, so each is reported with its line number.
 *
 * @example
 * findPlaceholders('[env.production]\nid = "REPLACE_WITH_ID"\n', 'production');
 * // [{ line: 2, text: 'id = "REPLACE_WITH_ID"' }]
 */
export function findPlaceholders(toml: string, env: string): Placeholder[] {
  const found: Placeholder[] = [];
  let inside = false;
  toml.split(/\r?\n/).forEach((text, index) => {
    if (/^\s*\[/.test(text)) {
      const header = text.replace(/#.*$/, '').replace(/[[\]\s]/g, '');
      inside = header === `env.${env}` || header.startsWith(`env.${env}.`);
    } else if (inside && text.includes('REPLACE_WITH') && !/^\s*#/.test(text)) {
      found.push({ line: index + 1, text });
    }
  });
  return found;
}

/**
 * The secret names a wrangler config declares in its top-level `[secrets] required`: the secrets
 * this Worker reads, so the ones pushed to it.
 *
 * @example
 * declaredSecrets('[secrets]\nrequired = ["ADMIN_TOKEN"]\n'); // ['ADMIN_TOKEN']
 */
export function declaredSecrets(toml: string): string[] {
  const secrets = (parseToml(toml) as { secrets?: { required?: unknown } }).secrets;
  const required = secrets?.required;
  return Array.isArray(required) ? required.filter((name): name is string => typeof name === 'string') : [];
}

const ASSIGNMENT = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/;

/** What `.env.production.example` says: every secret name, and those marked `# [required]`. */
export interface SecretsExample {
  known: string[];
  required: string[];
}

/**
 * Reads the secrets example: each `NAME=` line is a known secret; one right under a comment
 * starting `# [required]` (the comment may run over several lines) is required.
 *
 * @example
 * readSecretsExample('# [required] the token\nADMIN_TOKEN=\nSENTRY_DSN=\n');
 * // { known: ['ADMIN_TOKEN', 'SENTRY_DSN'], required: ['ADMIN_TOKEN'] }
 */
export function readSecretsExample(text: string): SecretsExample {
  const known: string[] = [];
  const required: string[] = [];
  let nextRequired = false;
  for (const line of text.split(/\r?\n/)) {
    if (/^#\s*\[required\]/.test(line)) nextRequired = true;
    const match = ASSIGNMENT.exec(line);
    if (match) {
      known.push(match[1]!);
      if (nextRequired) required.push(match[1]!);
      nextRequired = false;
    } else if (!line.startsWith('#')) nextRequired = false;
  }
  return { known, required };
}

/** What a secrets file holds, by name; `values` is the only place a value is kept. */
export interface SecretsFile {
  /** Names with a value, in file order: what would be pushed. */
  push: string[];
  values: Record<string, string>;
  /** Names present but empty: skipped. */
  empty: string[];
  /** Names the example does not know: the Worker does not read them. */
  unknown: string[];
  /** 1-based numbers of lines that are not `NAME=value`. */
  bad: number[];
}

/**
 * Reads a dotenv-style secrets file: `NAME=value`, optionally `export NAME=value`, a value in
 * single or double quotes kept as is, an unquoted value cut at ` #` (a trailing comment).
 *
 * @example
 * readSecretsFile('ADMIN_TOKEN="abc"\nSENTRY_DSN=\n', ['ADMIN_TOKEN', 'SENTRY_DSN']).push; // ['ADMIN_TOKEN']
 */
export function readSecretsFile(text: string, known: readonly string[]): SecretsFile {
  const file: SecretsFile = { push: [], values: {}, empty: [], unknown: [], bad: [] };
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const match = ASSIGNMENT.exec(line.replace(/^export\s+/, ''));
    if (!match) return void file.bad.push(index + 1);
    const name = match[1]!;
    let value = match[2]!.trim();
    const quoted = /^(["'])(.*)\1$/.exec(value);
    value = quoted ? quoted[2]! : value.replace(/\s+#.*$/, '');
    if (!known.includes(name)) return void file.unknown.push(name);
    if (value === '') return void file.empty.push(name);
    file.values[name] = value;
    file.push.push(name);
  });
  return file;
}

/**
 * The names in `wrangler secret list` output: a JSON array, possibly after a banner line.
 * Undefined when it holds no such array.
 *
 * @example
 * secretListNames('⛅️ wrangler 4\n[{"name":"ADMIN_TOKEN","type":"secret_text"}]'); // ['ADMIN_TOKEN']
 */
export function secretListNames(output: string): string[] | undefined {
  const start = output.indexOf('[');
  if (start < 0) return undefined;
  try {
    const list = JSON.parse(output.slice(start)) as unknown;
    if (!Array.isArray(list)) return undefined;
    return list.flatMap((entry) =>
      entry && typeof entry === 'object' && typeof (entry as { name?: unknown }).name === 'string'
        ? [(entry as { name: string }).name]
        : [],
    );
  } catch {
    return undefined;
  }
}

/** Runs `wrangler` with arguments; injected so tests never start one. */
export type RunWrangler = (args: readonly string[]) => Promise<{ code: number; stdout: string }>;

/**
 * The `wrangler` first on PATH (the script tests put a stub there), else the project's own
 * through `npx --no`, as scripts/lib/common.sh does.
 */
export const runWrangler: RunWrangler = (args) => {
  const onPath = (process.env.PATH ?? '').split(delimiter).some((dir) => {
    try {
      accessSync(join(dir, 'wrangler'), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
  const [file, argv] = onPath ? ['wrangler', [...args]] : ['npx', ['--no', 'wrangler', ...args]];
  return new Promise((resolve) => {
    execFile(file, argv, { maxBuffer: 16 * 1024 * 1024 }, (error, stdout) =>
      resolve({
        code: error ? (typeof error.code === 'number' ? error.code : 1) : 0,
        stdout: String(stdout),
      }),
    );
  });
};

/** Where the preflight reads: the environment and the four files. */
export interface PreflightFiles {
  env: string;
  /** The edge config; when given it is also passed on to wrangler as `--config`. */
  edgeConfig?: string;
  /** The edge config read when `edgeConfig` is not given: wrangler's own default. */
  defaultEdgeConfig: string;
  controlConfig: string;
  secretsFile: string;
  secretsExample: string;
}

/** The report: lines to print (failures among them, as `✘`), and the failures alone. */
export interface PreflightReport {
  lines: string[];
  failures: string[];
}

/** Paths as ops read them: relative to the working directory when inside it. */
export function shownPath(path: string, cwd: string = process.cwd()): string {
  const rel = relative(cwd, path);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel) ? rel : path;
}

/**
 * Runs the preflight checks, each Worker in turn, and returns what to print. Every check runs,
 * so a dry run reports every failure at once; the script stops a real run at the first `✘`.
 *
 * @example
 * const report = await runPreflight({ env: 'production', defaultEdgeConfig: 'wrangler.toml', … }, runWrangler);
 * report.failures; // ['required secret(s) of the control Worker missing from both …: CF_API_TOKEN']
 */
export async function runPreflight(files: PreflightFiles, wrangler: RunWrangler): Promise<PreflightReport> {
  const lines: string[] = [];
  const failures: string[] = [];
  const ok = (text: string) => lines.push(`     ✔ ${text}`);
  const failed = (text: string) => {
    lines.push(`     ✘ ${text}`);
    failures.push(text);
  };
  const configs: Record<Plane, string> = {
    edge: files.edgeConfig ?? files.defaultEdgeConfig,
    control: files.controlConfig,
  };
  const texts: Partial<Record<Plane, string>> = {};
  for (const plane of ['edge', 'control'] as const) {
    lines.push(`  -> ${plane} wrangler config: ${shownPath(configs[plane])} [env.${files.env}]`);
    try {
      texts[plane] = readFileSync(configs[plane], 'utf8');
    } catch {
      failed(`cannot read the ${plane} wrangler config ${shownPath(configs[plane])}`);
      continue;
    }
    const placeholders = findPlaceholders(texts[plane], files.env);
    if (placeholders.length === 0) ok(`no placeholder left for env ${files.env}`);
    else {
      for (const { line, text } of placeholders) lines.push(`       line ${line}: ${text}`);
      failed(
        `the ${plane} wrangler config still has REPLACE_WITH… placeholders for env ${files.env} (create the namespace and put its id there: docs/LAUNCH-RUNBOOK.md)`,
      );
    }
  }

  const secretsShown = shownPath(files.secretsFile);
  lines.push(`  -> production secrets: ${secretsShown} and wrangler secret list`);
  let example: SecretsExample;
  try {
    example = readSecretsExample(readFileSync(files.secretsExample, 'utf8'));
  } catch {
    failed(`cannot read ${shownPath(files.secretsExample)}`);
    return { lines, failures };
  }
  const present = existsSync(files.secretsFile);
  const file = present
    ? readSecretsFile(readFileSync(files.secretsFile, 'utf8'), example.known)
    : readSecretsFile('', example.known);
  if (file.bad.length) failed(`${secretsShown}: line(s) ${file.bad.join(' ')} are not NAME=value`);
  if (file.unknown.length)
    failed(
      `${secretsShown} names secrets the Worker does not read: ${file.unknown.join(' ')} (see ${shownPath(files.secretsExample)})`,
    );
  if (file.empty.length) lines.push(`     skipped (empty in the file): ${file.empty.join(' ')}`);
  lines.push(
    present
      ? `     in the file: ${file.push.join(' ') || '(no value set)'}`
      : '     no secrets file: only the secrets already set count',
  );

  for (const plane of ['edge', 'control'] as const) {
    let declared: string[];
    try {
      declared = declaredSecrets(texts[plane] ?? readFileSync(configs[plane], 'utf8'));
    } catch {
      failed(`cannot read the ${plane} config's [secrets]`);
      continue;
    }
    const where =
      plane === 'edge'
        ? files.edgeConfig === undefined
          ? []
          : ['--config', files.edgeConfig]
        : ['--config', files.controlConfig];
    const listed = await wrangler(['secret', 'list', '--env', files.env, ...where]);
    if (listed.code !== 0) {
      failed(`wrangler secret list of the ${plane} Worker failed (logged in? the Worker deployed once?)`);
      continue;
    }
    const existing = secretListNames(listed.stdout) ?? [];
    const checked = example.required.filter((name) => declared.includes(name));
    const missing = checked.filter((name) => !file.push.includes(name) && !existing.includes(name));
    if (missing.length)
      failed(
        `required secret(s) of the ${plane} Worker missing from both ${secretsShown} and its wrangler secret list: ${missing.join(' ')}`,
      );
    else
      ok(
        `every required secret of the ${plane} Worker is set or in the file: ${checked.join(' ') || '(none)'}`,
      );
  }
  return { lines, failures };
}

/**
 * The secrets of the file that go to one Worker (those its config declares), or to any Worker
 * without `plane`: names in file order, and the values, for `wrangler secret bulk` on stdin.
 *
 * @example
 * secretsToPush({ …files }, 'edge').names; // ['OVERRIDE_SECRET']
 */
export function secretsToPush(
  files: Pick<
    PreflightFiles,
    'edgeConfig' | 'defaultEdgeConfig' | 'controlConfig' | 'secretsFile' | 'secretsExample'
  >,
  plane?: Plane,
): { names: string[]; values: Record<string, string> } {
  const example = readSecretsExample(readFileSync(files.secretsExample, 'utf8'));
  const file = existsSync(files.secretsFile)
    ? readSecretsFile(readFileSync(files.secretsFile, 'utf8'), example.known)
    : readSecretsFile('', example.known);
  const config = plane === 'control' ? files.controlConfig : (files.edgeConfig ?? files.defaultEdgeConfig);
  const declared = plane === undefined ? file.push : declaredSecrets(readFileSync(config, 'utf8'));
  const names = file.push.filter((name) => declared.includes(name));
  return { names, values: Object.fromEntries(names.map((name) => [name, file.values[name]!])) };
}
