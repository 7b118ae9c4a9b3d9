/**
 * Keeps provider keys out of opencode's environment for a run of the action: reads the opencode
 * config opencode will see, decides which providers the key proxy covers (opencode/providers.ts),
 * starts the proxy with their real keys, and gives the workspace the config overlay, the trimmed
 * environment and warnings naming the keys it could not take over.
 */
import * as core from '@actions/core'
import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { homedir } from 'node:os'
import { dirname, join } from 'node:path'
import { errorMessage } from '../../errors.js'
import {
  mergeConfig,
  parseConfigFile,
  parseOpencodeConfig,
  type OpencodeConfig
} from '../../opencode/config.js'
import { keyProxyOverlay, planProviderKeys } from '../../opencode/providers.js'
import { startKeyProxy } from './key-proxy.js'
import { MIN_SECRET_LENGTH } from './masking.js'

export interface ProviderKeys {
  /** The config opencode will see, before the overlay: its files, the env's content, the input. */
  config: OpencodeConfig
  /** Layered last into OPENCODE_CONFIG_CONTENT: covered providers talk to the proxy. */
  overlay: OpencodeConfig
  /** `env` with each covered key replaced by the placeholder. */
  environment(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv
  /** Stops the proxy (after opencode has stopped). */
  close(): Promise<void>
}

export interface GuardOptions {
  /** The job's environment: where the keys are, and opencode's config locations. */
  env: NodeJS.ProcessEnv
  /** Where opencode runs (its project config is found from there). */
  cwd: string
  /** The `opencode-config` input. */
  opencodeConfig?: OpencodeConfig
  /** The run's secret values: each real key is added (kept out of saved state) and masked. */
  secrets: string[]
  /** Told each provider whose key stays in the agent's environment (default: a log warning). */
  warn?(message: string): void
  /** Masks a value in the log (default: `core.setSecret`). */
  mask?(value: string): void
}

const PROJECT_FILES = ['opencode.json', 'opencode.jsonc']
const GLOBAL_FILES = ['config.json', 'opencode.json', 'opencode.jsonc']

/** The checkout's directories from its root (the one holding `.git`) down to `cwd`. */
function projectDirs(cwd: string): string[] {
  const dirs: string[] = []
  for (let dir = cwd; ; dir = dirname(dir)) {
    dirs.unshift(dir)
    if (existsSync(join(dir, '.git'))) return dirs
    if (dirname(dir) === dir) return [cwd]
  }
}

/** The config files opencode reads, lowest layer first (see the header of opencode/config.ts). */
function configFiles(env: NodeJS.ProcessEnv, cwd: string): string[] {
  const configHome = env.XDG_CONFIG_HOME || join(env.HOME || homedir(), '.config')
  const dirs = projectDirs(cwd)
  return [
    ...GLOBAL_FILES.map((name) => join(configHome, 'opencode', name)),
    ...(env.OPENCODE_CONFIG ? [env.OPENCODE_CONFIG] : []),
    ...dirs.flatMap((dir) => PROJECT_FILES.map((name) => join(dir, name))),
    ...dirs.flatMap((dir) => PROJECT_FILES.map((name) => join(dir, '.opencode', name)))
  ]
}

/** The effective config opencode will see, and the files that could not be read. */
async function effectiveConfig(
  options: GuardOptions
): Promise<{ config: OpencodeConfig; problems: string[] }> {
  let config: OpencodeConfig = {}
  const problems: string[] = []
  for (const path of configFiles(options.env, options.cwd)) {
    let text: string
    try {
      text = await readFile(path, 'utf8')
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code
      if (code !== 'ENOENT' && code !== 'ENOTDIR') problems.push(`${path}: ${errorMessage(error)}`)
      continue
    }
    try {
      config = mergeConfig(config, parseConfigFile(text, path))
    } catch (error) {
      problems.push(errorMessage(error))
    }
  }
  // This one throws: the run cannot go on with it anyway (buildOpencodeConfig says so too).
  config = mergeConfig(
    config,
    parseOpencodeConfig(options.env.OPENCODE_CONFIG_CONTENT, 'OPENCODE_CONFIG_CONTENT')
  )
  config = mergeConfig(config, options.opencodeConfig ?? {})
  return { config, problems }
}

/**
 * Starts the key proxy for the providers it can cover (none: no proxy) and reports the others.
 * Throws `key-proxy` if the proxy cannot start: running with the keys exposed instead would be a
 * silent downgrade.
 */
export async function guardProviderKeys(options: GuardOptions): Promise<ProviderKeys> {
  const { warn = core.warning, mask = core.setSecret } = options
  const { config, problems } = await effectiveConfig(options)
  for (const problem of problems) {
    warn(
      `could not read an opencode config file (${problem}): keys of providers it declares may stay in the agent's environment`
    )
  }
  const plan = planProviderKeys(config, options.env)
  for (const { provider, reason } of plan.uncovered) {
    warn(
      `the key of opencode provider "${provider}" is not held by kugetsu, so commands the agent runs can read it: ${reason}`
    )
  }
  if (plan.routes.length === 0) {
    return { config, overlay: {}, environment: (env) => env, close: () => Promise.resolve() }
  }

  const routes = plan.routes.map((route) => ({ ...route, key: options.env[route.envVar] ?? '' }))
  // Like masking.ts: a value this short would garble the log and is no real key.
  for (const { key } of routes) {
    if (key.trim().length < MIN_SECRET_LENGTH) continue
    mask(key)
    options.secrets.push(key)
  }
  const placeholder = `kugetsu-key-proxy-${randomBytes(16).toString('hex')}`
  const proxy = await startKeyProxy(routes, placeholder)
  const names = new Set(plan.routes.map((route) => route.envVar))
  return {
    config,
    overlay: keyProxyOverlay(plan.routes, proxy.url, placeholder),
    environment(env) {
      const out = { ...env }
      for (const name of names) if (out[name] !== undefined) out[name] = placeholder
      return out
    },
    close: () => proxy.close()
  }
}
