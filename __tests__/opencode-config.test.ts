import { describe, expect, it } from '@jest/globals'
import {
  buildOpencodeConfig,
  buildOpencodeConfigContent,
  mergeConfig,
  parseOpencodeConfig
} from '../src/opencode/config.js'
import { isKugetsuError } from '../src/errors.js'

type Rules = Record<string, unknown>

/** Evaluates rules like opencode 1.18: rules in key order, last match wins, `*` wildcards. */
function evaluate(permission: Rules, name: string, target = '*'): string {
  const match = (value: string, pattern: string) =>
    new RegExp(
      `^${pattern
        .replace(/[.+^${}()|[\]\\]/g, '\\$&')
        .replace(/\*/g, '.*')
        .replace(/\?/g, '.')}$`
    ).test(value)
  let action = 'ask'
  for (const [key, value] of Object.entries(permission)) {
    const rules = typeof value === 'string' ? { '*': value } : (value as Record<string, string>)
    for (const [pattern, act] of Object.entries(rules)) {
      if (match(name, key) && match(target, pattern)) action = act
    }
  }
  return action
}

describe('buildOpencodeConfig', () => {
  it('denies question, plan_enter, plan_exit and external directories by default', () => {
    const config = buildOpencodeConfig()
    const permission = config.permission as Rules
    for (const name of ['question', 'plan_enter', 'plan_exit']) {
      expect(evaluate(permission, name)).toBe('deny')
    }
    expect(evaluate(permission, 'external_directory', '/etc/*')).toBe('deny')
    expect(evaluate(permission, 'bash', 'ls')).toBe('ask') // nothing else is decided by kugetsu
    expect(config.$schema).toBe('https://opencode.ai/config.json')
    // a new data dir each run: the first snapshot would copy the whole checkout into git
    expect(config.snapshot).toBe(false)
    const agents = config.agent as Record<string, { permission: Rules }>
    expect(Object.keys(agents).sort()).toEqual(['build', 'explore', 'general', 'plan'])
    for (const agent of Object.values(agents)) {
      expect(evaluate(agent.permission, 'question')).toBe('deny')
    }
  })

  it('keeps the user’s config and lets it win except for the enforced denials', () => {
    const user = {
      model: 'anthropic/claude',
      instructions: ['AGENTS.md'],
      permission: { '*': 'allow', question: 'allow', bash: { 'rm *': 'deny' } },
      agent: {
        build: { permission: { question: 'allow' }, temperature: 0.2 },
        mine: { mode: 'primary' }
      }
    }
    const config = buildOpencodeConfig({ user })
    const permission = config.permission as Rules
    expect(config.model).toBe('anthropic/claude')
    expect(buildOpencodeConfig({ user: { snapshot: true } }).snapshot).toBe(true)
    expect(config.instructions).toEqual(['AGENTS.md'])
    expect(evaluate(permission, 'question')).toBe('deny')
    expect(evaluate(permission, 'bash', 'rm -rf /')).toBe('deny')
    expect(evaluate(permission, 'bash', 'ls')).toBe('allow')
    // the user's "*": "allow" comes before kugetsu's external_directory default
    expect(evaluate(permission, 'external_directory', '/etc/*')).toBe('deny')
    const agents = config.agent as Record<string, Record<string, unknown>>
    expect(agents.build.temperature).toBe(0.2)
    expect(evaluate(agents.build.permission as Rules, 'question')).toBe('deny')
    expect(agents.mine).toEqual({ mode: 'primary' }) // custom agents are left alone
    expect(user.permission.question).toBe('allow') // input untouched
  })

  it('lets the user refine or replace the external_directory default', () => {
    const refined = buildOpencodeConfig({
      user: { permission: { external_directory: { '/srv/data/*': 'allow' } } }
    }).permission as Rules
    expect(refined.external_directory).toEqual({ '*': 'deny', '/srv/data/*': 'allow' })
    expect(evaluate(refined, 'external_directory', '/srv/data/*')).toBe('allow')
    expect(evaluate(refined, 'external_directory', '/etc/*')).toBe('deny')

    const replaced = buildOpencodeConfig({ user: { permission: { external_directory: 'ask' } } })
      .permission as Rules
    expect(evaluate(replaced, 'external_directory', '/etc/*')).toBe('ask')
  })

  it('puts the enforced denials last, where a later-merged layer cannot reorder them', () => {
    // opencode merges OPENCODE_CONFIG_CONTENT into the repository's config; a merged object keeps
    // the position of a key's first appearance. Simulate a repo that allows everything.
    const repo = { permission: { question: 'allow', '*': 'allow' } }
    const ours = JSON.parse(buildOpencodeConfigContent()) as Rules
    const merged = mergeConfig(repo, ours).permission as Rules
    expect(Object.keys(merged).slice(0, 2)).toEqual(['question', '*'])
    expect(evaluate(merged, 'question')).toBe('deny')
    expect(evaluate(merged, 'plan_enter')).toBe('deny')
    const keys = Object.keys(ours.permission as Rules)
    expect(keys.slice(-3)).toEqual(['question*', 'plan_enter*', 'plan_exit*'])
  })

  it('takes an inherited OPENCODE_CONFIG_CONTENT as the lowest layer', () => {
    const inherited = JSON.stringify({
      provider: { p: { npm: 'x' } },
      permission: { edit: 'deny', question: 'allow' },
      instructions: ['a.md']
    })
    const config = buildOpencodeConfig({
      inherited,
      user: { permission: { edit: 'allow' }, instructions: ['b.md', 'a.md'] }
    })
    expect(config.provider).toEqual({ p: { npm: 'x' } })
    expect(config.instructions).toEqual(['a.md', 'b.md'])
    expect(evaluate(config.permission as Rules, 'edit')).toBe('allow')
    expect(evaluate(config.permission as Rules, 'question')).toBe('deny')
  })

  it('accepts a permission given as a single action', () => {
    const permission = buildOpencodeConfig({ user: { permission: 'allow' } }).permission as Rules
    expect(evaluate(permission, 'bash', 'anything')).toBe('allow')
    expect(evaluate(permission, 'question')).toBe('deny')
    expect(evaluate(permission, 'external_directory', '/etc/*')).toBe('deny')
  })

  it('accepts the user config as JSON text and rejects what is not an object', () => {
    expect(buildOpencodeConfig({ user: '{"model":"a/b"}' }).model).toBe('a/b')
    expect(buildOpencodeConfig({ user: '  ' }).model).toBeUndefined()
    for (const bad of ['[1]', '"text"', '{nope', 'null']) {
      let error: unknown
      try {
        buildOpencodeConfig({ user: bad })
      } catch (caught) {
        error = caught
      }
      expect(isKugetsuError(error, 'invalid-input')).toBe(true)
    }
    expect(() => buildOpencodeConfig({ user: { permission: 3 } })).toThrow(/permission/)
    expect(() => buildOpencodeConfig({ inherited: '{' })).toThrow(/OPENCODE_CONFIG_CONTENT/)
  })
})

describe('parseOpencodeConfig and mergeConfig', () => {
  it('parses objects only', () => {
    expect(parseOpencodeConfig(undefined)).toEqual({})
    expect(parseOpencodeConfig('{"a":1}')).toEqual({ a: 1 })
    expect(() => parseOpencodeConfig('1', 'input opencode-config')).toThrow(
      'input opencode-config must be a JSON object'
    )
  })

  it('merges deeply, replaces scalars and arrays, concatenates instructions and plugins', () => {
    expect(
      mergeConfig(
        { a: { b: 1, c: [1] }, instructions: ['x'], plugin: ['p'], s: 'old' },
        { a: { c: [2], d: 3 }, instructions: ['y', 'x'], plugin: ['q'], s: 'new' }
      )
    ).toEqual({ a: { b: 1, c: [2], d: 3 }, instructions: ['x', 'y'], plugin: ['p', 'q'], s: 'new' })
  })
})
