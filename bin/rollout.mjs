#!/usr/bin/env node
// `npx rollout`: loads the TypeScript CLI (src/cli) through tsx, so it runs without a build step.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
