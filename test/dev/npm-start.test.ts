import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { startDevelopmentProcess } from '../fixtures/development-process.js';

/** The "Try it" block ends with this line; it is printed in one write. */
const BANNER_END = /Demo page: \S+\/demo\/ {3}Swagger UI: \S+\/docs\r?\n\r?\n$/;

/** What `npm start` printed up to its banner, and the banner; the banner must end the output (nothing after it). */
function splitAtBanner(output: string): { logs: string[]; banner: string } {
  const at = output.lastIndexOf('Try it:');
  assert.ok(at > 0, `no banner in:\n${output}`);
  assert.match(output, BANNER_END, 'something was printed after the banner');
  return {
    logs: output
      .slice(0, at)
      .split(/\r?\n/)
      .filter((line) => line.trim() !== ''),
    banner: output.slice(at),
  };
}

describe('npm start', () => {
  test('with stdout not a terminal (a pipe, a log collector): JSON lines, then the banner last', { timeout: 60_000 }, async () => {
    const gateway = await startDevelopmentProcess();
    try {
      const { logs, banner } = splitAtBanner(await gateway.waitFor(BANNER_END));
      const records = logs.map((line) => JSON.parse(line) as { msg: string; context?: string });
      // Every start-up line, the SSO's (logged once its keys are loaded, after listen) included, precedes the banner.
      assert.ok(
        records.some(({ context, msg }) => context === 'SsoKeySet' && msg.startsWith('SSO ready')),
        logs.join('\n'),
      );
      assert.ok(records.some(({ context, msg }) => context === 'DevelopmentStack' && msg.startsWith('SSO_ISSUER is not set')));
      // Nest's route map is debug: it no longer buries the banner.
      assert.equal(records.filter(({ msg }) => msg.startsWith('Mapped {')).length, 0);
      assert.match(banner, new RegExp(`${gateway.gatewayUrl}/api/hubs/chat/:send`));
    } finally {
      await gateway.stop();
    }
  });

  test('at a terminal: readable lines, not JSON, then the banner last', { timeout: 60_000 }, async () => {
    const gateway = await startDevelopmentProcess({ terminal: true });
    try {
      const { logs } = splitAtBanner(await gateway.waitFor(BANNER_END));
      assert.equal(logs.filter((line) => line.startsWith('{')).length, 0, logs.join('\n'));
      assert.ok(
        logs.some((line) => /WARN.*\[DevelopmentStack\] SSO_ISSUER is not set/.test(line)),
        logs.join('\n'),
      );
      assert.ok(
        logs.some((line) => /INFO.*\[SsoKeySet\] SSO ready/.test(line)),
        logs.join('\n'),
      );
    } finally {
      await gateway.stop();
    }
  });
});
