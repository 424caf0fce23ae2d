/**
 * The subset of OData `$filter` that Azure documents for `:execute` (docs/azure-compatibility.md#execute): `userId`
 * and `connectionId` compared with `eq`, `ne` or `in (...)`, group membership as `'group' in groups`, combined with
 * `and`, `or`, `not` and parentheses; string literals in single quotes (`''` for a quote). Anything else is refused
 * with a message that names the part and its position. The gateway only checks a filter; the service evaluates it.
 */
export class FilterError extends Error {}

type Token = { kind: 'word' | 'string' | '(' | ')' | ','; text: string; at: number };

const FIELDS = new Set(['userId', 'connectionId']);
const KEYWORDS = new Set(['and', 'or', 'not', 'eq', 'ne', 'in', 'groups', ...FIELDS]);
/** Longest filter the gateway passes on. */
export const FILTER_MAX_LENGTH = 4096;

function tokenize(filter: string): Token[] {
  const tokens: Token[] = [];
  for (let at = 0; at < filter.length;) {
    const char = filter[at];
    if (/\s/.test(char)) {
      at++;
    } else if (char === '(' || char === ')' || char === ',') {
      tokens.push({ kind: char, text: char, at });
      at++;
    } else if (char === "'") {
      let text = '';
      let end = at + 1;
      for (;;) {
        if (end >= filter.length) throw new FilterError(`unterminated string starting at position ${at}`);
        if (filter[end] === "'") {
          if (filter[end + 1] !== "'") break;
          text += "'";
          end += 2;
        } else text += filter[end++];
      }
      tokens.push({ kind: 'string', text, at });
      at = end + 1;
    } else if (/[A-Za-z_]/.test(char)) {
      const word = /^[A-Za-z_][A-Za-z0-9_]*/.exec(filter.slice(at))![0];
      tokens.push({ kind: 'word', text: word, at });
      at += word.length;
    } else {
      throw new FilterError(`unexpected '${char}' at position ${at}`);
    }
  }
  return tokens;
}

/** Reads `filter` completely; throws FilterError saying which part is not supported. */
export function checkFilter(filter: string): void {
  if (filter.length > FILTER_MAX_LENGTH) throw new FilterError(`longer than ${FILTER_MAX_LENGTH} characters`);
  const tokens = tokenize(filter);
  let next = 0;
  const peek = (): Token | undefined => tokens[next];
  const describe = (token: Token | undefined): string => (token ? `'${token.text}' at position ${token.at}` : 'the end of the filter');
  const expect = (kind: Token['kind'], text?: string): Token => {
    const token = peek();
    if (!token || token.kind !== kind || (text !== undefined && token.text !== text))
      throw new FilterError(`expected ${text ?? kind} but found ${describe(token)}`);
    next++;
    return token;
  };
  const word = (text: string): boolean => peek()?.kind === 'word' && peek()!.text === text;

  const expression = (): void => {
    conjunction();
    while (word('or')) {
      next++;
      conjunction();
    }
  };
  const conjunction = (): void => {
    unary();
    while (word('and')) {
      next++;
      unary();
    }
  };
  const unary = (): void => {
    if (word('not')) {
      next++;
      return unary();
    }
    if (peek()?.kind === '(') {
      next++;
      expression();
      expect(')');
      return;
    }
    term();
  };
  const term = (): void => {
    const token = peek();
    if (token?.kind === 'string') {
      next++;
      expect('word', 'in');
      expect('word', 'groups');
      return;
    }
    if (token?.kind !== 'word') throw new FilterError(`expected a comparison but found ${describe(token)}`);
    if (tokens[next + 1]?.kind === '(' && !KEYWORDS.has(token.text)) throw new FilterError(`function '${token.text}' at position ${token.at} is not supported`);
    if (!FIELDS.has(token.text)) throw new FilterError(`'${token.text}' at position ${token.at} is not supported (userId, connectionId or 'group' in groups)`);
    next++;
    const operator = peek();
    if (operator?.kind === 'word' && (operator.text === 'eq' || operator.text === 'ne')) {
      next++;
      expect('string');
    } else if (operator?.kind === 'word' && operator.text === 'in') {
      next++;
      expect('(');
      expect('string');
      while (peek()?.kind === ',') {
        next++;
        expect('string');
      }
      expect(')');
    } else {
      throw new FilterError(`operator ${describe(operator)} is not supported (eq, ne, in)`);
    }
  };

  if (tokens.length === 0) throw new FilterError('the filter is empty');
  expression();
  if (next < tokens.length) throw new FilterError(`unexpected ${describe(peek())}`);
}
