import { afterEach, beforeEach, describe, expect, it } from '@jest/globals'
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { frontMatterModels, modelsNamedInConfigDirs } from '../src/opencode/named-models.js'

let root: string
let config: string
let servers: Server[]

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'kugetsu-named-models-'))
  config = join(root, 'config')
  mkdirSync(config)
  servers = []
})

afterEach(async () => {
  await Promise.all(servers.map((server) => new Promise((done) => server.close(done))))
  rmSync(root, { recursive: true, force: true })
})

function write(path: string, content: string): string {
  const file = join(root, path)
  mkdirSync(dirname(file), { recursive: true })
  writeFileSync(file, content)
  return file
}

const agent = (model: string): string =>
  `---\ndescription: an agent\nmodel: ${model}\n---\nDo it.\n`

describe('frontMatterModels', () => {
  it('reads the model line of the front matter, quoted or not, LF or CRLF', () => {
    expect(frontMatterModels(agent('anthropic/claude-x'))).toEqual(['anthropic/claude-x'])
    expect(frontMatterModels('---\nmodel: "openai/gpt-x"\n---\n')).toEqual(['openai/gpt-x'])
    expect(frontMatterModels("---\nmodel: 'openai/gpt-y' # why\n---\n")).toEqual(['openai/gpt-y'])
    expect(frontMatterModels('---\r\ntools: {}\r\nmodel: google/gem\r\n---\r\nbody\r\n')).toEqual([
      'google/gem'
    ])
  })

  it('ignores a model line outside the front matter, or without one', () => {
    expect(frontMatterModels('---\ndescription: x\n---\nmodel: anthropic/claude-x\n')).toEqual([])
    expect(frontMatterModels('# An agent\nmodel: anthropic/claude-x\n')).toEqual([])
    expect(frontMatterModels('\n---\nmodel: anthropic/claude-x\n---\n')).toEqual([])
    expect(frontMatterModels('---\nmodel: anthropic/claude-x\n')).toEqual([])
    expect(frontMatterModels('')).toEqual([])
  })
})

describe('modelsNamedInConfigDirs', () => {
  it('finds the models of agents, modes and commands, nested too, in every config dir', async () => {
    const other = join(root, 'other')
    write('config/agent/a.md', agent('anthropic/claude-x'))
    write('config/agents/team/b.md', agent('"openai/gpt-x"').replace(/\n/g, '\r\n'))
    write('config/mode/c.md', agent('google/gem'))
    write('config/modes/d.md', agent('xai/grok'))
    write('config/command/e.md', agent('groq/llama'))
    write('other/commands/deep/er/f.md', agent('mistral/large'))
    const names = await modelsNamedInConfigDirs([config, other, join(root, 'missing')])
    expect(names.sort()).toEqual(
      [
        'anthropic/claude-x',
        'openai/gpt-x',
        'google/gem',
        'xai/grok',
        'groq/llama',
        'mistral/large'
      ].sort()
    )
  })

  it('ignores files that are not markdown, dirs it does not read, and body lines', async () => {
    write('config/agent/a.txt', agent('anthropic/in-txt'))
    write('config/agent/a.md.bak', agent('anthropic/in-bak'))
    write('config/agent/plain.md', '# Plain\nmodel: anthropic/in-body\n')
    write('config/tools/t.md', agent('anthropic/in-tools'))
    write('config/t.md', agent('anthropic/at-top'))
    expect(await modelsNamedInConfigDirs([config])).toEqual([])
  })

  describe('hostile checkouts', () => {
    it('does not read a linked .md file, nor walk a linked dir', async () => {
      const secret = write('outside/secret.md', agent('leak/file'))
      write('outside/dir/x.md', agent('leak/dir'))
      mkdirSync(join(config, 'agent'))
      symlinkSync(secret, join(config, 'agent', 'link.md'))
      symlinkSync(join(root, 'outside', 'dir'), join(config, 'agent', 'linked'))
      symlinkSync(join(root, 'outside', 'dir'), join(config, 'mode'))
      symlinkSync(join(root, 'outside'), join(config, 'commands'))
      write('config/agent/real.md', agent('real/one'))
      expect(await modelsNamedInConfigDirs([config])).toEqual(['real/one'])
    })

    it('skips a dir named like a markdown file, and a socket', async () => {
      mkdirSync(join(config, 'agent', 'y.md'), { recursive: true })
      const server = createServer()
      servers.push(server)
      await new Promise<void>((done) => server.listen(join(config, 'agent', 's.md'), done))
      write('config/agent/real.md', agent('real/one'))
      expect(await modelsNamedInConfigDirs([config])).toEqual(['real/one'])
    })

    it('reads at most 2000 files', async () => {
      for (let n = 0; n < 2100; n++) write(`config/agent/a${n}.md`, agent(`p/m${n}`))
      const names = await modelsNamedInConfigDirs([config])
      expect(names).toHaveLength(2000)
      expect(new Set(names).size).toBe(2000)
    }, 30_000)

    it('stops the count across dirs and config dirs', async () => {
      for (let n = 0; n < 1500; n++) write(`config/agent/a${n}.md`, agent(`p/a${n}`))
      for (let n = 0; n < 1500; n++) write(`other/mode/b${n}.md`, agent(`p/b${n}`))
      const names = await modelsNamedInConfigDirs([config, join(root, 'other')])
      expect(names).toHaveLength(2000)
    }, 30_000)

    it('counts the dirs it walks: a wide tree of dirs ends the walk too', async () => {
      for (let n = 0; n < 2100; n++) mkdirSync(join(config, 'agent', `d${n}`), { recursive: true })
      write('other/agent/late.md', agent('p/late'))
      expect(await modelsNamedInConfigDirs([config, join(root, 'other')])).toEqual([])
      rmSync(join(config, 'agent'), { recursive: true })
      expect(await modelsNamedInConfigDirs([config, join(root, 'other')])).toEqual(['p/late'])
    }, 30_000)

    it('walks six levels down, no deeper', async () => {
      write('config/agent/1/2/3/4/5/six.md', agent('at/six'))
      write('config/agent/1/2/3/4/5/6/seven.md', agent('at/seven'))
      write('config/agent/1/2/3/4/5/6/7/8/9/10/eleven.md', agent('at/eleven'))
      expect(await modelsNamedInConfigDirs([config])).toEqual(['at/six'])
    })

    it('reads only the first 16 KB of a file', async () => {
      const filler = (bytes: number): string => 'description: x\n'.repeat(Math.ceil(bytes / 15))
      write('config/agent/near.md', `---\n${filler(15 * 1024)}model: within/16k\n---\n`)
      write(
        'config/agent/far.md',
        `---\n${filler(17 * 1024)}model: past/16k\n---\n${'body\n'.repeat(17 * 1024)}`
      )
      expect(await modelsNamedInConfigDirs([config])).toEqual(['within/16k'])
    })
  })
})
