/**
 * One word of a shell line as a reader would type it. `placeholder` marks a word the docs left
 * for the reader to fill in: it held a `$VAR` the doc never set (or set to a placeholder) or a
 * `$( … )` command substitution.
 */
export interface ShellWord {
  text: string;
  quoted: boolean;
  placeholder: boolean;
}

/** A shell variable as a doc sets it (`export NAME=value`), placeholders included. */
export type DocVariables = ReadonlyMap<string, ShellWord>;

const OPERATORS = ['&&', '||', ';', '|', '&'] as const;
const NAME = /^[A-Za-z_][A-Za-z0-9_]*/;
const ANGLE_PLACEHOLDER = /^<[A-Za-z][\w.:-]*>/;

/**
 * Splits one logical shell line into simple commands, and each command into words, the way a
 * POSIX shell reads it: single and double quotes, backslash escapes, `$VAR`/`${VAR}` expanded
 * from `variables`, `#` comments, the operators `&& || ; | &`, and redirections (`> file`,
 * `2>&1`), which are dropped with their target. `<name>` is read as a word (the docs'
 * placeholder), not as a redirection. Enough of the shell for the command lines in
 * our docs; heredocs and globbing are not read.
 *
 * @example
 * splitShellLine('ROLLOUT_TOKEN=… scripts/rollback.sh --reason "p95 > 2 s" # why', new Map());
 * // [[{ text: 'ROLLOUT_TOKEN=…' }, { text: 'scripts/rollback.sh' }, { text: '--reason' }, { text: 'p95 > 2 s' }]]
 */
export function splitShellLine(line: string, variables: DocVariables): ShellWord[][] {
  const commands: ShellWord[][] = [];
  let words: ShellWord[] = [];
  let word: ShellWord | undefined;
  let dropNextWord = false;
  const start = (): ShellWord => (word ??= { text: '', quoted: false, placeholder: false });
  const finishWord = (): void => {
    if (word && !dropNextWord) words.push(word);
    else if (word) dropNextWord = false;
    word = undefined;
  };
  const finishCommand = (): void => {
    finishWord();
    if (words.length > 0) commands.push(words);
    words = [];
  };
  // `$NAME`, `${NAME}` or `$( … )` at `at`; returns where the expansion ends.
  const expand = (at: number): number => {
    const target = start();
    const rest = line.slice(at + 1);
    if (rest.startsWith('(')) {
      let depth = 0;
      let end = at + 1;
      for (; end < line.length; end++) {
        if (line[end] === '(') depth++;
        if (line[end] === ')' && --depth === 0) break;
      }
      target.placeholder = true;
      target.text += line.slice(at, end + 1);
      return end + 1;
    }
    const braced = rest.startsWith('{') ? /^\{([A-Za-z_][A-Za-z0-9_]*)\}/.exec(rest) : undefined;
    const name = braced ? braced[1] : NAME.exec(rest)?.[0];
    if (!name) {
      // `$?`, `$1`, a lone `$`: nothing the docs could have set.
      target.placeholder = target.placeholder || rest.length > 0;
      target.text += line.slice(at, at + 2);
      return at + 2;
    }
    const value = variables.get(name);
    if (value && !value.placeholder) target.text += value.text;
    else {
      target.placeholder = true;
      target.text += `$${name}`;
    }
    return at + 1 + (braced ? braced[0].length : name.length);
  };

  let i = 0;
  while (i < line.length) {
    const char = line[i]!;
    if (/\s/.test(char)) {
      finishWord();
      i++;
    } else if (char === '#' && !word) {
      break;
    } else if (char === "'") {
      const end = line.indexOf("'", i + 1);
      if (end < 0) throw new Error(`unterminated ' in: ${line}`);
      const target = start();
      target.quoted = true;
      target.text += line.slice(i + 1, end);
      i = end + 1;
    } else if (char === '"') {
      const target = start();
      target.quoted = true;
      i++;
      while (i < line.length && line[i] !== '"') {
        if (line[i] === '\\' && i + 1 < line.length && '"\\$`'.includes(line[i + 1]!)) {
          target.text += line[i + 1];
          i += 2;
        } else if (line[i] === '$') i = expand(i);
        else target.text += line[i++];
      }
      if (i >= line.length) throw new Error(`unterminated " in: ${line}`);
      i++;
    } else if (char === '\\') {
      start().text += line[i + 1] ?? '';
      i += 2;
    } else if (char === '$') {
      i = expand(i);
    } else if (ANGLE_PLACEHOLDER.test(line.slice(i))) {
      // `<name>` is the docs' placeholder convention, not a redirection.
      const placeholder = ANGLE_PLACEHOLDER.exec(line.slice(i))![0];
      start().text += placeholder;
      i += placeholder.length;
    } else if (char === '>' || char === '<') {
      // A redirection: `2>&1` names its target itself; `> file` takes the next word.
      if (word && /^\d+$/.test(word.text) && !word.quoted) word = undefined;
      finishWord();
      const redirect = /^[<>]{1,2}(&\d+|&-)?/.exec(line.slice(i))![0];
      i += redirect.length;
      if (!redirect.includes('&')) dropNextWord = true;
    } else {
      const operator = OPERATORS.find((op) => line.startsWith(op, i));
      if (operator) {
        finishCommand();
        i += operator.length;
      } else {
        start().text += char;
        i++;
      }
    }
  }
  finishCommand();
  return commands;
}
