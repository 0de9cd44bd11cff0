/**
 * A throwaway SoftHSM2 token for tests: its own config and token directory under the OS temp
 * directory, selected through SOFTHSM2_CONF. SoftHSM2 reads SOFTHSM2_CONF in C_Initialize, which
 * is process-wide, so call this before any keyring touches the library in this process.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const SOFTHSM_LIBRARY = '/usr/lib/softhsm/libsofthsm2.so';

export interface SoftHsmToken {
  label: string;
  pin: string;
  soPin: string;
}

export interface SoftHsm {
  dir: string;
  tokens: SoftHsmToken[];
  remove(): void;
}

function requireSoftHsm(): void {
  let version = '';
  try {
    version = execFileSync('softhsm2-util', ['--version'], { encoding: 'utf8' });
  } catch {
    // reported below
  }
  if (version === '' || !existsSync(SOFTHSM_LIBRARY)) {
    throw new Error(
      'SoftHSM2 is required by the Pkcs11Keyring tests and is not installed ' +
        `(softhsm2-util on PATH and ${SOFTHSM_LIBRARY}). Install it with \`scripts/services softhsm\` ` +
        '(as root; or `apt-get install -y softhsm2`), then run the tests again.',
    );
  }
}

/** Creates a config and token directory, points SOFTHSM2_CONF at it and initializes the tokens. */
export function createSoftHsm(labels: readonly string[]): SoftHsm {
  requireSoftHsm();
  const dir = mkdtempSync(join(tmpdir(), 'phiguard-softhsm-'));
  const tokenDir = join(dir, 'tokens');
  mkdirSync(tokenDir);
  const conf = join(dir, 'softhsm2.conf');
  writeFileSync(conf, `directories.tokendir = ${tokenDir}\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n`);
  process.env.SOFTHSM2_CONF = conf;
  const tokens = labels.map((label, i) => {
    const token = { label, pin: `user-pin-${i}-4821`, soPin: `so-pin-${i}-9377` };
    execFileSync(
      'softhsm2-util',
      ['--init-token', '--free', '--label', label, '--pin', token.pin, '--so-pin', token.soPin],
      { env: { ...process.env, SOFTHSM2_CONF: conf }, stdio: 'pipe' },
    );
    return token;
  });
  return { dir, tokens, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Slot ID of the token labelled `label`, as softhsm2-util prints it. */
export function slotOf(label: string): number {
  const out = execFileSync('softhsm2-util', ['--show-slots'], { encoding: 'utf8' });
  const blocks = out.split(/\n(?=Slot \d+)/);
  for (const block of blocks) {
    const slot = /^Slot (\d+)/.exec(block);
    const tokenLabel = /Label:\s+(\S.*)$/m.exec(block);
    if (slot && tokenLabel?.[1]?.trim() === label) return Number(slot[1]);
  }
  throw new Error(`no slot with token ${label}`);
}
