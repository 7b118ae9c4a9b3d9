import { createCipheriv, createDecipheriv, createHash, randomBytes, scrypt } from 'node:crypto'
import { KugetsuError, type ErrorCode } from '../errors.js'
import type { EntryCodec } from './entries.js'

/**
 * Encryption of stored state with the `state-key` secret. Actions cache entries are readable by
 * any workflow run of the repository, including runs for pull requests from forks on a public
 * repository, and a session export holds the whole conversation, so with a state-key set every
 * entry is sealed before it is cached.
 *
 * The envelope is one line of text, never valid JSON (so it cannot be mistaken for a plain
 * record), with its fields in this fixed order:
 *
 *     kugetsu-enc-v1 alg=aes-256-gcm kdf=scrypt:N=16384,r=8,p=1 ctx=<16 hex> salt=<base64>
 *       nonce=<base64> len=<decimal> tag=<base64> data=<base64>
 *
 * - `kdf`: the key is scrypt(state-key as UTF-8, salt, N=2^14, r=8, p=1, 32 bytes), 16 MiB of
 *   memory and a few tens of milliseconds per derivation (the parameters scrypt's author gives for
 *   interactive use; N=2^15 measured 4-7 times slower on a 2-vCPU runner, well over 100 ms). A
 *   state-key should be a random secret anyway (`openssl rand -base64 32`); scrypt is there so a
 *   weak one is still costly to guess from a leaked entry.
 * - `salt`: 16 random bytes per envelope, so every envelope has its own key; `nonce`: 12 random
 *   bytes per envelope. (A key is thus used once, so nonce reuse cannot happen.)
 * - `ctx`: the first 16 hex digits of SHA-256 of the context (the issue ref, or `base`), only to
 *   tell "this is another entry's state" from "wrong key"; the context itself is authenticated.
 * - `len`: the ciphertext's length in bytes, to tell a truncated entry from a wrong key.
 * - `tag`: the 16-byte GCM tag; `data`: the ciphertext of the UTF-8 plaintext.
 *
 * The additional authenticated data is the envelope up to (not including) ` tag=`, a line feed
 * and the context: any change to a field, or decrypting an entry under another issue's context,
 * fails authentication. Readers accept only these exact parameters, so a planted envelope cannot
 * ask for a huge scrypt cost.
 */

export const ENVELOPE_FORMAT = 'kugetsu-enc-v1'
export const ALGORITHM = 'aes-256-gcm'
export const KDF_PARAMS = { N: 2 ** 14, r: 8, p: 1 } as const
/** A shorter state-key is refused: it would be guessable from a leaked cache entry. */
export const MIN_STATE_KEY_LENGTH = 16

const KDF_LABEL = `scrypt:N=${KDF_PARAMS.N},r=${KDF_PARAMS.r},p=${KDF_PARAMS.p}`
const KEY_BYTES = 32
const SALT_BYTES = 16
const NONCE_BYTES = 12
const TAG_BYTES = 16
/** Twice what the parameters need (128 * N * r), as OpenSSL's check is not exact. */
const SCRYPT_MAXMEM = 256 * KDF_PARAMS.N * KDF_PARAMS.r
const FIELDS = ['alg', 'kdf', 'ctx', 'salt', 'nonce', 'len', 'tag', 'data'] as const
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/

export type StateCryptoFailure =
  | 'missing-key'
  | 'weak-key'
  | 'wrong-key'
  | 'wrong-context'
  | 'truncated'
  | 'malformed'
  | 'unsupported'
  | 'not-encrypted'

/** A KugetsuError whose `failure` tells the reasons apart for callers and tests. */
export class StateCryptoError extends KugetsuError {
  readonly failure: StateCryptoFailure

  constructor(code: ErrorCode, failure: StateCryptoFailure, message: string) {
    super(code, message)
    this.name = 'StateCryptoError'
    this.failure = failure
  }
}

/** The context as it appears in a one-line message. */
const shown = (context: string) =>
  context.slice(0, 100).replace(/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/gu, ' ')
const entryName = (context: string) => `the encrypted state of ${shown(context)}`

function checkKey(secret: string | undefined, context: string, encrypted: boolean): string {
  if (secret === undefined || secret === '') {
    throw new StateCryptoError(
      'invalid-input',
      'missing-key',
      encrypted
        ? `the stored state of ${shown(context)} is encrypted, but no state-key is set`
        : 'state-key is empty'
    )
  }
  if (secret.length < MIN_STATE_KEY_LENGTH) {
    throw new StateCryptoError(
      'invalid-input',
      'weak-key',
      `state-key must be at least ${MIN_STATE_KEY_LENGTH} characters (it is ${secret.length}); generate one with: openssl rand -base64 32`
    )
  }
  return secret
}

/** The 32-byte key for a secret and salt (scrypt with KDF_PARAMS). */
export function deriveKey(secret: string, salt: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(
      Buffer.from(secret, 'utf8'),
      salt,
      KEY_BYTES,
      { ...KDF_PARAMS, maxmem: SCRYPT_MAXMEM },
      (error, key) => (error ? reject(error) : resolve(key))
    )
  })
}

function contextId(context: string): string {
  return createHash('sha256')
    .update(`${ENVELOPE_FORMAT} context\0${context}`, 'utf8')
    .digest('hex')
    .slice(0, 16)
}

const aad = (header: string, context: string) => Buffer.from(`${header}\n${context}`, 'utf8')

/** Whether a stored text is an envelope (of any version), as opposed to plain JSON. */
export function isEncrypted(text: string): boolean {
  return /^\s*kugetsu-enc-/.test(text.slice(0, 64))
}

/** Seals `plaintext` for `context` (the issue ref, or 'base'). */
export async function encryptState(
  plaintext: string,
  secret: string,
  context: string
): Promise<string> {
  const salt = randomBytes(SALT_BYTES)
  return seal(plaintext, salt, await deriveKey(checkKey(secret, context, false), salt), context)
}

function seal(plaintext: string, salt: Buffer, key: Buffer, context: string): string {
  const nonce = randomBytes(NONCE_BYTES)
  const data = Buffer.from(plaintext, 'utf8')
  const header = [
    ENVELOPE_FORMAT,
    `alg=${ALGORITHM}`,
    `kdf=${KDF_LABEL}`,
    `ctx=${contextId(context)}`,
    `salt=${salt.toString('base64')}`,
    `nonce=${nonce.toString('base64')}`,
    `len=${data.length}`
  ].join(' ')
  const cipher = createCipheriv(ALGORITHM, key, nonce, { authTagLength: TAG_BYTES })
  cipher.setAAD(aad(header, context))
  const ciphertext = Buffer.concat([cipher.update(data), cipher.final()])
  return `${header} tag=${cipher.getAuthTag().toString('base64')} data=${ciphertext.toString('base64')}`
}

interface Envelope {
  header: string
  ctx: string
  salt: Buffer
  nonce: Buffer
  tag: Buffer
  data: Buffer
}

function parseEnvelope(text: string, context: string): Envelope {
  const what = entryName(context)
  const malformed = (detail: string) =>
    new StateCryptoError(
      'corrupt-state',
      'malformed',
      `${what} is not a valid ${ENVELOPE_FORMAT} envelope (${detail}); destroy it and start again`
    )
  const truncated = (detail: string) =>
    new StateCryptoError(
      'corrupt-state',
      'truncated',
      `${what} is truncated (${detail}); destroy it and start again`
    )

  const body = text.trim()
  const parts = body.split(' ')
  const format = parts[0]
  if (format !== ENVELOPE_FORMAT) {
    const version = /^kugetsu-enc-(v\d{1,4})$/.exec(format)
    if (version) {
      throw new StateCryptoError(
        'corrupt-state',
        'unsupported',
        `${what} uses the format kugetsu-enc-${version[1]}, which this kugetsu cannot read (it reads ${ENVELOPE_FORMAT})`
      )
    }
    throw malformed('unknown format name')
  }
  const values: Record<string, string> = {}
  const present = parts.slice(1)
  for (let i = 0; i < present.length && i < FIELDS.length; i++) {
    const name = FIELDS[i]
    const part = present[i]
    const last = i === present.length - 1
    if (part.startsWith(`${name}=`)) values[name] = part.slice(name.length + 1)
    else if (last && `${name}=`.startsWith(part)) throw truncated(`it ends in the ${name} field`)
    else throw malformed(`expected the ${name} field`)
  }
  if (present.length < FIELDS.length) {
    throw truncated(
      present.length === 0
        ? 'it ends after the format name'
        : `it ends in the ${FIELDS[present.length - 1]} field`
    )
  }
  if (present.length > FIELDS.length) throw malformed('unexpected text after the data field')
  if (values.alg !== ALGORITHM) throw malformed(`unsupported algorithm`)
  if (values.kdf !== KDF_LABEL) throw malformed(`unsupported key derivation`)
  if (!/^[0-9a-f]{16}$/.test(values.ctx)) throw malformed('bad ctx field')

  const bytes = (name: 'salt' | 'nonce' | 'tag', length: number) => {
    const value = values[name]
    const decoded = Buffer.from(value, 'base64')
    if (!BASE64.test(value) || value.length % 4 !== 0 || decoded.length !== length) {
      throw malformed(`bad ${name} field`)
    }
    return decoded
  }
  const salt = bytes('salt', SALT_BYTES)
  const nonce = bytes('nonce', NONCE_BYTES)
  if (!/^(0|[1-9][0-9]{0,9})$/.test(values.len)) throw malformed('bad len field')
  const length = Number(values.len)
  const tag = bytes('tag', TAG_BYTES)
  if (!BASE64.test(values.data)) throw malformed('bad data field')
  if (values.data.length % 4 !== 0) {
    // No encoder writes this: the end of the text is missing.
    const got = Buffer.from(values.data, 'base64').length
    throw truncated(
      got < length ? `about ${got} of ${length} encrypted bytes` : 'its last characters are missing'
    )
  }
  const data = Buffer.from(values.data, 'base64')
  if (data.length < length) throw truncated(`${data.length} of ${length} encrypted bytes`)
  if (data.length > length)
    throw malformed(`${data.length} encrypted bytes where len says ${length}`)
  const header = body.slice(0, body.indexOf(' tag='))
  return { header, ctx: values.ctx, salt, nonce, tag, data }
}

/**
 * Opens an envelope sealed for `context`. Throws a StateCryptoError: 'invalid-input' when no (or
 * too short a) state-key is given, 'corrupt-state' when the envelope is not for this context, was
 * encrypted with another key or altered, is cut short or garbled, or is not an envelope at all.
 */
export async function decryptState(
  text: string,
  secret: string | undefined,
  context: string
): Promise<string> {
  const what = entryName(context)
  if (!isEncrypted(text)) {
    throw new StateCryptoError('corrupt-state', 'not-encrypted', `${what} is not encrypted`)
  }
  const key = checkKey(secret, context, true)
  const envelope = parseEnvelope(text, context)
  if (envelope.ctx !== contextId(context)) {
    throw new StateCryptoError(
      'corrupt-state',
      'wrong-context',
      `${what} was sealed for another entry and cannot stand in for this one; destroy it and start again`
    )
  }
  const decipher = createDecipheriv(
    ALGORITHM,
    await deriveKey(key, envelope.salt),
    envelope.nonce,
    {
      authTagLength: TAG_BYTES
    }
  )
  decipher.setAAD(aad(envelope.header, context))
  decipher.setAuthTag(envelope.tag)
  let plaintext: Buffer
  try {
    plaintext = Buffer.concat([decipher.update(envelope.data), decipher.final()])
  } catch {
    throw new StateCryptoError(
      'corrupt-state',
      'wrong-key',
      `cannot decrypt ${what}: the state-key is not the one it was encrypted with, or the entry was altered`
    )
  }
  return plaintext.toString('utf8')
}

/** What to store: the plaintext sealed for `context` when a state-key is set, else as it is. */
export function sealState(
  plaintext: string,
  secret: string | undefined,
  context: string
): Promise<string> {
  if (secret === undefined || secret === '') return Promise.resolve(plaintext)
  return encryptState(plaintext, secret, context)
}

/**
 * What a stored text holds: an envelope is opened (a state-key is then required); plain text is
 * returned as it is when no state-key is set. With a state-key set, plain text is refused unless
 * `allowPlaintext`: it was saved before encryption was enabled, or planted by someone without
 * the key, and nothing vouches for it.
 */
export async function openState(
  text: string,
  secret: string | undefined,
  context: string,
  options: { allowPlaintext?: boolean } = {}
): Promise<string> {
  if (isEncrypted(text)) return decryptState(text, secret, context)
  if (secret === undefined || secret === '' || options.allowPlaintext) return text
  throw new StateCryptoError(
    'corrupt-state',
    'not-encrypted',
    `the stored state of ${shown(context)} is not encrypted although a state-key is set (saved before encryption was enabled, or planted); destroy it and start again`
  )
}

/**
 * The entry codec for a state-key: every file sealed under its context when a key is set; an
 * encrypted file read without the key, with another key or under another context is refused.
 */
export function stateCodec(secret: string | undefined): EntryCodec {
  return {
    encode: (text, context) => sealState(text, secret, context),
    decode: (text, context) => openState(text, secret, context)
  }
}
