import assert from 'node:assert/strict';
import { accessSync, constants, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { findChromium } from './browser.js';

describe('findChromium: which browser the Chromium tests drive', () => {
  let systemBin: string;
  let emptyBin: string;

  before(() => {
    systemBin = mkdtempSync(join(tmpdir(), 'system-bin-'));
    writeFileSync(join(systemBin, 'chromium'), '#!/bin/sh\n', { mode: 0o755 });
    emptyBin = mkdtempSync(join(tmpdir(), 'empty-bin-'));
  });

  after(() => {
    rmSync(systemBin, { recursive: true, force: true });
    rmSync(emptyBin, { recursive: true, force: true });
  });

  test('CHROMIUM_PATH comes first, even with a chromium on PATH', async () => {
    const found = await findChromium({ CHROMIUM_PATH: '/opt/my/chrome', PATH: systemBin });
    assert.equal(found.executablePath, '/opt/my/chrome');
  });

  test('else a chromium on PATH, as a system package installs it', async () => {
    const found = await findChromium({ PATH: [emptyBin, join(emptyBin, 'absent'), systemBin].join(delimiter) });
    assert.equal(found.executablePath, join(systemBin, 'chromium'));
  });

  test('else the headless Chromium inside the @sparticuz/chromium dev dependency, with its fonts', async () => {
    const found = await findChromium({ PATH: join(emptyBin, 'absent') });
    assert.doesNotThrow(() => accessSync(found.executablePath, constants.X_OK));
    assert.ok(!found.executablePath.startsWith(systemBin) && !found.executablePath.startsWith('/usr/'), found.executablePath);
    assert.equal(found.env['FONTCONFIG_PATH'], join(tmpdir(), 'fonts'));
  });
});
