import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { RunningEmulator } from '../../src/emulator/emulator.js';
import { eventually } from '../fixtures/stack.js';
import { rawClient, rest, startTestEmulator, withTimeout } from './helpers.js';

const HUB = 'chat';
const MAX_OUTBOUND = 64 * 1024;
const BIG_ARGUMENT = 'x'.repeat(256 * 1024);
const MAX_SENDS = 200;

const scrape = async (emulator: RunningEmulator): Promise<string> => (await fetch(`${emulator.url}/metrics`)).text();

/** The value of the sample `name{labels}` (labels exactly as Prometheus prints them), or undefined. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('emulator: its own Prometheus metrics at /metrics', () => {
  let emulator: RunningEmulator;
  before(async () => {
    emulator = await startTestEmulator({ maxOutboundBufferBytes: MAX_OUTBOUND });
  });
  after(() => emulator.close());

  test('counts connections by transport and protocol, and messages sent', async () => {
    const { socket } = await rawClient(emulator, HUB, 'metrics-user');
    const received = new Promise((resolve) => socket.once('message', resolve));
    const response = await rest(emulator, 'POST', `/api/hubs/${HUB}/:send`, { body: { target: 'hello', arguments: [] } });
    assert.equal(response.status, 202);
    await withTimeout(received, 'the broadcast');
    const text = await scrape(emulator);
    assert.equal(sample(text, 'signalr_emulator_connections{transport="WebSockets",protocol="json"}'), 1);
    assert.equal(sample(text, 'signalr_emulator_messages_sent_total'), 1);
    assert.equal(sample(text, 'signalr_emulator_slow_consumers_closed_total'), 0);
    assert.ok(!text.includes('process_cpu_seconds_total'), 'embedded (not its own process): no process metrics of its own');
    socket.close();
    await eventually(
      async () => sample(await scrape(emulator), 'signalr_emulator_connections{transport="WebSockets",protocol="json"}') === undefined,
      'the gauge to drop the closed connection',
    );
  });

  test('counts slow consumers closed', async () => {
    const { connectionId, socket } = await rawClient(emulator, HUB, 'slow-user');
    socket.pause(); // stops reading: the emulator's writes pile up
    let closed = false;
    for (let sent = 1; sent <= MAX_SENDS && !closed; sent++) {
      await rest(emulator, 'POST', `/api/hubs/${HUB}/connections/${connectionId}/:send`, { body: { target: 'flood', arguments: [BIG_ARGUMENT] } });
      closed = (await rest(emulator, 'HEAD', `/api/hubs/${HUB}/connections/${connectionId}`)).status === 404;
    }
    assert.ok(closed, `still open after ${MAX_SENDS} unread messages`);
    assert.equal(sample(await scrape(emulator), 'signalr_emulator_slow_consumers_closed_total'), 1);
    socket.terminate();
  });
});
