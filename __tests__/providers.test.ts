import { describe, expect, it } from '@jest/globals'
import { buildOpencodeConfig, mergeConfig, parseConfigFile } from '../src/opencode/config.js'
import { keyProxyOverlay, planProviderKeys, routePath } from '../src/opencode/providers.js'

const PROXY = 'http://127.0.0.1:4567'
const PLACEHOLDER = 'kugetsu-key-proxy-placeholder'

describe('planProviderKeys', () => {
  it('plans nothing when no provider key is in the environment', () => {
    expect(planProviderKeys({}, { PATH: '/bin' })).toEqual({ routes: [], uncovered: [] })
    // A provider with no key at all (a local model server) has nothing to hold.
    const local = {
      provider: {
        ollama: {
          npm: '@ai-sdk/openai-compatible',
          options: { baseURL: 'http://localhost:11434/v1' }
        }
      }
    }
    expect(planProviderKeys(local, {})).toEqual({ routes: [], uncovered: [] })
    // `{env:VAR}` naming an unset variable: opencode gets no key either.
    const unset = {
      provider: {
        gw: {
          npm: '@ai-sdk/openai-compatible',
          options: { apiKey: '{env:NOPE}', baseURL: 'https://gw/v1' }
        }
      }
    }
    expect(planProviderKeys(unset, {})).toEqual({ routes: [], uncovered: [] })
  })

  it('routes the built-in anthropic and openai providers keyed from the environment', () => {
    const plan = planProviderKeys({}, { ANTHROPIC_API_KEY: 'sk-ant-1', OPENAI_API_KEY: 'sk-oa-1' })
    expect(plan.uncovered).toEqual([])
    expect(plan.routes).toEqual([
      {
        provider: 'anthropic',
        upstream: 'https://api.anthropic.com/v1',
        style: 'x-api-key',
        envVar: 'ANTHROPIC_API_KEY'
      },
      {
        provider: 'openai',
        upstream: 'https://api.openai.com/v1',
        style: 'bearer',
        envVar: 'OPENAI_API_KEY'
      }
    ])
  })

  it('keeps a built-in provider’s own base URL (config first, then the SDK’s env var)', () => {
    const config = {
      provider: { anthropic: { options: { baseURL: 'https://gateway.example/anthropic/' } } }
    }
    const env = {
      ANTHROPIC_API_KEY: 'k',
      OPENAI_API_KEY: 'k2',
      OPENAI_BASE_URL: 'https://oai.example/v1'
    }
    const plan = planProviderKeys(config, env)
    expect(plan.routes.map((route) => [route.provider, route.upstream])).toEqual([
      ['anthropic', 'https://gateway.example/anthropic'],
      ['openai', 'https://oai.example/v1']
    ])
  })

  it('routes a custom OpenAI-compatible provider whose apiKey is {env:VAR}', () => {
    const config = {
      provider: {
        gateway: {
          npm: '@ai-sdk/openai-compatible',
          options: { baseURL: 'https://llm.example.com/v1', apiKey: '{env:MY_GATEWAY_KEY}' }
        },
        claude: {
          npm: '@ai-sdk/anthropic',
          options: { apiKey: '{env:CLAUDE_KEY}', baseURL: 'https://${REGION}.claude.example/v1' }
        }
      }
    }
    const plan = planProviderKeys(config, { MY_GATEWAY_KEY: 'gw', CLAUDE_KEY: 'cl', REGION: 'eu' })
    expect(plan).toEqual({
      routes: [
        {
          provider: 'gateway',
          upstream: 'https://llm.example.com/v1',
          style: 'bearer',
          envVar: 'MY_GATEWAY_KEY'
        },
        {
          provider: 'claude',
          upstream: 'https://eu.claude.example/v1',
          style: 'x-api-key',
          envVar: 'CLAUDE_KEY'
        }
      ],
      uncovered: []
    })
  })

  it('reports what it cannot cover, saying why, and leaves those keys alone', () => {
    const config = {
      provider: {
        inline: {
          npm: '@ai-sdk/openai-compatible',
          options: { baseURL: 'https://a.example/v1', apiKey: 'sk-written-in-the-config' }
        },
        filed: {
          npm: '@ai-sdk/openai-compatible',
          options: { baseURL: 'https://b/v1', apiKey: '{file:~/.key}' }
        },
        nourl: { npm: '@ai-sdk/openai-compatible', options: { apiKey: '{env:NOURL_KEY}' } },
        odd: { npm: 'some-provider-sdk', options: { apiKey: '{env:ODD_KEY}' } },
        ftp: {
          npm: '@ai-sdk/openai-compatible',
          options: { baseURL: 'ftp://x/v1', apiKey: '{env:FTP_KEY}' }
        }
      }
    }
    const env = {
      GEMINI_API_KEY: 'g',
      AWS_ACCESS_KEY_ID: 'a',
      NOURL_KEY: 'n',
      ODD_KEY: 'o',
      FTP_KEY: 'f'
    }
    const plan = planProviderKeys(config, env)
    expect(plan.routes).toEqual([])
    expect(Object.fromEntries(plan.uncovered.map((u) => [u.provider, u.reason]))).toEqual({
      inline: 'its apiKey is written in the opencode config, which the agent can read',
      filed: 'its apiKey is read from a file, which the agent can read too',
      nourl: "it has no baseURL; NOURL_KEY stays in the agent's environment",
      odd: "kugetsu cannot route its API (some-provider-sdk); ODD_KEY stays in the agent's environment",
      ftp: "its baseURL ftp://x/v1 is not http or https; FTP_KEY stays in the agent's environment",
      google:
        "kugetsu cannot route its API (@ai-sdk/google); GEMINI_API_KEY stays in the agent's environment",
      'amazon-bedrock':
        "kugetsu cannot route its API (@ai-sdk/amazon-bedrock); AWS_ACCESS_KEY_ID stays in the agent's environment"
    })
  })

  it('does not take over a variable something else in the config reads too', () => {
    const config = {
      provider: {
        gateway: {
          npm: '@ai-sdk/openai-compatible',
          options: { baseURL: 'https://llm.example.com/v1', apiKey: '{env:SHARED_KEY}' }
        },
        other: {
          npm: '@ai-sdk/openai-compatible',
          options: { baseURL: 'https://other/v1', apiKey: '{env:OPENAI_API_KEY}' }
        }
      },
      mcp: {
        tools: {
          type: 'remote',
          url: 'https://mcp',
          headers: { Authorization: 'Bearer {env:SHARED_KEY}' }
        }
      }
    }
    const plan = planProviderKeys(config, { SHARED_KEY: 's', OPENAI_API_KEY: 'o' })
    // `other` and the built-in openai read the same variable and both get a route: that is fine.
    expect(plan.routes.map((route) => route.provider)).toEqual(['other', 'openai'])
    expect(plan.uncovered).toEqual([
      {
        provider: 'gateway',
        reason:
          "its key SHARED_KEY stays in the agent's environment: the config also uses it at mcp.tools.headers.Authorization"
      }
    ])
    // An uncovered provider reading the same variable keeps it in the environment for both.
    const mixed = planProviderKeys(
      { provider: { g: { npm: '@ai-sdk/google', options: { apiKey: '{env:OPENAI_API_KEY}' } } } },
      { OPENAI_API_KEY: 'o' }
    )
    expect(mixed.routes).toEqual([])
    expect(mixed.uncovered.map((u) => u.provider).sort()).toEqual(['g', 'openai'])
  })

  it('treats hostile provider names as plain names', () => {
    const config = JSON.parse(
      '{"provider": {"__proto__": {"npm": "@ai-sdk/openai-compatible", "options": {"baseURL": "https://x/v1", "apiKey": "{env:K}"}}, "a/../b?c": {"npm": "@ai-sdk/openai-compatible", "options": {"baseURL": "https://y/v1", "apiKey": "{env:K2}"}}}}'
    )
    const plan = planProviderKeys(config, { K: 'k', K2: 'k2' })
    expect(plan.routes.map((route) => route.provider)).toEqual(['__proto__', 'a/../b?c'])
    const overlay = keyProxyOverlay(plan.routes, PROXY, PLACEHOLDER)
    const provider = overlay.provider as Record<string, { options: { baseURL: string } }>
    expect(Object.getPrototypeOf(provider)).toBe(Object.prototype)
    expect(Object.keys(provider)).toEqual(['__proto__', 'a/../b?c'])
    expect(provider['a/../b?c'].options.baseURL).toBe(`${PROXY}/p/a%2F..%2Fb%3Fc`)
    expect(routePath('a/../b?c')).toBe('/p/a%2F..%2Fb%3Fc')
  })
})

describe('keyProxyOverlay', () => {
  it('points each routed provider at the proxy with the placeholder, keeping its other options', () => {
    const user = {
      model: 'gateway/big',
      provider: {
        gateway: {
          npm: '@ai-sdk/openai-compatible',
          name: 'Gateway',
          options: {
            baseURL: 'https://llm.example.com/v1',
            apiKey: '{env:MY_GATEWAY_KEY}',
            headers: { 'X-Team': 'core' },
            timeout: 60_000
          },
          models: { big: { name: 'Big' } }
        }
      }
    }
    const plan = planProviderKeys(user, { MY_GATEWAY_KEY: 'real' })
    const overlay = keyProxyOverlay(plan.routes, PROXY, PLACEHOLDER)
    expect(overlay).toEqual({
      provider: {
        gateway: { options: { baseURL: `${PROXY}/p/gateway`, apiKey: PLACEHOLDER } }
      }
    })
    // As opencode merges OPENCODE_CONFIG_CONTENT over the repository's config.
    const config = mergeConfig(user, buildOpencodeConfig({ overlay }))
    expect(config.provider).toEqual({
      gateway: {
        ...user.provider.gateway,
        options: {
          baseURL: `${PROXY}/p/gateway`,
          apiKey: PLACEHOLDER,
          headers: { 'X-Team': 'core' },
          timeout: 60_000
        }
      }
    })
    expect(JSON.stringify(config)).not.toContain('real')
  })

  it('is empty when nothing is routed', () => {
    expect(keyProxyOverlay([], PROXY, PLACEHOLDER)).toEqual({})
  })

  it('wins over the inline config and the inherited content', () => {
    const overlay = keyProxyOverlay(
      [
        {
          provider: 'openai',
          upstream: 'https://api.openai.com/v1',
          style: 'bearer',
          envVar: 'OPENAI_API_KEY'
        }
      ],
      PROXY,
      PLACEHOLDER
    )
    const config = buildOpencodeConfig({
      user: {
        provider: {
          openai: { options: { baseURL: 'https://elsewhere/v1', apiKey: '{env:OPENAI_API_KEY}' } }
        }
      },
      inherited: JSON.stringify({ provider: { openai: { options: { organization: 'org-1' } } } }),
      overlay
    })
    expect(config.provider).toEqual({
      openai: {
        options: { baseURL: `${PROXY}/p/openai`, apiKey: PLACEHOLDER, organization: 'org-1' }
      }
    })
  })
})

describe('parseConfigFile', () => {
  it('reads JSONC: comments and trailing commas, leaving strings alone', () => {
    const text = `{
      // the gateway
      "provider": {
        "gw": { /* block */ "options": { "baseURL": "https://x.example//v1", "apiKey": "{env:K}", }, },
      },
      "note": "a // not a comment, and /* neither */ ,}",
    }`
    expect(parseConfigFile(text, 'opencode.jsonc')).toEqual({
      provider: { gw: { options: { baseURL: 'https://x.example//v1', apiKey: '{env:K}' } } },
      note: 'a // not a comment, and /* neither */ ,}'
    })
  })

  it('fails with invalid-input naming the file', () => {
    expect(() => parseConfigFile('{"a": ', '/repo/opencode.json')).toThrow(
      /^\/repo\/opencode\.json is not valid JSON/
    )
  })
})
