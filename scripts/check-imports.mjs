#!/usr/bin/env node
// The import rules of docs/CONTRIBUTING.md, checked on the real graph (madge, type imports
// included). Exit 1 with every violation listed:
// - no import cycle crosses a folder (a cycle inside one folder is one feature's business);
// - src/ (the core) imports nothing of worker/, cli/ or scripts/;
// - the edge Worker imports nothing of the control Worker, and the reverse: the two share only
//   worker/shared/ (the protocol module, adapters) and src/;
// - worker/shared/ imports neither Worker.
import { dirname } from 'node:path';
import madge from 'madge';

const FORBIDDEN = [
  {
    from: /^src\//,
    to: /^(worker|cli|scripts)\//,
    why: 'the core imports nothing of worker/, cli/ or scripts/',
  },
  {
    from: /^worker\/edge\//,
    to: /^worker\/control\//,
    why: 'the edge imports nothing of the control Worker',
  },
  {
    from: /^worker\/control\//,
    to: /^worker\/edge\//,
    why: 'the control Worker imports nothing of the edge',
  },
  {
    from: /^worker\/shared\//,
    to: /^worker\/(edge|control)\//,
    why: 'worker/shared/ imports neither Worker',
  },
  { from: /^(src|worker)\//, to: /^test\//, why: 'product code imports nothing of test/' },
];

const roots = process.argv.slice(2).length ? process.argv.slice(2) : ['src', 'worker', 'cli'];
const graph = await madge(roots, {
  fileExtensions: ['ts', 'mts'],
  tsConfig: 'tsconfig.json',
  detectiveOptions: { ts: { skipTypeImports: false }, es6: { skipTypeImports: false } },
});
const problems = [];
for (const [file, imports] of Object.entries(graph.obj()))
  for (const target of imports)
    for (const rule of FORBIDDEN)
      if (rule.from.test(file) && rule.to.test(target)) problems.push(`${file} → ${target}: ${rule.why}`);
for (const cycle of graph.circular()) {
  const folders = new Set(cycle.map((file) => dirname(file)));
  if (folders.size > 1) problems.push(`import cycle across folders: ${[...cycle, cycle[0]].join(' → ')}`);
}
const skipped = graph.warnings().skipped ?? [];
if (problems.length) {
  console.error(`check-imports: ${problems.length} problem(s)\n${problems.map((p) => `  ${p}`).join('\n')}`);
  process.exit(1);
}
console.log(
  `check-imports: ${Object.keys(graph.obj()).length} files, no cross-folder cycle, layers respected` +
    (skipped.length ? ` (unresolved, not checked: ${skipped.join(', ')})` : ''),
);
