/**
 * The subset of OData `$filter` that Azure documents for `:execute` (docs/azure-compatibility.md#execute): `userId`
 * and `connectionId` compared with `eq`, `ne` or `in (...)`, group membership as `'group' in groups`, combined with
 * `and`, `or`, `not` and parentheses; string literals in single quotes (`''` for a quote). One parser for the gateway,
 * which refuses what it cannot read, and the emulator, which evaluates what it reads.
 */
export class FilterError extends Error {}

export type FilterField = 'userId' | 'connectionId';

/** A parsed filter. */
export type FilterNode =
  | { kind: 'or' | 'and'; left: FilterNode; right: FilterNode }
  | { kind: 'not'; inner: FilterNode }
  | { kind: 'inGroups'; group: string }
  | { kind: 'compare'; field: FilterField; operator: 'eq' | 'ne'; value: string }
  | { kind: 'in'; field: FilterField; values: string[] };

type Token = { kind: 'word' | 'string' | '(' | ')' | ','; text: string; at: number };

const FIELDS = new Set<string>(['userId', 'connectionId']);
const KEYWORDS = new Set(['and', 'or', 'not', 'eq', 'ne', 'in', 'groups', ...FIELDS]);

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
export function parseFilter(filter: string): FilterNode {
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

  const expression = (): FilterNode => {
    let left = conjunction();
    while (word('or')) {
      next++;
      left = { kind: 'or', left, right: conjunction() };
    }
    return left;
  };
  const conjunction = (): FilterNode => {
    let left = unary();
    while (word('and')) {
      next++;
      left = { kind: 'and', left, right: unary() };
    }
    return left;
  };
  const unary = (): FilterNode => {
    if (word('not')) {
      next++;
      return { kind: 'not', inner: unary() };
    }
    if (peek()?.kind === '(') {
      next++;
      const inner = expression();
      expect(')');
      return inner;
    }
    return term();
  };
  const term = (): FilterNode => {
    const token = peek();
    if (token?.kind === 'string') {
      next++;
      expect('word', 'in');
      expect('word', 'groups');
      return { kind: 'inGroups', group: token.text };
    }
    if (token?.kind !== 'word') throw new FilterError(`expected a comparison but found ${describe(token)}`);
    if (tokens[next + 1]?.kind === '(' && !KEYWORDS.has(token.text)) throw new FilterError(`function '${token.text}' at position ${token.at} is not supported`);
    if (!FIELDS.has(token.text)) throw new FilterError(`'${token.text}' at position ${token.at} is not supported (userId, connectionId or 'group' in groups)`);
    const field = token.text as FilterField;
    next++;
    const operator = peek();
    if (operator?.kind === 'word' && (operator.text === 'eq' || operator.text === 'ne')) {
      next++;
      return { kind: 'compare', field, operator: operator.text, value: expect('string').text };
    }
    if (operator?.kind === 'word' && operator.text === 'in') {
      next++;
      expect('(');
      const values = [expect('string').text];
      while (peek()?.kind === ',') {
        next++;
        values.push(expect('string').text);
      }
      expect(')');
      return { kind: 'in', field, values };
    }
    throw new FilterError(`operator ${describe(operator)} is not supported (eq, ne, in)`);
  };

  if (tokens.length === 0) throw new FilterError('the filter is empty');
  const parsed = expression();
  if (next < tokens.length) throw new FilterError(`unexpected ${describe(peek())}`);
  return parsed;
}
