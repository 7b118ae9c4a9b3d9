/**
 * The part of opencode's built-in models.dev catalogue a run can use. On its first provider lookup
 * opencode processes the whole catalogue (225 providers, 8,261 models in 1.18.33): some 1.2 s of
 * every fresh start, before the first prompt can go out. Given a catalogue file with only the
 * providers the run can reach (OPENCODE_MODELS_PATH), that lookup takes about 0.1 s. The file is
 * cut from the catalogue built into the pinned binary (extracted when kugetsu is built, by
 * scripts/opencode-models.mjs), so what opencode knows of a kept provider is what it knew anyway.
 */
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { OpencodeConfig } from './config.js'

/** The catalogue file shipped beside this module (beside the bundle in dist/). */
export const SNAPSHOT_URL = new URL('./models-snapshot.jsonl', import.meta.url)

/** The provider opencode falls back to for its small model, and that needs no key. */
const ALWAYS_KEPT = ['opencode']
/** How deep a config is searched for model names (a config is a few levels deep). */
const MAX_DEPTH = 32
/** `provider/model`: the provider's id is what a config names (`anthropic/claude-...`). */
const MODEL_NAME = /^([A-Za-z0-9][\w.-]*)\/\S/

export interface CatalogueProvider {
  id: string
  /** The environment variables whose presence makes opencode use the provider. */
  env: string[]
  /** Its catalogue entry, as JSON text. */
  entry: string
}

export interface Catalogue {
  /** The opencode version it was extracted from. */
  version: string
  providers: CatalogueProvider[]
}

export interface CatalogueNeeds {
  /** The config opencode will see: its files, OPENCODE_CONFIG_CONTENT, the input, the overlay. */
  config: OpencodeConfig
  /** The `model` input. */
  model?: string
  /** opencode's environment. */
  env: NodeJS.ProcessEnv
  /** Models named by the agents, modes and commands opencode reads from markdown files. */
  namedModels?: string[]
}

/** Reads the catalogue file's text; throws on anything that is not its shape. */
export function parseCatalogue(text: string): Catalogue {
  const lines = text.split('\n').filter((line) => line !== '')
  const header = JSON.parse(lines[0] ?? '') as { opencode?: unknown; providers?: unknown }
  if (typeof header.opencode !== 'string' || header.providers !== lines.length - 1) {
    throw new Error('the models catalogue has no header or the wrong number of providers')
  }
  const providers = lines.slice(1).map((line, index) => {
    const tab = line.indexOf('\t')
    const [id, env] = JSON.parse(tab > 0 ? line.slice(0, tab) : '') as unknown[]
    if (
      typeof id !== 'string' ||
      !Array.isArray(env) ||
      !env.every((name) => typeof name === 'string')
    ) {
      throw new Error(`line ${index + 2} of the models catalogue is not [id, env]`)
    }
    return { id, env: env as string[], entry: line.slice(tab + 1) }
  })
  return { version: header.opencode, providers }
}

/** The shipped catalogue, or undefined when there is none (a bundle built without it). */
export async function readCatalogue(url: URL = SNAPSHOT_URL): Promise<Catalogue | undefined> {
  let text: string
  try {
    text = await readFile(url, 'utf8')
  } catch {
    return undefined
  }
  return parseCatalogue(text)
}

const truthy = (value: string | undefined) => value === '1' || value?.toLowerCase() === 'true'

function providerOf(name: unknown): string | undefined {
  return typeof name === 'string' ? MODEL_NAME.exec(name.trim())?.[1] : undefined
}

/** Every `provider/model` string in a config, at any depth (agents, modes, commands...). */
function namedProviders(value: unknown, out: Set<string>, depth = 0): void {
  if (depth > MAX_DEPTH) return
  const provider = providerOf(value)
  if (provider) out.add(provider)
  if (Array.isArray(value)) {
    for (const item of value) namedProviders(item, out, depth + 1)
  } else if (value !== null && typeof value === 'object') {
    for (const item of Object.values(value)) namedProviders(item, out, depth + 1)
  }
}

/**
 * The providers to keep, or undefined when opencode may need any of them: when the workflow
 * chose a catalogue itself or wants models.dev fetched (the file would stand in for the fresh
 * list), when no model is named (opencode then picks from every provider it can reach), or when
 * stored credentials cannot be read. Kept: every provider the config declares or a model name in it
 * names, the model input's, those the markdown agents name, those with a key in the environment or
 * credentials in OPENCODE_AUTH_CONTENT, and opencode's own (its small-model fallback).
 */
export function providersToKeep(
  catalogue: Catalogue,
  needs: CatalogueNeeds
): Set<string> | undefined {
  const { config, env } = needs
  if (env.OPENCODE_MODELS_PATH || env.OPENCODE_MODELS_URL) return undefined
  if (!truthy(env.OPENCODE_DISABLE_MODELS_FETCH)) return undefined
  if (!providerOf(needs.model) && !providerOf(config.model)) return undefined

  const keep = new Set<string>(ALWAYS_KEPT)
  if (env.OPENCODE_AUTH_CONTENT) {
    let auth: unknown
    try {
      auth = JSON.parse(env.OPENCODE_AUTH_CONTENT)
    } catch {
      return undefined
    }
    if (auth === null || typeof auth !== 'object' || Array.isArray(auth)) return undefined
    for (const id of Object.keys(auth)) keep.add(id)
  }
  const declared = config.provider
  if (declared !== null && typeof declared === 'object' && !Array.isArray(declared)) {
    for (const id of Object.keys(declared)) keep.add(id)
  }
  namedProviders(config, keep)
  for (const name of [needs.model, ...(needs.namedModels ?? [])]) {
    const provider = providerOf(name)
    if (provider) keep.add(provider)
  }
  for (const provider of catalogue.providers) {
    if (provider.env.some((name) => (env[name] ?? '') !== '')) keep.add(provider.id)
  }
  return keep
}

/** The catalogue file's content for opencode: a JSON object of the kept providers' entries. */
export function catalogueText(catalogue: Catalogue, keep: Set<string>): string {
  const entries = catalogue.providers
    .filter((provider) => keep.has(provider.id))
    .map((provider) => `${JSON.stringify(provider.id)}:${provider.entry}`)
  return `{${entries.join(',')}}\n`
}

/**
 * Writes the catalogue the run needs into `dir` (new, readable by the agent) and returns the
 * environment that points opencode at it; nothing, so that opencode keeps its own, when kugetsu
 * has no catalogue of this opencode version (`undefined`: an explicit binary's is not known) or the
 * run may need any provider.
 */
export async function writeRunCatalogue(
  dir: string,
  version: string | undefined,
  needs: CatalogueNeeds,
  catalogue: Promise<Catalogue | undefined> = readCatalogue()
): Promise<Record<string, string>> {
  const shipped = await catalogue
  if (version === undefined || shipped?.version !== version) return {}
  const keep = providersToKeep(shipped, needs)
  if (!keep) return {}
  const file = join(dir, 'models.json')
  await writeFile(file, catalogueText(shipped, keep), { mode: 0o644, flag: 'wx' })
  return { OPENCODE_MODELS_PATH: file }
}
