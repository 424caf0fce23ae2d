import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The gateway's version from its package.json, found from wherever the compiled file sits (dist/, a test build). */
export function packageVersion(): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); dir !== dirname(dir); dir = dirname(dir)) {
    try {
      const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (manifest.name === 'signalr-gateway' && manifest.version) return manifest.version;
    } catch {
      // not here: look one level up
    }
  }
  throw new Error("The gateway's package.json is not above this module.");
}
