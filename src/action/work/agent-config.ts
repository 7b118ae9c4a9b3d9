/**
 * The files in a checkout that configure or instruct the agent rather than being the project's
 * work: in a fork's checkout none of them may be loaded, the base repository's apply instead.
 *
 * What opencode 1.18.33 reads from a project (read from its bundled source, `strings` on the
 * binary), for a session whose directory is `dir` inside the git worktree `root`:
 *
 * - `opencode.jsonc`, `opencode.json` in every directory from `dir` up to `root` (and `tui.json`,
 *   `tui.jsonc` for the terminal UI); skipped with OPENCODE_DISABLE_PROJECT_CONFIG.
 * - Every `.opencode/` directory from `dir` up to `root`: its `opencode.json(c)`,
 *   `{agent,agents}/**\/*.md`, `{command,commands}/**\/*.md`, `{mode,modes}/*.md`,
 *   `{plugin,plugins}/*.{ts,js}` and `{tool,tools}/*.{js,ts}` (code, imported), `{skill,skills}/
 *   **\/SKILL.md`, and a dependency install from its `package.json`; skipped with
 *   OPENCODE_DISABLE_PROJECT_CONFIG.
 * - Instruction files into the system prompt: the first of `AGENTS.md`, `CLAUDE.md`, `CONTEXT.md`
 *   that exists from `dir` up to `root`, every copy of it along the way (skipped with
 *   OPENCODE_DISABLE_PROJECT_CONFIG). And whenever the read tool reads a file, the first of those
 *   names in each directory between the file and `dir` is added to the conversation — at any
 *   depth, and NOT skipped by OPENCODE_DISABLE_PROJECT_CONFIG. `CLAUDE.md` is skipped with
 *   OPENCODE_DISABLE_CLAUDE_CODE or OPENCODE_DISABLE_CLAUDE_CODE_PROMPT.
 * - Skills `skills/**\/SKILL.md` under every `.claude/` and `.agents/` directory from `dir` up to
 *   `root`; NOT skipped by OPENCODE_DISABLE_PROJECT_CONFIG, only by OPENCODE_DISABLE_EXTERNAL_SKILLS
 *   (both) or OPENCODE_DISABLE_CLAUDE_CODE(_SKILLS) (`.claude` only).
 * - Files the trusted config names itself (`instructions`, `skills.paths`) are read from the
 *   checkout too; they cannot be known by name here.
 *
 * opencode matches these names exactly, but a case-insensitive file system (macOS, Windows
 * runners) finds `agents.md` under `AGENTS.md`, so names here match whatever their case, and with
 * the trailing dots and spaces Windows ignores. Whole `.claude/` and `.agents/` directories count:
 * nothing in them is the project's work, and later opencode versions read more of them.
 */

export interface AgentConfigName {
  /** A file or directory name, matched in any directory of the checkout. */
  name: string
  kind: 'file' | 'directory'
  why: string
}

export const AGENT_CONFIG_FILES: readonly AgentConfigName[] = [
  {
    name: 'opencode.json',
    kind: 'file',
    why: 'project config (providers and their base URLs, permissions, MCP servers, plugins, instructions)'
  },
  { name: 'opencode.jsonc', kind: 'file', why: 'project config, as opencode.json' },
  { name: 'tui.json', kind: 'file', why: "the terminal UI's project config (it lists plugins)" },
  { name: 'tui.jsonc', kind: 'file', why: "the terminal UI's project config, as tui.json" },
  {
    name: '.opencode',
    kind: 'directory',
    why: 'config directory: config, agents, commands, modes, plugins and tools (code), skills, dependencies'
  },
  {
    name: 'AGENTS.md',
    kind: 'file',
    why: 'instructions: the nearest ones go into the system prompt, any directory’s when a file in it is read'
  },
  {
    name: 'CLAUDE.md',
    kind: 'file',
    why: 'instructions, as AGENTS.md (Claude Code compatibility)'
  },
  {
    name: 'CONTEXT.md',
    kind: 'file',
    why: 'instructions, as AGENTS.md (when neither of the others exists)'
  },
  {
    name: '.claude',
    kind: 'directory',
    why: 'Claude Code compatibility: skills in .claude/skills/'
  },
  { name: '.agents', kind: 'directory', why: 'skills in .agents/skills/' }
]

const FILES = new Set(
  AGENT_CONFIG_FILES.filter((entry) => entry.kind === 'file').map((entry) =>
    entry.name.toLowerCase()
  )
)
const DIRECTORIES = new Set(
  AGENT_CONFIG_FILES.filter((entry) => entry.kind === 'directory').map((entry) =>
    entry.name.toLowerCase()
  )
)

/**
 * Whether a path in the checkout (relative to its root, `/`-separated; `\` counts as a separator
 * too) is agent configuration: one of the names above, or anything inside one of the directories.
 */
export function isAgentConfigPath(path: string): boolean {
  const components = path
    .split(/[\\/]/)
    .filter((component) => component !== '' && component !== '.' && component !== '..')
    // Windows ignores trailing dots and spaces in a name.
    .map((component) => component.replace(/[. ]+$/, '').toLowerCase())
  if (components.length === 0) return false
  const last = components[components.length - 1]
  return FILES.has(last) || components.some((component) => DIRECTORIES.has(component))
}
