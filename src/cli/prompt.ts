import { readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { CommandResult, Session } from './commands.js';
import { CliError, ExitCode } from './exit-codes.js';
import { addActions, completions, newProgram } from './program.js';
import type { Terminal } from './terminal.js';

const HISTORY_FILE = join(homedir(), '.signalr_gateway_history');
const EXIT_WORDS = new Set(['exit', 'quit']);

/**
 * The interactive `server` prompt: one command per line, parsed by the same command table as the one-shot
 * commands. At a terminal it has a prompt, completion (Tab) and history kept across sessions; with piped input it
 * runs line by line and ends with the exit code of the first failed command, so it can be scripted too.
 */
export async function runPrompt(session: Session, terminal: Terminal, banner: string): Promise<ExitCode> {
  const interactive = process.stdin.isTTY === true;
  const lines = createInterface({
    input: process.stdin,
    output: process.stdout,
    terminal: interactive,
    prompt: `${session.gateway.hub}> `,
    completer: completions,
    history: interactive ? loadHistory() : [],
    historySize: 1000,
    removeHistoryDuplicates: true,
  });
  if (interactive) lines.on('history', saveHistory);
  // Ctrl-C leaves the prompt as Ctrl-D does.
  lines.on('SIGINT', () => lines.close());

  let firstFailure: ExitCode = ExitCode.Success;
  if (interactive) {
    terminal.status(banner);
    lines.prompt();
  }
  for await (const line of lines) {
    const exitCode = await runLine(line, session, terminal);
    if (exitCode === 'exit') break;
    if (firstFailure === ExitCode.Success) firstFailure = exitCode;
    if (interactive) lines.prompt();
  }
  lines.close();
  return interactive ? ExitCode.Success : firstFailure;
}

async function runLine(line: string, session: Session, terminal: Terminal): Promise<ExitCode | 'exit'> {
  try {
    const words = splitWords(line);
    if (words.length === 0) return ExitCode.Success;
    if (EXIT_WORDS.has(words[0])) return 'exit';
    let outcome: CommandResult | undefined;
    // Named as the prompt, so help reads "Usage: chat> send user ...", what is typed there.
    const program = newProgram(`${session.gateway.hub}>`, terminal).usage('<command> [arguments] [options]');
    addActions(program, async (action, args, options) => {
      outcome = await action.run(session, args, options);
    });
    program.command('exit').description('leave the prompt (also quit, Ctrl-D or Ctrl-C)');
    await program.parseAsync(words, { from: 'user' });
    if (outcome) terminal.outcome(outcome);
    return outcome?.exitCode ?? ExitCode.Success;
  } catch (error) {
    return terminal.failure(error);
  }
}

/** Splits a line as a shell would for simple cases: blanks separate words, quotes and backslashes keep them. */
export function splitWords(line: string): string[] {
  const words: string[] = [];
  let word: string | undefined;
  let quote: string | undefined;
  for (let index = 0; index < line.length; index++) {
    const char = line[index];
    if (quote) {
      if (char === quote) quote = undefined;
      else if (char === '\\' && quote === '"' && index + 1 < line.length) word += line[++index];
      else word += char;
    } else if (/\s/.test(char)) {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else {
      word ??= '';
      if (char === '"' || char === "'") quote = char;
      else if (char === '\\' && index + 1 < line.length) word += line[++index];
      else word += char;
    }
  }
  if (quote) throw new CliError(ExitCode.BadInput, `unclosed ${quote} in: ${line}`);
  if (word !== undefined) words.push(word);
  return words;
}

/** History is a convenience: an unreadable or unwritable file is ignored. */
function loadHistory(): string[] {
  try {
    return readFileSync(HISTORY_FILE, 'utf8').split('\n').filter(Boolean);
  } catch {
    return [];
  }
}

function saveHistory(history: string[]): void {
  try {
    writeFileSync(HISTORY_FILE, `${history.join('\n')}\n`, { mode: 0o600 });
  } catch {
    // see loadHistory
  }
}
