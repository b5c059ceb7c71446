import { shellLines, type ShellLine } from './shell-lines';
import { splitShellLine, type DocVariables, type ShellWord } from './shell-words';

/** Our commands that the docs may run: the ops CLI and the launch scripts. */
export const TOOLS = [
  'npx rollout',
  'scripts/production-deploy.sh',
  'scripts/rollback.sh',
  'scripts/post-launch-check.sh',
  'scripts/feature-flags.ts',
] as const;

/** One of our commands. */
export type Tool = (typeof TOOLS)[number];

/** One run of one of our commands, as a doc writes it. */
export interface Invocation {
  tool: Tool;
  /** `NAME=value` words in front of the command (`ROLLOUT_TOKEN=… scripts/…`). */
  assignments: ReadonlyMap<string, ShellWord>;
  /** The doc's variables at this line: what `export` lines above it set. */
  variables: DocVariables;
  /** The words after the command itself. */
  args: readonly ShellWord[];
  source: ShellLine;
  /** A `console` block shows this command failing with a `usage:` line: it must be refused. */
  documentedUsageError: boolean;
}

/** A command line that mentions one of our commands in a way the checker cannot read. */
export interface UnreadableLine {
  source: ShellLine;
  why: string;
}

/** What one doc runs. */
export interface DocScan {
  invocations: Invocation[];
  unreadable: UnreadableLine[];
}

// A mention anywhere in a simple command, so a command hidden behind `watch`, `time` or `sudo`
// is reported rather than skipped.
const MENTION =
  /\bnpx rollout\b|\bnpm run rollout\b|\bbin\/rollout\.mjs\b|scripts\/(?:production-deploy|rollback|post-launch-check)\.sh|scripts\/feature-flags\.ts/;
const ASSIGNMENT = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/s;

/**
 * Every run of our CLI and scripts in one Markdown file's shell blocks, in order. Variables set
 * by `export NAME=value` (or a bare `NAME=value` line) apply to the lines below them, as they
 * would in a reader's shell.
 *
 * @example
 * scanDoc('docs/CLI.md', text).invocations.map((run) => run.tool); // ['npx rollout', …]
 */
export function scanDoc(file: string, markdown: string): DocScan {
  const variables = new Map<string, ShellWord>();
  const invocations: Invocation[] = [];
  const unreadable: UnreadableLine[] = [];
  for (const source of shellLines(file, markdown)) {
    let commands: ShellWord[][];
    try {
      commands = splitShellLine(source.text, variables);
    } catch (error) {
      if (MENTION.test(source.text)) unreadable.push({ source, why: String((error as Error).message) });
      continue;
    }
    for (const words of commands) {
      if (setsVariables(words, variables)) continue;
      const assignments = new Map<string, ShellWord>();
      let at = 0;
      for (; at < words.length; at++) {
        const match = words[at]!.quoted ? null : ASSIGNMENT.exec(words[at]!.text);
        if (!match) break;
        assignments.set(match[1]!, { ...words[at]!, text: match[2]! });
      }
      const command = readCommand(words.slice(at));
      if ('tool' in command) {
        invocations.push({
          tool: command.tool,
          assignments,
          variables: new Map(variables),
          args: command.args,
          source,
          documentedUsageError: source.output.some((line) => line.startsWith('usage:')),
        });
      } else if (MENTION.test(words.map((word) => word.text).join(' '))) {
        unreadable.push({ source, why: command.why });
      }
    }
  }
  return { invocations, unreadable };
}

function setsVariables(words: readonly ShellWord[], variables: Map<string, ShellWord>): boolean {
  const list = words[0]?.text === 'export' && !words[0].quoted ? words.slice(1) : words;
  const all = list.map((word) => (word.quoted ? null : ASSIGNMENT.exec(word.text)));
  if (list.length === 0 || all.some((match) => !match)) return false;
  all.forEach((match, index) => variables.set(match![1]!, { ...list[index]!, text: match![2]! }));
  return true;
}

type ReadCommand = { tool: Tool; args: ShellWord[] } | { why: string };

function readCommand(words: readonly ShellWord[]): ReadCommand {
  const texts = words.map((word) => word.text);
  const starts = (...prefix: string[]) => prefix.every((text, index) => texts[index] === text);
  if (starts('npx', 'rollout') || starts('node', 'bin/rollout.mjs'))
    return { tool: 'npx rollout', args: words.slice(2) };
  if (starts('npm', 'run', 'rollout', '--')) return { tool: 'npx rollout', args: words.slice(4) };
  if (starts('npm', 'run', 'rollout'))
    return words.length === 3
      ? { tool: 'npx rollout', args: [] }
      : { why: 'npm passes options to npm itself: write npm run rollout -- <command>' };
  for (const runner of [['npx', 'tsx'], ['tsx'], ['bash'], []]) {
    const path = texts[runner.length]?.replace(/^\.\//, '');
    const tool = TOOLS.find((name) => name !== 'npx rollout' && name === path);
    if (!tool || !starts(...runner)) continue;
    // The TypeScript script needs tsx in front; the shell scripts run as they are (or via bash).
    if (tool.endsWith('.ts') !== (runner.at(-1) === 'tsx'))
      return { why: `run ${tool} as ${tool.endsWith('.ts') ? `npx tsx ${tool}` : tool}` };
    return { tool, args: words.slice(runner.length + 1) };
  }
  return { why: 'our command is not the command this line runs (behind another program?)' };
}
