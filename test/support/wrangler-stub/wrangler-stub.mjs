// A fake `wrangler` for the launch script tests. It appends each call's arguments as one JSON
// line to $WRANGLER_STUB_LOG and answers the commands the scripts use the way wrangler 4 does,
// without touching Cloudflare:
//   secret list            JSON list of $WRANGLER_STUB_SECRETS (default ADMIN_TOKEN)
//   secret bulk [file]     reads JSON (a file, or stdin) and confirms each key by name, as
//                          wrangler 4 does; the names (never the values) are appended as one JSON
//                          line to $WRANGLER_STUB_LOG.bulk
//   deployments status     JSON deployment with $WRANGLER_STUB_PREVIOUS_VERSION at 100 %
//   deploy                 "Current Version ID: $WRANGLER_STUB_NEW_VERSION"
//   versions upload|deploy "Worker Version ID: …" / a deployed confirmation
//   rollback [id]          a rolled-back confirmation
//   kv key get kill        $WRANGLER_STUB_KILL_VALUE, or "Value not found"
//   kv key put|delete      a confirmation
//   whoami                 logged in, as wrangler 4 prints it; with $WRANGLER_STUB_LOGGED_OUT=1,
//                          wrangler's "not authenticated" line (exit 0, as wrangler does)
// A command listed in $WRANGLER_STUB_FAIL (comma-separated, e.g. "deploy,rollback") exits 1.
import { appendFileSync, readFileSync } from 'node:fs';

const args = process.argv.slice(2);
const env = process.env;
if (env.WRANGLER_STUB_LOG) appendFileSync(env.WRANGLER_STUB_LOG, `${JSON.stringify(args)}\n`);

const positionals = args.filter((arg, i) => !arg.startsWith('-') && !isOptionValue(i));
const words = { kv: 3, secret: 2, deployments: 2, versions: 2 }[positionals[0] ?? ''] ?? 1;
const command = positionals.slice(0, words).join(' ');
const failing = (env.WRANGLER_STUB_FAIL ?? '').split(',').filter(Boolean);
const newVersion = env.WRANGLER_STUB_NEW_VERSION ?? '11111111-2222-4333-8444-555555555555';
const previousVersion = env.WRANGLER_STUB_PREVIOUS_VERSION ?? '00000000-aaaa-4bbb-8ccc-dddddddddddd';

if (failing.some((name) => command.startsWith(name))) {
  console.error(`✘ [ERROR] ${command} failed (stubbed failure)`);
  process.exit(1);
}

switch (command) {
  case 'secret list': {
    const names = (env.WRANGLER_STUB_SECRETS ?? 'ADMIN_TOKEN').split(',').filter(Boolean);
    console.log(
      JSON.stringify(
        names.map((name) => ({ name, type: 'secret_text' })),
        null,
        2,
      ),
    );
    break;
  }
  case 'secret bulk': {
    const text = readFileSync(positionals[2] ?? 0, 'utf8');
    let names;
    try {
      names = Object.keys(JSON.parse(text));
    } catch {
      console.error('✘ [ERROR] Could not parse the secrets (expected JSON)');
      process.exit(1);
    }
    if (env.WRANGLER_STUB_LOG) appendFileSync(`${env.WRANGLER_STUB_LOG}.bulk`, `${JSON.stringify(names)}\n`);
    console.log('🌀 Creating the secrets for the Worker "edge-rollout"');
    for (const name of names) console.log(`✨ Successfully created secret for key: ${name}`);
    console.log(`\nFinished processing secrets file:\n✨ ${names.length} secrets successfully uploaded`);
    break;
  }
  case 'deployments status':
    console.log(
      JSON.stringify(
        {
          id: 'dep-1',
          source: 'wrangler',
          strategy: 'percentage',
          created_on: '2026-11-24T10:00:00.000Z',
          versions: [{ version_id: previousVersion, percentage: 100 }],
        },
        null,
        2,
      ),
    );
    break;
  case 'deploy':
    console.log(
      `Total Upload: 120.00 KiB / gzip: 30.00 KiB\nUploaded edge-rollout (1.00 sec)\nDeployed edge-rollout triggers (0.50 sec)\nCurrent Version ID: ${newVersion}`,
    );
    break;
  case 'versions upload':
    console.log(`Uploaded edge-rollout (1.00 sec)\nWorker Version ID: ${newVersion}`);
    break;
  case 'versions deploy':
    console.log(`SUCCESS  Deployed edge-rollout version ${positionals[2] ?? newVersion}`);
    break;
  case 'rollback':
    console.log(
      `SUCCESS  Worker Version ${positionals[1] ?? previousVersion} has been deployed to 100% of traffic.`,
    );
    break;
  case 'kv key get':
    console.log(env.WRANGLER_STUB_KILL_VALUE || 'Value not found');
    break;
  case 'kv key put':
    console.log(
      `Writing the value "${positionals[4] ?? ''}" to key "${positionals[3]}" on namespace binding: "ROLLOUT".`,
    );
    break;
  case 'kv key delete':
    console.log(`Deleting the key "${positionals[3]}" on namespace binding: "ROLLOUT".`);
    break;
  case 'whoami':
    console.log('Getting User settings...');
    if (env.WRANGLER_STUB_LOGGED_OUT === '1')
      console.log('You are not authenticated. Please run `wrangler login`.');
    else
      console.log('👋 You are logged in with an User API Token, associated with the email ops@example.com.');
    break;
  default:
    console.error(`wrangler stub: unsupported command "${args.join(' ')}"`);
    process.exit(1);
}

// Options that take a value, so their values are not mistaken for positionals.
function isOptionValue(index) {
  const previous = args[index - 1];
  return [
    '--env',
    '-e',
    '--binding',
    '--message',
    '-m',
    '--name',
    '--namespace-id',
    '--persist-to',
    '--format',
    '--config',
    '-c',
  ].includes(previous ?? '');
}
