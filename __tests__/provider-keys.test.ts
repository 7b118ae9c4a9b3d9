import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { once } from 'node:events'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { guardProviderKeys } from '../src/action/secrets/provider-keys.js'
import { isKugetsuError } from '../src/errors.js'

const GATEWAY_KEY = 'gw-real-key-0123456789'
const ANTHROPIC_KEY = 'sk-ant-real-0123456789'

let root: string
let upstream: http.Server
let upstreamUrl: string
const received: http.IncomingHttpHeaders[] = []

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'kugetsu-keys-'))
  upstream = http.createServer((req, res) => {
    received.push(req.headers)
    req.resume()
    res.end(JSON.stringify({ path: req.url }))
  })
  upstream.listen(0, '127.0.0.1')
  await once(upstream, 'listening')
  upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`
})

afterAll(async () => {
  upstream.closeAllConnections()
  await new Promise((resolve) => upstream.close(resolve))
  await rm(root, { recursive: true, force: true })
})

async function checkout(name: string, files: Record<string, string>): Promise<string> {
  const dir = join(root, name)
  await mkdir(join(dir, '.git'), { recursive: true })
  for (const [path, text] of Object.entries(files)) {
    await mkdir(join(dir, path, '..'), { recursive: true })
    await writeFile(join(dir, path), text)
  }
  return dir
}

function collector() {
  const warnings: string[] = []
  const masked: string[] = []
  const secrets: string[] = []
  return {
    warnings,
    masked,
    secrets,
    warn: (m: string) => warnings.push(m),
    mask: (v: string) => masked.push(v)
  }
}

describe('guardProviderKeys', () => {
  it('covers providers from the repository’s opencode.jsonc and the env, and warns about the rest', async () => {
    const repo = await checkout('repo', {
      // found from the working directory (a subdirectory) up to the checkout's root
      'opencode.jsonc': `{
        // the team gateway
        "provider": {
          "gateway": {
            "npm": "@ai-sdk/openai-compatible",
            "options": { "baseURL": "${upstreamUrl}/v1", "apiKey": "{env:GW_KEY}", "headers": { "X-Team": "core" } },
          },
        },
      }`,
      'pkg/.keep': ''
    })
    const global = join(root, 'xdg-config')
    await mkdir(join(global, 'opencode'), { recursive: true })
    await writeFile(
      join(global, 'opencode', 'opencode.json'),
      JSON.stringify({
        provider: { anthropic: { options: { baseURL: `${upstreamUrl}/anthropic` } } }
      })
    )
    const env = {
      XDG_CONFIG_HOME: global,
      GW_KEY: GATEWAY_KEY,
      ANTHROPIC_API_KEY: ANTHROPIC_KEY,
      GEMINI_API_KEY: 'gemini-key-0123456789',
      PATH: '/usr/bin'
    }
    const seen = collector()
    const keys = await guardProviderKeys({ env, cwd: join(repo, 'pkg'), ...seen })
    try {
      const provider = keys.overlay.provider as Record<
        string,
        { options: { baseURL: string; apiKey: string } }
      >
      expect(Object.keys(provider).sort()).toEqual(['anthropic', 'gateway'])
      const placeholder = provider.gateway.options.apiKey
      expect(placeholder).toMatch(/^kugetsu-key-proxy-[0-9a-f]{32}$/)
      expect(provider.anthropic.options.apiKey).toBe(placeholder)
      expect(JSON.stringify(keys.overlay)).not.toContain(GATEWAY_KEY)

      const agentEnv = keys.environment(env)
      expect(agentEnv).toEqual({
        ...env,
        GW_KEY: placeholder,
        ANTHROPIC_API_KEY: placeholder
      })
      expect(seen.secrets.sort()).toEqual([GATEWAY_KEY, ANTHROPIC_KEY].sort())
      expect(seen.masked.sort()).toEqual([GATEWAY_KEY, ANTHROPIC_KEY].sort())
      expect(seen.warnings).toEqual([
        'the key of opencode provider "google" is not held by kugetsu, so commands the agent runs can read it: kugetsu cannot route its API (@ai-sdk/google); GEMINI_API_KEY stays in the agent\'s environment'
      ])

      // What opencode would do with the overlay: the proxy adds the real key.
      const answer = await fetch(`${provider.gateway.options.baseURL}/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${placeholder}` },
        body: '{}'
      })
      expect(await answer.json()).toEqual({ path: '/v1/chat/completions' })
      expect(received.at(-1)?.authorization).toBe(`Bearer ${GATEWAY_KEY}`)
      const messages = await fetch(`${provider.anthropic.options.baseURL}/messages`, {
        method: 'POST',
        headers: { 'x-api-key': placeholder },
        body: '{}'
      })
      expect(await messages.json()).toEqual({ path: '/anthropic/messages' })
      expect(received.at(-1)?.['x-api-key']).toBe(ANTHROPIC_KEY)
    } finally {
      await keys.close()
    }
  })

  it('reads OPENCODE_CONFIG, the inherited content and the inline input too', async () => {
    const repo = await checkout('layers', {})
    const file = join(root, 'layers-config.json')
    await writeFile(
      file,
      JSON.stringify({
        provider: {
          a: { npm: '@ai-sdk/openai-compatible', options: { baseURL: `${upstreamUrl}/a` } }
        }
      })
    )
    const env = {
      OPENCODE_CONFIG: file,
      XDG_CONFIG_HOME: join(root, 'none'),
      OPENCODE_CONFIG_CONTENT: JSON.stringify({
        provider: { a: { options: { apiKey: '{env:A_KEY}' } } }
      }),
      A_KEY: 'a-key-0123456789',
      B_KEY: 'b-key-0123456789'
    }
    const seen = collector()
    const keys = await guardProviderKeys({
      env,
      cwd: repo,
      opencodeConfig: {
        provider: {
          b: {
            npm: '@ai-sdk/openai',
            options: { baseURL: `${upstreamUrl}/b`, apiKey: '{env:B_KEY}' }
          }
        }
      },
      ...seen
    })
    try {
      expect(Object.keys(keys.overlay.provider as object)).toEqual(['a', 'b'])
      expect(seen.warnings).toEqual([])
    } finally {
      await keys.close()
    }
  })

  it('starts nothing when no key is in the environment, and names an unreadable config file', async () => {
    const repo = await checkout('broken', { 'opencode.json': '{"provider": ' })
    const seen = collector()
    const env = { XDG_CONFIG_HOME: join(root, 'none'), PATH: '/bin' }
    const keys = await guardProviderKeys({ env, cwd: repo, ...seen })
    expect(keys.overlay).toEqual({})
    expect(keys.environment(env)).toEqual(env)
    expect(seen.secrets).toEqual([])
    expect(seen.warnings).toEqual([
      expect.stringMatching(
        /^could not read an opencode config file \(.*broken\/opencode\.json is not valid JSON: .*\): keys of providers it declares may stay in the agent's environment$/
      )
    ])
    await keys.close()
  })

  it('fails with invalid-input on an inherited OPENCODE_CONFIG_CONTENT that is not JSON', async () => {
    const repo = await checkout('bad-content', {})
    const error = await guardProviderKeys({
      env: { OPENCODE_CONFIG_CONTENT: '{nope', XDG_CONFIG_HOME: join(root, 'none') },
      cwd: repo,
      ...collector()
    }).catch((caught: unknown) => caught)
    expect(isKugetsuError(error, 'invalid-input')).toBe(true)
  })
})
