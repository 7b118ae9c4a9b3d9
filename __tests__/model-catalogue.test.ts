/**
 * Which part of opencode's models.dev catalogue a run keeps, the shipped catalogue file, and the
 * file a run writes for opencode.
 */
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals'
import { mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import {
  catalogueText,
  parseCatalogue,
  providersToKeep,
  readCatalogue,
  writeRunCatalogue,
  type Catalogue,
  type CatalogueNeeds
} from '../src/opencode/model-catalogue.js'
import { OPENCODE_VERSION } from '../src/opencode/version.js'

const entry = (id: string, env: string[]) =>
  JSON.stringify({ id, env, name: id, models: { m: { id: 'm', cost: { input: 1 } } } })

const catalogue: Catalogue = {
  version: '1.18.33',
  providers: [
    { id: 'amazon-bedrock', env: ['AWS_ACCESS_KEY_ID', 'AWS_REGION'] },
    { id: 'anthropic', env: ['ANTHROPIC_API_KEY'] },
    { id: 'deepinfra', env: ['DEEPINFRA_API_KEY'] },
    { id: 'github-copilot', env: ['GITHUB_TOKEN'] },
    { id: 'openai', env: ['OPENAI_API_KEY'] },
    { id: 'opencode', env: ['OPENCODE_API_KEY'] },
    { id: 'openrouter', env: ['OPENROUTER_API_KEY'] }
  ].map(({ id, env }) => ({ id, env, entry: entry(id, env) }))
}

/** A run with the model named, models.dev not fetched (kugetsu's default), nothing else. */
function needs(over: Partial<CatalogueNeeds> = {}): CatalogueNeeds {
  return {
    config: {},
    model: 'anthropic/claude-sonnet-4-5',
    env: { OPENCODE_DISABLE_MODELS_FETCH: '1' },
    ...over
  }
}

const kept = (over: Partial<CatalogueNeeds> = {}) => {
  const keep = providersToKeep(catalogue, needs(over))
  return keep && [...keep].sort()
}

describe('providersToKeep', () => {
  it("keeps the named model's provider and opencode's own, nothing else", () => {
    expect(kept()).toEqual(['anthropic', 'opencode'])
  })

  it('keeps what the config declares or names anywhere, and what the markdown agents name', () => {
    const config = {
      model: 'openai/gpt-5',
      provider: { openrouter: { options: {} } },
      agent: { review: { model: 'amazon-bedrock/anthropic.claude-x' } },
      command: { deploy: { model: ' github-copilot/gpt-4.1 ' } }
    }
    expect(kept({ config, model: undefined })).toEqual([
      'amazon-bedrock',
      'github-copilot',
      'openai',
      'opencode',
      'openrouter'
    ])
    expect(kept({ namedModels: ['deepinfra/some-model'] })).toEqual([
      'anthropic',
      'deepinfra',
      'opencode'
    ])
  })

  it('keeps every provider with a key in the environment (opencode enables those)', () => {
    const env = {
      OPENCODE_DISABLE_MODELS_FETCH: 'true',
      OPENAI_API_KEY: 'kugetsu-key-proxy-placeholder',
      AWS_REGION: 'eu-west-1',
      // empty: opencode does not count it
      DEEPINFRA_API_KEY: ''
    }
    expect(kept({ env })).toEqual(['amazon-bedrock', 'anthropic', 'openai', 'opencode'])
  })

  it('keeps the providers of stored credentials (OPENCODE_AUTH_CONTENT)', () => {
    const env = {
      OPENCODE_DISABLE_MODELS_FETCH: '1',
      OPENCODE_AUTH_CONTENT: JSON.stringify({ 'github-copilot': { type: 'oauth' } })
    }
    expect(kept({ env })).toEqual(['anthropic', 'github-copilot', 'opencode'])
  })

  it('keeps everything when opencode may need any provider', () => {
    // no model named: opencode picks one from every provider it can reach
    expect(kept({ model: undefined })).toBeUndefined()
    expect(kept({ model: '', config: { model: 'no-slash' } })).toBeUndefined()
    // models.dev fetched: the file would stand in for the fresh list
    expect(kept({ env: {} })).toBeUndefined()
    expect(kept({ env: { OPENCODE_DISABLE_MODELS_FETCH: '0' } })).toBeUndefined()
    // the workflow's own catalogue
    const own = { OPENCODE_DISABLE_MODELS_FETCH: '1', OPENCODE_MODELS_PATH: '/tmp/models.json' }
    expect(kept({ env: own })).toBeUndefined()
    const url = {
      OPENCODE_DISABLE_MODELS_FETCH: '1',
      OPENCODE_MODELS_URL: 'https://models.example'
    }
    expect(kept({ env: url })).toBeUndefined()
    // credentials it cannot read
    for (const auth of ['{not json', '[]', 'null', '"x"']) {
      const env = { OPENCODE_DISABLE_MODELS_FETCH: '1', OPENCODE_AUTH_CONTENT: auth }
      expect(kept({ env })).toBeUndefined()
    }
  })

  it('treats hostile names as names: no prototype key, no crash on a deep or cyclic-looking config', () => {
    let deep: Record<string, unknown> = { model: 'openrouter/too-deep' }
    for (let i = 0; i < 100; i++) deep = { next: deep }
    const config = {
      provider: JSON.parse('{"__proto__": {"polluted": true}, "constructor": {}}') as unknown,
      agent: { a: { model: '__proto__/x' }, b: { model: 'toString/y' } },
      deep
    }
    const keep = kept({ config, namedModels: ['../../etc/passwd', 'hasOwnProperty/z'] })
    expect(keep).toEqual(
      expect.arrayContaining(['__proto__', 'anthropic', 'constructor', 'opencode', 'toString'])
    )
    // a name past the depth bound is not looked for
    expect(keep).not.toContain('openrouter')
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
    // names that are no provider of the catalogue select nothing of it
    const text = catalogueText(catalogue, new Set(keep))
    expect(Object.keys(JSON.parse(text) as object).sort()).toEqual(['anthropic', 'opencode'])
  })
})

describe('catalogueText', () => {
  it("is a JSON object of the kept providers' entries, as the catalogue has them", () => {
    const parsed = JSON.parse(catalogueText(catalogue, new Set(['openai', 'opencode', 'nope'])))
    expect(Object.keys(parsed)).toEqual(['openai', 'opencode'])
    expect(parsed.openai).toEqual(JSON.parse(entry('openai', ['OPENAI_API_KEY'])))
  })
})

describe('parseCatalogue', () => {
  it('reads the header and each line’s id and keys, leaving the entry as text', () => {
    const text = `{"opencode":"9.9.9","providers":2}\n["a",["A_KEY"]]\t{"id":"a"}\n["b",[]]\t{"id":"b"}\n`
    expect(parseCatalogue(text)).toEqual({
      version: '9.9.9',
      providers: [
        { id: 'a', env: ['A_KEY'], entry: '{"id":"a"}' },
        { id: 'b', env: [], entry: '{"id":"b"}' }
      ]
    })
  })

  it('refuses a file that is not the catalogue', () => {
    for (const text of [
      '',
      'not json\n',
      '{"providers":0}\n',
      '{"opencode":"1","providers":2}\n["a",[]]\t{}\n',
      '{"opencode":"1","providers":1}\n{"id":"a"}\n',
      '{"opencode":"1","providers":1}\n[1,[]]\t{}\n',
      '{"opencode":"1","providers":1}\n["a",[2]]\t{}\n'
    ]) {
      expect(() => parseCatalogue(text)).toThrow()
    }
  })

  it('reads the shipped catalogue: the pinned version, hundreds of providers, opencode among them', async () => {
    const shipped = await readCatalogue()
    expect(shipped?.version).toBe(OPENCODE_VERSION)
    expect(shipped?.providers.length).toBeGreaterThan(100)
    const opencode = shipped?.providers.find((provider) => provider.id === 'opencode')
    expect(JSON.parse(opencode?.entry ?? '{}')).toMatchObject({ id: 'opencode' })
  })
})

describe('writeRunCatalogue', () => {
  let dir: string
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'kugetsu-catalogue-'))
  })
  afterEach(() => rmSync(dir, { recursive: true, force: true }))

  it('writes the kept part for opencode and names it in OPENCODE_MODELS_PATH', async () => {
    const env = await writeRunCatalogue(dir, '1.18.33', needs(), Promise.resolve(catalogue))
    expect(env).toEqual({ OPENCODE_MODELS_PATH: join(dir, 'models.json') })
    const written = JSON.parse(readFileSync(join(dir, 'models.json'), 'utf8')) as object
    expect(Object.keys(written)).toEqual(['anthropic', 'opencode'])
  })

  it('writes nothing when the catalogue is not of the binary’s version, or there is none', async () => {
    for (const [version, shipped] of [
      ['1.18.34', catalogue],
      [undefined, catalogue],
      ['1.18.33', undefined]
    ] as const) {
      expect(await writeRunCatalogue(dir, version, needs(), Promise.resolve(shipped))).toEqual({})
    }
    expect(
      await writeRunCatalogue(dir, '1.18.33', needs({ model: '' }), Promise.resolve(catalogue))
    ).toEqual({})
    expect(readdirSync(dir)).toEqual([])
  })

  it('never writes through a file or link already there', async () => {
    const outside = join(dir, 'outside.json')
    writeFileSync(outside, 'kept')
    symlinkSync(outside, join(dir, 'models.json'))
    await expect(
      writeRunCatalogue(dir, '1.18.33', needs(), Promise.resolve(catalogue))
    ).rejects.toThrow(/EEXIST/)
    expect(readFileSync(outside, 'utf8')).toBe('kept')
  })

  it('reads a catalogue from a URL, and none from a missing file', async () => {
    const file = join(dir, 'snapshot.jsonl')
    writeFileSync(file, `{"opencode":"1","providers":1}\n["a",[]]\t{"id":"a"}\n`)
    expect((await readCatalogue(pathToFileURL(file)))?.version).toBe('1')
    expect(await readCatalogue(pathToFileURL(join(dir, 'missing.jsonl')))).toBeUndefined()
  })
})
