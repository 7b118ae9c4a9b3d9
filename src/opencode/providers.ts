/**
 * Which provider keys kugetsu can hold itself instead of opencode's environment (where every
 * command the agent runs could print them): a provider whose key comes from an env var and that
 * speaks the OpenAI or Anthropic API gets a route on the key proxy (action/secrets/key-proxy.ts), and a
 * config overlay pointing it there with a placeholder key. Pure: decides from the config and env.
 */
import type { OpencodeConfig } from './config.js'

/** How the provider's API takes its key. */
export type KeyStyle = 'bearer' | 'x-api-key'

export interface ProviderRoute {
  /** The provider's id in opencode's config (`anthropic`, `my-gateway`). */
  provider: string
  /** Where its requests really go: the base URL its SDK would use (`https://api.anthropic.com/v1`). */
  upstream: string
  style: KeyStyle
  /** The env var holding its key. */
  envVar: string
}

export interface UncoveredProvider {
  provider: string
  /** Why its key stays where it is, said to the user. */
  reason: string
}

export interface KeyPlan {
  routes: ProviderRoute[]
  uncovered: UncoveredProvider[]
}

/** The SDKs whose authentication kugetsu knows, and the base URL each uses when none is set. */
const SDKS: Record<string, { style: KeyStyle; upstream?: string; baseUrlEnv?: string }> = {
  '@ai-sdk/anthropic': {
    style: 'x-api-key',
    upstream: 'https://api.anthropic.com/v1',
    baseUrlEnv: 'ANTHROPIC_BASE_URL'
  },
  '@ai-sdk/openai': {
    style: 'bearer',
    upstream: 'https://api.openai.com/v1',
    baseUrlEnv: 'OPENAI_BASE_URL'
  },
  '@ai-sdk/openai-compatible': { style: 'bearer' }
}

/**
 * opencode's built-in providers (from models.dev) that read a key from the environment: the two
 * covered ones, and common others so a key of theirs left in the environment can be named.
 */
const BUILT_IN: Record<string, { npm: string; env: string[] }> = {
  anthropic: { npm: '@ai-sdk/anthropic', env: ['ANTHROPIC_API_KEY'] },
  openai: { npm: '@ai-sdk/openai', env: ['OPENAI_API_KEY'] },
  google: { npm: '@ai-sdk/google', env: ['GOOGLE_GENERATIVE_AI_API_KEY', 'GEMINI_API_KEY'] },
  'amazon-bedrock': {
    npm: '@ai-sdk/amazon-bedrock',
    env: ['AWS_BEARER_TOKEN_BEDROCK', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY']
  },
  azure: { npm: '@ai-sdk/azure', env: ['AZURE_API_KEY'] },
  openrouter: { npm: '@openrouter/ai-sdk-provider', env: ['OPENROUTER_API_KEY'] },
  groq: { npm: '@ai-sdk/groq', env: ['GROQ_API_KEY'] },
  mistral: { npm: '@ai-sdk/mistral', env: ['MISTRAL_API_KEY'] },
  xai: { npm: '@ai-sdk/xai', env: ['XAI_API_KEY'] },
  opencode: { npm: '@ai-sdk/openai-compatible', env: ['OPENCODE_API_KEY'] }
}

const ENV_TEMPLATE = /^\{env:([^}]+)\}$/
const ENV_REFERENCE = /\{env:([^}]+)\}|\$\{([^}]+)\}/g

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

const present = (env: NodeJS.ProcessEnv, name: string) => (env[name] ?? '') !== ''

/** Every `{env:NAME}` or `${NAME}` in the config's strings, with where it is (`a.b.c`). */
function envReferences(value: unknown, path: string[] = [], out: [string, string][] = []) {
  if (typeof value === 'string') {
    for (const match of value.matchAll(ENV_REFERENCE)) {
      out.push([(match[1] ?? match[2]).trim(), path.join('.')])
    }
  } else if (Array.isArray(value)) {
    value.forEach((item, index) => envReferences(item, [...path, String(index)], out))
  } else if (isPlainObject(value)) {
    for (const [key, item] of Object.entries(value)) envReferences(item, [...path, key], out)
  }
  return out
}

/** `${NAME}` in a base URL, filled in from the environment as opencode does; undefined if unset. */
function expandUrl(url: string, env: NodeJS.ProcessEnv): string | undefined {
  let missing = false
  const expanded = url.replace(/\$\{([^}]+)\}/g, (_, name: string) => {
    const value = env[name.trim()]
    if (value === undefined) missing = true
    return value ?? ''
  })
  return missing ? undefined : expanded
}

type Decision = { route: ProviderRoute } | { uncovered: string; envVars: string[] } | undefined

/** What to do about one provider: route it, report it, or nothing (its key is not in the env). */
function decide(id: string, entry: Record<string, unknown>, env: NodeJS.ProcessEnv): Decision {
  const builtIn = Object.hasOwn(BUILT_IN, id) ? BUILT_IN[id] : undefined
  const options = isPlainObject(entry.options) ? entry.options : {}
  const npm = typeof entry.npm === 'string' ? entry.npm : builtIn?.npm
  const apiKey = options.apiKey

  let envVar: string
  if (apiKey === undefined) {
    const names = Array.isArray(entry.env)
      ? entry.env.filter((name): name is string => typeof name === 'string')
      : (builtIn?.env ?? [])
    const found = names.filter((name) => present(env, name))
    if (found.length === 0) return undefined
    envVar = found[0]
    if (found.length > 1 || !npm || !Object.hasOwn(SDKS, npm)) {
      const why =
        found.length > 1
          ? `its key comes from several env vars (${found.join(', ')})`
          : `kugetsu cannot route its API (${npm ?? 'unknown SDK'})`
      return {
        uncovered: `${why}; ${found.join(', ')} stays in the agent's environment`,
        envVars: found
      }
    }
  } else if (typeof apiKey !== 'string' || apiKey === '') {
    return undefined
  } else {
    const template = ENV_TEMPLATE.exec(apiKey)
    if (!template) {
      const where = /\{file:/.test(apiKey)
        ? 'its apiKey is read from a file, which the agent can read too'
        : /\{env:/.test(apiKey)
          ? 'its apiKey mixes {env:...} with other text'
          : 'its apiKey is written in the opencode config, which the agent can read'
      return { uncovered: where, envVars: envReferences(apiKey).map(([name]) => name) }
    }
    envVar = template[1].trim()
    if (!present(env, envVar)) return undefined
    if (!npm || !Object.hasOwn(SDKS, npm)) {
      return {
        uncovered: `kugetsu cannot route its API (${npm ?? 'unknown SDK'}); ${envVar} stays in the agent's environment`,
        envVars: [envVar]
      }
    }
  }

  const sdk = SDKS[npm]
  const configured = typeof options.baseURL === 'string' ? options.baseURL.trim() : ''
  const fromEnv = sdk.baseUrlEnv ? (env[sdk.baseUrlEnv] ?? '').trim() : ''
  const raw = configured || fromEnv || sdk.upstream
  const keep = (reason: string): Decision => ({
    uncovered: `${reason}; ${envVar} stays in the agent's environment`,
    envVars: [envVar]
  })
  if (!raw) return keep('it has no baseURL')
  const upstream = expandUrl(raw, env)
  if (upstream === undefined) return keep(`its baseURL ${raw} names an env var that is not set`)
  let url: URL
  try {
    url = new URL(upstream)
  } catch {
    return keep(`its baseURL ${raw} is not a URL`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return keep(`its baseURL ${raw} is not http or https`)
  }
  if (url.search || url.hash || url.username || url.password) {
    return keep(`its baseURL ${raw} carries a query, fragment or credentials`)
  }
  return {
    route: { provider: id, upstream: upstream.replace(/\/+$/, ''), style: sdk.style, envVar }
  }
}

/**
 * Decides, for the effective opencode config (every layer merged) and the environment opencode
 * would get, which providers the key proxy covers and which keys stay exposed, and why.
 *
 * A key's env var is only taken over when nothing else reads it: if the config uses the same
 * variable anywhere else (another provider, an MCP server, a header), or another provider kugetsu
 * cannot cover reads it, replacing it would break that use, so the provider stays uncovered.
 */
export function planProviderKeys(config: OpencodeConfig, env: NodeJS.ProcessEnv): KeyPlan {
  const providers = isPlainObject(config.provider) ? config.provider : {}
  const ids = new Set(Object.keys(providers))
  for (const [id, builtIn] of Object.entries(BUILT_IN)) {
    if (builtIn.env.some((name) => present(env, name))) ids.add(id)
  }

  const routes: ProviderRoute[] = []
  const uncovered: UncoveredProvider[] = []
  const exposedVars = new Set<string>()
  for (const id of ids) {
    const entry = isPlainObject(providers[id]) ? providers[id] : {}
    const decision = decide(id, entry, env)
    if (!decision) continue
    if ('route' in decision) {
      routes.push(decision.route)
    } else {
      uncovered.push({ provider: id, reason: decision.uncovered })
      for (const name of decision.envVars) exposedVars.add(name)
    }
  }

  // Where each variable is used outside the apiKey of a provider that gets a route.
  const routed = new Set(routes.map((route) => `provider.${route.provider}.options.apiKey`))
  const otherUses = new Map<string, string>()
  for (const [name, path] of envReferences(config)) {
    if (!routed.has(path) && !otherUses.has(name)) otherUses.set(name, path)
  }
  const kept: ProviderRoute[] = []
  for (const route of routes) {
    const use = otherUses.get(route.envVar)
    if (use === undefined && !exposedVars.has(route.envVar)) {
      kept.push(route)
      continue
    }
    const where = use
      ? `the config also uses it at ${use}`
      : 'a provider kugetsu cannot cover reads it too'
    uncovered.push({
      provider: route.provider,
      reason: `its key ${route.envVar} stays in the agent's environment: ${where}`
    })
  }
  return { routes: kept, uncovered }
}

/** The proxy path of a provider's route. */
export function routePath(provider: string): string {
  return `/p/${encodeURIComponent(provider)}`
}

/**
 * The config layered over every other one (through OPENCODE_CONFIG_CONTENT): each routed provider
 * talks to the proxy with the placeholder as its key. The provider's other options stay as set.
 */
export function keyProxyOverlay(
  routes: readonly ProviderRoute[],
  proxyUrl: string,
  placeholder: string
): OpencodeConfig {
  if (routes.length === 0) return {}
  // fromEntries: a provider named `__proto__` stays a plain key.
  const provider = Object.fromEntries(
    routes.map((route) => [
      route.provider,
      { options: { baseURL: `${proxyUrl}${routePath(route.provider)}`, apiKey: placeholder } }
    ])
  )
  return { provider }
}
