/**
 * Callback secrets at rest: AES-256-GCM with CCX_SECRET_KEY. The stored text is
 * `v1.<iv>.<tag>.<ciphertext>` (base64url), so a later key rotation can add `v2` beside it.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

const VERSION = 'v1';

function assertKey(key: Buffer): void {
  if (key.length !== 32) throw new Error(`the secret key must be 32 bytes for AES-256-GCM, got ${key.length}`);
}

export function encryptSecret(key: Buffer, plaintext: string): string {
  assertKey(key);
  const iv = randomBytes(12); // 96-bit nonce, random per secret: GCM's recommended size
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  const tag = cipher.getAuthTag();
  return [VERSION, iv.toString('base64url'), tag.toString('base64url'), ciphertext.toString('base64url')].join('.');
}

/** Throws when the text was not produced with this key (the GCM tag does not verify). */
export function decryptSecret(key: Buffer, stored: string): string {
  assertKey(key);
  const [version, iv, tag, ciphertext] = stored.split('.');
  if (version !== VERSION || iv === undefined || tag === undefined || ciphertext === undefined) {
    throw new Error('not an encrypted secret of format v1');
  }
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
  decipher.setAuthTag(Buffer.from(tag, 'base64url'));
  return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8');
}
