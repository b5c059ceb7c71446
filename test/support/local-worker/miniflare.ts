import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { Log, LogLevel, Miniflare, type WorkerOptions } from 'miniflare';
import { unstable_getMiniflareWorkerOptions } from 'wrangler';

/** How the ROLLOUT binding behaves: normally, or throwing on every call like a KV outage. */
export type KvMode = 'ok' | 'throw';

/** The production bundle running in one workerd (Miniflare), for Node-side system tests. */
export interface MiniflareWorker {
  /** The Worker's loopback URL, without a trailing slash. */
  url: string;
  /** The ROLLOUT namespace as stored, read and written from Node (bypassing any fault). */
  kv: Awaited<ReturnType<Miniflare['getKVNamespace']>>;
  /** Switches the Worker's ROLLOUT binding between working and throwing (needs `kvFaults`). */
  setKvMode(mode: KvMode): void;
  /** How many KV calls the Worker made so far (counted with `kvFaults` only). */
  kvCalls(): number;
  /** The Worker's structured log lines (its JSON console output), parsed, in order. */
  logLines(): WorkerLogLine[];
  /** Everything the runtime printed so far. */
  output(): string;
  dispose(): Promise<void>;
}

/** One JSON line the Worker's logger wrote. */
export interface WorkerLogLine {
  level: string;
  message: string;
  [field: string]: unknown;
}

/** Options of {@link startMiniflareWorker}. */
export interface MiniflareWorkerOptions {
  /**
   * Bind ROLLOUT through a wrapper that forwards to the real KV namespace unless switched to
   * `throw`: the only way to make KV fail under local workerd, which has no KV outages.
   */
  kvFaults?: boolean;
}

const KV_NAMESPACE_ID = 'rollout-system-test';

// The wrapper forwards every KV method the Worker uses to the real namespace. It asks Node for
// the mode on each call, so a test can flip it while traffic is flowing.
const FAULTY_KV_MODULE = `
export default function faultyKv(env) {
  async function guard(method) {
    const mode = await (await env.KV_MODE.fetch('http://kv-mode/')).text();
    if (mode === 'throw') throw new Error('KV ' + method + ' failed: simulated outage (500)');
  }
  return {
    async get(...args) { await guard('GET'); return env.INNER.get(...args); },
    async getWithMetadata(...args) { await guard('GET'); return env.INNER.getWithMetadata(...args); },
    async put(...args) { await guard('PUT'); return env.INNER.put(...args); },
    async delete(...args) { await guard('DELETE'); return env.INNER.delete(...args); },
    async list(...args) { await guard('LIST'); return env.INNER.list(...args); },
  };
}`;

/** The control Worker's config, beside the edge's top-level wrangler.toml. */
const CONTROL_CONFIG = 'worker/control/wrangler.toml';

/**
 * Bundles one Worker exactly as `wrangler deploy` would (`--dry-run`), into a folder of its own.
 * Inside the project: workerd resolves module names relative to it.
 */
function bundleWorker(config: string, label: string): { dir: string; scriptPath: string } {
  const dir = resolve('dist', `system-${label}-${process.pid}-${Date.now()}`);
  const result = spawnSync(
    'npx',
    ['wrangler', 'deploy', '--dry-run', '--env', '', '--outdir', dir, '-c', config],
    {
      encoding: 'utf8',
      env: { ...process.env, WRANGLER_SEND_METRICS: 'false', NO_COLOR: '1' },
      timeout: 60_000,
    },
  );
  if (result.status !== 0) throw new Error(`bundling failed:\n${result.stderr}${result.stdout}`);
  return { dir, scriptPath: join(dir, 'index.js') };
}

function parseLogLines(text: string): WorkerLogLine[] {
  const lines: WorkerLogLine[] = [];
  for (const line of text.split('\n')) {
    const start = line.indexOf('{');
    if (start < 0) continue;
    try {
      const value = JSON.parse(line.slice(start)) as Partial<WorkerLogLine>;
      if (typeof value.level === 'string' && typeof value.message === 'string')
        lines.push(value as WorkerLogLine);
    } catch {
      // Not one of the Worker's structured lines (runtime chatter).
    }
  }
  return lines;
}

/**
 * Runs the production bundles of both Workers with the bindings of their configs (KV, Analytics
 * Engine, version metadata, the service binding, the Durable Object, vars) in one workerd, with
 * `vars` overriding the vars of both. Bounded: bundling and start-up
 * each give up after 60 s.
 *
 * @example
 * const worker = await startMiniflareWorker({ STABLE_ORIGIN: 'http://127.0.0.1:8701', ... });
 * await fetch(`${worker.url}/`);
 */
export async function startMiniflareWorker(
  vars: Record<string, string>,
  { kvFaults = false }: MiniflareWorkerOptions = {},
): Promise<MiniflareWorker> {
  const bundle = bundleWorker('wrangler.toml', 'edge');
  const controlBundle = bundleWorker(CONTROL_CONFIG, 'control');
  const fromConfig = unstable_getMiniflareWorkerOptions('wrangler.toml').workerOptions;
  const fromControl = unstable_getMiniflareWorkerOptions(CONTROL_CONFIG).workerOptions;
  let kvMode: KvMode = 'ok';
  let kvCalls = 0;
  let output = '';
  const splitter = {
    ...fromConfig,
    name: 'splitter',
    modules: true,
    scriptPath: bundle.scriptPath,
    bindings: { ...fromConfig.bindings, ...vars },
    kvNamespaces: kvFaults ? {} : { ROLLOUT: KV_NAMESPACE_ID },
    wrappedBindings: kvFaults ? { ROLLOUT: 'faulty-kv' } : {},
    unsafeDirectSockets: [{ host: '127.0.0.1', port: 0 }],
  } as WorkerOptions;
  const control = {
    ...fromControl,
    name: 'edge-rollout-control',
    modules: true,
    scriptPath: controlBundle.scriptPath,
    bindings: { ...fromControl.bindings, ...vars },
    // A KV outage is everywhere: the control Worker's replica writes fail with the edge's reads.
    kvNamespaces: kvFaults ? {} : { ROLLOUT: KV_NAMESPACE_ID },
    wrappedBindings: kvFaults ? { ROLLOUT: 'faulty-kv' } : {},
  } as WorkerOptions;
  const workers: WorkerOptions[] = [
    splitter,
    control,
    // Gives Node a handle on the namespace that the wrapper (or the Worker) uses.
    {
      name: 'kv-access',
      modules: true,
      script: 'export default {}',
      kvNamespaces: { ROLLOUT: KV_NAMESPACE_ID },
    },
  ];
  if (kvFaults)
    workers.push({
      name: 'faulty-kv',
      modules: true,
      script: FAULTY_KV_MODULE,
      kvNamespaces: { INNER: KV_NAMESPACE_ID },
      serviceBindings: {
        KV_MODE: () => {
          kvCalls++;
          return new Response(kvMode);
        },
      },
    } as WorkerOptions);
  const mf = new Miniflare({
    workers,
    log: new Log(LogLevel.WARN),
    // A fixed `request.cf`: the default would fetch one from Cloudflare, and tests stay offline.
    cf: { colo: 'LOC', country: 'XX' },
    handleRuntimeStdio(stdout: Readable, stderr: Readable) {
      stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
      stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    },
  });
  try {
    const url = (await mf.unsafeGetDirectURL('splitter')).href.replace(/\/$/, '');
    const kv = await mf.getKVNamespace('ROLLOUT', 'kv-access');
    return {
      url,
      kv,
      setKvMode(mode) {
        if (!kvFaults) throw new Error('setKvMode needs startMiniflareWorker(..., { kvFaults: true })');
        kvMode = mode;
      },
      kvCalls: () => kvCalls,
      logLines: () => parseLogLines(output),
      output: () => output,
      async dispose() {
        await mf.dispose();
        for (const { dir } of [bundle, controlBundle]) rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await mf.dispose().catch(() => undefined);
    for (const { dir } of [bundle, controlBundle]) rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}
