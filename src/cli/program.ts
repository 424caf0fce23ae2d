import { Command } from 'commander';
import { ACTIONS, COMMAND_GROUPS, type Action, type ActionOptions } from './commands.js';
import { CliError, ExitCode } from './exit-codes.js';
import type { Terminal } from './terminal.js';

export type ActionRunner = (action: Action, args: readonly string[], options: ActionOptions) => Promise<void>;

/**
 * A commander program that throws instead of exiting, so the one-shot entry and the prompt decide what an error
 * means. Settings given here are inherited by every command added later.
 */
export function newProgram(name: string, terminal: Terminal): Command {
  return new Command(name).exitOverride().showSuggestionAfterError(true).configureOutput(terminal.commanderOutput());
}

/** Adds the command table to `program`: the single parser of both the one-shot commands and the prompt's lines. */
export function addActions(program: Command, run: ActionRunner): void {
  const groups = new Map<string, Command>();
  const groupOf = (word: string): Command => {
    let group = groups.get(word);
    if (!group) {
      group = program.command(word).description(COMMAND_GROUPS[word] ?? '');
      groups.set(word, group);
    }
    return group;
  };
  for (const action of ACTIONS) {
    const [first, second] = action.words;
    const parent = second === undefined ? program : groupOf(first);
    const command = parent.command(`${second ?? first} ${action.args}`).description(action.description);
    // Connection ids are base64url and may start with "-": such a word is an argument, not an unknown option.
    if (action.args.includes('<connectionId>')) command.allowUnknownOption();
    for (const option of action.options ?? []) {
      if (option.parse) command.option(option.flags, option.description, option.parse);
      else command.option(option.flags, option.description);
    }
    command.action(async (...params: unknown[]) => {
      const self = params.at(-1) as Command;
      // A variadic last argument (`<message...>`) is the rest of the line: words joined as they were typed apart.
      const args = self.processedArgs.map((value: unknown) => (Array.isArray(value) ? value.join(' ') : (value as string)));
      // A name given as "" would make a path without its segment: say so rather than let the gateway answer 404.
      const empty = self.registeredArguments.findIndex((argument, index) => argument.required && !argument.variadic && args[index] === '');
      if (empty >= 0) throw new CliError(ExitCode.BadInput, `<${self.registeredArguments[empty].name()}> must not be empty`);
      await run(action, args, self.opts<ActionOptions>());
    });
  }
}

/** The first words the prompt completes, and the second words after each. */
export function completions(line: string): [string[], string] {
  const words = line.trimStart().split(/\s+/);
  const last = words.at(-1) ?? '';
  const candidates =
    words.length === 1
      ? [...new Set([...ACTIONS.map((action) => action.words[0]), 'help', 'exit'])]
      : words.length === 2
        ? ACTIONS.filter((action) => action.words[0] === words[0] && action.words[1]).map((action) => action.words[1]!)
        : [];
  return [candidates.filter((candidate) => candidate.startsWith(last)).map((candidate) => `${candidate} `), last];
}
