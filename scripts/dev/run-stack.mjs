#!/usr/bin/env node
// `npm run dev`: both Workers in one multi-config `wrangler dev`, the edge first (it gets the
// port; the control Worker is reached over the edge's service binding and, for the cockpit, the
// `cockpit.localhost` host the edge forwards).
//
//   npm run dev -- [--port N] [--ip A] [--persist-to DIR] [--var NAME:VALUE …] [--env-file FILE …]
//                  [other wrangler dev options, passed through]
//
// wrangler 4.86 gives `--var`, `--env-file` and `--test-scheduled` to the first config only, so
// this wrapper routes each variable itself: to the Worker whose config declares it (in [vars] or
// [secrets] required), to both when both or neither do. It writes a copy of each config (paths
// made absolute) into a private folder under .wrangler/, with a .dev.vars (mode 0600) for the
// secrets and [vars] for the rest, merged over the user's own .dev.vars beside each real config,
// which is read and never written. The folder is removed when the stack stops.
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseToml } from 'smol-toml';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const CONFIGS = [
  { plane: 'edge', path: join(root, 'wrangler.toml') },
  { plane: 'control', path: join(root, 'worker', 'control', 'wrangler.toml') },
];
const NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;

function fail(message) {
  console.error(`npm run dev: ${message}`);
  process.exit(2);
}

/** Reads a dotenv file: NAME=value, NAME="value" or NAME='value'; # comments and blank lines. */
export function parseDotenv(text, source) {
  const entries = {};
  for (const [index, raw] of text.split(/\r?\n/).entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const match = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line);
    if (!match) fail(`${source}:${index + 1}: expected NAME=value`);
    let value = match[2];
    const quoted = /^(['"])(.*)\1$/.exec(value);
    if (quoted) value = quoted[2];
    entries[match[1]] = value;
  }
  return entries;
}

function parseArgs(argv) {
  const vars = {};
  const envFiles = [];
  const passThrough = [];
  let persistTo;
  let port;
  let ip;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const [flag, inline] =
      arg.startsWith('--') && arg.includes('=') ? arg.split(/=(.*)/s, 2) : [arg, undefined];
    const value = () => {
      const next = inline ?? argv[++i];
      if (next === undefined || (inline === undefined && next.startsWith('--')))
        fail(`${flag} needs a value`);
      return next;
    };
    if (flag === '--var') {
      // wrangler's own form takes several pairs after one --var; so do we.
      const pairs = inline !== undefined ? [inline] : [];
      if (inline === undefined)
        while (argv[i + 1] !== undefined && !argv[i + 1].startsWith('--')) pairs.push(argv[++i]);
      if (pairs.length === 0) fail('--var needs NAME:VALUE');
      for (const pair of pairs) {
        const colon = pair.indexOf(':');
        const name = colon < 0 ? '' : pair.slice(0, colon);
        if (!NAME.test(name)) fail(`--var ${JSON.stringify(pair)} is not NAME:VALUE`);
        vars[name] = pair.slice(colon + 1);
      }
    } else if (flag === '--env-file') envFiles.push(resolve(value()));
    else if (flag === '--persist-to') persistTo = resolve(value());
    else if (flag === '--port') {
      port = value();
      if (!/^\d{1,5}$/.test(port) || Number(port) < 1 || Number(port) > 65535)
        fail(`--port ${port} is not a TCP port`);
    } else if (flag === '--ip') ip = value();
    else if (flag === '-c' || flag === '--config' || flag === '--env' || flag === '-e')
      fail(`${flag} is not for npm run dev: it always runs wrangler.toml and worker/control/wrangler.toml`);
    else passThrough.push(arg);
  }
  for (const file of envFiles) {
    if (!existsSync(file)) fail(`--env-file ${file} does not exist`);
    Object.assign(vars, { ...parseDotenv(readFileSync(file, 'utf8'), file), ...vars });
  }
  return { vars, passThrough, persistTo, port, ip };
}

/** The config with relative paths resolved, so a copy of it may live in another folder. */
function absolutized(config, dir) {
  const copy = structuredClone(config);
  if (copy.main) copy.main = resolve(dir, copy.main);
  if (copy.assets?.directory) copy.assets.directory = resolve(dir, copy.assets.directory);
  delete copy.env;
  return copy;
}

const { vars, passThrough, persistTo, port, ip } = parseArgs(process.argv.slice(2));
const planes = CONFIGS.map(({ plane, path }) => {
  const config = parseToml(readFileSync(path, 'utf8'));
  const secrets = new Set(config.secrets?.required ?? []);
  const declared = new Set([...Object.keys(config.vars ?? {}), ...secrets]);
  const userDevVars = join(dirname(path), '.dev.vars');
  const own = existsSync(userDevVars) ? parseDotenv(readFileSync(userDevVars, 'utf8'), userDevVars) : {};
  return { plane, path, config, secrets, declared, own };
});
const routed = Object.fromEntries(planes.map(({ plane }) => [plane, {}]));
for (const [name, value] of Object.entries(vars)) {
  const owners = planes.filter(({ declared }) => declared.has(name));
  for (const { plane } of owners.length ? owners : planes) routed[plane][name] = value;
}

const stackDir = join(root, '.wrangler', `dev-stack-${process.pid}`);
const cleanUp = () => rmSync(stackDir, { recursive: true, force: true });
mkdirSync(stackDir, { recursive: true, mode: 0o700 });
const configPaths = planes.map(({ plane, path, config, secrets, own }) => {
  const dir = join(stackDir, plane);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const values = { ...own, ...routed[plane] };
  const generated = absolutized(config, dirname(path));
  const devVars = [];
  for (const [name, value] of Object.entries(values)) {
    if (secrets.has(name)) devVars.push(`${name}=${JSON.stringify(value)}`);
    else (generated.vars ??= {})[name] = value;
  }
  const file = join(dir, 'wrangler.json');
  writeFileSync(file, JSON.stringify(generated, null, 2));
  const devVarsFile = join(dir, '.dev.vars');
  writeFileSync(devVarsFile, devVars.join('\n') + '\n', { mode: 0o600 });
  chmodSync(devVarsFile, 0o600);
  return file;
});

const wrangler = join(root, 'node_modules', 'wrangler', 'bin', 'wrangler.js');
const args = [wrangler, 'dev', ...configPaths.flatMap((path) => ['-c', path])];
args.push('--persist-to', persistTo ?? join(root, '.wrangler', 'state'));
if (port) args.push('--port', port);
if (ip) args.push('--ip', ip);
args.push(...passThrough);
const child = spawn(process.execPath, args, {
  cwd: root,
  stdio: 'inherit',
  env: { WRANGLER_SEND_METRICS: 'false', ...process.env },
});
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'])
  process.on(signal, () => {
    if (child.exitCode === null) child.kill(signal);
  });
child.on('exit', (code, signal) => {
  cleanUp();
  process.exit(code ?? (signal ? 1 : 0));
});
child.on('error', (error) => {
  cleanUp();
  fail(`could not start wrangler: ${error.message}`);
});
