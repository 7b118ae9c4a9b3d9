/**
 * The opencode configuration kugetsu runs with, delivered through `OPENCODE_CONFIG_CONTENT` so no
 * file in the user's repository is edited.
 *
 * How opencode 1.18 combines configuration (verified): global config
 * (`$XDG_CONFIG_HOME/opencode/opencode.json`) < `OPENCODE_CONFIG` (a file path) < the project's
 * `opencode.json`/`opencode.jsonc` (from the cwd up to the worktree root) < `.opencode/` dirs <
 * `OPENCODE_CONFIG_CONTENT`. Objects merge deeply, scalars from a later layer replace earlier ones,
 * `instructions`/`plugin` arrays are concatenated.
 *
 * Permissions are rules evaluated last-match-wins, in the key order of the merged `permission`
 * object, and a merged object keeps the position where a key first appeared. So a repository config
 * such as `{"permission": {"question": "allow", "*": "allow"}}` beats a later `question: deny` (its
 * `*` rule comes after). To make kugetsu's denials win regardless, they are also written under keys
 * nobody else uses (`question*`, ...): such a key is new to the merge, lands last, and matches the
 * same permission. They are added at the top level and for opencode's native agents (`build`,
 * `plan`, `general`, `explore`), whose per-agent permissions are applied after the top level.
 *
 * Which keys win:
 * - `question`, `plan_enter`, `plan_exit`: always `deny` (kugetsu wins over every other layer). A
 *   session created by `opencode run` denies them itself, but a fork does not, and a question
 *   nobody can answer hangs the run forever.
 * - `external_directory`: `{"*": "deny"}` by default. The user's inline config may refine it (e.g.
 *   `{"/srv/data/*": "allow"}` keeps the `*` deny and allows that path) or replace it with a plain
 *   action. The user's other rules are placed before these defaults, so a user's `"*": "allow"`
 *   does not undo them. A repository's own `external_directory` rules come before kugetsu's and
 *   lose.
 * - Everything else: the user's inline config wins over kugetsu's defaults, and over the
 *   repository's configuration for the keys it sets.
 */
import { KugetsuError } from '../errors.js'

export type PermissionAction = 'allow' | 'ask' | 'deny'
export type OpencodeConfig = Record<string, unknown>

/** Permissions kugetsu always denies: a run has nobody to answer them. */
export const ENFORCED_DENIALS = ['question', 'plan_enter', 'plan_exit'] as const

/** Permission defaults the user's inline config may override. */
export const DEFAULT_PERMISSION: Record<string, Record<string, PermissionAction>> = {
  external_directory: { '*': 'deny' }
}

/** opencode's built-in agents, which get the enforced denials too. */
export const NATIVE_AGENTS = ['build', 'plan', 'general', 'explore'] as const

const CONFIG_SCHEMA = 'https://opencode.ai/config.json'

/**
 * Settings kugetsu chooses for opencode unless a config says otherwise. `snapshot`: opencode keeps
 * a git repository of the worktree under its data dir, for undo and per-step diffs, which a
 * headless turn does not use (kugetsu commits the work itself). The data dir is new on every
 * runner, so its first snapshot adds the whole checkout to git (0.6 s a turn for 20,000 files in
 * bench section 10), where a warm machine adds only what changed.
 */
const KUGETSU_DEFAULTS: OpencodeConfig = { snapshot: false }
const CONCATENATED_ARRAYS = new Set(['instructions', 'plugin'])

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** Merges `over` into `base` the way opencode merges config layers (new object, inputs untouched). */
export function mergeConfig(base: OpencodeConfig, over: OpencodeConfig): OpencodeConfig {
  const out: OpencodeConfig = { ...base }
  for (const [key, value] of Object.entries(over)) {
    const current = out[key]
    if (isPlainObject(current) && isPlainObject(value)) {
      out[key] = mergeConfig(current, value)
    } else if (CONCATENATED_ARRAYS.has(key) && Array.isArray(current) && Array.isArray(value)) {
      out[key] = [...new Set([...current, ...value])]
    } else {
      out[key] = value
    }
  }
  return out
}

/**
 * Parses a user's inline opencode config: a JSON object, or empty/undefined for none. Throws
 * `invalid-input` for anything else.
 */
export function parseOpencodeConfig(
  text: string | undefined,
  what = 'opencode config'
): OpencodeConfig {
  if (text === undefined || text.trim() === '') return {}
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error)
    throw new KugetsuError('invalid-input', `${what} is not valid JSON: ${reason}`)
  }
  if (!isPlainObject(value)) {
    throw new KugetsuError('invalid-input', `${what} must be a JSON object`)
  }
  return value
}

/** Calls `visit` for each run of `text` outside strings; strings are copied untouched. */
function outsideStrings(text: string, visit: (code: string) => string): string {
  let out = ''
  let index = 0
  while (index < text.length) {
    let end = text.indexOf('"', index)
    if (end < 0) end = text.length
    out += visit(text.slice(index, end))
    if (end >= text.length) break
    let close = end + 1
    while (close < text.length && text[close] !== '"') close += text[close] === '\\' ? 2 : 1
    out += text.slice(end, close + 1)
    index = close + 1
  }
  return out
}

/**
 * JSON with comments and trailing commas (what opencode accepts in `opencode.jsonc`, and in
 * `opencode.json` too) as plain JSON.
 */
export function stripJsonComments(text: string): string {
  // Comments first, one character at a time: a `//` may sit inside a string.
  let out = ''
  let index = 0
  while (index < text.length) {
    const char = text[index]
    if (char === '"') {
      let close = index + 1
      while (close < text.length && text[close] !== '"') close += text[close] === '\\' ? 2 : 1
      out += text.slice(index, close + 1)
      index = close + 1
    } else if (char === '/' && text[index + 1] === '/') {
      while (index < text.length && text[index] !== '\n') index++
    } else if (char === '/' && text[index + 1] === '*') {
      const close = text.indexOf('*/', index + 2)
      index = close < 0 ? text.length : close + 2
    } else {
      out += char
      index++
    }
  }
  return outsideStrings(out, (code) => code.replace(/,(\s*[}\]])/g, '$1'))
}

/** The text of an opencode config file (JSON or JSONC) as an object; `invalid-input` otherwise. */
export function parseConfigFile(text: string, what: string): OpencodeConfig {
  return parseOpencodeConfig(stripJsonComments(text), what)
}

/** A `permission` value (string or object) as an object of rules. */
function permissionObject(value: unknown, what: string): Record<string, unknown> {
  if (value === undefined) return {}
  if (typeof value === 'string') return { '*': value }
  if (isPlainObject(value)) return value
  throw new KugetsuError('invalid-input', `${what}: "permission" must be an object or an action`)
}

/** Merges two permission layers: rule objects for the same key merge, anything else replaces. */
function mergePermission(
  base: Record<string, unknown>,
  over: Record<string, unknown>
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base }
  for (const [key, value] of Object.entries(over)) {
    const current = out[key]
    out[key] = isPlainObject(current) && isPlainObject(value) ? { ...current, ...value } : value
  }
  return out
}

function enforcedRules(): Record<string, PermissionAction> {
  const rules: Record<string, PermissionAction> = {}
  for (const key of ENFORCED_DENIALS) rules[key] = 'deny'
  for (const key of ENFORCED_DENIALS) rules[`${key}*`] = 'deny'
  return rules
}

/** Appends `rules` at the end of `permission`, moving keys that already exist to the end. */
function appendRules(permission: Record<string, unknown>, rules: Record<string, unknown>) {
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(permission)) if (!(key in rules)) out[key] = value
  return { ...out, ...rules }
}

export interface BuildConfigOptions {
  /** The user's own config (a JSON object, or its text), layered over kugetsu's defaults. */
  user?: OpencodeConfig | string
  /** An `OPENCODE_CONFIG_CONTENT` already present in the environment: the lowest layer. */
  inherited?: string
  /** kugetsu's own settings that must win over the user's (provider routes to the key proxy). */
  overlay?: OpencodeConfig
}

/** The config object kugetsu hands to opencode. */
export function buildOpencodeConfig(options: BuildConfigOptions = {}): OpencodeConfig {
  const inherited = parseOpencodeConfig(options.inherited, 'OPENCODE_CONFIG_CONTENT')
  const user =
    typeof options.user === 'string'
      ? parseOpencodeConfig(options.user)
      : options.user && isPlainObject(options.user)
        ? options.user
        : {}

  const merged = mergeConfig(mergeConfig(inherited, user), options.overlay ?? {})
  const own = mergePermission(
    permissionObject(inherited.permission, 'OPENCODE_CONFIG_CONTENT'),
    permissionObject(user.permission, 'opencode config')
  )
  // The user's own rules first, then kugetsu's defaults (refined by the user), then the denials:
  // a user's `"*": "allow"` must not silently undo the external_directory default.
  const rest: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(own))
    if (!(key in DEFAULT_PERMISSION)) rest[key] = value
  const defaults: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(DEFAULT_PERMISSION)) {
    const mine = own[key]
    defaults[key] = mine === undefined ? value : isPlainObject(mine) ? { ...value, ...mine } : mine
  }
  const config: OpencodeConfig = {
    $schema: CONFIG_SCHEMA,
    ...KUGETSU_DEFAULTS,
    ...merged,
    permission: appendRules({ ...rest, ...defaults }, enforcedRules())
  }

  const agents = isPlainObject(merged.agent) ? { ...merged.agent } : {}
  for (const name of NATIVE_AGENTS) {
    const agent = isPlainObject(agents[name]) ? { ...agents[name] } : {}
    agent.permission = appendRules(
      permissionObject(agent.permission, `agent ${name}`),
      enforcedRules()
    )
    agents[name] = agent
  }
  config.agent = agents
  return config
}

/** `buildOpencodeConfig` as the JSON text for `OPENCODE_CONFIG_CONTENT`. */
export function buildOpencodeConfigContent(options: BuildConfigOptions = {}): string {
  return JSON.stringify(buildOpencodeConfig(options))
}
