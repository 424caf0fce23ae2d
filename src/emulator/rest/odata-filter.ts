import { parseFilter, type FilterNode } from '../../azure/odata-filter.js';

/** What a filter sees of a connection. */
export interface FilterSubject {
  connectionId: string;
  userId: string | undefined;
  groups: ReadonlySet<string>;
}

export type Predicate = (subject: FilterSubject) => boolean;

/** `:execute`'s filter as a predicate over a connection; throws FilterError with the part it could not read. */
export function compileFilter(filter: string): Predicate {
  return predicateOf(parseFilter(filter));
}

function predicateOf(node: FilterNode): Predicate {
  switch (node.kind) {
    case 'or': {
      const [left, right] = [predicateOf(node.left), predicateOf(node.right)];
      return (subject) => left(subject) || right(subject);
    }
    case 'and': {
      const [left, right] = [predicateOf(node.left), predicateOf(node.right)];
      return (subject) => left(subject) && right(subject);
    }
    case 'not': {
      const inner = predicateOf(node.inner);
      return (subject) => !inner(subject);
    }
    case 'inGroups':
      return (subject) => subject.groups.has(node.group);
    case 'compare':
      return node.operator === 'eq' ? (subject) => subject[node.field] === node.value : (subject) => subject[node.field] !== node.value;
    case 'in': {
      const values = new Set(node.values);
      return (subject) => {
        const value = subject[node.field];
        return value !== undefined && values.has(value);
      };
    }
  }
}
