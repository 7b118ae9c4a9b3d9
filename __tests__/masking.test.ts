import { describe, expect, it } from '@jest/globals'
import {
  MIN_SECRET_LENGTH,
  redactSecrets,
  secretValuesFrom
} from '../src/action/secrets/masking.js'

describe('secretValuesFrom', () => {
  it('lists the github-token and state-key inputs', () => {
    expect(
      secretValuesFrom({
        'INPUT_GITHUB-TOKEN': 'ghs_abcdefghijklmnop',
        'INPUT_STATE-KEY': 'state-key-0123456789',
        INPUT_TRIGGER: '/kugetsu-long-trigger'
      })
    ).toEqual(['ghs_abcdefghijklmnop', 'state-key-0123456789'])
  })

  it.each([
    'OPENAI_API_KEY',
    'ANTHROPIC_API_KEY',
    'openrouter_api_key',
    'MY_APIKEY',
    'API_KEY',
    'GITHUB_TOKEN',
    'GH_TOKEN',
    'GITHUBTOKEN',
    'ACTIONS_RUNTIME_TOKEN',
    'TOKEN',
    'CLIENT_SECRET',
    'SECRET',
    'AWS_SECRET_ACCESS_KEY',
    'DJANGO_SECRET_KEY',
    'DEPLOY_PRIVATE_KEY',
    'DB_PASSWORD',
    'GPG_PASSPHRASE',
    'INPUT_NPM-TOKEN',
    'INPUT_MY API KEY'
  ])('lists %s', (name) => {
    expect(secretValuesFrom({ [name]: 'value-0123456789' })).toEqual(['value-0123456789'])
  })

  it.each([
    'PATH',
    'HOME',
    'GITHUB_REPOSITORY',
    'TOKEN_URL',
    'ACTIONS_ID_TOKEN_REQUEST_URL',
    'AWS_ACCESS_KEY_ID',
    'SECRETS_DIR',
    'KEY',
    'MONKEY',
    'TOKENIZER',
    'INPUT_MESSAGE',
    'INPUT_MODEL'
  ])('leaves %s alone', (name) => {
    expect(secretValuesFrom({ [name]: 'value-0123456789' })).toEqual([])
  })

  it('leaves out short, empty, whitespace and missing values', () => {
    expect(MIN_SECRET_LENGTH).toBe(8)
    expect(
      secretValuesFrom({
        A_TOKEN: 'x'.repeat(MIN_SECRET_LENGTH - 1),
        B_TOKEN: '',
        C_TOKEN: ' '.repeat(20),
        D_TOKEN: undefined,
        E_TOKEN: `  ${'y'.repeat(MIN_SECRET_LENGTH - 1)}  `,
        F_TOKEN: 'z'.repeat(MIN_SECRET_LENGTH)
      })
    ).toEqual(['z'.repeat(MIN_SECRET_LENGTH)])
  })

  it('lists a padded value both as it is and trimmed', () => {
    expect(secretValuesFrom({ X_SECRET: ' secret-value \n' })).toEqual([
      ' secret-value \n',
      'secret-value'
    ])
  })

  it('lists a multi-line value line by line too', () => {
    const pem = '-----BEGIN KEY-----\r\nMIIBOgIBAAJBAKj34\nshort\n-----END KEY-----'
    expect(secretValuesFrom({ SSH_PRIVATE_KEY: pem })).toEqual([
      pem,
      '-----BEGIN KEY-----',
      '-----END KEY-----',
      'MIIBOgIBAAJBAKj34'
    ])
  })

  it('deduplicates and puts longer values first, so they are masked before their parts', () => {
    expect(
      secretValuesFrom({
        A_TOKEN: 'abcdefgh',
        B_TOKEN: 'abcdefgh',
        C_API_KEY: 'abcdefgh-ijkl',
        D_SECRET: 'abcdefgi'
      })
    ).toEqual(['abcdefgh-ijkl', 'abcdefgh', 'abcdefgi'])
  })

  it('finds credentials written inline in the opencode-config input', () => {
    const config = JSON.stringify({
      provider: {
        openai: {
          options: { apiKey: 'sk-inline-0123456789', baseURL: 'https://api.example.com/v1' }
        },
        other: {
          options: { api_key: '{env:OTHER_API_KEY}', headers: { 'X-Token': 'tok-0123456789' } }
        }
      },
      mcp: { srv: { environment: { DB_PASSWORD: 'hunter2hunter2' }, command: ['run', 'server'] } },
      model: 'openai/gpt-5'
    })
    expect(secretValuesFrom({ 'INPUT_OPENCODE-CONFIG': config })).toEqual([
      'sk-inline-0123456789',
      'hunter2hunter2',
      'tok-0123456789'
    ])
  })

  it('ignores an opencode-config that is not JSON or not an object', () => {
    for (const text of ['{not json', '"apiKey: sk-0123456789"', 'null', '[]', '42']) {
      expect(secretValuesFrom({ 'INPUT_OPENCODE-CONFIG': text })).toEqual([])
    }
  })

  it('copes with a hostile, deeply nested config', () => {
    const text = `${'{"a":'.repeat(10_000)}{"token":"deep-secret-value"}${'}'.repeat(10_000)}`
    expect(() => secretValuesFrom({ INPUT_OPENCODE_CONFIG: text })).not.toThrow()
    expect(
      secretValuesFrom({
        INPUT_OPENCODE_CONFIG: JSON.stringify({ a: { b: { token: 'shallow-secret' } } })
      })
    ).toEqual(['shallow-secret'])
  })

  it('does not read process.env', () => {
    process.env.KUGETSU_TEST_TOKEN = 'from-process-env-0123'
    try {
      expect(secretValuesFrom({})).toEqual([])
    } finally {
      delete process.env.KUGETSU_TEST_TOKEN
    }
  })
})

describe('redactSecrets', () => {
  it('replaces every occurrence, also JSON-escaped inside an export, and keeps the JSON valid', () => {
    const secret = 'pa"ss\\word-1234'
    const text = JSON.stringify({ output: `KEY=${secret}\nagain ${secret}` })
    const redacted = redactSecrets(text, [secret])
    expect(redacted).not.toContain(JSON.stringify(secret).slice(1, -1))
    expect(JSON.parse(redacted)).toEqual({ output: 'KEY=***\nagain ***' })
    expect(redactSecrets(`token ghs_abcdefgh1234`, ['ghs_abcdefgh1234'])).toBe('token ***')
  })

  it('leaves text without secrets, and values too short to be secrets, alone', () => {
    expect(redactSecrets('nothing here', ['ghs_abcdefgh1234'])).toBe('nothing here')
    expect(redactSecrets('true main', ['true', 'main'])).toBe('true main')
  })
})
