import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AccessKeyRing } from '../../src/emulator/entra.js';

const ROTATION_MS = 60_000;
const OVERLAP_MS = 30_000;

describe("the Entra-mode emulator's temporary access keys", () => {
  const ringAt = (): { ring: AccessKeyRing; clock: { now: number } } => {
    const clock = { now: 1_000_000 };
    return { ring: new AccessKeyRing(ROTATION_MS, OVERLAP_MS, () => clock.now), clock };
  };
  const bytes = (value: string): Uint8Array => new TextEncoder().encode(value);

  it('hands out one key until the interval has passed, then a new one', () => {
    const { ring, clock } = ringAt();
    const first = ring.current();
    clock.now += ROTATION_MS - 1;
    assert.deepEqual(ring.current(), first);
    clock.now += 1;
    const second = ring.current();
    assert.notEqual(second.KeyId, first.KeyId);
    assert.notEqual(second.AccessKey, first.AccessKey);
  });

  it('a replaced key verifies for the overlap and not a moment longer; the kid must name it', () => {
    const { ring, clock } = ringAt();
    const first = ring.current();
    clock.now += ROTATION_MS;
    ring.current();
    assert.deepEqual(ring.keyOf(first.KeyId), bytes(first.AccessKey));
    clock.now += OVERLAP_MS - 1;
    assert.deepEqual(ring.keyOf(first.KeyId), bytes(first.AccessKey));
    clock.now += 1;
    assert.equal(ring.keyOf(first.KeyId), undefined);
    assert.equal(ring.keyOf('no-such-key'), undefined);
    assert.equal(ring.keyOf(undefined), undefined);
  });

  it('expires on schedule though nobody asked for the next key', () => {
    const { ring, clock } = ringAt();
    const only = ring.current();
    clock.now += ROTATION_MS + OVERLAP_MS;
    assert.equal(ring.keyOf(only.KeyId), undefined);
  });
});
