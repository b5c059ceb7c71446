/** Fenced-block languages whose lines are commands. `text` and the rest are prose or data. */
export const SHELL_LANGUAGES = new Set(['sh', 'bash', 'shell', 'console']);

/** One command line of a shell block, continuations joined, with where it came from. */
export interface ShellLine {
  file: string;
  /** 1-based line number of the line's first physical line. */
  line: number;
  text: string;
  /** For a `console` block: the output shown under the command, up to the next prompt. */
  output: string[];
}

const FENCE = /^(\s*)(```+|~~~+)\s*([\w-]*)/;

/**
 * The command lines of a Markdown file's `sh`, `bash`, `shell` and `console` fenced blocks.
 * In `console` blocks only lines after a `$ ` prompt are commands; the lines under one are its
 * output. A trailing backslash continues a command on the next line, as in the shell.
 *
 * @example
 * shellLines('x.md', '```console\n$ npx rollout set 12.345\nerror: …\n```');
 * // [{ file: 'x.md', line: 2, text: 'npx rollout set 12.345', output: ['error: …'] }]
 */
export function shellLines(file: string, markdown: string): ShellLine[] {
  const lines = markdown.split('\n');
  const found: ShellLine[] = [];
  let fence: { indent: number; marker: string; language: string } | undefined;
  let pending: ShellLine | undefined;
  let current: ShellLine | undefined;

  for (let index = 0; index < lines.length; index++) {
    const opening = FENCE.exec(lines[index]!);
    if (!fence) {
      if (opening)
        fence = { indent: opening[1]!.length, marker: opening[2]!, language: opening[3]!.toLowerCase() };
      continue;
    }
    // A block inside a list item is indented as a whole; its lines are read without that indent.
    const raw = lines[index]!.slice(Math.min(fence.indent, /^\s*/.exec(lines[index]!)![0].length));
    if (raw.trim().startsWith(fence.marker) && raw.trim().replace(/[`~]/g, '') === '') {
      if (pending) throw new Error(`${file}:${pending.line}: a line continuation runs past the block`);
      fence = undefined;
      current = undefined;
      continue;
    }
    if (!SHELL_LANGUAGES.has(fence.language)) continue;
    const isConsole = fence.language === 'console';

    if (pending) {
      pending.text += ` ${raw.trim().replace(/^> /, '')}`;
    } else if (isConsole && !raw.startsWith('$ ')) {
      current?.output.push(raw);
      continue;
    } else {
      const text = isConsole ? raw.slice(2) : raw;
      if (text.trim() === '') continue;
      pending = { file, line: index + 1, text: text.trim(), output: [] };
    }
    if (pending.text.endsWith('\\')) {
      pending.text = pending.text.slice(0, -1).trimEnd();
      continue;
    }
    found.push(pending);
    current = pending;
    pending = undefined;
  }
  return found;
}
