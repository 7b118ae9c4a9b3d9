import { describe, expect, it } from '@jest/globals'
import { createCipheriv, randomBytes } from 'node:crypto'
import { KugetsuError } from '../src/errors.js'
import {
  ENVELOPE_FORMAT,
  KDF_PARAMS,
  MIN_STATE_KEY_LENGTH,
  StateCryptoError,
  decryptState,
  deriveKey,
  encryptState,
  isEncrypted,
  openState,
  sealState,
  type StateCryptoFailure
} from '../src/store/crypto.js'

const KEY = 'k8Jw2v0Yq3Lr9XbT5mNc1Hs7Pd4Fg6Aa'
const OTHER_KEY = 'k8Jw2v0Yq3Lr9XbT5mNc1Hs7Pd4Fg6Ab'
const REF = 'github.com/octo/repo#7'
const SESSION = JSON.stringify({ info: { id: 'ses_1', title: 'Fix the build' }, messages: [] })

async function failure(promise: Promise<unknown>): Promise<StateCryptoError> {
  try {
    await promise
  } catch (error) {
    expect(error).toBeInstanceOf(StateCryptoError)
    expect(error).toBeInstanceOf(KugetsuError)
    expect((error as Error).message).not.toContain('\n')
    expect((error as Error).message).not.toContain(KEY)
    return error as StateCryptoError
  }
  throw new Error('expected a failure')
}

async function expectFailure(
  promise: Promise<unknown>,
  code: string,
  reason: StateCryptoFailure,
  message?: string | RegExp
) {
  const error = await failure(promise)
  expect({ code: error.code, failure: error.failure }).toEqual({ code, failure: reason })
  if (message !== undefined) expect(error.message).toMatch(message)
  return error
}

/** The envelope's fields by name. */
function fields(envelope: string): Record<string, string> {
  const [, ...parts] = envelope.split(' ')
  return Object.fromEntries(
    parts.map((part) => [part.slice(0, part.indexOf('=')), part.slice(part.indexOf('=') + 1)])
  )
}

function withField(envelope: string, name: string, value: string): string {
  return envelope.replace(new RegExp(` ${name}=[^ ]*`), ` ${name}=${value}`)
}

/** The base64 value with one bit of one byte flipped. */
function flipBit(value: string, byte = 0, bit = 0): string {
  const bytes = Buffer.from(value, 'base64')
  bytes[byte] ^= 1 << bit
  return bytes.toString('base64')
}

describe('encryptState / decryptState', () => {
  it('round-trips', async () => {
    const envelope = await encryptState(SESSION, KEY, REF)
    expect(await decryptState(envelope, KEY, REF)).toBe(SESSION)
  })

  it('writes the documented self-describing envelope', async () => {
    const envelope = await encryptState('hello', KEY, REF)
    expect(envelope).toMatch(
      /^kugetsu-enc-v1 alg=aes-256-gcm kdf=scrypt:N=16384,r=8,p=1 ctx=[0-9a-f]{16} salt=[A-Za-z0-9+/]{22}== nonce=[A-Za-z0-9+/]{16} len=5 tag=[A-Za-z0-9+/]{22}== data=[A-Za-z0-9+/]{7}=$/
    )
    expect(envelope).not.toContain('\n')
    expect(envelope).not.toContain('hello')
    expect(() => JSON.parse(envelope)).toThrow()
    expect(ENVELOPE_FORMAT).toBe('kugetsu-enc-v1')
    expect(KDF_PARAMS).toEqual({ N: 16384, r: 8, p: 1 })
  })

  it('uses a fresh salt and nonce every time', async () => {
    const envelopes = await Promise.all(
      Array.from({ length: 8 }, () => encryptState(SESSION, KEY, REF))
    )
    const salts = new Set(envelopes.map((e) => fields(e).salt))
    const nonces = new Set(envelopes.map((e) => fields(e).nonce))
    const data = new Set(envelopes.map((e) => fields(e).data))
    expect(salts.size).toBe(8)
    expect(nonces.size).toBe(8)
    expect(data.size).toBe(8)
    for (const envelope of envelopes) expect(await decryptState(envelope, KEY, REF)).toBe(SESSION)
  })

  it('keeps unicode intact', async () => {
    const text =
      'Japanese 月見 · emoji 👩‍💻🏳️‍🌈 · RTL שלום مرحبا · NUL \u0000 · astral 𝄞 · "quotes" \\ back'
    expect(await decryptState(await encryptState(text, KEY, REF), KEY, REF)).toBe(text)
  })

  it('handles empty text', async () => {
    const envelope = await encryptState('', KEY, REF)
    expect(fields(envelope).len).toBe('0')
    expect(await decryptState(envelope, KEY, REF)).toBe('')
  })

  it('tolerates surrounding whitespace, such as a trailing newline', async () => {
    const envelope = await encryptState(SESSION, KEY, REF)
    expect(await decryptState(`\n${envelope}\n`, KEY, REF)).toBe(SESSION)
  })

  it('handles a large session, and reports the time it takes', async () => {
    const chunk = JSON.stringify({ role: 'assistant', text: 'lorem ipsum 月 👍 '.repeat(20) })
    const text = chunk.repeat(Math.ceil((5 * 1024 * 1024) / chunk.length))
    let started = Date.now()
    const envelope = await encryptState(text, KEY, REF)
    const sealMs = Date.now() - started
    started = Date.now()
    const opened = await decryptState(envelope, KEY, REF)
    const openMs = Date.now() - started
    console.log(
      `crypto: ${(Buffer.byteLength(text) / 1024 / 1024).toFixed(1)} MB sealed in ${sealMs} ms, opened in ${openMs} ms (envelope ${(envelope.length / 1024 / 1024).toFixed(1)} MB)`
    )
    expect(opened === text).toBe(true)
  })

  it('derives keys in reasonable time, and reports it', async () => {
    const salt = randomBytes(16)
    await deriveKey(KEY, salt) // warm up
    const times: number[] = []
    for (let i = 0; i < 5; i++) {
      const started = process.hrtime.bigint()
      await deriveKey(KEY, randomBytes(16))
      times.push(Number(process.hrtime.bigint() - started) / 1e6)
    }
    console.log(
      `crypto: scrypt N=2^14 r=8 p=1 took ${times.map((t) => t.toFixed(0)).join(', ')} ms`
    )
    const key = await deriveKey(KEY, salt)
    expect(key).toHaveLength(32)
    expect((await deriveKey(KEY, salt)).equals(key)).toBe(true)
    expect((await deriveKey(OTHER_KEY, salt)).equals(key)).toBe(false)
    expect((await deriveKey(KEY, randomBytes(16))).equals(key)).toBe(false)
  })
})

describe('decryptState failures', () => {
  it('wrong key', async () => {
    const envelope = await encryptState(SESSION, KEY, REF)
    await expectFailure(
      decryptState(envelope, OTHER_KEY, REF),
      'corrupt-state',
      'wrong-key',
      `cannot decrypt the encrypted state of ${REF}: the state-key is not the one it was encrypted with, or the entry was altered`
    )
  })

  it('missing key', async () => {
    const envelope = await encryptState(SESSION, KEY, REF)
    for (const secret of [undefined, '']) {
      await expectFailure(
        decryptState(envelope, secret, REF),
        'invalid-input',
        'missing-key',
        `the stored state of ${REF} is encrypted, but no state-key is set`
      )
    }
  })

  it('too short a key', async () => {
    await expectFailure(
      encryptState(SESSION, 'short', REF),
      'invalid-input',
      'weak-key',
      `state-key must be at least ${MIN_STATE_KEY_LENGTH} characters (it is 5); generate one with: openssl rand -base64 32`
    )
    const envelope = await encryptState(SESSION, KEY, REF)
    await expectFailure(decryptState(envelope, KEY.slice(0, 15), REF), 'invalid-input', 'weak-key')
  })

  it('another entry\u2019s state swapped in (wrong context)', async () => {
    const envelope = await encryptState(SESSION, KEY, REF)
    for (const context of ['github.com/octo/repo#70', 'base', 'github.com/octo/repo#7 ', '']) {
      await expectFailure(
        decryptState(envelope, KEY, context),
        'corrupt-state',
        'wrong-context',
        /was sealed for another entry and cannot stand in for this one/
      )
    }
  })

  it('wrong context with the ctx field forged to match', async () => {
    const envelope = await encryptState(SESSION, KEY, REF)
    const forged = withField(envelope, 'ctx', fields(await encryptState('x', KEY, 'base')).ctx)
    await expectFailure(decryptState(forged, KEY, 'base'), 'corrupt-state', 'wrong-key')
  })

  it.each([
    ['data', 0, 0],
    ['data', 5, 7],
    ['tag', 0, 0],
    ['tag', 15, 7],
    ['nonce', 0, 0],
    ['nonce', 11, 3],
    ['salt', 0, 0],
    ['salt', 15, 7]
  ])('a flipped bit in %s (byte %i, bit %i)', async (name, byte, bit) => {
    const envelope = await encryptState(SESSION, KEY, REF)
    const tampered = withField(envelope, name, flipBit(fields(envelope)[name], byte, bit))
    expect(tampered).not.toBe(envelope)
    await expectFailure(decryptState(tampered, KEY, REF), 'corrupt-state', 'wrong-key')
  })

  it('authenticates the context itself, not only its hash in the ctx field', async () => {
    // Re-seal a real envelope by hand with a chosen additional data, the rest as kugetsu does.
    const envelope = await encryptState('', KEY, REF)
    const header = envelope.slice(0, envelope.indexOf(' tag='))
    const { salt, nonce } = fields(envelope)
    const key = await deriveKey(KEY, Buffer.from(salt, 'base64'))
    const reseal = (aad: string) => {
      const cipher = createCipheriv('aes-256-gcm', key, Buffer.from(nonce, 'base64'))
      cipher.setAAD(Buffer.from(aad, 'utf8'))
      const data = Buffer.concat([cipher.update(SESSION), cipher.final()])
      return [
        header.replace(/ len=\d+$/, ` len=${data.length}`),
        `tag=${cipher.getAuthTag().toString('base64')}`,
        `data=${data.toString('base64')}`
      ].join(' ')
    }
    const withLen = (aad: string) => aad.replace(/ len=\d+/, ` len=${Buffer.byteLength(SESSION)}`)
    expect(await decryptState(reseal(withLen(`${header}\n${REF}`)), KEY, REF)).toBe(SESSION)
    await expectFailure(
      decryptState(reseal(withLen(header)), KEY, REF),
      'corrupt-state',
      'wrong-key'
    )
  })

  it('an altered ctx field', async () => {
    const envelope = await encryptState(SESSION, KEY, REF)
    const ctx = fields(envelope).ctx
    const altered = withField(envelope, 'ctx', `${ctx.slice(0, 15)}${ctx[15] === '0' ? '1' : '0'}`)
    await expectFailure(decryptState(altered, KEY, REF), 'corrupt-state', 'wrong-context')
  })

  it('ciphertext and tag swapped in from another envelope under the same context', async () => {
    const one = await encryptState('one', KEY, REF)
    const two = await encryptState('two', KEY, REF)
    const mixed = withField(withField(one, 'data', fields(two).data), 'tag', fields(two).tag)
    await expectFailure(decryptState(mixed, KEY, REF), 'corrupt-state', 'wrong-key')
  })

  it('a forged envelope made without the key', async () => {
    const envelope = await encryptState(SESSION, KEY, REF)
    const key = randomBytes(32)
    const nonce = Buffer.from(fields(envelope).nonce, 'base64')
    const cipher = createCipheriv('aes-256-gcm', key, nonce)
    const data = Buffer.concat([cipher.update('{"evil":true}'), cipher.final()])
    const forged = withField(
      withField(withField(envelope, 'len', String(data.length)), 'data', data.toString('base64')),
      'tag',
      cipher.getAuthTag().toString('base64')
    )
    await expectFailure(decryptState(forged, KEY, REF), 'corrupt-state', 'wrong-key')
  })

  it('truncation anywhere', async () => {
    const envelope = await encryptState(SESSION, KEY, REF)
    for (let cut = envelope.length - 1; cut >= ENVELOPE_FORMAT.length; cut--) {
      const error = await failure(decryptState(envelope.slice(0, cut), KEY, REF))
      if (error.failure !== 'truncated') {
        throw new Error(`cut at ${cut} gave ${error.failure}: ${error.message}`)
      }
      expect(error.code).toBe('corrupt-state')
    }
  })

  it('truncation of the data, with a clear message', async () => {
    const envelope = await encryptState('x'.repeat(300), KEY, REF)
    await expectFailure(
      decryptState(envelope.slice(0, -100), KEY, REF),
      'corrupt-state',
      'truncated',
      `the encrypted state of ${REF} is truncated (225 of 300 encrypted bytes); destroy it and start again`
    )
    await expectFailure(
      decryptState(envelope.slice(0, -101), KEY, REF),
      'corrupt-state',
      'truncated',
      /\(about 224 of 300 encrypted bytes\)/
    )
    await expectFailure(
      decryptState(envelope.slice(0, envelope.indexOf(' tag=') + 3), KEY, REF),
      'corrupt-state',
      'truncated',
      /it ends in the tag field/
    )
  })

  it.each([
    [
      'an unknown algorithm',
      (e: string) => withField(e, 'alg', 'aes-128-cbc'),
      /unsupported algorithm/
    ],
    [
      'a costlier scrypt',
      (e: string) => withField(e, 'kdf', 'scrypt:N=1073741824,r=8,p=1'),
      /unsupported key derivation/
    ],
    ['a short salt', (e: string) => withField(e, 'salt', 'AAAA'), /bad salt field/],
    [
      'a long nonce',
      (e: string) => withField(e, 'nonce', randomBytes(16).toString('base64')),
      /bad nonce field/
    ],
    [
      'a short tag',
      (e: string) => withField(e, 'tag', randomBytes(8).toString('base64')),
      /bad tag field/
    ],
    ['non-base64 data', (e: string) => withField(e, 'data', '!!!!'), /bad data field/],
    ['a negative len', (e: string) => withField(e, 'len', '-1'), /bad len field/],
    ['a huge len', (e: string) => withField(e, 'len', '99999999999'), /bad len field/],
    [
      'a len below the data',
      (e: string) => withField(e, 'len', '1'),
      /encrypted bytes where len says 1/
    ],
    [
      'fields out of order',
      (e: string) => e.replace(/ salt=([^ ]*) nonce=([^ ]*)/, ' nonce=$2 salt=$1'),
      /expected the salt field/
    ],
    ['extra text', (e: string) => `${e} more=1`, /unexpected text after the data field/],
    ['a tab for a space', (e: string) => e.replace(' alg=', '\talg='), /unknown format name/],
    ['an unknown name', () => 'kugetsu-enc-x1 whatever', /unknown format name/],
    ['a bad ctx', (e: string) => withField(e, 'ctx', 'ZZ'), /bad ctx field/]
  ])('garbled: %s', async (_, alter, message) => {
    const envelope = await encryptState(SESSION, KEY, REF)
    await expectFailure(
      decryptState(alter(envelope), KEY, REF),
      'corrupt-state',
      'malformed',
      message
    )
  })

  it('a newer format version', async () => {
    const envelope = await encryptState(SESSION, KEY, REF)
    await expectFailure(
      decryptState(envelope.replace('kugetsu-enc-v1', 'kugetsu-enc-v2'), KEY, REF),
      'corrupt-state',
      'unsupported',
      `the encrypted state of ${REF} uses the format kugetsu-enc-v2, which this kugetsu cannot read (it reads kugetsu-enc-v1)`
    )
  })

  it('keeps messages on one line whatever the context', async () => {
    const envelope = await encryptState(SESSION, KEY, 'a\nb\u2028c')
    const error = await expectFailure(
      decryptState(envelope, OTHER_KEY, 'a\nb\u2028c'),
      'corrupt-state',
      'wrong-key'
    )
    expect(error.message).toContain('state of a b c:')
  })

  it('plain text', async () => {
    await expectFailure(decryptState(SESSION, KEY, REF), 'corrupt-state', 'not-encrypted')
  })
})

describe('isEncrypted', () => {
  it('tells envelopes from plain state', async () => {
    expect(isEncrypted(await encryptState(SESSION, KEY, REF))).toBe(true)
    expect(isEncrypted('\n kugetsu-enc-v9 anything')).toBe(true)
    expect(isEncrypted(SESSION)).toBe(false)
    expect(isEncrypted('')).toBe(false)
    expect(isEncrypted('{"text":"kugetsu-enc-v1 alg=aes-256-gcm"}')).toBe(false)
    expect(isEncrypted(`${' '.repeat(100)}kugetsu-enc-v1`)).toBe(false)
  })
})

describe('sealState / openState', () => {
  it('leave state plain without a key', async () => {
    expect(await sealState(SESSION, undefined, REF)).toBe(SESSION)
    expect(await sealState(SESSION, '', REF)).toBe(SESSION)
    expect(await openState(SESSION, undefined, REF)).toBe(SESSION)
  })

  it('seal and open with a key', async () => {
    const sealed = await sealState(SESSION, KEY, REF)
    expect(isEncrypted(sealed)).toBe(true)
    expect(await openState(sealed, KEY, REF)).toBe(SESSION)
  })

  it('refuse an envelope without the key', async () => {
    const sealed = await sealState(SESSION, KEY, REF)
    await expectFailure(openState(sealed, undefined, REF), 'invalid-input', 'missing-key')
  })

  it('refuse plain state when a key is set, unless told to accept it', async () => {
    await expectFailure(
      openState(SESSION, KEY, REF),
      'corrupt-state',
      'not-encrypted',
      `the stored state of ${REF} is not encrypted although a state-key is set (saved before encryption was enabled, or planted); destroy it and start again`
    )
    expect(await openState(SESSION, KEY, REF, { allowPlaintext: true })).toBe(SESSION)
  })
})
