/**
 * Callback secrets at rest: AES-256-GCM. The stored text names the key that sealed it,
 * `v2.<keyId>.<iv>.<tag>.<ciphertext>` (base64url; the key id is the first 8 bytes of the key's
 * SHA-256, hex), so keys can be rotated: the current key (CCX_SECRET_KEY) seals, and the previous
 * ones (CCX_SECRET_KEYS_PREVIOUS) still open what they sealed until it is re-encrypted — every
 * worker does that at boot (runtime/callback-dispatcher.ts). Text of the first format,
 * `v1.<iv>.<tag>.<ciphertext>`, names no key: every key of the ring is tried.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

export interface Keyring {
  current: Buffer;
  previous: readonly Buffer[];
}

function assertKey(key: Buffer): void {
  if (key.length !== 32) throw new Error(`the secret key must be 32 bytes for AES-256-GCM, got ${key.length}`);
}

export const keyIdOf = (key: Buffer): string => createHash('sha256').update(key).digest('hex').slice(0, 16);

export function encryptSecret(key: Buffer, plaintext: string): string {
  assertKey(key);
  const iv = randomBytes(12); // 96-bit nonce, random per secret: GCM's recommended size
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  const tag = cipher.getAuthTag();
  return ['v2', keyIdOf(key), iv.toString('base64url'), tag.toString('base64url'), ciphertext.toString('base64url')].join('.');
}

function open(key: Buffer, iv: string, tag: string, ciphertext: string): string {
  assertKey(key);
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
  decipher.setAuthTag(Buffer.from(tag, 'base64url'));
  return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8');
}

/** Throws when no key of the ring sealed the text (unknown key id, or the GCM tag does not verify). */
export function decryptSecret(keys: Buffer | Keyring, stored: string): string {
  const ring: Keyring = Buffer.isBuffer(keys) ? { current: keys, previous: [] } : keys;
  const all = [ring.current, ...ring.previous];
  const parts = stored.split('.');
  if (parts[0] === 'v2' && parts.length === 5) {
    const [, keyId, iv, tag, ciphertext] = parts as [string, string, string, string, string];
    const key = all.find((k) => keyIdOf(k) === keyId);
    if (!key) throw new Error(`secret sealed with key ${keyId}, which is not among CCX_SECRET_KEY and CCX_SECRET_KEYS_PREVIOUS`);
    return open(key, iv, tag, ciphertext);
  }
  if (parts[0] === 'v1' && parts.length === 4) {
    const [, iv, tag, ciphertext] = parts as [string, string, string, string];
    for (const key of all) {
      try {
        return open(key, iv, tag, ciphertext);
      } catch {
        // another key of the ring, then
      }
    }
    throw new Error('secret of format v1 opens with no key of the ring');
  }
  throw new Error('not an encrypted secret of format v1 or v2');
}

/** Whether the text is sealed by anything but the current key (or in the old format). */
export const needsReencryption = (ring: Keyring, stored: string): boolean => !stored.startsWith(`v2.${keyIdOf(ring.current)}.`);
