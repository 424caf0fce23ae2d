/**
 * `:execute`'s filter, the OData subset Azure documents: `userId` / `connectionId` with `eq`, `ne`, `in (...)`,
 * `'group' in groups`, `and`, `or`, `not`, parentheses, single-quoted strings (`''` for a quote). Compiled to a
 * predicate over a connection; anything else throws with the part it could not read.
 */
export interface FilterSubject {
  connectionId: string;
  userId: string | undefined;
  groups: ReadonlySet<string>;
}

export type Predicate = (subject: FilterSubject) => boolean;

type Token = { kind: 'word' | 'string' | '(' | ')' | ','; text: string; at: number };

function tokenize(filter: string): Token[] {
  const tokens: Token[] = [];
  for (let at = 0; at < filter.length;) {
    const char = filter[at];
    if (/\s/.test(char)) at++;
    else if (char === '(' || char === ')' || char === ',') tokens.push({ kind: char, text: char, at: at++ });
    else if (char === "'") {
      let text = '';
      let end = at + 1;
      for (;;) {
        if (end >= filter.length) throw new Error(`unterminated string at ${at}`);
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
    } else throw new Error(`unexpected '${char}' at ${at}`);
  }
  return tokens;
}

export function compileFilter(filter: string): Predicate {
  const tokens = tokenize(filter);
  let next = 0;
  const isWord = (text: string): boolean => tokens[next]?.kind === 'word' && tokens[next].text === text;
  const take = (kind: Token['kind'], text?: string): Token => {
    const token = tokens[next];
    if (!token || token.kind !== kind || (text !== undefined && token.text !== text)) throw new Error(`expected ${text ?? kind} at ${token?.at ?? 'end'}`);
    next++;
    return token;
  };
  const expression = (): Predicate => {
    let left = conjunction();
    while (isWord('or')) {
      next++;
      const [a, b] = [left, conjunction()];
      left = (s) => a(s) || b(s);
    }
    return left;
  };
  const conjunction = (): Predicate => {
    let left = unary();
    while (isWord('and')) {
      next++;
      const [a, b] = [left, unary()];
      left = (s) => a(s) && b(s);
    }
    return left;
  };
  const unary = (): Predicate => {
    if (isWord('not')) {
      next++;
      const inner = unary();
      return (s) => !inner(s);
    }
    if (tokens[next]?.kind === '(') {
      next++;
      const inner = expression();
      take(')');
      return inner;
    }
    return term();
  };
  const term = (): Predicate => {
    const token = tokens[next];
    if (token?.kind === 'string') {
      next++;
      take('word', 'in');
      take('word', 'groups');
      return (s) => s.groups.has(token.text);
    }
    const field = take('word').text;
    if (field !== 'userId' && field !== 'connectionId') throw new Error(`unsupported '${field}'`);
    const value = (s: FilterSubject): string | undefined => (field === 'userId' ? s.userId : s.connectionId);
    const operator = take('word').text;
    if (operator === 'eq' || operator === 'ne') {
      const literal = take('string').text;
      return operator === 'eq' ? (s) => value(s) === literal : (s) => value(s) !== literal;
    }
    if (operator !== 'in') throw new Error(`unsupported operator '${operator}'`);
    take('(');
    const values = new Set([take('string').text]);
    while (tokens[next]?.kind === ',') {
      next++;
      values.add(take('string').text);
    }
    take(')');
    return (s) => {
      const v = value(s);
      return v !== undefined && values.has(v);
    };
  };
  const predicate = expression();
  if (next < tokens.length) throw new Error(`unexpected '${tokens[next].text}' at ${tokens[next].at}`);
  return predicate;
}
