/**
 * Stable, fast fingerprints of text for ids, labels and seeds — never for security (tokens use HMAC,
 * functions/handlers/http/auth.ts). Their values are stored in ids and labels, so they never change.
 * Outside the core, where Node is at hand, names and request fingerprints use SHA-256
 * (`functions/adapters/node/sha256.ts`); these stay for the core, which runs without Node.
 */

/** FNV-1a, 32 bits. */
export function fnv1a32(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
  return hash >>> 0;
}

/** 16 hex digits of two FNV-1a variants: short enough for a key or a label, wide enough to tell texts apart. */
export function shortHash(text: string): string {
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ text.length;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    a = Math.imul(a ^ code, 0x01000193);
    b = Math.imul(b ^ code, 0x01000193) ^ (a >>> 7);
  }
  return (a >>> 0).toString(16).padStart(8, '0') + (b >>> 0).toString(16).padStart(8, '0');
}
