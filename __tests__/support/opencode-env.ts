/**
 * A private "machine" for running the real opencode offline in tests: its own HOME and XDG dirs
 * (so its own session database), an opencode config declaring the `scripted` provider (an
 * OpenAI-compatible server on 127.0.0.1, see model-server.ts) with the model `scripted/echo`, and
 * environment variables that keep opencode off the network.
 *
 * Verified with opencode 1.18.33:
 * - `@ai-sdk/openai-compatible` is bundled in the binary: nothing is installed at runtime, and a run
 *   works with no network at all (tested in an empty network namespace).
 * - The only outbound connection a run makes on its own is a background `npm install` of
 *   `@opencode-ai/plugin` into the global config dir (registry.npmjs.org); `npm_config_offline=true`
 *   stops it. `OPENCODE_DISABLE_MODELS_FETCH=1` stops the models.dev fetch.
 *
 * The provider config is given by file through `OPENCODE_CONFIG`, so `OPENCODE_CONFIG_CONTENT`
 * stays free for the driver (and the repository's own `opencode.json` would still apply). Its key
 * comes from the environment (`SCRIPTED_KEY`), so the action's key proxy carries every request.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'

export const SCRIPTED_MODEL = 'scripted/echo'
/**
 * The env var the `scripted` provider takes its key from (`{env:SCRIPTED_KEY}`), as a workflow
 * would pass a provider key, and its value on a test machine. The model server does not check it.
 */
export const SCRIPTED_KEY_ENV = 'SCRIPTED_KEY'
export const SCRIPTED_KEY = 'scripted-key-0123456789'

export interface OpencodeEnvOptions {
  /** The model server's base URL, `http://127.0.0.1:PORT/v1`. */
  baseURL: string
  /** Parent of the environment's root (default os.tmpdir()). */
  parentDir?: string
  /** Extra opencode config merged (shallowly) into the generated one. */
  extraConfig?: Record<string, unknown>
  /** Price of the echo model in $ per million tokens (default 1 in, 2 out), so runs have a cost. */
  cost?: { input: number; output: number }
}

export interface OpencodeEnv {
  root: string
  /** The machine's dirs. */
  dirs: { home: string; data: string; config: string; cache: string; state: string }
  /** The file `OPENCODE_CONFIG` points at. */
  configPath: string
  config: Record<string, unknown>
  model: string
  /** Environment for spawning opencode (process.env minus its opencode/XDG/npm settings). */
  env: NodeJS.ProcessEnv
  /** Makes a directory (a "checkout") under the root for opencode to run in. */
  makeProject(name?: string): Promise<string>
  /** Another machine for the same model server: fresh HOME and XDG dirs (a new runner). */
  fresh(): Promise<OpencodeEnv>
  /** Removes the root and everything in it. */
  cleanup(): Promise<void>
}

/** Env vars of the outer environment that must not leak into a test machine. */
function inherited(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {}
  for (const [key, value] of Object.entries(env)) {
    if (/^(OPENCODE|XDG_|npm_|KUGETSU_)/i.test(key)) continue
    if (/_API_KEY$|^(HOME|GITHUB_TOKEN|GH_TOKEN)$/.test(key)) continue
    out[key] = value
  }
  return out
}

export function scriptedConfig(options: OpencodeEnvOptions): Record<string, unknown> {
  const cost = options.cost ?? { input: 1, output: 2 }
  return {
    $schema: 'https://opencode.ai/config.json',
    model: SCRIPTED_MODEL,
    small_model: SCRIPTED_MODEL,
    enabled_providers: ['scripted'],
    autoupdate: false,
    share: 'disabled',
    provider: {
      scripted: {
        npm: '@ai-sdk/openai-compatible',
        name: 'Scripted',
        options: { baseURL: options.baseURL, apiKey: `{env:${SCRIPTED_KEY_ENV}}` },
        models: {
          echo: {
            name: 'Echo',
            tool_call: true,
            cost: { input: cost.input, output: cost.output },
            limit: { context: 200_000, output: 8_192 }
          }
        }
      }
    },
    ...options.extraConfig
  }
}

export async function createOpencodeEnv(options: OpencodeEnvOptions): Promise<OpencodeEnv> {
  const root = await mkdtemp(path.join(options.parentDir ?? os.tmpdir(), 'kugetsu-oc-'))
  const dirs = {
    home: path.join(root, 'home'),
    data: path.join(root, 'xdg', 'data'),
    config: path.join(root, 'xdg', 'config'),
    cache: path.join(root, 'xdg', 'cache'),
    state: path.join(root, 'xdg', 'state')
  }
  await Promise.all(Object.values(dirs).map((dir) => mkdir(dir, { recursive: true })))
  await mkdir(path.join(root, 'projects'), { recursive: true })

  const config = scriptedConfig(options)
  const configPath = path.join(root, 'opencode.json')
  await writeFile(configPath, JSON.stringify(config, null, 2) + '\n')

  const env: NodeJS.ProcessEnv = {
    ...inherited(process.env),
    HOME: dirs.home,
    USERPROFILE: dirs.home,
    XDG_DATA_HOME: dirs.data,
    XDG_CONFIG_HOME: dirs.config,
    XDG_CACHE_HOME: dirs.cache,
    XDG_STATE_HOME: dirs.state,
    OPENCODE_CONFIG: configPath,
    OPENCODE_DISABLE_MODELS_FETCH: '1',
    OPENCODE_DISABLE_AUTOUPDATE: '1',
    OPENCODE_DISABLE_SHARE: '1',
    OPENCODE_DISABLE_LSP_DOWNLOAD: '1',
    OPENCODE_DISABLE_DEFAULT_PLUGINS: '1',
    OPENCODE_DISABLE_CLAUDE_CODE: '1',
    OPENCODE_DISABLE_EXTERNAL_SKILLS: '1',
    // opencode installs @opencode-ai/plugin into its config dir in the background with npm's
    // libraries, which read npm_config_* from the environment: offline makes that fail at once.
    npm_config_offline: 'true',
    NO_COLOR: '1',
    [SCRIPTED_KEY_ENV]: SCRIPTED_KEY
  }

  let projects = 0
  return {
    root,
    dirs,
    configPath,
    config,
    model: SCRIPTED_MODEL,
    env,
    async makeProject(name) {
      const dir = path.join(root, 'projects', name ?? `project-${++projects}`)
      await mkdir(dir, { recursive: true })
      return dir
    },
    fresh: () => createOpencodeEnv(options),
    cleanup: () => rm(root, { recursive: true, force: true })
  }
}
