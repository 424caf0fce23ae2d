import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { parseJsonBody, sourceTextOf } from '../../src/common/json-body.js';

describe("the source text of a JSON body's members", () => {
  it('is, for every object or array member, text that parses to that member, whatever the spacing and escapes', () => {
    const spacing = fc.constantFrom('', ' ', '\n\t ');
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue()), spacing, (object, space) => {
        const text = space + JSON.stringify(object, null, space.length > 1 ? '\t' : undefined) + space;
        const body = parseJsonBody(text) as Record<string, unknown>;
        for (const value of Object.values(body)) {
          if (typeof value === 'object' && value !== null) assert.deepEqual(JSON.parse(sourceTextOf(value)), value);
        }
      }),
      { numRuns: 500 },
    );
  });

  it("is the caller's own text: escaped keys, strings of quotes and backslashes, the last of duplicate keys", () => {
    const body = parseJsonBody('{"a\\u0062":[ "\\\\", "\\"]" ,1.0 ],"s":"}\\\\","o":{"k":[]},"o":{"k" :[2]}}') as Record<string, object>;
    assert.equal(sourceTextOf(body['ab']), '[ "\\\\", "\\"]" ,1.0 ]');
    assert.equal(sourceTextOf(body['o']), '{"k" :[2]}');
  });

  it('is known only for members of a parsed body', () => {
    assert.throws(() => sourceTextOf([]), /not a top-level member/);
  });
});
