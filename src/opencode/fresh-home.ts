/**
 * What a fresh home needs so that opencode fetches nothing when it starts: the files that make its
 * background install into the global config dir a no-op, and the switch for its models.dev fetch.
 */
import { homedir } from 'node:os'
import { join } from 'node:path'

/** Files and dirs to make in a home, paths relative to it; dirs first, parents before children. */
export interface HomeSeed {
  dirs: string[]
  files: { path: string; content: string }[]
}

/** opencode's global config dir under a home whose XDG_CONFIG_HOME is `~/.config`. */
const CONFIG_DIR = '.config/opencode'

/**
 * opencode 1.18 runs `npm install @opencode-ai/plugin@<its version>` (npm's Arborist, embedded)
 * into every config dir on every start, in the background, unless the dir already has a
 * `node_modules` and a `package-lock.json` whose root lists every dependency of its
 * `package.json` plus the plugin package. On a fresh home that is some 7-20 MB from the registry
 * per run, unpinned below the top, and a start that waits on it when a plugin is configured.
 * The package serves plugins and tools kept in that dir; the agent's home is new each run and
 * holds none, so the lock that says it is there is all opencode needs.
 */
export function opencodeHomeSeed(version: string): HomeSeed {
  const inDir = configDirSeed(version)
  return {
    dirs: ['.config', CONFIG_DIR, ...inDir.dirs.map((dir) => `${CONFIG_DIR}/${dir}`)],
    files: inDir.files.map((file) => ({ ...file, path: `${CONFIG_DIR}/${file.path}` }))
  }
}

/** The same seed, relative to the config dir itself. */
export function configDirSeed(version: string): HomeSeed {
  const lock = {
    name: 'opencode',
    lockfileVersion: 3,
    requires: true,
    packages: { '': { dependencies: { '@opencode-ai/plugin': version } } }
  }
  return {
    dirs: ['node_modules'],
    files: [{ path: 'package-lock.json', content: JSON.stringify(lock, null, 2) + '\n' }]
  }
}

/** Where opencode keeps its global config: `$XDG_CONFIG_HOME/opencode`, else `~/.config/opencode`. */
export function globalConfigDir(env: NodeJS.ProcessEnv): string {
  const base = env.XDG_CONFIG_HOME || join(env.HOME || homedir(), '.config')
  return join(base, 'opencode')
}

/**
 * Environment defaults that keep opencode off the network at start, unless the workflow set them
 * itself: models.dev is fetched in the background on every fresh home (a 10 s budget, and a
 * model list that changes under a pinned opencode); without it opencode uses the snapshot built
 * into its binary, and models it does not know can still be declared in the config.
 */
export function offlineDefaults(env: NodeJS.ProcessEnv): Record<string, string> {
  return env.OPENCODE_DISABLE_MODELS_FETCH === undefined
    ? { OPENCODE_DISABLE_MODELS_FETCH: '1' }
    : {}
}
