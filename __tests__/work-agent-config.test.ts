import { describe, expect, it } from '@jest/globals'
import { AGENT_CONFIG_FILES, isAgentConfigPath } from '../src/action/work/agent-config.js'

describe('isAgentConfigPath', () => {
  it.each([
    // Project config, found from the working directory up to the worktree's root.
    'opencode.json',
    'opencode.jsonc',
    'packages/app/opencode.json',
    'tui.json',
    'tui.jsonc',
    // Config directories: agents, commands, modes, plugins, tools, skills, their package.json.
    '.opencode',
    '.opencode/opencode.json',
    '.opencode/agent/reviewer.md',
    '.opencode/agents/deep/x.md',
    '.opencode/command/ship.md',
    '.opencode/mode/fast.md',
    '.opencode/plugin/x.ts',
    '.opencode/plugins/y.js',
    '.opencode/tool/run.ts',
    '.opencode/skills/s/SKILL.md',
    '.opencode/package.json',
    'a/.opencode/agent/y.md',
    // Instruction files: at the root, and in any directory (loaded when a file there is read).
    'AGENTS.md',
    'CLAUDE.md',
    'CONTEXT.md',
    'docs/AGENTS.md',
    'packages/x/CLAUDE.md',
    'deep/er/CONTEXT.md',
    // Skills in Claude Code's and the generic agents directory.
    '.claude/skills/x/SKILL.md',
    '.agents/skills/y/SKILL.md',
    'sub/.claude/skills/z/SKILL.md',
    '.claude/settings.json',
    '.claude'
  ])('%s is agent configuration', (path) => expect(isAgentConfigPath(path)).toBe(true))

  it.each([
    // Case-insensitive file systems (macOS, Windows runners) load these under the exact name.
    'agents.md',
    'Agents.md',
    'docs/agents.MD',
    'Claude.md',
    'OpenCode.json',
    'OPENCODE.JSONC',
    '.OpenCode/plugin/x.ts',
    '.Claude/skills/a/SKILL.md',
    // Windows drops trailing dots and spaces, and accepts backslashes.
    'AGENTS.md.',
    'AGENTS.md ',
    '.opencode./plugin/x.ts',
    'a\\.opencode\\agent\\y.md',
    'docs\\AGENTS.md',
    // Spellings of the same path.
    './AGENTS.md',
    'a//.opencode/x',
    '/AGENTS.md',
    'a/./CLAUDE.md'
  ])('%j counts too (the safe side)', (path) => expect(isAgentConfigPath(path)).toBe(true))

  it.each([
    'opencode.json.bak',
    'opencode.json~',
    'my-opencode.json',
    'opencode.yaml',
    'opencode',
    'AGENTS.md.orig',
    'AGENTS',
    'AGENTS.markdown',
    'README.md',
    'docs/agents/guide.md',
    'agent/reviewer.md',
    'plugin/x.ts',
    'src/opencode/config.ts',
    'opencode/agent/x.md',
    'x.opencode/agent.md',
    '.opencoder/x',
    '.claude-notes/x',
    'docs/CLAUDE.md.txt',
    '.github/copilot-instructions.md',
    '.cursorrules',
    ''
  ])('%j is not', (path) => expect(isAgentConfigPath(path)).toBe(false))

  it('the list documents every name it matches', () => {
    const names = AGENT_CONFIG_FILES.map((entry) => entry.name)
    expect(names).toEqual(
      expect.arrayContaining([
        'opencode.json',
        'opencode.jsonc',
        '.opencode',
        'AGENTS.md',
        'CLAUDE.md',
        'CONTEXT.md',
        '.claude',
        '.agents'
      ])
    )
    for (const entry of AGENT_CONFIG_FILES) expect(entry.why.length).toBeGreaterThan(20)
  })
})
